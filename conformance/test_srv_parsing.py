"""HTTP/1.1 request parsing and smuggling (requirements/srv-http1-parsing.toml).

Each malformed request goes out on a raw socket with the canary pipelined behind it; a
request hidden in a body targets ``/srvhttp/echo/smuggled`` so that answering it shows.
"""

from __future__ import annotations

import time

import pytest

from conformance.harness import expect_equal, expect_true
from conformance.harness.server import Server
from conformance.srv_checks import (
    header_values,
    not_read_as,
    post,
    refused,
    refused_and_closed,
    refused_or_closed,
    refused_or_value,
    scope_of,
    served,
    with_canary,
)
from conformance.srv_wire import SMUGGLED, Exchange, expect_no_smuggling, request, roundtrip

# Every case reads or writes HTTP/1.1 (or WebSocket) bytes: none is generated for h2c/h2
# columns (harness/transport.py); HTTP/2 twins live in test_h2_twins.py.
pytestmark = pytest.mark.h1_only

CHUNKED = "Transfer-Encoding: chunked"


def body_of(exchange: Exchange) -> bytes:
    return str(exchange.echo()["body"]).encode("latin-1")


def served_or_refused_with_body(server: Server, data: bytes, body: bytes) -> None:
    """Processed with exactly ``body`` or refused with 400 and a close; nothing smuggled."""
    exchange = with_canary(server, data)
    expect_no_smuggling(exchange)
    first = exchange.first
    expect_true(first is not None, "the request is answered", "200 or 400", exchange.summary())
    assert first is not None
    if first.status == 400:
        expect_true(
            not exchange.canary(), "a refusal closes", "close after 400", exchange.summary()
        )
        return
    expect_equal(first.status, 200, "status of a request processed with one length")
    expect_equal(body_of(exchange), body, "the body read with the single length")


# -- Content-Length and Transfer-Encoding together ----------------------------------------------


@pytest.mark.requirement("SRV-PARSE-CL-TE-CLOSE")
def test_cl_te_closes(server: Server) -> None:
    exchange = with_canary(server, post(["Content-Length: 5", CHUNKED], b"0\r\n\r\n"))
    expect_no_smuggling(exchange)
    first = exchange.first
    expect_true(first is not None, "CL+TE answered", "400 or 200", exchange.summary())
    assert first is not None
    expect_true(first.status in (400, 200), "CL+TE answered", "400 or 200", exchange.summary())
    if first.status == 200:
        expect_equal(body_of(exchange), b"", "a CL+TE body read by chunked framing")
    expect_true(
        not exchange.canary() and exchange.closed,
        "the connection closes after a CL+TE request",
        "close before the pipelined canary",
        exchange.summary(),
    )


@pytest.mark.requirement("SRV-PARSE-CL-TE-SMUGGLE-TE-SHORT")
def test_cl_te_chunked_ends_early(server: Server) -> None:
    body = b"0\r\n\r\n" + SMUGGLED
    not_read_as(server, post([f"Content-Length: {len(body)}", CHUNKED], body))


@pytest.mark.requirement("SRV-PARSE-CL-TE-SMUGGLE-CL-SHORT")
def test_cl_te_length_ends_early(server: Server) -> None:
    body = b"3\r\nabc\r\n0\r\n\r\n"
    hidden = b"5\r\n" + SMUGGLED
    not_read_as(server, post(["Content-Length: 3", CHUNKED], hidden + body))


# -- Content-Length values ----------------------------------------------------------------------


@pytest.mark.requirement("SRV-PARSE-CL-DUPLICATE-DIFFERENT")
def test_cl_duplicate_different(server: Server) -> None:
    refused_and_closed(server, post(["Content-Length: 3", "Content-Length: 5"], b"hello"))


@pytest.mark.requirement("SRV-PARSE-CL-LIST-DIFFERENT")
def test_cl_list_different(server: Server) -> None:
    refused_and_closed(server, post(["Content-Length: 3, 5"], b"hello"))


@pytest.mark.requirement("SRV-PARSE-CL-LIST-SAME")
def test_cl_list_same(server: Server) -> None:
    served_or_refused_with_body(server, post(["Content-Length: 5, 5"], b"hello"), b"hello")


