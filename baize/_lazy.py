"""``cached_property`` without the lock of Python 3.11's (gone in 3.12).

Request objects live in one task and are read once per property, so the first access is
what costs: the standard one takes an ``RLock`` for it. This subclass computes and stores
the value without it, and stays a ``functools.cached_property`` for ``isinstance``.
"""

from __future__ import annotations

import functools
from typing import Any, Self, TypeVar, overload

T = TypeVar("T")


class cached_property(functools.cached_property[T]):
    """Computed on first access, then an ordinary instance attribute."""

    @overload
    def __get__(self, instance: None, owner: type[Any] | None = None) -> Self: ...
    @overload
    def __get__(self, instance: object, owner: type[Any] | None = None) -> T: ...
    def __get__(self, instance: object | None, owner: type[Any] | None = None) -> Self | T:
        if instance is None:
            return self
        value: T = self.func(instance)
        instance.__dict__[self.attrname or self.func.__name__] = value
        return value


__all__ = ["cached_property"]
