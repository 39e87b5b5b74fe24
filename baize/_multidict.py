"""Multi-value mappings: :class:`MultiMapping`, :class:`MutableMultiMapping` and
:class:`QueryParams` (query strings and urlencoded forms)."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar, overload
from urllib.parse import quote_plus, unquote_to_bytes

_MISSING: Any = object()
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
T = TypeVar("T")


class MultiMapping(Mapping[K, V]):
    """A read-only mapping that keeps every value of a repeated key.

    ``m[key]`` and ``m.get(key)`` give the **last** value of ``key``;
    :meth:`getlist` gives all of them, :meth:`multi_items` every pair in order.
    """

    __slots__ = ("_dict", "_list")

    def __init__(
        self, items: Mapping[K, V] | Iterable[tuple[K, V]] | MultiMapping[K, V] | None = None
    ) -> None:
        if items is None:
            pairs: list[tuple[K, V]] = []
        elif isinstance(items, MultiMapping):
            pairs = items.multi_items()
        elif isinstance(items, Mapping):
            pairs = list(items.items())
        else:
            pairs = [(key, value) for key, value in items]
        self._list = pairs
        self._dict: dict[K, V] = dict(pairs)

    def __getitem__(self, key: K) -> V:
        return self._dict[key]

    def __contains__(self, key: object) -> bool:
        return key in self._dict

    def __iter__(self) -> Iterator[K]:
        return iter(self._dict)

    def __len__(self) -> int:
        return len(self._dict)

    def getlist(self, key: K) -> list[V]:
        """Every value of ``key``, in order (empty when absent)."""
        return [value for item_key, value in self._list if item_key == key]

    def multi_items(self) -> list[tuple[K, V]]:
        """Every ``(key, value)`` pair, repeated keys included, in order."""
        return list(self._list)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, MultiMapping):
            return sorted(map(repr, self._list)) == sorted(map(repr, other._list))
        return super().__eq__(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._list!r})"


class MutableMultiMapping(MultiMapping[K, V]):
    """A :class:`MultiMapping` that can be edited. ``m[key] = v`` replaces every value."""

    __slots__ = ()

    def __setitem__(self, key: K, value: V) -> None:
        self.setlist(key, [value])

    def __delitem__(self, key: K) -> None:
        del self._dict[key]
        self._list = [item for item in self._list if item[0] != key]

    def setlist(self, key: K, values: Sequence[V]) -> None:
        """Replace every value of ``key`` with ``values`` (none removes the key)."""
        self._list = [item for item in self._list if item[0] != key]
        self._list.extend((key, value) for value in values)
        if values:
            self._dict[key] = values[-1]
        else:
            self._dict.pop(key, None)

    def append(self, key: K, value: V) -> None:
        """Add one more value for ``key``."""
        self._list.append((key, value))
        self._dict[key] = value

    @overload
    def pop(self, key: K) -> V: ...
    @overload
    def pop(self, key: K, default: V | T) -> V | T: ...
    def pop(self, key: K, default: Any = _MISSING) -> Any:
        """Remove ``key``; return its last value (or ``default``)."""
        if key not in self._dict:
            if default is _MISSING:
                raise KeyError(key)
            return default
        value = self._dict[key]
        del self[key]
        return value

    def poplist(self, key: K) -> list[V]:
        """Remove ``key``; return all its values (empty when absent)."""
        values = self.getlist(key)
        if key in self._dict:
            del self[key]
        return values

    def popitem(self) -> tuple[K, V]:
        """Remove and return the last pair added."""
        if not self._list:
            raise KeyError("popitem(): mapping is empty")
        key, value = self._list.pop()
        remaining = self.getlist(key)
        if remaining:
            self._dict[key] = remaining[-1]
        else:
            del self._dict[key]
        return key, value

    def clear(self) -> None:
        self._list.clear()
        self._dict.clear()

    def setdefault(self, key: K, default: V) -> V:
        """Set ``key`` to ``default`` unless present; return its last value."""
        if key not in self._dict:
            self.append(key, default)
        return self._dict[key]

    def update(
        self, other: Mapping[K, V] | Iterable[tuple[K, V]] | MultiMapping[K, V] = (), /
    ) -> None:
        """Replace the values of every key of ``other`` with the values it brings."""
        incoming = MultiMapping(other)
        for key in incoming:
            self.setlist(key, incoming.getlist(key))


def parse_query(data: str | bytes) -> list[tuple[str, str]]:
    """Split an ``application/x-www-form-urlencoded`` string into pairs.

    ``+`` is a space, escapes are percent-decoded and the bytes decoded as UTF-8
    (invalid sequences replaced); a pair without ``=`` has a blank value; empty
    pairs are skipped. Never raises.
    """
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    pairs = []
    for chunk in data.split(b"&"):
        if not chunk:
            continue
        key, _, value = chunk.replace(b"+", b" ").partition(b"=")
        pairs.append(
            (
                unquote_to_bytes(key).decode("utf-8", "replace"),
                unquote_to_bytes(value).decode("utf-8", "replace"),
            )
        )
    return pairs


class QueryParams(MultiMapping[str, str]):
    """The parameters of a query string (or of a urlencoded form).

    Built from a ``str``/``bytes`` query string (see :func:`parse_query`), a
    mapping, or ``(key, value)`` pairs. ``str(q)`` is the urlencoded form.
    """

    __slots__ = ()

    def __init__(
        self,
        items: str
        | bytes
        | Mapping[str, str]
        | Iterable[tuple[str, str]]
        | MultiMapping[str, str]
        | None = None,
    ) -> None:
        if isinstance(items, str | bytes):
            super().__init__(parse_query(items))
        else:
            super().__init__(items)

    def __str__(self) -> str:
        return "&".join(
            f"{quote_plus(key, safe='')}={quote_plus(value, safe='')}" for key, value in self._list
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


__all__ = ["MultiMapping", "MutableMultiMapping", "QueryParams", "parse_query"]
