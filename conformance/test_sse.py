"""Server-sent events (conformance/requirements/sse.toml): SendEventResponse read by the
strict WHATWG parser :mod:`conformance.harness.sse` over raw sockets."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from conformance.answers import json_answer
from conformance.budget import BOUNDED, Budget, budget_fixture  # noqa: F401 (the fixture "budget")
from conformance.harness import expect_equal, expect_stopped_when_gone, expect_true, polling
from conformance.harness.rawhttp import (
    Connection,
    ConnectionClosed,
    Data,
    EndOfMessage,
    FramingError,
    Head,
    RawResponse,
    ResponseTimeout,
    ServerClosedConnection,
    build_request,
    exchange,
)
from conformance.harness.server import Server
from conformance.harness.sse import Event, EventStreamParser, EventStreamResult, read_events

# Every case reads or writes HTTP/1.1 (or WebSocket) bytes: none is generated for h2c/h2
# columns (harness/transport.py); HTTP/2 twins live in test_h2_twins.py.
pytestmark = pytest.mark.h1_only

RESULT_DEADLINE = 5.0
RESULT_POLL = 0.02
ACCEPTED_ERRORS = ("ValueError", "RuntimeError", "HTTPException")
UNICODE = "h\u00e9llo \u6f22\u5b57 \U0001f600 \u2028 end"
# No U+2028 here: the encoding check must not hinge on how data lines are split (SSE-DATA-*).
UNICODE_ONE_LINE = "h\u00e9llo \u6f22\u5b57 \U0001f600 end"


# -- helpers -------------------------------------------------------------------------------------


@dataclass
class Stream:
    """A finished event stream answered by ``/sse/echo``, interpreted by the strict parser."""

    response: RawResponse
    events: list[Event]
    comments: list[str]
    retry: int | None
    last_event_id: str
    violations: list[str] = field(default_factory=list)


def token() -> str:
    return uuid.uuid4().hex


def interpret(body: bytes) -> EventStreamParser:
    parser = EventStreamParser(strict=True)
    parser.feed(body)
    parser.close()
    return parser


def post_events(
    server: Server, events: list[dict[str, Any]], name: str | None = None, **options: Any
) -> Stream:
    """POST the events (and SendEventResponse options) to ``/sse/echo/<name>``; parse the reply."""
    body = json.dumps({"events": events, **options}).encode()
    request = build_request(
        "POST",
        f"/sse/echo/{name or token()}",
        [("Content-Type", "application/json"), ("Accept", "text/event-stream")],
        body,
        host=f"{server.host}:{server.port}",
    )
    response = exchange(
        server.host, server.port, request, method_hint="POST", timeout=5, total_timeout=10
    )
    parser = interpret(response.body)
    return Stream(
        response, parser.events, parser.comments, parser.retry, parser.last_event_id,
        parser.violations,
    )  # fmt: skip


def dispatched(stream: Stream | EventStreamResult) -> list[tuple[str, str, str]]:
    """The events as (type, data, lastEventId) triples, easy to compare and to read."""
    return [(event.type, event.data, event.last_event_id) for event in stream.events]


def only_data(server: Server, data: str) -> str:
    """Send one event holding ``data``; answer the data the parser dispatched."""
    stream = post_events(server, [{"data": data}])
    expect_equal(len(stream.events), 1, f"events dispatched for data={data!r}")
    return stream.events[0].data


def media_type(value: str | None) -> tuple[str, dict[str, str]]:
    kind, *params = (value or "").split(";")
    parsed = {}
    for param in params:
        name, _, param_value = param.strip().partition("=")
        parsed[name.lower()] = param_value.strip('"').lower()
    return kind.strip().lower(), parsed


def poll_result(server: Server, key: str, done: Callable[[Any], bool], what: str) -> Any:
    """Poll the app's record: the event happens in the server process, nothing to await here."""
    with server.http() as client:
        return polling.poll_result(
            lambda: json_answer(client.get(f"/sse/result/{key}"), "the SSE result record"),
            done,
            what,
            seconds=RESULT_DEADLINE,
            interval=RESULT_POLL,
        )


