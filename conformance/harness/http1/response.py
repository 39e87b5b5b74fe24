"""A complete response as one value: :class:`RawResponse`, the collector
that assembles it from parser events, and :func:`parse_response` for bytes
already in hand."""

from __future__ import annotations

from dataclasses import dataclass, field

from conformance.harness.http1.errors import FramingError
from conformance.harness.http1.events import (
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
from conformance.harness.http1.parser import ResponseParser
from conformance.harness.http1.syntax import fields_get

__all__ = ["Collector", "RawResponse", "parse_response"]


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
        return fields_get(self.headers, name.lower())

    def header(self, name: str) -> str | None:
        """The named field's only value, None when absent.

        :raises ValueError: when the field occurs more than once.
        """
        values = self.header_values(name)
        if len(values) > 1:
            raise ValueError(f"{name} occurs {len(values)} times: {values!r}")
        return values[0] if values else None


class Collector:
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
    collector = Collector()
    while True:
        event = parser.next_event()
        if isinstance(event, Sentinel | ConnectionClosed):
            raise FramingError("incomplete response", raw=data)
        if isinstance(event, EndOfMessage):
            return collector.finish(parser, event)
        collector.add(event, max_body=len(data))
