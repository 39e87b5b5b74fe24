"""Scenario apps for HTTPConnection and Request (conformance/requirements/request.toml).

Each view builds the implementation's ``HTTPConnection`` or ``Request`` from the scope the
server gave and answers, as JSON built with the standard library, what the implementation
computed. A property that raises is reported as ``{"raised": "Type: message"}``, so one
broken property cannot hide the others. An ``HTTPException`` is rendered here (status and
content), since rendering is a framework's job. Views that emulate what a server could send
but a real one refuses (a root path, a malformed Content-Length) change a copy of the scope,
named by ``x-emulate-*`` request headers.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from . import _impl
from ._plumbing import Message, Receive, Scope, Send, pause
from ._plumbing import jsonable as _jsonable

PREFIX = "/request"


RECORDS: dict[str, dict[str, Any]] = {}
DISCONNECT_WAIT = 5.0
DISCONNECT_POLL = 0.01


# -- helpers --------------------------------------------------------------------------------------


def _try(compute: Callable[[], Any]) -> dict[str, Any]:
    """``{"ok": value}`` or ``{"raised": "Type: message"}``."""
    try:
        return {"ok": _jsonable(compute())}
    except Exception as error:  # report whatever the implementation raised
        return {"raised": f"{type(error).__name__}: {error}"}


def _raised(error: BaseException) -> dict[str, Any]:
    return {
        "type": type(error).__name__,
        "mro": [cls.__name__ for cls in type(error).__mro__],
        "message": str(error),
    }


async def _answer(send: Send, data: Any, status: int = 200) -> None:
    body = json.dumps(data).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _render_http_exception(send: Send, error: Any, **extra: Any) -> None:
    """Render the implementation's HTTPException: its status, its content as a string, and
    any ``extra`` observations of the view beside it."""
    data = _raised(error)
    data["content"] = None if error.content is None else str(error.content)
    await _answer(send, {"http_exception": data, **extra}, status=int(error.status_code))


def _query(scope: Scope) -> dict[str, list[str]]:
    """The scenario's own options, parsed with the standard library (not the implementation)."""
    options: dict[str, list[str]] = {}
    query = scope.get("query_string", b"").decode("latin-1")
    for key, value in parse_qsl(query, keep_blank_values=True):
        options.setdefault(key, []).append(value)
    return options


def _raw_header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


def _emulated(scope: Scope) -> Scope:
    """A copy of ``scope`` changed as the ``x-emulate-*`` headers say."""
    scope = dict(scope)
    scheme = _raw_header(scope, b"x-emulate-scheme")
    if scheme is not None:
        scope["scheme"] = scheme
    length = _raw_header(scope, b"x-emulate-content-length")
    if length is not None:
        headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"content-length"]
        scope["headers"] = [*headers, (b"content-length", length.encode("latin-1"))]
    return scope


def _regular_fds() -> set[str] | None:
    """The regular files this process holds open (``/proc/self/fd``), or None off Linux."""
    directory = "/proc/self/fd"
    if not os.path.isdir(directory):
        return None
    found = set()
    for name in os.listdir(directory):
        try:
            if stat.S_ISREG(os.stat(os.path.join(directory, name)).st_mode):
                found.add(name + ":" + os.readlink(os.path.join(directory, name)))
        except OSError:
            continue
    return found


# -- HTTPConnection -------------------------------------------------------------------------------