def release(server: Server, key: str) -> None:
    with server.http() as client:
        client.get(f"/sse/release/{key}")


def check_refused(server: Server, bad: dict[str, Any], fragment: bytes) -> None:
    """Send a good event, then ``bad``; the error is clear and nothing of ``bad`` is sent."""
    key = token()
    stream = post_events(server, [{"data": "good"}, bad, {"data": "after"}], key)
    record = poll_result(server, key, lambda r: bool(r and r["done"]), "the response returns")
    expect_true(
        record["error"] is not None,
        f"{bad!r} is refused",
        "an exception from SendEventResponse",
        f"no error; the stream dispatched {dispatched(stream)!r}",
    )
    expect_true(
        any(name in ACCEPTED_ERRORS for name in record["error"]),
        f"the error for {bad!r} is a clear one",
        f"a subclass of one of {ACCEPTED_ERRORS}",
        f"{record['error'][0]}: {record['message']}",
    )
    expect_true(
        fragment not in stream.response.body,
        f"nothing of {bad!r} reaches the wire",
        f"no {fragment!r} in the body",
        repr(stream.response.body),
    )


def check_refused_or_ignored(server: Server, bad: dict[str, Any], fragment: bytes) -> None:
    """For a field the WHATWG parser ignores (the stream stays well-formed): either refused as
    ``check_refused`` demands, or sent so that the parser ignores only that field: the three
    events arrive with their data, lastEventId and retry as if the field were absent."""
    key = token()
    stream = post_events(server, [{"data": "good"}, bad, {"data": "after"}], key)
    record = poll_result(server, key, lambda r: bool(r and r["done"]), "the response returns")
    if record["error"] is None:
        expect_equal(
            (dispatched(stream), stream.retry),
            ([("message", "good", ""), ("message", "bad", ""), ("message", "after", "")], None),
            f"(events, retry) when {bad!r} is sent, not refused (the parser ignores that field)",
        )
        return
    check_refused(server, bad, fragment)


# -- response head -------------------------------------------------------------------------------


def basic(server: Server) -> EventStreamResult:
    return read_events(server.host, server.port, "/sse/basic", timeout=5, total_timeout=10)


@pytest.mark.requirement("SSE-STATUS-DEFAULT-200")
def test_default_status_is_200(server: Server) -> None:
    expect_equal(basic(server).status, 200, "status without status_code")


@pytest.mark.requirement("SSE-STATUS-CUSTOM")
def test_custom_status(server: Server) -> None:
    stream = post_events(server, [{"data": "x"}], status=202)
    expect_equal(stream.response.status, 202, "status with status_code=202")


@pytest.mark.requirement("SSE-CONTENT-TYPE")
def test_content_type_is_event_stream(server: Server) -> None:
    kind, _ = media_type(basic(server).header("content-type"))
    expect_equal(kind, "text/event-stream", "Content-Type media type")


@pytest.mark.requirement("SSE-CONTENT-TYPE-CHARSET")
def test_content_type_charset_utf8(server: Server) -> None:
    value = basic(server).header("content-type")
    _, params = media_type(value)
    expect_equal(params.get("charset"), "utf-8", f"charset parameter of {value!r}")


@pytest.mark.requirement("SSE-CACHE-CONTROL-NO-CACHE")
def test_cache_control_no_cache(server: Server) -> None:
    expect_equal(basic(server).header("cache-control"), "no-cache", "Cache-Control")


@pytest.mark.requirement("SSE-HEADERS-SINGLE")
def test_content_type_and_cache_control_sent_once(server: Server) -> None:
    headers = basic(server).headers
    for name in ("content-type", "cache-control"):
        values = [value for key, value in headers if key.lower() == name]
        expect_equal(len(values), 1, f"{name} field lines ({values!r})")


@pytest.mark.requirement("SSE-HEADERS-CUSTOM")
def test_custom_headers(server: Server) -> None:
    stream = post_events(server, [{"data": "x"}], headers={"X-Conformance": "sse-header"})
    expect_equal(stream.response.header("x-conformance"), "sse-header", "X-Conformance")
    kind, _ = media_type(stream.response.header("content-type"))
    expect_equal(kind, "text/event-stream", "Content-Type next to custom headers")


