"""Static files as ASGI applications: :class:`Files` and :class:`Pages`.

Both serve the file named by the *route path* (``scope["path"]`` minus a
leading ``scope["root_path"]``) below one directory, and never a byte from
outside it: see :mod:`baize.staticfiles` for the rules. Conditional requests
follow RFC 9110 §13; ranges, HEAD and the body are :class:`FileResponse`'s job.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Awaitable, Callable
from typing import Literal, get_args
from urllib.parse import quote, quote_from_bytes

import anyio.to_thread

from baize._url import BAD_AUTHORITY, PATH_SAFE, route_path
from baize.asgi.responses import FileResponse, PlainTextResponse, RedirectResponse, Response
from baize.asgi.websocket import WebsocketDenialResponse
from baize.datastructures import Headers
from baize.exceptions import HTTPException
from baize.responses import FileResponseMixin
from baize.staticfiles import (
    Conditionals,
    Found,
    Precondition,
    RoutePath,
    evaluate_preconditions,
    lookup,
    parse_http_date,
    split_route_path,
)
from baize.typing import Receive, Scope, Send

Cacheability = Literal["public", "private", "no-cache", "no-store"]
Handle404 = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Characters left as they are in a query string; ``%`` stays so that escapes survive.
_QUERY_SAFE = PATH_SAFE + "?%"


def _package_directory(package: str) -> str:
    spec = importlib.util.find_spec(package)
    if spec is None:
        raise ValueError(f"Package {package!r} cannot be found")
    if spec.submodule_search_locations:
        return next(iter(spec.submodule_search_locations))
    if spec.origin is None or not spec.has_location:
        raise ValueError(f"Package {package!r} has no folder on the file system")
    return os.path.dirname(spec.origin)


class Files:
    """Serve the files below ``directory``.

    :param directory: the served folder; relative to the folder of ``package``
        when that is given.
    :param package: a package name, such as ``"myapp"``.
    :param handle_404: an ASGI app called for a missing file (or a directory);
        without it, ``HTTPException(404)`` is raised.
    :param cacheability: ``public``, ``private``, ``no-cache`` or ``no-store``.
    :param max_age: seconds, sent as ``Cache-Control: {cacheability}, max-age={max_age}``.
    :param follow_symlinks: serve files that symlinks below the directory point to
        outside it, as upstream does; by default (an extension) they are refused (404).
    :raises ValueError: the directory does not exist, or a bad option.

    Only GET and HEAD are served; another method raises ``HTTPException(405)``
    with ``Allow: GET, HEAD``, a failed ``If-Match``/``If-Unmodified-Since``
    raises ``HTTPException(412)``. A WebSocket handshake is denied with 404.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        package: str | None = None,
        *,
        handle_404: Handle404 | None = None,
        cacheability: Cacheability = "public",
        max_age: int = 600,
        follow_symlinks: bool = False,
    ) -> None:
        if cacheability not in get_args(Cacheability):
            raise ValueError(f"cacheability must be one of {get_args(Cacheability)}")
        if isinstance(max_age, bool) or not isinstance(max_age, int) or max_age < 0:
            raise ValueError(f"max_age must be a non-negative int, not {max_age!r}")
        folder = os.fspath(directory)
        if package is not None:
            folder = os.path.join(_package_directory(package), folder)
        self.directory = os.path.realpath(folder)
        if not os.path.isdir(self.directory):
            raise ValueError(f"Directory {folder!r} does not exist")
        self.handle_404 = handle_404
        self.cacheability = cacheability
        self.max_age = max_age
        self.follow_symlinks = follow_symlinks
        self.cache_control = f"{cacheability}, max-age={max_age}"

    def lookup(self, segments: tuple[str, ...]) -> Found | None:
        """What ``segments`` names below the directory (:func:`baize.staticfiles.lookup`)."""
        return lookup(self.directory, segments, follow_symlinks=self.follow_symlinks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await WebsocketDenialResponse(PlainTextResponse("Not Found", 404))(scope, receive, send)
            return
        if scope["type"] != "http":
            raise RuntimeError(f"{type(self).__name__} cannot handle a {scope['type']!r} scope")
        if scope["method"] not in ("GET", "HEAD"):
            raise HTTPException(405, {"Allow": "GET, HEAD"})
        route = split_route_path(route_path(scope))
        # realpath and stat may block (a network file system): a worker thread.
        target = None if route is None else await anyio.to_thread.run_sync(self.select, route)
        if isinstance(target, Found):
            await self.serve(target, scope, receive, send)
        elif isinstance(target, RoutePath):
            location = _slash_location(scope, target)
            await RedirectResponse(location, 307)(scope, receive, send)
        elif self.handle_404 is not None:
            await self.handle_404(scope, receive, send)
        else:
            raise HTTPException(404)

    def select(self, route: RoutePath) -> Found | RoutePath | None:
        """Choose what a safe route path names.

        :return: a regular file to serve, a route path to redirect to (a
            directory without its trailing slash), or None for 404.
        """
        if route.trailing_slash:
            return None
        found = self.lookup(route.segments)
        return found if found is not None and found.is_file else None

    async def serve(self, found: Found, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer with the file, a 304, or a 412, after the preconditions."""
        etag = FileResponseMixin.generate_etag(found.stat_result)
        last_modified_value = FileResponseMixin.generate_last_modified(found.stat_result)
        # Compare with the very date sent in Last-Modified (whole seconds).
        last_modified = parse_http_date(last_modified_value)
        headers = Headers(scope=scope)
        conditionals = Conditionals(
            if_match=headers.get("if-match"),
            if_none_match=headers.get("if-none-match"),
            if_modified_since=headers.get("if-modified-since"),
            if_unmodified_since=headers.get("if-unmodified-since"),
        )
        outcome = evaluate_preconditions(
            scope["method"],
            conditionals,
            etag,
            last_modified if last_modified is not None else int(found.stat_result.st_mtime),
        )
        if outcome is Precondition.FAILED:
            raise HTTPException(412)
        if outcome is Precondition.NOT_MODIFIED:
            # RFC 9110 §15.4.5: no content; the validators and Cache-Control a 200
            # would have carried. Response sends no Content-Length with a 304.
            validators = {
                "etag": etag,
                "last-modified": last_modified_value,
                "cache-control": self.cache_control,
            }
            await Response(304, validators)(scope, receive, send)
            return
        response = FileResponse(
            found.path,
            headers={"Cache-Control": self.cache_control},
            stat_result=found.stat_result,
        )
        await response(scope, receive, send)


class Pages(Files):
    """:class:`Files` for sites: ``index.html`` for a directory, ``name.html`` for ``name``.

    ``/name`` serves the file ``name``, else ``name.html``, else (``name`` a
    directory) redirects with 307 to ``/name/`` keeping the query string;
    ``/name/`` serves ``name/index.html``. 307 rather than 301: the redirect
    is not cached for good, so a file ``name`` added later is served.
    """

    def select(self, route: RoutePath) -> Found | RoutePath | None:
        found = self.lookup(route.segments)
        if found is not None and found.is_file:
            return None if route.trailing_slash else found
        if not route.trailing_slash and route.segments:
            *parents, name = route.segments
            page = self.lookup((*parents, name + ".html"))
            if page is not None and page.is_file:
                return page
        if found is None or not found.is_dir:
            return None
        if not route.trailing_slash:
            return RoutePath(route.segments, True)
        index = self.lookup((*route.segments, "index.html"))
        return index if index is not None and index.is_file else None


def _host_authority(scope: Scope) -> str | None:
    """The ``Host`` header as sent, when it is a plausible authority, else None."""
    for name, value in scope.get("headers") or ():
        if name.lower() == b"host":
            host = bytes(value).decode("latin-1").strip()
            return host if host and not BAD_AUTHORITY.search(host) else None
    return None


def _slash_location(scope: Scope, route: RoutePath) -> str:
    """The request's URL path with a trailing slash, and its query string.

    As upstream, a network-path reference to the requested host (``//host/dir/``,
    RFC 9110 §10.2.2 allows any URI reference); a path-absolute one (``/dir/``) when
    the request has no usable ``Host`` header.
    """
    root_path: str = scope.get("root_path", "")
    segments = "".join("/" + quote(segment, safe=PATH_SAFE) for segment in route.segments)
    location = quote(root_path, safe=PATH_SAFE) + segments + "/"
    # The path never starts with "//": that would read as another authority.
    location = "/" + location.lstrip("/")
    authority = _host_authority(scope)
    if authority is not None:
        location = "//" + authority + location
    query = scope.get("query_string", b"")
    if query:
        location += "?" + quote_from_bytes(query, safe=_QUERY_SAFE)
    return location


__all__ = ["Files", "Pages"]
