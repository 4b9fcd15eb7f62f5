"""tracehound: reproduce, diagnose and verify intermittent failures of web APIs."""

__version__ = "0.1.0"

__all__ = ["__version__"]
