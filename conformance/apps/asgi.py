"""Raw ASGI scenario apps for the ASGI server requirements (no implementation classes)."""

from __future__ import annotations

import importlib
import json
from typing import Any
from urllib.parse import parse_qs

from ._plumbing import Receive, Scope, Send
from ._plumbing import send_json as _json

PREFIX = "/asgi"


DISCONNECTS: dict[str, dict[str, Any]] = {}
STREAM_CHUNKS = [b"first;", b"second;", b"third;", b"fourth;"]
HEAD_BODY = b"body that HEAD must not carry"


def describe(value: Any) -> Any:
    """Encode ``value`` as JSON that keeps its Python type: ``{"bytes": "..."}`` etc."""
    if isinstance(value, bool):
        return {"bool": value}
    if isinstance(value, bytes):
        return {"bytes": value.decode("latin-1")}
    if isinstance(value, str):
        return {"str": value}
    if isinstance(value, int):
        return {"int": value}
    if value is None:
        return {"none": None}
    if isinstance(value, list | tuple):
        return {type(value).__name__: [describe(item) for item in value]}
    if isinstance(value, dict):
        return {"dict": {str(key): describe(item) for key, item in value.items()}}
    return {"other": type(value).__name__}


async def scope_view(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer the HTTP scope, every value tagged with its type."""
    await _json(send, describe({key: value for key, value in scope.items() if key != "state"}))


async def body_view(scope: Scope, receive: Receive, send: Send) -> None:
    """Read the request body and answer each ``http.request`` message as received."""
    messages = []
    body = b""
    while True:
        message = await receive()
        messages.append(
            {
                "type": message["type"],
                "body": describe(message.get("body", b"")),
                "has_more_body": "more_body" in message,
                "more_body": describe(message.get("more_body", False)),
            }
        )
        if message["type"] != "http.request":
            break
        body += message.get("body", b"")
        if not message.get("more_body", False):
            break
    await _json(send, {"messages": messages, "body": body.decode("latin-1")})


async def disconnect_view(scope: Scope, receive: Receive, send: Send) -> None:
    """Consume the body, then wait on ``receive`` without answering; record what arrives."""
    token = scope["path"].rsplit("/", 1)[-1]
    record: dict[str, Any] = {"waiting": True, "after_body": None}
    DISCONNECTS[token] = record
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            break
    if message["type"] == "http.request":
        message = await receive()
    record.update(waiting=False, after_body=message["type"])


async def result_view(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer what ``disconnect_view`` recorded for the token (``null`` if nothing yet)."""
    await _json(send, DISCONNECTS.get(scope["path"].rsplit("/", 1)[-1]))


async def stream_view(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer with several body messages and no content-length."""
    await send({"type": "http.response.start", "status": 200, "headers": []})
    for chunk in STREAM_CHUNKS:
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def head_view(scope: Scope, receive: Receive, send: Send) -> None:
    """Send a body whatever the method (the server must drop it for HEAD)."""
    length = str(len(HEAD_BODY)).encode()
    headers = [(b"content-type", b"text/plain"), (b"content-length", length)]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": HEAD_BODY})


async def lifespan_view(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer what lifespan startup recorded and the ``state`` copy this request sees."""
    main = importlib.import_module(__name__.rpartition(".")[0] + ".main")
    state = scope.get("state")
    seen = state.get("conformance") if isinstance(state, dict) else None
    await _json(
        send, {"startup": main.STARTUP, "state_in_request": seen, "expected": main.STATE_VALUE}
    )


async def ws_scope(scope: Scope, receive: Receive, send: Send) -> None:
    """Accept, send the WebSocket scope tagged with types, close normally."""
    await receive()
    await send({"type": "websocket.accept"})
    view = describe({key: value for key, value in scope.items() if key != "state"})
    await send({"type": "websocket.send", "text": json.dumps(view)})
    await send({"type": "websocket.close", "code": 1000})


async def ws_subprotocol(scope: Scope, receive: Receive, send: Send) -> None:
    """Accept choosing the LAST subprotocol the client offered; send the offer list."""
    await receive()
    offered = list(scope.get("subprotocols", []))
    chosen = offered[-1] if offered else None
    await send({"type": "websocket.accept", "subprotocol": chosen})
    await send({"type": "websocket.send", "text": json.dumps(offered)})
    await send({"type": "websocket.close", "code": 1000})


async def ws_close(scope: Scope, receive: Receive, send: Send) -> None:
    """Accept, then close with the ``code`` and ``reason`` named in the query string."""
    query = parse_qs(scope.get("query_string", b"").decode())
    await receive()
    await send({"type": "websocket.accept"})
    code = int(query.get("code", ["1000"])[0])
    reason = query.get("reason", [""])[0]
    await send({"type": "websocket.close", "code": code, "reason": reason})


async def ws_reject(scope: Scope, receive: Receive, send: Send) -> None:
    """Close before accepting: the server must answer 403 to the handshake."""
    await receive()
    await send({"type": "websocket.close", "code": 1000})


async def ws_deny(scope: Scope, receive: Receive, send: Send) -> None:
    """Deny with an HTTP response through ``websocket.http.response`` when offered."""
    await receive()
    if "websocket.http.response" not in scope.get("extensions", {}):
        await send({"type": "websocket.close", "code": 1000})
        return
    headers = [(b"content-type", b"text/plain"), (b"x-denied", b"yes")]
    await send({"type": "websocket.http.response.start", "status": 401, "headers": headers})
    await send({"type": "websocket.http.response.body", "body": b"denied", "more_body": True})
    await send({"type": "websocket.http.response.body", "body": b" here", "more_body": False})


HTTP_ROUTES = {
    "scope": scope_view,
    "body": body_view,
    "disconnect": disconnect_view,
    "result": result_view,
    "stream": stream_view,
    "head": head_view,
    "lifespan": lifespan_view,
}
WS_ROUTES = {
    "scope": ws_scope,
    "subprotocol": ws_subprotocol,
    "close": ws_close,
    "reject": ws_reject,
    "deny": ws_deny,
}


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """Dispatch ``/asgi/<name>[/...]`` (HTTP) and ``/asgi/ws/<name>`` (WebSocket)."""
    parts = scope["path"].split("/")
    if scope["type"] == "websocket":
        handler = WS_ROUTES.get(parts[3] if len(parts) > 3 else "")
        if handler is None:
            await send({"type": "websocket.close", "code": 1008})
            return
        await handler(scope, receive, send)
        return
    http_handler = HTTP_ROUTES.get(parts[2] if len(parts) > 2 else "")
    if http_handler is None:
        await _json(send, {"error": "unknown scenario"}, status=404)
        return
    await http_handler(scope, receive, send)
