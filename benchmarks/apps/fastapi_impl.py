# mypy: disable-error-code="untyped-decorator, no-any-return"
# (the framework may be absent: the peers extra is optional, its decorators are then untyped)
"""FastAPI's idiomatic apps for the peer scenarios: path operations with typed parameters
(validated by FastAPI), ``FileResponse`` and ``sse-starlette``'s ``EventSourceResponse``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI  # type: ignore[import-not-found, unused-ignore]
from fastapi.responses import FileResponse, PlainTextResponse  # type: ignore[import-not-found, unused-ignore]
from sse_starlette import EventSourceResponse, ServerSentEvent  # type: ignore[import-not-found, unused-ignore]

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
