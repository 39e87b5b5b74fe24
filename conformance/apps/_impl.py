"""The implementation under test, chosen by ``CONFORMANCE_IMPL`` (default ``baize``)."""

from __future__ import annotations

import importlib
import os
from types import ModuleType

IMPL = os.environ.get("CONFORMANCE_IMPL", "baize")

_SUBMODULES = ("asgi", "datastructures", "exceptions", "routing")


def __getattr__(name: str) -> ModuleType:
    """Import ``IMPL.<name>`` on first use, so raw ASGI apps never import the implementation."""
    if name in _SUBMODULES:
        module = importlib.import_module(f"{IMPL}.{name}")
        globals()[name] = module
        return module
    raise AttributeError(name)
