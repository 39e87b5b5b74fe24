"""Scenario apps for the routing area: the implementation's Router, Subpaths, Hosts, shortcuts
and middleware, each mounted at ``/routing/<scenario>/...``.

Dispatch on the second segment is plain ASGI; the implementation's objects are built on the
first request of their scenario (a broken Router cannot break the import of the other areas).
A scenario is mounted with an emulated ``root_path`` of ``/routing/<scenario>``: ``included``
keeps it at the front of ``path`` (ASGI spec), ``stripped`` removes it from ``path`` (the other
server style), ``bare`` drops the mount (the server's ``root_path``, the path below the mount)
so that a case about matching does not depend on root_path handling. Endpoints answer JSON
describing what they saw (path params with type names).
An exception that escapes a scenario before its response started is rendered as JSON
``{"error": [MRO names], "status_code": ..., "message": ...}`` with the exception's
``status_code`` (HTTPException) or 500.
"""

from __future__ import annotations

import datetime
import decimal
import json
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import parse_qs

from . import _impl
from ._plumbing import App, Message, Receive, Scope, Send, gate
from ._plumbing import read_body as _read_body
from ._plumbing import send_json as _json

PREFIX = "/routing"


RESULTS: dict[str, Any] = {}
RELEASED: set[str] = set()
GATE_SECONDS = 8.0
TICK_SECONDS = 0.01
STREAM_CHUNKS = 100
CUSTOM_CONVERTOR = "conformancehex"


# -- plumbing ------------------------------------------------------------------------------------


def _query(scope: Scope, name: str) -> str | None:
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get(name)
    return values[0] if values else None


def _mro(error: BaseException) -> list[str]:
    return [cls.__name__ for cls in type(error).__mro__]


def describe(value: Any) -> dict[str, str]:
    """A path parameter as ``{"type": class name, "value": str(value)}``."""
    return {"type": type(value).__name__, "value": str(value)}


def _url(scope: Scope) -> Any:
    try:
        return str(_impl.asgi.HTTPConnection(scope).url)
    except Exception as error:
        return {"error": _mro(error), "message": str(error)}


def seen(name: str, scope: Scope) -> dict[str, Any]:
    """What an endpoint reports about the scope it got."""
    params = scope.get("path_params")
    return {
        "endpoint": name,
        "path_params": None if params is None else {k: describe(v) for k, v in params.items()},
        "path": scope["path"],
        "root_path": scope.get("root_path", ""),
        "query_string": scope.get("query_string", b"").decode("latin-1"),
        "edited": scope.get("conformance.edited"),
    }


def report(name: str) -> App:
    """An endpoint answering :func:`seen` (plus the URL the implementation rebuilds) as JSON."""

    async def endpoint(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await receive()  # websocket.connect: the handshake's request, answered by accept
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.send", "text": json.dumps(seen(name, scope))})
            await send({"type": "websocket.close", "code": 1000})
            return
        await _json(send, {**seen(name, scope), "url": _url(scope)})

    return endpoint


def recorder(name: str, into: list[dict[str, Any]]) -> App:
    """An app that records what it saw and sends nothing (its caller answers)."""

    async def endpoint(scope: Scope, receive: Receive, send: Send) -> None:
        into.append(seen(name, scope))

    return endpoint


async def guarded(target: App, scope: Scope, receive: Receive, send: Send) -> None:
    """Run ``target``; render an exception raised before the response started as JSON."""
    started = False

    async def tracking_send(message: Message) -> None:
        nonlocal started
        started = True
        await send(message)

    try:
        await target(scope, receive, tracking_send)
    except Exception as error:
        if started or scope["type"] != "http":
            raise
        status = getattr(error, "status_code", None)
        http_error = isinstance(error, _impl.exceptions.HTTPException)
        code = status if http_error and isinstance(status, int) else 500
        data = {"error": _mro(error), "status_code": status, "message": str(error)}
        await _json(send, data, code)


# -- scenario builders (run on first use) ---------------------------------------------------------


def _custom_convertor() -> None:
    """Register ``conformancehex``: lower-case hex digits <-> int (as a class or an instance,
    whichever the implementation's table holds)."""
    routing = _impl.routing
    if CUSTOM_CONVERTOR in routing.CONVERTOR_TYPES:
        return

    class HexConvertor(routing.Convertor):  # type: ignore[misc, name-defined]
        regex = "[0-9a-f]+"

        def to_python(self, value: str) -> int:
            return int(value, 16)

        def to_string(self, value: Any) -> str:
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"not a non-negative int: {value!r}")
            return format(value, "x")

    # API.md says "register in CONVERTOR_TYPES" without saying class or instance: register
    # what the implementation's own table holds for the built-in types.
    classes = all(isinstance(kind, type) for kind in routing.CONVERTOR_TYPES.values())
    routing.CONVERTOR_TYPES[CUSTOM_CONVERTOR] = HexConvertor if classes else HexConvertor()


