"""Tests of baize.asgi.shortcut: request_response, websocket_session, decorator."""

from __future__ import annotations

from typing import Any

import pytest

from baize.asgi import (
    PlainTextResponse,
    Request,
    Response,
    WebSocket,
    decorator,
    request_response,
    websocket_session,
)
from baize.typing import Message, Scope

pytestmark = pytest.mark.anyio


def http_scope(method: str = "GET", headers: list[tuple[bytes, bytes]] | None = None) -> Scope:
    return {
        "type": "http",
        "method": method,
        "scheme": "http",
        "path": "/items/3",
        "root_path": "",
        "query_string": b"q=1",
        "headers": [(b"host", b"example.com"), *(headers or [])],
        "path_params": {"id": 3},
    }


def websocket_scope(extensions: dict[str, Any] | None = None) -> Scope:
    return {
        "type": "websocket",
        "scheme": "ws",
        "path": "/ws",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"example.com")],
        "extensions": extensions or {},
    }


async def call(app: Any, scope: Scope, incoming: list[Message]) -> list[Message]:
    sent: list[Message] = []
    pending = list(incoming)

    async def receive() -> Message:
        return pending.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


def body_of(sent: list[Message]) -> bytes:
    return b"".join(m.get("body", b"") for m in sent if m["type"].endswith("response.body"))


async def test_request_response_runs_the_view() -> None:
    @request_response
    async def view(request: Request) -> Response:
        body = await request.body
        return PlainTextResponse(f"{request.method} {request.path_params['id']} {body.decode()}")

    sent = await call(
        view, http_scope("POST"), [{"type": "http.request", "body": b"hey", "more_body": False}]
    )
    assert sent[0]["status"] == 200
    assert body_of(sent) == b"POST 3 hey"
    assert view.__name__ == "view"


async def test_request_response_closes_the_request_after_the_response() -> None:
    closed: list[str] = []

    class TrackedRequest(Request):
        async def close(self) -> None:
            closed.append("closed")
            await super().close()

    import baize.asgi.shortcut as shortcut

    original = shortcut.Request  # type: ignore[attr-defined]
    shortcut.Request = TrackedRequest  # type: ignore[attr-defined]
    try:

        @request_response
        async def view(request: Request) -> Response:
            assert isinstance(request, TrackedRequest)
            return PlainTextResponse("ok")

        await call(view, http_scope(), [])
    finally:
        shortcut.Request = original  # type: ignore[attr-defined]
    assert closed == ["closed"]


async def test_request_response_closes_uploaded_files_even_when_the_view_fails() -> None:
    body = (
        b'--B\r\nContent-Disposition: form-data; name="f"; filename="a.txt"\r\n\r\n'
        b"data\r\n--B--\r\n"
    )
    uploads: list[Any] = []

    @request_response
    async def view(request: Request) -> Response:
        form = await request.form
        uploads.append(form["f"])
        raise ValueError("view failed")

    scope = http_scope("POST", [(b"content-type", b"multipart/form-data; boundary=B")])
    with pytest.raises(ValueError, match="view failed"):
        await call(view, scope, [{"type": "http.request", "body": body, "more_body": False}])
    assert uploads and uploads[0].closed


async def test_request_response_denies_websocket_with_404() -> None:
    @request_response
    async def view(request: Request) -> Response:
        raise AssertionError("not reached")

    sent = await call(view, websocket_scope({"websocket.http.response": {}}), [])
    assert sent[0] == {**sent[0], "type": "websocket.http.response.start", "status": 404}
    assert body_of(sent) == b"Not Found"
    assert [m["type"] for m in await call(view, websocket_scope(), [])] == ["websocket.close"]


async def test_websocket_session_runs_the_view() -> None:
    @websocket_session
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        async for message in websocket.iter_text():
            await websocket.send_text(message.upper())
        await websocket.close()

    sent = await call(
        echo,
        websocket_scope(),
        [
            {"type": "websocket.connect"},
            {"type": "websocket.receive", "text": "a"},
            {"type": "websocket.receive", "text": "b"},
            {"type": "websocket.disconnect", "code": 1000},
        ],
    )
    assert [m["type"] for m in sent] == ["websocket.accept", "websocket.send", "websocket.send"]
    assert [m.get("text") for m in sent[1:]] == ["A", "B"]


async def test_websocket_session_answers_http_with_404() -> None:
    @websocket_session
    async def view(websocket: WebSocket) -> None:
        raise AssertionError("not reached")

    sent = await call(view, http_scope(), [])
    assert sent[0]["status"] == 404
    assert body_of(sent) == b"Not Found"


async def test_decorator_wraps_views_and_keeps_their_name() -> None:
    @decorator
    async def add_header(request: Request, next_call: Any) -> Response:
        response: Response = await next_call(request)
        response.headers["x-decorated"] = request.method
        return response

    @request_response
    @add_header
    async def view(request: Request) -> Response:
        return PlainTextResponse("body")

    assert view.__name__ == "view"
    sent = await call(view, http_scope(), [])
    assert (b"x-decorated", b"GET") in [tuple(h) for h in sent[0]["headers"]]
    assert body_of(sent) == b"body"


async def test_decorator_can_short_circuit() -> None:
    @decorator
    async def forbid(request: Request, next_call: Any) -> Response:
        return PlainTextResponse("no", 403)

    @forbid
    async def view(request: Request) -> Response:
        raise AssertionError("not reached")

    sent = await call(request_response(view), http_scope(), [])
    assert sent[0]["status"] == 403
