# Over 700 lines on purpose: the tests of one strict client, run whole, byte by byte and with
# trailing junk.
"""Tests of the raw-socket HTTP/1.1 client: the sans-IO parser byte by byte,
and the I/O helpers against tiny socket servers started here."""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.harness.rawhttp import (
    NEED_DATA,
    PAUSED,
    ChunkStart,
    ConnectionClosed,
    Data,
    EndOfMessage,
    FramingError,
    Head,
    Informational,
    RawResponse,
    ResponseParser,
    ResponseTimeout,
    ServerClosedConnection,
    build_request,
    exchange,
    parse_response,
    pipeline,
    read_then_close,
    send_malformed,
    send_partial_then_close,
    sequential,
)

# -- sans-IO -------------------------------------------------------------------

CL_RESPONSE = (
    b"HTTP/1.1 200 OK\r\n"
    b"Content-Type: text/plain\r\n"
    b"Set-Cookie: a=1\r\n"
    b"set-cookie: b=2\r\n"
    b"Content-Length: 11\r\n"
    b"\r\n"
    b"hello world"
)
CHUNKED_RESPONSE = (
    b"HTTP/1.1 200 OK\r\n"
    b"Transfer-Encoding: chunked\r\n"
    b"Trailer: X-Checksum\r\n"
    b"\r\n"
    b"5\r\nhello\r\n"
    b"1;name=value;flag\r\n \r\n"
    b"a\r\n0123456789\r\n"
    b"0\r\n"
    b"X-Checksum: abc\r\n"
    b"X-Other: 1\r\n"
    b"\r\n"
)


def feed(
    data: bytes,
    method: str = "GET",
    *,
    split: int | None = None,
    strict: bool = True,
    eof: bool = True,
) -> tuple[RawResponse, ResponseParser]:
    """Parse ``data`` fed in pieces of ``split`` bytes (None: all at once)."""
    parser = ResponseParser(method, strict=strict)
    step = split or max(len(data), 1)
    pieces = [data[i : i + step] for i in range(0, len(data), step)]
    events: list[object] = []
    while True:
        event = parser.next_event()
        if event is NEED_DATA:
            if pieces:
                parser.receive_data(pieces.pop(0))
            elif eof:
                parser.receive_eof()
            else:
                raise AssertionError("response incomplete without EOF")
            continue
        events.append(event)
        if isinstance(event, EndOfMessage):
            break
    return rebuild(events, parser), parser


def rebuild(events: list[object], parser: ResponseParser) -> RawResponse:
    head = next(e for e in events if isinstance(e, Head))
    body = b"".join(e.data for e in events if isinstance(e, Data))
    starts = [e for e in events if isinstance(e, ChunkStart)]
    end = events[-1]
    assert isinstance(end, EndOfMessage)
    return RawResponse(
        status=head.status,
        reason=head.reason,
        http_version=head.http_version,
        headers=head.headers,
        body=body,
        chunks=None if not starts else [b"x" * s.size for s in starts if s.size],
        trailers=end.trailers,
        raw=parser.raw,
        header_lines=head.header_lines,
        chunk_lines=[s.raw_line for s in starts],
        informational=[e for e in events if isinstance(e, Informational)],
        framing=parser.framing or "none",
        keep_alive=parser.keep_alive,
    )


def three_ways(data: bytes, method: str = "GET", **kw: bool) -> RawResponse:
    """h11's t_body_reader habit: whole, byte by byte, and with trailing junk."""
    whole, _ = feed(data, method, **kw)
    by_byte, _ = feed(data, method, split=1, **kw)
    assert by_byte == whole
    if whole.framing in ("length", "chunked", "none"):
        junk, parser = feed(data + b"JUNK", method, **kw)
        assert junk == whole
        assert parser.trailing_data == b"JUNK"
        assert parser.next_event() is PAUSED
    return whole


def test_content_length_response() -> None:
    response = three_ways(CL_RESPONSE)
    assert (response.status, response.reason, response.http_version) == (200, "OK", "HTTP/1.1")
    assert response.body == b"hello world"
    assert response.framing == "length"
    assert response.keep_alive
    assert response.chunks is None
    assert response.headers == [
        ("Content-Type", "text/plain"),
        ("Set-Cookie", "a=1"),
        ("set-cookie", "b=2"),
        ("Content-Length", "11"),
    ]
    assert response.header_lines[1:3] == [b"Set-Cookie: a=1", b"set-cookie: b=2"]
    assert response.raw == CL_RESPONSE