@pytest.mark.requirement("SRV-PARSE-CL-DUPLICATE-SAME")
def test_cl_duplicate_same(server: Server) -> None:
    data = post(["Content-Length: 5", "Content-Length: 5"], b"hello")
    served_or_refused_with_body(server, data, b"hello")


@pytest.mark.requirement("SRV-PARSE-CL-PLUS-SIGN")
def test_cl_plus_sign(server: Server) -> None:
    refused_and_closed(server, post(["Content-Length: +5"], b"hello"))


@pytest.mark.requirement("SRV-PARSE-CL-NEGATIVE")
def test_cl_negative(server: Server) -> None:
    refused_and_closed(server, post(["Content-Length: -5"], b"hello"))


@pytest.mark.requirement("SRV-PARSE-CL-HEX")
def test_cl_hex(server: Server) -> None:
    refused_and_closed(server, post(["Content-Length: 0x5"], b"hello"))


@pytest.mark.requirement("SRV-PARSE-CL-TRAILING-GARBAGE")
def test_cl_trailing_garbage(server: Server) -> None:
    refused_and_closed(server, post(["Content-Length: 5a"], b"hello"))


@pytest.mark.requirement("SRV-PARSE-CL-EMPTY")
def test_cl_empty(server: Server) -> None:
    refused_and_closed(server, post(["Content-Length:"], b"hello"))


@pytest.mark.requirement("SRV-PARSE-CL-INNER-SPACE")
def test_cl_inner_space(server: Server) -> None:
    refused_and_closed(server, post(["Content-Length: 1 0"], b"helloworld"))


@pytest.mark.requirement("SRV-PARSE-CL-OVERFLOW")
def test_cl_overflow(server: Server) -> None:
    exchange = not_read_as(server, post([f"Content-Length: {2**64 + 5}"], b"hello" + SMUGGLED))
    first = exchange.first
    if first is not None:
        expect_true(
            400 <= first.status < 500,
            "an overflowing Content-Length is refused",
            "a 4xx, a close, or waiting for the content",
            exchange.summary(),
        )


# -- Transfer-Encoding --------------------------------------------------------------------------


@pytest.mark.requirement("SRV-PARSE-TE-NOT-FINAL")
def test_te_chunked_not_final(server: Server) -> None:
    data = post(["Transfer-Encoding: chunked, identity"], b"5\r\nhello\r\n0\r\n\r\n")
    refused_and_closed(server, data, (400, 501))  # 501: also "a coding it does not understand"


@pytest.mark.requirement("SRV-PARSE-TE-OBFUSCATED")
def test_te_obfuscated(server: Server) -> None:
    data = post(["Transfer-Encoding: xchunked"], b"5\r\nhello\r\n0\r\n\r\n")
    refused_and_closed(server, data, (400, 501))  # 501: also "a coding it does not understand"


@pytest.mark.requirement("SRV-PARSE-TE-UNKNOWN-CODING")
def test_te_unknown_coding(server: Server) -> None:
    data = post(["Transfer-Encoding: x-unknown, chunked"], b"5\r\nhello\r\n0\r\n\r\n")
    refused(server, data, (501,))


def http10_te(server: Server, fields: list[str]) -> None:
    body = b"0\r\n\r\n" + SMUGGLED
    data = request("POST", "/srvhttp/echo", [*fields, CHUNKED], body, version="1.0")
    exchange = with_canary(server, data)
    expect_no_smuggling(exchange)
    expect_true(
        exchange.closed and not exchange.canary(),
        "an HTTP/1.0 request with Transfer-Encoding closes the connection",
        "a close after at most one response",
        exchange.summary(),
    )


@pytest.mark.requirement("SRV-PARSE-TE-HTTP10")
def test_te_in_http10(server: Server) -> None:
    http10_te(server, [])


@pytest.mark.requirement("SRV-PARSE-TE-HTTP10-WITH-CL")
def test_te_and_cl_in_http10(server: Server) -> None:
    http10_te(server, [f"Content-Length: {5 + len(SMUGGLED)}"])