# -- encoding ------------------------------------------------------------------------------------


@pytest.mark.requirement("SSE-UTF8-ON-WIRE")
def test_utf8_on_the_wire(server: Server) -> None:
    stream = post_events(server, [{"data": UNICODE_ONE_LINE}])
    expect_true(
        UNICODE_ONE_LINE.encode("utf-8") in stream.response.body,
        "the data is sent as UTF-8",
        repr(UNICODE_ONE_LINE.encode("utf-8")),
        repr(stream.response.body),
    )
    expect_equal(stream.violations, [], "strict parser violations (invalid UTF-8)")


@pytest.mark.requirement("SSE-STREAM-ABNF")
def test_stream_matches_abnf(server: Server) -> None:
    events: list[dict[str, Any]] = [
        {"comment": "c"},
        {"event": "e", "data": "a\nb", "id": "1", "retry": 10},
        {"data": ""},
        {"id": "2"},
    ]
    stream = post_events(server, events)
    expect_equal(stream.violations, [], "strict parser violations of the stream ABNF")


@pytest.mark.requirement("SSE-EVENTS-IN-ORDER")
def test_events_in_order(server: Server) -> None:
    stream = post_events(server, [{"data": f"n{index}"} for index in range(5)])
    expect_equal([event.data for event in stream.events], ["n0", "n1", "n2", "n3", "n4"], "data")


@pytest.mark.requirement("SSE-EVENT-TYPE")
def test_event_type(server: Server) -> None:
    stream = post_events(server, [{"event": "update", "data": "x"}])
    expect_equal(dispatched(stream), [("update", "x", "")], "dispatched events")


@pytest.mark.requirement("SSE-EVENT-DEFAULT-MESSAGE")
def test_event_default_type(server: Server) -> None:
    stream = post_events(server, [{"data": "a"}, {"event": "typed", "data": "b"}, {"data": "c"}])
    expect_equal(
        [event.type for event in stream.events], ["message", "typed", "message"], "event types"
    )


@pytest.mark.requirement("SSE-EVENT-LEADING-SPACE")
def test_event_leading_space(server: Server) -> None:
    stream = post_events(server, [{"event": " spaced", "data": "x"}])
    expect_equal([event.type for event in stream.events], [" spaced"], "event type")


@pytest.mark.requirement("SSE-DATA-SINGLE-LINE")
def test_data_single_line(server: Server) -> None:
    expect_equal(only_data(server, "hello world"), "hello world", "data")


@pytest.mark.requirement("SSE-DATA-LF")
def test_data_lf(server: Server) -> None:
    expect_equal(only_data(server, "a\nb\nc"), "a\nb\nc", "data with LF")


@pytest.mark.requirement("SSE-DATA-CR")
def test_data_cr(server: Server) -> None:
    expect_equal(only_data(server, "a\rb"), "a\nb", "data with CR (arrives as LF)")


@pytest.mark.requirement("SSE-DATA-CRLF")
def test_data_crlf(server: Server) -> None:
    expect_equal(only_data(server, "a\r\nb"), "a\nb", "data with CRLF (one LF)")


@pytest.mark.requirement("SSE-DATA-EMPTY")
def test_data_empty(server: Server) -> None:
    stream = post_events(server, [{"data": ""}, {"data": "next"}])
    expect_equal([event.data for event in stream.events], ["", "next"], "data of the events")


@pytest.mark.requirement("SSE-DATA-LEADING-SPACE")
def test_data_leading_space(server: Server) -> None:
    for value in (" one", "  two", "first\n  second"):
        expect_equal(only_data(server, value), value, f"data {value!r}")


@pytest.mark.requirement("SSE-DATA-TRAILING-NEWLINE")
def test_data_trailing_newline(server: Server) -> None:
    for value in ("x\n", "x\r\n\n"):
        expected = value.replace("\r\n", "\n")
        expect_equal(only_data(server, value), expected, f"data {value!r}")


