"""Plain ASGI apps: the physical limit of a server, the reference for every ratio."""

from __future__ import annotations

import json

import anyio
import anyio.lowlevel

from benchmarks.apps.common import (
    FILE_SIZE,
    HELLO,
    RANGE_FIRST,
    RANGE_LAST,
    ROUTE_COUNT,
    SSE_DATA,
    SSE_MAX_SECONDS,
    Receive,
    Scope,
    Send,
    big_file_path,
    file_path,
    json_payload,
    not_a_websocket,
    with_lifespan,
)

_CHUNK = 256 * 1024


async def _send_whole(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _hello(scope: Scope, receive: Receive, send: Send) -> None:
    await _send_whole(send, 200, [(b"content-type", b"text/plain; charset=utf-8")], HELLO)


async def _hello_receive_first(scope: Scope, receive: Receive, send: Send) -> None:
    """``hello`` after one ``await receive()`` (as Falcon does before every answer): the
    control that shows what that extra suspension alone does to a server's throughput."""
    await receive()
    await _hello(scope, receive, send)


async def _json_router(scope: Scope, receive: Receive, send: Send) -> None:
    parts = scope["path"].split("/")
    if len(parts) == 3 and parts[1].startswith("route") and parts[2].isdigit():
        route = parts[1][5:]
        if route.isdigit() and int(route) < ROUTE_COUNT:
            payload = json_payload(int(route), int(parts[2]))
            body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
            await _send_whole(send, 200, [(b"content-type", b"application/json")], body)
            return
    await _send_whole(send, 404, [(b"content-type", b"text/plain; charset=utf-8")], b"Not Found")


_file_bytes: bytes | None = None


def _file_content() -> bytes:
    global _file_bytes
    if _file_bytes is None:
        with open(file_path(), "rb") as f:
            _file_bytes = f.read()
    return _file_bytes


async def _file(scope: Scope, receive: Receive, send: Send) -> None:
    headers = [(b"content-type", b"application/octet-stream"), (b"accept-ranges", b"bytes")]
    await _send_whole(send, 200, headers, _file_content())


async def _range_file(scope: Scope, receive: Receive, send: Send) -> None:
    content_range = f"bytes {RANGE_FIRST}-{RANGE_LAST}/{FILE_SIZE}".encode()
    headers = [(b"content-type", b"application/octet-stream"), (b"content-range", content_range)]
    await _send_whole(send, 206, headers, _file_content()[RANGE_FIRST : RANGE_LAST + 1])


async def _big_file(scope: Scope, receive: Receive, send: Send) -> None:
    path = big_file_path()
    size = (await anyio.Path(path).stat()).st_size
    headers = [
        (b"content-type", b"application/octet-stream"),
        (b"content-length", str(size).encode()),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    async with await anyio.open_file(path, "rb") as f:
        while chunk := await f.read(_CHUNK):
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


_EVENT = f"data: {SSE_DATA}\n\n".encode()


async def _sse(scope: Scope, receive: Receive, send: Send) -> None:
    headers = [
        (b"content-type", b"text/event-stream; charset=utf-8"),
        (b"cache-control", b"no-cache"),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    async with anyio.create_task_group() as group:

        async def watch_disconnect() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            group.cancel_scope.cancel()

        group.start_soon(watch_disconnect)
        deadline = anyio.current_time() + SSE_MAX_SECONDS
        try:
            sent = 0
            while sent % 1000 or anyio.current_time() < deadline:
                await send({"type": "http.response.body", "body": _EVENT, "more_body": True})
                await anyio.lowlevel.checkpoint()
                sent += 1
            await send({"type": "http.response.body", "body": b""})
        except OSError:
            pass
        group.cancel_scope.cancel()


async def _websocket(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        await not_a_websocket(scope, receive, send)
        return
    if (await receive())["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] != "websocket.receive":
            return
        if message.get("text") is not None:
            await send({"type": "websocket.send", "text": message["text"]})
        else:
            await send({"type": "websocket.send", "bytes": message.get("bytes") or b""})


hello = with_lifespan(_hello)
hello_receive_first = with_lifespan(_hello_receive_first)
json_router = with_lifespan(_json_router)
file = with_lifespan(_file)
range_file = with_lifespan(_range_file)
big_file = with_lifespan(_big_file)
sse = with_lifespan(_sse)
websocket = with_lifespan(_websocket)
