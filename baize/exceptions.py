"""Exceptions that carry what a framework needs to render an error response.

Each subclass names one failure mode; its docstring says who raises it and when.
As in upstream baize 0.23.1, ``exc.args == (status_code, description)``: the
description is ``repr(content)`` when there is content, else the standard
description of the status (so ``str(HTTPException(404))`` reads like a tuple).
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, Generic, NoReturn, TypeVar

T = TypeVar("T")


def _description(status_code: int, content: object) -> str:
    if content is not None:
        return repr(content)
    try:
        return HTTPStatus(status_code).description
    except ValueError:
        return "Maybe a custom HTTP status code"


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
        super().__init__(status_code, _description(status_code, content))

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
    """413: the body, a form field or the number of form parts exceeds a limit.

    :param retry_after: seconds, sent as ``Retry-After`` (upstream's only argument).
    :param content: what was too large (keyword only; this implementation's addition).
    """

    def __init__(self, retry_after: int | None = None, *, content: str | None = None) -> None:
        headers = None if retry_after is None else {"Retry-After": str(retry_after)}
        super().__init__(413, headers, content)
        self.retry_after = retry_after


class UnsupportedMediaType(HTTPException[str]):
    """415: ``json`` or ``form`` was read from a body of another content type.

    :param supported_media_types: the media types that would have been accepted; sent
        in ``Accept`` (RFC 9110 §15.5.16).
    """

    def __init__(self, *supported_media_types: str) -> None:
        headers = {"Accept": ", ".join(supported_media_types)} if supported_media_types else None
        content = (
            f"Unsupported media type, expected {' or '.join(supported_media_types)}"
            if supported_media_types
            else None
        )
        super().__init__(415, headers, content)
        self.supported = supported_media_types


class MalformedJSON(HTTPException[str]):
    """400: the body is not valid JSON (or not valid in its charset)."""

    def __init__(self, message: str = "Malformed JSON") -> None:
        super().__init__(400, None, message)


class MalformedMultipart(HTTPException[str]):
    """400: a ``multipart/form-data`` body that does not parse."""

    def __init__(self, message: str = "Malformed multipart") -> None:
        super().__init__(400, None, message)


class MalformedRangeHeader(HTTPException[str]):
    """400: a ``Range`` header that does not parse (callers may choose to ignore it)."""

    def __init__(self, message: str = "Malformed Range header") -> None:
        super().__init__(400, None, message)


class RangeNotSatisfiable(HTTPException[str]):
    """416: no range of the ``Range`` header overlaps the representation.

    Carries ``Content-Range: bytes */<size>`` as RFC 9110 §14.4 asks (upstream's
    ``*/<size>`` lacks the unit the grammar requires).
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
