"""Value types shared by requests and responses: URL, headers, query strings, forms, cookies.

Parsers of peer input (``QueryParams``, ``ContentType``, ``MediaType``, ``parse_cookie``)
never raise; builders of output (``MutableHeaders``, ``Cookie``) refuse values that would
break the message framing with a ``ValueError`` naming the offending field.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
import time
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, formatdate
from io import BytesIO
from typing import IO, Any, NamedTuple, TypeVar, overload
from urllib.parse import quote, quote_plus, unquote_to_bytes

import anyio.to_thread

from baize.typing import Scope

_MISSING: Any = object()
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
T = TypeVar("T")

# RFC 9110 §5.6.2: token = 1*tchar; tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+"
#                  / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# RFC 9110 §5.5: field-value may hold VCHAR, SP, HTAB and obs-text; no other control.
_FORBIDDEN_IN_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# RFC 3986 appendix B, with the scheme held to its §3.1 grammar.
_URI = re.compile(
    r"(?:([A-Za-z][A-Za-z0-9+.\-]*):)?(?://([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?",
    re.DOTALL,
)
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
# Characters that may not appear in an authority taken from a Host header.
_BAD_AUTHORITY = re.compile(r"[/?#@\\\s\x00-\x1f\x7f]")
# Path characters kept as they are when a decoded ASGI path is turned back into a URI.
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


class Address(NamedTuple):
    """A (host, port) pair; both ``None`` when the server gave no address."""

    host: str | None
    port: int | None


# --------------------------------------------------------------------------- URL


class _Parts(NamedTuple):
    scheme: str
    netloc: str
    path: str
    query: str
    fragment: str


def _split(url: str) -> _Parts:
    match = _URI.fullmatch(url)
    assert match is not None  # every group is optional: the pattern matches any string
    scheme, netloc, path, query, fragment = match.groups()
    return _Parts((scheme or "").lower(), netloc or "", path or "", query or "", fragment or "")


def _unsplit(scheme: str, netloc: str, path: str, query: str, fragment: str) -> str:
    url = ""
    if scheme:
        url = scheme + ":"
    if netloc or scheme in _DEFAULT_PORTS:
        url += "//" + netloc
        if path and not path.startswith("/"):
            path = "/" + path
    url += path
    if query:
        url += "?" + query
    if fragment:
        url += "#" + fragment
    return url


def _url_from_scope(scope: Scope) -> str:
    scheme: str = scope.get("scheme") or "http"
    netloc = ""
    for name, value in scope.get("headers") or ():
        if name.lower() == b"host":
            host = value.decode("latin-1").strip()
            if host and not _BAD_AUTHORITY.search(host):
                netloc = host
            break
    if not netloc and scope.get("server"):
        host, port = scope["server"][0], scope["server"][1]
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        netloc = host if port is None else f"{host}:{port}"
    default_port = _DEFAULT_PORTS.get(scheme)
    if default_port is not None and netloc.endswith(f":{default_port}"):
        netloc = netloc[: -len(str(default_port)) - 1]
    path: str = scope.get("path") or ""
    root_path: str = scope.get("root_path") or ""
    if root_path and not (path == root_path or path.startswith(root_path + "/")):
        path = root_path + path
    query = scope.get("query_string") or b""
    return _unsplit(
        scheme if netloc else "",
        netloc,
        quote(path, safe=_PATH_SAFE),
        query.decode("latin-1"),
        "",
    )


class URL:
    """A URL, from a string, from an ASGI scope, or from its components.

    The string given is kept as is; components are split on demand (RFC 3986
    appendix B), so building one is cheap and parsing one never raises. A URL
    built from a scope percent-encodes the decoded ASGI ``path`` back into a URI
    path and applies the ``root_path`` rule of API.md.

    :param url: the URL as a string.
    :param scope: an ASGI HTTP or WebSocket scope to rebuild the request URL from.
    :param components: ``scheme``, ``netloc``, ``path``, ``query``, ``fragment``.
    """

    __slots__ = ("_parts", "_url")

    def __init__(self, url: str = "", *, scope: Scope | None = None, **components: Any) -> None:
        if scope is not None:
            if url or components:
                raise ValueError("URL() takes a string, a scope or components, not several")
            url = _url_from_scope(scope)
        elif components:
            if url:
                raise ValueError("URL() takes a string, a scope or components, not several")
            unknown = set(components) - set(_Parts._fields)
            if unknown:
                raise TypeError(f"unknown URL components: {', '.join(sorted(unknown))}")
            url = _unsplit(*(str(components.get(name) or "") for name in _Parts._fields))
        self._url = url
        self._parts: _Parts | None = None

    @property
    def components(self) -> _Parts:
        """The five RFC 3986 components (scheme lower-cased, absent ones empty)."""
        if self._parts is None:
            self._parts = _split(self._url)
        return self._parts

    @property
    def scheme(self) -> str:
        return self.components.scheme

    @property
    def netloc(self) -> str:
        return self.components.netloc

    @property
    def path(self) -> str:
        return self.components.path

    @property
    def query(self) -> str:
        return self.components.query

    @property
    def fragment(self) -> str:
        return self.components.fragment

    def _userinfo_and_hostport(self) -> tuple[str | None, str]:
        userinfo, at, hostport = self.netloc.rpartition("@")
        return (userinfo if at else None), hostport

    @property
    def username(self) -> str | None:
        userinfo, _ = self._userinfo_and_hostport()
        return None if userinfo is None else userinfo.partition(":")[0]

    @property
    def password(self) -> str | None:
        userinfo, _ = self._userinfo_and_hostport()
        if userinfo is None or ":" not in userinfo:
            return None
        return userinfo.partition(":")[2]

    def _host_and_port(self) -> tuple[str, str]:
        _, hostport = self._userinfo_and_hostport()
        if hostport.startswith("["):
            host, bracket, rest = hostport[1:].partition("]")
            return (host, rest[1:] if rest.startswith(":") else "") if bracket else (host, "")
        host, _, port = hostport.partition(":")
        return host, port

    @property
    def hostname(self) -> str | None:
        """The host, lower-cased, without the brackets of an IPv6 literal."""
        host = self._host_and_port()[0]
        return host.lower() or None

    @property
    def port(self) -> int | None:
        """The explicit port, or ``None`` when absent or not a valid port number."""
        port = self._host_and_port()[1]
        if port.isascii() and port.isdigit() and int(port) <= 65535:
            return int(port)
        return None

    @property
    def is_secure(self) -> bool:
        return self.scheme in ("https", "wss")

    def replace(self, **components: Any) -> URL:
        """A copy with some components replaced.

        Besides the five components, ``hostname``, ``port``, ``username`` and
        ``password`` rebuild the netloc (``port=None`` drops the port).
        """
        netloc_parts = {"hostname", "port", "username", "password"} & set(components)
        if netloc_parts:
            hostname = components.pop("hostname", self.hostname) or ""
            port = components.pop("port", self.port)
            username = components.pop("username", self.username)
            password = components.pop("password", self.password)
            if ":" in hostname:
                hostname = f"[{hostname}]"
            netloc = hostname if port is None else f"{hostname}:{port}"
            if username is not None:
                userinfo = username if password is None else f"{username}:{password}"
                netloc = f"{userinfo}@{netloc}"
            components["netloc"] = netloc
        return URL(**{**self.components._asdict(), **components})

    def replace_query(self, params: QueryParams | Mapping[str, str] | str) -> URL:
        """A copy whose query string is ``params`` encoded."""
        query = params if isinstance(params, str) else str(QueryParams(params))
        return self.replace(query=query)

    def __str__(self) -> str:
        return self._url

    def __repr__(self) -> str:
        return f"URL({self._url!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, URL | str):
            return self._url == str(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._url)


# ----------------------------------------------------------------------- headers


class Headers(Mapping[str, str]):
    """Read-only, case-insensitive HTTP headers; keys are lower-case.

    Duplicate field lines are joined with ``", "`` on lookup; :meth:`getlist`
    gives them one by one. Lookups scan the raw pairs (a request carries few
    headers, and nothing is decoded but the value asked for); names are
    lower-cased once, on first use, only if the server did not do it.

    :param headers: a mapping of names to values.
    :param raw: ``(name, value)`` byte pairs, as in an ASGI message.
    :param scope: an ASGI scope whose ``headers`` to use.
    """

    __slots__ = ("_lowered", "_raw")

    def __init__(
        self,
        headers: Mapping[str, str] | None = None,
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
            self._raw = [
                (key.lower().encode("latin-1"), value.encode("latin-1"))
                for key, value in headers.items()
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


def _check_header(key: str, value: str) -> tuple[bytes, bytes]:
    name = _NAME_CACHE.get(key)
    if name is None:
        if not isinstance(key, str) or not _TOKEN.fullmatch(key):
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
            f"Invalid value for header {key!r}: CR, LF, NUL and other control characters"
            " are not allowed"
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
        headers: Mapping[str, str] | None = None,
        *,
        raw: Iterable[tuple[bytes, bytes]] | None = None,
        scope: Scope | None = None,
    ) -> None:
        super().__init__(raw=raw, scope=scope)
        self._raw = [(name.lower(), value) for name, value in self._raw]  # a copy of our own
        if headers is not None:
            for key, value in headers.items():
                self.append(key, value)

    def _pairs(self) -> list[tuple[bytes, bytes]]:
        return self._raw

    @property
    def raw(self) -> list[tuple[bytes, bytes]]:
        """The live list of ``(name, value)`` pairs."""
        return self._raw

    def __setitem__(self, key: str, value: str) -> None:
        """Set ``key`` to ``value``, replacing every earlier line of that field."""
        name, encoded = _check_header(key, value)
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
        self._raw.append(_check_header(key, value))

    def setdefault(self, key: str, value: str) -> str:
        """Set ``key`` unless present; return its value."""
        found = self._joined(key)
        if found is not None:
            return found.decode("latin-1")
        self[key] = value
        return self[key]

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


# ------------------------------------------------------------------ multi-value


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


# -------------------------------------------------------------------- uploads


class UploadFile:
    """A file of a multipart form: kept in memory up to ``max_in_memory_size``
    bytes, then moved to a temporary file on disk.

    Sync methods do the I/O in the calling thread; the ``a*`` methods run it in a
    worker thread once the data lives on disk (in memory there is nothing to wait for).

    :param filename: the file name the client sent.
    :param headers: the headers of the part.
    :param max_in_memory_size: the size above which the data moves to disk.
    """

    def __init__(
        self,
        filename: str,
        headers: Headers | None = None,
        max_in_memory_size: int = 1024 * 1024,
    ) -> None:
        self.filename = filename
        self.headers = headers if headers is not None else Headers()
        self.max_in_memory_size = max_in_memory_size
        self._file: IO[bytes] = BytesIO()
        self._in_memory = True

    @property
    def content_type(self) -> ContentType:
        """The ``Content-Type`` of the part."""
        return ContentType(self.headers.get("content-type", ""))

    @property
    def in_memory(self) -> bool:
        """Whether the data is still held in memory."""
        return self._in_memory

    @property
    def closed(self) -> bool:
        return self._file.closed

    def _would_spill(self, size: int) -> bool:
        if not self._in_memory:
            return False
        return self._file.tell() + size > self.max_in_memory_size

    def _spill(self) -> None:
        disk = tempfile.TemporaryFile()
        memory = self._file
        assert isinstance(memory, BytesIO)
        disk.write(memory.getbuffer())
        disk.seek(memory.tell())
        memory.close()
        self._file = disk
        self._in_memory = False

    def write(self, data: bytes) -> int:
        if self._would_spill(len(data)):
            self._spill()
        return self._file.write(data)

    def read(self, size: int = -1) -> bytes:
        return self._file.read(size)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def close(self) -> None:
        self._file.close()

    async def awrite(self, data: bytes) -> int:
        if self._in_memory and not self._would_spill(len(data)):
            return self._file.write(data)
        return await anyio.to_thread.run_sync(self.write, data)

    async def aread(self, size: int = -1) -> bytes:
        if self._in_memory:
            return self._file.read(size)
        return await anyio.to_thread.run_sync(self._file.read, size)

    async def aseek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if self._in_memory:
            return self._file.seek(offset, whence)
        return await anyio.to_thread.run_sync(self._file.seek, offset, whence)

    async def aclose(self) -> None:
        if self._in_memory:
            self._file.close()
        else:
            await anyio.to_thread.run_sync(self._file.close)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Copy the whole file to ``path`` (the position is restored afterwards)."""
        position = self._file.tell()
        self._file.seek(0)
        try:
            with open(path, "wb") as target:
                while chunk := self._file.read(1024 * 1024):
                    target.write(chunk)
        finally:
            self._file.seek(position)

    async def asave(self, path: str | os.PathLike[str]) -> None:
        """:meth:`save` in a worker thread."""
        await anyio.to_thread.run_sync(self.save, path)

    def __repr__(self) -> str:
        return f"UploadFile(filename={self.filename!r}, content_type={str(self.content_type)!r})"