@pytest.mark.requirement("SSE-DATA-BLANK-LINES")
def test_data_blank_lines(server: Server) -> None:
    stream = post_events(server, [{"data": "\nfirst\n\nlast"}, {"data": "other"}])
    expect_equal(
        [event.data for event in stream.events], ["\nfirst\n\nlast", "other"], "data of the events"
    )


@pytest.mark.requirement("SSE-DATA-UNICODE")
def test_data_unicode(server: Server) -> None:
    expect_equal(only_data(server, UNICODE), UNICODE, "non-ASCII data")


@pytest.mark.requirement("SSE-DATA-COLON")
def test_data_colon(server: Server) -> None:
    stream = post_events(server, [{"data": ":not a comment"}, {"data": "key: value"}])
    expect_equal([event.data for event in stream.events], [":not a comment", "key: value"], "data")


@pytest.mark.requirement("SSE-DATA-LARGE")
def test_data_large(server: Server) -> None:
    value = "0123456789" * 20_000
    got = only_data(server, value)
    expect_true(got == value, "200 000-character data", "unchanged", f"{len(got)} characters")


@pytest.mark.requirement("SSE-ID-SETS-LAST-EVENT-ID")
def test_id_sets_last_event_id(server: Server) -> None:
    stream = post_events(server, [{"id": "42", "data": "x"}])
    expect_equal(dispatched(stream), [("message", "x", "42")], "dispatched events")


@pytest.mark.requirement("SSE-ID-PERSISTS")
def test_id_persists(server: Server) -> None:
    stream = post_events(server, [{"id": "7", "data": "a"}, {"data": "b"}, {"data": "c"}])
    expect_equal([e.last_event_id for e in stream.events], ["7", "7", "7"], "lastEventId")


@pytest.mark.requirement("SSE-ID-EMPTY-RESETS")
def test_id_empty_resets(server: Server) -> None:
    events = [{"id": "7", "data": "a"}, {"id": "", "data": "b"}, {"data": "c"}]
    stream = post_events(server, events)
    expect_equal([e.last_event_id for e in stream.events], ["7", "", ""], "lastEventId")


@pytest.mark.requirement("SSE-ID-LEADING-SPACE")
def test_id_leading_space(server: Server) -> None:
    stream = post_events(server, [{"id": " 7", "data": "x"}])
    expect_equal([e.last_event_id for e in stream.events], [" 7"], "lastEventId")


@pytest.mark.requirement("SSE-ID-NUL-REFUSED")
def test_id_nul_refused(server: Server) -> None:
    check_refused_or_ignored(server, {"id": "a\x00b", "data": "bad"}, b"\x00")


@pytest.mark.requirement("SSE-ID-CRLF-REFUSED")
def test_id_cr_lf_refused(server: Server) -> None:
    check_refused(server, {"id": "a\nsmuggled-lf", "data": "bad"}, b"smuggled-lf")
    check_refused(server, {"id": "a\rsmuggled-cr", "data": "bad"}, b"smuggled-cr")


@pytest.mark.requirement("SSE-EVENT-CRLF-REFUSED")
def test_event_cr_lf_refused(server: Server) -> None:
    check_refused(server, {"event": "a\nsmuggled-lf", "data": "bad"}, b"smuggled-lf")
    check_refused(server, {"event": "a\r\nsmuggled-crlf", "data": "bad"}, b"smuggled-crlf")


@pytest.mark.requirement("SSE-REFUSAL-ENDS-STREAM")
def test_refusal_ends_stream(server: Server) -> None:
    events = [{"data": "good-1"}, {"data": "good-2"}, {"event": "x\ny", "data": "bad"}]
    stream = post_events(server, [*events, {"data": "after"}])
    expect_equal(
        dispatched(stream),
        [("message", "good-1", ""), ("message", "good-2", "")],
        "events dispatched before the response ended",
    )


@pytest.mark.requirement("SSE-RETRY-SETS-RECONNECTION")
def test_retry(server: Server) -> None:
    stream = post_events(server, [{"retry": 1500, "data": "x"}])
    expect_equal(stream.retry, 1500, "reconnection time")
    expect_equal([event.data for event in stream.events], ["x"], "data next to retry")


