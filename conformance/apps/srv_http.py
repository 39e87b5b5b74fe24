"""Raw ASGI apps for the server's HTTP duties (``SRV-*``): echo, framing, misbehaviour.

Standard library only; runs on asyncio and trio. ``/srvhttp/echo/...`` answers what the app
received (scope with types, every ``receive()`` message, the body), so a parsing case can tell
whether bytes reached the application as a request. ``/srvhttp/fault/<name>`` misbehaves on
purpose (raise, return early, send twice, lie about Content-Length). ``/srvhttp/result/<token>``
answers what a recording scenario saw (cross-process events are polled by the cases).

The module sets ``VALIDATE = False``: its apps break the ASGI message rules deliberately, which
must not count against the implementation under test.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

PREFIX = "/srvhttp"
VALIDATE = False

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

RECORDS: dict[str, dict[str, Any]] = {}
RELEASED: set[str] = set()
WAIT_BOUND = 2.0
HEAD_BODY = b"twenty-nine bytes of content."
TIMED_OUT = "timed out"


def tagged(value: Any) -> Any:
    """``value`` as JSON keeping its Python type: ``{"bytes": ...}``, ``{"int": ...}``..."""
    if isinstance(value, bool):
        return {"bool": value}
    if isinstance(value, bytes | bytearray):
        return {type(value).__name__: bytes(value).decode("latin-1")}
    if isinstance(value, str | int | float):
        return {type(value).__name__: value}
    if value is None:
        return {"none": None}
    if isinstance(value, list | tuple):
        return {type(value).__name__: [tagged(item) for item in value]}
    if isinstance(value, dict):
        return {"dict": {str(key): tagged(item) for key, item in value.items()}}
    return {"other": type(value).__name__}


async def pause(seconds: float) -> None:
    """Sleep on whichever event loop runs the server."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        await importlib.import_module("trio").sleep(seconds)
    else:
        await asyncio.sleep(seconds)


async def receive_within(receive: Receive, seconds: float) -> Message | None:
    """``receive()`` bounded by ``seconds``; None when nothing came."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        trio = importlib.import_module("trio")
        result: Message | None = None
        with trio.move_on_after(seconds):
            result = await receive()
        return result
    try:
        return await asyncio.wait_for(receive(), seconds)
    except TimeoutError:
        return None


def describe_message(message: Message) -> dict[str, Any]:
    return {
        "type": message.get("type"),
        "body": tagged(message.get("body", b"")),
        "more_body": tagged(message.get("more_body", False)),
        "keys": sorted(str(key) for key in message),
    }


async def read_all(receive: Receive) -> tuple[list[dict[str, Any]], bytes]:
    """Every message until the body ends (or a disconnect), and the body."""
    messages: list[dict[str, Any]] = []
    body = b""
    while True:
        message = await receive()
        messages.append(describe_message(message))
        if message.get("type") != "http.request":
            return messages, body
        body += message.get("body", b"")
        if not message.get("more_body", False):
            return messages, body


async def answer(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    fields = [(b"content-length", str(len(body)).encode()), *(headers or [])]
    await send({"type": "http.response.start", "status": status, "headers": fields})
    await send({"type": "http.response.body", "body": body})


async def answer_json(send: Send, data: Any, status: int = 200) -> None:
    body = json.dumps(data).encode()
    await answer(send, status, body, [(b"content-type", b"application/json")])


def query(scope: Scope) -> dict[str, str]:
    parsed = parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    return {key: values[-1] for key, values in parsed.items()}


def token_of(scope: Scope) -> str:
    return str(scope["path"]).rstrip("/").rsplit("/", 1)[-1]


# -- request side -------------------------------------------------------------------------------


async def echo(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer the scope (types kept), every message and the body; ``?after=1`` adds what one
    more bounded ``receive()`` returned before the response (it must block)."""
    messages, body = await read_all(receive)
    view = {key: value for key, value in scope.items() if key not in ("state", "extensions")}
    data: dict[str, Any] = {
        "scope": tagged(view),
        "messages": messages,
        "body": body.decode("latin-1"),
    }
    if query(scope).get("digest"):  # large bodies: lengths and a digest instead of the bytes
        for message in messages:  # keeps the type tag, replaces the bytes by their count
            ((kind, inner),) = message["body"].items()
            message["body"] = {kind: str(len(inner))}
        data["body"] = hashlib.sha256(body).hexdigest()
    if query(scope).get("after") and messages[-1]["type"] == "http.request":
        extra = await receive_within(receive, 0.2)
        data["extra"] = None if extra is None else describe_message(extra)
    await answer_json(send, data)


