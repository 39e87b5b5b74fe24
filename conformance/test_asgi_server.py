"""ASGI server requirements (conformance/requirements/asgi-server.toml), with raw ASGI apps."""

from __future__ import annotations

import contextlib
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from conformance.answers import json_answer
from conformance.harness import (
    expect_equal,
    expect_in,
    expect_true,
    expect_type,
    not_applicable,
    polling,
    require_offer,
)
from conformance.harness.server import Server, ServerPool

RESULT_DEADLINE = 5.0
RESULT_POLL = 0.02
ENCODED_PATH = "/asgi/scope/caf%C3%A9%20x"
QUERY = "a=1&b=%20c&a=2"


class Other:
    """A scope value of a type JSON could not carry (named by the app)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name}>"


#: Bytes are compared as sent: no content-coding may stand between them and the check.
IDENTITY = {"Accept-Encoding": "identity"}


def untag(value: dict[str, Any]) -> Any:
    """Rebuild a value described by ``conformance_apps.asgi.describe`` with its type."""
    ((kind, inner),) = value.items()
    if kind == "bytes":
        return inner.encode("latin-1")
    if kind in ("str", "int", "bool"):
        return inner
    if kind == "none":
        return None
    if kind == "list":
        return [untag(item) for item in inner]
    if kind == "tuple":
        return tuple(untag(item) for item in inner)
    if kind == "dict":
        return {key: untag(item) for key, item in inner.items()}
    return Other(inner)


def http_scope(server: Server, target: str = ENCODED_PATH + "?" + QUERY, **kw: Any) -> Any:
    with server.http() as client:
        response = client.get(target, **kw)
    expect_equal(response.status_code, 200, "the scope app answers 200")
    return untag(json_answer(response, "the scope app"))


def ws_scope(server: Server) -> Any:
    with server.ws("/asgi/ws/scope/caf%C3%A9?x=%20y") as ws:
        data = json.loads(ws.recv(timeout=5))
        # wait for the app's close rather than racing it with ours
        with contextlib.suppress(ConnectionClosed):
            ws.recv(timeout=5)
    return untag(data)


def raw_request(server: Server, request: bytes) -> tuple[bytes, bytes]:
    """Send one request with Connection: close; answer (head, everything after it)."""
    reply = server.raw(request)
    head, sep, rest = reply.partition(b"\r\n\r\n")
    expect_true(bool(sep), "the server answers an HTTP response", "a complete head", repr(reply))
    return head, rest


def check_pair(value: Any, what: str, port: int | None) -> None:
    expect_type(value, (list, tuple), what)
    expect_equal(len(value), 2, f"{what} has two items")
    expect_type(value[0], str, f"{what}[0] (host)")
    expect_type(value[1], int, f"{what}[1] (port)")
    expect_equal(value[0], "127.0.0.1", f"{what}[0] is the address")
    if port is not None:
        expect_equal(value[1], port, f"{what}[1] is the listening port")


# -- HTTP scope ---------------------------------------------------------------------------------


@pytest.mark.requirement("ASGI-HTTP-SCOPE-TYPE")
def test_http_scope_type(server: Server) -> None:
    expect_equal(http_scope(server)["type"], "http", "scope['type']")


@pytest.mark.requirement("ASGI-HTTP-SCOPE-ASGI-VERSION")
def test_http_scope_asgi_version(server: Server) -> None:
    scope = http_scope(server)
    expect_type(scope.get("asgi"), dict, "scope['asgi']")
    expect_type(scope["asgi"].get("version"), str, "scope['asgi']['version']")
    if "spec_version" in scope["asgi"]:
        expect_type(scope["asgi"]["spec_version"], str, "scope['asgi']['spec_version']")


@pytest.mark.requirement("ASGI-HTTP-SCOPE-HTTP-VERSION")
def test_http_scope_http_version(server: Server) -> None:
    for version in ("1.0", "1.1") if server.config.offers.http10 else ("1.1",):
        request = f"GET /asgi/scope HTTP/{version}\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        head, body = raw_request(server, request.encode())
        expect_true(b" 200 " in head.split(b"\r\n")[0], "200", "200", repr(head))
        if b"transfer-encoding: chunked" in head.lower():
            pytest.fail("harness error: the scope app sets content-length; got chunked")
        scope = untag(json.loads(body))
        expect_equal(scope["http_version"], version, f"http_version for HTTP/{version}")


@pytest.mark.requirement("ASGI-HTTP-SCOPE-METHOD")
def test_http_scope_method(server: Server) -> None:
    with server.http() as client:
        response = client.request("PATCH", "/asgi/scope")
    expect_equal(untag(json_answer(response, "the scope app"))["method"], "PATCH", "method")


@pytest.mark.requirement("ASGI-HTTP-SCOPE-SCHEME")
def test_http_scope_scheme(server: Server) -> None:
    scope = http_scope(server)
    if "scheme" in scope:  # https on the TLS instance of an NAME/h2 column
        over = "TLS" if server.scheme == "https" else "plain TCP"
        expect_equal(scope["scheme"], server.scheme, f"scheme over {over}")


@pytest.mark.requirement("ASGI-HTTP-SCOPE-PATH")
def test_http_scope_path_is_decoded_str(server: Server) -> None:
    expect_equal(http_scope(server)["path"], "/asgi/scope/café x", "path")


@pytest.mark.requirement("ASGI-HTTP-SCOPE-RAW-PATH")
def test_http_scope_raw_path_is_bytes_as_received(server: Server) -> None:
    raw_path = http_scope(server).get("raw_path")
    if raw_path is None:
        not_applicable("the server does not provide raw_path (optional)")
    expect_equal(raw_path, ENCODED_PATH.encode(), "raw_path")


@pytest.mark.requirement("ASGI-HTTP-SCOPE-QUERY-STRING")
def test_http_scope_query_string_is_raw_bytes(server: Server) -> None:
    expect_equal(http_scope(server)["query_string"], QUERY.encode(), "query_string")


@pytest.mark.requirement("ASGI-HTTP-SCOPE-ROOT-PATH")
def test_http_scope_root_path(server: Server) -> None:
    scope = http_scope(server)
    if "root_path" in scope:
        expect_equal(scope["root_path"], "", "root_path without a configured prefix")


@pytest.mark.requirement("ASGI-HTTP-SCOPE-HEADERS")
def test_http_scope_headers_are_byte_pairs_with_duplicates(server: Server) -> None:
    request = (
        b"GET /asgi/scope HTTP/1.1\r\nHost: 127.0.0.1\r\nx-dup: first\r\nx-other: o\r\n"
        b"x-dup: second\r\nConnection: close\r\n\r\n"
    )
    _, body = raw_request(server, request)
    headers = untag(json.loads(body))["headers"]
    expect_type(headers, (list, tuple), "headers")
    for pair in headers:
        expect_type(pair, (list, tuple), "each header item")
        expect_equal(len(pair), 2, "each header item has two items")
        expect_type(pair[0], bytes, "header name")
        expect_type(pair[1], bytes, "header value")
    values = [value for name, value in headers if name.lower() == b"x-dup"]
    expect_equal(values, [b"first", b"second"], "duplicate x-dup values, in received order")


@pytest.mark.requirement("ASGI-HTTP-SCOPE-HEADER-NAMES-LOWER")
def test_http_scope_header_names_lowercased(server: Server) -> None:
    scope = http_scope(server, "/asgi/scope", headers={"X-Mixed-Case": "v"})
    names = [name for name, _ in scope["headers"]]
    expect_in(b"x-mixed-case", names, "the header name X-Mixed-Case, lowercased")


@pytest.mark.requirement("ASGI-HTTP-SCOPE-CLIENT")
def test_http_scope_client(server: Server) -> None:
    scope = http_scope(server)
    if scope.get("client") is None:
        not_applicable("the server does not provide client (optional)")
    check_pair(scope["client"], "client", None)


@pytest.mark.requirement("ASGI-HTTP-SCOPE-SERVER")
def test_http_scope_server(server: Server) -> None:
    scope = http_scope(server)
    if scope.get("server") is None:
        not_applicable("the server does not provide server (optional)")
    check_pair(scope["server"], "server", server.port)


# -- HTTP messages ------------------------------------------------------------------------------


def check_request_messages(answer: dict[str, Any], sent: bytes) -> None:
    messages = answer["messages"]
    expect_true(bool(messages), "receive() answered http.request", "at least one", "none")
    for message in messages:
        expect_equal(message["type"], "http.request", "receive() type while reading the body")
        expect_type(untag(message["body"]), bytes, "http.request body")
        expect_type(untag(message["more_body"]), bool, "http.request more_body")
    for message in messages[:-1]:
        expect_equal(untag(message["more_body"]), True, "more_body on every message but the last")
    expect_equal(untag(messages[-1]["more_body"]), False, "more_body on the last message")
    expect_equal(answer["body"].encode("latin-1"), sent, "concatenated request body")


@pytest.mark.requirement("ASGI-HTTP-REQUEST-CHUNKED")
def test_request_body_chunked(server: Server) -> None:
    parts = [b"first chunk;", b"second;", b"\x00\xff binary;", b"last"]
    with server.http() as client:
        response = client.post("/asgi/body", content=iter(parts), headers=IDENTITY)
    expect_equal(response.status_code, 200, "status")
    check_request_messages(json_answer(response, "the body record"), b"".join(parts))


@pytest.mark.requirement("ASGI-HTTP-REQUEST-CONTENT-LENGTH")
def test_request_body_content_length(server: Server) -> None:
    body = bytes(range(256)) * 300
    with server.http() as client:
        response = client.post("/asgi/body", content=body, headers=IDENTITY)
    expect_equal(response.status_code, 200, "status")
    check_request_messages(json_answer(response, "the body record"), body)


@pytest.mark.requirement("ASGI-HTTP-DISCONNECT")
def test_disconnect_after_client_closes(server: Server) -> None:
    token = uuid.uuid4().hex
    request = (
        f"POST /asgi/disconnect/{token} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Length: 5\r\n\r\nhello"
    ).encode()
    with server.http() as client:
        with server.connect() as sock:
            sock.sendall(request)
            poll_result(client, token, lambda r: r is not None, "the app received the request")
        record = poll_result(
            client, token, lambda r: r is not None and not r["waiting"], "receive() returned"
        )
    expect_equal(record["after_body"], "http.disconnect", "receive() after the client closed")


def poll_result(client: Any, token: str, done: Any, what: str) -> Any:
    """Poll the app's record: the event happens in the server process, nothing to await here."""
    return polling.poll_result(
        lambda: json_answer(client.get(f"/asgi/result/{token}"), "the result record"),
        done,
        what,
        seconds=RESULT_DEADLINE,
        interval=RESULT_POLL,
    )


