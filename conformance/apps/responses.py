"""Scenario apps for the responses area: each builds one implementation response.

``/responses/<name>[/<token>]`` picks a scenario. Scenarios that must report what happened
inside the server (ASGI messages sent, a generator's ``finally``, an exception) store a record
under the token; ``/responses/result/<token>`` answers it as JSON (``null`` until there is one).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

from . import _impl
from ._plumbing import Message, Receive, Scope, Send, wait_for
from ._plumbing import pause as _pause
from ._plumbing import read_body as _read_body
from ._plumbing import send_json as _json

PREFIX = "/responses"


RESULTS: dict[str, dict[str, Any]] = {}
RELEASED: set[str] = set()

STREAM_CHUNKS = [b"one;", b"two;", b"three;"]
GATE_SECONDS = 3.0
TICK_SECONDS = 0.01
ENDLESS_MAX = 1000
COOKIE_DATE = datetime(2031, 2, 3, 4, 5, 6, tzinfo=UTC)
TEXT = "h\u00e9llo w\u00f6rld \u20ac \U0001f600"
BINARY = b"\x00\xff\r\n raw \x80"
JSON_VALUE = {"b": 1, "a": [1, 2.5, None, True, False], "s": "\u00e9\u20ac\U0001f600", "e": {}}
IRI = "/caf\u00e9/\u6f22\u5b57?q=\u00fc&x=1#fr\u00e4g"
ESCAPED = "/a%20b/%C3%A9?x=%2F&y=%25"
ABSOLUTE = "https://example.com/p\u00e4th?q=a/b&r=%41#top"


def _token(scope: Scope) -> str:
    return str(scope["path"].rsplit("/", 1)[-1])


def _describe(message: Message) -> dict[str, Any]:
    """An ASGI message as JSON: bytes as latin-1 text."""
    out: dict[str, Any] = {"type": message["type"]}
    if "status" in message:
        out["status"] = message["status"]
    if "headers" in message:
        out["headers"] = [
            [bytes(n).decode("latin-1"), bytes(v).decode("latin-1")] for n, v in message["headers"]
        ]
    if "body" in message:
        out["body"] = bytes(message["body"]).decode("latin-1")
    if message["type"] == "http.response.body":
        out["more_body"] = bool(message.get("more_body", False))
    return out


# -- plain responses: name -> factory ------------------------------------------------------------


def _base() -> Any:
    return _impl.asgi.Response(200, {"X-Custom": "Value With  Spaces", "x-empty": "", "x-b": "b"})


def _base_mutated() -> Any:
    response = _impl.asgi.Response(202)
    response.headers["x-late"] = "set after construction"
    response.headers.append("x-multi", "first")
    response.headers.append("x-multi", "second")
    return response


COOKIE_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("plain", {"value": "v1"}),
    (
        "full",
        {
            "value": "v2",
            "max_age": 3600,
            "path": "/sub",
            "domain": "example.com",
            "secure": True,
            "httponly": True,
            "samesite": "strict",
        },
    ),
    ("dated", {"value": "v3", "expires": COOKIE_DATE}),
    ("relative", {"value": "v4", "expires": 3600}),
    ("cross", {"value": "v5", "secure": True, "samesite": "none"}),
    ("nosite", {"value": "v6", "samesite": None}),
    ("laxed", {"value": "v7", "samesite": "lax"}),
]


def _cookies() -> Any:
    """Seven ``set_cookie`` calls, each on its own: a call the implementation refuses (e.g. an
    ``expires`` type API.md does not name) is listed in ``x-cookie-refused`` as
    ``name:ExceptionClass`` instead of taking the other six cookies down with it."""
    response = _impl.asgi.Response(200)
    refused = []
    for key, kwargs in COOKIE_CALLS:
        try:
            response.set_cookie(key, **kwargs)
        except Exception as error:  # reported, judged by the case about that cookie
            refused.append(f"{key}:{type(error).__name__}")
    if refused:
        response.headers["x-cookie-refused"] = ",".join(refused)
    return response


def _delete_cookie() -> Any:
    response = _impl.asgi.Response(200)
    response.delete_cookie("gone", path="/area", domain="example.org")
    return response


async def _one_chunk() -> AsyncIterator[bytes]:
    yield b"x"


async def _chunks(chunks: list[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


def _set_bad_header() -> Any:
    response = _impl.asgi.Response(200)
    response.headers["x-bad"] = "a\nx-injected: yes"
    return response


def _bad_cookie(**kwargs: Any) -> Callable[[], Any]:
    def build() -> Any:
        response = _impl.asgi.Response(200)
        response.set_cookie(**kwargs)
        return response

    return build


def _redirect(url: str, status: int | None = None) -> Callable[[], Any]:
    def build() -> Any:
        if status is None:
            return _impl.asgi.RedirectResponse(url)
        return _impl.asgi.RedirectResponse(url, status)

    return build


def _small(cls: str, content: Any, *args: Any, **kwargs: Any) -> Callable[[], Any]:
    def build() -> Any:
        return getattr(_impl.asgi, cls)(content, *args, **kwargs)

    return build


FACTORIES: dict[str, Callable[[], Any]] = {
    "base": _base,
    "base-default": lambda: _impl.asgi.Response(),
    "base-mutated": _base_mutated,
    "status-418": lambda: _impl.asgi.Response(418),
    "status-599": lambda: _impl.asgi.Response(599),
    "cookies": _cookies,
    "delete-cookie": _delete_cookie,
    "empty-204": lambda: _impl.asgi.Response(204),
    "small-204": _small("PlainTextResponse", "content", 204),
    "empty-304": lambda: _impl.asgi.Response(304, {"etag": '"v1"'}),
    "small-304": _small("PlainTextResponse", "content", 304, {"etag": '"v1"'}),
    "text": _small("PlainTextResponse", TEXT),
    "text-bytes": _small("PlainTextResponse", BINARY),
    "text-csv": _small("PlainTextResponse", "a,b\r\n1,2\r\n", media_type="text/csv"),
    "xml": _small("PlainTextResponse", "<a>\u00e9</a>", media_type="application/xml"),
    "latin-1": _small("PlainTextResponse", "h\u00e9llo \u00ff", charset="latin-1"),
    "text-201": _small("PlainTextResponse", "created", 201),
    "text-418": _small("PlainTextResponse", "teapot", 418),
    "text-503": _small("PlainTextResponse", "unavailable", 503, {"retry-after": "120"}),
    "text-given-type": _small("PlainTextResponse", "x", headers={"content-type": "text/x-given"}),
    "html": _small("HTMLResponse", "<p>" + TEXT + "</p>"),
    "html-bytes": _small("HTMLResponse", b"<p>\xc3\xa9</p>"),
    "json": _small("JSONResponse", JSON_VALUE),
    "json-kwargs": _small(
        "JSONResponse", JSON_VALUE, indent=2, sort_keys=True, separators=(",", ": ")
    ),
    "json-ascii": _small("JSONResponse", JSON_VALUE, ensure_ascii=True),
    "redirect": _redirect("/target?x=1"),
    "redirect-301": _redirect("/target?x=1", 301),
    "redirect-302": _redirect("/target?x=1", 302),
    "redirect-303": _redirect("/target?x=1", 303),
    "redirect-307": _redirect("/target?x=1", 307),
    "redirect-308": _redirect("/target?x=1", 308),
    "redirect-iri": _redirect(IRI),
    "redirect-escaped": _redirect(ESCAPED),
    "redirect-absolute": _redirect(ABSOLUTE),
    "redirect-headers": lambda: _impl.asgi.RedirectResponse("/t", 303, {"x-extra": "kept"}),
    "stream-default": lambda: _impl.asgi.StreamResponse(_one_chunk()),
    "stream-custom": lambda: _impl.asgi.StreamResponse(
        _one_chunk(), 201, {"x-stream": "yes"}, content_type="application/x-ndjson"
    ),
    "stream-empty": lambda: _impl.asgi.StreamResponse(_chunks([])),
}

# Inputs that must be refused (ValueError or RuntimeError) before anything is sent.
REFUSALS: dict[str, Callable[[], Any]] = {
    "header-value-crlf": lambda: _impl.asgi.Response(200, {"x-bad": "a\r\nx-injected: yes"}),
    "header-value-lf": _small("PlainTextResponse", "x", headers={"x-bad": "a\nx-injected: yes"}),
    "header-value-cr": lambda: _impl.asgi.StreamResponse(_one_chunk(), headers={"x-bad": "a\rb"}),
    "header-value-set": _set_bad_header,
    "header-name-crlf": lambda: _impl.asgi.Response(200, {"x-bad\r\nx-injected": "yes"}),
    "header-name-colon": lambda: _impl.asgi.Response(200, {"x-bad: x-injected": "yes"}),
    "media-type-crlf": _small("PlainTextResponse", "x", media_type="text/plain\r\nx-injected: y"),
    "cookie-value-crlf": _bad_cookie(key="c", value="a\r\nx-injected: yes"),
    "cookie-value-semicolon": _bad_cookie(key="c", value="a; Domain=evil.example"),
    "cookie-name-equals": _bad_cookie(key="c=d", value="v"),
    "cookie-path-crlf": _bad_cookie(key="c", value="v", path="/\r\nx-injected: yes"),
    "cookie-path-semicolon": _bad_cookie(key="c", value="v", path="/; Domain=evil.example"),
    "cookie-domain-crlf": _bad_cookie(key="c", value="v", domain="a.example\r\nx: y"),
    "redirect-crlf": _redirect("/a\r\nx-injected: yes"),
    "redirect-lf": _redirect("/a\nx-injected: yes"),
    "redirect-cr": _redirect("/a\rx-injected: yes"),
    "json-nan": _small("JSONResponse", {"n": float("nan")}),
    "json-infinity": _small("JSONResponse", [float("inf")]),
}


async def plain(name: str, scope: Scope, receive: Receive, send: Send) -> None:
    """Build the named response and let it answer."""
    await FACTORIES[name]()(scope, receive, send)


async def refuse(scope: Scope, receive: Receive, send: Send) -> None:
    """Build a response from bad input; answer what was raised and what it tried to send."""
    sent: list[dict[str, Any]] = []

    async def record(message: Message) -> None:
        sent.append(_describe(message))

    try:
        response = REFUSALS[_token(scope)]()
        await response(scope, receive, record)
    except Exception as error:
        mro = [cls.__name__ for cls in type(error).__mro__]
        await _json(send, {"raised": True, "mro": mro, "message": str(error), "sent": sent})
        return
    await _json(send, {"raised": False, "sent": sent})


async def json_echo(scope: Scope, receive: Receive, send: Send) -> None:
    """Parse the request body with the stdlib and answer it through ``JSONResponse``."""
    value = json.loads(await _read_body(receive))
    await _impl.asgi.JSONResponse(value)(scope, receive, send)


async def stream_recorded(scope: Scope, receive: Receive, send: Send) -> None:
    """Stream ``STREAM_CHUNKS``; record every ASGI message the response sends."""
    messages: list[dict[str, Any]] = []
    RESULTS[_token(scope)] = {"messages": messages}

    async def record(message: Message) -> None:
        messages.append(_describe(message))
        await send(message)

    await _impl.asgi.StreamResponse(_chunks(STREAM_CHUNKS))(scope, receive, record)


async def recorded(scope: Scope, receive: Receive, send: Send) -> None:
    """``/recorded/<name>/<token>``: answer with the named response, recording its messages."""
    parts = scope["path"].split("/")
    messages: list[dict[str, Any]] = []
    RESULTS[parts[-1]] = {"messages": messages}

    async def record(message: Message) -> None:
        messages.append(_describe(message))
        await send(message)

    await FACTORIES[parts[-2]]()(scope, receive, record)


async def stream_gated(scope: Scope, receive: Receive, send: Send) -> None:
    """Yield one chunk, then wait (bounded) until ``/release/<token>`` before the second."""
    token = _token(scope)

    async def chunks() -> AsyncIterator[bytes]:
        yield b"first;"
        released = await wait_for(lambda: token in RELEASED, GATE_SECONDS, TICK_SECONDS)
        yield b"second;" if released else b"timed-out;"

    await _impl.asgi.StreamResponse(chunks())(scope, receive, send)


async def release(scope: Scope, receive: Receive, send: Send) -> None:
    """Open the gate of ``stream_gated`` for the token."""
    RELEASED.add(_token(scope))
    await _json(send, {"released": True})


async def stream_endless(scope: Scope, receive: Receive, send: Send) -> None:
    """Stream a tick every ``TICK_SECONDS`` (at most ``ENDLESS_MAX``); record the disconnect.

    The record says how many chunks the generator produced (in all, and when the client was
    first seen gone: ``receive`` answered ``http.disconnect`` or a send raised), whether its
    ``finally`` ran, how many sends started after that, and what (if anything) escaped.
    """
    record: dict[str, Any] = {
        "produced": 0,
        "finally": False,
        "disconnect_seen": False,
        "sends_after_disconnect": 0,
        "send_errors": 0,
        "sends_after_error": 0,
        "done": False,
        "escaped": None,
        "produced_when_gone": None,
    }
    RESULTS[_token(scope)] = record

    def gone() -> None:
        if record["produced_when_gone"] is None:
            record["produced_when_gone"] = record["produced"]

    async def ticks() -> AsyncIterator[bytes]:
        try:
            for index in range(ENDLESS_MAX):
                record["produced"] = index + 1
                yield b"tick-%05d;" % index
                await _pause(TICK_SECONDS)
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
        try:
            await send(message)
        except BaseException:
            record["send_errors"] += 1
            gone()
            raise

    try:
        await _impl.asgi.StreamResponse(ticks())(scope, watched_receive, watched_send)
    except BaseException as error:
        record["escaped"] = type(error).__name__
        raise
    finally:
        record["done"] = True


async def result(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer the record stored under the token (``null`` if none yet)."""
    await _json(send, RESULTS.get(_token(scope)))


ROUTES = {
    "refuse": refuse,
    "json-echo": json_echo,
    "stream": stream_recorded,
    "recorded": recorded,
    "stream-gated": stream_gated,
    "release": release,
    "stream-endless": stream_endless,
    "result": result,
}


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """Dispatch ``/responses/<name>[/<token>]`` with a plain dict."""
    if scope["type"] != "http":
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
        return
    parts = scope["path"].split("/")
    name = parts[2] if len(parts) > 2 else ""
    handler = ROUTES.get(name)
    if handler is not None:
        await handler(scope, receive, send)
    elif name in FACTORIES:
        await plain(name, scope, receive, send)
    else:
        await _json(send, {"error": "unknown scenario"}, status=404)