# -- field syntax -------------------------------------------------------------------------------


@pytest.mark.requirement("SRV-PARSE-TE-SPACE-BEFORE-COLON")
def test_te_space_before_colon(server: Server) -> None:
    refused(server, post(["Content-Length: 5", "Transfer-Encoding : chunked"], b"0\r\n\r\n"))


@pytest.mark.requirement("SRV-PARSE-SPACE-BEFORE-COLON")
def test_space_before_colon(server: Server) -> None:
    refused(server, request("GET", "/srvhttp/echo", ["X-Padded : value"]))


@pytest.mark.requirement("SRV-PARSE-TAB-BEFORE-COLON")
def test_tab_before_colon(server: Server) -> None:
    refused(server, request("GET", "/srvhttp/echo", ["X-Padded\t: value"]))


@pytest.mark.requirement("SRV-PARSE-OBS-FOLD")
def test_obs_fold(server: Server) -> None:
    data = request("GET", "/srvhttp/echo", ["X-Fold: first", " second"])
    refused_or_value(server, data, b"x-fold", [b"first second", b"first  second"])


@pytest.mark.requirement("SRV-PARSE-OBS-FOLD-TE")
def test_obs_fold_hides_transfer_encoding(server: Server) -> None:
    body = b"0\r\n\r\n" + SMUGGLED
    data = post([f"Content-Length: {len(body)}", "X-Note: y", " Transfer-Encoding: chunked"], body)
    exchange = with_canary(server, data)
    expect_no_smuggling(exchange)


@pytest.mark.requirement("SRV-PARSE-BARE-CR-VALUE")
def test_bare_cr_in_value(server: Server) -> None:
    refused_or_value(server, request("GET", "/srvhttp/echo", [b"X-Bad: a\rb"]), b"x-bad", [b"a b"])


@pytest.mark.requirement("SRV-PARSE-BARE-CR-REQUEST-LINE")
def test_bare_cr_in_request_line(server: Server) -> None:
    data = b"GET /srvhttp/echo HTTP/1.1\r\r\nHost: 127.0.0.1\r\n\r\n"
    exchange = with_canary(server, data, "GET")
    expect_no_smuggling(exchange)
    first = exchange.first
    expect_true(
        (first is None and exchange.closed) or (first is not None and first.status == 400),
        "a request line with a bare CR is refused",
        "400 or a close",
        exchange.summary(),
    )


@pytest.mark.requirement("SRV-PARSE-BARE-CR-HEADER-END")
def test_bare_cr_before_crlf(server: Server) -> None:
    data = request("GET", "/srvhttp/echo", [b"X-Bad: value\r"])
    refused_or_value(server, data, b"x-bad", [b"value", b"value "])


@pytest.mark.requirement("SRV-PARSE-NUL-VALUE")
def test_nul_in_value(server: Server) -> None:
    data = request("GET", "/srvhttp/echo", [b"X-Nul: a\x00b"])
    refused_or_value(server, data, b"x-nul", [b"a b"])


@pytest.mark.requirement("SRV-PARSE-NUL-NAME")
def test_nul_in_name(server: Server) -> None:
    refused_and_closed(server, request("GET", "/srvhttp/echo", [b"X-N\x00ul: v"]))


@pytest.mark.requirement("SRV-PARSE-CTL-NAME")
def test_control_in_name(server: Server) -> None:
    refused_and_closed(server, request("GET", "/srvhttp/echo", [b"X-\x01: v"]))


@pytest.mark.requirement("SRV-PARSE-NO-COLON")
def test_no_colon(server: Server) -> None:
    refused_and_closed(server, request("GET", "/srvhttp/echo", ["X-No-Colon"]))


@pytest.mark.requirement("SRV-PARSE-EMPTY-NAME")
def test_empty_name(server: Server) -> None:
    refused_and_closed(server, request("GET", "/srvhttp/echo", [": value"]))


@pytest.mark.requirement("SRV-PARSE-SPACE-IN-NAME")
def test_space_in_name(server: Server) -> None:
    refused_and_closed(server, request("GET", "/srvhttp/echo", ["X Bad: v"]))