async def mapping_view(scope: Scope, receive: Receive, send: Send) -> None:
    """Mapping behaviour of HTTPConnection over the real scope."""
    conn = _impl.asgi.HTTPConnection(scope, receive, send)

    def assign() -> str:
        try:
            conn["injected"] = 1
        except TypeError:
            return "refused"
        return "assigned"

    other = dict(scope, path=scope["path"] + "/other")
    await _answer(
        send,
        {
            "getitem_path": _try(lambda: conn["path"] == scope["path"]),
            "getitem_missing": _try(lambda: conn["no-such-key"]),
            "get_path": _try(lambda: conn.get("path") == scope["path"]),
            "get_default": _try(lambda: conn.get("no-such-key", "fallback")),
            "keys": _try(lambda: sorted(conn.keys()) == sorted(scope.keys())),
            "len": _try(lambda: len(conn) == len(scope)),
            "items": _try(lambda: dict(conn.items()) == dict(scope)),
            "values": _try(lambda: len(list(conn.values())) == len(scope)),
            "contains": _try(lambda: ("headers" in conn, "no-such-key" in conn)),
            "eq_same_scope": _try(lambda: conn == _impl.asgi.HTTPConnection(scope, receive, send)),
            "eq_other_scope": _try(lambda: conn == _impl.asgi.HTTPConnection(other, receive, send)),
            "eq_other_receive": _try(lambda: conn == _impl.asgi.HTTPConnection(scope)),
            "eq_dict": _try(lambda: conn == dict(scope)),
            "is_mapping": isinstance(conn, Mapping),
            "assign": _try(assign),
        },
    )


async def client_view(scope: Scope, receive: Receive, send: Send) -> None:
    """``client`` from the server's scope, and from scopes without one."""
    conn = _impl.asgi.HTTPConnection(scope)
    without = {key: value for key, value in scope.items() if key != "client"}
    none = dict(scope, client=None)

    def address(connection: Any) -> Any:
        client = connection.client
        return {"tuple": list(client), "host": client.host, "port": client.port}

    await _answer(
        send,
        {
            "scope_client": _jsonable(scope.get("client")),
            "client": _try(lambda: address(conn)),
            "absent": _try(lambda: address(_impl.asgi.HTTPConnection(without))),
            "none": _try(lambda: address(_impl.asgi.HTTPConnection(none))),
        },
    )


def _url_record(conn: Any) -> dict[str, Any]:
    return {
        "str": _try(lambda: str(conn.url)),
        "scheme": _try(lambda: conn.url.scheme),
        "netloc": _try(lambda: conn.url.netloc),
        "path": _try(lambda: conn.url.path),
        "query": _try(lambda: conn.url.query),
    }


async def url_view(scope: Scope, receive: Receive, send: Send) -> None:
    """``url`` of the (possibly emulated) scope, and the scope parts it came from."""
    scope = _emulated(scope)
    record = _url_record(_impl.asgi.HTTPConnection(scope))
    record["scope"] = _jsonable(
        {key: scope.get(key) for key in ("scheme", "server", "path", "root_path", "query_string")}
    )
    await _answer(send, record)


async def rooted_view(scope: Scope, receive: Receive, send: Send) -> None:
    """Emulate a server with a root path: ``/request/rooted/REST`` gets path ``/REST`` and
    root_path from ``x-emulate-root-path`` (uvicorn style when REST starts with it)."""
    scope = dict(scope)
    scope["path"] = scope["path"][len(PREFIX + "/rooted") :] or "/"
    scope["root_path"] = _raw_header(scope, b"x-emulate-root-path") or ""
    await _answer(send, _url_record(_impl.asgi.HTTPConnection(scope)))


async def params_view(scope: Scope, receive: Receive, send: Send) -> None:
    """``path_params`` of the scope as given, and of a copy that carries some."""
    given = {"name": "value", "number": 7}
    await _answer(
        send,
        {
            "default": _try(lambda: _impl.asgi.HTTPConnection(scope).path_params),
            "set": _try(
                lambda: _impl.asgi.HTTPConnection(dict(scope, path_params=given)).path_params
            ),
        },
    )


async def query_view(scope: Scope, receive: Receive, send: Send) -> None:
    """``query_params``: every pair in order and ``getlist`` of each key."""
    conn = _impl.asgi.HTTPConnection(scope)

    def pairs() -> Any:
        return [list(pair) for pair in conn.query_params.multi_items()]

    def lists() -> Any:
        return {key: conn.query_params.getlist(key) for key in conn.query_params}

    await _answer(send, {"pairs": _try(pairs), "getlist": _try(lists)})


