"""baize's classes for every scenario: the implementation being measured."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import anyio.lowlevel

from baize.asgi import (
    FileResponse,
    JSONResponse,
    PlainTextResponse,
    Request,
    Router,
    SendEventResponse,
    WebSocket,
    request_response,
)
from baize.typing import ServerSentEvent
from benchmarks.apps.common import (
    HELLO,
    ROUTE_COUNT,
    SSE_DATA,
    SSE_MAX_SECONDS,
    App,
    Receive,
    Scope,
    Send,
    big_file_path,
    file_path,
    json_payload,
    not_a_websocket,
    with_lifespan,
)


async def _hello(scope: Scope, receive: Receive, send: Send) -> None:
    await PlainTextResponse(HELLO)(scope, receive, send)


def _view(route: int) -> App:
    async def view(request: Request) -> JSONResponse:
        return JSONResponse(json_payload(route, request.path_params["item_id"]))

    return request_response(view)


_router = Router(*[(f"/route{i}/{{item_id:int}}", _view(i)) for i in range(ROUTE_COUNT)])


async def _file(scope: Scope, receive: Receive, send: Send) -> None:
    await FileResponse(file_path())(scope, receive, send)


async def _big_file(scope: Scope, receive: Receive, send: Send) -> None:
    await FileResponse(big_file_path())(scope, receive, send)


async def _events() -> AsyncIterator[ServerSentEvent]:
    event: ServerSentEvent = {"data": SSE_DATA}
    deadline = anyio.current_time() + SSE_MAX_SECONDS
    sent = 0
    while sent % 1000 or anyio.current_time() < deadline:
        yield event
        await anyio.lowlevel.checkpoint()
        sent += 1


async def _sse(scope: Scope, receive: Receive, send: Send) -> None:
    await SendEventResponse(_events())(scope, receive, send)


async def _websocket(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        await not_a_websocket(scope, receive, send)
        return
    ws = WebSocket(scope, receive, send)
    await ws.accept()
    async for text in ws.iter_text():
        await ws.send_text(text)


hello = with_lifespan(_hello)
json_router = with_lifespan(_router)
file = with_lifespan(_file)
range_file = file
big_file = with_lifespan(_big_file)
sse = with_lifespan(_sse)
websocket = with_lifespan(_websocket)
