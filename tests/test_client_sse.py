"""Tests of the WHATWG event-stream parser and the read_events helper."""

from __future__ import annotations

import itertools
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.harness.rawhttp import ResponseTimeout, ServerClosedConnection
from conformance.harness.sse import Event, EventStreamError, EventStreamParser, read_events


def parse(data: bytes, *, split: int | None = None, strict: bool = True) -> EventStreamParser:
    parser = EventStreamParser(strict=strict)
    step = split or max(len(data), 1)
    for start in range(0, len(data), step):
        parser.feed(data[start : start + step])
    assert parser.close() == []
    return parser


def events_of(data: bytes) -> list[tuple[str, str, str]]:
    """(type, data, last_event_id) per event, checked whole and byte by byte."""
    whole = parse(data).events
    assert parse(data, split=1).events == whole
    return [(e.type, e.data, e.last_event_id) for e in whole]


def test_multi_line_data_is_joined_with_lf() -> None:
    assert events_of(b"data: YHOO\ndata: +2\ndata: 10\n\n") == [("message", "YHOO\n+2\n10", "")]


def test_spec_example_with_ids_and_unterminated_event() -> None:
    stream = (
        b": test stream\n\n"
        b"data: first event\nid: 1\n\n"
        b"data:second event\nid\n\n"
        b"data:  third event\n"
    )
    parser = parse(stream)
    assert [(e.data, e.last_event_id) for e in parser.events] == [
        ("first event", "1"),
        ("second event", ""),
    ]
    assert parser.comments == [" test stream"]
    assert parser.violations == ["stream ended inside an event (no blank line after its fields)"]


def test_empty_data_lines() -> None:
    assert events_of(b"data\n\ndata\ndata\n\ndata:") == [("message", "", ""), ("message", "\n", "")]


def test_one_leading_space_is_stripped() -> None:
    assert events_of(b"data:test\n\ndata: test\n\ndata:  test\n\n") == [
        ("message", "test", ""),
        ("message", "test", ""),
        ("message", " test", ""),
    ]


def test_event_type_applies_to_one_event() -> None:
    assert events_of(b"event: add\ndata: 1\n\ndata: 2\n\nevent:\ndata: 3\n\n") == [
        ("add", "1", ""),
        ("message", "2", ""),
        ("message", "3", ""),
    ]


def test_id_persists_and_updates_without_data() -> None:
    parser = parse(b"id: 7\ndata: a\n\ndata: b\n\nid: 8\n\nid: 9\nevent: x\n\ndata: c\n\n")
    assert [(e.type, e.data, e.last_event_id) for e in parser.events] == [
        ("message", "a", "7"),
        ("message", "b", "7"),
        ("message", "c", "9"),
    ]
    assert parser.last_event_id == "9"


