"""The HTTP scope and request messages a server hands the app (requirements/srv-http-scope.toml)."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from typing import Any

import pytest

from conformance.harness import expect_equal, expect_in, expect_true, expect_type
from conformance.harness.server import Server
from conformance.srv_checks import header_values, scope_of, untag
from conformance.srv_wire import Exchange, parse_all, request, roundtrip

# Every case reads or writes HTTP/1.1 (or WebSocket) bytes: none is generated for h2c/h2
# columns (harness/transport.py); HTTP/2 twins live in test_h2_twins.py.
pytestmark = pytest.mark.h1_only

RESULT_BOUND = 3.0
STR_KEYS = ("type", "http_version", "method", "scheme", "path", "root_path")


def echo(server: Server, data: bytes | list[bytes], hints: tuple[str, ...] = ("GET",)) -> Exchange:
    return roundtrip(server, data, hints)


def check_scope_types(scope: dict[str, Any], method: str, version: str, path: str) -> None:
    """Every key the spec lists has its type; values that are fixed by the request match."""
    expect_type(scope, dict, "scope")
    for key in STR_KEYS:
        if key in ("scheme", "root_path") and key not in scope:
            continue
        expect_type(scope[key], str, f"scope[{key!r}]")
    expect_equal(scope["type"], "http", "type")
    expect_type(scope.get("asgi"), dict, "asgi")
    expect_type(scope["asgi"].get("version"), str, "asgi['version']")
    if "spec_version" in scope["asgi"]:
        expect_type(scope["asgi"]["spec_version"], str, "asgi['spec_version']")
    expect_equal(scope["http_version"], version, "http_version")
    expect_equal(scope["method"], method, "method")
    expect_equal(scope["path"], path, "path")
    if scope.get("scheme") is not None:
        expect_true(scope["scheme"] != "", "scheme", "non-empty", repr(scope["scheme"]))
    if scope.get("raw_path") is not None:
        expect_type(scope["raw_path"], bytes, "raw_path")
    expect_type(scope["query_string"], bytes, "query_string")
    expect_type(scope["headers"], list, "headers")
    for pair in scope["headers"]:
        expect_equal(len(pair), 2, "each header item has two items")
        expect_type(pair[0], bytes, "header name")
        expect_type(pair[1], bytes, "header value")
    for key in ("client", "server"):
        value = scope.get(key)
        if value is not None:
            expect_equal(len(value), 2, f"{key} has two items")
            expect_type(value[0], str, f"{key}[0]")
            if key == "client" or value[1] is not None:
                expect_type(value[1], int, f"{key}[1]")


def absolute_path(scope: dict[str, Any], target: str) -> str:
    """The path expected for an absolute-form ``target``: its path component, or the whole
    URI without the query (the ASGI text says "request target excluding any query string";
    servers differ, both are accepted)."""
    path = target.partition("?")[0]
    return path if scope["path"] == path else "/" + path.split("/", 3)[3]


# -- scope keys and types in several situations -------------------------------------------------


@pytest.mark.requirement("SRV-HTTP-SCOPE-TYPES-GET")
def test_scope_types_get(server: Server) -> None:
    scope = scope_of(echo(server, request(target="/srvhttp/echo/get?x=1", close=True)))
    check_scope_types(scope, "GET", "1.1", "/srvhttp/echo/get")


@pytest.mark.requirement("SRV-HTTP-SCOPE-TYPES-HTTP10")
def test_scope_types_http10(server: Server) -> None:
    scope = scope_of(echo(server, request(target="/srvhttp/echo/ten", version="1.0")))
    check_scope_types(scope, "GET", "1.0", "/srvhttp/echo/ten")


@pytest.mark.requirement("SRV-HTTP-SCOPE-TYPES-CHUNKED-POST")
def test_scope_types_chunked_post(server: Server) -> None:
    data = request(
        "POST",
        "/srvhttp/echo/post",
        ["Transfer-Encoding: chunked"],
        b"3\r\nabc\r\n0\r\n\r\n",
        close=True,
    )
    check_scope_types(scope_of(echo(server, data, ("POST",))), "POST", "1.1", "/srvhttp/echo/post")


@pytest.mark.requirement("SRV-HTTP-SCOPE-TYPES-PIPELINED")
def test_scope_types_pipelined(server: Server) -> None:
    data = request(target="/srvhttp/echo/one") + request(target="/srvhttp/echo/two", close=True)
    exchange = roundtrip(server, data, ("GET", "GET"))
    check_scope_types(scope_of(exchange, 1), "GET", "1.1", "/srvhttp/echo/two")


@pytest.mark.requirement("SRV-HTTP-SCOPE-TYPES-ABSOLUTE-FORM")
def test_scope_types_absolute_form(server: Server) -> None:
    target = f"http://127.0.0.1:{server.port}/srvhttp/echo/abs"
    scope = scope_of(echo(server, request(target=target, close=True)))
    check_scope_types(scope, "GET", "1.1", absolute_path(scope, target))


@pytest.mark.requirement("SRV-HTTP-SCOPE-TYPES-EXPECT")
def test_scope_types_expect(server: Server) -> None:
    fields = ["Expect: 100-continue", "Content-Length: 3"]
    data = request("POST", "/srvhttp/echo/expect", fields, b"abc", close=True)
    exchange = echo(server, data, ("POST",))
    check_scope_types(scope_of(exchange), "POST", "1.1", "/srvhttp/echo/expect")


# -- request forms ------------------------------------------------------------------------------


@pytest.mark.requirement("SRV-HTTP-HTTP10-NO-HOST")
def test_http10_without_host(server: Server) -> None:
    scope = scope_of(
        echo(server, request(target="/srvhttp/echo/nohost", version="1.0", host=False))
    )
    expect_equal(scope["http_version"], "1.0", "http_version")


@pytest.mark.requirement("SRV-HTTP-ABSOLUTE-FORM")
def test_absolute_form(server: Server) -> None:
    target = f"http://127.0.0.1:{server.port}/srvhttp/echo/abs?q=1"
    scope = scope_of(echo(server, request(target=target, close=True)))
    expect_equal(scope["path"], absolute_path(scope, target.partition("?")[0]), "path")
    expect_equal(scope["query_string"], b"q=1", "query_string of an absolute-form target")


@pytest.mark.requirement("SRV-HTTP-PATH-ENCODED-SLASH")
def test_path_encoded_slash(server: Server) -> None:
    scope = scope_of(echo(server, request(target="/srvhttp/echo/a%2Fb", close=True)))
    expect_equal(scope["path"], "/srvhttp/echo/a/b", "path with %2F decoded")
    if scope.get("raw_path") is not None:
        expect_equal(scope["raw_path"], b"/srvhttp/echo/a%2Fb", "raw_path keeps %2F")


@pytest.mark.requirement("SRV-HTTP-PATH-RAW-UTF8")
def test_path_raw_utf8(server: Server) -> None:
    exchange = echo(server, request(target=b"/srvhttp/echo/caf\xc3\xa9", close=True))
    first = exchange.first
    expect_true(first is not None, "answered", "400 or 200", exchange.summary())
    assert first is not None
    if first.status != 400:
        expect_equal(scope_of(exchange)["path"], "/srvhttp/echo/café", "path of raw UTF-8 bytes")


@pytest.mark.requirement("SRV-HTTP-PATH-LONG")
def test_path_long(server: Server) -> None:
    path = "/srvhttp/echo/" + "x" * 8000
    exchange = echo(server, request(target=path, close=True))
    first = exchange.first
    expect_true(first is not None, "answered", "200 or 414", exchange.summary())
    assert first is not None
    if first.status != 414:
        scope = scope_of(exchange)
        expect_equal(scope["path"], path, "an 8000-byte path")
        if scope.get("raw_path") is not None:
            expect_equal(scope["raw_path"], path.encode(), "raw_path of an 8000-byte path")


@pytest.mark.requirement("SRV-HTTP-QUERY-EMPTY")
def test_query_empty(server: Server) -> None:
    scope = scope_of(echo(server, request(target="/srvhttp/echo/q?", close=True)))
    expect_equal(scope["path"], "/srvhttp/echo/q", "path before an empty query")
    expect_equal(scope["query_string"], b"", "query_string of '?'")


@pytest.mark.requirement("SRV-HTTP-QUERY-RAW")
def test_query_raw(server: Server) -> None:
    query = "a=%20b&c=+&d=%2B&e=caf%C3%A9"
    scope = scope_of(echo(server, request(target="/srvhttp/echo/q?" + query, close=True)))
    expect_equal(scope["query_string"], query.encode(), "query_string, not decoded")


@pytest.mark.requirement("SRV-HTTP-HEADER-TRIMMED")
def test_header_trimmed(server: Server) -> None:
    scope = scope_of(echo(server, request(fields=["X-Pad:  \t padded \t "], close=True)))
    expect_equal(header_values(scope, b"x-pad"), [b"padded"], "x-pad value")


@pytest.mark.requirement("SRV-HTTP-HEADER-OBS-TEXT")
def test_header_obs_text(server: Server) -> None:
    scope = scope_of(echo(server, request(fields=[b"X-Latin: caf\xe9"], close=True)))
    expect_equal(header_values(scope, b"x-latin"), [b"caf\xe9"], "x-latin value")


@pytest.mark.requirement("SRV-HTTP-HEADER-DUPLICATES-CASE")
def test_header_duplicates_case(server: Server) -> None:
    scope = scope_of(echo(server, request(fields=["X-Dup: 1", "x-DUP: 2"], close=True)))
    expect_equal(header_values(scope, b"x-dup"), [b"1", b"2"], "x-dup values in order")


@pytest.mark.requirement("SRV-HTTP-CLIENT-PORT")
def test_client_port(server: Server) -> None:
    with server.connect() as sock:
        local_port = sock.getsockname()[1]
        sock.sendall(request(close=True))
        received = b""
        sock.settimeout(3)
        while chunk := sock.recv(65536):
            received += chunk
    responses, _, _ = parse_all(received, ("GET",), eof=True)
    exchange = Exchange(received, responses, True, False, False)
    client = scope_of(exchange).get("client")
    if client is not None:
        expect_equal(list(client), ["127.0.0.1", local_port], "client")


@pytest.mark.requirement("SRV-HTTP-MINOR-VERSION")
def test_minor_version_higher(server: Server) -> None:
    scope = scope_of(echo(server, request(version="1.7", close=True)))
    expect_equal(scope["http_version"], "1.1", "http_version of an HTTP/1.7 request")


@pytest.mark.requirement("SRV-HTTP-LEADING-CRLF")
def test_leading_crlf_ignored(server: Server) -> None:
    scope = scope_of(echo(server, b"\r\n" + request(target="/srvhttp/echo/crlf", close=True)))
    expect_equal(scope["path"], "/srvhttp/echo/crlf", "path after a leading CRLF")


# -- body delivery ------------------------------------------------------------------------------


def messages_of(exchange: Exchange) -> list[dict[str, Any]]:
    return [
        {"type": m["type"], "body": untag(m["body"]), "more_body": untag(m["more_body"])}
        for m in exchange.echo()["messages"]
    ]


def check_flags(messages: list[dict[str, Any]], body: bytes) -> None:
    for message in messages:
        expect_equal(message["type"], "http.request", "message type while the body arrives")
        expect_type(message["body"], bytes, "http.request body")
        expect_type(message["more_body"], bool, "http.request more_body")
    expect_equal([m["more_body"] for m in messages[:-1]], [True] * (len(messages) - 1), "flags")
    expect_equal(messages[-1]["more_body"], False, "more_body of the last message")
    expect_equal(b"".join(m["body"] for m in messages), body, "the concatenated body")


@pytest.mark.requirement("SRV-BODY-EMPTY-POST")
def test_empty_post(server: Server) -> None:
    data = request("POST", "/srvhttp/echo?after=1", ["Content-Length: 0"], close=True)
    exchange = echo(server, data, ("POST",))
    messages = messages_of(exchange)
    expect_equal(messages, [{"type": "http.request", "body": b"", "more_body": False}], "messages")
    expect_equal(exchange.echo()["extra"], None, "a further receive() before the response")


@pytest.mark.requirement("SRV-BODY-GET-NO-BODY")
def test_get_without_body(server: Server) -> None:
    messages = messages_of(echo(server, request(close=True)))
    expect_equal(messages, [{"type": "http.request", "body": b"", "more_body": False}], "messages")


@pytest.mark.requirement("SRV-BODY-MORE-BODY-FLAGS")
def test_large_body_flags(server: Server) -> None:
    body = bytes(range(256)) * 4096
    fields = [f"Content-Length: {len(body)}"]
    data = request("POST", "/srvhttp/echo?digest=1", fields, body, close=True)
    exchange = roundtrip(server, data, ("POST",), bound=10)
    messages = messages_of(exchange)
    for message in messages:  # the app answers each body's length (as bytes) and a digest
        message["body"] = b"x" * int(message["body"])
    check_flags(messages, b"x" * len(body))
    expect_equal(exchange.echo()["body"], hashlib.sha256(body).hexdigest(), "body digest")


@pytest.mark.requirement("SRV-BODY-SLOW-CLIENT")
def test_slow_client_body(server: Server) -> None:
    head = request("POST", "/srvhttp/echo", ["Content-Length: 15"], close=True)
    exchange = roundtrip(server, [head + b"first", b"-sec-", b"third"], ("POST",), gap=0.05)
    check_flags(messages_of(exchange), b"first-sec-third")


@pytest.mark.requirement("SRV-BODY-CHUNKED-DECODED")
def test_chunked_decoded(server: Server) -> None:
    body = b"4\r\nabcd\r\n1\r\ne\r\nA\r\n0123456789\r\n0\r\n\r\n"
    data = request("POST", "/srvhttp/echo", ["Transfer-Encoding: chunked"], body, close=True)
    check_flags(messages_of(echo(server, data, ("POST",))), b"abcde0123456789")


@pytest.mark.requirement("SRV-BODY-CHUNKED-TRAILERS")
def test_chunked_with_trailers(server: Server) -> None:
    body = b"5\r\nhello\r\n0\r\nX-Checksum: 1\r\nX-Other: 2\r\n\r\n"
    fields = ["Transfer-Encoding: chunked", "Trailer: X-Checksum, X-Other"]
    data = request("POST", "/srvhttp/echo", fields, body, close=True)
    check_flags(messages_of(echo(server, data, ("POST",))), b"hello")


@pytest.mark.requirement("SRV-BODY-NO-EXTRA-MESSAGE")
def test_no_extra_message(server: Server) -> None:
    data = request("POST", "/srvhttp/echo?after=1", ["Content-Length: 3"], b"abc", close=True)
    exchange = echo(server, data, ("POST",))
    expect_equal(exchange.echo()["extra"], None, "what receive() returned after the body")


# -- disconnects (the app records; the case polls /srvhttp/result) -------------------------------


def poll(
    server: Server, token: str, done: Any, bound: float = RESULT_BOUND, required: bool = True
) -> Any:
    """The app's record once ``done(record)``; None if ``required`` is False and it never came."""
    deadline = time.monotonic() + bound
    with server.http() as client:
        while True:
            record = client.get(f"/srvhttp/result/{token}").json()
            if record is not None and done(record):
                return record
            if time.monotonic() > deadline:
                if not required:
                    return None
                expect_true(
                    False, "the app's record", f"complete within {RESULT_BOUND} s", repr(record)
                )
            time.sleep(0.02)