@pytest.mark.requirement("SRV-PARSE-WS-AFTER-START-LINE")
def test_whitespace_line_after_start_line(server: Server) -> None:
    data = b"GET /srvhttp/echo HTTP/1.1\r\n X-Hidden: v\r\nHost: 127.0.0.1\r\n\r\n"
    exchange = with_canary(server, data, "GET")
    expect_no_smuggling(exchange)
    first = exchange.first
    expect_true(first is not None, "answered", "400 or 200", exchange.summary())
    assert first is not None
    if first.status != 400:
        names = [bytes(name).strip().lower() for name, _ in scope_of(exchange)["headers"]]
        expect_true(
            b"x-hidden" not in names,
            "a whitespace-preceded line is ignored when not refused",
            "no x-hidden field in the scope",
            repr(names),
        )


# -- request line -------------------------------------------------------------------------------


def invalid_line(server: Server, line: bytes) -> None:
    data = line + b"\r\nHost: 127.0.0.1\r\n\r\n"
    exchange = with_canary(server, data, "GET")
    expect_no_smuggling(exchange)
    first = exchange.first
    expect_true(
        first is not None and first.status in (400, 301),
        "an invalid request line is refused",
        "400 or 301",
        exchange.summary(),
    )


@pytest.mark.requirement("SRV-PARSE-METHOD-INVALID")
def test_method_not_a_token(server: Server) -> None:
    refused_and_closed(server, request("G(T", "/srvhttp/echo"))


@pytest.mark.requirement("SRV-PARSE-METHOD-EMPTY")
def test_method_empty(server: Server) -> None:
    invalid_line(server, b" /srvhttp/echo HTTP/1.1")


@pytest.mark.requirement("SRV-PARSE-TARGET-SPACE")
def test_target_with_space(server: Server) -> None:
    invalid_line(server, b"GET /srvhttp/echo/a b HTTP/1.1")


@pytest.mark.requirement("SRV-PARSE-TARGET-NO-SLASH")
def test_target_without_slash(server: Server) -> None:
    invalid_line(server, b"GET srvhttp/echo HTTP/1.1")


@pytest.mark.requirement("SRV-PARSE-TARGET-FRAGMENT")
def test_target_with_fragment(server: Server) -> None:
    invalid_line(server, b"GET /srvhttp/echo#frag HTTP/1.1")


@pytest.mark.requirement("SRV-PARSE-TARGET-CTL")
def test_target_with_control(server: Server) -> None:
    invalid_line(server, b"GET /srvhttp/echo/\x01 HTTP/1.1")


@pytest.mark.requirement("SRV-PARSE-TARGET-NUL")
def test_target_with_nul(server: Server) -> None:
    invalid_line(server, b"GET /srvhttp/echo/\x00 HTTP/1.1")


@pytest.mark.requirement("SRV-PARSE-VERSION-EXTRA-SPACE")
def test_version_extra_space(server: Server) -> None:
    invalid_line(server, b"GET /srvhttp/echo  HTTP/1.1")


@pytest.mark.requirement("SRV-PARSE-TARGET-TOO-LONG")
def test_target_too_long(server: Server) -> None:
    path = "/srvhttp/echo/" + "a" * (128 * 1024)
    exchange = roundtrip(server, request("GET", path, close=True))
    first = exchange.first
    expect_true(
        first is not None, "a very long target is answered", "414 or 200", exchange.summary()
    )
    assert first is not None
    if first.status != 414:
        expect_equal(first.status, 200, "status for a 128 KiB target (414 when refused)")
        expect_equal(scope_of(exchange)["path"], path, "the whole path")


@pytest.mark.requirement("SRV-PARSE-VERSION-LOWERCASE")
def test_version_lowercase(server: Server) -> None:
    refused_and_closed(server, b"GET /srvhttp/echo http/1.1\r\nHost: 127.0.0.1\r\n\r\n", (400, 505))


@pytest.mark.requirement("SRV-PARSE-VERSION-GARBAGE")
def test_version_garbage(server: Server) -> None:
    refused_and_closed(server, b"GET /srvhttp/echo HTTP/1.x\r\nHost: 127.0.0.1\r\n\r\n", (400, 505))


