"""Keep Bubblehouse in sync with a Django shop."""

__version__ = "0.1.0"
