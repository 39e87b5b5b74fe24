"""Incoming HTTP connections: HTTPConnection (shared with WebSocket) and Request."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Generic, TypeVar

import anyio

from baize._lazy import cached_property
from baize.asgi.helpers import empty_receive, empty_send
from baize.datastructures import (
    URL,
    Address,
    ContentType,
    FormData,
    Headers,
    MediaType,
    QueryParams,
    UploadFile,
    parse_cookie,
    parse_query,
)
from baize.exceptions import (
    MalformedJSON,
    MalformedMultipart,
    RequestEntityTooLarge,
    UnsupportedMediaType,
)
from baize.multipart_helper import parse_async_stream
from baize.typing import Message, Receive, Scope, Send

T = TypeVar("T")


class ClientDisconnect(Exception):
    """Raised by :meth:`Request.stream` (and so ``body``, ``json``, ``form``) when
    an ``http.disconnect`` message arrives before the end of the body."""

    def __init__(self) -> None:
        super().__init__("The client disconnected before the request body was received")


def _split_list(value: str) -> Iterator[str]:
    """Split a comma-separated field value, leaving commas inside quoted strings alone."""
    start, quoted, escaped = 0, False, False
    for index, char in enumerate(value):
        if escaped:
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            yield value[start:index]
            start = index + 1
    yield value[start:]


class HTTPConnection(Mapping[str, Any]):
    """A read-only mapping over an ASGI scope with parsed views of the request head.

    Every property is computed once per object.

    :param scope: the ASGI connection scope.
    :param receive: the ASGI ``receive`` callable.
    :param send: the ASGI ``send`` callable.
    """

    def __init__(
        self, scope: Scope, receive: Receive = empty_receive, send: Send = empty_send
    ) -> None:
        self._scope = scope
        self._receive = receive
        self._send = send

    def __getitem__(self, key: str) -> Any:
        return self._scope[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._scope)

    def __len__(self) -> int:
        return len(self._scope)

    def __eq__(self, other: object) -> bool:
        """Same class, same scope, same ``receive`` and ``send`` (upstream); never a dict."""
        if not isinstance(other, HTTPConnection):
            return NotImplemented
        if type(other) is not type(self):
            return False
        return (
            self._scope == other._scope
            and self._receive == other._receive
            and self._send == other._send
        )

    __hash__ = None  # type: ignore[assignment]

    @cached_property
    def client(self) -> Address:
        """The client's ``(host, port)`` as the server reports it, ``(None, None)`` if absent."""
        client = self._scope.get("client")
        if not client:
            return Address(None, None)
        return Address(client[0], client[1])

    @cached_property
    def url(self) -> URL:
        """The full URL of the request (see :class:`~baize.datastructures.URL`)."""
        return URL(scope=self._scope)

    @property
    def path_params(self) -> dict[str, Any]:
        """The path parameters a router matched (``scope["path_params"]``)."""
        params: dict[str, Any] | None = self._scope.get("path_params")
        return self._no_path_params if params is None else params

    @cached_property
    def _no_path_params(self) -> dict[str, Any]:
        return {}  # one dict per object, so that edits to it last

    @cached_property
    def query_params(self) -> QueryParams:
        """The query string as a multi-value mapping (blank values kept)."""
        return QueryParams(self._scope.get("query_string", b""))

    @cached_property
    def headers(self) -> Headers:
        """The request headers: read-only, case-insensitive, lower-case keys."""
        return Headers(scope=self._scope)

    @cached_property
    def accepted_types(self) -> list[MediaType]:
        """The media ranges of every ``Accept`` line, in header order (as upstream).

        No ``Accept`` header means any type (RFC 9110 §12.5.1): ``[MediaType("*/*")]``.
        """
        if "accept" not in self.headers:
            return [MediaType("*/*")]
        return [
            MediaType(entry)
            for line in self.headers.getlist("accept")
            for entry in _split_list(line)
            if entry.strip()
        ]

    @cached_property
    def preferred_types(self) -> list[MediaType]:
        """:attr:`accepted_types` by preference (extension): descending q, then the
        more specific range first (RFC 9110 §12.5.1); equal ones keep header order."""
        return sorted(self.accepted_types, key=lambda media: (-media.q, -media.specificity))

    def accepts(self, media_type: str) -> bool:
        """Whether ``media_type`` is acceptable (RFC 9110 §12.5.1).

        The most specific matching media range decides; ``q=0`` refuses. No
        ``Accept`` header accepts everything.
        """
        if "accept" not in self.headers:
            return True
        candidate = MediaType(media_type)
        best: MediaType | None = None
        for media_range in self.preferred_types:
            if not media_range.match(media_type):
                continue
            if media_range.params.items() - candidate.params.items():
                continue
            if best is None or media_range.specificity > best.specificity:
                best = media_range
        return best is not None and best.q > 0

    @cached_property
    def content_type(self) -> ContentType:
        """The ``Content-Type`` (equal to the bare media type; ``.options`` holds parameters)."""
        return ContentType(self.headers.get("content-type", ""))

    @cached_property
    def content_length(self) -> int | None:
        """``Content-Length`` as an int; ``None`` when absent or malformed.

        A list of identical values (RFC 9110 §8.6) counts as one.
        """
        value = self.headers.get("content-length")
        if value is None:
            return None
        values = {part.strip() for part in value.split(",")}
        if len(values) != 1:
            return None
        (number,) = values
        if not (number.isascii() and number.isdigit()):
            return None
        return int(number)

    @cached_property
    def cookies(self) -> dict[str, str]:
        """Cookies of every ``Cookie`` header, parsed leniently as upstream (see
        :func:`~baize.datastructures.parse_cookie`): the last value of a name wins,
        a chunk without ``=`` is kept under ``""``; never raises."""
        cookies: dict[str, str] = {}
        for line in self.headers.getlist("cookie"):
            cookies.update(parse_cookie(line))
        return cookies

    @cached_property
    def date(self) -> datetime | None:
        """``Date`` as a timezone-aware datetime (UTC if the header gives no zone), or None."""
        value = self.headers.get("date")
        if value is None:
            return None
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)

    @cached_property
    def referrer(self) -> URL | None:
        """``Referer`` as a :class:`~baize.datastructures.URL`, or None."""
        value = self.headers.get("referer")
        return None if value is None else URL(value)


