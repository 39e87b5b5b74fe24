"""Responses whose whole body is rendered once: text, HTML, JSON, and redirects."""

from __future__ import annotations

import abc
import json
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any, Generic, TypeVar
from urllib.parse import quote

from baize.asgi.responses._base import _NO_BODY_STATUS, Response
from baize.datastructures import URL, MutableHeaders
from baize.typing import Receive, Scope, Send

_ContentType = TypeVar("_ContentType")

# RFC 3986 reserved and unreserved characters, plus "%" to keep existing escapes.
_URI_SAFE = ":/?#[]@!$&'()*+,;=%"
_JSON_DEFAULTS: dict[str, Any] = {
    "ensure_ascii": False,
    "allow_nan": False,
    "separators": (",", ":"),
}
_JSON_ENCODER = json.JSONEncoder(**_JSON_DEFAULTS)


# The C encoder factory json.JSONEncoder uses (private to the json package; None without
# it), and the arguments _JSON_ENCODER gives it after the circular-reference markers.
_C_MAKE_ENCODER: Callable[..., Callable[[Any, int], Sequence[str]]] | None = getattr(
    json.encoder, "c_make_encoder", None
)
_C_ENCODER_ARGS = (
    _JSON_ENCODER.default,
    json.encoder.encode_basestring,
    None,
    ":",
    ",",
    False,
    False,
    False,
)


@lru_cache(maxsize=64)
def _content_type(media_type: str, charset: str) -> bytes:
    if any(char in media_type or char in charset for char in "\r\n\0"):
        raise ValueError(f"Invalid media type {media_type!r} or charset {charset!r}")
    if media_type.startswith("text/") and "charset=" not in media_type:
        media_type = f"{media_type}; charset={charset}"
    return media_type.encode("latin-1")


class SmallResponse(Response, abc.ABC, Generic[_ContentType]):
    """A response whose whole body is rendered once, in the constructor.

    Sets ``content-length`` and (unless given) ``content-type``, with ``; charset=`` for
    ``text/*``. HEAD gets the headers without the body; 1xx, 204 and 304 get neither body
    nor ``content-length``.
    """

    media_type: str | None = None
    charset: str = "utf-8"

    def __init__(
        self,
        content: _ContentType,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        charset: str | None = None,
    ) -> None:
        self.status_code = status_code
        if media_type is not None:
            self.media_type = media_type
        if charset is not None:
            self.charset = charset
        self.content = content
        body = self.render(content)
        media = self.media_type
        if headers is None and media is not None and status_code not in _NO_BODY_STATUS:
            # the common case in one step; no MutableHeaders until someone asks for it
            self._headers = None
            self._raw = [
                (b"content-length", b"%d" % len(body)),
                (b"content-type", _content_type(media, self.charset)),
            ]
            self.body = body
            return
        raw: list[tuple[bytes, bytes]]
        if headers is None:
            self._headers = None
            raw = self._raw = []
        else:
            mutable = self._headers = MutableHeaders(headers)
            raw = self._raw = mutable.raw
            mutable.pop("content-length")
        if status_code in _NO_BODY_STATUS:
            body = b""
        else:
            raw.append((b"content-length", b"%d" % len(body)))
        self.body = body
        if media is not None and (headers is None or "content-type" not in self.headers):
            raw.append((b"content-type", _content_type(media, self.charset)))

    @abc.abstractmethod
    def render(self, content: _ContentType) -> bytes:
        """Turn the content into the body bytes."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self._raw}
        )
        body = b"" if scope["method"] == "HEAD" else self.body
        await send({"type": "http.response.body", "body": body})


class PlainTextResponse(SmallResponse[bytes | str]):
    """``text/plain``; a ``str`` is encoded with the charset."""

    media_type = "text/plain"

    def render(self, content: bytes | str) -> bytes:
        return content if isinstance(content, bytes) else content.encode(self.charset)


class HTMLResponse(PlainTextResponse):
    """``text/html``; a ``str`` is encoded with the charset."""

    media_type = "text/html"


class JSONResponse(SmallResponse[Any]):
    """``application/json``, UTF-8.

    :param kwargs: passed to :func:`json.dumps`, over the defaults: compact separators,
        ``ensure_ascii=False`` and ``allow_nan=False`` (NaN is not JSON: ``ValueError``).
    """

    media_type = "application/json"

    def __init__(
        self,
        content: Any,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        self.json_kwargs = kwargs
        super().__init__(content, status_code, headers)

    def render(self, content: Any) -> bytes:
        if self.json_kwargs:
            return json.dumps(content, **{**_JSON_DEFAULTS, **self.json_kwargs}).encode("utf-8")
        if _C_MAKE_ENCODER is None:  # PyPy, or CPython built without _json
            return _JSON_ENCODER.encode(content).encode("utf-8")
        # _JSON_ENCODER.encode without its per-call Python set-up: the same C encoder
        # with the same arguments and fresh markers, so the same output and errors
        encoder = _C_MAKE_ENCODER({}, *_C_ENCODER_ARGS)
        return "".join(encoder(content, 0)).encode("utf-8")


def iri_to_uri(iri: str) -> str:
    """Percent-encode (as UTF-8) what a URI may not hold, keeping ``%XX`` and reserved characters.

    ``iri_to_uri("/caf\u00e9?q=a b")`` returns ``"/caf%C3%A9?q=a%20b"`` (RFC 3987 §3.1).
    Controls are encoded too, so CR, LF and NUL become ``%0D``, ``%0A`` and ``%00``, as
    upstream: they can never reach a header field.
    """
    return quote(iri, safe=_URI_SAFE, encoding="utf-8")


class RedirectResponse(Response):
    """An empty response with ``Location``: the URL converted by :func:`iri_to_uri`
    (non-ASCII and controls such as CR and LF percent-encoded)."""

    def __init__(
        self,
        url: str | URL,
        status_code: int = 307,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(status_code, headers)
        self.headers["location"] = iri_to_uri(str(url))
        self.headers["content-length"] = "0"


__all__ = [
    "HTMLResponse",
    "JSONResponse",
    "PlainTextResponse",
    "RedirectResponse",
    "SmallResponse",
    "iri_to_uri",
]
