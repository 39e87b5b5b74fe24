"""Raw ASGI apps for the extensions a server declares (``SRV-EXT-*``).

Each sends an extension's message only when the scope offers it (else it answers 501), so a
server never receives a message it did not declare. ``/srv_ext/scope`` (HTTP and WebSocket)
answers the names of the scope's extensions.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from ._plumbing import send_json

PREFIX = "/srv_ext"
VALIDATE = False  # sends extension messages the validator judges elsewhere

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

FILE_BODY = bytes(range(256)) * 40  # 10240 bytes
ZEROCOPY_OFFSET, ZEROCOPY_COUNT = 100, 1000
LINKS = [b"</style.css>; rel=preload; as=style", b"</script.js>; rel=preload; as=script"]


def _file() -> str:
    """A file holding :data:`FILE_BODY` (written once per process)."""
    directory = os.environ.get("CONFORMANCE_STATE_DIR") or tempfile.gettempdir()
    path = os.path.join(directory, f"srv-ext-{os.getpid()}.bin")
    if not os.path.exists(path):
        with open(path, "wb") as file:
            file.write(FILE_BODY)
    return os.path.abspath(path)


def _names(scope: Scope) -> list[str]:
    extensions = scope.get("extensions")
    return sorted(extensions) if isinstance(extensions, dict) else []


async def _start(send: Send, length: int) -> None:
    headers = [(b"content-type", b"application/octet-stream"), (b"content-length", b"%d" % length)]
    await send({"type": "http.response.start", "status": 200, "headers": headers})


async def http_app(scope: Scope, receive: Receive, send: Send) -> None:
    action = scope["path"].split("/")[2] if scope["path"].count("/") >= 2 else ""
    offered = _names(scope)
    if action == "scope":
        await send_json(send, {"extensions": offered})
    elif action == "pathsend" and "http.response.pathsend" in offered:
        await _start(send, len(FILE_BODY))
        await send({"type": "http.response.pathsend", "path": _file()})
    elif action == "zerocopy" and "http.response.zerocopysend" in offered:
        await _start(send, ZEROCOPY_COUNT)
        with open(_file(), "rb") as file:
            await send(
                {
                    "type": "http.response.zerocopysend",
                    "file": file,
                    "offset": ZEROCOPY_OFFSET,
                    "count": ZEROCOPY_COUNT,
                }
            )
    elif action == "early-hint" and "http.response.early_hint" in offered:
        await _start(send, 5)
        await send({"type": "http.response.early_hint", "links": LINKS})
        await send({"type": "http.response.body", "body": b"final"})
    else:
        await send_json(send, {"not offered": action, "extensions": offered}, status=501)


async def websocket_app(scope: Scope, receive: Receive, send: Send) -> None:
    await receive()  # websocket.connect
    action = scope["path"].split("/")[2] if scope["path"].count("/") >= 2 else ""
    if action == "deny" and "websocket.http.response" in _names(scope):
        headers = [(b"content-type", b"text/plain"), (b"content-length", b"6")]
        await send({"type": "websocket.http.response.start", "status": 401, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": b"denied"})
        return
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.send", "text": json.dumps({"extensions": _names(scope)})})
    await send({"type": "websocket.close", "code": 1000})


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "websocket":
        await websocket_app(scope, receive, send)
    else:
        await http_app(scope, receive, send)
