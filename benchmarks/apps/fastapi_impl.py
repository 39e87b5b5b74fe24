"""FastAPI's idiomatic apps for the peer scenarios: path operations with typed parameters
(validated by FastAPI), ``FileResponse`` and ``sse-starlette``'s ``EventSourceResponse``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI
from fastapi.responses import FileResponse, PlainTextResponse
from sse_starlette.sse import EventSourceResponse, ServerSentEvent

from benchmarks.apps.common import (
    HELLO,
    ROUTE_COUNT,
    SSE_DATA,
    file_path,
    json_payload,
    timed_events,
    with_own_lifespan,
)


def _api() -> FastAPI:
    return FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


_hello = _api()


@_hello.get("/", response_class=PlainTextResponse)
async def _hello_view() -> PlainTextResponse:
    return PlainTextResponse(HELLO)


def _item_view(route: int) -> Callable[[int], Awaitable[dict[str, int]]]:
    async def item(item_id: int) -> dict[str, int]:
        return json_payload(route, item_id)

    return item


_router = _api()
for _i in range(ROUTE_COUNT):
    _router.add_api_route(f"/route{_i}/{{item_id}}", _item_view(_i), methods=["GET"])

_file = _api()


@_file.get("/")
async def _file_view() -> FileResponse:
    return FileResponse(file_path(), media_type="application/octet-stream")


_sse = _api()


@_sse.get("/")
async def _sse_view() -> Any:
    return EventSourceResponse(timed_events(ServerSentEvent(data=SSE_DATA)), ping=3600)


hello = with_own_lifespan(_hello)
json_router = with_own_lifespan(_router)
file = with_own_lifespan(_file)
sse = with_own_lifespan(_sse)
