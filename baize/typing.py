"""Type aliases shared by every part of baize."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, TypedDict

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class ServerSentEvent(TypedDict, total=False):
    """One event of a ``text/event-stream`` (WHATWG HTML §9.2).

    Every key is optional; ``data`` may hold several lines.
    """

    event: str
    data: str
    id: str
    retry: int
    comment: str


__all__ = ["ASGIApp", "Message", "Receive", "Scope", "Send", "ServerSentEvent"]