async def headers_view(scope: Scope, receive: Receive, send: Send) -> None:
    """``headers``: ``get``, ``getlist`` and ``in`` for every ``probe`` name of the query."""
    conn = _impl.asgi.HTTPConnection(scope)
    probes = {}
    for name in _query(scope).get("probe", []):
        probes[name] = {
            "get": _try(lambda name=name: conn.headers.get(name)),  # type: ignore[misc]
            "getitem": _try(lambda name=name: conn.headers[name]),  # type: ignore[misc]
            "getlist": _try(lambda name=name: list(conn.headers.getlist(name))),  # type: ignore[misc]
            "in": _try(lambda name=name: name in conn.headers),  # type: ignore[misc]
        }

    def assign() -> str:
        try:
            conn.headers["x-injected"] = "1"
        except (TypeError, AttributeError):
            return "refused"
        return "assigned"

    await _answer(send, {"probes": probes, "assign": _try(assign)})


async def cookies_view(scope: Scope, receive: Receive, send: Send) -> None:
    """``cookies`` as a dict."""
    conn = _impl.asgi.HTTPConnection(scope)
    await _answer(send, {"cookies": _try(lambda: dict(conn.cookies))})


async def accept_view(scope: Scope, receive: Receive, send: Send) -> None:
    """``accepted_types`` in order, and ``accepts(t)`` for every ``check`` of the query."""
    conn = _impl.asgi.HTTPConnection(scope)

    def types(name: str = "accepted_types") -> Any:
        return [
            {
                "media_type": getattr(media, "media_type", None),
                "q": getattr(media, "q", None),
                "params": _jsonable(getattr(media, "params", None)),
                "text": str(media),
            }
            for media in getattr(conn, name)
        ]

    checks = {
        name: _try(lambda name=name: conn.accepts(name))  # type: ignore[misc]
        for name in _query(scope).get("check", [])
    }
    record = {
        "accepted_types": _try(types),
        "preferred_types": _try(lambda: types("preferred_types")),  # an extension
        "accepts": checks,
    }
    await _answer(send, record)


async def head_view(scope: Scope, receive: Receive, send: Send) -> None:
    """content_type, content_length, date and referrer of the (possibly emulated) scope."""
    conn = _impl.asgi.HTTPConnection(_emulated(scope))

    def date() -> Any:
        value = conn.date
        if value is None:
            return None
        offset = value.utcoffset()
        return {
            "iso": value.isoformat(),
            "utcoffset": None if offset is None else offset.total_seconds(),
            "timestamp": value.timestamp() if offset is not None else None,
        }

    equals = {
        name: _try(lambda name=name: conn.content_type == name)  # type: ignore[misc]
        for name in _query(scope).get("equals", [])
    }
    await _answer(
        send,
        {
            "content_type": _try(lambda: str(conn.content_type)),
            "options": _try(lambda: dict(conn.content_type.options)),
            "equals": equals,
            "content_length": _try(lambda: conn.content_length),
            "date": _try(date),
            "referrer": _try(lambda: None if conn.referrer is None else str(conn.referrer)),
        },
    )


# -- Request: method and body ---------------------------------------------------------------------


def _digest(data: bytes) -> dict[str, Any]:
    return {"length": len(data), "sha256": hashlib.sha256(data).hexdigest()}


async def _attempt(awaitable: Callable[[], Awaitable[Any]]) -> dict[str, Any]:
    try:
        value = await awaitable()
    except Exception as error:
        return {"raised": _raised(error)}
    return {"ok": _jsonable(value) if not isinstance(value, bytes) else _digest(value)}


async def _collect(request: Any) -> list[bytes]:
    return [chunk async for chunk in request.stream()]


async def method_view(scope: Scope, receive: Receive, send: Send) -> None:
    """``Request.method``."""
    request = _impl.asgi.Request(scope, receive, send)
    await _answer(send, {"method": _try(lambda: request.method)})


