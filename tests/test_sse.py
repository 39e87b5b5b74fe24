"""The event-stream encoder and SendEventResponse, checked with a WHATWG parser (HTML §9.2.6)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import anyio
import pytest
from hypothesis import given
from hypothesis import strategies as st

from baize.asgi import SendEventResponse
from baize.sse import PING, encode_event
from baize.typing import Message, ServerSentEvent

# ------------------------------------------------------------ a WHATWG parser


@dataclass
class ParsedStream:
    events: list[tuple[str, str, str]] = field(default_factory=list)  # type, data, lastEventId
    retry: int | None = None


def parse_event_stream(text: str) -> ParsedStream:
    """Interpret an event stream as HTML §9.2.6 describes (one pass, whole input)."""
    result = ParsedStream()
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = re.split(r"\r\n|\r|\n", text)
    data = event_type = last_event_id = id_buffer = ""
    for line in lines[:-1]:  # the last piece is an unterminated line: discarded
        if line == "":
            last_event_id = id_buffer
            if data == "":
                event_type = ""
                continue
            result.events.append((event_type or "message", data.removesuffix("\n"), last_event_id))
            data = event_type = ""
            continue
        if line.startswith(":"):
            continue
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "event":
            event_type = value
        elif name == "data":
            data += value + "\n"
        elif name == "id":
            if "\0" not in value:
                id_buffer = value
        elif name == "retry":
            if re.fullmatch("[0-9]+", value):
                result.retry = int(value)
    return result


def expected_stream(events: list[ServerSentEvent]) -> ParsedStream:
    expected = ParsedStream()
    last_id = ""
    for event in events:
        last_id = event.get("id", last_id)
        if "retry" in event:
            expected.retry = event["retry"]
        if "data" in event:
            data = re.sub(r"\r\n|\r", "\n", event["data"])
            expected.events.append((event.get("event") or "message", data, last_id))
    return expected


# --------------------------------------------------------------------- encoder


def test_encode_event_fields() -> None:
    assert encode_event({"event": "tick", "data": "a\nb"}) == "event: tick\ndata: a\ndata: b\n\n"
    assert encode_event({"data": ""}) == "data:\n\n"
    assert encode_event({"data": "x\r\ny\rz"}) == "data: x\ndata: y\ndata: z\n\n"
    assert encode_event({"id": "7", "retry": 1500}) == "retry: 1500\nid: 7\n\n"
    assert encode_event({"comment": "hello\nworld"}) == ": hello\n: world\n\n"
    assert encode_event({"data": " lead"}) == "data:  lead\n\n"


@pytest.mark.parametrize(
    "event",
    [
        {"event": "a\nb"},
        {"event": "a\rb"},
        {"id": "1\n"},
        {"id": "1\r2"},
        {"id": "1\x002"},
        {"retry": -1},
        {"retry": True},
        {"retry": "10"},
        {"retry": 1.5},
    ],
)
def test_encode_event_refuses(event: Any) -> None:
    with pytest.raises(ValueError):
        encode_event(event)


def test_comment_only_event_dispatches_nothing() -> None:
    assert parse_event_stream(encode_event({"comment": "just a comment"})).events == []
    assert parse_event_stream(PING).events == []


def test_data_edge_cases_round_trip() -> None:
    for data in ["", "\n", "a\n", "\na", "\n\n", " ", "  x", ":", "data: x", "\x85\u2028"]:
        parsed = parse_event_stream(encode_event({"data": data}))
        assert parsed.events == [("message", data, "")]


_single_line = st.text().filter(lambda s: "\r" not in s and "\n" not in s)
_event = st.fixed_dictionaries(
    {},
    optional={
        "event": _single_line,
        "data": st.text(),
        "id": _single_line.filter(lambda s: "\0" not in s),
        "retry": st.integers(min_value=0, max_value=10**12),
        "comment": st.text(),
    },
)


@given(st.lists(_event, max_size=8))
def test_events_round_trip_through_a_whatwg_parser(events: list[Any]) -> None:
    text = "".join(encode_event(event) for event in events)
    decoded = text.encode("utf-8").decode("utf-8")
    assert parse_event_stream(decoded) == expected_stream(events)


# ---------------------------------------------------------- SendEventResponse


def scope(method: str = "GET") -> dict[str, Any]:
    return {"type": "http", "method": method, "path": "/", "headers": []}


async def never_disconnects() -> Message:
    await anyio.sleep_forever()
    raise AssertionError("unreachable")


async def test_send_event_response_streams_events() -> None:
    async def events() -> AsyncIterator[ServerSentEvent]:
        yield {"event": "greeting", "data": "hello\nworld", "id": "1"}
        yield {"comment": "between"}
        yield {"data": "bye"}

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await SendEventResponse(events(), ping_interval=60)(scope(), never_disconnects, send)
    start = sent[0]
    assert start["status"] == 200
    headers = dict(start["headers"])
    assert headers[b"content-type"] == b"text/event-stream; charset=utf-8"
    assert headers[b"cache-control"] == b"no-cache"
    assert b"content-length" not in headers
    assert all(m["more_body"] for m in sent[1:-1])
    assert sent[-1] == {"type": "http.response.body", "body": b"", "more_body": False}
    text = b"".join(m["body"] for m in sent[1:]).decode()
    assert parse_event_stream(text).events == [
        ("greeting", "hello\nworld", "1"),
        ("message", "bye", "1"),
    ]
    assert ": between\n\n" in text
    assert PING not in text


async def test_send_event_response_pings_while_idle() -> None:
    pinged = anyio.Event()
    finished = False

    async def events() -> AsyncIterator[ServerSentEvent]:
        nonlocal finished
        yield {"data": "first"}
        await pinged.wait()
        yield {"data": "second"}
        finished = True

    bodies: list[bytes] = []

    async def send(message: Message) -> None:
        if message["type"] == "http.response.body":
            bodies.append(message["body"])
            if message["body"] == PING.encode():
                pinged.set()

    with anyio.fail_after(10):
        await SendEventResponse(events(), ping_interval=0.01)(scope(), never_disconnects, send)
    assert finished
    assert bodies[0] == b"data: first\n\n"
    assert bodies[1] == PING.encode()
    assert bodies[-2:] == [b"data: second\n\n", b""]


async def test_send_event_response_no_ping_while_busy() -> None:
    async def events() -> AsyncIterator[ServerSentEvent]:
        for number in range(50):
            yield {"data": str(number)}

    bodies: list[bytes] = []

    async def send(message: Message) -> None:
        bodies.append(message.get("body", b""))

    await SendEventResponse(events(), ping_interval=30)(scope(), never_disconnects, send)
    assert PING.encode() not in bodies
    assert len(bodies) == 52


async def test_send_event_response_disconnect_closes_generator() -> None:
    first_sent = anyio.Event()
    cleaned_up = False

    async def events() -> AsyncIterator[ServerSentEvent]:
        nonlocal cleaned_up
        try:
            yield {"data": "only"}
            await anyio.sleep_forever()
        finally:
            cleaned_up = True

    async def receive() -> Message:
        await first_sent.wait()
        return {"type": "http.disconnect"}

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)
        if message.get("body"):
            first_sent.set()

    with anyio.fail_after(10):
        await SendEventResponse(events(), ping_interval=60)(scope(), receive, send)
    assert cleaned_up
    assert [m.get("body") for m in sent[1:]] == [b"data: only\n\n"]  # nothing after


async def test_send_event_response_disconnect_while_suspended_at_yield() -> None:
    cleaned_up = False
    disconnected = anyio.Event()

    async def events() -> AsyncIterator[ServerSentEvent]:
        nonlocal cleaned_up
        try:
            while True:
                yield {"data": "tick"}
        finally:
            cleaned_up = True

    async def receive() -> Message:
        await disconnected.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message.get("body"):
            disconnected.set()
            await anyio.sleep_forever()  # a slow client: the generator sits at its yield

    with anyio.fail_after(10):
        await SendEventResponse(events())(scope(), receive, send)
    assert cleaned_up


async def test_send_event_response_send_oserror_stops_quietly() -> None:
    cleaned_up = False

    async def events() -> AsyncIterator[ServerSentEvent]:
        nonlocal cleaned_up
        try:
            while True:
                yield {"data": "x"}
        finally:
            cleaned_up = True

    calls = 0

    async def send(message: Message) -> None:
        nonlocal calls
        calls += 1
        if calls > 2:
            raise OSError("client gone")

    with anyio.fail_after(10):
        await SendEventResponse(events())(scope(), never_disconnects, send)
    assert cleaned_up
    assert calls == 3


async def test_send_event_response_generator_error_ends_stream_then_raises() -> None:
    async def events() -> AsyncIterator[ServerSentEvent]:
        yield {"data": "before"}
        raise KeyError("boom")

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    with pytest.raises(KeyError, match="boom"):
        await SendEventResponse(events())(scope(), never_disconnects, send)
    assert sent[-1] == {"type": "http.response.body", "body": b"", "more_body": False}


async def test_send_event_response_bad_event_ends_stream_then_raises() -> None:
    async def events() -> AsyncIterator[ServerSentEvent]:
        yield {"id": "bad\nid", "data": "x"}

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    with pytest.raises(ValueError, match="CR, LF or NUL"):
        await SendEventResponse(events())(scope(), never_disconnects, send)
    assert [m.get("body") for m in sent[1:]] == [b""]


async def test_send_event_response_charset_is_utf8_only() -> None:
    async def events() -> AsyncIterator[ServerSentEvent]:
        yield {"data": "é"}

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    with pytest.raises(ValueError, match="must be UTF-8"):
        SendEventResponse(events(), charset="latin-1")
    await SendEventResponse(events(), charset="UTF-8")(scope(), never_disconnects, send)
    assert dict(sent[0]["headers"])[b"content-type"] == b"text/event-stream; charset=UTF-8"
    assert sent[1]["body"] == "data: é\n\n".encode()


async def test_send_event_response_never_sends_concurrently() -> None:
    """A ping falling due while an event's send is blocked waits; sends never overlap."""
    in_send = 0
    overlapped = False
    bodies: list[bytes] = []

    async def events() -> AsyncIterator[ServerSentEvent]:
        yield {"data": "slow"}
        await anyio.sleep(0.05)  # idle: pings go out
        yield {"data": "after"}

    async def send(message: Message) -> None:
        nonlocal in_send, overlapped
        in_send += 1
        overlapped = overlapped or in_send > 1
        if message.get("body") == b"data: slow\n\n":
            await anyio.sleep(0.05)  # blocked for several ping intervals
        else:
            await anyio.sleep(0)
        if message["type"] == "http.response.body":
            bodies.append(message["body"])
        in_send -= 1

    with anyio.fail_after(10):
        await SendEventResponse(events(), ping_interval=0.01)(scope(), never_disconnects, send)
    assert not overlapped
    assert bodies[0] == b"data: slow\n\n"
    assert PING.encode() in bodies[1:-2]
    assert bodies[-2:] == [b"data: after\n\n", b""]