def _value(spec: dict[str, str]) -> Any:
    """A typed value from ``{"type": ..., "value": ...}`` (the build endpoint's input)."""
    kind, text = spec["type"], spec["value"]
    if kind == "int":
        return int(text)
    if kind == "Decimal":
        return decimal.Decimal(text)
    if kind == "UUID":
        return uuid.UUID(text)
    if kind == "date":
        return datetime.date.fromisoformat(text)
    if kind == "float":
        return float(text)
    if kind == "none":
        return None
    return text


def _route_table() -> list[tuple[str, App, str | None]]:
    """The routes of ``router`` and ``named``: (path, endpoint, name or None)."""
    _custom_convertor()
    return [
        ("/static", report("static"), "static"),
        ("/first/fixed", report("first-static"), None),
        ("/first/{name}", report("first-param"), None),
        ("/second/{name}", report("second-param"), None),
        ("/second/fixed", report("second-static"), None),
        ("/items/{id:int}", report("items-int"), "items-int"),
        ("/items/{name}", report("items-str"), "items-str"),
        ("/when/{day:date}", report("when-date"), None),
        ("/when/{text}", report("when-str"), None),
        ("/str/{value}", report("str"), "str"),
        ("/strx/{value:str}", report("str-explicit"), "str-explicit"),
        ("/int/{value:int}", report("int"), "int"),
        ("/decimal/{value:decimal}", report("decimal"), "decimal"),
        ("/uuid/{value:uuid}", report("uuid"), "uuid"),
        ("/date/{value:date}", report("date"), "date"),
        ("/any/{value:any}", report("any"), "any"),
        ("/hex/{value:" + CUSTOM_CONVERTOR + "}", report("custom"), "custom"),
        ("/multi/{a:int}/{b}/{c:date}", report("multi"), "multi"),
        ("/hello world", report("space"), None),
        ("/caf\u00e9", report("cafe"), None),
    ]


def build_router() -> Any:
    """The Router of ``router`` / ``router-stripped``: (path, app) pairs only.

    Matching does not depend on route names, so an implementation without named routes
    is judged on matching here and on naming only through ``named``.
    """
    return _impl.asgi.Router(*((path, endpoint) for path, endpoint, _ in _route_table()))


def build_named_router() -> Any:
    """The same routes with their names (``(path, app, name)``), plus a ``/build`` endpoint."""
    holder: list[Any] = []

    async def build(scope: Scope, receive: Receive, send: Send) -> None:
        spec = json.loads(await _read_body(receive))
        params = {key: _value(value) for key, value in spec["params"].items()}
        try:
            path = holder[0].build_url(spec["name"], params)
        except Exception as error:
            await _json(send, {"error": _mro(error), "message": str(error)})
            return
        await _json(send, {"path": path, "type": type(path).__name__})

    routes = [
        (path, endpoint) if name is None else (path, endpoint, name)
        for path, endpoint, name in _route_table()
    ]
    router = _impl.asgi.Router(*routes, ("/build", build))
    holder.append(router)
    return router


def build_rpx() -> Any:
    """A root_path that is a prefix of the path but not a whole segment of it."""
    return _impl.asgi.Router(
        ("/routing/rpx/static", report("full-path")),
        ("x/static", report("stripped-mid-segment")),
    )


def build_probe_router() -> App:
    """Router whose endpoint sends nothing: the caller reports both scopes."""
    return _probe(lambda into: _impl.asgi.Router(("/users/{id:int}", recorder("user", into))))


def build_probe_subpaths() -> App:
    return _probe(lambda into: _impl.asgi.Subpaths(("/api", recorder("api", into))))


def _probe(make: Callable[[list[dict[str, Any]]], App]) -> App:
    async def probe(scope: Scope, receive: Receive, send: Send) -> None:
        into: list[dict[str, Any]] = []
        before = dict(scope)
        answered: list[Any] = []

        async def held_send(message: Message) -> None:
            # The probe owns the response: what the dispatcher itself answers (e.g. a 404
            # when no route matched) is reported, never sent, so one response goes out.
            if message["type"] == "http.response.start":
                answered.append(message.get("status"))

        await make(into)(scope, receive, held_send)
        changed = sorted(
            key for key in set(before) | set(scope) if before.get(key, None) != scope.get(key)
        )
        await _json(send, {"inner": into, "changed": changed, "dispatcher_answered": answered})

    return probe