@pytest.mark.requirement("SSE-RETRY-NEGATIVE-REFUSED")
def test_retry_negative_refused(server: Server) -> None:
    check_refused_or_ignored(server, {"retry": -1, "data": "bad"}, b"-1")


@pytest.mark.requirement("SSE-NO-DATA-NO-EVENT")
def test_no_data_no_event(server: Server) -> None:
    events: list[dict[str, Any]] = [{"event": "lonely", "id": "5", "retry": 250}, {"data": "next"}]
    stream = post_events(server, events)
    expect_equal(dispatched(stream), [("message", "next", "5")], "dispatched events")
    expect_equal(stream.retry, 250, "reconnection time from the data-less event")


@pytest.mark.requirement("SSE-COMMENT-NOT-EVENT")
def test_comment_not_event(server: Server) -> None:
    stream = post_events(server, [{"comment": "hello"}])
    expect_equal(dispatched(stream), [], "events dispatched by a comment")
    expect_true(
        any(line.lstrip(" ") == "hello" for line in stream.comments),
        "the comment is sent as a comment line",
        "':hello' or ': hello'",
        repr(stream.comments),
    )


@pytest.mark.requirement("SSE-COMMENT-MULTILINE")
def test_comment_multiline(server: Server) -> None:
    stream = post_events(server, [{"comment": "x\ndata: injected\rdata: more"}])
    expect_equal(dispatched(stream), [], "events dispatched by a multi-line comment")
    stripped = [line[1:] if line.startswith(" ") else line for line in stream.comments]
    expect_equal(stripped, ["x", "data: injected", "data: more"], "comment lines")


@pytest.mark.requirement("SSE-COMMENT-WITH-DATA")
def test_comment_with_data(server: Server) -> None:
    stream = post_events(server, [{"comment": "note", "data": "payload"}])
    expect_equal(dispatched(stream), [("message", "payload", "")], "dispatched events")
    expect_equal(len(stream.comments), 1, f"comment lines ({stream.comments!r})")


def text(refused: str = "") -> st.SearchStrategy[str]:
    """Any text JSON can carry (no lone surrogates) without the ``refused`` characters."""
    return st.text(st.characters(exclude_categories=["Cs"], exclude_characters=refused))


def event_dicts(*, comments: bool) -> st.SearchStrategy[list[dict[str, Any]]]:
    """Lists of event dicts with no refused characters (``comment`` only when asked: EXT)."""
    fields: dict[str, st.SearchStrategy[Any]] = {
        "event": text("\r\n"),
        "data": text(),
        "id": text("\r\n\0"),
        "retry": st.integers(0, 10**9),
    }
    if comments:
        fields["comment"] = text()
    return st.lists(st.fixed_dictionaries({}, optional=fields), max_size=6)


def check_roundtrip(server: Server, events: list[dict[str, Any]]) -> None:
    """The events dispatched for ``events`` are what the WHATWG algorithm makes of them."""
    expected: list[tuple[str, str, str]] = []
    last_id, retry = "", None
    for event in events:
        last_id = event.get("id", last_id)
        retry = event.get("retry", retry)
        if "data" in event:
            data = event["data"].replace("\r\n", "\n").replace("\r", "\n")
            expected.append((event.get("event") or "message", data, last_id))
    stream = post_events(server, events)
    expect_equal(dispatched(stream), expected, f"events dispatched for {events!r}")
    expect_equal(stream.last_event_id, last_id, "last event ID at the end")
    expect_equal(stream.retry, retry, "reconnection time at the end")
    expect_equal(stream.violations, [], "strict parser violations")


@given(events=event_dicts(comments=False))
@example(events=[{"data": "a\r\nb\rc\n\nd\n", "event": " e", "id": ""}, {"data": "", "retry": 0}])
@BOUNDED
@pytest.mark.requirement("SSE-ROUNDTRIP-PROPERTY")
def test_roundtrip_property(server: Server, budget: Budget, events: list[dict[str, Any]]) -> None:
    budget.check()
    check_roundtrip(server, events)


