"""The sans-IO HTTP/1.1 response parser (the h11 style: no sockets here).

``receive_data(bytes)`` fills a buffer, ``receive_eof()`` marks the end of
input and ``next_event()`` returns one event from
:mod:`~conformance.harness.http1.events` or a sentinel (:data:`NEED_DATA`,
:data:`PAUSED`). Framing follows RFC 9112 §6.3; the caller names the request
method so HEAD responses have no body.

Deviations from RFC 9112 that can be read past (bare LF, obs-fold, both
Transfer-Encoding and Content-Length...) raise :class:`FramingError` in strict
mode and are recorded in ``violations`` otherwise; errors that leave the
framing unknown (bad chunk size, bad Content-Length, missing CRLF after chunk
data, truncated message) always raise::

    trailer-section = *( field-line CRLF )
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

from conformance.harness.http1.chunked import parse_chunk_header
from conformance.harness.http1.errors import FramingError
from conformance.harness.http1.events import (
    NEED_DATA,
    PAUSED,
    ChunkStart,
    ConnectionClosed,
    Data,
    EndOfMessage,
    Event,
    Framing,
    Head,
    Informational,
    Sentinel,
)
from conformance.harness.http1.syntax import (
    FIELD_LINE,
    FIELD_VALUE,
    STATUS_LINE,
    comma_list,
    fields_get,
)

__all__ = ["ResponseParser"]


class _State(enum.Enum):
    """Where the parser is inside the current response."""

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

    def next_event(self) -> Event | Sentinel:
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

    def _next(self) -> Event | Sentinel:
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
            match = FIELD_LINE.fullmatch(content)
            if match is None:
                self._violation(f"malformed field line in the {what}: {content!r}")
                continue
            if match.group(2):
                self._violation(
                    f"whitespace between field name and colon in the {what} "
                    f"(RFC 9112 §5.1): {content!r}"
                )
            value = match.group(3).strip(b" \t")
            if not FIELD_VALUE.fullmatch(value):
                self._violation(f"invalid character in field value (RFC 9110 §5.5): {content!r}")
            headers.append((match.group(1).decode("ascii"), value.decode("latin-1")))
        return headers, exact

    # -- head -----------------------------------------------------------------

    def _read_head(self) -> Event | Sentinel:
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
        match = STATUS_LINE.fullmatch(status_line)
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
                if fields_get(headers, name):
                    self._violation(f"{name} in a {status} response (RFC 9110 §8.6, RFC 9112 §6.1)")
            return Informational(status, reason, http_version, headers, raw)
        self._choose_framing(status, http_version, headers)
        return Head(status, reason, http_version, headers, exact, raw)

    def _choose_framing(
        self, status: int, http_version: str, headers: list[tuple[str, str]]
    ) -> None:
        """Apply RFC 9112 §6.3 (message body length) to a final response."""
        connection = comma_list(fields_get(headers, "connection"))
        if http_version == "HTTP/1.1":
            self.keep_alive = "close" not in connection
        else:
            self.keep_alive = "keep-alive" in connection
        codings = comma_list(fields_get(headers, "transfer-encoding"))
        lengths = comma_list(fields_get(headers, "content-length"))
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

    def _read_length(self) -> Event | Sentinel:
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

    def _read_chunked(self) -> Event | Sentinel:
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
            size, extensions = parse_chunk_header(content, line)
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