class FormData(MultiMapping[str, "str | UploadFile"]):
    """A parsed form: text fields as ``str``, files as :class:`UploadFile`."""

    __slots__ = ()

    async def close(self) -> None:
        """Close every :class:`UploadFile` of the form."""
        for _, value in self._list:
            if isinstance(value, UploadFile):
                await value.aclose()


# ------------------------------------------------------------ content negotiation


def _parse_parameters(text: str) -> Iterator[tuple[str, str]]:
    """Yield ``name=value`` parameters of a ``;``-separated list; quoted values unescaped."""
    index, length = 0, len(text)
    while index < length:
        end = index
        while end < length and text[end] not in ";=":
            end += 1
        name = text[index:end].strip().lower()
        if end < length and text[end] == "=":
            end += 1
            while end < length and text[end] in " \t":
                end += 1
            if end < length and text[end] == '"':
                chars: list[str] = []
                end += 1
                while end < length and text[end] != '"':
                    if text[end] == "\\" and end + 1 < length:
                        end += 1
                    chars.append(text[end])
                    end += 1
                value = "".join(chars)
                while end < length and text[end] != ";":
                    end += 1
            else:
                start = end
                while end < length and text[end] != ";":
                    end += 1
                value = text[start:end].strip()
            if name:
                yield name, value
        index = end + 1


