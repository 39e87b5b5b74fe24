"""What :class:`~conformance.harness.http1.parser.ResponseParser` returns.

``next_event()`` yields one of the event classes below, or a sentinel
(:data:`NEED_DATA`, :data:`PAUSED`) when it has no event to give yet. A
response reads as ``Informational* Head (ChunkStart? Data*)* EndOfMessage``;
:class:`ConnectionClosed` stands for the end of input between responses.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final, Literal

__all__ = [
    "NEED_DATA",
    "PAUSED",
    "ChunkStart",
    "ConnectionClosed",
    "Data",
    "EndOfMessage",
    "Event",
    "Framing",
    "Head",
    "Informational",
    "Sentinel",
]


class Sentinel(enum.Enum):
    """The type of :data:`NEED_DATA` and :data:`PAUSED`."""

    NEED_DATA = "NEED_DATA"
    PAUSED = "PAUSED"


NEED_DATA: Final = Sentinel.NEED_DATA
"""More bytes (or ``receive_eof``) are needed to produce the next event."""
PAUSED: Final = Sentinel.PAUSED
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
"""How the body was delimited (RFC 9112 §6.3): Content-Length, chunked,
connection close, or no body at all."""
