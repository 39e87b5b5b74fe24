"""Small ASGI callables shared by the request and response modules."""

from __future__ import annotations

from baize.typing import Message


async def empty_receive() -> Message:
    """A ``receive`` for objects built without one: reading from it is a bug."""
    raise RuntimeError("Receive channel has not been made available")


async def empty_send(message: Message) -> None:
    """A ``send`` for objects built without one: sending through it is a bug."""
    raise RuntimeError("Send channel has not been made available")