class ContentType(str):
    """A ``Content-Type`` value: the string is the bare media type, lower-cased.

    It compares equal to a media type string case-insensitively; :attr:`options`
    holds the parameters (``charset``, ``boundary``) with lower-cased names and
    unquoted values. Never raises.
    """

    options: dict[str, str]

    def __new__(cls, value: str = "") -> ContentType:
        media_type, _, parameters = str(value).partition(";")
        self = super().__new__(cls, media_type.strip().lower())
        self.options = dict(_parse_parameters(parameters))
        return self

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            return str.__eq__(self, other.strip().lower())
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    __hash__ = str.__hash__

    def __repr__(self) -> str:
        return f"ContentType({str(self)!r}, options={self.options!r})"


class MediaType:
    """One media range of an ``Accept`` header: ``type/subtype;param=value;q=0.8``.

    ``q`` is read as a float and clamped into ``[0, 1]``; a ``q`` that is not a
    finite number counts as absent (``1.0``). A bare ``*`` means ``*/*``; an
    entry without ``/`` has an empty subtype. Never raises.
    """

    __slots__ = ("params", "q", "subtype", "type")

    def __init__(self, value: str) -> None:
        media_range, _, parameters = value.partition(";")
        media_range = media_range.strip().lower()
        if media_range == "*":
            media_range = "*/*"
        self.type, _, self.subtype = (part.strip() for part in media_range.partition("/"))
        self.params = dict(_parse_parameters(parameters))
        self.q = 1.0
        quality = self.params.pop("q", None)
        if quality is not None:
            try:
                number = float(quality)
            except ValueError:
                number = math.nan
            if math.isfinite(number):
                self.q = min(max(number, 0.0), 1.0)

    @property
    def media_type(self) -> str:
        """``type/subtype`` without parameters."""
        return f"{self.type}/{self.subtype}"

    @property
    def specificity(self) -> int:
        """0 for ``*/*``, 1 for ``type/*``, 2 for ``type/subtype``, 3 with parameters."""
        if self.type == "*":
            return 0
        if self.subtype == "*":
            return 1
        return 3 if self.params else 2

    def match(self, other: str) -> bool:
        """Whether the media type ``other`` falls in this range (wildcards on either side)."""
        candidate = MediaType(other)
        if "*" not in (self.type, candidate.type) and self.type != candidate.type:
            return False
        return "*" in (self.subtype, candidate.subtype) or self.subtype == candidate.subtype

    def __str__(self) -> str:
        params = "".join(f"; {name}={value}" for name, value in self.params.items())
        return f"{self.media_type}{params}"

    def __repr__(self) -> str:
        return f"MediaType({str(self)!r}, q={self.q})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, MediaType):
            return (self.type, self.subtype, self.params, self.q) == (
                other.type,
                other.subtype,
                other.params,
                other.q,
            )
        if isinstance(other, str):
            return self == MediaType(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


# ------------------------------------------------------------------- cookies

# RFC 6265 §4.1.1: cookie-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E
_COOKIE_OCTETS = re.compile(r"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*")
# Inside DQUOTEs we also let SP, "," and (escaped) '"' and "\" through.
_QUOTABLE = re.compile(r"[\x20-\x3a\x3c-\x7e]*")
# RFC 6265 §4.1.1: av-octet = any CHAR except CTLs or ";"
_ATTRIBUTE_VALUE = re.compile(r"[\x20-\x3a\x3c-\x7e]*")
_SAMESITE = {"strict": "Strict", "lax": "Lax", "none": "None"}


@dataclass(frozen=True, slots=True)
class Cookie:
    """One ``Set-Cookie`` line (RFC 6265 §4.1); ``str(cookie)`` is the field value.

    ``max_age`` below 0 and ``expires=None`` leave the cookie a session cookie;
    ``expires`` is a ``datetime`` (naive means UTC), a number of seconds from
    now, or a ready-made string. A value outside the cookie-octet set is sent
    in double quotes with ``"`` and ``\\`` backslash-escaped (:func:`parse_cookie`
    undoes that); CR, LF, NUL, ``;``, other controls and non-ASCII raise ``ValueError``.
    """

    key: str
    value: str = ""
    max_age: int = -1
    expires: datetime | int | float | str | None = None
    path: str | None = "/"
    domain: str | None = None
    secure: bool = False
    httponly: bool = False
    samesite: str | None = "lax"

    def __post_init__(self) -> None:
        if not _TOKEN.fullmatch(self.key):
            raise ValueError(f"Invalid cookie name {self.key!r}: it must be an RFC 9110 token")
        if not _QUOTABLE.fullmatch(self.value):
            raise ValueError(
                f"Invalid value for cookie {self.key!r}: control characters, ';' and"
                " non-ASCII characters are not allowed (percent-encode them first)"
            )
        for name in ("path", "domain"):
            attribute = getattr(self, name)
            if attribute is not None and not _ATTRIBUTE_VALUE.fullmatch(attribute):
                raise ValueError(f"Invalid {name} for cookie {self.key!r}: {attribute!r}")
        if isinstance(self.expires, str) and not _ATTRIBUTE_VALUE.fullmatch(self.expires):
            raise ValueError(f"Invalid expires for cookie {self.key!r}: {self.expires!r}")
        if self.samesite is not None and self.samesite.lower() not in _SAMESITE:
            raise ValueError(
                f"Invalid samesite for cookie {self.key!r}: {self.samesite!r}"
                " (expected 'strict', 'lax' or 'none')"
            )

    def _expires(self) -> str | None:
        expires = self.expires
        if expires is None or isinstance(expires, str):
            return expires
        if isinstance(expires, datetime):
            if expires.tzinfo is None:
                expires = expires.replace(tzinfo=UTC)
            return format_datetime(expires.astimezone(UTC), usegmt=True)
        return formatdate(time.time() + expires, usegmt=True)

    def __str__(self) -> str:
        value = self.value
        if not _COOKIE_OCTETS.fullmatch(value):
            value = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        parts = [f"{self.key}={value}"]
        expires = self._expires()
        if expires is not None:
            parts.append(f"Expires={expires}")
        if self.max_age >= 0:
            parts.append(f"Max-Age={int(self.max_age)}")
        if self.domain is not None:
            parts.append(f"Domain={self.domain}")
        if self.path is not None:
            parts.append(f"Path={self.path}")
        if self.secure:
            parts.append("Secure")
        if self.httponly:
            parts.append("HttpOnly")
        if self.samesite is not None:
            parts.append(f"SameSite={_SAMESITE[self.samesite.lower()]}")
        return "; ".join(parts)


def parse_cookie(header: str) -> dict[str, str]:
    """Parse a ``Cookie`` header leniently: pairs without ``=`` or a name are skipped.

    Values in double quotes are unquoted (backslash escapes undone). When a name
    repeats, the first value wins (RFC 6265 §5.4 sends the most specific path first).
    Never raises.
    """
    cookies: dict[str, str] = {}
    for pair in header.split(";"):
        name, equals, value = pair.partition("=")
        name = name.strip(" \t")
        if not equals or not name or name in cookies:
            continue
        value = value.strip(" \t")
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = re.sub(r"\\(.)", r"\1", value[1:-1], flags=re.DOTALL)
        cookies[name] = value
    return cookies


__all__ = [
    "URL",
    "Address",
    "ContentType",
    "Cookie",
    "FormData",
    "Headers",
    "MediaType",
    "MultiMapping",
    "MutableHeaders",
    "MutableMultiMapping",
    "QueryParams",
    "UploadFile",
    "parse_cookie",
    "parse_query",
]
