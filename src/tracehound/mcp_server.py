"""Deprecated home of ``tracehound mcp``: the server is the package :mod:`tracehound.mcp` now.

Kept only while ``tracehound.cli`` still imports from here; import :mod:`tracehound.mcp` instead.
"""

from tracehound.mcp import Limits, build_server, serve

__all__ = ["Limits", "build_server", "serve"]