# -- Host ---------------------------------------------------------------------------------------


@pytest.mark.requirement("SRV-PARSE-HOST-MISSING")
def test_host_missing(server: Server) -> None:
    refused(server, request("GET", "/srvhttp/echo", host=False))


@pytest.mark.requirement("SRV-PARSE-HOST-DUPLICATE")
def test_host_duplicate(server: Server) -> None:
    refused(server, request("GET", "/srvhttp/echo", ["Host: 127.0.0.1"]))


@pytest.mark.requirement("SRV-PARSE-HOST-INVALID")
def test_host_invalid(server: Server) -> None:
    refused(server, request("GET", "/srvhttp/echo", ["Host: bad host"], host=False))


@pytest.mark.requirement("SRV-PARSE-HOST-USERINFO")
def test_host_userinfo(server: Server) -> None:
    refused(server, request("GET", "/srvhttp/echo", ["Host: user@127.0.0.1"], host=False))


# -- chunked bodies -----------------------------------------------------------------------------


@pytest.mark.requirement("SRV-PARSE-CHUNK-SIZE-INVALID")
def test_chunk_size_invalid(server: Server) -> None:
    refused_or_closed(server, post([CHUNKED], b"zz\r\nhello\r\n0\r\n\r\n"))


@pytest.mark.requirement("SRV-PARSE-CHUNK-SIZE-OVERFLOW")
def test_chunk_size_overflow(server: Server) -> None:
    size = format(2**64 + 5, "x").encode()
    exchange = not_read_as(server, post([CHUNKED], size + b"\r\nhello\r\n0\r\n\r\n" + SMUGGLED))
    first = exchange.first
    if first is not None:
        expect_true(
            400 <= first.status < 500,
            "an overflowing chunk size is refused",
            "a 4xx, a close, or waiting for the data",
            exchange.summary(),
        )


@pytest.mark.requirement("SRV-PARSE-CHUNK-SIZE-0X")
def test_chunk_size_0x(server: Server) -> None:
    refused_or_closed(server, post([CHUNKED], b"0x5\r\nhello\r\n0\r\n\r\n"))


@pytest.mark.requirement("SRV-PARSE-CHUNK-SIZE-NEGATIVE")
def test_chunk_size_negative(server: Server) -> None:
    refused_or_closed(server, post([CHUNKED], b"-5\r\nhello\r\n0\r\n\r\n"))


@pytest.mark.requirement("SRV-PARSE-CHUNK-SIZE-LEADING-SPACE")
def test_chunk_size_leading_space(server: Server) -> None:
    refused_or_closed(server, post([CHUNKED], b" 5\r\nhello\r\n0\r\n\r\n"))


@pytest.mark.requirement("SRV-PARSE-CHUNK-DATA-OVERRUN")
def test_chunk_data_overrun(server: Server) -> None:
    refused_or_closed(server, post([CHUNKED], b"3\r\nhello\r\n0\r\n\r\n"))


@pytest.mark.requirement("SRV-PARSE-CHUNK-LF-ONLY")
def test_chunk_lines_bare_lf(server: Server) -> None:
    body = b"5\nhello\n0\n\n" + SMUGGLED
    exchange = with_canary(server, post([CHUNKED], body), bound=0.3)
    expect_no_smuggling(exchange)
    first = exchange.first
    if first is not None and first.status == 200:
        expect_equal(body_of(exchange), b"hello", "a leniently decoded body")


@pytest.mark.requirement("SRV-PARSE-CHUNK-MISSING-LAST")
def test_chunk_missing_last(server: Server) -> None:
    not_read_as(server, post([CHUNKED], b"5\r\nhello\r\n" + SMUGGLED))


@pytest.mark.requirement("SRV-PARSE-CHUNK-EXTENSION")
def test_chunk_extensions_ignored(server: Server) -> None:
    body = b"6;name=value\r\nhello \r\n5;flag\r\nworld\r\n0;last=1\r\n\r\n"
    expect_equal(body_of(served(server, post([CHUNKED], body))), b"hello world", "body")


