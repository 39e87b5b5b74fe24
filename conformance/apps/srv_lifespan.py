"""Whole ASGI apps for the lifespan duties of a server (``SRV-LIFESPAN-*``).

Each ``*_app`` below is served by a server process of its own (the case starts it with
``{app}`` = ``conformance_apps.srv_lifespan:NAME``); ``app`` (under ``/srv_lifespan``) only
exists for the dispatcher. Every app answers ``/__ready__`` once it serves, and
``/srv_lifespan/probe`` with what it knows: whether startup completed and how many lifespan
calls it saw. Files go to ``$CONFORMANCE_STATE_DIR``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from ._plumbing import pause, send_json

PREFIX = "/srv_lifespan"
VALIDATE = False  # misbehaves on purpose in lifespan

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

STARTUP_FAILED_MARKER = "srv-lifespan-startup-failed-marker"
STATE: dict[str, Any] = {"started": False, "lifespan_calls": 0}


def _record(name: str, data: Any) -> None:
    """Append one JSON line to ``$CONFORMANCE_STATE_DIR/srv-lifespan.jsonl``."""
    state_dir = os.environ.get("CONFORMANCE_STATE_DIR")
    if state_dir:
        with open(os.path.join(state_dir, "srv-lifespan.jsonl"), "a", encoding="utf-8") as file:
            file.write(json.dumps({"event": name, "data": data}) + "\n")
            file.flush()


async def _serve(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    if scope["type"] != "http":
        return
    await send_json(send, {"started": STATE["started"], "lifespan_calls": STATE["lifespan_calls"]})


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """Under the dispatcher: the probe only (the lifespan apps run in their own servers)."""
    await _serve(scope, receive, send)


async def complete_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Startup completes after 0.3 s; shutdown writes its record after 0.3 s, then completes."""
    if scope["type"] != "lifespan":
        await _serve(scope, receive, send)
        return
    STATE["lifespan_calls"] += 1
    _record("lifespan-call", STATE["lifespan_calls"])
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await pause(0.3)
            STATE["started"] = True
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await pause(0.3)
            _record("shutdown-done", True)
            await send({"type": "lifespan.shutdown.complete"})
            return


async def startup_failed_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Startup fails with a message the server should print before exiting."""
    if scope["type"] != "lifespan":
        await _serve(scope, receive, send)
        return
    message = await receive()
    if message["type"] == "lifespan.startup":
        await send({"type": "lifespan.startup.failed", "message": STARTUP_FAILED_MARKER})


async def unsupported_app(scope: Scope, receive: Receive, send: Send) -> None:
    """An app without lifespan support: it raises on the lifespan scope itself."""
    if scope["type"] == "lifespan":
        STATE["lifespan_calls"] += 1
        _record("lifespan-call", STATE["lifespan_calls"])
        raise ValueError("srv_lifespan does not speak lifespan, on purpose")
    await _serve(scope, receive, send)
