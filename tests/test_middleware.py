"""Tests of baize.asgi.middleware: scope edits, header edits, streaming, errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

from baize.asgi import (
    NextRequest,
    NextResponse,
    PipeStream,
    PlainTextResponse,
    Response,
    SendEventResponse,
    StreamResponse,
    middleware,
)
from baize.typing import Message, Receive, Scope, Send, ServerSentEvent

pytestmark = pytest.mark.anyio


def http_scope(path: str = "/") -> Scope:
    return {
        "type": "http",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"example.com")],
    }


class Server:
    """Plays the server: records sent messages; receive blocks until disconnected."""

    def __init__(self) -> None:
        self.sent: list[Message] = []
        self.disconnected = anyio.Event()
        self.request_sent = False

    async def receive(self) -> Message:
        if not self.request_sent:
            self.request_sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self.disconnected.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        self.sent.append(message)

    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.sent if m["type"] == "http.response.body")


@middleware
async def add_header(request: NextRequest, next_call: Any) -> Response:
    response: NextResponse = await next_call(request)
    response.headers["x-middleware"] = "yes"
    return response


async def test_middleware_edits_headers_and_passes_the_body() -> None:
    app = add_header(PlainTextResponse("hello", 201))
    server = Server()
    with anyio.fail_after(5):
        await app(http_scope(), server.receive, server.send)
    start = server.sent[0]
    assert start["status"] == 201
    headers = [tuple(h) for h in start["headers"]]
    assert (b"x-middleware", b"yes") in headers
    assert (b"content-length", b"5") in headers
    assert server.body() == b"hello"
    assert add_header.__name__ == "add_header"


async def test_handler_edits_the_scope_seen_by_the_app() -> None:
    seen: list[Scope] = []

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope)
        await PlainTextResponse("ok")(scope, receive, send)

    @middleware
    async def rewrite(request: NextRequest, next_call: Any) -> Response:
        assert request.url.path == "/old"
        request["path"] = "/new"
        assert request.url.path == "/new"
        return await next_call(request)  # type: ignore[no-any-return]

    original = http_scope("/old")
    await rewrite(inner)(original, Server().receive, Server().send)
    assert seen[0]["path"] == "/new"
    assert original["path"] == "/old"


async def test_next_response_streams_chunk_by_chunk() -> None:
    """The app cannot produce chunk n+1 before the client got chunk n."""
    server = Server()
    forwarded = [anyio.Event() for _ in range(100)]
    log: list[str] = []

    async def chunks() -> AsyncIterator[bytes]:
        for index in range(100):
            log.append(f"produce {index}")
            yield f"{index},".encode()
            if index < 99:
                with anyio.fail_after(5):  # a buffering middleware never lets this pass
                    await forwarded[index].wait()

    async def send(message: Message) -> None:
        await server.send(message)
        if message.get("body"):
            index = int(message["body"].decode().rstrip(","))
            log.append(f"sent {index}")
            forwarded[index].set()

    with anyio.fail_after(10):
        await add_header(StreamResponse(chunks()))(http_scope(), server.receive, send)
    assert log.index("sent 0") < log.index("produce 1")
    assert log.index("sent 98") < log.index("produce 99")
    assert server.body() == b"".join(f"{i},".encode() for i in range(100))
    assert server.sent[-1] == {"type": "http.response.body", "body": b"", "more_body": False}
    assert sum(1 for m in server.sent if m.get("body")) == 100


async def test_server_sent_events_pass_through() -> None:
    server = Server()

    async def events() -> AsyncIterator[ServerSentEvent]:
        yield {"event": "greeting", "data": "hello\nworld"}
        yield {"id": "2", "data": "bye"}

    with anyio.fail_after(5):
        await add_header(SendEventResponse(events(), ping_interval=60))(
            http_scope(), server.receive, server.send
        )
    assert server.sent[0]["status"] == 200
    assert (b"x-middleware", b"yes") in [tuple(h) for h in server.sent[0]["headers"]]
    assert server.body() == (b"event: greeting\ndata: hello\ndata: world\n\nid: 2\ndata: bye\n\n")


async def test_exception_before_start_reaches_the_handler() -> None:
    caught: list[Exception] = []

    async def failing(scope: Scope, receive: Receive, send: Send) -> None:
        raise LookupError("inner failure")

    @middleware
    async def recover(request: NextRequest, next_call: Any) -> Response:
        try:
            return await next_call(request)  # type: ignore[no-any-return]
        except LookupError as exc:
            caught.append(exc)
            return PlainTextResponse("recovered", 500)

    server = Server()
    await recover(failing)(http_scope(), server.receive, server.send)
    assert [str(e) for e in caught] == ["inner failure"]
    assert server.sent[0]["status"] == 500
    assert server.body() == b"recovered"


async def test_exception_after_start_propagates_after_the_sent_part() -> None:
    async def half(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"part", "more_body": True})
        raise LookupError("mid-body failure")

    server = Server()
    with pytest.raises(LookupError, match="mid-body failure"):
        await add_header(half)(http_scope(), server.receive, server.send)
    assert server.body() == b"part"


async def test_app_without_response_start_is_a_clear_error() -> None:
    async def silent(scope: Scope, receive: Receive, send: Send) -> None:
        return None

    with pytest.raises(RuntimeError, match=r"without sending http\.response\.start"):
        await add_header(silent)(http_scope(), Server().receive, Server().send)


async def test_handler_may_replace_the_response_without_deadlock() -> None:
    produced: list[int] = []

    async def endless() -> AsyncIterator[bytes]:
        index = 0
        while True:
            produced.append(index)
            yield b"x"
            index += 1

    @middleware
    async def replace(request: NextRequest, next_call: Any) -> Response:
        await next_call(request)
        return PlainTextResponse("replaced")

    server = Server()
    with anyio.fail_after(5):
        await replace(StreamResponse(endless()))(http_scope(), server.receive, server.send)
    assert server.body() == b"replaced"
    assert len(produced) < 10  # bounded: the discarded body was never buffered


async def test_client_disconnect_stops_the_inner_stream() -> None:
    server = Server()
    closed = anyio.Event()

    async def slow() -> AsyncIterator[bytes]:
        try:
            yield b"first"
            await anyio.sleep_forever()
            yield b"never"
        finally:
            closed.set()

    async def send(message: Message) -> None:
        await server.send(message)
        if message.get("body") == b"first":
            server.disconnected.set()

    with anyio.fail_after(5):
        await add_header(StreamResponse(slow()))(http_scope(), server.receive, send)
    assert closed.is_set()
    assert server.body() == b"first"


async def test_outer_send_failure_stops_the_inner_app() -> None:
    attempts: list[int] = []
    stopped = anyio.Event()

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        try:
            for index in range(1000):
                attempts.append(index)
                await send({"type": "http.response.body", "body": b"x", "more_body": True})
        finally:
            stopped.set()

    async def broken_send(message: Message) -> None:
        if message["type"] == "http.response.body":
            raise OSError("client gone")

    with anyio.fail_after(5), pytest.raises(OSError, match="client gone"):
        await add_header(inner)(http_scope(), Server().receive, broken_send)
    assert stopped.is_set()
    assert len(attempts) < 10


async def test_next_response_cannot_be_sent_twice() -> None:
    @middleware
    async def twice(request: NextRequest, next_call: Any) -> Response:
        response = await next_call(request)
        server = Server()
        await response(request, server.receive, server.send)
        return response  # type: ignore[no-any-return]

    with pytest.raises(RuntimeError, match="streams its body once"):
        await twice(PlainTextResponse("x"))(http_scope(), Server().receive, Server().send)


async def test_non_http_scopes_bypass_the_handler() -> None:
    seen: list[str] = []

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])

    await add_header(inner)({"type": "websocket", "path": "/"}, Server().receive, Server().send)
    assert seen == ["websocket"]


class BodyServer(Server):
    """A server whose request has a two-chunk body."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[Message] = [
            {"type": "http.request", "body": b"he", "more_body": True},
            {"type": "http.request", "body": b"llo", "more_body": False},
        ]

    async def receive(self) -> Message:
        if self.messages:
            return self.messages.pop(0)
        await self.disconnected.wait()
        return {"type": "http.disconnect"}


