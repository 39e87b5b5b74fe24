"""Scenario apps for the server-sent events area: each answers with ``SendEventResponse``.

``/sse/<name>[/<token>]`` picks a scenario. ``echo`` takes a JSON body ``{"events": [...],
"status": int, "headers": {...}, "ping": float}`` and sends those events. Scenarios that must
report what happened inside the server (an error the response raised, a generator's
``finally``, sends after a disconnect) store a record under the token;
``/sse/result/<token>`` answers it as JSON (``null`` until there is one).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from . import _impl
from ._plumbing import Message, Receive, Scope, Send, gate
from ._plumbing import pause as _pause
from ._plumbing import read_body as _read_body
from ._plumbing import send_json as _json

PREFIX = "/sse"


RESULTS: dict[str, dict[str, Any]] = {}
# The endless generators, kept alive so that only the response can close them (not GC).
KEPT: dict[str, Any] = {}
RELEASED: set[str] = set()

GATE_SECONDS = 8.0
TICK_SECONDS = 0.01
ENDLESS_MAX = 1000
RESUME_IDS = ["e-1", "e-2", "e-3", "e-4", "e-5", "e-6"]
BASIC_EVENTS = [{"event": "greeting", "data": "hello", "id": "1"}, {"data": "second"}]


def _token(scope: Scope) -> str:
    return str(scope["path"].rsplit("/", 1)[-1])


def _query(scope: Scope, name: str, default: str) -> str:
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get(name)
    return values[0] if values else default


def _ping(scope: Scope) -> dict[str, float]:
    """``ping_interval`` from the query (absent: the implementation's default)."""
    value = _query(scope, "ping", "")
    return {"ping_interval": float(value)} if value else {}


async def _events(events: list[dict[str, Any]]) -> AsyncIterator[Any]:
    for event in events:
        yield event


async def _gate(token: str, record: dict[str, Any]) -> None:
    """Wait (bounded) until ``/sse/release/<token>``; record how the wait ended."""
    await gate(RELEASED, token, record, GATE_SECONDS, TICK_SECONDS)


async def _run(response: Any, scope: Scope, receive: Receive, send: Send, record: Any) -> None:
    """Let ``response`` answer; store what escaped it (type names of its MRO) in ``record``.

    An exception that escaped is raised again after it was recorded: the scenario stays
    transparent, so the server (and the ASGI validator) see what the implementation did. A
    response that raises mid-stream leaves its response incomplete, which ASGI allows for an
    app that raises; swallowing it here would turn it into a normal return with an incomplete
    response (ASGI-APP-HTTP-COMPLETE) and leave some servers waiting for the end of the body.
    """
    escaped: Exception | None = None
    try:
        await response(scope, receive, send)
    except Exception as error:
        escaped = error
        record["error"] = [cls.__name__ for cls in type(error).__mro__]
        record["message"] = str(error)
    record["done"] = True
    if escaped is not None:
        raise escaped


async def echo(scope: Scope, receive: Receive, send: Send) -> None:
    """Send the events of the JSON body; record an error the response raised."""
    spec = json.loads(await _read_body(receive))
    record: dict[str, Any] = {"error": None, "done": False}
    RESULTS[_token(scope)] = record
    options: dict[str, Any] = {}
    if "status" in spec:
        options["status_code"] = spec["status"]
    if "headers" in spec:
        options["headers"] = spec["headers"]
    if "ping" in spec:
        options["ping_interval"] = spec["ping"]
    response = _impl.asgi.SendEventResponse(_events(spec["events"]), **options)
    await _run(response, scope, receive, send, record)


async def basic(scope: Scope, receive: Receive, send: Send) -> None:
    """``BASIC_EVENTS`` with every default of ``SendEventResponse``."""
    # Fresh dicts per request: API.md does not promise that the response leaves the event
    # dicts it was given unchanged (the published baize pops "data" while encoding).
    events = [dict(event) for event in BASIC_EVENTS]
    await _impl.asgi.SendEventResponse(_events(events))(scope, receive, send)


async def gated(scope: Scope, receive: Receive, send: Send) -> None:
    """Send ``start``, wait for the release (or a disconnect), send ``end``.

    The record says how the wait ended and whether the generator's ``finally`` ran.
    """
    token = _token(scope)
    record: dict[str, Any] = {"gate": None, "finally": False, "error": None, "done": False}
    RESULTS[token] = record

    async def events() -> AsyncIterator[Any]:
        try:
            yield {"data": "start"}
            await _gate(token, record)
            yield {"data": "end" if record["gate"] == "released" else "timed-out"}
        finally:
            record["finally"] = True

    response = _impl.asgi.SendEventResponse(events(), **_ping(scope))
    await _run(response, scope, receive, send, record)


async def busy(scope: Scope, receive: Receive, send: Send) -> None:
    """Send ``count`` events ``gap`` seconds apart (faster than the ping interval)."""
    count = int(_query(scope, "count", "15"))
    gap = float(_query(scope, "gap", "0.03"))

    async def events() -> AsyncIterator[Any]:
        for index in range(count):
            yield {"data": f"busy-{index}"}
            await _pause(gap)

    await _impl.asgi.SendEventResponse(events(), **_ping(scope))(scope, receive, send)


async def failing(scope: Scope, receive: Receive, send: Send) -> None:
    """Send two events, then raise ``RuntimeError`` from the generator."""
    record: dict[str, Any] = {"error": None, "done": False}
    RESULTS[_token(scope)] = record

    async def events() -> AsyncIterator[Any]:
        yield {"data": "before-1"}
        yield {"data": "before-2"}
        raise RuntimeError("generator failed on purpose")

    await _run(_impl.asgi.SendEventResponse(events()), scope, receive, send, record)


async def endless(scope: Scope, receive: Receive, send: Send) -> None:
    """An event every ``TICK_SECONDS`` (at most ``ENDLESS_MAX``); record the disconnect.

    The record counts sends started after ``receive`` answered ``http.disconnect`` or after
    a send raised, and whether the generator's ``finally`` ran.
    """
    record: dict[str, Any] = {
        "produced": 0,
        "finally": False,
        "disconnect_seen": False,
        "sends_after_disconnect": 0,
        "send_errors": 0,
        "sends_after_error": 0,
        "error": None,
        "done": False,
        "produced_when_gone": None,
    }
    RESULTS[_token(scope)] = record

    def gone() -> None:
        if record["produced_when_gone"] is None:
            record["produced_when_gone"] = record["produced"]

    async def events() -> AsyncIterator[Any]:
        try:
            for index in range(ENDLESS_MAX):
                record["produced"] = index + 1
                yield {"data": f"tick-{index}", "id": str(index)}
        finally:
            record["finally"] = True

    async def watched_receive() -> Message:
        message = await receive()
        if message["type"] == "http.disconnect":
            record["disconnect_seen"] = True
            gone()
        return message

    async def watched_send(message: Message) -> None:
        if record["disconnect_seen"]:
            record["sends_after_disconnect"] += 1
        if record["send_errors"]:
            record["sends_after_error"] += 1
        if message["type"] == "http.response.body" and message.get("more_body", False):
            # Paced here, not in the generator: a disconnect then finds the generator
            # suspended at its yield, so only closing it (not a cancellation) runs its finally.
            await _pause(TICK_SECONDS)
        try:
            await send(message)
        except BaseException:
            record["send_errors"] += 1
            gone()
            raise

    generator = events()
    KEPT[_token(scope)] = generator
    response = _impl.asgi.SendEventResponse(generator)
    await _run(response, scope, watched_receive, watched_send, record)


async def resume(scope: Scope, receive: Receive, send: Send) -> None:
    """``RESUME_IDS`` in order, starting after the ``Last-Event-ID`` the request carries.

    The header is read through the implementation's ``Request.headers``; the response
    header ``x-last-event-id-read`` names what was read (repr), so the client can check it
    without relying on comment support (SSE-COMMENT-*).
    """
    request = _impl.asgi.Request(scope, receive)
    last = request.headers.get("last-event-id")
    start = RESUME_IDS.index(last) + 1 if last in RESUME_IDS else 0

    async def events() -> AsyncIterator[Any]:
        for event_id in RESUME_IDS[start:]:
            yield {"id": event_id, "data": f"payload of {event_id}"}

    headers = {"x-last-event-id-read": repr(last)}
    await _impl.asgi.SendEventResponse(events(), headers=headers)(scope, receive, send)


async def release(scope: Scope, receive: Receive, send: Send) -> None:
    """Open the gate of ``gated`` for the token."""
    RELEASED.add(_token(scope))
    await _json(send, {"released": True})


async def result(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer the record stored under the token (``null`` if none yet)."""
    await _json(send, RESULTS.get(_token(scope)))


ROUTES: dict[str, Callable[[Scope, Receive, Send], Awaitable[None]]] = {
    "echo": echo,
    "basic": basic,
    "gated": gated,
    "busy": busy,
    "failing": failing,
    "endless": endless,
    "resume": resume,
    "release": release,
    "result": result,
}


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """Dispatch ``/sse/<name>[/<token>]`` with a plain dict."""
    if scope["type"] != "http":
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
        return
    parts = scope["path"].split("/")
    handler = ROUTES.get(parts[2] if len(parts) > 2 else "")
    if handler is None:
        body = b"no such sse scenario"
        headers = [(b"content-type", b"text/plain"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": 404, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return
    await handler(scope, receive, send)