def build_subpaths() -> Any:
    nested = _impl.asgi.Router(("/users/{id:int}", report("nested-user")))
    return _impl.asgi.Subpaths(
        ("/api", report("api")),
        ("/static", report("static")),
        ("/nested", nested),
        ("", report("default")),
    )


def build_subpaths_nodefault() -> Any:
    return _impl.asgi.Subpaths(("/api", report("api")))


def build_hosts() -> Any:
    return _impl.asgi.Hosts(
        (r"api\.example\.com", report("api")),
        (r"(.+)\.users\.example\.com", report("users")),
        (r"www\.example\.com", report("www")),
        (r"Mixed\.EXAMPLE\.com", report("mixed")),
    )


async def _view(request: Any) -> Any:
    data = {"method": request.method, "who": request.query_params.get("who"), "view": True}
    return _impl.asgi.JSONResponse(data, 201, headers={"x-view": "yes"})


def build_request_response() -> Any:
    return _impl.asgi.request_response(_view)


def build_websocket_session() -> Any:
    async def session(websocket: Any) -> None:
        await websocket.accept()
        text = await websocket.receive_text()
        await websocket.send_text("echo:" + text)
        await websocket.close(1000)

    return _impl.asgi.websocket_session(session)


def build_decorated() -> Any:
    async def handler(request: Any, next_call: Any) -> Any:
        if request.query_params.get("deny") == "1":
            return _impl.asgi.PlainTextResponse("short-circuit", 403)
        response = await next_call(request)
        response.headers["x-decorated"] = "yes"
        return response

    async def view(request: Any) -> Any:
        token = request.query_params.get("token")
        if token:
            RESULTS[token] = {"view_called": True}
        return _impl.asgi.PlainTextResponse("from the view", 202)

    return _impl.asgi.request_response(_impl.asgi.decorator(handler)(view))


async def _passthrough(request: Any, next_call: Any) -> Any:
    return await next_call(request)


def build_mw_edit() -> Any:
    async def handler(request: Any, next_call: Any) -> Any:
        request["conformance.edited"] = "by-middleware"
        request["query_string"] = b"edited=1"
        return await next_call(request)

    return _impl.asgi.middleware(handler)(report("inner"))


def build_mw_headers() -> Any:
    async def handler(request: Any, next_call: Any) -> Any:
        response = await next_call(request)
        response.headers["x-middleware"] = "added"
        return response

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"text/plain"), (b"x-inner", b"kept")]
        await send({"type": "http.response.start", "status": 201, "headers": headers})
        await send({"type": "http.response.body", "body": b"inner ", "more_body": True})
        await send({"type": "http.response.body", "body": b"body"})

    return _impl.asgi.middleware(handler)(inner)


def chunk(index: int) -> bytes:
    return b"chunk-%03d\n" % index


async def _gate(token: str, record: dict[str, Any]) -> None:
    """Wait (bounded) until ``/routing/release/<token>``; record how the wait ended."""
    await gate(RELEASED, token, record, GATE_SECONDS, TICK_SECONDS)


def build_mw_stream() -> Any:
    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        token = scope["path"].rsplit("/", 1)[-1]
        record: dict[str, Any] = {"produced": 0}
        RESULTS[token] = record

        async def chunks() -> AsyncIterator[bytes]:
            for index in range(STREAM_CHUNKS):
                if index == STREAM_CHUNKS - 1:
                    await _gate(token, record)
                record["produced"] = index + 1
                yield chunk(index)

        response = _impl.asgi.StreamResponse(chunks(), content_type="text/plain")
        await response(scope, receive, send)

    return _impl.asgi.middleware(_passthrough)(inner)


SSE_EVENTS = [
    {"event": "first", "data": "one", "id": "1"},
    {"data": "two\nlines"},
    {"event": "last", "data": "three", "id": "3"},
]


def build_mw_sse() -> Any:
    async def events() -> AsyncIterator[Any]:
        for event in SSE_EVENTS:
            yield dict(event)  # fresh: the response may consume the dict it encodes

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        await _impl.asgi.SendEventResponse(events())(scope, receive, send)

    return _impl.asgi.middleware(_passthrough)(inner)


def build_mw_body() -> Any:
    """The handler tries ``await request.body`` (refused as upstream: the app owns the
    body), then calls the app, which echoes the body it reads; a header names the refusal."""

    async def handler(request: Any, next_call: Any) -> Any:
        try:
            await request.body  # an implementation that reads it leaves the app waiting
            refused = "none"
        except Exception as error:
            refused = "RuntimeError" if "RuntimeError" in _mro(error) else _mro(error)[0]
        response = await next_call(request)
        response.headers["x-body-read"] = refused
        return response

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        body = await _impl.asgi.Request(scope, receive, send).body
        await _impl.asgi.PlainTextResponse(body)(scope, receive, send)

    return _impl.asgi.middleware(handler)(inner)