def test_chunked_response_records_chunks_and_trailers() -> None:
    response = three_ways(CHUNKED_RESPONSE)
    assert response.framing == "chunked"
    assert response.body == b"hello 0123456789"
    assert response.chunks is not None
    assert [len(c) for c in response.chunks] == [5, 1, 10]
    assert response.chunk_lines == [b"5\r\n", b"1;name=value;flag\r\n", b"a\r\n", b"0\r\n"]
    assert response.trailers == [("X-Checksum", "abc"), ("X-Other", "1")]
    parsed = parse_response(CHUNKED_RESPONSE)
    assert parsed.chunks == [b"hello", b" ", b"0123456789"]
    assert parsed.chunk_extensions[1] == [("name", "value"), ("flag", None)]
    assert parsed.raw == CHUNKED_RESPONSE


def test_close_delimited_body_ends_at_eof() -> None:
    data = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end"
    response = three_ways(data)
    assert response.framing == "close"
    assert not response.keep_alive
    assert response.body == b"until the end"
    parser = ResponseParser()
    parser.receive_data(data)
    assert isinstance(parser.next_event(), Head)
    assert parser.next_event() == Data(b"until the end")
    assert parser.next_event() is NEED_DATA


def test_head_response_has_no_body() -> None:
    data = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"
    response = three_ways(data, "HEAD")
    assert response.body == b""
    assert response.framing == "none"
    with pytest.raises(FramingError, match="still owed"):
        parse_response(data, "GET")


@pytest.mark.parametrize("status", [204, 304])
def test_no_body_statuses(status: int) -> None:
    length = b"Content-Length: 5\r\n" if status == 304 else b""
    response = three_ways(b"HTTP/1.1 %d X\r\n%s\r\n" % (status, length))
    assert response.status == status
    assert response.body == b""


def test_content_length_in_204_is_a_violation() -> None:
    data = b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"
    with pytest.raises(FramingError, match="204"):
        parse_response(data)
    assert parse_response(data, strict=False).violations == [
        "Content-Length in a 204 response (RFC 9110 §8.6, RFC 9112 §6.1)"
    ]


def test_informational_responses_precede_the_final_one() -> None:
    data = (
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    )
    response = three_ways(data)
    assert [(i.status, i.headers) for i in response.informational] == [
        (100, []),
        (103, [("Link", "</a.css>")]),
    ]
    assert response.body == b"ok"
    assert response.raw == data


