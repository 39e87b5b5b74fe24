# mypy: disable-error-code="untyped-decorator, no-any-return"
# (the framework may be absent: the peers extra is optional, its decorators are then untyped)
"""Litestar's idiomatic apps for the peer scenarios (``hello``, ``json-router``, ``file``,
``sse``): route handlers with typed path parameters, ``File`` and ``ServerSentEvent``."""

from __future__ import annotations

from litestar import Litestar, MediaType, get  # type: ignore[import-not-found, unused-ignore]
from litestar.handlers import HTTPRouteHandler  # type: ignore[import-not-found, unused-ignore]
from litestar.response import File, ServerSentEvent  # type: ignore[import-not-found, unused-ignore]

from benchmarks.apps.common import (
    HELLO,
    ROUTE_COUNT,
    SSE_DATA,
    file_path,
    json_payload,
    timed_events,
    with_own_lifespan,
)


@get("/", media_type=MediaType.TEXT)
async def _hello() -> bytes:
    return HELLO


def _item_handler(route: int) -> HTTPRouteHandler:
    @get(f"/route{route}/{{item_id:int}}", name=f"route{route}")
    async def item(item_id: int) -> dict[str, int]:
        return json_payload(route, item_id)

    return item


@get("/")
async def _file() -> File:
    return File(path=file_path(), media_type="application/octet-stream")


@get("/")
async def _sse() -> ServerSentEvent:
    return ServerSentEvent(timed_events(SSE_DATA))


def _app(*handlers: HTTPRouteHandler) -> Litestar:
    return Litestar(route_handlers=list(handlers), openapi_config=None, debug=False)


hello = with_own_lifespan(_app(_hello))
json_router = with_own_lifespan(_app(*[_item_handler(i) for i in range(ROUTE_COUNT)]))
file = with_own_lifespan(_app(_file))
sse = with_own_lifespan(_app(_sse))