@pytest.mark.requirement("SRV-PARSE-CHUNK-EXTENSION-QUOTED")
def test_chunk_extension_quoted(server: Server) -> None:
    body = b'5;name="a;b\\"c"\r\nhello\r\n0\r\n\r\n'
    expect_equal(body_of(served(server, post([CHUNKED], body))), b"hello", "body")


@pytest.mark.requirement("SRV-PARSE-CHUNK-EXTENSION-BWS")
def test_chunk_extension_bws(server: Server) -> None:
    body = b"5 ;a=b\r\nhello\r\n0\r\n\r\n"
    expect_equal(body_of(served(server, post([CHUNKED], body))), b"hello", "body")


@pytest.mark.requirement("SRV-PARSE-TRAILER-NOT-MERGED")
def test_trailer_not_merged(server: Server) -> None:
    body = b"5\r\nhello\r\n0\r\nX-Trailer: t\r\n\r\n"
    exchange = served(server, post([CHUNKED, "Trailer: X-Trailer"], body))
    expect_equal(header_values(scope_of(exchange), b"x-trailer"), [], "x-trailer in the scope")


# -- sizes and completeness ---------------------------------------------------------------------


def large_or_refused(server: Server, fields: list[str], name: bytes, values: list[bytes]) -> None:
    exchange = roundtrip(server, request("GET", "/srvhttp/echo", fields, close=True), bound=5.0)
    first = exchange.first
    if first is None:
        expect_true(
            exchange.closed, "large header section", "4xx, close or 200", exchange.summary()
        )
        return
    if 400 <= first.status < 500:
        return
    got = header_values(scope_of(exchange), name)
    expect_equal(got, values, f"every {name.decode()} value, whole")


@pytest.mark.requirement("SRV-PARSE-HEADER-TOO-LARGE")
def test_header_too_large(server: Server) -> None:
    value = "v" * (256 * 1024)
    large_or_refused(server, [f"X-Large: {value}"], b"x-large", [value.encode()])


@pytest.mark.requirement("SRV-PARSE-HEADERS-TOO-MANY")
def test_headers_too_many(server: Server) -> None:
    fields = [f"X-Many: {index}" for index in range(1000)]
    large_or_refused(server, fields, b"x-many", [str(i).encode() for i in range(1000)])


@pytest.mark.requirement("SRV-PARSE-HEADER-SECTION-COMPLETE")
def test_header_section_complete(server: Server) -> None:
    head = b"GET /srvhttp/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    with server.connect() as sock:
        sock.sendall(head)
        sock.settimeout(0.2)
        try:
            early = sock.recv(65536)
        except TimeoutError:
            early = b""
        expect_equal(early, b"", "bytes answered before the header section ended")
        sock.sendall(b"X-Late: yes\r\n\r\n")
        sock.settimeout(3)
        received = b""
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    expect_true(b"x-late" in received.lower(), "the late field is seen", "x-late", repr(received))


@pytest.mark.requirement("SRV-PARSE-OCTETS-NOT-UTF8")
def test_octets_not_utf8(server: Server) -> None:
    data = request("GET", "/srvhttp/echo", [b"X-Octets: a\xc0\x8ab"])
    exchange = with_canary(server, data, "GET")
    expect_no_smuggling(exchange)
    first = exchange.first
    if first is None or 400 <= first.status < 500:
        return
    values = header_values(scope_of(exchange), b"x-octets")
    expect_equal(values, [b"a\xc0\x8ab"], "the field value as octets")


@pytest.mark.requirement("SRV-PARSE-GET-BODY")
def test_get_body_is_body(server: Server) -> None:
    data = request("GET", "/srvhttp/echo", [f"Content-Length: {len(SMUGGLED)}"], SMUGGLED)
    exchange = with_canary(server, data, "GET")
    first = exchange.first
    expect_true(first is not None, "GET with content answered", "200 or 4xx", exchange.summary())
    assert first is not None
    if first.status == 200:
        expect_equal(body_of(exchange), SMUGGLED, "the GET content as the app sees it")
    expect_no_smuggling(exchange)