def test_switching_protocols_leaves_the_stream_to_the_caller() -> None:
    parser = ResponseParser()
    parser.receive_data(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x00")
    head = parser.next_event()
    assert isinstance(head, Head)
    assert head.status == 101
    assert parser.next_event() == EndOfMessage([])
    assert parser.next_event() is PAUSED
    assert parser.trailing_data == b"\x81\x00"


def test_pipelined_responses_with_start_next() -> None:
    head_reply = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n"
    stream = CL_RESPONSE + head_reply + CL_RESPONSE

    def bodies(methods: list[str], split: int) -> list[bytes]:
        parser = ResponseParser(methods[0])
        pieces = [stream[i : i + split] for i in range(0, len(stream), split)]
        out = []
        for index, method in enumerate(methods):
            if index:
                parser.start_next(method)
            body = b""
            while not isinstance(event := parser.next_event(), EndOfMessage):
                if event is NEED_DATA:
                    parser.receive_data(pieces.pop(0))
                elif isinstance(event, Data):
                    body += event.data
            out.append(body)
        return out

    for split in (1, 7, len(stream)):
        assert bodies(["GET", "HEAD", "GET"], split) == [b"hello world", b"", b"hello world"]
    # a wrong method hint reads the next status line as the body: the hint matters
    with pytest.raises(FramingError, match="malformed status line"):
        bodies(["GET", "GET", "GET"], len(stream))


def test_eof_before_any_response_is_connection_closed() -> None:
    parser = ResponseParser()
    assert parser.next_event() is NEED_DATA
    parser.receive_eof()
    assert parser.next_event() == ConnectionClosed()


def test_start_next_before_end_raises() -> None:
    parser = ResponseParser()
    parser.receive_data(CL_RESPONSE[:30])
    with pytest.raises(RuntimeError, match="start_next while parsing the head"):
        parser.start_next()


BARE_LF_HEAD = b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok"


def test_bare_lf_strict_raises_lenient_records() -> None:
    with pytest.raises(FramingError, match="bare LF"):
        parse_response(BARE_LF_HEAD)
    whole, parser = feed(BARE_LF_HEAD, strict=False)
    by_byte, _ = feed(BARE_LF_HEAD, strict=False, split=1)
    assert whole == by_byte
    assert whole.body == b"ok"
    assert len(parser.violations) == 3
    assert all("bare LF" in v for v in parser.violations)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "bad chunk size"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5 ;\r\n", "bad chunk size"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", "bad chunk size"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n", "bad chunk size"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n", "missing CRLF"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab", "closed before the CRLF"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n1", "chunk-size line"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", "3 chunk bytes owed"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", "invalid Content-Length"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "invalid Content-Length"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n", "conflicting"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab", "3 Content-Length bytes"),
        (b"HTTP/2 200 OK\r\n\r\n", "malformed status line"),
        (b"HTTP/1.1 20 OK\r\n\r\n", "malformed status line"),
        (b"HTTP/2.0 200 OK\r\n\r\n", "unsupported HTTP version"),
        (b"HTTP/1.1 200 OK\r\nContent-", "inside the response head"),
        (b"HTTP/1.1 100 Continue\r\n\r\n", "after a 1xx"),
    ],
)
def test_unrecoverable_framing_errors_raise_even_lenient(data: bytes, message: str) -> None:
    for strict in (True, False):
        with pytest.raises(FramingError, match=message):
            parse_response(data, strict=strict)
        with pytest.raises(FramingError, match=message):
            feed(data, split=1, strict=strict)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\n0\r\n\r\n",
            "bare LF after chunk data",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n"
            b"2\r\nab\r\n0\r\n\r\n",
            "both Transfer-Encoding and Content-Length",
        ),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nab", "repeated"),
        (b"HTTP/1.1 200 OK\r\nX-A: 1\r\n  continued\r\nContent-Length: 2\r\n\r\nab", "obs-fold"),
        (b"HTTP/1.1 200 OK\r\nX-A : 1\r\nContent-Length: 2\r\n\r\nab", "whitespace between"),
        (b"HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nab", "lacks the SP"),
        (b"HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 2\r\n\r\nab", "bare CR"),
        (b"HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 2\r\n\r\nab", "invalid character"),
        (b"HTTP/1.1 200 OK\r\nno colon\r\nContent-Length: 2\r\n\r\nab", "malformed field"),
        (b"\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nab", "empty line before"),
    ],
)
def test_recoverable_violations(data: bytes, message: str) -> None:
    with pytest.raises(FramingError, match=message):
        parse_response(data)
    response = parse_response(data, strict=False)
    assert response.body == b"ab"
    assert any(message in v for v in response.violations), response.violations
    assert feed(data, split=1, strict=False)[0].body == b"ab"


def test_obs_fold_is_joined_leniently() -> None:
    data = b"HTTP/1.1 200 OK\r\nX-A: 1\r\n\t continued\r\nContent-Length: 0\r\n\r\n"
    response = parse_response(data, strict=False)
    assert response.headers[0] == ("X-A", "1 continued")
    assert response.header_lines[:2] == [b"X-A: 1", b"\t continued"]


def test_head_larger_than_limit_raises() -> None:
    parser = ResponseParser(max_head=100)
    parser.receive_data(b"HTTP/1.1 200 OK\r\n" + b"X-A: " + b"a" * 200)
    with pytest.raises(FramingError, match="exceeds 100 bytes"):
        parser.next_event()
    with pytest.raises(FramingError, match="exceeds 100 bytes"):
        parser.next_event()


