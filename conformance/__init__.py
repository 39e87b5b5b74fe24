"""The baize conformance suite: requirements checked against real ASGI servers."""

__version__ = "0.1.0"