def disconnect_record(server: Server, fields: list[str], body: bytes) -> Any:
    """Send a request, close once the app runs; what the app recorded (None: never called)."""
    token = uuid.uuid4().hex
    with server.connect() as sock:
        sock.sendall(request("POST", f"/srvhttp/disconnect/{token}", fields, body))
        started = poll(server, token, lambda record: True, bound=1.0, required=False)
    if started is None:
        return None
    return poll(server, token, lambda record: record["done"])


def cut_short_record(server: Server, fields: list[str], body: bytes) -> Any:
    """``disconnect_record`` for a body cut short by the close (None: the app was never called).

    A server may cancel the app when the client goes: its record then never completes, which
    is accepted (``record["cancelled"]``) as long as no short body looked complete."""
    token = uuid.uuid4().hex
    with server.connect() as sock:
        sock.sendall(request("POST", f"/srvhttp/disconnect/{token}", fields, body))
        started = poll(server, token, lambda record: True, bound=1.0, required=False)
    if started is None:
        return None
    record = poll(server, token, lambda record: record["done"], required=False)
    if record is None:
        record = dict(poll(server, token, lambda record: True), cancelled=True)
    return record


def expect_never_complete(record: Any, what: str) -> None:
    """No http.request with more_body False; the last message http.disconnect unless cancelled."""
    ends = [m for m in record["messages"] if m and m["type"] == "http.request"]
    expect_true(
        all(untag(m["more_body"]) for m in ends),
        what,
        "no http.request with more_body False",
        repr(record["messages"]),
    )
    if not record.get("cancelled"):
        expect_equal(types_of(record)[-1], "http.disconnect", "the last message")