class _Once(Generic[T]):
    """An awaitable that runs ``factory`` on the first await and returns its result after.

    A failure is not cached: the next await runs ``factory`` again.
    """

    __slots__ = ("_done", "_factory", "_value")

    def __init__(self, factory: Callable[[], Awaitable[T]]) -> None:
        self._factory = factory
        self._done = False
        self._value: T | None = None

    @property
    def result(self) -> T | None:
        """The value once computed, else None."""
        return self._value if self._done else None

    async def _get(self) -> T:
        if not self._done:
            self._value = await self._factory()
            self._done = True
        return self._value  # type: ignore[return-value]

    def __await__(self) -> Generator[Any, None, T]:
        return self._get().__await__()


class Request(HTTPConnection):
    """An HTTP request: the head (see :class:`HTTPConnection`) and the body.

    Form limits are class attributes; override them in a subclass:

    - ``max_form_parts``: most fields and files of a form (413 above);
    - ``max_form_memory_size``: most bytes of form field data held in memory, that
      is every field of a multipart form or a whole urlencoded body (413 above);
    - ``upload_file_max_in_memory_size``: bytes of an uploaded file kept in memory
      before it moves to a temporary file;
    - ``disconnect_poll_timeout``: how long :meth:`is_disconnected` waits for a message.
    """

    max_form_parts: int = 1000
    max_form_memory_size: int = 2 * 1024 * 1024
    upload_file_max_in_memory_size: int = 1024 * 1024
    disconnect_poll_timeout: float = 0.001

    # Per-request state starts as these class defaults: building a Request stays cheap.
    _disconnected = False
    _stream_consumed = False
    _body_complete = False
    _cached_body: bytes | None = None
    _pending: deque[Message] | None = None  # messages is_disconnected received early
    _body: _Once[bytes] | None = None
    _json: _Once[Any] | None = None
    _form: _Once[FormData] | None = None
    _uploads: tuple[()] | list[UploadFile] = ()  # a list once a file arrives

    def __init__(
        self, scope: Scope, receive: Receive = empty_receive, send: Send = empty_send
    ) -> None:
        self._scope = scope
        self._receive = receive
        self._send = send

    @cached_property
    def method(self) -> str:
        """The HTTP method, upper-case."""
        return str(self._scope["method"]).upper()

    async def _next_message(self) -> Message:
        if self._pending:
            return self._pending.popleft()
        if self._disconnected:
            return {"type": "http.disconnect"}
        return await self._receive()

    async def stream(self) -> AsyncIterator[bytes]:
        """Yield the body chunk by chunk without keeping it.

        After ``body`` was read, yields the cached body instead. Otherwise the body
        can be streamed once; ``body``, ``json`` and ``form`` then raise ``RuntimeError``.

        :raises ClientDisconnect: the client went away before the end of the body.
        :raises RuntimeError: the stream was consumed before.
        """
        if self._cached_body is not None:
            yield self._cached_body
            return
        if self._stream_consumed:
            raise RuntimeError("The request body stream has already been consumed")
        self._stream_consumed = True
        while not self._body_complete:
            message = await self._next_message()
            if message["type"] == "http.request":
                if not message.get("more_body", False):
                    self._body_complete = True
                chunk = message.get("body", b"")
                if chunk:
                    yield chunk
            elif message["type"] == "http.disconnect":
                self._disconnected = True
                raise ClientDisconnect()

    def _ensure_unconsumed(self) -> None:
        if self._cached_body is None and self._stream_consumed:
            if self._disconnected and not self._body_complete:
                raise ClientDisconnect()
            raise RuntimeError(
                "The request body stream has already been consumed; body, json and form"
                " can no longer be read"
            )

    async def _read_body(self) -> bytes:
        self._ensure_unconsumed()
        self._cached_body = b"".join([chunk async for chunk in self.stream()])
        return self._cached_body

    @property
    def body(self) -> Awaitable[bytes]:
        """``await request.body``: the whole body as bytes (read once, then cached).

        :raises ClientDisconnect: the client went away before the end of the body.
        :raises RuntimeError: :meth:`stream` consumed the body before.
        """
        once = self._body
        if once is None:
            once = self._body = _Once(self._read_body)
        return once

    async def _read_json(self) -> Any:
        if self.content_type != "application/json":
            raise UnsupportedMediaType("application/json")
        body = await self.body
        try:
            return json.loads(body.decode("utf-8-sig"))
        except UnicodeDecodeError:
            raise MalformedJSON("The JSON body is not valid UTF-8.") from None
        except ValueError as error:
            raise MalformedJSON(f"Invalid JSON body: {error}") from None
        except RecursionError:
            raise MalformedJSON("The JSON body is nested too deeply.") from None

    @property
    def json(self) -> Awaitable[Any]:
        """``await request.json``: the body parsed as JSON with :func:`json.loads` (UTF-8;
        ``NaN`` and ``Infinity`` accepted, as RFC 8259 §9 allows a parser to).

        :raises UnsupportedMediaType: the content type is not ``application/json``.
        :raises MalformedJSON: the body is not valid JSON.
        """
        once = self._json
        if once is None:
            once = self._json = _Once(self._read_json)
        return once

    async def _read_form(self) -> FormData:
        content_type = self.content_type
        if content_type == "multipart/form-data":
            self._ensure_unconsumed()
            boundary = content_type.options.get("boundary", "")
            if not boundary:
                raise MalformedMultipart("The multipart/form-data content type has no boundary.")
            # header values are latin-1 decoded bytes
            charset = content_type.options.get("charset", "utf-8")
            form = await self._parse_multipart(boundary.encode("latin-1"), charset)
        elif content_type == "application/x-www-form-urlencoded":
            form = FormData(await self._read_urlencoded())
        else:
            raise UnsupportedMediaType("multipart/form-data", "application/x-www-form-urlencoded")
        return form

    async def _read_urlencoded(self) -> list[tuple[str, str]]:
        self._ensure_unconsumed()
        limit = self.max_form_memory_size
        if self._cached_body is None:
            chunks: list[bytes] = []
            size = 0
            async for chunk in self.stream():
                size += len(chunk)
                if size > limit:
                    raise RequestEntityTooLarge(content=f"Form data exceeds {limit} bytes.")
                chunks.append(chunk)
            self._cached_body = b"".join(chunks)
        elif len(self._cached_body) > limit:
            raise RequestEntityTooLarge(content=f"Form data exceeds {limit} bytes.")
        pairs = parse_query(self._cached_body)
        if len(pairs) > self.max_form_parts:
            raise RequestEntityTooLarge(
                content=f"Too many form fields: more than {self.max_form_parts}."
            )
        return pairs

    async def _parse_multipart(self, boundary: bytes, charset: str) -> FormData:
        """Parse the streamed multipart body; the hook upstream's subclasses override
        (to change limits or the file factory), kept under upstream's name."""
        return FormData(
            await parse_async_stream(
                self.stream(),
                boundary,
                charset,
                file_factory=self._make_upload,
                max_form_parts=self.max_form_parts,
                max_form_memory_size=self.max_form_memory_size,
            )
        )

    def _make_upload(self, filename: str, headers: Headers) -> UploadFile:
        upload = UploadFile(filename, headers, self.upload_file_max_in_memory_size)
        uploads = self._uploads
        if isinstance(uploads, tuple):  # the first file: the shared empty default
            uploads = self._uploads = []
        uploads.append(upload)
        return upload

    @property
    def form(self) -> Awaitable[FormData]:
        """``await request.form``: the body parsed as a form (multipart is streamed).

        :raises UnsupportedMediaType: neither urlencoded nor multipart/form-data.
        :raises MalformedMultipart: a multipart body that does not parse or has no boundary.
        :raises RequestEntityTooLarge: a form limit (see the class docstring) was exceeded.
        """
        once = self._form
        if once is None:
            once = self._form = _Once(self._read_form)
        return once

    async def close(self) -> None:
        """Close every temporary file of the parsed form; safe to call any time.

        Files made while parsing are closed even when parsing failed half-way, and so
        are the files of a form that an overridden :meth:`_parse_multipart` built.
        """
        form = self._form.result if self._form is not None else None
        uploads = [*self._uploads]
        if form is not None:
            uploads += [value for _, value in form.multi_items() if isinstance(value, UploadFile)]
        self._uploads = ()
        if not uploads:
            return
        with anyio.CancelScope(shield=True):
            for upload in uploads:
                if not upload.closed:
                    await upload.aclose()

    async def is_disconnected(self) -> bool:
        """Whether an ``http.disconnect`` message has arrived.

        Waits at most ``disconnect_poll_timeout`` seconds for one message (a zero
        timeout would never see a message on receive channels that checkpoint
        first, such as trio's). A body message received here is kept and handed
        to :meth:`stream` later, so no chunk is lost.

        A ``receive()`` still waiting when the timeout ends is cancelled. A server
        whose ``receive`` drops a message it was delivering when cancelled (granian)
        can lose that message; this is declared as a deviation of that server.
        """
        if self._disconnected:
            return True
        with anyio.move_on_after(self.disconnect_poll_timeout):
            message = await self._receive()
            if message["type"] == "http.disconnect":
                self._disconnected = True
            else:
                if self._pending is None:
                    self._pending = deque()
                self._pending.append(message)
        return self._disconnected


__all__ = ["ClientDisconnect", "HTTPConnection", "Request"]
