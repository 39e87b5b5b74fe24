"""A raw-socket HTTP/1.1 client for the cases where exact bytes matter.

Two layers, as in h11:

* :class:`ResponseParser` is sans-IO. ``receive_data(bytes)`` fills a buffer,
  ``receive_eof()`` marks the end of input and ``next_event()`` returns one
  event (:class:`Informational`, :class:`Head`, :class:`ChunkStart`,
  :class:`Data`, :class:`EndOfMessage`, :class:`ConnectionClosed`) or a
  sentinel (:data:`NEED_DATA`, :data:`PAUSED`). Framing follows RFC 9112 §6.3;
  the caller names the request method so HEAD responses have no body.
  Deviations from RFC 9112 that can be read past (bare LF, obs-fold, both
  Transfer-Encoding and Content-Length...) raise :class:`FramingError` in
  strict mode and are recorded in ``violations`` otherwise; errors that leave
  the framing unknown (bad chunk size, bad Content-Length, missing CRLF after
  chunk data, truncated message) always raise.
* The I/O functions (:func:`exchange`, :class:`Connection`, :func:`pipeline`,
  :func:`sequential`, :func:`send_partial_then_close`, :func:`read_then_close`,
  :func:`send_malformed`) use blocking sockets with a timeout on the connect
  and on every read, plus a total deadline, so nothing can hang a run.

RFC 9112 grammar used here::

    status-line = HTTP-version SP status-code SP [ reason-phrase ]
    field-line = field-name ":" OWS field-value OWS
    chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
    chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
    last-chunk = 1*("0") [ chunk-ext ] CRLF
    trailer-section = *( field-line CRLF )
"""

from __future__ import annotations

import enum
import re
import socket
import struct
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

__all__ = [
    "NEED_DATA",
    "PAUSED",
    "ChunkStart",
    "Connection",
    "ConnectionClosed",
    "Data",
    "EndOfMessage",
    "FramingError",
    "Head",
    "Informational",
    "MalformedReply",
    "RawResponse",
    "ResponseParser",
    "ResponseTimeout",
    "ServerClosedConnection",
    "build_request",
    "exchange",
    "parse_response",
    "pipeline",
    "read_then_close",
    "send_malformed",
    "send_partial_then_close",
    "sequential",
]

_TOKEN = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_QUOTED = rb'"(?:[^"\\\x00-\x08\x0a-\x1f\x7f]|\\[\t\x20-\x7e\x80-\xff])*"'
# status-line = HTTP-version SP status-code SP [ reason-phrase ]
# reason-phrase = 1*( HTAB / SP / VCHAR / obs-text )
_STATUS_LINE = re.compile(rb"(HTTP/[0-9]\.[0-9]) ([0-9]{3})(?:( )([\t\x20-\x7e\x80-\xff]*))?")
# field-name = token; the value is checked separately
_FIELD_LINE = re.compile(rb"(" + _TOKEN + rb")([ \t]*):(.*)", re.DOTALL)
# field-vchar = VCHAR / obs-text; field-value = *field-content (with SP / HTAB inside)
_FIELD_VALUE = re.compile(rb"[\t\x20-\x7e\x80-\xff]*")
# chunk-size [ chunk-ext ]
_CHUNK_EXT = re.compile(
    rb"[ \t]*;[ \t]*(" + _TOKEN + rb")(?:[ \t]*=[ \t]*(" + _TOKEN + rb"|" + _QUOTED + rb"))?"
)
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]+)")
_METHOD = re.compile(_TOKEN)
_MAX_CHUNK_SIZE: Final = 1 << 40


class FramingError(ValueError):
    """Raised by :class:`ResponseParser` (and so by every I/O helper) when a
    response breaks RFC 9112 framing; the message names the rule and offset.

    :ivar raw: the bytes received on the connection so far, when known.
    """

    def __init__(self, message: str, raw: bytes = b"") -> None:
        super().__init__(message)
        self.raw = raw


class ResponseTimeout(TimeoutError):
    """Raised by the I/O helpers when the connect, a read or the whole exchange
    takes longer than allowed. ``raw`` holds what arrived before."""

    def __init__(self, message: str, raw: bytes = b"") -> None:
        super().__init__(message)
        self.raw = raw


class ServerClosedConnection(ConnectionError):
    """Raised when the server closes the connection before a response it owes.

    :ivar responses: the complete responses read before the close.
    """

    def __init__(self, message: str, responses: Sequence[RawResponse] = ()) -> None:
        super().__init__(message)
        self.responses = list(responses)


class _Sentinel(enum.Enum):
    NEED_DATA = "NEED_DATA"
    PAUSED = "PAUSED"


NEED_DATA: Final = _Sentinel.NEED_DATA
"""More bytes (or ``receive_eof``) are needed to produce the next event."""
PAUSED: Final = _Sentinel.PAUSED
"""The response is complete; call ``start_next`` to parse the next one."""


