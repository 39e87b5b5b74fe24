"""Scenario apps for the implementation's WebSocket (conformance/requirements/websocket.toml).

WebSocket scenarios live at ``/websocket/ws/<name>[/<token>]``; each builds the implementation's
``WebSocket`` from the scope the server gave. What the app saw is answered on the socket as JSON
built with the standard library, or, when the client closes first, recorded under ``<token>``
and answered by ``GET /websocket/result/<token>`` (``null`` until recorded). A call that raises
is reported as ``{"raised": {"type": ..., "mro": [...], "message": ...}}``.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from . import _impl
from ._plumbing import App, Message, Receive, Scope, Send
from ._plumbing import jsonable as _jsonable

PREFIX = "/websocket"


RECORDS: dict[str, dict[str, Any]] = {}
DENIAL_BODY = "denied: no token"
DENIAL_EXTENSION = "websocket.http.response"


# -- helpers --------------------------------------------------------------------------------------


def _raised(error: BaseException) -> dict[str, Any]:
    return {
        "type": type(error).__name__,
        "mro": [cls.__name__ for cls in type(error).__mro__],
        "message": str(error),
    }


def _try(compute: Callable[[], Any]) -> dict[str, Any]:
    """``{"ok": value}`` or ``{"raised": {...}}``."""
    try:
        return {"ok": _jsonable(compute())}
    except Exception as error:  # report whatever the implementation raised
        return {"raised": _raised(error)}


async def _try_async(compute: Callable[[], Awaitable[Any]]) -> dict[str, Any]:
    try:
        return {"ok": _jsonable(await compute())}
    except Exception as error:  # report whatever the implementation raised
        return {"raised": _raised(error)}


def _query(scope: Scope) -> dict[str, str]:
    pairs = parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    return {key: values[-1] for key, values in pairs.items()}


def _spec(scope: Scope) -> str:
    """The server's declared ASGI spec_version ("2.0" when absent)."""
    return str((scope.get("asgi") or {}).get("spec_version", "2.0"))


def _token(scope: Scope) -> str:
    return str(scope["path"].rsplit("/", 1)[-1])


def _states(websocket: Any) -> dict[str, Any]:
    """The names of ``client_state`` and ``application_state`` (``None`` when absent)."""
    found = {}
    for attribute in ("client_state", "application_state"):
        value = getattr(websocket, attribute, None)
        found[attribute] = getattr(value, "name", None if value is None else repr(value))
    return found


async def _answer(send: Send, data: Any, status: int = 200) -> None:
    body = json.dumps(data).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _websocket(scope: Scope, receive: Receive, send: Send) -> Any:
    return _impl.asgi.WebSocket(scope, receive, send)


# The ASGI application-side WebSocket states, and what each lets the application send.
_GUARD_ALLOWED = {
    "connecting": {"websocket.accept", "websocket.close", "websocket.http.response.start"},
    "connected": {"websocket.send", "websocket.close"},
}
_GUARD_NEXT = {"websocket.accept": "connected", "websocket.close": "closed"}


def _guarded(send: Send) -> Send:
    """``send`` that never passes the server a message invalid in the ASGI state machine.

    Such a message is dropped without an error: the state cases (WS-STATE-*) then see a
    ``RuntimeError`` only when the implementation raised it itself, not when the server did.
    """
    state = ["connecting"]

    async def guarded(message: Message) -> None:
        kind = message.get("type")
        if kind not in _GUARD_ALLOWED.get(state[0], set()):
            return
        state[0] = _GUARD_NEXT.get(kind, state[0])
        await send(message)

    return guarded


async def _report_and_close(websocket: Any, data: Any) -> None:
    await websocket.send_text(json.dumps(data))
    await websocket.close()


# -- handshake ------------------------------------------------------------------------------------


