# mypy: disable-error-code="untyped-decorator, no-any-return"
# (the framework may be absent: the peers extra is optional, its decorators are then untyped)
"""Each framework's router behind one call, for :mod:`benchmarks.bench_routing`.

A route table is a list of templates in a neutral form: ``/users7/{id:int}/posts/{slug}``
(an ``int`` and a ``str`` parameter); each adapter writes it the way its framework does and
returns a :class:`Router`: ``prepare(path)`` (outside the timing: an ASGI scope, or the path)
and an async ``dispatch(prepared)`` that finds the route (and, through ASGI, reaches a
do-nothing endpoint):

- baize and Starlette: the router's ASGI ``__call__`` with a do-nothing ASGI endpoint
  (matching, scope update and the call);
- baize-match: baize's ``RouteTable.match(path)`` alone, the counterpart of the lookups below;
- FastAPI: the app's ``__call__`` with a path operation ``async def (id: int, slug: str)
  -> None`` (its middleware stack, Starlette's matching, FastAPI's parameter validation and
  its response: a path operation needs the app's middleware, so there is no lighter route);
- Falcon: the compiled router's ``find(path)`` (it compiles the route tree into Python code);
- Litestar: the app's ``asgi_router.handle_routing(path, "GET")`` (its trie lookup);
- BlackSheep: its ``Router.get_match_by_method_and_path`` (an LRU cache over its route
  matching).

A framework that is not installed is reported as such (:data:`MISSING`), never an error.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

Dispatch = Callable[[Any], Awaitable[object]]


@dataclass(frozen=True)
class Router:
    """One framework's route table behind one call."""

    prepare: Callable[[str], Any]  # path -> what dispatch takes (built before the timing)
    dispatch: Dispatch


_PARAM = re.compile(r"\{(\w+)(?::(\w+))?\}")
#: The frameworks, in the order of the table, and the module each one needs.
FRAMEWORKS = {
    "baize": "baize",
    "baize-match": "baize",
    "starlette": "starlette",
    "litestar": "litestar",
    "falcon": "falcon",
    "fastapi": "fastapi",
    "blacksheep": "blacksheep",
}
MISSING = "not installed"


def installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(FRAMEWORKS[name]) is not None
    except (ImportError, ValueError):
        return False


def rewrite(template: str, style: str) -> str:
    """Write a neutral template in a framework's syntax.

    ``style``: ``plain`` (``{id}``), ``typed`` (``{id:int}``, ``{slug}``), ``litestar``
    (``{id:int}``, ``{slug:str}``) or ``blacksheep`` (``{int:id}``, ``{slug}``).
    """

    def one(match: re.Match[str]) -> str:
        name, kind = match.group(1), match.group(2)
        if style == "plain":
            return f"{{{name}}}"
        if style == "litestar":
            return f"{{{name}:{kind or 'str'}}}"
        if style == "blacksheep":
            return f"{{{kind}:{name}}}" if kind else f"{{{name}}}"
        return match.group(0)

    return _PARAM.sub(one, template)


def scope_for(path: str) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"example.com")],
        "client": ("127.0.0.1", 1234),
        "server": ("127.0.0.1", 8000),
    }


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _send(message: dict[str, Any]) -> None:
    return None


class Endpoint:
    """A raw ASGI app that does nothing (a class, so Starlette does not wrap it)."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        return None


def _asgi(app: Callable[..., Awaitable[None]]) -> Router:
    async def dispatch(scope: dict[str, Any]) -> object:
        await app(scope, _receive, _send)
        return None

    return Router(scope_for, dispatch)


def _lookup(find: Callable[[str], object]) -> Router:
    async def dispatch(path: str) -> object:
        return find(path)

    return Router(str, dispatch)


def _baize_match(templates: Sequence[str]) -> Router:
    from baize.routing import RouteTable

    endpoint = Endpoint()
    return _lookup(RouteTable([(t, endpoint) for t in templates]).match)


def _baize(templates: Sequence[str]) -> Router:
    from baize.asgi import Router

    endpoint = Endpoint()
    return _asgi(Router(*[(t, endpoint) for t in templates]))


def _starlette(templates: Sequence[str]) -> Router:
    from starlette.routing import Route, Router

    endpoint = Endpoint()
    return _asgi(Router(routes=[Route(t, endpoint) for t in templates]))


def _fastapi(templates: Sequence[str]) -> Router:
    from fastapi import FastAPI  # type: ignore[import-not-found, unused-ignore]

    router = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    async def with_params(id: int, slug: str) -> None:
        return None

    async def without() -> None:
        return None

    for t in templates:
        router.add_api_route(rewrite(t, "plain"), with_params if "{" in t else without)
    return _asgi(router)


def _falcon(templates: Sequence[str]) -> Router:
    from falcon.routing import CompiledRouter  # type: ignore[import-not-found, unused-ignore]

    class Resource:
        def on_get(self, req: object, resp: object, **params: object) -> None:
            return None

    router = CompiledRouter()
    resource = Resource()
    for t in templates:
        router.add_route(t, resource)
    router.find("/")  # compiles the tree once, as the first request of an app would
    return _lookup(router.find)


def _litestar(templates: Sequence[str]) -> Router:
    from litestar import Litestar, get  # type: ignore[import-not-found, unused-ignore]

    handlers = []
    for i, t in enumerate(templates):
        if "{" in t:

            @get(rewrite(t, "litestar"), name=f"r{i}")
            async def with_params(id: int, slug: str) -> None:
                return None

            handlers.append(with_params)
        else:

            @get(t, name=f"r{i}")
            async def without() -> None:
                return None

            handlers.append(without)
    router = Litestar(route_handlers=handlers, openapi_config=None).asgi_router
    return _lookup(lambda path: router.handle_routing(path, "GET"))


def _blacksheep(templates: Sequence[str]) -> Router:
    from blacksheep.server.routing import Router  # type: ignore[import-not-found, unused-ignore]

    async def handler() -> None:
        return None

    router = Router()
    for t in templates:
        router.add_get(rewrite(t, "blacksheep"), handler)
    router.apply_routes()
    find = router.get_match_by_method_and_path
    return _lookup(lambda path: find("GET", path))


BUILDERS: dict[str, Callable[[Sequence[str]], Router]] = {
    "baize": _baize,
    "baize-match": _baize_match,
    "starlette": _starlette,
    "litestar": _litestar,
    "falcon": _falcon,
    "fastapi": _fastapi,
    "blacksheep": _blacksheep,
}
