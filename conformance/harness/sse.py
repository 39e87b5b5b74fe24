"""A strict ``text/event-stream`` parser: WHATWG HTML §9.2.6, "Interpreting an
event stream", step by step, plus a small reader over a raw socket.

:class:`EventStreamParser` is sans-IO and incremental: ``feed(bytes)`` returns
the events dispatched by those bytes, and a CR at the end of one chunk
followed by an LF at the start of the next is one line ending. What a browser
would do is what it does; with ``strict=True`` it also records in
``violations`` where the stream leaves the ABNF of §9.2.5 (invalid UTF-8, a
stream that ends inside a line or an event). Mixed line endings and unknown
fields are allowed by the ABNF and are not recorded.

WHATWG HTML §9.2.5::

    stream        = [ bom ] *event
    event         = *( comment / field ) end-of-line
    comment       = colon *any-char end-of-line
    field         = 1*name-char [ colon [ space ] *any-char ] end-of-line
    end-of-line   = ( cr lf / cr / lf )
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

from conformance.harness.rawhttp import (
    ChunkStart,
    Connection,
    ConnectionClosed,
    Data,
    EndOfMessage,
    Head,
    ServerClosedConnection,
    build_request,
)

__all__ = [
    "Event",
    "EventStreamError",
    "EventStreamParser",
    "EventStreamResult",
    "read_events",
]

_BOM: Final = b"\xef\xbb\xbf"
_EOL: Final = re.compile(rb"[\r\n]")
_DIGITS: Final = re.compile(r"[0-9]+")


class EventStreamError(ValueError):
    """Raised by :class:`EventStreamParser` when a line exceeds ``max_line``
    (memory stays bounded) or when it is fed after :meth:`~EventStreamParser.close`."""


@dataclass(frozen=True, slots=True)
class Event:
    """A dispatched event, as the MessageEvent a browser would fire.

    :param type: the event type buffer, or ``"message"`` when it was empty.
    :param data: the data buffer without its final LF.
    :param last_event_id: the last event ID string at dispatch.
    :param origin: the origin given to the parser.
    """

    type: str
    data: str
    last_event_id: str
    origin: str = ""


class EventStreamParser:
    """Incremental event-stream interpreter (WHATWG HTML §9.2.6).

    :param strict: record deviations from the §9.2.5 ABNF in :attr:`violations`.
    :param origin: copied into every :class:`Event`.
    :param max_line: longest line (in bytes) held before raising.

    :ivar comments: the text after ``:`` of every comment line, in order.
    :ivar retry: the reconnection time from the last valid ``retry`` field.
    :ivar last_event_id: the last event ID string (set at each dispatch, as a
        browser sends it in ``Last-Event-ID`` on reconnection).
    :ivar events: every event dispatched so far.
    """

    def __init__(self, *, strict: bool = False, origin: str = "", max_line: int = 1 << 20) -> None:
        self.strict = strict
        self.origin = origin
        self.max_line = max_line
        self.comments: list[str] = []
        self.retry: int | None = None
        self.last_event_id = ""
        self.events: list[Event] = []
        self.violations: list[str] = []
        self._pending = bytearray()
        self._bom_done = False
        self._skip_lf = False
        self._closed = False
        self._line_number = 0
        self._data: list[str] = []
        self._event_type = ""
        self._id_buffer = ""
        self._in_event = False

    def feed(self, data: bytes) -> list[Event]:
        """Interpret more of the stream; return the events it dispatched.

        :raises EventStreamError: after :meth:`close`, or on an over-long line.
        """
        if self._closed:
            raise EventStreamError("feed() after close()")
        self._pending += data
        if not self._bom_done:
            # UTF-8 decode strips one BOM, and only at the very start.
            if len(self._pending) < len(_BOM) and _BOM.startswith(self._pending):
                return []
            if self._pending.startswith(_BOM):
                del self._pending[: len(_BOM)]
            self._bom_done = True
        dispatched: list[Event] = []
        buffer = self._pending
        position = 0
        while True:
            if self._skip_lf:
                if position >= len(buffer):
                    break
                if buffer[position] == 0x0A:
                    position += 1
                self._skip_lf = False
            match = _EOL.search(buffer, position)
            if match is None:
                break
            end = match.start()
            self._skip_lf = buffer[end] == 0x0D
            dispatched.extend(self._line(bytes(buffer[position:end])))
            position = end + 1
        del buffer[:position]
        if len(buffer) > self.max_line:
            raise EventStreamError(f"line longer than {self.max_line} bytes without an end")
        self.events.extend(dispatched)
        return dispatched

    def close(self) -> list[Event]:
        """End of stream: pending data is discarded, so this returns ``[]``
        (an unfinished event is never dispatched); records why in strict mode."""
        if not self._closed:
            self._closed = True
            if self._pending and self._bom_done:
                self._violation(f"stream ended inside line {self._line_number + 1}")
            elif self._pending:
                self._violation("stream ended inside the byte order mark")
            elif self._in_event:
                self._violation("stream ended inside an event (no blank line after its fields)")
            self._pending.clear()
            self._data = []
            self._event_type = ""
        return []

    def _violation(self, message: str) -> None:
        if self.strict:
            self.violations.append(message)

    def _line(self, raw: bytes) -> list[Event]:
        self._line_number += 1
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            self._violation(f"invalid UTF-8 in line {self._line_number}: {exc.reason}")
            line = raw.decode("utf-8", "replace")
        if not line:
            return self._dispatch()
        self._in_event = True
        if line.startswith(":"):
            self.comments.append(line[1:])
            return []
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        self._field(name, value)
        return []

    def _field(self, name: str, value: str) -> None:
        if name == "event":
            self._event_type = value
        elif name == "data":
            self._data.append(value)
            self._data.append("\n")
        elif name == "id":
            if "\x00" not in value:
                self._id_buffer = value
        elif name == "retry":
            if _DIGITS.fullmatch(value) and value.isascii():
                self.retry = int(value)
        # any other field name is ignored

    def _dispatch(self) -> list[Event]:
        self._in_event = False
        self.last_event_id = self._id_buffer
        if not self._data:
            self._event_type = ""
            return []
        data = "".join(self._data)
        if data.endswith("\n"):
            data = data[:-1]
        event = Event(self._event_type or "message", data, self.last_event_id, self.origin)
        self._data = []
        self._event_type = ""
        return [event]


@dataclass(slots=True)
class EventStreamResult:
    """What :func:`read_events` saw.

    :param ended: ``"max_events"``, ``"until"`` (the client then closed the
        connection) or ``"eof"`` (the server ended the response).
    :param chunked: whether the response used chunked transfer coding.
    """

    status: int
    headers: list[tuple[str, str]]
    events: list[Event]
    comments: list[str]
    retry: int | None
    last_event_id: str
    ended: Literal["max_events", "until", "eof"]
    chunked: bool
    violations: list[str] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        """The first value of the named response field, None when absent."""
        lowered = name.lower()
        return next((value for key, value in self.headers if key.lower() == lowered), None)


def read_events(
    host: str,
    port: int,
    path: str,
    *,
    headers: Sequence[tuple[str, str]] | Mapping[str, str] | None = None,
    last_event_id: str | None = None,
    max_events: int | None = None,
    until: Callable[[EventStreamParser], bool] | None = None,
    timeout: float = 10.0,
    total_timeout: float = 30.0,
    strict: bool = True,
    abort: bool = False,
) -> EventStreamResult:
    """GET ``path`` and interpret the body as an event stream as it arrives.

    Stops when ``max_events`` events arrived, when ``until(parser)`` (checked
    after every received piece of body) returns true, or when the response
    ends; then closes the connection, so the server sees the client go away.

    :param last_event_id: sent as ``Last-Event-ID`` (reconnection tests).
    :param strict: parse HTTP framing strictly and record ABNF deviations.
    :param abort: close with a TCP RST instead of a FIN.
    :raises conformance.harness.rawhttp.ResponseTimeout: when a read takes
        longer than ``timeout`` or the whole read longer than ``total_timeout``.
    :raises conformance.harness.rawhttp.FramingError: on broken HTTP framing.
    :raises conformance.harness.rawhttp.ServerClosedConnection: when no response came.
    """
    items = list(headers.items()) if isinstance(headers, Mapping) else list(headers or ())
    names = {name.lower() for name, _ in items}
    if "accept" not in names:
        items.append(("Accept", "text/event-stream"))
    if last_event_id is not None:
        items.append(("Last-Event-ID", last_event_id))
    request = build_request("GET", path, items, host=f"{host}:{port}")
    parser = EventStreamParser(strict=strict)
    status = 0
    response_headers: list[tuple[str, str]] = []
    chunked = False
    ended: Literal["max_events", "until", "eof"] = "eof"
    conn = Connection(host, port, timeout=timeout, total_timeout=total_timeout, strict=strict)
    try:
        conn.send(request)
        for event in conn.events("GET"):
            if isinstance(event, Head):
                status, response_headers = event.status, event.headers
            elif isinstance(event, ChunkStart):
                chunked = True
            elif isinstance(event, Data):
                parser.feed(event.data)
                if max_events is not None and len(parser.events) >= max_events:
                    ended = "max_events"
                    break
                if until is not None and until(parser):
                    ended = "until"
                    break
            elif isinstance(event, EndOfMessage):
                parser.close()
            elif isinstance(event, ConnectionClosed):
                raise ServerClosedConnection(
                    f"{host}:{port} closed the connection before a response"
                )
    finally:
        if abort:
            conn.abort()
        else:
            conn.close()
    events = parser.events if max_events is None else parser.events[:max_events]
    return EventStreamResult(
        status=status,
        headers=response_headers,
        events=list(events),
        comments=list(parser.comments),
        retry=parser.retry,
        last_event_id=parser.last_event_id,
        ended=ended,
        chunked=chunked,
        violations=list(parser.violations),
    )
