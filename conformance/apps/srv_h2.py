"""Scenario apps for the HTTP/2 duties of a server (``SRV-H2-*``), plain ASGI.

Routes under ``/srv_h2/``: ``scope`` (what the scope says), ``connection-fields`` (the app
sets HTTP/1.1 connection-specific fields), ``wait/TOKEN`` and ``result/TOKEN`` (what reaches
the app after its stream is reset), ``size`` (the request body's length), ``bytes/N`` (an
N-byte body), ``head`` (a body whatever the method), ``trailers`` (a body and trailer fields
where the scope offers ``http.response.trailers``).
"""

from __future__ import annotations

from typing import Any

from ._plumbing import Receive, Scope, Send, read_body, send_json

PREFIX = "/srv_h2"
#: token -> what the waiting app saw after its request body.
WAITS: dict[str, dict[str, Any]] = {}
HEAD_BODY = b"this body must not be sent for HEAD\n"
MAX_BYTES = 8 * 1024 * 1024


async def scope_view(scope: Scope, receive: Receive, send: Send) -> None:
    headers = [[key.decode("latin-1"), value.decode("latin-1")] for key, value in scope["headers"]]
    await send_json(
        send,
        {"http_version": scope.get("http_version"), "headers": headers, "path": scope["path"]},
    )


async def connection_fields(scope: Scope, receive: Receive, send: Send) -> None:
    """Set every HTTP/1.1 connection-specific field; an h2 server must not send them."""
    headers = [
        (b"content-type", b"text/plain"),
        (b"connection", b"keep-alive"),
        (b"keep-alive", b"timeout=5"),
        (b"transfer-encoding", b"chunked"),
        (b"upgrade", b"h2c"),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"fields", "more_body": True})
    await send({"type": "http.response.body", "body": b""})


async def wait_view(scope: Scope, receive: Receive, send: Send) -> None:
    """Read the body, then wait on ``receive`` without answering; record what arrives."""
    token = scope["path"].rsplit("/", 1)[-1]
    record: dict[str, Any] = {"waiting": True, "after_body": None}
    WAITS[token] = record
    await read_body(receive)
    message = await receive()
    record.update(waiting=False, after_body=message["type"])


async def result_view(scope: Scope, receive: Receive, send: Send) -> None:
    await send_json(send, WAITS.get(scope["path"].rsplit("/", 1)[-1]))


async def size_view(scope: Scope, receive: Receive, send: Send) -> None:
    body = await read_body(receive)
    await send_json(send, {"size": len(body), "distinct": sorted(set(body.decode("latin-1")))})


async def bytes_view(scope: Scope, receive: Receive, send: Send) -> None:
    """``bytes/N``: N bytes of a repeating pattern, in 64 KiB body messages (``?once``: in one
    message, larger than any initial flow-control window)."""
    count = min(int(scope["path"].rsplit("/", 1)[-1] or "0"), MAX_BYTES)
    pattern = bytes(range(256)) * 256
    await send({"type": "http.response.start", "status": 200, "headers": []})
    if scope["query_string"] == b"once":
        await send(
            {"type": "http.response.body", "body": (pattern * (count // len(pattern) + 1))[:count]}
        )
        return
    sent = 0
    while sent < count:
        chunk = pattern[: min(len(pattern), count - sent)]
        sent += len(chunk)
        await send({"type": "http.response.body", "body": chunk, "more_body": sent < count})
    if count == 0:
        await send({"type": "http.response.body", "body": b""})


async def head_view(scope: Scope, receive: Receive, send: Send) -> None:
    """A body whatever the method (the server must drop it for HEAD)."""
    length = str(len(HEAD_BODY)).encode()
    headers = [(b"content-type", b"text/plain"), (b"content-length", length)]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": HEAD_BODY})


TRAILERS = "http.response.trailers"


async def trailers_view(scope: Scope, receive: Receive, send: Send) -> None:
    """Where the scope offers ``http.response.trailers``: a two-message body, then the trailer
    fields ``x-checksum`` and ``x-count``; else a plain answer saying it is not offered."""
    await read_body(receive)
    offered = TRAILERS in (scope.get("extensions") or {})
    headers = [
        (b"content-type", b"text/plain"),
        (b"x-trailers-offered", b"yes" if offered else b"no"),
    ]
    if offered:
        headers.append((b"trailer", b"x-checksum, x-count"))
    await send(
        {"type": "http.response.start", "status": 200, "headers": headers, "trailers": offered}
    )
    await send({"type": "http.response.body", "body": b"body-", "more_body": True})
    await send({"type": "http.response.body", "body": b"end"})
    if offered:
        fields = [(b"x-checksum", b"c0ffee"), (b"x-count", b"2")]
        await send({"type": TRAILERS, "headers": fields, "more_trailers": False})


ROUTES = {
    "scope": scope_view,
    "connection-fields": connection_fields,
    "wait": wait_view,
    "result": result_view,
    "size": size_view,
    "bytes": bytes_view,
    "head": head_view,
    "trailers": trailers_view,
}


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    parts = scope["path"].split("/")
    handler = ROUTES.get(parts[2] if len(parts) > 2 else "")
    if handler is None:
        await send_json(send, {"error": "unknown scenario"}, status=404)
        return
    await handler(scope, receive, send)
