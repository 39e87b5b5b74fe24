"""Exceptions that carry what a framework needs to render an error response.

Each subclass names one failure mode; its docstring says who raises it and when.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, Generic, NoReturn, TypeVar

T = TypeVar("T")


class HTTPException(Exception, Generic[T]):
    """An error that maps onto an HTTP response.

    :param status_code: the status of the response to send (400 by default).
    :param headers: headers the response must carry (``Allow``, ``Content-Range``).
    :param content: a body, or anything a framework can render into one.
    """

    def __init__(
        self,
        status_code: int = 400,
        headers: Mapping[str, str] | None = None,
        content: T | None = None,
    ) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content
        super().__init__(status_code, headers, content)

    def __str__(self) -> str:
        try:
            phrase = HTTPStatus(self.status_code).phrase
        except ValueError:
            phrase = "HTTP error"
        detail = f": {self.content}" if self.content is not None else ""
        return f"{self.status_code} {phrase}{detail}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status_code={self.status_code!r}, "
            f"headers={self.headers!r}, content={self.content!r})"
        )


def abort(
    status_code: int = 400,
    headers: Mapping[str, str] | None = None,
    content: Any = None,
) -> NoReturn:
    """Raise an :class:`HTTPException` with the given status, headers and content."""
    raise HTTPException(status_code, headers, content)


class RequestEntityTooLarge(HTTPException[str]):
    """413: the body, a form field or the number of form parts exceeds a limit."""

    def __init__(self, content: str | None = None) -> None:
        super().__init__(413, None, content)


class UnsupportedMediaType(HTTPException[str]):
    """415: ``json`` or ``form`` was read from a body of another content type."""

    def __init__(self, supported: str | None = None) -> None:
        content = f"Unsupported media type, expected {supported}" if supported else None
        super().__init__(415, None, content)
        self.supported = supported


class MalformedJSON(HTTPException[str]):
    """400: the body is not valid JSON (or not valid in its charset)."""

    def __init__(self, content: str | None = None) -> None:
        super().__init__(400, None, content)


class MalformedMultipart(HTTPException[str]):
    """400: a ``multipart/form-data`` body that does not parse."""

    def __init__(self, content: str | None = None) -> None:
        super().__init__(400, None, content)


class MalformedRangeHeader(HTTPException[str]):
    """400: a ``Range`` header that does not parse (callers may choose to ignore it)."""

    def __init__(self, content: str | None = "Malformed range header.") -> None:
        super().__init__(400, None, content)


class RangeNotSatisfiable(HTTPException[str]):
    """416: no range of the ``Range`` header overlaps the representation.

    Carries ``Content-Range: bytes */<size>`` as RFC 9110 §15.5.17 asks.
    """

    def __init__(self, max_size: int) -> None:
        super().__init__(416, {"Content-Range": f"bytes */{max_size}"}, None)
        self.max_size = max_size


__all__ = [
    "HTTPException",
    "MalformedJSON",
    "MalformedMultipart",
    "MalformedRangeHeader",
    "RangeNotSatisfiable",
    "RequestEntityTooLarge",
    "UnsupportedMediaType",
    "abort",
]