def types_of(record: Any) -> list[Any]:
    return [None if m is None else m["type"] for m in record["messages"]]


@pytest.mark.requirement("SRV-BODY-INCOMPLETE-CL")
def test_incomplete_content_length(server: Server) -> None:
    record = cut_short_record(server, ["Content-Length: 10"], b"12345")
    if record is None:
        return  # the app was never called: no short body was handed to it
    expect_never_complete(record, "a body cut short never looks complete")


@pytest.mark.requirement("SRV-BODY-INCOMPLETE-CHUNKED")
def test_incomplete_chunked(server: Server) -> None:
    record = cut_short_record(server, ["Transfer-Encoding: chunked"], b"a\r\n12345")
    if record is None:
        return  # the app was never called: no short body was handed to it
    expect_never_complete(record, "a chunked body cut short never looks complete")


@pytest.mark.requirement("SRV-HTTP-DISCONNECT-PROMPT")
def test_disconnect_prompt(server: Server) -> None:
    record = disconnect_record(server, ["Content-Length: 3"], b"abc")
    expect_true(record is not None, "the app runs", "a record", "the app was never called")
    expect_in("http.disconnect", types_of(record), "messages after the client closed")


@pytest.mark.requirement("SRV-HTTP-DISCONNECT-REPEATED")
def test_disconnect_repeated(server: Server) -> None:
    record = disconnect_record(server, ["Content-Length: 3"], b"abc")
    expect_true(record is not None, "the app runs", "a record", "the app was never called")
    expect_in("http.disconnect", types_of(record), "messages after the client closed")
    again = record.get("again")
    expect_equal(None if again is None else again["type"], "http.disconnect", "receive() again")