def _split_receive(receive: Receive, size: int) -> Receive:
    """``receive`` handing each ``http.request`` body on in pieces of ``size`` bytes.

    Servers often deliver a whole small body in one message; this emulates one that sends
    many (as the ASGI spec allows), so an implementation that keeps only one chunk fails.
    """
    pending: deque[Message] = deque()

    async def split() -> Message:
        if not pending:
            message = await receive()
            body = message.get("body", b"")
            if message.get("type") != "http.request" or len(body) <= size:
                return message
            more = message.get("more_body", False)
            for start in range(0, len(body), size):
                last = start + size >= len(body)
                piece = body[start : start + size]
                pending.append(
                    {"type": "http.request", "body": piece, "more_body": more or not last}
                )
        return pending.popleft()

    return split


async def body_view(scope: Scope, receive: Receive, send: Send) -> None:
    """``mode=body``: body twice then stream(); ``mode=stream``: stream(), then body, json,
    form and stream() again; ``mode=peek``: is_disconnected() several times, then body.
    ``split=N`` hands the body to the implementation in messages of N bytes."""
    split = int(_query(scope).get("split", ["0"])[0])
    if split > 0:
        receive = _split_receive(receive, split)
    request = _impl.asgi.Request(scope, receive, send)
    mode = _query(scope).get("mode", ["body"])[0]
    record: dict[str, Any] = {"mode": mode}
    if mode == "body":
        first = await request.body
        second = await request.body
        record.update(
            body=_digest(first),
            second_equal=second == first,
            stream=_digest(b"".join(await _collect(request))),
        )
    elif mode == "stream":
        chunks = await _collect(request)
        record.update(
            stream=_digest(b"".join(chunks)),
            empty_chunks=sum(1 for chunk in chunks if not chunk),
            body_after=await _attempt(lambda: request.body),
            json_after=await _attempt(lambda: request.json),
            form_after=await _attempt(lambda: request.form),
            stream_again=await _attempt(lambda: _collect(request)),
        )
    elif mode == "peek":
        peeks = int(_query(scope).get("peeks", ["5"])[0])
        record["is_disconnected"] = [await request.is_disconnected() for _ in range(peeks)]
        record["body"] = _digest(await request.body)
    await _answer(send, record)


async def json_view(scope: Scope, receive: Receive, send: Send) -> None:
    """``await request.json`` twice; an HTTPException is rendered with its status."""
    request = _impl.asgi.Request(scope, receive, send)
    try:
        first = await request.json
        second = await request.json
    except _impl.exceptions.HTTPException as error:
        await _render_http_exception(send, error)
        return
    await _answer(send, {"json": first, "second_equal": second == first})


# -- Request: forms -------------------------------------------------------------------------------


def _form_class(options: dict[str, list[str]]) -> tuple[Any, list[str]]:
    """The Request class with the form limits of the query; names of unknown limit settings."""
    limits: dict[str, Any] = {
        name: int(options[name][0])
        for name in ("max_form_parts", "max_form_memory_size", "upload_file_max_in_memory_size")
        if name in options
    }
    base = _impl.asgi.Request
    unknown = [name for name in limits if not hasattr(base, name)]
    return type("LimitedRequest", (base,), limits), unknown


def _file_closed(upload: Any) -> bool:
    try:
        upload.read(1)
    except ValueError:
        return True
    return False


async def _describe_value(value: Any) -> Any:
    if isinstance(value, str):
        return {"field": value}
    if hasattr(value, "aseek"):
        await value.aseek(0)
    data = await value.aread()
    return {
        "file": {
            "filename": getattr(value, "filename", None),
            "content_type": str(getattr(value, "content_type", "")),
            **_digest(data),
        }
    }