@pytest.mark.requirement("ASGI-HTTP-RESPONSE-BODY-ORDER")
def test_response_body_chunks_in_order(server: Server) -> None:
    with server.http() as client:
        response = client.get("/asgi/stream", headers=IDENTITY)
    expect_equal(response.content, b"first;second;third;fourth;", "response content")


@pytest.mark.requirement("ASGI-HTTP-HEAD-NO-BODY")
def test_head_response_has_no_content(server: Server) -> None:
    request = b"HEAD /asgi/head HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    head, rest = raw_request(server, request)
    expect_true(b" 200 " in head.split(b"\r\n")[0], "HEAD answered", "200", repr(head))
    expect_equal(rest, b"", "bytes after the head of a HEAD response")


# -- lifespan -----------------------------------------------------------------------------------


def lifespan_record(server: Server) -> dict[str, Any]:
    with server.http() as client:
        return dict(json_answer(client.get("/asgi/lifespan"), "the lifespan record"))


@pytest.mark.requirement("ASGI-LIFESPAN-STARTUP")
def test_lifespan_startup_before_serving(server: Server) -> None:
    require_offer(server, "lifespan")
    record = lifespan_record(server)
    expect_equal(record["startup"].get("received"), True, "lifespan.startup received")


@pytest.mark.requirement("ASGI-LIFESPAN-STATE")
def test_lifespan_state_copied_into_requests(server: Server) -> None:
    require_offer(server, "lifespan")
    record = lifespan_record(server)
    if not record["startup"].get("state_offered"):
        not_applicable("the lifespan scope carries no 'state' (optional)")
    expect_equal(record["state_in_request"], record["expected"], "scope['state'] in a request")