@given(events=event_dicts(comments=True))
@example(events=[{"comment": "c\ndata: injected"}, {"data": "x", "comment": "a\rb\r\nc"}])
@BOUNDED
@pytest.mark.requirement("SSE-ROUNDTRIP-COMMENTS")
def test_roundtrip_with_comments(
    server: Server, budget: Budget, events: list[dict[str, Any]]
) -> None:
    budget.check()
    check_roundtrip(server, events)


# -- stream lifecycle ----------------------------------------------------------------------------


@pytest.mark.requirement("SSE-BODY-STREAMED")
def test_body_streamed(server: Server) -> None:
    key = token()
    released: list[float] = []

    def until(parser: EventStreamParser) -> bool:
        if parser.events and not released:
            released.append(time.monotonic())
            release(server, key)
        return len(parser.events) >= 2

    result = read_events(
        server.host, server.port, f"/sse/gated/{key}", until=until, timeout=6, total_timeout=10
    )
    expect_true(bool(released), "the first event arrives before the release", "yes", "no")
    expect_equal([e.data for e in result.events], ["start", "end"], "data of the events")


def ping_run(server: Server) -> tuple[EventStreamResult, list[float], float]:
    """Read ``/sse/gated`` with ping_interval=0.2 until three pings came, then release it."""
    key = token()
    arrivals: list[float] = []
    started: list[float] = []

    def until(parser: EventStreamParser) -> bool:
        now = time.monotonic()
        if parser.events and not started:
            started.append(now)
        arrivals.extend([now] * (len(parser.comments) - len(arrivals)))
        if len(arrivals) >= 3 and len(started) == 1:
            started.append(now)
            release(server, key)
        return len(parser.events) >= 2

    try:
        result = read_events(
            server.host,
            server.port,
            f"/sse/gated/{key}?ping=0.2",
            until=until,
            timeout=3,
            total_timeout=8,
        )
    except ResponseTimeout:
        expect_true(False, "ping comments while idle", "three within 3 s", f"{len(arrivals)}")
        raise
    finally:
        release(server, key)
    expect_true(bool(started), "the first event arrives", "an event", "none")
    return result, arrivals, started[0]


@pytest.mark.requirement("SSE-PING-IDLE", "SSE-PING-IS-COMMENT", "SSE-PING-INTERVAL")
def test_ping_while_idle(server: Server) -> None:
    result, arrivals, start = ping_run(server)
    expect_equal([e.data for e in result.events], ["start", "end"], "events around the pings")
    expect_true(len(arrivals) >= 3, "ping comments while idle", ">= 3", str(len(arrivals)))
    elapsed = arrivals[2] - start
    expect_true(
        elapsed >= 0.4,
        "three pings at ping_interval=0.2 take at least 0.4 s",
        ">= 0.4 s",
        f"{elapsed:.3f} s",
    )


@pytest.mark.requirement("SSE-PING-NOT-WHILE-BUSY")
def test_no_ping_while_busy(server: Server) -> None:
    result = read_events(
        server.host,
        server.port,
        "/sse/busy?ping=0.25&count=15&gap=0.03",
        timeout=5,
        total_timeout=10,
    )
    expect_equal(len(result.events), 15, "events of the busy stream")
    expect_equal(result.comments, [], "ping comments while events flow every 0.03 s")


@pytest.mark.requirement("SSE-END-CLEAN")
def test_end_clean(server: Server) -> None:
    request = build_request("GET", "/sse/basic", [("Accept", "text/event-stream")])
    responses: list[RawResponse] = []
    with Connection(server.host, server.port, timeout=5, total_timeout=8) as conn:
        try:
            for _ in range(2):
                conn.send(request)
                responses.append(conn.read_response("GET"))
        except (BrokenPipeError, ConnectionResetError, ServerClosedConnection):
            pass
    expect_true(bool(responses), "the first event stream ends", "a complete response", "none")
    if len(responses) == 1:
        expect_true(
            not responses[0].keep_alive,
            "the server closes only after announcing it",
            "Connection: close (or HTTP/1.0) on the first response",
            repr(responses[0].headers),
        )
    for response in responses:
        expect_equal(response.framing, "chunked", "framing of the event stream on HTTP/1.1")
        parser = interpret(response.body)
        expect_equal([e.data for e in parser.events], ["hello", "second"], "data of the events")
        expect_equal(parser.violations, [], "violations (stream ends at an event boundary)")


