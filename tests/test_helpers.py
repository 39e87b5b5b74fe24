"""Tests of baize.asgi.helpers: the placeholder channels and upstream's send helpers."""

from __future__ import annotations

import pytest

from baize.asgi import empty_receive, empty_send, send_http_body, send_http_start
from baize.typing import Message

pytestmark = pytest.mark.anyio


async def test_empty_channels_raise_not_implemented() -> None:
    with pytest.raises(NotImplementedError, match="Receive channel"):
        await empty_receive()
    with pytest.raises(NotImplementedError, match="Send channel"):
        await empty_send({"type": "http.response.start"})
    assert issubclass(NotImplementedError, RuntimeError)  # callers catching RuntimeError still do


async def test_send_http_start_and_body() -> None:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await send_http_start(send, 201, ((b"x-a", b"1"),))
    await send_http_start(send, 204)
    await send_http_body(send, b"chunk", more_body=True)
    await send_http_body(send)
    assert sent == [
        {"type": "http.response.start", "status": 201, "headers": [(b"x-a", b"1")]},
        {"type": "http.response.start", "status": 204},
        {"type": "http.response.body", "body": b"chunk", "more_body": True},
        {"type": "http.response.body", "body": b"", "more_body": False},
    ]