@pytest.mark.stops_server
@pytest.mark.requirement("ASGI-LIFESPAN-SHUTDOWN")
def test_lifespan_shutdown_on_sigterm(server: Server, server_pool: ServerPool) -> None:
    require_offer(server, "lifespan")
    # A fresh instance: connections left open by earlier cases (an implementation that hangs
    # a response) would make a graceful server wait for them past the stop timeout.
    server_pool.stop(server.name)
    server_pool.get(server.name)
    process = server_pool.stop(server.name)
    marker = Path(process.env["CONFORMANCE_STATE_DIR"]) / "lifespan-shutdown.json"
    expect_true(
        marker.exists(),
        "lifespan.shutdown sent on SIGTERM",
        "the app's shutdown handler ran",
        "no shutdown record; log:\n" + process.log_tail(15),
    )


# -- WebSocket ----------------------------------------------------------------------------------


@pytest.mark.requirement("ASGI-WS-SCOPE")
def test_ws_scope_keys_and_types(server: Server) -> None:
    require_offer(server, "websocket")
    scope = ws_scope(server)
    expect_equal(scope["type"], "websocket", "type")
    expect_type(scope["asgi"]["version"], str, "asgi.version")
    expect_equal(scope.get("scheme", "ws"), "ws", "scheme")
    expect_equal(scope["path"], "/asgi/ws/scope/café", "path (decoded)")
    if scope.get("raw_path") is not None:
        expect_equal(scope["raw_path"], b"/asgi/ws/scope/caf%C3%A9", "raw_path")
    expect_equal(scope.get("query_string", b""), b"x=%20y", "query_string")
    expect_type(scope.get("root_path", ""), str, "root_path")
    for pair in scope["headers"]:
        expect_type(pair[0], bytes, "header name")
        expect_type(pair[1], bytes, "header value")
    if scope.get("client") is not None:
        check_pair(scope["client"], "client", None)
    if scope.get("server") is not None:
        check_pair(scope["server"], "server", server.port)


