"""The exceptions every part of the raw HTTP/1.1 client raises."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conformance.harness.http1.response import RawResponse

__all__ = ["FramingError", "ResponseTimeout", "ServerClosedConnection"]


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