async def ws_accept(scope: Scope, receive: Receive, send: Send) -> None:
    """``accept()`` with no argument, one text (the ASGI spec_version), ``close()``."""
    websocket = _websocket(scope, receive, send)
    await websocket.accept()
    await _report_and_close(websocket, {"accepted": True, "spec_version": _spec(scope)})


async def ws_accept_after_connect(scope: Scope, receive: Receive, send: Send) -> None:
    """``receive()`` first (the connect message), then ``accept()``."""
    websocket = _websocket(scope, receive, send)
    first = await websocket.receive()
    await websocket.accept()
    await _report_and_close(websocket, {"first": first.get("type")})


async def ws_subprotocol(scope: Scope, receive: Receive, send: Send) -> None:
    """Accept choosing ``?choose=`` (none when absent); answer the offered list."""
    websocket = _websocket(scope, receive, send)
    chosen = _query(scope).get("choose")
    if chosen is None:
        await websocket.accept()
    else:
        await websocket.accept(subprotocol=chosen)
    await _report_and_close(websocket, {"offered": _jsonable(websocket.get("subprotocols"))})


async def ws_accept_headers(scope: Scope, receive: Receive, send: Send) -> None:
    """``accept(headers=...)`` when the implementation's ``accept`` takes headers."""
    websocket = _websocket(scope, receive, send)
    supported = "headers" in inspect.signature(websocket.accept).parameters
    if supported:
        await websocket.accept(headers={"X-Accept-Extra": "yes"})
    else:
        await websocket.accept()
    await _report_and_close(websocket, {"supported": supported, "spec_version": _spec(scope)})


# -- messages -------------------------------------------------------------------------------------


async def ws_echo_text(scope: Scope, receive: Receive, send: Send) -> None:
    """Echo text messages until the client closes."""
    websocket = _websocket(scope, receive, send)
    await websocket.accept()
    while True:
        try:
            text = await websocket.receive_text()
        except _impl.asgi.WebSocketDisconnect:
            return
        await websocket.send_text(text)


async def ws_echo_bytes(scope: Scope, receive: Receive, send: Send) -> None:
    """Echo binary messages until the client closes."""
    websocket = _websocket(scope, receive, send)
    await websocket.accept()
    while True:
        try:
            data = await websocket.receive_bytes()
        except _impl.asgi.WebSocketDisconnect:
            return
        await websocket.send_bytes(data)


async def ws_kinds(scope: Scope, receive: Receive, send: Send) -> None:
    """``send_text('héllo')`` then ``send_bytes(b'\\x00h\\xff')``, then close."""
    websocket = _websocket(scope, receive, send)
    await websocket.accept()
    await websocket.send_text("héllo")
    await websocket.send_bytes(b"\x00h\xff")
    await websocket.close()