def subprotocol_exchange(server: Server) -> tuple[Any, str | None]:
    """Offer two subprotocols to an app that accepts the second and sends what it was offered."""
    require_offer(server, "websocket")
    with server.ws("/asgi/ws/subprotocol", subprotocols=["first.v1", "second.v2"]) as ws:
        offered = json.loads(ws.recv(timeout=5))
        selected = ws.subprotocol
        with contextlib.suppress(ConnectionClosed):  # the app closes: wait for it
            ws.recv(timeout=5)
    return offered, selected


@pytest.mark.requirement("ASGI-WS-ACCEPT")
def test_ws_accept_then_send(server: Server) -> None:
    offered, _ = subprotocol_exchange(server)
    expect_type(offered, list, "the message sent after websocket.accept")


@pytest.mark.requirement("ASGI-WS-SCOPE-SUBPROTOCOLS")
def test_ws_scope_subprotocols(server: Server) -> None:
    offered, _ = subprotocol_exchange(server)
    expect_equal(offered, ["first.v1", "second.v2"], "scope['subprotocols']")


@pytest.mark.requirement("ASGI-WS-ACCEPT-SUBPROTOCOL")
def test_ws_accept_subprotocol(server: Server) -> None:
    _, selected = subprotocol_exchange(server)
    expect_equal(selected, "second.v2", "Sec-WebSocket-Protocol of the handshake response")


@pytest.mark.requirement("ASGI-WS-CLOSE-BEFORE-ACCEPT")
def test_ws_close_before_accept_is_403(server: Server) -> None:
    require_offer(server, "websocket")
    try:
        with server.ws("/asgi/ws/reject"):
            pass
    except InvalidStatus as error:
        expect_equal(error.response.status_code, 403, "handshake status")
    else:
        expect_true(False, "handshake refused", "HTTP 403", "the handshake succeeded")


def ws_close_frame(server: Server, code: int, reason: str) -> tuple[int, str]:
    with server.ws(f"/asgi/ws/close?code={code}&reason={reason}") as ws:
        try:
            ws.recv(timeout=5)
        except ConnectionClosed as closed:
            received = closed.rcvd
            expect_true(received is not None, "close frame", "a close frame", "none")
            assert received is not None
            return received.code, received.reason
    pytest.fail("harness error: the app sent a message instead of closing")


@pytest.mark.requirement("ASGI-WS-CLOSE-CODE")
def test_ws_close_code_reaches_client(server: Server) -> None:
    require_offer(server, "websocket")
    code, _ = ws_close_frame(server, 4001, "bye")
    expect_equal(code, 4001, "close code")


@pytest.mark.requirement("ASGI-WS-CLOSE-REASON")
def test_ws_close_reason_reaches_client(server: Server) -> None:
    require_offer(server, "websocket")
    spec = ws_scope(server)["asgi"].get("spec_version", "2.0")
    if tuple(int(p) for p in spec.split(".")) < (2, 3):
        not_applicable(f"the server declares spec_version {spec} (< 2.3)")
    _, reason = ws_close_frame(server, 4001, "bye")
    expect_equal(reason, "bye", "close reason")


@pytest.mark.requirement("ASGI-EXT-WS-DENIAL")
def test_ws_denial_response(server: Server) -> None:
    require_offer(server, "websocket")
    if not server.offers("websocket.http.response"):
        not_applicable("no websocket.http.response extension")
    try:
        with server.ws("/asgi/ws/deny"):
            pass
    except InvalidStatus as error:
        response = error.response
        expect_equal(response.status_code, 401, "denial status")
        expect_equal(response.headers.get("x-denied"), "yes", "denial header")
        expect_equal(response.body, b"denied here", "denial body, chunks in order")
    else:
        expect_true(False, "handshake denied", "HTTP 401", "the handshake succeeded")


@pytest.mark.requirement("ASGI-EXTENSIONS-DECLARED")
def test_extensions_match_configuration(server: Server) -> None:
    live = set(http_scope(server, "/asgi/scope").get("extensions") or {})
    if server.config.offers.websocket:
        live |= set(ws_scope(server).get("extensions") or {})
    declared = set(server.config.offers.extensions)
    expect_equal(
        sorted(live), sorted(declared), f"scope extensions vs servers/{server.name}.toml [offers]"
    )
