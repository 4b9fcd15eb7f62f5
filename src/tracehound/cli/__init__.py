"""The ``tracehound`` command: parses, calls, prints. Logic lives in the library modules.

One module per group of commands (``probe``, ``investigate``, ``reports``, ``analysis``,
``sources``, ``runs``, ``lab``, ``explain``, ``mcp``, ``demo``), the printers in ``render``, the
two consoles in ``console``, and the app with :func:`main` in ``app``.
"""

from tracehound.cli.app import app, main

__all__ = ["app", "main"]