def test_id_with_nul_is_ignored_and_id_buffer_needs_a_dispatch() -> None:
    parser = parse(b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\nid: 4\ndata: c\n")
    assert [e.last_event_id for e in parser.events] == ["1", "1"]
    assert parser.last_event_id == "1"


@pytest.mark.parametrize(
    ("stream", "retry"),
    [
        (b"retry: 1000\n", 1000),
        (b"retry:0\n", 0),
        (b"retry: 1000\nretry: 1x\n", 1000),
        (b"retry: -1\n", None),
        (b"retry: 1.5\n", None),
        (b"retry:\n", None),
        (b"retry: \xd9\xa1\n", None),  # ARABIC-INDIC DIGIT ONE is not an ASCII digit
        (b"Retry: 5\n", None),
    ],
)
def test_retry_takes_ascii_digits_only(stream: bytes, retry: int | None) -> None:
    assert parse(stream, strict=False).retry == retry


def test_field_without_colon_and_unknown_or_miscased_fields() -> None:
    assert events_of(b"data\n\nData: x\nfoo: y\ndata : z\n\n") == [("message", "", "")]


def test_comments_are_recorded_and_not_dispatched() -> None:
    parser = parse(b": ping\n\n:ping\n\n:\n\n")
    assert parser.events == []
    assert parser.comments == [" ping", "ping", ""]


@pytest.mark.parametrize("eol", [b"\n", b"\r", b"\r\n"])
def test_every_line_ending(eol: bytes) -> None:
    stream = b"event: e" + eol + b"data: 1" + eol + b"data: 2" + eol + eol
    assert events_of(stream) == [("e", "1\n2", "")]


def test_crlf_split_across_chunks_is_one_line_end() -> None:
    parser = EventStreamParser()
    assert parser.feed(b"data: a\r") == []
    assert parser.feed(b"\n") == []  # the LF completes the CRLF: not a blank line
    assert parser.feed(b"\n") == [Event("message", "a", "")]
    parser = EventStreamParser()
    parser.feed(b"data: a\r")
    assert parser.feed(b"\r") == [Event("message", "a", "")]  # CR CR: a blank line


def test_events_dispatch_as_soon_as_the_blank_line_ends() -> None:
    parser = EventStreamParser()
    assert parser.feed(b"data: a\n") == []
    assert parser.feed(b"\r") == [Event("message", "a", "")]
    assert parser.feed(b"\ndata: b\n") == []  # this LF ends the CRLF begun above


def test_bom_is_stripped_only_at_the_start() -> None:
    assert events_of(b"\xef\xbb\xbfdata: a\n\n") == [("message", "a", "")]
    parser = EventStreamParser()
    assert parser.feed(b"\xef") == []
    assert parser.feed(b"\xbb") == []
    assert parser.feed(b"\xbfdata: a\n\n") == [Event("message", "a", "")]
    # a second BOM is part of the field name, which is then unknown
    assert events_of(b"\xef\xbb\xbf\xef\xbb\xbfdata: a\n\n") == []
    assert events_of(b"data: a\n\n\xef\xbb\xbfdata: b\n\n") == [("message", "a", "")]


def test_invalid_utf8_is_replaced_and_recorded_in_strict_mode() -> None:
    parser = parse(b"data: a\xffb\n\n")
    assert parser.events[0].data == "a\ufffdb"
    assert parser.violations == ["invalid UTF-8 in line 1: invalid start byte"]
    lenient = parse(b"data: a\xffb\n\n", strict=False)
    assert lenient.events == parser.events
    assert lenient.violations == []


def test_utf8_split_across_chunks() -> None:
    stream = "data: é☃𝄞\n\n".encode()
    for split in range(1, 5):
        assert [e.data for e in parse(stream, split=split).events] == ["é☃𝄞"]
        assert parse(stream, split=split).violations == []


def test_stream_ending_inside_a_line_is_recorded() -> None:
    parser = parse(b"data: a\n\ndata: b")
    assert [e.data for e in parser.events] == ["a"]
    assert parser.violations == ["stream ended inside line 3"]


def test_over_long_line_and_feed_after_close_raise() -> None:
    parser = EventStreamParser(max_line=10)
    with pytest.raises(EventStreamError, match="longer than 10 bytes"):
        parser.feed(b"data: " + b"x" * 20)
    parser = EventStreamParser()
    parser.close()
    with pytest.raises(EventStreamError, match="after close"):
        parser.feed(b"data: a\n\n")


def test_origin_is_copied() -> None:
    parser = EventStreamParser(origin="http://127.0.0.1:8000")
    assert parser.feed(b"data: a\n\n")[0].origin == "http://127.0.0.1:8000"


# -- properties -------------------------------------------------------------------

_line_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\r\n\x00"),
    max_size=12,
)
_spec = st.tuples(
    _line_text,  # event type ("" means message)
    st.lists(_line_text, max_size=4),  # data lines
    st.one_of(st.none(), _line_text),  # id
    st.lists(_line_text, max_size=2),  # comments
)


def encode(specs: list[tuple[str, list[str], str | None, list[str]]], eols: list[bytes]) -> bytes:
    """A hand-written event-stream writer with varied line endings."""
    out = bytearray()
    previous = b""
    ends = iter(eols * 100)

    def line(text: str) -> None:
        nonlocal previous
        eol = next(ends)
        if previous == b"\r" and not text and eol == b"\n":
            eol = b"\r\n"  # after a bare CR, an LF alone would extend that line end
        out.extend(text.encode() + eol)
        previous = eol

    for kind, data, event_id, comments in specs:
        for comment in comments:
            line(":" + comment)
        if kind:
            line("event: " + kind)
        for value in data:
            line("data: " + value)
        if event_id is not None:
            line("id: " + event_id)
        line("")
    return bytes(out)


def expected(specs: list[tuple[str, list[str], str | None, list[str]]]) -> list[Event]:
    result = []
    last_id = ""
    for kind, data, event_id, _ in specs:
        if event_id is not None:
            last_id = event_id
        if data:
            result.append(Event(kind or "message", "\n".join(data), last_id))
    return result


@given(
    specs=st.lists(_spec, max_size=6),
    eols=st.lists(st.sampled_from([b"\n", b"\r", b"\r\n"]), min_size=1, max_size=5),
    bom=st.booleans(),
)
def test_encoded_events_parse_back(
    specs: list[tuple[str, list[str], str | None, list[str]]], eols: list[bytes], bom: bool
) -> None:
    stream = (b"\xef\xbb\xbf" if bom else b"") + encode(specs, eols)
    parser = parse(stream)
    assert parser.events == expected(specs)
    assert parser.comments == [c for spec in specs for c in spec[3]]
    assert parser.violations == []


