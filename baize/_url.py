"""URLs: :class:`URL` and :class:`Address`, and the route-path rule of API.md."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NamedTuple
from urllib.parse import quote

from baize._multidict import QueryParams, parse_query
from baize.typing import Scope

# RFC 3986 appendix B, with the scheme held to its §3.1 grammar.
_URI = re.compile(
    r"(?:([A-Za-z][A-Za-z0-9+.\-]*):)?(?://([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?",
    re.DOTALL,
)
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
# Characters that may not appear in an authority taken from a Host header.
BAD_AUTHORITY = re.compile(r"[/?#@\\\s\x00-\x1f\x7f]")
# Path characters kept as they are when a decoded ASGI path is turned back into a URI.
PATH_SAFE = "/:@!$&'()*+,;=-._~"


class Address(NamedTuple):
    """A (host, port) pair; both ``None`` when the server gave no address."""

    host: str | None
    port: int | None


def route_path(scope: Mapping[str, Any]) -> str:
    """The path routers match: ``path`` minus a leading ``root_path``.

    ``root_path`` is removed only on a segment boundary (``path`` equals it or
    continues with ``/``); otherwise ``path`` is returned as is (API.md ``url``).
    """
    path: str = scope["path"]
    root_path: str = scope.get("root_path", "")
    if root_path and path.startswith(root_path):
        size = len(root_path)
        if len(path) == size or path[size] == "/":
            return path[size:]
    return path


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
    # ASGI: ``scheme`` is optional; it defaults to "http", or "ws" for a WebSocket scope.
    scheme: str = scope.get("scheme") or ("ws" if scope.get("type") == "websocket" else "http")
    netloc = ""
    for name, value in scope.get("headers") or ():
        if name.lower() == b"host":
            host = value.decode("latin-1").strip()
            if host and not BAD_AUTHORITY.search(host):
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
    root_path: str = scope.get("root_path") or ""
    path = root_path + route_path(scope) if scope.get("path") else root_path
    query = scope.get("query_string") or b""
    return _unsplit(
        scheme if netloc else "",
        netloc,
        quote(path, safe=PATH_SAFE),
        query.decode("latin-1"),
        "",
    )


def _scope_from_environ(environ: Mapping[str, Any]) -> Scope:
    """The parts of a WSGI environ (PEP 3333) that :func:`_url_from_scope` reads."""
    path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    scope: Scope = {
        "scheme": environ.get("wsgi.url_scheme", "http"),
        "path": path.encode("latin-1").decode("utf-8", "replace"),
        "query_string": environ.get("QUERY_STRING", "").encode("latin-1"),
        "headers": [],
    }
    if "SERVER_NAME" in environ:
        port = str(environ.get("SERVER_PORT", ""))
        scope["server"] = (environ["SERVER_NAME"], int(port) if port.isdigit() else None)
    if "HTTP_HOST" in environ:
        scope["headers"] = [(b"host", environ["HTTP_HOST"].encode("latin-1"))]
    return scope


class URL:
    """A URL, from a string, from an ASGI scope, or from its components.

    The string given is kept as is; components are split on demand (RFC 3986
    appendix B), so building one is cheap and parsing one never raises. A URL
    built from a scope percent-encodes the decoded ASGI ``path`` back into a URI
    path and applies the ``root_path`` rule of API.md.

    :param url: the URL as a string.
    :param scope: an ASGI HTTP or WebSocket scope to rebuild the request URL from.
    :param environ: a WSGI environ to rebuild the request URL from (as upstream).
    :param components: ``scheme``, ``netloc``, ``path``, ``query``, ``fragment``.
    """

    __slots__ = ("_parts", "_url")

    def __init__(
        self,
        url: str = "",
        *,
        scope: Scope | None = None,
        environ: Mapping[str, Any] | None = None,
        **components: Any,
    ) -> None:
        if scope is not None or environ is not None:
            if url or components or (scope is not None and environ is not None):
                raise ValueError(
                    "URL() takes a string, a scope, an environ or components, not several"
                )
            url = _url_from_scope(
                scope if scope is not None else _scope_from_environ(environ or {})
            )
        elif components:
            if url:
                raise ValueError(
                    "URL() takes a string, a scope, an environ or components, not several"
                )
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

    def include_query_params(self, **params: Any) -> URL:
        """A copy with ``params`` set in the query (each replacing every value of its name).

        ``URL("/p?page=3").include_query_params(page=4, q="x")`` is ``URL("/p?page=4&q=x")``.
        """
        values = {name: str(value) for name, value in params.items()}
        pairs: list[tuple[str, str]] = []
        placed: set[str] = set()
        for name, value in parse_query(self.query):
            if name not in values:
                pairs.append((name, value))
            elif name not in placed:  # the first one keeps its place, the others go
                pairs.append((name, values[name]))
                placed.add(name)
        pairs += [(name, value) for name, value in values.items() if name not in placed]
        return self.replace(query=str(QueryParams(pairs)))

    def replace_query_params(self, **params: Any) -> URL:
        """A copy whose query holds ``params`` only."""
        pairs = [(name, str(value)) for name, value in params.items()]
        return self.replace(query=str(QueryParams(pairs)))

    def remove_query_params(self, *names: str) -> URL:
        """A copy without any value of the query parameters ``names``."""
        removed = set(names)
        pairs = [(name, value) for name, value in parse_query(self.query) if name not in removed]
        return self.replace(query=str(QueryParams(pairs)))

    def __str__(self) -> str:
        return self._url

    def __repr__(self) -> str:
        """``URL('...')`` with a password shown as ``********`` (RFC 3986 §3.2.1)."""
        userinfo, hostport = self._userinfo_and_hostport()
        if userinfo is None or ":" not in userinfo:
            return f"URL({self._url!r})"
        username = userinfo.partition(":")[0]
        parts = self.components._replace(netloc=f"{username}:********@{hostport}")
        return f"URL({_unsplit(*parts)!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, URL | str):
            return self._url == str(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._url)


__all__ = ["BAD_AUTHORITY", "PATH_SAFE", "URL", "Address", "route_path"]