@pytest.mark.requirement("SSE-GENERATOR-ERROR-ENDS", "SSE-GENERATOR-ERROR-KEEPS-EARLIER")
def test_generator_error(server: Server) -> None:
    key = token()
    parser = EventStreamParser(strict=True)
    ending = "none"
    request = build_request("GET", f"/sse/failing/{key}", [("Accept", "text/event-stream")])
    with Connection(server.host, server.port, timeout=5, total_timeout=5) as conn:
        conn.send(request)
        try:
            for item in conn.events("GET"):
                if isinstance(item, Head):
                    expect_equal(item.status, 200, "status")
                elif isinstance(item, Data):
                    parser.feed(item.data)
                elif isinstance(item, EndOfMessage | ConnectionClosed):
                    ending = type(item).__name__
        except FramingError as error:
            ending = f"connection closed mid-body ({error})"
        except ResponseTimeout:
            expect_true(False, "the stream ends after the error", "within 5 s", "a hang")
    expect_true(ending != "none", "the stream ends", "an end", ending)
    expect_equal(
        [e.data for e in parser.events], ["before-1", "before-2"], "events before the error"
    )


def endless_disconnect(server: Server) -> dict[str, Any]:
    key = token()
    result = read_events(
        server.host, server.port, f"/sse/endless/{key}", max_events=3, timeout=5, total_timeout=8
    )
    expect_equal([e.data for e in result.events], ["tick-0", "tick-1", "tick-2"], "first events")
    record: dict[str, Any] = poll_result(
        server, key, lambda r: bool(r and r["finally"]), "the generator is closed"
    )
    return record


@pytest.mark.requirement("SSE-DISCONNECT-FINALLY")
def test_disconnect_runs_finally(server: Server) -> None:
    # endless_disconnect waits (5 s) for the generator's finally; the scenario app keeps a
    # reference to the generator, so garbage collection cannot be what closed it.
    record = endless_disconnect(server)
    expect_true(
        record["produced"] < 1000,
        "the generator stops early",
        "fewer than all 1000 events",
        str(record["produced"]),
    )


@pytest.mark.requirement("SSE-DISCONNECT-NO-MORE-SENDS")
def test_disconnect_stops_pulling(server: Server) -> None:
    expect_stopped_when_gone(endless_disconnect(server), "events the generator")


@pytest.mark.requirement("SSE-DISCONNECT-IDLE")
def test_disconnect_while_idle(server: Server) -> None:
    key = token()
    result = read_events(
        server.host, server.port, f"/sse/gated/{key}", max_events=1, timeout=5, total_timeout=8
    )
    expect_equal([e.data for e in result.events], ["start"], "first event")
    record = poll_result(
        server, key, lambda r: bool(r and r["finally"]), "the waiting generator is closed"
    )
    expect_equal(record["gate"], "interrupted", "how the generator's wait ended")


@pytest.mark.requirement("SSE-LAST-EVENT-ID-RESUME")
def test_last_event_id_resume(server: Server) -> None:
    first = read_events(
        server.host, server.port, "/sse/resume", max_events=3, timeout=5, total_timeout=10
    )
    expect_equal(first.last_event_id, "e-3", "last event ID after three events")
    second = read_events(
        server.host,
        server.port,
        "/sse/resume",
        last_event_id=first.last_event_id,
        timeout=5,
        total_timeout=10,
    )
    read = second.header("x-last-event-id-read")
    expect_equal(read, "'e-3'", "Last-Event-ID as the app read it (x-last-event-id-read)")
    ids = [e.last_event_id for e in first.events] + [e.last_event_id for e in second.events]
    expect_equal(ids, ["e-1", "e-2", "e-3", "e-4", "e-5", "e-6"], "ids over both connections")
    data = [e.data for e in first.events + second.events]
    expect_equal(data, [f"payload of e-{n}" for n in range(1, 7)], "data over both connections")