async def form_view(scope: Scope, receive: Receive, send: Send) -> None:
    """``await request.form`` (twice), each value described, then ``close()``.

    Regular files the process holds open are counted before the form is parsed, after it
    and after ``close()``: files on disk show as new descriptors (Linux ``/proc``).
    """
    options = _query(scope)
    cls, unknown = _form_class(options)
    if unknown:
        await _answer(send, {"unsupported_limits": unknown})
        return
    request = cls(scope, receive, send)
    before = _regular_fds()
    try:
        form = await request.form
        again = await request.form
    except _impl.exceptions.HTTPException as error:
        # What close() does after a failed parse is REQ-CLOSE-AFTER-FORM-ERROR's, reported
        # beside the exception, so that it cannot turn this answer into a 500.
        closing = await _attempt(request.close)
        await _render_http_exception(send, error, close_after_error=closing)
        return
    parsed = _regular_fds()
    items = [[name, await _describe_value(value)] for name, value in form.multi_items()]
    uploads = [value for _, value in form.multi_items() if not isinstance(value, str)]
    in_memory = [getattr(value, "in_memory", None) for value in uploads]
    await request.close()
    closed = _regular_fds()
    await request.close()
    record: dict[str, Any] = {
        "items": items,
        "same_twice": again is form or again == form,
        "getlist": {name: len(form.getlist(name)) for name in form},
        "in_memory": in_memory,
        "closed_after_close": [_file_closed(value) for value in uploads],
        "fds": None,
    }
    if before is not None and parsed is not None and closed is not None:
        record["fds"] = {"opened": len(parsed - before), "left_open": len(closed - before)}
    await _answer(send, record)


async def close_view(scope: Scope, receive: Receive, send: Send) -> None:
    """``close()`` on a request whose form was never read, twice."""
    request = _impl.asgi.Request(scope, receive, send)
    await _answer(
        send,
        {
            "first": await _attempt(request.close),
            "second": await _attempt(request.close),
            "body": await _attempt(lambda: request.body),
        },
    )


# -- Request: disconnects -------------------------------------------------------------------------


async def disconnect_view(scope: Scope, receive: Receive, send: Send) -> None:
    """``/request/disconnect/MODE/TOKEN``, recorded under TOKEN for ``result_view``.

    ``watch``: read the body, is_disconnected() with the client connected, then poll
    is_disconnected() until true (at most DISCONNECT_WAIT s); no response is sent. The body
    comes first so that a peek that loses it (REQ-IS-DISCONNECTED-KEEPS-BODY) cannot hide
    what is_disconnected() answers.
    ``body`` / ``stream``: read the body (the client closes half-way); record what raised.
    """
    parts = scope["path"].split("/")
    mode, token = parts[-2], parts[-1]
    record: dict[str, Any] = {"mode": mode, "started": True, "done": False}
    RECORDS[token] = record
    request = _impl.asgi.Request(scope, receive, send)
    if mode == "watch":
        record["body"] = _digest(await request.body)
        record["connected"] = await request.is_disconnected()
        deadline = time.monotonic() + DISCONNECT_WAIT
        seen = await request.is_disconnected()
        while not seen and time.monotonic() < deadline:
            await pause(DISCONNECT_POLL)
            seen = await request.is_disconnected()
        record.update(after_close=seen, done=True)
        return
    try:
        if mode == "stream":
            await _collect(request)
        else:
            await request.body
    except Exception as error:
        record["raised"] = _raised(error)
        record["is_client_disconnect"] = isinstance(error, _impl.asgi.ClientDisconnect)
    else:
        record["raised"] = None
    record["done"] = True


async def result_view(scope: Scope, receive: Receive, send: Send) -> None:
    """What ``disconnect_view`` recorded under the token (``null`` if nothing yet)."""
    await _answer(send, RECORDS.get(scope["path"].rsplit("/", 1)[-1]))


ROUTES = {
    "mapping": mapping_view,
    "client": client_view,
    "url": url_view,
    "rooted": rooted_view,
    "params": params_view,
    "query": query_view,
    "headers": headers_view,
    "cookies": cookies_view,
    "accept": accept_view,
    "head": head_view,
    "method": method_view,
    "body": body_view,
    "json": json_view,
    "form": form_view,
    "close": close_view,
    "disconnect": disconnect_view,
    "result": result_view,
}


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """Dispatch ``/request/<name>[/...]`` (HTTP only)."""
    parts = scope["path"].split("/")
    view = ROUTES.get(parts[2] if len(parts) > 2 else "")
    if scope["type"] != "http":
        await send({"type": "websocket.close", "code": 1008})
        return
    if view is None:
        await _answer(send, {"error": "unknown scenario"}, status=404)
        return
    await view(scope, receive, send)