def test_http10_keep_alive_and_connection_close() -> None:
    assert not parse_response(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").keep_alive
    assert parse_response(
        b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n"
    ).keep_alive
    assert not parse_response(
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
    ).keep_alive


def test_header_accessors() -> None:
    response = parse_response(CL_RESPONSE)
    assert response.header("content-type") == "text/plain"
    assert response.header("x-missing") is None
    assert response.header_values("SET-COOKIE") == ["a=1", "b=2"]
    with pytest.raises(ValueError, match="occurs 2 times"):
        response.header("set-cookie")


def as_response(request: bytes) -> bytes:
    """Swap the request line for a status line so the response parser reads the body."""
    return b"HTTP/1.1 200 OK\r\n" + request.split(b"\r\n", 1)[1]


@given(
    body=st.binary(max_size=300),
    chunk_size=st.integers(1, 64),
    split=st.integers(1, 50),
)
def test_chunked_round_trip_any_split(body: bytes, chunk_size: int, split: int) -> None:
    request = build_request(
        "POST", "/", body=body, chunked=True, chunk_size=chunk_size, trailers=[("X-T", "1")]
    )
    response, _ = feed(as_response(request), split=split)
    assert response.body == body
    expected = [len(body[i : i + chunk_size]) for i in range(0, len(body), chunk_size)]
    assert [len(c) for c in response.chunks or []] == expected
    assert response.trailers == [("X-T", "1")]


@given(body=st.binary(max_size=300), split=st.integers(1, 50))
def test_content_length_round_trip_any_split(body: bytes, split: int) -> None:
    request = build_request("PUT", "/x", [("X-A", "b")], body)
    response, _ = feed(as_response(request), split=split, eof=False)
    assert response.body == body
    assert response.header("content-length") == str(len(body))


def test_build_request() -> None:
    assert build_request("GET", "/a?b=1", {"Accept": "*/*"}) == (
        b"GET /a?b=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\n\r\n"
    )
    assert build_request("POST", "/", host=None) == b"POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n"
    assert build_request("POST", "/", [("Host", "x")], b"abcde", chunked=True, chunk_size=2) == (
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"2\r\nab\r\n2\r\ncd\r\n1\r\ne\r\n0\r\n\r\n"
    )
    assert build_request("POST", "/", [("Content-Length", "99")], b"ab", host=None) == (
        b"POST / HTTP/1.1\r\nContent-Length: 99\r\n\r\nab"
    )


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("G T", "/"), {}, "not a token"),
        (("GET", "/a b"), {}, "whitespace"),
        (("GET", ""), {}, "empty"),
        (("GET", "/", [("X A", "1")]), {}, "not a token"),
        (("GET", "/", [("X-A", "1\r\nX-B: 2")]), {}, "CR, LF or NUL"),
        (("GET", "/"), {"trailers": [("X", "1")]}, "chunked=True"),
        (("GET", "/"), {"chunked": True, "chunk_size": 0}, "at least 1"),
    ],
)
def test_build_request_rejects(
    args: tuple[object, ...], kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        build_request(*args, **kwargs)  # type: ignore[arg-type]


# -- I/O against tiny servers ----------------------------------------------------

Handler = Callable[[socket.socket, threading.Event], None]


@contextmanager
def serve(handler: Handler) -> Iterator[tuple[str, int, dict[str, object]]]:
    """A threaded TCP server running ``handler(conn, stop)`` per connection."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)
    stop = threading.Event()
    threads: list[threading.Thread] = []
    record: dict[str, object] = {}

    def run(conn: socket.socket) -> None:
        with conn:
            try:
                handler(conn, stop)
            except OSError as exc:
                record["error"] = exc

    def accept_loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=run, args=(conn,), daemon=True)
            threads.append(thread)
            thread.start()

    acceptor = threading.Thread(target=accept_loop, daemon=True)
    acceptor.start()
    try:
        yield "127.0.0.1", listener.getsockname()[1], record
    finally:
        stop.set()
        acceptor.join(5)
        listener.close()
        for thread in threads:
            thread.join(5)
            assert not thread.is_alive()


def read_head(conn: socket.socket, buffer: bytearray) -> bytes | None:
    """Read one request head (no body) from ``buffer`` + the socket."""
    conn.settimeout(5)
    while b"\r\n\r\n" not in buffer:
        data = conn.recv(4096)
        if not data:
            return None
        buffer += data
    head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
    buffer[:] = rest
    return head


def canned(reply: bytes, *, close: bool = False) -> Handler:
    def handler(conn: socket.socket, stop: threading.Event) -> None:
        if read_head(conn, bytearray()) is not None:
            conn.sendall(reply)
            if not close:
                stop.wait(5)

    return handler


def test_exchange_content_length() -> None:
    with serve(canned(CL_RESPONSE)) as (host, port, _):
        response = exchange(host, port, build_request("GET", "/"), timeout=2)
    assert response.body == b"hello world"
    assert response.raw == CL_RESPONSE


def test_exchange_chunked_with_trailers() -> None:
    with serve(canned(CHUNKED_RESPONSE)) as (host, port, _):
        response = exchange(host, port, build_request("GET", "/"), timeout=2)
    assert response.chunks == [b"hello", b" ", b"0123456789"]
    assert response.trailers == [("X-Checksum", "abc"), ("X-Other", "1")]


def test_exchange_close_delimited() -> None:
    reply = b"HTTP/1.1 200 OK\r\n\r\n" + b"z" * 100_000
    with serve(canned(reply, close=True)) as (host, port, _):
        response = exchange(host, port, build_request("GET", "/"), timeout=2)
    assert response.framing == "close"
    assert response.body == b"z" * 100_000


def test_exchange_head_does_not_wait_for_a_body() -> None:
    reply = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
    with serve(canned(reply)) as (host, port, _):
        started = time.monotonic()
        response = exchange(host, port, build_request("HEAD", "/"), method_hint="HEAD", timeout=2)
    assert time.monotonic() - started < 1.5
    assert response.header("content-length") == "1000"
    assert response.body == b""


def test_exchange_framing_error_carries_raw_bytes() -> None:
    reply = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n"
    with serve(canned(reply)) as (host, port, _):
        with pytest.raises(FramingError, match="bad chunk size") as info:
            exchange(host, port, build_request("GET", "/"), timeout=2)
    assert info.value.raw == reply


def test_server_that_never_answers_times_out_in_bounded_time() -> None:
    def silent(conn: socket.socket, stop: threading.Event) -> None:
        stop.wait(10)

    with serve(silent) as (host, port, _):
        started = time.monotonic()
        with pytest.raises(ResponseTimeout, match=r"no data for 0\.30s after 0 bytes"):
            exchange(host, port, build_request("GET", "/"), timeout=0.3)
        assert time.monotonic() - started < 2


def test_trickling_server_hits_the_total_timeout() -> None:
    def trickle(conn: socket.socket, stop: threading.Event) -> None:
        read_head(conn, bytearray())
        conn.sendall(b"HTTP/1.1 200 OK\r\n\r\n")
        while not stop.wait(0.02):
            conn.sendall(b".")

    with serve(trickle) as (host, port, _):
        started = time.monotonic()
        with pytest.raises(ResponseTimeout, match=r"not complete within 0\.5s") as info:
            exchange(host, port, build_request("GET", "/"), timeout=1, total_timeout=0.5)
        assert time.monotonic() - started < 2
    assert info.value.raw.startswith(b"HTTP/1.1 200 OK\r\n\r\n..")


def echo_paths(max_requests: int = 10) -> Handler:
    """Keep-alive server: answers each request with its target as the body."""

    def handler(conn: socket.socket, stop: threading.Event) -> None:
        buffer = bytearray()
        for count in range(max_requests):
            head = read_head(conn, buffer)
            if head is None:
                return
            method, target = head.split(b" ")[:2]
            last = count == max_requests - 1
            extra = b"Connection: close\r\n" if last else b""
            body = b"" if method == b"HEAD" else target
            conn.sendall(
                b"HTTP/1.1 200 OK\r\n%sContent-Length: %d\r\n\r\n%s" % (extra, len(target), body)
            )

    return handler


def test_pipeline_and_sequential_keep_alive() -> None:
    requests = [
        build_request("GET", "/a"),
        build_request("HEAD", "/bb"),
        build_request("GET", "/c"),
    ]
    with serve(echo_paths()) as (host, port, _):
        piped = pipeline(host, port, requests, timeout=2)
        one_by_one = sequential(host, port, requests, timeout=2)
    for responses in (piped, one_by_one):
        assert [r.body for r in responses] == [b"/a", b"", b"/c"]
        assert all(r.keep_alive for r in responses)


def test_server_closing_early_reports_the_responses_it_sent() -> None:
    requests = [build_request("GET", f"/{i}") for i in range(3)]
    with serve(echo_paths(max_requests=1)) as (host, port, _):
        with pytest.raises(ServerClosedConnection, match="after 1 of 3") as info:
            pipeline(host, port, requests, timeout=2)
        with pytest.raises(ServerClosedConnection, match="after 1 of 3") as info2:
            sequential(host, port, requests, timeout=2)
    assert [r.body for r in info.value.responses] == [b"/0"]
    assert not info.value.responses[0].keep_alive
    assert [r.body for r in info2.value.responses] == [b"/0"]


def test_send_partial_then_close_stops_mid_body() -> None:
    received = bytearray()
    got_eof = threading.Event()

    def recorder(conn: socket.socket, stop: threading.Event) -> None:
        conn.settimeout(5)
        while data := conn.recv(4096):
            received.extend(data)
        got_eof.set()

    request = build_request("POST", "/upload", body=b"x" * 100)
    with serve(recorder) as (host, port, _):
        assert send_partial_then_close(host, port, request, len(request) - 60, timeout=2) == b""
        assert got_eof.wait(5)
    assert bytes(received) == request[:-60]


def test_send_partial_then_close_can_read_an_early_reply() -> None:
    with serve(canned(b"HTTP/1.1 413 Too Large\r\nContent-Length: 0\r\n\r\n")) as (host, port, _):
        reply = send_partial_then_close(
            host, port, build_request("POST", "/", body=b"x" * 10), 60, wait=0.5, abort=True
        )
    assert reply.startswith(b"HTTP/1.1 413")


def test_read_then_close_disconnects_mid_response() -> None:
    outcome: dict[str, object] = {}

    def streamer(conn: socket.socket, stop: threading.Event) -> None:
        read_head(conn, bytearray())
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        try:
            for _ in range(500):
                conn.sendall(b"400\r\n" + b"y" * 1024 + b"\r\n")
                time.sleep(0.005)
            outcome["finished"] = True
        except OSError as exc:
            outcome["error"] = type(exc).__name__

    with serve(streamer) as (host, port, _):
        data = read_then_close(host, port, build_request("GET", "/"), 2000, abort=True)
    assert len(data) >= 2000
    assert data.startswith(b"HTTP/1.1 200 OK\r\n")
    assert "finished" not in outcome
    assert outcome["error"] in ("BrokenPipeError", "ConnectionResetError")


def rejecting(reply: bytes, *, close: bool, reset: bool = False) -> Handler:
    def handler(conn: socket.socket, stop: threading.Event) -> None:
        conn.settimeout(5)
        conn.recv(4096)
        conn.sendall(reply)
        if reset:
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        elif not close:
            stop.wait(5)

    return handler


def test_send_malformed_gets_400_and_close() -> None:
    reply = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 3\r\nConnection: close\r\n\r\nbad"
    with serve(rejecting(reply, close=True)) as (host, port, _):
        result = send_malformed(host, port, b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")
    assert result.closed and not result.reset and not result.timed_out
    assert result.raw == reply
    assert result.response is not None and result.response.status == 400


def test_send_malformed_reports_a_connection_kept_open() -> None:
    reply = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"
    with serve(rejecting(reply, close=False)) as (host, port, _):
        started = time.monotonic()
        result = send_malformed(host, port, b"\x00\x01\x02\r\n\r\n", timeout=2, wait_close=0.2)
        assert time.monotonic() - started < 1.5
    assert not result.closed and not result.timed_out
    assert result.response is not None and result.response.status == 400


def test_send_malformed_closed_without_reply_and_reset() -> None:
    with serve(rejecting(b"", close=True)) as (host, port, _):
        result = send_malformed(host, port, b"garbage\r\n\r\n", timeout=2)
    assert result.closed_without_reply
    assert result.response is None
    with serve(rejecting(b"", close=True, reset=True)) as (host, port, _):
        result = send_malformed(host, port, b"garbage\r\n\r\n", timeout=2)
    assert result.closed and result.reset


def test_send_malformed_silence_is_a_timeout_marker() -> None:
    def silent(conn: socket.socket, stop: threading.Event) -> None:
        stop.wait(10)

    with serve(silent) as (host, port, _):
        result = send_malformed(host, port, b"GET / HTTP/1.1\r\n", timeout=0.3)
    assert result.timed_out and not result.closed and result.raw == b""


def test_connect_refused_raises_quickly() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    with pytest.raises(ConnectionRefusedError):
        exchange("127.0.0.1", port, build_request("GET", "/"), timeout=1)
