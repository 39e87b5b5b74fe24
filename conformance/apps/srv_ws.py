"""Raw ASGI WebSocket apps for the server's RFC 6455 duties (``SRV-WS-*``).

The apps are plain: the cases drive the frames with a raw client and judge what the server
puts on the wire. ``/srv_ws/echo`` echoes every message; ``/srv_ws/length`` answers each
message's size; the others accept and then misbehave in one named way. What an app saw at the
end of a connection is kept under a token and served at ``GET /srv_ws/result/<token>``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from ._plumbing import send_json

PREFIX = "/srv_ws"
VALIDATE = False  # misbehaves on purpose: not the implementation under test

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

RESULTS: dict[str, dict[str, Any]] = {}
PATTERN = bytes(range(256))


class AppFailure(RuntimeError):
    """Raised on purpose by the apps that crash."""


async def echo(scope: Scope, receive: Receive, send: Send, token: str, prefix: str = "") -> None:
    """Echo every message (after ``prefix``) until the disconnect; record it under ``token``."""
    record: dict[str, Any] = {"messages": 0, "disconnect": None}
    if token:
        RESULTS[token] = record
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            record["disconnect"] = {
                "code": message.get("code"),
                "reason": message.get("reason"),
            }
            return
        record["messages"] += 1
        if message.get("text") is not None:
            await send({"type": "websocket.send", "text": prefix + message["text"]})
        else:
            data = prefix.encode() + (message.get("bytes") or b"")
            await send({"type": "websocket.send", "bytes": data})


async def length(receive: Receive, send: Send) -> None:
    """Answer each message with its size as text (for size probes: no echo of the bytes)."""
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        data = message.get("text")
        size = len(data.encode()) if data is not None else len(message.get("bytes") or b"")
        await send({"type": "websocket.send", "text": str(size)})


async def send_bytes(receive: Receive, send: Send, size: int) -> None:
    """Send one binary message of ``size`` bytes and one text message, then wait."""
    await send({"type": "websocket.accept"})
    body = (PATTERN * (size // 256 + 1))[:size]
    await send({"type": "websocket.send", "bytes": body})
    await send({"type": "websocket.send", "text": "done"})
    while (await receive())["type"] != "websocket.disconnect":
        pass


async def close_then_send(receive: Receive, send: Send) -> None:
    """Close with 4001, then try to send a data frame (the server must not put it on the wire)."""
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.close", "code": 4001, "reason": "closing"})
    try:
        await send({"type": "websocket.send", "text": "after close"})
    except Exception:  # the spec lets the server raise here
        pass


async def websocket_app(scope: Scope, receive: Receive, send: Send) -> None:
    if (await receive())["type"] != "websocket.connect":
        return
    parts = scope["path"].split("/")
    action = parts[2] if len(parts) > 2 else ""
    argument = parts[3] if len(parts) > 3 else ""
    if action == "echo":
        await echo(scope, receive, send, argument)
    elif action == "prefixed":  # never an empty message: some servers drop those on send
        await echo(scope, receive, send, "", "=")
    elif action == "length":
        await length(receive, send)
    elif action == "subprotocol":
        offered = list(scope.get("subprotocols") or [])
        await send({"type": "websocket.accept", "subprotocol": offered[0] if offered else None})
        await send({"type": "websocket.send", "text": "ok"})
        while (await receive())["type"] != "websocket.disconnect":
            pass
    elif action == "send":
        await send_bytes(receive, send, int(argument))
    elif action == "close-then-send":
        await close_then_send(receive, send)
    elif action == "raise":
        await send({"type": "websocket.accept"})
        await receive()
        raise AppFailure("srv_ws raises after accept, on purpose")
    elif action == "raise-before-accept":
        raise AppFailure("srv_ws raises before accept, on purpose")
    elif action == "return":
        await send({"type": "websocket.accept"})
        await receive()
    elif action == "return-before-accept":
        return
    else:
        await send({"type": "websocket.close", "code": 1008})


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "websocket":
        await websocket_app(scope, receive, send)
        return
    parts = scope["path"].split("/")
    if len(parts) > 3 and parts[2] == "result":
        record = RESULTS.get(parts[3])
        if record is None or record.get("disconnect") is None:
            await send_json(send, {"pending": True}, status=404)
        else:
            await send_json(send, record)
        return
    # A request that is no WebSocket handshake reaches here as plain HTTP.
    await send_json(send, {"http": True, "path": scope["path"]})