async def echo(scope: Scope, receive: Receive, send: Send) -> None:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body", False):
            break
    await PlainTextResponse(body)(scope, receive, send)


@pytest.mark.parametrize("read", ["body", "json", "form", "stream", "is_disconnected"])
async def test_handler_body_reads_are_refused_and_the_app_keeps_the_body(read: str) -> None:
    refused: list[str] = []

    @middleware
    async def greedy(request: NextRequest, next_call: Any) -> Response:
        with pytest.raises(RuntimeError, match="middleware handler"):
            if read == "stream":
                async for _ in request.stream():
                    pass
            elif read == "is_disconnected":
                await request.is_disconnected()
            else:
                await getattr(request, read)
        refused.append(read)
        return await next_call(request)  # type: ignore[no-any-return]

    server = BodyServer()
    with anyio.fail_after(5):  # a handler that could read the body left the app waiting
        await greedy(echo)(http_scope(), server.receive, server.send)
    assert refused == [read]
    assert server.body() == b"hello"


async def test_next_request_is_a_mutable_mapping() -> None:
    request = NextRequest(http_scope())
    request["key"] = "value"
    assert request["key"] == "value"
    del request["key"]
    assert "key" not in request
    request.update({"path": "/new"})
    assert request.url.path == "/new"


async def test_from_app_in_a_handler_streams_like_next_call() -> None:
    @middleware
    async def through_from_app(request: NextRequest, next_call: Any) -> Response:
        response = await NextResponse.from_app(echo, request)
        response.headers["x-from-app"] = "1"
        return response

    server = BodyServer()
    with anyio.fail_after(5):
        await through_from_app(echo)(http_scope(), server.receive, server.send)
    assert (b"x-from-app", b"1") in [tuple(h) for h in server.sent[0]["headers"]]
    assert server.body() == b"hello"


async def test_from_app_outside_a_middleware_runs_the_app_to_its_end() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for index in range(5):  # more chunks than the middleware's channel holds
            yield b"%d" % index

    server = Server()
    request = NextRequest(http_scope(), server.receive)
    with anyio.fail_after(5):
        response = await NextResponse.from_app(StreamResponse(chunks()), request)
        assert response.status_code == 200
        await response(http_scope(), server.receive, server.send)
    assert server.body() == b"01234"


async def test_from_app_outside_a_middleware_reports_a_silent_app() -> None:
    async def silent(scope: Scope, receive: Receive, send: Send) -> None:
        return None

    with pytest.raises(RuntimeError, match=r"without sending http\.response\.start"):
        await NextResponse.from_app(silent, NextRequest(http_scope()))


async def test_pipe_stream_hands_chunks_one_at_a_time() -> None:
    pipe = PipeStream()
    received: list[bytes] = []

    async def read() -> None:
        async for chunk in pipe:
            received.append(chunk)

    with anyio.fail_after(5):
        async with anyio.create_task_group() as task_group:
            task_group.start_soon(read)
            for chunk in (b"a", b"b", b"c"):
                await pipe.push(chunk)
            await pipe.push_eof()  # wakes a reader waiting on the empty pipe
    assert received == [b"a", b"b", b"c"]
    with pytest.raises(RuntimeError, match="after push EOF"):
        await pipe.push(b"late")