@given(stream=st.binary(max_size=200), cuts=st.lists(st.integers(0, 200), max_size=8))
def test_any_split_gives_the_same_events(stream: bytes, cuts: list[int]) -> None:
    stream = stream.replace(b"x", b"\n").replace(b"y", b"\r").replace(b"z", b"data:")
    whole = parse(stream)
    parser = EventStreamParser(strict=True)
    bounds = sorted({0, len(stream), *(c for c in cuts if c <= len(stream))})
    pieces = [stream[a:b] for a, b in itertools.pairwise(bounds)]
    got = [event for piece in pieces for event in parser.feed(piece)]
    parser.close()
    assert got == whole.events
    assert (parser.comments, parser.retry, parser.last_event_id) == (
        whole.comments,
        whole.retry,
        whole.last_event_id,
    )


# -- read_events against a socket server ---------------------------------------------


@contextmanager
def sse_server(
    pieces: list[bytes], *, chunked: bool = True, keep_open: bool = True
) -> Iterator[tuple[int, dict[str, object]]]:
    """Serve one event-stream response in ``pieces``; record the request and
    whether the client went away."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(5)
    record: dict[str, object] = {}
    stop = threading.Event()

    def run() -> None:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(5)
            request = b""
            while b"\r\n\r\n" not in request:
                request += conn.recv(4096)
            record["request"] = request
            framing = b"Transfer-Encoding: chunked\r\n" if chunked else b""
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n" + framing + b"\r\n"
            )
            try:
                for piece in pieces:
                    conn.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
                    time.sleep(0.01)
            except OSError:
                record["client_closed"] = True
                return
            if not keep_open:
                if chunked:
                    conn.sendall(b"0\r\n\r\n")
                return
            conn.settimeout(0.05)
            while not stop.is_set():
                try:
                    if conn.recv(4096) == b"":
                        record["client_closed"] = True
                        return
                except TimeoutError:
                    continue
                except OSError:
                    record["client_closed"] = True
                    return

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], record
    finally:
        stop.set()
        thread.join(5)
        listener.close()
        assert not thread.is_alive()


STREAM = [b": ping\n\n", b"id: 1\ndata: one\n", b"\n", b"event: e\nda", b"ta: two\r", b"\n\r\n"]


def test_read_events_stops_at_max_events_and_disconnects() -> None:
    with sse_server([*STREAM, b"data: never read\n\n"]) as (port, record):
        result = read_events("127.0.0.1", port, "/sse", max_events=2, last_event_id="0", timeout=2)
        deadline = time.monotonic() + 5
        while "client_closed" not in record and time.monotonic() < deadline:
            time.sleep(0.01)
    assert result.ended == "max_events"
    assert result.status == 200
    assert result.header("content-type") == "text/event-stream"
    assert result.chunked
    assert result.events == [Event("message", "one", "1"), Event("e", "two", "1")]
    assert result.comments == [" ping"]
    assert record["client_closed"] is True
    request = record["request"]
    assert isinstance(request, bytes)
    assert b"\r\nLast-Event-ID: 0\r\n" in request
    assert b"\r\nAccept: text/event-stream\r\n" in request


def test_read_events_until_counts_pings() -> None:
    pings = [b": ping\n\n"] * 3 + [b"data: x\n\n"]
    with sse_server(pings) as (port, _):
        result = read_events(
            "127.0.0.1", port, "/sse", until=lambda p: len(p.comments) >= 2, timeout=2
        )
    assert result.ended == "until"
    assert len(result.comments) >= 2


def test_read_events_until_the_server_ends_the_stream() -> None:
    with sse_server([b"retry: 500\ndata: a\n\n", b"data: unfinished\n"], keep_open=False) as (
        port,
        _,
    ):
        result = read_events("127.0.0.1", port, "/sse", timeout=2)
    assert result.ended == "eof"
    assert [e.data for e in result.events] == ["a"]
    assert result.retry == 500
    assert result.violations == ["stream ended inside an event (no blank line after its fields)"]


def test_read_events_close_delimited_stream() -> None:
    with sse_server([b"data: a\n\n"], chunked=False, keep_open=False) as (port, _):
        result = read_events("127.0.0.1", port, "/sse", timeout=2)
    assert not result.chunked
    assert [e.data for e in result.events] == ["a"]


def test_read_events_times_out_on_a_silent_stream() -> None:
    with sse_server([b": hello\n\n"]) as (port, _):
        started = time.monotonic()
        with pytest.raises(ResponseTimeout):
            read_events("127.0.0.1", port, "/sse", max_events=1, timeout=0.3)
        assert time.monotonic() - started < 2


def test_read_events_server_closing_without_response() -> None:
    listener = socket.create_server(("127.0.0.1", 0))

    def close_at_once() -> None:
        conn, _ = listener.accept()
        conn.close()

    thread = threading.Thread(target=close_at_once, daemon=True)
    thread.start()
    try:
        with pytest.raises(ServerClosedConnection):
            read_events("127.0.0.1", listener.getsockname()[1], "/sse", timeout=2)
    finally:
        thread.join(5)
        listener.close()
