"""ASGI dispatchers: by path template (Router), path prefix (Subpaths) and Host (Hosts)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from baize.asgi.responses import PlainTextResponse, Response
from baize.asgi.websocket import WebsocketDenialResponse
from baize.routing import RouteTable, route_path
from baize.typing import ASGIApp, Receive, Scope, Send


async def not_found(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer an empty 404 (as upstream); deny a websocket handshake with 404.

    Answered, not raised: a bare router served by an ASGI server gives 404, never 500.
    """
    if scope["type"] == "websocket":
        response = PlainTextResponse("Not Found", 404)
        await WebsocketDenialResponse(response)(scope, receive, send)
        return
    await Response(404)(scope, receive, send)


async def invalid_host(scope: Scope, receive: Receive, send: Send) -> None:
    """``PlainTextResponse("Invalid host", 404)`` (upstream), as a denial for a websocket."""
    response = PlainTextResponse("Invalid host", 404)
    if scope["type"] == "websocket":
        await WebsocketDenialResponse(response)(scope, receive, send)
        return
    await response(scope, receive, send)


class Router:
    """Dispatch on the route path with ``{name:type}`` templates; first match wins.

    No match: an empty 404 response (a websocket handshake is denied with 404).

    Matched parameters are merged into ``scope["path_params"]`` of a shallow
    copy of the scope handed to the app. Matching costs about the same for
    5 routes as for 500 (see :class:`baize.routing.RouteTable`).

    :param routes: ``(path, app)`` or ``(path, app, name)``; only named routes
        can be built with :meth:`build_url`.
    :raises ValueError: for a bad template or a duplicated name.
    """

    def __init__(self, *routes: tuple[str, ASGIApp] | tuple[str, ASGIApp, str]) -> None:
        self._table: RouteTable[ASGIApp] = RouteTable(routes)
        self._match = self._table.match

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # route_path only when there is a root_path to strip: one call less per request
        matched = self._match(route_path(scope) if scope.get("root_path") else scope["path"])
        if matched is None:
            await not_found(scope, receive, send)
            return
        route, params = matched
        child = dict(scope)
        outer = scope.get("path_params")
        child["path_params"] = {**outer, **params} if outer else params
        await route.endpoint(child, receive, send)

    def build_url(self, name: str, params: Mapping[str, Any]) -> str:
        """Build the path (without ``root_path``) of the route called ``name``.

        Params the template does not use are ignored.

        :raises baize.routing.UnknownRouteName: (a ``KeyError``) no such name.
        :raises baize.routing.MissingPathParam: (a ``ValueError``) a param is absent.
        :raises baize.routing.InvalidPathParam: (a ``ValueError``) a convertor
            refuses a value, or the path would not match its own route.
        """
        return self._table.build_url(name, params)


class Subpaths:
    """Dispatch on a path prefix that matches whole segments; first match wins.

    No match: an empty 404 response (a websocket handshake is denied with 404).

    ``/api`` takes ``/api`` and ``/api/x``, never ``/apix``; ``""`` takes
    everything. The app gets a copy of the scope with ``root_path`` extended
    by the prefix and ``path`` set to the new ``root_path`` followed by the
    rest of the route path. So ``path`` includes ``root_path`` as the ASGI
    spec wants, the route path downstream is the rest, and the URL rebuilt
    from the scope is unchanged whichever way the server filled ``path``.

    :param routes: ``(prefix, app)``; a prefix is ``""`` or starts with ``/``
        (a trailing ``/`` is dropped).
    """

    def __init__(self, *routes: tuple[str, ASGIApp]) -> None:
        self._routes: list[tuple[str, str, ASGIApp]] = []
        for prefix, app in routes:
            if prefix and not prefix.startswith("/"):
                raise ValueError(f"a Subpaths prefix must be empty or start with '/': {prefix!r}")
            prefix = prefix.rstrip("/")
            self._routes.append((prefix, prefix + "/", app))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = route_path(scope)
        for prefix, prefix_slash, app in self._routes:
            if not prefix or path == prefix or path.startswith(prefix_slash):
                root_path = scope.get("root_path", "") + prefix
                child = dict(scope)
                child["root_path"] = root_path
                child["path"] = root_path + path[len(prefix) :]
                await app(child, receive, send)
                return
        await not_found(scope, receive, send)


def _host_field(scope: Scope) -> str:
    """The ``Host`` header as sent, or else the server's address without its port."""
    for name, value in scope.get("headers") or ():
        if name == b"host":
            return bytes(value).decode("latin-1")
    server = scope.get("server")
    return str(server[0]) if server else ""


def request_host(scope: Scope) -> str:
    """The ``Host`` header (or the server address) without its port, lower-cased.

    An IPv6 literal keeps its brackets: ``[::1]:8000`` gives ``[::1]``.
    """
    return _strip_port(_host_field(scope))


def _strip_port(host: str) -> str:
    if host.startswith("["):
        end = host.find("]")
        host = host[: end + 1] if end != -1 else host
    else:
        host = host.partition(":")[0]
    return host.lower()


class Hosts:
    """Dispatch on the request's host: regexes full-match it (case-insensitive).

    :param hosts: ``(regex, app)``; the first regex that full-matches the host wins,
        the host taken without its port (see :func:`request_host`) or as sent, so a
        pattern may be written with or without the port. No match: ``Invalid host``, 404.
    """

    def __init__(self, *hosts: tuple[str, ASGIApp]) -> None:
        self._hosts = [(re.compile(regex, re.IGNORECASE), app) for regex, app in hosts]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        sent = _host_field(scope).lower()
        host = _strip_port(sent)
        for regex, app in self._hosts:
            if regex.fullmatch(host) or (sent != host and regex.fullmatch(sent)):
                await app(scope, receive, send)
                return
        await invalid_host(scope, receive, send)


__all__ = ["Hosts", "Router", "Subpaths", "invalid_host", "not_found", "request_host"]