async def noread(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer at once without reading the request body."""
    await answer(send, 200, b"not read")


async def sleep_then_echo(scope: Scope, receive: Receive, send: Send) -> None:
    """Wait ``?ms=`` milliseconds, then answer the path (pipelining order)."""
    await pause(int(query(scope).get("ms", "0")) / 1000)
    await read_all(receive)
    await answer(send, 200, str(scope["path"]).encode())


async def disconnect(scope: Scope, receive: Receive, send: Send) -> None:
    """Read the body, then keep calling ``receive()`` (bounded) and record every message.

    ``?respond=1`` sends a complete response first (receive after the response).
    """
    record: dict[str, Any] = {"messages": [], "done": False}
    RECORDS[token_of(scope)] = record
    if query(scope).get("respond"):
        await answer(send, 200, b"answered")
    for _ in range(64):
        message = await receive_within(receive, WAIT_BOUND)
        record["messages"].append(None if message is None else describe_message(message))
        if message is None:
            break
        if message.get("type") == "http.disconnect":
            again = await receive_within(receive, 0.3)
            record["again"] = None if again is None else describe_message(again)
            break
    record["done"] = True


async def send_after_disconnect(scope: Scope, receive: Receive, send: Send) -> None:
    """Wait for the disconnect, then ``send()``; record what the call did."""
    record: dict[str, Any] = {"done": False}
    RECORDS[token_of(scope)] = record
    while True:
        message = await receive_within(receive, WAIT_BOUND)
        if message is None or message.get("type") == "http.disconnect":
            break
    try:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"late"})
    except Exception as error:  # the spec asks for an OSError subclass
        record.update(raised=type(error).__name__, oserror=isinstance(error, OSError))
    else:
        record.update(raised=None, oserror=False)
    record["done"] = True


async def result(scope: Scope, receive: Receive, send: Send) -> None:
    await answer_json(send, RECORDS.get(token_of(scope)))


async def release(scope: Scope, receive: Receive, send: Send) -> None:
    RELEASED.add(token_of(scope))
    await answer(send, 200, b"released")


# -- response side ------------------------------------------------------------------------------


async def status(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer ``/status/<code>`` with a body (``?body=0``: none) and ``?cl=1`` Content-Length."""
    options = query(scope)
    code = int(token_of(scope))
    body = HEAD_BODY if options.get("body", "1") == "1" else b""
    headers: list[tuple[bytes, bytes]] = [(b"content-type", b"text/plain")]
    if options.get("cl", "1") == "1":
        headers.append((b"content-length", str(len(body)).encode()))
    await read_all(receive)
    await send({"type": "http.response.start", "status": code, "headers": headers})
    if options.get("stream"):
        for piece in (body[:10], body[10:]):
            await send({"type": "http.response.body", "body": piece, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
    else:
        await send({"type": "http.response.body", "body": body})


async def stream(scope: Scope, receive: Receive, send: Send) -> None:
    """Several body messages, no Content-Length; ``?empty=1`` puts empty ones in between,
    ``?cl=1`` declares the length."""
    options = query(scope)
    parts = [b"alpha;", b"beta;", b"gamma;"]
    headers = [(b"content-type", b"text/plain")]
    if options.get("cl"):
        headers.append((b"content-length", str(sum(map(len, parts))).encode()))
    await read_all(receive)
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    for part in parts:
        await send({"type": "http.response.body", "body": part, "more_body": True})
        if options.get("empty"):
            await send({"type": "http.response.body", "body": b"", "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def slow(scope: Scope, receive: Receive, send: Send) -> None:
    """Send ``first;``, wait until ``/release/<token>`` (bounded), then ``second;``."""
    token = token_of(scope)
    await read_all(receive)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"first;", "more_body": True})
    for _ in range(int(WAIT_BOUND / 0.01)):
        if token in RELEASED:
            break
        await pause(0.01)
    await send({"type": "http.response.body", "body": b"second;"})


HEADER_SCENARIOS: dict[str, list[tuple[bytes, bytes]]] = {
    "date": [(b"date", b"Tue, 01 Dec 2026 00:00:00 GMT")],
    "server": [(b"server", b"srvhttp-app")],
    "te": [(b"transfer-encoding", b"chunked")],
    "te-cl": [(b"transfer-encoding", b"chunked"), (b"content-length", b"11")],
    "close": [(b"connection", b"close"), (b"content-length", b"11")],
    "order": [
        (b"x-order", b"1"),
        (b"set-cookie", b"a=1"),
        (b"x-order", b"2"),
        (b"set-cookie", b"b=2"),
        (b"x-order", b"3"),
    ],
    "value-crlf": [(b"x-bad", b"a\r\nx-injected: yes")],
    "value-lf": [(b"x-bad", b"a\nx-injected: yes")],
    "value-cr": [(b"x-bad", b"a\rx-injected: yes")],
    "value-nul": [(b"x-bad", b"a\x00b")],
    "name-crlf": [(b"x-bad\r\nx-injected", b"yes")],
    "name-colon": [(b"x-injected: yes\r\nx-bad", b"v")],
    "name-space": [(b"x bad", b"v")],
}


async def headers(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer ``hello world`` with the app-supplied fields of ``/headers/<scenario>``.

    A refused ``send`` is caught and answered as ``refused:<error>`` (status 200, clean fields),
    so the case sees how the server reacted.
    """
    fields = HEADER_SCENARIOS[token_of(scope)]
    await read_all(receive)
    try:
        await send({"type": "http.response.start", "status": 200, "headers": fields})
        await send({"type": "http.response.body", "body": b"hello ", "more_body": True})
        await send({"type": "http.response.body", "body": b"world"})
    except Exception as error:
        body = f"refused:{type(error).__name__}".encode()
        try:
            await answer(send, 200, body)
        except Exception:
            return


async def status_line(scope: Scope, receive: Receive, send: Send) -> None:
    """Status 299: a code without a registered reason phrase."""
    await read_all(receive)
    await answer(send, 299, b"odd status")


# -- misbehaving applications -------------------------------------------------------------------


class AppFault(Exception):
    """Raised by a scenario on purpose."""


async def start(send: Send, length: int | None = None) -> None:
    fields = [(b"content-type", b"text/plain")]
    if length is not None:
        fields.append((b"content-length", str(length).encode()))
    await send({"type": "http.response.start", "status": 200, "headers": fields})


async def fault(scope: Scope, receive: Receive, send: Send) -> None:
    """``/fault/<name>``: each misbehaviour the server must survive."""
    name = token_of(scope)
    await read_all(receive)
    if name == "raise-before":
        raise AppFault(name)
    if name == "return-without":
        return
    if name in ("raise-after-start", "return-after-start"):
        await start(send)
    elif name in ("raise-mid-cl", "return-mid-cl"):
        await start(send, 20)
        await send({"type": "http.response.body", "body": b"12345", "more_body": True})
    elif name in ("raise-mid-chunked", "return-mid-chunked"):
        await start(send)
        await send({"type": "http.response.body", "body": b"12345", "more_body": True})
    elif name == "cl-long":
        await start(send, 3)
        await send({"type": "http.response.body", "body": b"abcdefghij"})
        return
    elif name == "raise-after-complete":
        await answer(send, 200, b"complete")
    elif name in ("body-after-complete", "start-after-complete"):
        await answer(send, 200, b"complete")
        extra: Message = {"type": "http.response.body", "body": b"EXTRA-BYTES"}
        if name == "start-after-complete":
            extra = {"type": "http.response.start", "status": 500, "headers": []}
        outcome = "accepted"
        try:
            await send(extra)
        except Exception as error:
            outcome = f"raised {type(error).__name__}"
        RECORDS[name + "-" + query(scope).get("token", "")] = {"outcome": outcome}
        return
    if name.startswith("raise"):
        raise AppFault(name)


INVALID_MESSAGES: dict[str, Message] = {
    "unknown-type": {"type": "http.response.bogus", "status": 200},
    "status-str": {"type": "http.response.start", "status": "200", "headers": []},
    "header-str": {"type": "http.response.start", "status": 200, "headers": [("x-a", "b")]},
    "missing-status": {"type": "http.response.start", "headers": []},
    "start-twice": {"type": "http.response.start", "status": 201, "headers": []},
}


async def invalid(scope: Scope, receive: Receive, send: Send) -> None:
    """Send one invalid message (``/invalid/<name>``), then a correct response whose body says
    whether the server raised (``raised``) or took it (``accepted``).

    ``start-twice`` sends a valid start first; ``extra-key`` sends messages with an unknown key
    (which must not raise).
    """
    name = token_of(scope)
    await read_all(receive)
    if name == "extra-key":
        fields = [(b"content-length", b"2")]
        start_message = {"type": "http.response.start", "status": 200, "headers": fields}
        try:
            await send({**start_message, "x-future-key": True})
            await send({"type": "http.response.body", "body": b"ok", "x-future-key": 1})
        except Exception as error:
            await answer(send, 200, f"raised {type(error).__name__}".encode())
        return
    if name == "start-twice":
        await send({"type": "http.response.start", "status": 200, "headers": []})
    outcome = b"accepted"
    try:
        await send(INVALID_MESSAGES[name])
    except Exception:
        outcome = b"raised"
    RECORDS[query(scope).get("token", "")] = {"outcome": outcome.decode()}
    if name == "start-twice":
        await send({"type": "http.response.body", "body": outcome})
    else:
        await answer(send, 200, outcome)


ROUTES: dict[str, Callable[[Scope, Receive, Send], Awaitable[None]]] = {
    "echo": echo,
    "noread": noread,
    "sleep": sleep_then_echo,
    "disconnect": disconnect,
    "late-send": send_after_disconnect,
    "result": result,
    "release": release,
    "status": status,
    "stream": stream,
    "slow": slow,
    "headers": headers,
    "status-line": status_line,
    "fault": fault,
    "invalid": invalid,
}


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """Dispatch ``/srvhttp/<route>[/...]``; only HTTP."""
    if scope["type"] != "http":
        await send({"type": "websocket.close", "code": 1008})
        return
    path = str(scope["path"])
    if path.startswith(("http://", "https://")):  # absolute-form target passed as path
        path = "/" + path.split("/", 3)[-1]
    parts = path.split("/")
    handler = ROUTES.get(parts[2] if len(parts) > 2 else "")
    if handler is None:
        await answer(send, 404, b"unknown srvhttp scenario")
        return
    await handler(scope, receive, send)
