"""Small ASGI callables shared by the request and response modules."""

from __future__ import annotations

from collections.abc import Iterable

from baize.typing import Message, Send


async def empty_receive() -> Message:
    """A ``receive`` for objects built without one: reading from it is a bug.

    :raises NotImplementedError: always (a ``RuntimeError``, as upstream).
    """
    raise NotImplementedError("Receive channel has not been made available")


async def empty_send(message: Message) -> None:
    """A ``send`` for objects built without one: sending through it is a bug.

    :raises NotImplementedError: always (a ``RuntimeError``, as upstream).
    """
    raise NotImplementedError("Send channel has not been made available")


async def send_http_start(
    send: Send,
    status_code: int,
    headers: Iterable[tuple[bytes, bytes]] | None = None,
) -> None:
    """Send ``http.response.start`` with ``status_code`` and ``headers`` (upstream's helper)."""
    message: Message = {"type": "http.response.start", "status": status_code}
    if headers is not None:
        message["headers"] = headers if isinstance(headers, list) else list(headers)
    await send(message)


async def send_http_body(send: Send, body: bytes = b"", *, more_body: bool = False) -> None:
    """Send one ``http.response.body`` message (upstream's helper)."""
    await send({"type": "http.response.body", "body": body, "more_body": more_body})


__all__ = ["empty_receive", "empty_send", "send_http_body", "send_http_start"]