def build_mw_error() -> Any:
    async def handler(request: Any, next_call: Any) -> Any:
        try:
            return await next_call(request)
        except Exception as error:
            data = {"caught": _mro(error), "message": str(error)}
            return _impl.asgi.JSONResponse(data, 500)

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        raise LookupError("inner app failed on purpose")

    return _impl.asgi.middleware(handler)(inner)


# -- dispatch ------------------------------------------------------------------------------------

# scenario name -> (builder name, root_path style)
SCENARIOS: dict[str, tuple[str, str]] = {
    "router": ("router", "included"),
    "router-stripped": ("router", "stripped"),
    "router-bare": ("router", "bare"),
    "named": ("named", "included"),
    "rpx": ("rpx", "rpx"),
    "probe-router": ("probe-router", "included"),
    "probe-router-bare": ("probe-router", "bare"),
    "probe-subpaths": ("probe-subpaths", "included"),
    "probe-subpaths-bare": ("probe-subpaths", "bare"),
    "subpaths": ("subpaths", "included"),
    "subpaths-stripped": ("subpaths", "stripped"),
    "subpaths-bare": ("subpaths", "bare"),
    "subpaths-nodefault": ("subpaths-nodefault", "bare"),
    "hosts": ("hosts", "included"),
    "rr": ("rr", "included"),
    "ws-session": ("ws-session", "included"),
    "decorated": ("decorated", "included"),
    "mw-edit": ("mw-edit", "included"),
    "mw-headers": ("mw-headers", "included"),
    "mw-stream": ("mw-stream", "included"),
    "mw-sse": ("mw-sse", "included"),
    "mw-error": ("mw-error", "included"),
    "mw-body": ("mw-body", "included"),
}

BUILDERS: dict[str, Callable[[], Any]] = {
    "router": build_router,
    "named": build_named_router,
    "rpx": build_rpx,
    "probe-router": build_probe_router,
    "probe-subpaths": build_probe_subpaths,
    "subpaths": build_subpaths,
    "subpaths-nodefault": build_subpaths_nodefault,
    "hosts": build_hosts,
    "rr": build_request_response,
    "ws-session": build_websocket_session,
    "decorated": build_decorated,
    "mw-edit": build_mw_edit,
    "mw-headers": build_mw_headers,
    "mw-stream": build_mw_stream,
    "mw-sse": build_mw_sse,
    "mw-error": build_mw_error,
    "mw-body": build_mw_body,
}

BUILT: dict[str, Any] = {}


def _scenario_scope(scope: Scope, name: str, style: str) -> Scope:
    """A copy of the scope with the emulated root_path of the scenario."""
    child = dict(scope)
    mount = scope.get("root_path", "") + f"{PREFIX}/{name}"
    if style == "included":
        child["root_path"] = mount
    elif style == "stripped":
        child["root_path"] = mount
        child["path"] = scope["path"][len(mount) :]
    elif style == "bare":  # no mount at all: the server's root_path, the path below the mount
        child["path"] = scope.get("root_path", "") + scope["path"][len(mount) :]
    else:  # "rpx": a root_path that ends mid-segment of the path
        child["root_path"] = scope.get("root_path", "") + f"{PREFIX}/rp"
    return child


async def _results(scope: Scope, receive: Receive, send: Send, token: str) -> None:
    await _json(send, RESULTS.get(token))


async def _release(scope: Scope, receive: Receive, send: Send, token: str) -> None:
    RELEASED.add(token)
    await _json(send, {"released": True})


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """Dispatch ``/routing/<scenario>/...`` (plain ASGI)."""
    parts = scope["path"].split("/", 4)
    name = parts[2] if len(parts) > 2 else ""
    if name in ("result", "release") and len(parts) > 3 and scope["type"] == "http":
        await (_results if name == "result" else _release)(scope, receive, send, parts[3])
        return
    entry = SCENARIOS.get(name)
    if entry is None:
        if scope["type"] == "http":
            await _json(send, {"error": "no such routing scenario"}, 404)
        else:
            await send({"type": "websocket.close", "code": 1008})
        return
    builder, style = entry
    target = BUILT.get(builder)
    if target is None:
        try:
            target = BUILT[builder] = BUILDERS[builder]()
        except Exception as error:  # e.g. a Router refusing (path, app, name) triples
            if scope["type"] != "http":
                await send({"type": "websocket.close", "code": 1011})
                return
            data = {"error": _mro(error), "message": str(error), "building": builder}
            await _json(send, data, 500)
            return
    await guarded(target, _scenario_scope(scope, name, style), receive, send)
