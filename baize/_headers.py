"""HTTP header fields: read-only :class:`Headers`, :class:`MutableHeaders`, and the
checks every header the application sends goes through (:func:`encode_header`)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TypeVar, overload

from baize.typing import Scope

T = TypeVar("T")

# RFC 9110 §5.6.2: token = 1*tchar; tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+"
#                  / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# RFC 9110 §5.5: field-value may hold VCHAR, SP, HTAB and obs-text; no other control.
_FORBIDDEN_IN_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_FORBIDDEN_IN_NAME = re.compile(r"[\x00-\x1f\x7f]")


class Headers(Mapping[str, str]):
    """Read-only, case-insensitive HTTP headers; keys are lower-case.

    Duplicate field lines are joined with ``", "`` on lookup; :meth:`getlist`
    gives them one by one. Lookups scan the raw pairs (a request carries few
    headers, and nothing is decoded but the value asked for); names are
    lower-cased once, on first use, only if the server did not do it.

    :param headers: a mapping of names to values, or ``(name, value)`` string pairs.
    :param raw: ``(name, value)`` byte pairs, as in an ASGI message.
    :param scope: an ASGI scope whose ``headers`` to use.
    """

    __slots__ = ("_lowered", "_raw")

    def __init__(
        self,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        *,
        raw: Iterable[tuple[bytes, bytes]] | None = None,
        scope: Scope | None = None,
    ) -> None:
        self._lowered = False
        if scope is not None:
            raw = scope.get("headers") or ()
        if raw is not None:
            self._raw: list[tuple[bytes, bytes]] = raw if isinstance(raw, list) else list(raw)
        elif headers is not None:
            pairs = headers.items() if isinstance(headers, Mapping) else headers
            self._raw = [
                (key.lower().encode("latin-1"), value.encode("latin-1")) for key, value in pairs
            ]
            self._lowered = True
        else:
            self._raw = []
            self._lowered = True

    def _pairs(self) -> list[tuple[bytes, bytes]]:
        if not self._lowered:
            for name, _ in self._raw:
                if not name.islower():
                    self._raw = [(name.lower(), value) for name, value in self._raw]
                    break
            self._lowered = True
        return self._raw

    @property
    def raw(self) -> list[tuple[bytes, bytes]]:
        """The header lines as ``(lower-case name, value)`` byte pairs."""
        return list(self._pairs())

    def _joined(self, key: str) -> bytes | None:
        name = key.lower().encode("latin-1", "replace")
        found: bytes | None = None
        for raw_name, value in self._pairs():
            if raw_name == name:
                found = value if found is None else found + b", " + value
        return found

    def __getitem__(self, key: str) -> str:
        found = self._joined(key)
        if found is None:
            raise KeyError(key)
        return found.decode("latin-1")

    @overload
    def get(self, key: str) -> str | None: ...
    @overload
    def get(self, key: str, default: str | T) -> str | T: ...
    def get(self, key: str, default: Any = None) -> Any:
        found = self._joined(key)
        return default if found is None else found.decode("latin-1")

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._joined(key) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(name.decode("latin-1") for name, _ in self._pairs()))

    def __len__(self) -> int:
        return len({name for name, _ in self._pairs()})

    def getlist(self, key: str) -> list[str]:
        """Every value of the field ``key``, one per field line, in order."""
        name = key.lower().encode("latin-1", "replace")
        return [value.decode("latin-1") for raw, value in self._pairs() if raw == name]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(raw={self.raw!r})"


_NAME_CACHE: dict[str, bytes] = {}


def encode_header(key: str, value: str) -> tuple[bytes, bytes]:
    """A checked ``(name, value)`` byte pair for a response header.

    :raises ValueError: the name is not an RFC 9110 token, or the value holds a
        control character (upstream's messages where upstream refuses too).
    """
    name = _NAME_CACHE.get(key)
    if name is None:
        if not isinstance(key, str) or not TOKEN.fullmatch(key):
            if isinstance(key, str) and _FORBIDDEN_IN_NAME.search(key):
                raise ValueError(
                    f"Header names must not contain control characters. Invalid header name {key!r}"
                )
            raise ValueError(f"Invalid header name {key!r}: it must be an RFC 9110 token")
        name = key.lower().encode("latin-1")
        if len(_NAME_CACHE) < 1024:
            _NAME_CACHE[key] = name
    if not isinstance(value, str):
        raise ValueError(f"Invalid value for header {key!r}: expected str, got {type(value)}")
    if value.isascii() and value.isprintable():  # the common case: VCHAR and SP only
        return name, value.strip(" ").encode("ascii")
    if _FORBIDDEN_IN_VALUE.search(value):
        raise ValueError(
            "Header values must not contain control characters."
            f" Invalid value for header {key!r}: CR, LF, NUL and other controls are refused"
        )
    try:
        return name, value.strip(" \t").encode("latin-1")
    except UnicodeEncodeError:
        raise ValueError(
            f"Invalid value for header {key!r}: only latin-1 characters are allowed"
        ) from None


class MutableHeaders(Headers):
    """Headers of a response; :attr:`raw` is the live list sent in ``http.response.start``.

    Lookups scan :attr:`raw`, so direct edits of the list are always seen (add
    names lower-cased there). Names set through the methods must be RFC 9110
    tokens and values free of control characters (``ValueError`` names the
    header); surrounding whitespace of a value is dropped.
    """

    __slots__ = ()

    def __init__(
        self,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        *,
        raw: Iterable[tuple[bytes, bytes]] | None = None,
        scope: Scope | None = None,
    ) -> None:
        super().__init__(raw=raw, scope=scope)
        self._raw = [(name.lower(), value) for name, value in self._raw]  # a copy of our own
        if headers is not None:
            for key, value in headers.items() if isinstance(headers, Mapping) else headers:
                self.append(key, value)

    def _pairs(self) -> list[tuple[bytes, bytes]]:
        return self._raw

    @property
    def raw(self) -> list[tuple[bytes, bytes]]:
        """The live list of ``(name, value)`` pairs."""
        return self._raw

    def __setitem__(self, key: str, value: str) -> None:
        """Set ``key`` to ``value``, replacing every earlier line of that field."""
        name, encoded = encode_header(key, value)
        raw = self._raw
        for index in range(len(raw) - 1, -1, -1):
            if raw[index][0] == name:
                del raw[index]
        raw.append((name, encoded))

    def __delitem__(self, key: str) -> None:
        name = key.lower().encode("latin-1", "replace")
        before = len(self._raw)
        self._raw[:] = [item for item in self._raw if item[0] != name]
        if len(self._raw) == before:
            raise KeyError(key)

    def append(self, key: str, value: str) -> None:
        """Add one more field line (several ``Set-Cookie`` lines, for example)."""
        self._raw.append(encode_header(key, value))

    def setdefault(self, key: str, value: str) -> str:
        """Set ``key`` unless present; return its value."""
        found = self._joined(key)
        if found is not None:
            return found.decode("latin-1")
        self[key] = value
        return value

    def update(self, other: Mapping[str, str] | Iterable[tuple[str, str]] = (), /) -> None:
        """Set every pair of ``other`` (each replacing earlier lines of its field)."""
        items = other.items() if isinstance(other, Mapping) else other
        for key, value in items:
            self[key] = value

    def pop(self, key: str, default: str | None = None) -> str | None:
        """Remove every line of ``key``; return their joined value or ``default``."""
        found = self._joined(key)
        if found is None:
            return default
        del self[key]
        return found.decode("latin-1")


__all__ = ["TOKEN", "Headers", "MutableHeaders", "encode_header"]