# -- Expect: 100-continue -----------------------------------------------------------------------


def expect_exchange(server: Server, target: str, version: str = "1.1") -> tuple[bytes, bytes]:
    """Send the head with Expect; answer (bytes before sending the body, bytes after)."""
    fields = ["Expect: 100-continue", "Content-Length: 5"]
    with server.connect() as sock:
        sock.sendall(request("POST", target, fields, version=version, close=True))
        sock.settimeout(RESULT_BOUND)
        try:
            before = sock.recv(65536)
        except TimeoutError:
            before = b""
        after = b""
        if not before.startswith(b"HTTP/1.1 100") or before.count(b"HTTP/1.") > 1:
            return before, after
        if b"\r\n\r\n" not in before:
            before += sock.recv(65536)
        sock.sendall(b"hello")
        while chunk := sock.recv(65536):
            after += chunk
    return before, after


@pytest.mark.requirement("SRV-BODY-EXPECT-100")
def test_expect_100_sent(server: Server) -> None:
    before, _ = expect_exchange(server, "/srvhttp/echo")
    expect_true(
        before.startswith(b"HTTP/1.1 100"),
        "100 Continue before the content",
        "an interim 100 response",
        repr(before[:200]),
    )


@pytest.mark.requirement("SRV-BODY-EXPECT-FINAL")
def test_expect_final_after_100(server: Server) -> None:
    before, after = expect_exchange(server, "/srvhttp/echo")
    expect_true(before.startswith(b"HTTP/1.1 100"), "100 first", "100", repr(before[:200]))
    rest = before.partition(b"\r\n\r\n")[2] + after
    responses, error, _ = parse_all(rest, ("POST",), eof=True)
    expect_true(
        bool(responses) and responses[0].status == 200 and error is None,
        "a final response after 100 Continue and the content",
        "200",
        repr(rest[:300]),
    )
    expect_equal(json.loads(responses[0].body)["body"], "hello", "the echoed body")


