"""Plain-ASGI plumbing shared by the scenario apps: the ASGI type aliases, a loop-neutral pause,
a bounded wait, JSON answers and body reading (standard library only; not a scenario)."""

from __future__ import annotations

import asyncio
import importlib
import json
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


async def pause(seconds: float) -> None:
    """Sleep on whichever event loop runs the server (asyncio-compatible or trio)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        await importlib.import_module("trio").sleep(seconds)
    else:
        await asyncio.sleep(seconds)


async def wait_for(condition: Callable[[], bool], seconds: float, tick: float) -> bool:
    """Pause every ``tick`` seconds until ``condition()`` holds or ``seconds`` have passed;
    return whether it holds (a bounded wait on something another request sets)."""
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        await pause(tick)
    return condition()


async def gate(
    released: set[str], token: str, record: dict[str, Any], seconds: float, tick: float
) -> None:
    """Wait (bounded) until ``token`` is in ``released`` (another request adds it); record how
    the wait ended in ``record["gate"]``: released, timed-out, or interrupted (cancelled)."""
    record["gate"] = "waiting"
    try:
        opened = await wait_for(lambda: token in released, seconds, tick)
    except BaseException:
        record["gate"] = "interrupted"
        raise
    record["gate"] = "released" if opened else "timed-out"


def jsonable(value: Any) -> Any:
    """``value`` as JSON can carry it: bytes as latin-1 text, other objects as their repr."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, bytes):
        return {"bytes": value.decode("latin-1")}
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    return {"repr": repr(value)}


async def send_json(send: Send, data: Any, status: int = 200) -> None:
    """Answer ``data`` as a JSON body with an exact Content-Length."""
    body = json.dumps(data).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def read_body(receive: Receive) -> bytes:
    """The whole request body (what arrived before a disconnect, if one came)."""
    body = b""
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return body
        chunk: bytes = message.get("body", b"")
        body += chunk
        if not message.get("more_body", False):
            return body
