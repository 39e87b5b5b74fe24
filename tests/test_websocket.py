"""Tests of baize.asgi.websocket: the state machine, frames, close and denial."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

from baize.asgi import (
    HTTPConnection,
    PlainTextResponse,
    StreamResponse,
    WebSocket,
    WebsocketDenialResponse,
    WebSocketDisconnect,
    WebSocketState,
)
from baize.typing import Message, Scope

pytestmark = pytest.mark.anyio


def websocket_scope(extensions: dict[str, Any] | None = None) -> Scope:
    scope: Scope = {
        "type": "websocket",
        "scheme": "ws",
        "path": "/chat",
        "root_path": "",
        "query_string": b"room=1",
        "headers": [(b"host", b"example.com"), (b"sec-websocket-protocol", b"chat")],
        "subprotocols": ["chat"],
    }
    if extensions is not None:
        scope["extensions"] = extensions
    return scope


class Client:
    """Plays the server side: hands out scripted messages and records sent ones."""

    def __init__(self, *incoming: Message, then_wait: bool = False) -> None:
        self.incoming = list(incoming)
        self.then_wait = then_wait
        self.sent: list[Message] = []

    async def receive(self) -> Message:
        if not self.incoming:
            if self.then_wait:  # a live connection: nothing more until it ends
                await anyio.sleep_forever()
            raise AssertionError("the application read past the scripted messages")
        return self.incoming.pop(0)

    async def send(self, message: Message) -> None:
        self.sent.append(message)

    def websocket(self, scope: Scope | None = None) -> WebSocket:
        return WebSocket(scope or websocket_scope(), self.receive, self.send)


CONNECT: Message = {"type": "websocket.connect"}


def text(data: str) -> Message:
    return {"type": "websocket.receive", "text": data}


def binary(data: bytes) -> Message:
    return {"type": "websocket.receive", "bytes": data}


def disconnect(code: int = 1000, reason: str | None = None) -> Message:
    message: Message = {"type": "websocket.disconnect", "code": code}
    if reason is not None:
        message["reason"] = reason
    return message


def test_websocket_is_an_http_connection() -> None:
    ws = Client().websocket()
    assert isinstance(ws, HTTPConnection)
    assert ws["path"] == "/chat"
    assert str(ws.url) == "ws://example.com/chat?room=1"
    assert ws.headers["sec-websocket-protocol"] == "chat"
    assert ws.client_state is WebSocketState.CONNECTING
    assert ws.application_state is WebSocketState.CONNECTING


def test_websocket_refuses_an_http_scope() -> None:
    with pytest.raises(ValueError, match="websocket scope"):
        WebSocket({"type": "http", "path": "/"}, Client().receive, Client().send)


async def test_accept_reads_connect_and_sends_subprotocol_and_headers() -> None:
    client = Client(CONNECT)
    ws = client.websocket()
    await ws.accept("chat", headers={"X-Token": "abc"})
    assert client.sent == [
        {"type": "websocket.accept", "subprotocol": "chat", "headers": [(b"x-token", b"abc")]}
    ]
    assert ws.client_state is WebSocketState.CONNECTED
    assert ws.application_state is WebSocketState.CONNECTED


@pytest.mark.parametrize(
    "headers", [{"X-Token": "a\r\nSet-Cookie: x=1"}, {"Bad Name": "v"}, [("x", "\x00")]]
)
async def test_accept_refuses_headers_that_would_break_the_handshake(
    headers: dict[str, str] | list[tuple[str, str]],
) -> None:
    client = Client(CONNECT)
    ws = client.websocket()
    with pytest.raises(ValueError, match="header"):
        await ws.accept(headers=headers)
    assert [message["type"] for message in client.sent] == []


async def test_text_and_binary_frames_round_trip() -> None:
    client = Client(CONNECT, text("hi"), binary(b"\x00\xff"))
    ws = client.websocket()
    await ws.accept()
    assert await ws.receive_text() == "hi"
    assert await ws.receive_bytes() == b"\x00\xff"
    await ws.send_text("hello")
    await ws.send_bytes(b"\x01")
    assert client.sent[1:] == [
        {"type": "websocket.send", "text": "hello"},
        {"type": "websocket.send", "bytes": b"\x01"},
    ]


async def test_wrong_frame_type_is_a_clear_error() -> None:
    ws = Client(CONNECT, binary(b"x"), text("y")).websocket()
    await ws.accept()
    with pytest.raises(RuntimeError, match="Expected a text frame, received a binary frame"):
        await ws.receive_text()
    with pytest.raises(RuntimeError, match="Expected a binary frame, received a text frame"):
        await ws.receive_bytes()


async def test_disconnect_while_receiving_raises_with_code_and_reason() -> None:
    ws = Client(CONNECT, disconnect(1001, "going away")).websocket()
    await ws.accept()
    with pytest.raises(WebSocketDisconnect) as caught:
        await ws.receive_text()
    assert (caught.value.code, caught.value.reason) == (1001, "going away")
    assert ws.client_state is WebSocketState.DISCONNECTED


async def test_disconnect_without_code_defaults_to_1005() -> None:
    ws = Client(CONNECT, {"type": "websocket.disconnect"}).websocket()
    await ws.accept()
    with pytest.raises(WebSocketDisconnect) as caught:
        await ws.receive_bytes()
    assert caught.value.code == 1005
    assert caught.value.reason == ""  # the ASGI spec's default


def test_websocket_disconnect_repr_and_defaults() -> None:
    assert repr(WebSocketDisconnect(1001)) == "WebSocketDisconnect(code=1001, reason=)"
    assert repr(WebSocketDisconnect(4000, "bye")) == "WebSocketDisconnect(code=4000, reason=bye)"
    assert WebSocketDisconnect().code == 1000
    assert WebSocketDisconnect(reason=None).reason == ""
    assert WebSocketDisconnect(1001).args == (1001, "")


async def test_iter_text_and_iter_bytes_end_cleanly_on_disconnect() -> None:
    ws = Client(CONNECT, text("a"), text("b"), disconnect()).websocket()
    await ws.accept()
    assert [item async for item in ws.iter_text()] == ["a", "b"]
    ws = Client(CONNECT, binary(b"a"), disconnect()).websocket()
    await ws.accept()
    assert [item async for item in ws.iter_bytes()] == [b"a"]


async def test_send_before_accept_names_state_and_message() -> None:
    ws = Client(CONNECT).websocket()
    with pytest.raises(RuntimeError, match=r"'websocket.send' in application state CONNECTING"):
        await ws.send_text("too early")


async def test_receive_frame_before_accept_names_state() -> None:
    ws = Client(CONNECT).websocket()
    with pytest.raises(RuntimeError, match="application state CONNECTING; call accept"):
        await ws.receive_text()


async def test_accept_twice_names_state() -> None:
    ws = Client(CONNECT).websocket()
    await ws.accept()
    with pytest.raises(RuntimeError, match=r"'websocket.accept' in application state CONNECTED"):
        await ws.accept()


async def test_unexpected_client_message_names_state_and_type() -> None:
    ws = Client(text("before connect")).websocket()
    with pytest.raises(RuntimeError, match=r"'websocket.receive' from the client in client state"):
        await ws.receive()
    ws = Client(CONNECT, CONNECT).websocket()
    await ws.accept()
    with pytest.raises(RuntimeError, match=r"'websocket.connect' .* client state CONNECTED"):
        await ws.receive()


async def test_receive_and_send_after_client_disconnect_are_refused() -> None:
    ws = Client(CONNECT, disconnect()).websocket()
    await ws.accept()
    assert (await ws.receive())["type"] == "websocket.disconnect"
    with pytest.raises(RuntimeError, match="client state is DISCONNECTED"):
        await ws.receive()
    with pytest.raises(RuntimeError, match=r"'websocket.send': the client state is DISCONNECTED"):
        await ws.send_text("late")


async def test_close_is_idempotent() -> None:
    client = Client(CONNECT)
    ws = client.websocket()
    await ws.accept()
    await ws.close(4000, "bye")
    await ws.close()
    await ws.close(1011)
    assert client.sent[1:] == [{"type": "websocket.close", "code": 4000, "reason": "bye"}]
    assert ws.application_state is WebSocketState.DISCONNECTED
    with pytest.raises(RuntimeError, match="application state DISCONNECTED"):
        await ws.send_text("after close")


async def test_close_before_accept_denies_the_handshake() -> None:
    client = Client(CONNECT)
    ws = client.websocket()
    await ws.close()
    assert client.sent == [{"type": "websocket.close", "code": 1000}]
    assert ws.application_state is WebSocketState.DISCONNECTED


async def test_close_after_client_disconnect_does_nothing() -> None:
    client = Client(CONNECT, disconnect())
    ws = client.websocket()
    await ws.accept()
    with pytest.raises(WebSocketDisconnect):
        await ws.receive_text()
    await ws.close()
    assert [m["type"] for m in client.sent] == ["websocket.accept"]


async def test_http_response_extension_messages_follow_the_state_table() -> None:
    client = Client(CONNECT)
    ws = client.websocket(websocket_scope({"websocket.http.response": {}}))
    await ws.send({"type": "websocket.http.response.start", "status": 403, "headers": []})
    assert ws.application_state is WebSocketState.RESPONSE
    await ws.send({"type": "websocket.http.response.body", "body": b"a", "more_body": True})
    assert ws.application_state is WebSocketState.RESPONSE
    await ws.send({"type": "websocket.http.response.body", "body": b"b"})
    assert ws.application_state is WebSocketState.DISCONNECTED  # type: ignore[comparison-overlap]
    with pytest.raises(RuntimeError, match="application state DISCONNECTED"):
        await ws.send({"type": "websocket.http.response.body", "body": b"c"})


# WebsocketDenialResponse


async def test_denial_sends_the_response_through_the_extension() -> None:
    client = Client(CONNECT)
    response = PlainTextResponse("go away", 403, headers={"x-reason": "test"})
    app = WebsocketDenialResponse(response)
    await app(websocket_scope({"websocket.http.response": {}}), client.receive, client.send)
    start, *bodies = client.sent
    assert start["type"] == "websocket.http.response.start"
    assert start["status"] == 403
    assert (b"x-reason", b"test") in [tuple(h) for h in start["headers"]]
    assert {m["type"] for m in bodies} == {"websocket.http.response.body"}
    assert b"".join(m.get("body", b"") for m in bodies) == b"go away"
    assert not bodies[-1].get("more_body", False)


async def test_denial_streams_a_multi_chunk_response() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for index in range(3):
            yield str(index).encode()

    client = Client(CONNECT, then_wait=True)
    app = WebsocketDenialResponse(StreamResponse(chunks(), 401))
    await app(websocket_scope({"websocket.http.response": {}}), client.receive, client.send)
    assert client.sent[0]["status"] == 401
    body = [m for m in client.sent[1:] if m.get("body")]
    assert [m["body"] for m in body] == [b"0", b"1", b"2"]
    assert client.sent[-1]["type"] == "websocket.http.response.body"
    assert not client.sent[-1].get("more_body", False)


async def test_denial_without_the_extension_closes_the_handshake() -> None:
    client = Client(CONNECT)
    app = WebsocketDenialResponse(PlainTextResponse("go away", 403))
    await app(websocket_scope(), client.receive, client.send)
    assert [m["type"] for m in client.sent] == ["websocket.close"]


async def test_denial_refuses_messages_it_cannot_translate() -> None:
    async def trailers_app(scope: Scope, receive: Any, send: Any) -> None:
        await send({"type": "http.response.trailers", "headers": []})

    client = Client(CONNECT)
    with pytest.raises(RuntimeError, match=r"'http.response.trailers'"):
        await WebsocketDenialResponse(trailers_app)(
            websocket_scope({"websocket.http.response": {}}), client.receive, client.send
        )