def test_send_event_response_pings_under_a_virtual_clock() -> None:
    """Idleness also counts event-loop time, so trio's autojumping MockClock still pings."""
    import trio
    import trio.testing

    bodies: list[bytes] = []

    async def events() -> AsyncIterator[ServerSentEvent]:
        yield {"data": "first"}
        await anyio.sleep(100)  # virtual seconds: no wall-clock time passes
        yield {"data": "second"}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.body":
            bodies.append(message["body"])

    async def main() -> None:
        await SendEventResponse(events(), ping_interval=30)(scope(), never_disconnects, send)

    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
    assert bodies[0] == b"data: first\n\n"
    pings = bodies[1:-2]
    assert pings and all(body == PING.encode() for body in pings)
    assert bodies[-2:] == [b"data: second\n\n", b""]


async def test_send_event_response_repeated_and_changed_events() -> None:
    """Reusing the bytes of a repeated data string never sends a stale event."""
    other = "".join(["sa", "me"])  # an equal string, another object

    async def events() -> AsyncIterator[ServerSentEvent]:
        yield {"data": "same"}
        yield {"data": "same"}
        yield {"data": "same", "id": "1"}  # same data object, more fields
        yield {"comment": "c1"}
        yield {"comment": "c2"}  # data is None both times: must not reuse
        yield {"data": other}
        event: ServerSentEvent = {"data": "a"}
        yield event
        event["data"] = "b"  # the same dict, mutated
        yield event

    bodies: list[bytes] = []

    async def send(message: Message) -> None:
        if message["type"] == "http.response.body":
            bodies.append(message["body"])

    await SendEventResponse(events(), ping_interval=60)(scope(), never_disconnects, send)
    assert bodies == [
        b"data: same\n\n",
        b"data: same\n\n",
        b"id: 1\ndata: same\n\n",
        b": c1\n\n",
        b": c2\n\n",
        b"data: same\n\n",
        b"data: a\n\n",
        b"data: b\n\n",
        b"",
    ]


@pytest.mark.parametrize("interval", [0, -1, float("nan")])
def test_send_event_response_refuses_a_ping_interval_that_is_not_positive(
    interval: float,
) -> None:
    async def events() -> AsyncIterator[ServerSentEvent]:
        yield {"data": "x"}

    with pytest.raises(ValueError, match="ping_interval"):
        SendEventResponse(events(), ping_interval=interval)