async def ws_raw(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer what ``receive()`` gave, then ``send()`` a binary ASGI message."""
    websocket = _websocket(scope, receive, send)
    await websocket.accept()
    message = await websocket.receive()
    await websocket.send_text(json.dumps(_jsonable(dict(message))))
    await websocket.send({"type": "websocket.send", "bytes": b"raw\x00\xff"})
    await websocket.close()


async def ws_wrong_type(scope: Scope, receive: Receive, send: Send) -> None:
    """Call ``receive_text()`` (``?want=text``) or ``receive_bytes()`` and report the outcome."""
    websocket = _websocket(scope, receive, send)
    await websocket.accept()
    want = _query(scope).get("want", "text")
    method = websocket.receive_text if want == "text" else websocket.receive_bytes
    outcome = await _try_async(method)
    await _report_and_close(websocket, outcome)


async def ws_iter(scope: Scope, receive: Receive, send: Send) -> None:
    """``/ws/iter/<text|bytes>/<token>``: record what ``iter_*`` yields and how it ends."""
    token = _token(scope)
    kind = scope["path"].split("/")[-2]
    record: dict[str, Any] = {"items": [], "ended": False}
    websocket = _websocket(scope, receive, send)
    await websocket.accept()
    await websocket.send_text("ready")
    iterator = websocket.iter_text() if kind == "text" else websocket.iter_bytes()
    try:
        async for item in iterator:
            record["items"].append(_jsonable(item))
        record["ended"] = True
    except Exception as error:  # report what the implementation raised
        record["raised"] = _raised(error)
    RECORDS[token] = record


# -- closing --------------------------------------------------------------------------------------


async def ws_close(scope: Scope, receive: Receive, send: Send) -> None:
    """Accept, then ``close()`` or ``close(code=?code, reason=?reason)``."""
    query = _query(scope)
    websocket = _websocket(scope, receive, send)
    await websocket.accept()
    if "code" not in query:
        await websocket.close()
    elif "reason" not in query:
        await websocket.close(code=int(query["code"]))
    else:
        await websocket.close(code=int(query["code"]), reason=query["reason"])


async def ws_close_twice(scope: Scope, receive: Receive, send: Send) -> None:
    """``close(4001)`` then ``close()``; record whether either raised."""
    websocket = _websocket(scope, receive, send)
    await websocket.accept()
    first = await _try_async(lambda: websocket.close(4001))
    second = await _try_async(websocket.close)
    RECORDS[_token(scope)] = {"first": first, "second": second}


async def ws_disconnect(scope: Scope, receive: Receive, send: Send) -> None:
    """Wait for the client's close; record the exception, then receive/close/send again.

    The server's ``receive`` is wrapped to record the raw disconnect message; called again after
    it, it records that and answers another disconnect (a server might otherwise block forever).
    """
    token = _token(scope)
    record: dict[str, Any] = {"raw": None, "called_after_disconnect": False}

    async def recording_receive() -> Message:
        if record["raw"] is not None:
            record["called_after_disconnect"] = True
            return {"type": "websocket.disconnect", "code": 1000}
        message = await receive()
        if message["type"] == "websocket.disconnect":
            record["raw"] = {"code": message.get("code"), "reason": message.get("reason")}
        return message

    websocket = _websocket(scope, recording_receive, send)
    await websocket.accept()
    await websocket.send_text("ready")
    try:
        got = await websocket.receive_text()
        record["disconnect"] = {"returned": _jsonable(got)}
    except Exception as error:  # the expected WebSocketDisconnect, or whatever came
        record["disconnect"] = {
            "raised": _raised(error),
            "code": _jsonable(getattr(error, "code", None)),
            "reason": _jsonable(getattr(error, "reason", None)),
            "is_disconnect": isinstance(error, _impl.asgi.WebSocketDisconnect),
        }
    # receive first: its requirement is about the state the disconnect left, not the state
    # the app's own close() makes.
    record["receive_after"] = await _try_async(websocket.receive_text)
    record["close_after"] = await _try_async(websocket.close)
    record["send_after"] = await _try_async(lambda: websocket.send_text("late"))
    RECORDS[token] = record


# -- denial ---------------------------------------------------------------------------------------


async def ws_reject(scope: Scope, receive: Receive, send: Send) -> None:
    """``close()`` before ``accept()``."""
    await _websocket(scope, receive, send).close()


def _denial() -> Any:
    response = _impl.asgi.PlainTextResponse(DENIAL_BODY, 401, headers={"x-denied": "yes"})
    return _impl.asgi.WebsocketDenialResponse(response)


async def ws_deny(scope: Scope, receive: Receive, send: Send) -> None:
    """Deny with ``WebsocketDenialResponse(PlainTextResponse(..., 401))``."""
    await _denial()(scope, receive, send)


async def ws_deny_fallback(scope: Scope, receive: Receive, send: Send) -> None:
    """The same denial with the denial extension removed from a copy of the scope."""
    extensions = {
        key: value
        for key, value in (scope.get("extensions") or {}).items()
        if key != DENIAL_EXTENSION
    }
    await _denial()({**scope, "extensions": extensions}, receive, send)


# -- state machine --------------------------------------------------------------------------------


async def ws_send_before_accept(scope: Scope, receive: Receive, send: Send) -> None:
    """``send_text()`` before ``accept()``; then accept and report."""
    websocket = _websocket(scope, receive, _guarded(send))
    outcome = await _try_async(lambda: websocket.send_text("early"))
    await websocket.accept()
    await _report_and_close(websocket, outcome)


async def ws_receive_before_accept(scope: Scope, receive: Receive, send: Send) -> None:
    """``receive_text()`` before ``accept()``; then accept and report, with the message types
    the refused call took from ``receive`` (a refusal reads nothing: the connect message is
    still there for ``accept()``)."""
    taken: list[str] = []

    async def recording_receive() -> Message:
        message = await receive()
        taken.append(str(message.get("type")))
        return message

    websocket = _websocket(scope, recording_receive, send)
    outcome = await _try_async(websocket.receive_text)
    outcome["read_during_call"] = list(taken)
    await websocket.accept()
    await _report_and_close(websocket, outcome)


async def ws_accept_twice(scope: Scope, receive: Receive, send: Send) -> None:
    """``accept()`` twice; report the second outcome on the (still usable) socket."""
    websocket = _websocket(scope, receive, _guarded(send))
    await websocket.accept()
    outcome = await _try_async(websocket.accept)
    await _report_and_close(websocket, outcome)


async def ws_send_after_close(scope: Scope, receive: Receive, send: Send) -> None:
    """``close()`` then ``send_text()``; record the outcome."""
    websocket = _websocket(scope, receive, _guarded(send))
    await websocket.accept()
    await websocket.close()
    RECORDS[_token(scope)] = await _try_async(lambda: websocket.send_text("late"))


async def ws_states(scope: Scope, receive: Receive, send: Send) -> None:
    """Record the state attributes before/after accept, after close, after the disconnect."""
    record: dict[str, Any] = {}
    websocket = _websocket(scope, receive, send)
    record["initial"] = _states(websocket)
    await websocket.accept()
    record["accepted"] = _states(websocket)
    await websocket.close()
    record["closed"] = _states(websocket)
    if record["closed"]["client_state"] is not None:
        record["receive"] = await _try_async(websocket.receive)
        record["disconnected"] = _states(websocket)
    RECORDS[_token(scope)] = record


# -- connection properties ------------------------------------------------------------------------


async def ws_conn(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer the HTTPConnection properties the implementation computed for this socket."""
    websocket = _websocket(scope, receive, send)
    await websocket.accept()
    no_scheme = {key: value for key, value in scope.items() if key != "scheme"}
    data = {
        "type": _try(lambda: websocket["type"]),
        "path": _try(lambda: websocket["path"]),
        "len": _try(lambda: [len(websocket), len(scope)]),
        "keys": _try(lambda: sorted(websocket.keys()) == sorted(scope.keys())),
        "read_only": _try(lambda: not hasattr(websocket, "__setitem__")),
        "url": _try(lambda: str(websocket.url)),
        "url_no_scheme": _try(lambda: str(_websocket(no_scheme, receive, send).url)),
        "url_wss": _try(lambda: str(_websocket({**scope, "scheme": "wss"}, receive, send).url)),
        "header": _try(lambda: websocket.headers.get("x-token")),
        "header_upper": _try(lambda: websocket.headers.get("X-TOKEN")),
        "query_a": _try(lambda: websocket.query_params.getlist("a")),
        "query_b": _try(lambda: websocket.query_params.get("b")),
        "query_c": _try(lambda: websocket.query_params.get("c")),
        "cookies": _try(lambda: dict(websocket.cookies)),
        "path_params": _try(lambda: dict(websocket.path_params)),
        "path_params_set": _try(
            lambda: dict(
                _websocket({**scope, "path_params": {"room": "lobby"}}, receive, send).path_params
            )
        ),
        "client": _try(lambda: [websocket.client[0], websocket.client[1]]),
    }
    await _report_and_close(websocket, data)


# -- routing and shortcuts ------------------------------------------------------------------------


async def _session_view(websocket: Any) -> None:
    await websocket.accept()
    text = await websocket.receive_text()
    await websocket.send_text(
        json.dumps(
            {
                "echo": text,
                "class": type(websocket).__name__,
                "path_params": _jsonable(websocket.get("path_params")),
            }
        )
    )
    await websocket.close()


async def _http_view(request: Any) -> Any:
    return _impl.asgi.PlainTextResponse("http only")


@functools.cache
def _session_app() -> App:
    made: App = _impl.asgi.websocket_session(_session_view)
    return made


@functools.cache
def _request_response_app() -> App:
    made: App = _impl.asgi.request_response(_http_view)
    return made


@functools.cache
def _router() -> App:
    made: App = _impl.asgi.Router(
        ("/websocket/router/{room}", _session_app()),
        ("/websocket/router-http", _request_response_app()),
    )
    return made


async def session(scope: Scope, receive: Receive, send: Send) -> None:
    await _session_app()(scope, receive, send)


async def request_response(scope: Scope, receive: Receive, send: Send) -> None:
    await _request_response_app()(scope, receive, send)


async def router(scope: Scope, receive: Receive, send: Send) -> None:
    await _router()(scope, receive, send)


# -- HTTP endpoints -------------------------------------------------------------------------------


async def result_view(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer what a scenario recorded under the token (``null`` if nothing yet)."""
    await _answer(send, RECORDS.get(_token(scope)))


async def names_view(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer WebSocketState's member names and what WebSocketDisconnect(4002, 'why') holds."""
    state = _impl.asgi.WebSocketState

    def disconnect() -> dict[str, Any]:
        error = _impl.asgi.WebSocketDisconnect(4002, "why")
        return {
            "is_exception": isinstance(error, Exception),
            "code": _jsonable(getattr(error, "code", None)),
            "reason": _jsonable(getattr(error, "reason", None)),
        }

    await _answer(
        send,
        {
            "states": _try(lambda: [member.name for member in state]),
            "disconnect": _try(disconnect),
        },
    )


WS_ROUTES: dict[str, App] = {
    "accept": ws_accept,
    "accept-after-connect": ws_accept_after_connect,
    "subprotocol": ws_subprotocol,
    "accept-headers": ws_accept_headers,
    "echo-text": ws_echo_text,
    "echo-bytes": ws_echo_bytes,
    "kinds": ws_kinds,
    "raw": ws_raw,
    "wrong-type": ws_wrong_type,
    "iter": ws_iter,
    "close": ws_close,
    "close-twice": ws_close_twice,
    "disconnect": ws_disconnect,
    "reject": ws_reject,
    "deny": ws_deny,
    "deny-fallback": ws_deny_fallback,
    "send-before-accept": ws_send_before_accept,
    "receive-before-accept": ws_receive_before_accept,
    "accept-twice": ws_accept_twice,
    "send-after-close": ws_send_after_close,
    "states": ws_states,
    "conn": ws_conn,
}
HTTP_ROUTES: dict[str, App] = {"result": result_view, "names": names_view}
ANY_ROUTES: dict[str, App] = {
    "session": session,
    "request-response": request_response,
    "router": router,
    "router-http": router,
}


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """Dispatch ``/websocket/ws/<name>``, ``/websocket/<http name>`` and the routed apps."""
    parts = scope["path"].split("/")
    second = parts[2] if len(parts) > 2 else ""
    target = ANY_ROUTES.get(second)
    if target is None and scope["type"] == "websocket" and second == "ws":
        target = WS_ROUTES.get(parts[3] if len(parts) > 3 else "")
    if target is None and scope["type"] == "http":
        target = HTTP_ROUTES.get(second)
    if target is not None:
        await target(scope, receive, send)
    elif scope["type"] == "http":
        await _answer(send, {"error": "unknown scenario"}, status=404)
    else:
        await send({"type": "websocket.close", "code": 1008})