@pytest.mark.requirement("SRV-BODY-EXPECT-NOREAD")
def test_expect_app_never_reads(server: Server) -> None:
    fields = ["Expect: 100-continue", "Content-Length: 5"]
    data = request("POST", "/srvhttp/noread", fields, close=True)
    exchange = roundtrip(server, data, ("POST",), expect=1)
    if exchange.timed_out and exchange.raw.startswith(b"HTTP/1.1 100"):
        # 100 Continue is the other answer the RFC allows: the content follows it
        exchange = roundtrip(server, [data, b"hello"], ("POST",), expect=1, gap=0.05)
    expect_true(
        exchange.first is not None and exchange.first.status == 200,
        "a final response without the content being sent",
        "200 (a 100 before it is allowed)",
        exchange.summary(),
    )


@pytest.mark.requirement("SRV-BODY-EXPECT-HTTP10")
def test_expect_ignored_in_http10(server: Server) -> None:
    fields = ["Expect: 100-continue", "Content-Length: 5"]
    data = request("POST", "/srvhttp/echo", fields, b"hello", version="1.0")
    exchange = roundtrip(server, data, ("POST",))
    expect_true(
        exchange.first is not None and not exchange.first.informational,
        "no 100 Continue to HTTP/1.0",
        "the final response only",
        exchange.summary(),
    )
