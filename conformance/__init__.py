"""The baize conformance suite: requirements checked against real ASGI servers.

PYTEST_DONT_REWRITE: ``baize-conformance`` imports this package before pytest starts (nothing
here asserts), so pytest must not warn that it cannot rewrite it.
"""

__version__ = "0.1.0"
