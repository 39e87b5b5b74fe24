# mypy: disable-error-code="untyped-decorator, no-any-return"
# (the framework may be absent: the peers extra is optional, its decorators are then untyped)
"""BlackSheep's idiomatic apps for the peer scenarios (the compiled reference: its routing
and HTTP objects are Cython): ``text``, typed route parameters and ``json``, ``file``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from blacksheep import Application, Response, Router, json, text  # type: ignore[import-not-found, unused-ignore]
from blacksheep import file as file_response  # type: ignore[import-not-found, unused-ignore]
from blacksheep.server.sse import ServerSentEventsResponse, TextServerSentEvent  # type: ignore[import-not-found, unused-ignore]

from benchmarks.apps.common import (
    HELLO,
    ROUTE_COUNT,
    SSE_DATA,
    file_path,
    json_payload,
    timed_events,
    with_own_lifespan,
)

_hello = Application(router=Router())


@_hello.router.get("/")
async def _hello_view() -> Response:
    return text(HELLO.decode())


def _item_view(route: int) -> Callable[[int], Awaitable[Response]]:
    async def item(item_id: int) -> Response:
        return json(json_payload(route, item_id))

    return item


_router = Application(router=Router())
for _i in range(ROUTE_COUNT):
    _router.router.add_get(f"/route{_i}/{{int:item_id}}", _item_view(_i))

_file = Application(router=Router())


@_file.router.get("/")
async def _file_view() -> Response:
    return file_response(file_path(), "application/octet-stream")


_sse = Application(router=Router())


@_sse.router.get("/")
async def _sse_view() -> Response:
    return ServerSentEventsResponse(lambda: timed_events(TextServerSentEvent(SSE_DATA)))


hello = with_own_lifespan(_hello)
json_router = with_own_lifespan(_router)
file = with_own_lifespan(_file)
sse = with_own_lifespan(_sse)
