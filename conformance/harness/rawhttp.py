"""A raw-socket HTTP/1.1 client for the cases where exact bytes matter.

This module is the import point; the code lives in :mod:`conformance.harness.http1`
(its docstring maps the modules). Two layers, as in h11:

* :class:`ResponseParser` is sans-IO: feed it bytes, get events
  (:class:`Informational`, :class:`Head`, :class:`ChunkStart`, :class:`Data`,
  :class:`EndOfMessage`, :class:`ConnectionClosed`) or the sentinels
  :data:`NEED_DATA` / :data:`PAUSED`. :func:`parse_response` turns complete
  bytes into one :class:`RawResponse`.
* The I/O functions (:func:`exchange`, :class:`Connection`, :func:`pipeline`,
  :func:`sequential`, :func:`send_partial_then_close`, :func:`read_then_close`,
  :func:`send_malformed`) use blocking sockets with a timeout on the connect
  and on every read, plus a total deadline, so nothing can hang a run.

:func:`build_request` writes well-formed requests; framing errors raise
:class:`FramingError`, slow servers :class:`ResponseTimeout` and early closes
:class:`ServerClosedConnection`.
"""

from __future__ import annotations

from conformance.harness.http1.connection import Connection, exchange
from conformance.harness.http1.errors import (
    FramingError,
    ResponseTimeout,
    ServerClosedConnection,
)
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
)
from conformance.harness.http1.misbehaving import (
    MalformedReply,
    read_then_close,
    send_malformed,
    send_partial_then_close,
)
from conformance.harness.http1.parser import ResponseParser
from conformance.harness.http1.pipelining import pipeline, sequential
from conformance.harness.http1.request import build_request
from conformance.harness.http1.response import RawResponse, parse_response

__all__ = [
    "NEED_DATA",
    "PAUSED",
    "ChunkStart",
    "Connection",
    "ConnectionClosed",
    "Data",
    "EndOfMessage",
    "Event",
    "Framing",
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
