"""baize: a reference implementation of the baize ASGI toolkit."""

__version__ = "0.1.0"