@dataclass(frozen=True, slots=True)
class Informational:
    """A 1xx response other than 101 (RFC 9110 §15.2); a final one follows."""

    status: int
    reason: str
    http_version: str
    headers: list[tuple[str, str]]
    raw: bytes


@dataclass(frozen=True, slots=True)
class Head:
    """The final response's status line and header section.

    :param header_lines: each field line exactly as received, without its
        line ending (an obs-fold continuation is its own line).
    """

    status: int
    reason: str
    http_version: str
    headers: list[tuple[str, str]]
    header_lines: list[bytes]
    raw: bytes


@dataclass(frozen=True, slots=True)
class ChunkStart:
    """A chunk-size line; ``size`` octets of :class:`Data` follow (none for 0)."""

    size: int
    extensions: list[tuple[str, str | None]]
    raw_line: bytes


@dataclass(frozen=True, slots=True)
class Data:
    """Body octets, in the order received."""

    data: bytes


@dataclass(frozen=True, slots=True)
class EndOfMessage:
    """The response is complete; ``trailers`` from a chunked trailer section."""

    trailers: list[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class ConnectionClosed:
    """The peer closed the connection (end of input) between responses."""


Event = Informational | Head | ChunkStart | Data | EndOfMessage | ConnectionClosed
Framing = Literal["length", "chunked", "close", "none"]


class _State(enum.Enum):
    HEAD = "head"
    LENGTH = "length"
    CHUNK_SIZE = "chunk size"
    CHUNK_DATA = "chunk data"
    CHUNK_CRLF = "CRLF after chunk data"
    TRAILERS = "trailer section"
    CLOSE = "close-delimited body"
    NO_BODY = "end of a response without body"
    DONE = "done"
    UPGRADED = "upgraded"
    CLOSED = "closed"


def _fields_get(headers: Sequence[tuple[str, str]], name: str) -> list[str]:
    return [value for key, value in headers if key.lower() == name]


def _comma_list(values: Sequence[str]) -> list[str]:
    return [item.strip(" \t").lower() for value in values for item in value.split(",")]


class ResponseParser:
    """Sans-IO HTTP/1.1 response parser.

    :param method: the request method; HEAD (and CONNECT 2xx) responses have no body.
    :param strict: raise :class:`FramingError` on recoverable deviations instead
        of recording them in :attr:`violations`.
    :param max_head: largest header section (and trailer section) accepted.
    :param max_line: longest chunk-size line accepted.
    """

    def __init__(
        self,
        method: str = "GET",
        *,
        strict: bool = True,
        max_head: int = 64 * 1024,
        max_line: int = 4096,
    ) -> None:
        self.strict = strict
        self.max_head = max_head
        self.max_line = max_line
        self.violations: list[str] = []
        self._buffer = bytearray()
        self._eof = False
        self._error: FramingError | None = None
        self._begin(method)

    def _begin(self, method: str) -> None:
        self.method = method.upper()
        self.framing: Framing | None = None
        self.keep_alive = False
        self._state = _State.HEAD
        self._remaining = 0
        self._raw = bytearray()
        self._seen_head = False
        self._after_no_body = _State.DONE

    # -- input ----------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Append bytes received from the peer."""
        if self._eof and data:
            raise RuntimeError("receive_data after receive_eof")
        self._buffer += data

    def receive_eof(self) -> None:
        """Mark the end of input (the peer closed its side)."""
        self._eof = True

    def start_next(self, method: str = "GET") -> None:
        """Parse the next response on the same connection (keep-alive, pipelining).

        :raises RuntimeError: when the current response is not complete.
        """
        if self._state not in (_State.DONE, _State.CLOSED):
            raise RuntimeError(f"start_next while parsing the {self._state.value}")
        if self._state is _State.CLOSED:
            return
        self._begin(method)

    @property
    def raw(self) -> bytes:
        """The bytes consumed for the current response, 1xx responses included."""
        return bytes(self._raw)

    @property
    def trailing_data(self) -> bytes:
        """Bytes received and not consumed (after a 101, the upgraded stream)."""
        return bytes(self._buffer)

    # -- output ---------------------------------------------------------------

    def next_event(self) -> Event | _Sentinel:
        """Return the next event, :data:`NEED_DATA` or :data:`PAUSED`.

        :raises FramingError: on a framing error (again on every later call).
        """
        if self._error is not None:
            raise self._error
        try:
            return self._next()
        except FramingError as exc:
            self._error = exc
            raise

    def _violation(self, message: str) -> None:
        self.violations.append(message)
        if self.strict:
            raise FramingError(message)

    def _consume(self, count: int) -> bytes:
        data = bytes(self._buffer[:count])
        del self._buffer[:count]
        self._raw += data
        return data

    def _next(self) -> Event | _Sentinel:
        state = self._state
        if state is _State.HEAD:
            return self._read_head()
        if state is _State.LENGTH:
            return self._read_length()
        if state in (_State.CHUNK_SIZE, _State.CHUNK_DATA, _State.CHUNK_CRLF, _State.TRAILERS):
            return self._read_chunked()
        if state is _State.NO_BODY:
            self._state = self._after_no_body
            return EndOfMessage([])
        if state is _State.CLOSE:
            if self._buffer:
                return Data(self._consume(len(self._buffer)))
            if self._eof:
                self._state = _State.DONE
                return EndOfMessage([])
            return NEED_DATA
        if state is _State.DONE:
            if self._eof and not self._buffer:
                self._state = _State.CLOSED
                return ConnectionClosed()
            return PAUSED
        if state is _State.UPGRADED:
            return PAUSED
        return ConnectionClosed()

    # -- lines ----------------------------------------------------------------

    def _split_lines(self, limit: int, what: str) -> list[bytes] | None:
        """Lines up to and including the first empty one, or None if incomplete.

        Only inspects the buffer; the caller consumes ``sum(len)`` bytes.
        """
        lines: list[bytes] = []
        position = 0
        while True:
            end = self._buffer.find(b"\n", position)
            if end == -1:
                if len(self._buffer) > limit:
                    raise FramingError(f"{what} exceeds {limit} bytes without ending")
                if self._eof:
                    raise FramingError(
                        f"connection closed inside the {what} after {len(self._buffer)} bytes"
                    )
                return None
            line = bytes(self._buffer[position : end + 1])
            lines.append(line)
            position = end + 1
            if position > limit:
                raise FramingError(f"{what} exceeds {limit} bytes")
            if line in (b"\r\n", b"\n"):
                return lines

    def _strip_eol(self, line: bytes, what: str) -> bytes:
        if line.endswith(b"\r\n"):
            content = line[:-2]
        else:
            self._violation(f"bare LF ending a line of the {what} (RFC 9112 §2.2): {line!r}")
            content = line[:-1]
        if b"\r" in content:
            self._violation(f"bare CR inside a line of the {what} (RFC 9112 §2.2): {line!r}")
            content = content.replace(b"\r", b" ")
        return content

    def _parse_fields(
        self, lines: Sequence[bytes], what: str
    ) -> tuple[list[tuple[str, str]], list[bytes]]:
        headers: list[tuple[str, str]] = []
        exact: list[bytes] = []
        for line in lines:
            content = self._strip_eol(line, what)
            exact.append(line[:-2] if line.endswith(b"\r\n") else line[:-1])
            if content[:1] in (b" ", b"\t"):
                self._violation(f"obs-fold line in the {what} (RFC 9112 §5.2): {content!r}")
                if not headers:
                    raise FramingError(f"{what} starts with whitespace: {content!r}")
                name, previous = headers[-1]
                folded = content.strip(b" \t").decode("latin-1")
                headers[-1] = (name, f"{previous} {folded}" if previous else folded)
                continue
            match = _FIELD_LINE.fullmatch(content)
            if match is None:
                self._violation(f"malformed field line in the {what}: {content!r}")
                continue
            if match.group(2):
                self._violation(
                    f"whitespace between field name and colon in the {what} "
                    f"(RFC 9112 §5.1): {content!r}"
                )
            value = match.group(3).strip(b" \t")
            if not _FIELD_VALUE.fullmatch(value):
                self._violation(f"invalid character in field value (RFC 9110 §5.5): {content!r}")
            headers.append((match.group(1).decode("ascii"), value.decode("latin-1")))
        return headers, exact

    # -- head -----------------------------------------------------------------

    def _read_head(self) -> Event | _Sentinel:
        while self._buffer.startswith((b"\r\n", b"\n")):
            self._violation("empty line before the status line")
            self._consume(2 if self._buffer.startswith(b"\r\n") else 1)
        if not self._buffer:
            if self._eof:
                if self._seen_head:
                    raise FramingError("connection closed after a 1xx response, before the final")
                self._state = _State.CLOSED
                return ConnectionClosed()
            return NEED_DATA
        if self._buffer == b"\r" and not self._eof:
            return NEED_DATA
        lines = self._split_lines(self.max_head, "response head")
        if lines is None:
            return NEED_DATA
        raw = self._consume(sum(map(len, lines)))
        status_line = self._strip_eol(lines[0], "response head")
        match = _STATUS_LINE.fullmatch(status_line)
        if match is None:
            raise FramingError(f"malformed status line {status_line!r} (RFC 9112 §4)")
        if match.group(3) is None:
            self._violation(f"status line lacks the SP before the reason phrase: {status_line!r}")
        http_version = match.group(1).decode("ascii")
        if http_version[5] != "1":
            raise FramingError(f"unsupported HTTP version in {status_line!r}")
        status = int(match.group(2))
        reason = (match.group(4) or b"").decode("latin-1")
        headers, exact = self._parse_fields(lines[1:-1], "response head")
        self._strip_eol(lines[-1], "response head")
        self._seen_head = True
        if 100 <= status < 200 and status != 101:
            for name in ("content-length", "transfer-encoding"):
                if _fields_get(headers, name):
                    self._violation(f"{name} in a {status} response (RFC 9110 §8.6, RFC 9112 §6.1)")
            return Informational(status, reason, http_version, headers, raw)
        self._choose_framing(status, http_version, headers)
        return Head(status, reason, http_version, headers, exact, raw)

    def _choose_framing(
        self, status: int, http_version: str, headers: list[tuple[str, str]]
    ) -> None:
        """Apply RFC 9112 §6.3 (message body length) to a final response."""
        connection = _comma_list(_fields_get(headers, "connection"))
        if http_version == "HTTP/1.1":
            self.keep_alive = "close" not in connection
        else:
            self.keep_alive = "keep-alive" in connection
        codings = _comma_list(_fields_get(headers, "transfer-encoding"))
        lengths = _comma_list(_fields_get(headers, "content-length"))
        if status == 204:
            for name, present in (("Content-Length", lengths), ("Transfer-Encoding", codings)):
                if present:
                    self._violation(f"{name} in a 204 response (RFC 9110 §8.6, RFC 9112 §6.1)")
        if status == 101 or (self.method == "CONNECT" and 200 <= status < 300):
            self.framing = "none"
            self._state = _State.NO_BODY
            self._after_no_body = _State.UPGRADED
            return
        if self.method == "HEAD" or status in (204, 304):
            self.framing = "none"
            self._state = _State.NO_BODY
            return
        if codings:
            if lengths:
                self._violation(
                    "both Transfer-Encoding and Content-Length (RFC 9112 §6.1: a sender "
                    "MUST NOT send Content-Length in a message with Transfer-Encoding)"
                )
            if codings.count("chunked") > 1:
                self._violation("chunked applied more than once (RFC 9112 §6.1)")
            if codings[-1] == "chunked":
                self.framing = "chunked"
                self._state = _State.CHUNK_SIZE
                return
            self.framing = "close"
            self.keep_alive = False
            self._state = _State.CLOSE
            return
        if lengths:
            if not all(value.isdigit() and value.isascii() for value in lengths):
                raise FramingError(f"invalid Content-Length {lengths!r} (RFC 9112 §6.3 item 5)")
            if len(set(map(int, lengths))) > 1:
                raise FramingError(f"conflicting Content-Length values {lengths!r}")
            if len(lengths) > 1:
                self._violation(f"Content-Length repeated {lengths!r} (RFC 9110 §8.6)")
            self.framing = "length"
            self._remaining = int(lengths[0])
            self._state = _State.LENGTH if self._remaining else _State.NO_BODY
            return
        self.framing = "close"
        self.keep_alive = False
        self._state = _State.CLOSE

    # -- bodies ---------------------------------------------------------------

    def _read_length(self) -> Event | _Sentinel:
        if self._remaining == 0:
            self._state = _State.DONE
            return EndOfMessage([])
        if self._buffer:
            data = self._consume(min(self._remaining, len(self._buffer)))
            self._remaining -= len(data)
            return Data(data)
        if self._eof:
            raise FramingError(
                f"connection closed with {self._remaining} Content-Length bytes still owed"
            )
        return NEED_DATA

    def _read_chunked(self) -> Event | _Sentinel:
        state = self._state
        if state is _State.CHUNK_SIZE:
            end = self._buffer.find(b"\n")
            if end == -1:
                if len(self._buffer) > self.max_line:
                    raise FramingError(f"chunk-size line longer than {self.max_line} bytes")
                if self._eof:
                    raise FramingError("connection closed inside a chunk-size line")
                return NEED_DATA
            line = self._consume(end + 1)
            content = self._strip_eol(line, "chunked body")
            size_match = _CHUNK_SIZE.match(content)
            if size_match is None:
                raise FramingError(f"bad chunk size line {line!r} (RFC 9112 §7.1)")
            extensions: list[tuple[str, str | None]] = []
            position = size_match.end()
            while position < len(content):
                ext = _CHUNK_EXT.match(content, position)
                if ext is None:
                    raise FramingError(f"bad chunk size line {line!r} (RFC 9112 §7.1)")
                value = ext.group(2)
                extensions.append(
                    (
                        ext.group(1).decode("ascii"),
                        None if value is None else value.decode("latin-1"),
                    )
                )
                position = ext.end()
            size = int(size_match.group(1), 16)
            if size > _MAX_CHUNK_SIZE:
                raise FramingError(f"chunk size {size} is too large")
            self._remaining = size
            self._state = _State.CHUNK_DATA if size else _State.TRAILERS
            return ChunkStart(size, extensions, line)
        if state is _State.CHUNK_DATA:
            if self._buffer:
                data = self._consume(min(self._remaining, len(self._buffer)))
                self._remaining -= len(data)
                if self._remaining == 0:
                    self._state = _State.CHUNK_CRLF
                return Data(data)
            if self._eof:
                raise FramingError(f"connection closed with {self._remaining} chunk bytes owed")
            return NEED_DATA
        if state is _State.CHUNK_CRLF:
            if self._buffer.startswith(b"\r\n"):
                self._consume(2)
            elif self._buffer.startswith(b"\n"):
                self._violation("bare LF after chunk data (RFC 9112 §7.1 requires CRLF)")
                self._consume(1)
            elif bytes(self._buffer) in (b"", b"\r") and not self._eof:
                return NEED_DATA
            elif bytes(self._buffer) in (b"", b"\r"):
                raise FramingError("connection closed before the CRLF after chunk data")
            else:
                raise FramingError(
                    f"missing CRLF after chunk data, found {bytes(self._buffer[:16])!r}"
                )
            self._state = _State.CHUNK_SIZE
            return self._read_chunked()
        lines = self._split_lines(self.max_head, "trailer section")
        if lines is None:
            return NEED_DATA
        self._consume(sum(map(len, lines)))
        trailers, _ = self._parse_fields(lines[:-1], "trailer section")
        self._strip_eol(lines[-1], "trailer section")
        self._state = _State.DONE
        return EndOfMessage(trailers)


# -- collected responses -------------------------------------------------------


@dataclass(slots=True)
class RawResponse:
    """One complete response as received.

    :param chunks: each chunk's data when the body was chunked, else None.
    :param chunk_lines: each chunk-size line exactly (last chunk included).
    :param raw: every byte of this response on the wire, 1xx responses included.
    """

    status: int
    reason: str
    http_version: str
    headers: list[tuple[str, str]]
    body: bytes
    chunks: list[bytes] | None
    trailers: list[tuple[str, str]]
    raw: bytes
    header_lines: list[bytes] = field(default_factory=list)
    chunk_lines: list[bytes] = field(default_factory=list)
    chunk_extensions: list[list[tuple[str, str | None]]] = field(default_factory=list)
    informational: list[Informational] = field(default_factory=list)
    framing: Framing = "none"
    keep_alive: bool = False
    violations: list[str] = field(default_factory=list)

    def header_values(self, name: str) -> list[str]:
        """Every value of the named field, in order (case-insensitive name)."""
        return _fields_get(self.headers, name.lower())

    def header(self, name: str) -> str | None:
        """The named field's only value, None when absent.

        :raises ValueError: when the field occurs more than once.
        """
        values = self.header_values(name)
        if len(values) > 1:
            raise ValueError(f"{name} occurs {len(values)} times: {values!r}")
        return values[0] if values else None


class _Collector:
    """Turns parser events into a :class:`RawResponse`."""

    def __init__(self) -> None:
        self.head: Head | None = None
        self.informational: list[Informational] = []
        self.body = bytearray()
        self.chunks: list[bytes] = []
        self.chunk_lines: list[bytes] = []
        self.chunk_extensions: list[list[tuple[str, str | None]]] = []

    def add(self, event: Event, max_body: int) -> None:
        if isinstance(event, Informational):
            self.informational.append(event)
        elif isinstance(event, Head):
            self.head = event
        elif isinstance(event, ChunkStart):
            self.chunk_lines.append(event.raw_line)
            self.chunk_extensions.append(event.extensions)
            if event.size:
                self.chunks.append(b"")
        elif isinstance(event, Data):
            self.body += event.data
            if len(self.body) > max_body:
                raise FramingError(f"response body exceeds {max_body} bytes")
            if self.chunk_lines:
                self.chunks[-1] += event.data

    def finish(self, parser: ResponseParser, end: EndOfMessage) -> RawResponse:
        assert self.head is not None
        return RawResponse(
            status=self.head.status,
            reason=self.head.reason,
            http_version=self.head.http_version,
            headers=self.head.headers,
            body=bytes(self.body),
            chunks=self.chunks if parser.framing == "chunked" else None,
            trailers=end.trailers,
            raw=parser.raw,
            header_lines=self.head.header_lines,
            chunk_lines=self.chunk_lines,
            chunk_extensions=self.chunk_extensions,
            informational=self.informational,
            framing=parser.framing or "none",
            keep_alive=parser.keep_alive,
            violations=list(parser.violations),
        )


def parse_response(
    data: bytes, method: str = "GET", *, strict: bool = True, eof: bool = True
) -> RawResponse:
    """Parse one complete response from bytes (convenience for tests and cases).

    :param eof: the bytes end with the connection closing (ends a close-delimited body).
    :raises FramingError: on a framing error or an incomplete response.
    """
    parser = ResponseParser(method, strict=strict)
    parser.receive_data(data)
    if eof:
        parser.receive_eof()
    collector = _Collector()
    while True:
        event = parser.next_event()
        if isinstance(event, _Sentinel | ConnectionClosed):
            raise FramingError("incomplete response", raw=data)
        if isinstance(event, EndOfMessage):
            return collector.finish(parser, event)
        collector.add(event, max_body=len(data))


# -- requests --------------------------------------------------------------------


def build_request(
    method: str,
    target: str,
    headers: Sequence[tuple[str, str]] | Mapping[str, str] = (),
    body: bytes = b"",
    *,
    chunked: bool = False,
    chunk_size: int | None = None,
    trailers: Sequence[tuple[str, str]] = (),
    host: str | None = "127.0.0.1",
    http_version: str = "HTTP/1.1",
) -> bytes:
    """Build a well-formed request (use raw bytes for a malformed one).

    Adds ``Host`` (unless ``host`` is None or given), ``Transfer-Encoding:
    chunked`` when ``chunked`` and ``Content-Length`` for a non-empty body
    (or POST/PUT/PATCH) unless either framing field is given.

    :param chunk_size: split the chunked body into chunks of this size
        (default: one chunk).
    :raises ValueError: on a method, target or field that is not valid HTTP.
    """
    if not _METHOD.fullmatch(method.encode("latin-1")):
        raise ValueError(f"method {method!r} is not a token")
    if not target or any(c in target for c in " \t\r\n\x00"):
        raise ValueError(f"request target {target!r} is empty or holds whitespace")
    items = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
    names = {name.lower() for name, _ in items}
    if host is not None and "host" not in names:
        items.insert(0, ("Host", host))
    if chunked:
        if "transfer-encoding" not in names:
            items.append(("Transfer-Encoding", "chunked"))
    elif trailers:
        raise ValueError("trailers need chunked=True")
    elif "content-length" not in names and "transfer-encoding" not in names:
        if body or method.upper() in ("POST", "PUT", "PATCH"):
            items.append(("Content-Length", str(len(body))))
    out = bytearray(f"{method} {target} {http_version}\r\n".encode("latin-1"))
    out += _encode_fields(items)
    out += b"\r\n"
    if not chunked:
        return bytes(out + body)
    if chunk_size is not None and chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    step = chunk_size or max(len(body), 1)
    for start in range(0, len(body), step):
        piece = body[start : start + step]
        out += f"{len(piece):X}\r\n".encode("ascii") + piece + b"\r\n"
    out += b"0\r\n" + _encode_fields(trailers) + b"\r\n"
    return bytes(out)


def _encode_fields(items: Sequence[tuple[str, str]]) -> bytes:
    out = bytearray()
    for name, value in items:
        if not re.fullmatch(_TOKEN, name.encode("latin-1")):
            raise ValueError(f"field name {name!r} is not a token")
        if not _FIELD_VALUE.fullmatch(value.encode("latin-1")):
            raise ValueError(f"field value {value!r} for {name!r} holds CR, LF or NUL")
        out += f"{name}: {value}\r\n".encode("latin-1")
    return bytes(out)


# -- I/O -------------------------------------------------------------------------


def _connect(host: str, port: int, timeout: float) -> socket.socket:
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except TimeoutError:
        raise ResponseTimeout(f"connect to {host}:{port} took longer than {timeout}s") from None
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _abort(sock: socket.socket) -> None:
    """Close with a TCP RST (SO_LINGER 0) instead of a FIN."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


class Connection:
    """One client connection; reads responses with :class:`ResponseParser`.

    :param timeout: seconds allowed for the connect and for every read.
    :param total_timeout: seconds allowed for one :meth:`read_response`.
    :param max_body: largest body :meth:`read_response` accepts.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        timeout: float = 10.0,
        total_timeout: float = 30.0,
        strict: bool = True,
        max_body: int = 64 * 1024 * 1024,
    ) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self.total_timeout = total_timeout
        self.max_body = max_body
        self.sock = _connect(host, port, timeout)
        self.parser = ResponseParser(strict=strict)
        self.strict = strict
        self.received = bytearray()
        self.reset = False
        self._started = False

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (FIN)."""
        self.sock.close()

    def abort(self) -> None:
        """Close the connection with a TCP RST."""
        _abort(self.sock)

    def send(self, data: bytes) -> None:
        """Send bytes (with the per-operation timeout)."""
        self.sock.settimeout(self.timeout)
        try:
            self.sock.sendall(data)
        except TimeoutError:
            raise ResponseTimeout(f"send to {self.host}:{self.port} timed out") from None

    def _recv(self, deadline: float) -> bytes:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ResponseTimeout(
                f"{self.host}:{self.port}: response not complete within {self.total_timeout}s",
                raw=bytes(self.received),
            )
        self.sock.settimeout(min(self.timeout, remaining))
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            if remaining < self.timeout:
                message = f"response not complete within {self.total_timeout}s"
            else:
                message = f"no data for {self.timeout:.2f}s after {len(self.received)} bytes"
            raise ResponseTimeout(
                f"{self.host}:{self.port}: {message}", raw=bytes(self.received)
            ) from None
        except ConnectionResetError:
            self.reset = True
            data = b""
        self.received += data
        return data

    def events(self, method_hint: str = "GET") -> Iterator[Event]:
        """Yield the next response's events as they arrive, up to EndOfMessage
        (or ConnectionClosed when the server closes before a response)."""
        if self._started:
            self.parser.start_next(method_hint)
        else:
            self.parser = ResponseParser(method_hint, strict=self.strict)
            self.parser.receive_data(bytes(self.received))
        self._started = True
        deadline = time.monotonic() + self.total_timeout
        while True:
            try:
                event = self.parser.next_event()
            except FramingError as exc:
                exc.raw = bytes(self.received)
                raise
            if event is NEED_DATA:
                data = self._recv(deadline)
                if data:
                    self.parser.receive_data(data)
                else:
                    self.parser.receive_eof()
                continue
            if isinstance(event, _Sentinel):
                raise RuntimeError(f"parser is {event.value} in the middle of a response")
            yield event
            if isinstance(event, EndOfMessage | ConnectionClosed):
                return

    def read_response(self, method_hint: str = "GET") -> RawResponse:
        """Read one complete response.

        :raises ServerClosedConnection: when the server closes first.
        :raises FramingError: on a framing error.
        :raises ResponseTimeout: when a read or the whole response is too slow.
        """
        collector = _Collector()
        for event in self.events(method_hint):
            if isinstance(event, ConnectionClosed):
                raise ServerClosedConnection(
                    f"{self.host}:{self.port} closed the connection before a response"
                )
            if isinstance(event, EndOfMessage):
                return collector.finish(self.parser, event)
            collector.add(event, self.max_body)
        raise AssertionError("unreachable: events() ends with EndOfMessage")

    def wait_closed(self, timeout: float = 1.0) -> bool:
        """Whether the server closes the connection within ``timeout`` seconds
        (bytes received meanwhile go to the parser's buffer)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(deadline - time.monotonic(), 0.001))
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                return False
            except ConnectionResetError:
                self.reset = True
                return True
            if not data:
                return True
            self.received += data
            self.parser.receive_data(data)
        return False


def exchange(
    host: str,
    port: int,
    request_bytes: bytes,
    *,
    method_hint: str = "GET",
    timeout: float = 10.0,
    total_timeout: float = 30.0,
    strict: bool = True,
) -> RawResponse:
    """Send one request on a new connection and read one response.

    :param method_hint: the request's method, for framing (HEAD has no body).
    :raises FramingError: on a framing error (``.raw`` holds the bytes).
    :raises ResponseTimeout: when the connect, a read or the total is too slow.
    :raises ServerClosedConnection: when the server closes without answering.
    """
    with Connection(
        host, port, timeout=timeout, total_timeout=total_timeout, strict=strict
    ) as conn:
        conn.send(request_bytes)
        return conn.read_response(method_hint)


def _hints(requests: Sequence[bytes], method_hints: Sequence[str] | None) -> list[str]:
    if method_hints is None:
        return [request.split(b" ", 1)[0].decode("latin-1") for request in requests]
    if len(method_hints) != len(requests):
        raise ValueError("one method hint per request")
    return list(method_hints)


def _read_all(conn: Connection, hints: Sequence[str]) -> list[RawResponse]:
    responses: list[RawResponse] = []
    for hint in hints:
        try:
            responses.append(conn.read_response(hint))
        except ServerClosedConnection:
            raise ServerClosedConnection(
                f"server closed the connection after {len(responses)} of {len(hints)} responses",
                responses,
            ) from None
    return responses


def pipeline(
    host: str,
    port: int,
    requests: Sequence[bytes],
    *,
    method_hints: Sequence[str] | None = None,
    timeout: float = 10.0,
    strict: bool = True,
) -> list[RawResponse]:
    """Send every request at once on one connection, then read the responses.

    :param method_hints: defaults to each request's first word.
    :raises ServerClosedConnection: with ``.responses`` when the server closes early.
    """
    hints = _hints(requests, method_hints)
    with Connection(host, port, timeout=timeout, strict=strict) as conn:
        conn.send(b"".join(requests))
        return _read_all(conn, hints)


def sequential(
    host: str,
    port: int,
    requests: Sequence[bytes],
    *,
    method_hints: Sequence[str] | None = None,
    timeout: float = 10.0,
    strict: bool = True,
) -> list[RawResponse]:
    """Send each request after the previous response, all on one connection.

    :raises ServerClosedConnection: with ``.responses`` when the server closes early.
    """
    hints = _hints(requests, method_hints)
    responses: list[RawResponse] = []
    with Connection(host, port, timeout=timeout, strict=strict) as conn:
        for request, hint in zip(requests, hints, strict=True):
            try:
                conn.send(request)
                responses.append(conn.read_response(hint))
            except (BrokenPipeError, ConnectionResetError, ServerClosedConnection):
                raise ServerClosedConnection(
                    f"server closed the connection after {len(responses)} of "
                    f"{len(requests)} responses",
                    responses,
                ) from None
    return responses


def _drain(sock: socket.socket, seconds: float) -> bytes:
    """Whatever arrives within ``seconds`` (until EOF or reset)."""
    received = bytearray()
    deadline = time.monotonic() + seconds
    while (remaining := deadline - time.monotonic()) > 0:
        sock.settimeout(remaining)
        try:
            data = sock.recv(65536)
        except (TimeoutError, ConnectionResetError):
            break
        if not data:
            break
        received += data
    return bytes(received)


def send_partial_then_close(
    host: str,
    port: int,
    request_bytes: bytes,
    nbytes: int | None = None,
    *,
    wait: float = 0.0,
    abort: bool = False,
    timeout: float = 10.0,
) -> bytes:
    """Send the first ``nbytes`` of a request (all by default), then close.

    :param wait: seconds to read whatever the server sends before closing.
    :param abort: close with a TCP RST instead of a FIN.
    :returns: the bytes received before the close.
    """
    sock = _connect(host, port, timeout)
    try:
        sock.settimeout(timeout)
        sock.sendall(request_bytes if nbytes is None else request_bytes[:nbytes])
        return _drain(sock, wait) if wait > 0 else b""
    finally:
        if abort:
            _abort(sock)
        else:
            sock.close()


def read_then_close(
    host: str,
    port: int,
    request_bytes: bytes,
    nbytes: int,
    *,
    abort: bool = False,
    timeout: float = 10.0,
) -> bytes:
    """Send a request, read until at least ``nbytes`` arrived (or EOF), then close.

    For disconnect tests: the server sees the client go away mid-response.

    :param abort: close with a TCP RST instead of a FIN.
    :returns: everything read (possibly more than ``nbytes``, or less at EOF).
    :raises ResponseTimeout: when a read takes longer than ``timeout``.
    """
    sock = _connect(host, port, timeout)
    received = bytearray()
    try:
        sock.settimeout(timeout)
        sock.sendall(request_bytes)
        while len(received) < nbytes:
            try:
                data = sock.recv(min(65536, max(nbytes - len(received), 1)))
            except TimeoutError:
                raise ResponseTimeout(
                    f"{host}:{port}: no data for {timeout}s after {len(received)} bytes",
                    raw=bytes(received),
                ) from None
            except ConnectionResetError:
                break
            if not data:
                break
            received += data
        return bytes(received)
    finally:
        if abort:
            _abort(sock)
        else:
            sock.close()


@dataclass(frozen=True, slots=True)
class MalformedReply:
    """What came back for arbitrary bytes sent by :func:`send_malformed`.

    :param raw: every byte received.
    :param closed: the server closed the connection (FIN or RST).
    :param reset: the close was a TCP RST.
    :param timed_out: nothing more came for ``timeout`` seconds and the
        connection was still open.
    :param response: the first response parsed leniently, if one is complete.
    """

    raw: bytes
    closed: bool
    reset: bool
    timed_out: bool
    response: RawResponse | None

    @property
    def closed_without_reply(self) -> bool:
        """The server closed the connection and sent nothing."""
        return self.closed and not self.raw


def send_malformed(
    host: str,
    port: int,
    data: bytes,
    *,
    method_hint: str = "GET",
    timeout: float = 10.0,
    wait_close: float = 1.0,
) -> MalformedReply:
    """Send arbitrary bytes and report whatever comes back.

    Reads until the server closes, or until a complete response arrived and
    the server then kept the connection open for ``wait_close`` seconds, or
    until nothing arrives for ``timeout`` seconds.
    """
    sock = _connect(host, port, timeout)
    received = bytearray()
    closed = reset = timed_out = False
    response: RawResponse | None = None
    deadline = time.monotonic() + 3 * timeout
    try:
        try:
            sock.settimeout(timeout)
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        while True:
            limit = wait_close if response is not None else timeout
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            sock.settimeout(min(limit, remaining))
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                timed_out = response is None
                break
            except ConnectionResetError:
                closed = reset = True
                break
            if not chunk:
                closed = True
                break
            received += chunk
            if response is None:
                response = _try_parse(bytes(received), method_hint)
    finally:
        sock.close()
    if response is None and closed:
        response = _try_parse(bytes(received), method_hint, eof=True)
    return MalformedReply(bytes(received), closed, reset, timed_out, response)


def _try_parse(data: bytes, method: str, *, eof: bool = False) -> RawResponse | None:
    try:
        return parse_response(data, method, strict=False, eof=eof)
    except FramingError:
        return None
