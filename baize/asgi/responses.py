"""ASGI responses: every response object is itself an ASGI application.

Error handling, decided once for all classes:

- bad arguments (header injection, a bad redirect URL or download name) raise
  ``ValueError`` in the constructor, before anything is sent;
- a ``send`` that raises ``OSError`` (the ASGI spec's signal that the client is gone)
  ends a streaming response quietly;
- an exception from a :class:`StreamResponse` iterable propagates without ending the
  body, so the server aborts the connection and the client sees a truncated transfer;
- an exception from a :class:`SendEventResponse` iterable ends the stream
  (``more_body=False``) and is then re-raised, so the server logs it.
"""

from __future__ import annotations

import abc
import codecs
import json
import os
import stat
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from secrets import token_hex
from time import monotonic
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import anyio
import anyio.lowlevel
import anyio.to_thread

from baize.datastructures import URL, Cookie, Headers, MutableHeaders
from baize.exceptions import RangeNotSatisfiable
from baize.ranges import byteranges_frames, content_range
from baize.responses import FileResponseMixin, NotAFileError
from baize.sse import PING, encode_event
from baize.typing import Message, Receive, Scope, Send, ServerSentEvent

_ContentType = TypeVar("_ContentType")

# RFC 9110 §6.4.1 and §8.6: these never carry content, nor (204, 1xx) a Content-Length.
_NO_BODY_STATUS = frozenset((*range(100, 200), 204, 304))
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


# Generator cleanup after a disconnect may not hold the connection longer than this.
_CLOSE_TIMEOUT = 5.0


@lru_cache(maxsize=64)
def _content_type(media_type: str, charset: str) -> bytes:
    if any(char in media_type or char in charset for char in "\r\n\0"):
        raise ValueError(f"Invalid media type {media_type!r} or charset {charset!r}")
    if media_type.startswith("text/") and "charset=" not in media_type:
        media_type = f"{media_type}; charset={charset}"
    return media_type.encode("latin-1")


class _ClientGone(Exception):
    """``send`` raised ``OSError``: the server says the client has gone."""


async def _cancel_on_disconnect(receive: Receive, scope: anyio.CancelScope) -> None:
    """Read ``receive`` until ``http.disconnect``, then cancel ``scope``.

    A checkpoint after every other message lets the response make progress even with
    a ``receive`` that never blocks (a server that keeps repeating request messages).
    """
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            scope.cancel()
            return
        await anyio.lowlevel.checkpoint()


async def _until_disconnect(receive: Receive, work: Callable[[], Awaitable[None]]) -> None:
    """Run ``work``, cancelling it when the client disconnects; return quietly when
    ``work`` finds the client gone (:class:`_ClientGone`).

    Another error of ``work`` propagates as itself, not wrapped in an exception group.
    """
    try:
        async with anyio.create_task_group() as task_group:
            task_group.start_soon(_cancel_on_disconnect, receive, task_group.cancel_scope)
            try:
                await work()
            finally:
                task_group.cancel_scope.cancel()
    except _ClientGone:
        pass
    except BaseExceptionGroup as group:
        if len(group.exceptions) == 1:
            if isinstance(group.exceptions[0], _ClientGone):
                return
            raise group.exceptions[0] from None
        raise


async def _send_body(send: Send, body: bytes, more_body: bool) -> None:
    """Send one body message; ``OSError`` (client gone) becomes :class:`_ClientGone`."""
    try:
        await send({"type": "http.response.body", "body": body, "more_body": more_body})
    except OSError:
        raise _ClientGone() from None


async def _close(iterator: AsyncIterator[Any]) -> None:
    """Close an async iterator (run a generator's ``finally``), shielded and bounded."""
    aclose = getattr(iterator, "aclose", None)
    if aclose is not None:
        with anyio.move_on_after(_CLOSE_TIMEOUT, shield=True):
            await aclose()


class Response:
    """The parent of all responses; an instance is an ASGI application.

    A bare ``Response`` sends its status and headers with an empty body
    (``content-length: 0`` unless the status forbids content).

    :param status_code: the HTTP status.
    :param headers: initial headers; ``self.headers`` is a :class:`MutableHeaders`.
    """

    def __init__(self, status_code: int = 200, headers: Mapping[str, str] | None = None) -> None:
        self.status_code = status_code
        if headers is None:
            self._headers: MutableHeaders | None = None
            self._raw: list[tuple[bytes, bytes]] = []
        else:
            self._headers = MutableHeaders(headers)
            self._raw = self._headers.raw

    @property
    def headers(self) -> MutableHeaders:
        """The response headers; their ``raw`` list is what ``http.response.start`` carries."""
        headers = self._headers
        if headers is None:  # built on first use: most small responses never need it
            headers = self._headers = MutableHeaders(raw=self._raw)
            self._raw = headers.raw
        return headers

    @headers.setter
    def headers(self, headers: MutableHeaders) -> None:
        self._headers = headers
        self._raw = headers.raw

    def set_cookie(
        self,
        key: str,
        value: str = "",
        max_age: int = -1,
        expires: datetime | int | float | str | None = None,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: str | None = "lax",
    ) -> None:
        """Add one ``Set-Cookie`` line (RFC 6265 §4.1).

        :raises ValueError: a name, value or attribute that would break the header.
        """
        cookie = Cookie(key, value, max_age, expires, path, domain, secure, httponly, samesite)
        self.headers.append("set-cookie", str(cookie))

    def delete_cookie(
        self,
        key: str,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: str | None = "lax",
    ) -> None:
        """Add a ``Set-Cookie`` line that expires the cookie: empty value, ``Max-Age=0``."""
        self.set_cookie(
            key,
            "",
            max_age=0,
            expires="Thu, 01 Jan 1970 00:00:00 GMT",
            path=path,
            domain=domain,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
        )

    def _start(self) -> Message:
        return {
            "type": "http.response.start",
            "status": self.status_code,
            "headers": self._raw,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.status_code not in _NO_BODY_STATUS and "content-length" not in self.headers:
            self._raw.append((b"content-length", b"0"))
        await send(self._start())
        await send({"type": "http.response.body", "body": b""})


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

    :raises ValueError: the IRI holds CR, LF or NUL.
    """
    if any(char in iri for char in "\r\n\0"):
        raise ValueError(f"Redirect URL must not contain CR, LF or NUL: {iri!r}")
    return quote(iri, safe=_URI_SAFE, encoding="utf-8")


class RedirectResponse(Response):
    """An empty response with ``Location`` (non-ASCII percent-encoded).

    :raises ValueError: CR, LF or NUL in the URL (in the constructor).
    """

    def __init__(
        self,
        url: str | URL,
        status_code: int = 307,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(status_code, headers)
        self.headers["location"] = iri_to_uri(str(url))
        self.headers["content-length"] = "0"


class StreamResponse(Response):
    """Sends each chunk of an async iterable as it comes (``more_body=True``).

    When the client disconnects, the iteration is cancelled and the iterator closed
    (``aclose``), and nothing more is sent.
    """

    def __init__(
        self,
        iterable: AsyncIterable[bytes],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        content_type: str = "application/octet-stream",
    ) -> None:
        super().__init__(status_code, headers)
        self.iterable = iterable
        self.headers.setdefault("content-type", content_type)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(self._start())
        iterator = aiter(self.iterable)

        async def stream() -> None:
            async for chunk in iterator:
                await _send_body(send, chunk, True)
            await _send_body(send, b"", False)

        try:
            await _until_disconnect(receive, stream)
        finally:
            await _close(iterator)


class SendEventResponse(Response):
    """Server-sent events (``text/event-stream``), encoded by :mod:`baize.sse`.

    A ``: ping`` comment goes out whenever nothing was sent for ``ping_interval`` seconds.
    On disconnect the iterable is closed and nothing more is sent. An exception from the
    iterable (or a ``ValueError`` from a bad event) ends the stream, then is re-raised.

    :raises ValueError: ``charset`` is not UTF-8: event streams "must always be encoded as
        UTF-8" (WHATWG HTML §9.2.5), and browsers decode them so whatever the label says;
        or ``ping_interval`` is not positive.
    """

    def __init__(
        self,
        iterable: AsyncIterable[ServerSentEvent],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        *,
        ping_interval: float = 3,
        charset: str = "utf-8",
    ) -> None:
        if not ping_interval > 0:  # also refuses NaN; zero would flood the client with pings
            raise ValueError(
                f"ping_interval must be a positive number of seconds: {ping_interval!r}"
            )
        if codecs.lookup(charset).name != "utf-8":
            raise ValueError(
                f"event streams must be UTF-8 (WHATWG HTML §9.2.5), got charset={charset!r}"
            )
        super().__init__(status_code, headers)
        self.iterable = iterable
        self.ping_interval = ping_interval
        self.charset = charset
        self.headers.setdefault("content-type", f"text/event-stream; charset={charset}")
        self.headers.setdefault("cache-control", "no-cache")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(self._start())
        stream = _EventSender(send)
        iterator = aiter(self.iterable)
        error: Exception | None = None
        try:
            async with anyio.create_task_group() as task_group:
                task_group.start_soon(stream.watch, receive, task_group.cancel_scope)
                task_group.start_soon(
                    stream.keep_alive, self.ping_interval, task_group.cancel_scope
                )
                try:
                    await stream.send_events(iterator)
                except _ClientGone:
                    stream.gone = True
                except Exception as exc:
                    error = exc
                task_group.cancel_scope.cancel()
        finally:
            await _close(iterator)
        if not stream.gone:
            try:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            except OSError:
                pass
        if error is not None:
            raise error


class _EventSender:
    """One event stream's sending side: keeps events and pings from overlapping, and
    tracks idleness for pings.

    No lock: events come from one loop and pings from one task, so a flag and an event
    suffice, and sending an event costs no extra trip through the event loop.
    """

    def __init__(self, send: Send) -> None:
        self._send = send
        self._sending = False  # an event is being sent
        self._ping: anyio.Event | None = None  # set once the ping being sent is out
        self.last_sent = monotonic()  # cheaper than anyio.current_time(), once per event
        self.gone = False

    async def send_events(self, events: AsyncIterator[ServerSentEvent]) -> None:
        """Encode and send each event as it comes, one message each (the hot loop).

        A data-only event whose ``data`` is the very string object of the previous
        data-only event reuses that event's bytes (strings are immutable, so the bytes
        are the same): a stream repeating one payload encodes it once.
        """
        send = self._send
        last_data: str | None = None
        last_body = b""
        async for event in events:
            data = event.get("data")
            if data is last_data and data is not None and len(event) == 1:
                body = last_body
            else:
                body = encode_event(event).encode()
                if data is not None and len(event) == 1:
                    last_data, last_body = data, body
            while self._ping is not None:
                await self._ping.wait()
            self._sending = True
            try:
                await send({"type": "http.response.body", "body": body, "more_body": True})
            except OSError:
                raise _ClientGone() from None
            finally:
                self._sending = False
            self.last_sent = monotonic()

    async def keep_alive(self, interval: float, scope: anyio.CancelScope) -> None:
        """Ping once nothing was sent for ``interval`` seconds.

        Idleness is the larger of the wall-clock time since the last send and the time
        slept (event-loop clock) since this task saw ``last_sent`` change: the first is
        exact, the second keeps pings going under a virtual clock (trio's ``MockClock``).
        """
        ping = PING.encode()
        seen = self.last_sent
        slept = 0.0
        while True:
            if self.last_sent != seen:
                seen = self.last_sent
                slept = 0.0
            wait = interval - max(monotonic() - seen, slept)
            if wait > 0 or self._sending:
                wait = wait if wait > 0 else interval
                await anyio.sleep(wait)
                slept += wait
                continue
            done = self._ping = anyio.Event()
            try:
                await _send_body(self._send, ping, True)
            except _ClientGone:
                self.gone = True
                scope.cancel()
                return
            finally:
                self._ping = None
                done.set()
            self.last_sent = monotonic()

    async def watch(self, receive: Receive, scope: anyio.CancelScope) -> None:
        await _cancel_on_disconnect(receive, scope)
        self.gone = True


# The FileResponseMixin hooks whose results FileResponse._header_block caches, as imported:
# an instance, a subclass or a patched mixin that replaces one of them gets its headers
# computed on every call instead.
_HEADER_HOOKS = {
    name: getattr(FileResponseMixin, name)
    for name in ("file_headers", "generate_etag", "generate_last_modified", "content_disposition")
}
_HeaderBlock = tuple[tuple[tuple[bytes, bytes], ...], str | None, str | None]
_HEADER_BLOCKS: dict[tuple[Any, ...], _HeaderBlock] = {}
_HEADER_BLOCKS_MAX = 256
_RANGE = b"range"
_IF_RANGE = b"if-range"


def _replace(raw: list[tuple[bytes, bytes]], name: bytes, value: bytes) -> None:
    """``MutableHeaders.__setitem__`` for a lower-case name and an already valid value."""
    for index in range(len(raw) - 1, -1, -1):
        if raw[index][0] == name:
            del raw[index]
    raw.append((name, value))


def _range_fields(scope: Scope) -> tuple[str | None, str | None]:
    """The request's ``Range`` and ``If-Range`` values as :class:`Headers` reads them (names
    compared case-insensitively, duplicate lines joined by ``", "``), in one scan."""
    range_value: bytes | None = None
    if_range_value: bytes | None = None
    for name, value in scope.get("headers") or ():
        if not name.islower():
            name = name.lower()
        if name == _RANGE:
            range_value = value if range_value is None else range_value + b", " + value
        elif name == _IF_RANGE:
            if_range_value = value if if_range_value is None else if_range_value + b", " + value
    return (
        None if range_value is None else range_value.decode("latin-1"),
        None if if_range_value is None else if_range_value.decode("latin-1"),
    )


@lru_cache(maxsize=256)
def _normpath(path: str) -> str:
    return os.path.normpath(path)


def _abspath(path: str) -> str:
    """``os.path.abspath``; the normalised form of an absolute path is cached."""
    return _normpath(path) if os.path.isabs(path) else os.path.abspath(path)


class FileResponse(Response, FileResponseMixin):
    """A file, with ``ETag``, ``Last-Modified``, ``Accept-Ranges`` and RFC 9110 ranges.

    The content type is guessed from ``download_name`` (else the path) unless given.
    ``Content-Disposition: attachment`` is set when ``download_name`` is given or the type
    is ``application/octet-stream``. The file is never read whole: the server's
    ``http.response.pathsend`` (whole file) or ``http.response.zerocopysend`` is used
    when offered, else ``chunk_size`` reads in a worker thread.

    :raises ValueError: CR, LF or NUL in ``download_name``, or ``chunk_size`` < 1.
    :raises NotAFileError: (when called, before sending) the path is missing or not a
        regular file.
    """

    def __init__(
        self,
        filepath: str,
        headers: Mapping[str, str] | None = None,
        content_type: str | None = None,
        download_name: str | None = None,
        stat_result: os.stat_result | None = None,
        chunk_size: int = 256 * 1024,
    ) -> None:
        super().__init__(200, headers)
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be positive: {chunk_size!r}")
        if download_name is not None:
            self.content_disposition(download_name)
        self.filepath = os.fspath(filepath)
        self.content_type = content_type
        self.download_name = download_name
        self.stat_result = stat_result
        self.chunk_size = chunk_size

    def _stat(self) -> os.stat_result:
        try:
            return os.stat(self.filepath)
        except FileNotFoundError:
            raise NotAFileError(self.filepath, "no such file") from None
        except OSError as exc:
            raise NotAFileError(self.filepath, exc.strerror or str(exc)) from None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        extensions = scope.get("extensions")
        if extensions:
            pathsend = "http.response.pathsend" in extensions
            zerocopysend = "http.response.zerocopysend" in extensions
        else:
            pathsend = zerocopysend = False
        method = scope["method"]
        range_value, if_range_value = _range_fields(scope)
        if self.stat_result is None:  # one worker-thread call: stat, and read a small body
            segments, body = await anyio.to_thread.run_sync(
                self._prepare, method, range_value, if_range_value, pathsend, zerocopysend, True
            )
        else:
            segments, body = self._prepare(
                method, range_value, if_range_value, pathsend, zerocopysend, False
            )
            if body is None and self._read_here(segments, pathsend, zerocopysend):
                body = await anyio.to_thread.run_sync(self._read, segments)
        if body is not None:
            await send(self._start())
            try:
                await send({"type": "http.response.body", "body": body})
            except OSError:
                pass  # the client is gone, as for a streamed body
            return
        if self.status_code == 200 and pathsend:
            await send(self._start())
            await send({"type": "http.response.pathsend", "path": _abspath(self.filepath)})
        elif zerocopysend:
            await self._send_zerocopy(segments, send)
        else:
            await self._send_chunks(segments, receive, send)

    def _default_hooks(self) -> bool:
        """Whether :meth:`file_headers` and the hooks it calls are the mixin's own."""
        cls = type(self)
        hooks = _HEADER_HOOKS
        return (
            cls.file_headers is hooks["file_headers"]
            and cls.generate_etag is hooks["generate_etag"]
            and cls.generate_last_modified is hooks["generate_last_modified"]
            and cls.content_disposition is hooks["content_disposition"]
            and hooks.keys().isdisjoint(self.__dict__)
        )

    def _header_block(self, stat_result: os.stat_result) -> _HeaderBlock:
        """The raw file headers with their ``ETag`` and ``Last-Modified`` values, cached per
        path, content type, download name, modification time and size (default hooks only).
        """
        content_type = self.content_type
        if content_type is None:  # guessed on every call: mimetypes may change
            content_type = self.guess_content_type(self.download_name or self.filepath)
        key = (
            self.filepath,
            content_type,
            self.download_name,
            stat_result.st_mtime_ns,
            stat_result.st_mtime,
            stat_result.st_size,
        )
        block = _HEADER_BLOCKS.get(key)
        if block is None:
            headers = MutableHeaders()
            for name, value in self.file_headers(
                self.filepath, stat_result, content_type, self.download_name
            ).items():
                headers.setdefault(name, value)
            block = (tuple(headers.raw), headers.get("etag"), headers.get("last-modified"))
            if len(_HEADER_BLOCKS) >= _HEADER_BLOCKS_MAX:
                _HEADER_BLOCKS.clear()
            _HEADER_BLOCKS[key] = block
        return block

    def _prepare(
        self,
        method: str,
        range_value: str | None,
        if_range_value: str | None,
        pathsend: bool,
        zerocopysend: bool,
        read: bool,
    ) -> tuple[list[bytes | tuple[int, int]], bytes | None]:
        """Decide status, headers and segments (no awaits: it may run in a worker thread).

        :returns: the segments to send, and the whole body when it is already known:
            empty (HEAD, 416, empty file), or read here when ``read`` and the body is
            small and no server extension sends the file.
        """
        stat_result = self.stat_result
        if stat_result is None:
            stat_result = self._stat()
        if not stat.S_ISREG(stat_result.st_mode):
            raise NotAFileError(self.filepath, "not a regular file (a directory?)")
        size = stat_result.st_size
        raw: list[tuple[bytes, bytes]]
        if self._headers is None and not self._raw and self._default_hooks():
            # No header given, set or read yet: the file headers are the whole list.
            block, etag, last_modified = self._header_block(stat_result)
            raw = self._raw = list(block)
        else:
            headers = self.headers
            for key, value in self.file_headers(
                self.filepath, stat_result, self.content_type, self.download_name
            ).items():
                headers.setdefault(key, value)
            raw = headers.raw
            etag = headers.get("etag")
            last_modified = headers.get("last-modified")
        try:
            ranges = self.select_ranges(
                method, range_value, if_range_value, etag, last_modified, size
            )
        except RangeNotSatisfiable:
            self.status_code = 416
            _replace(raw, b"content-range", f"bytes */{size}".encode())
            _replace(raw, b"content-length", b"0")
            return [], b""
        segments: list[bytes | tuple[int, int]]
        if ranges is None:
            self.status_code = 200
            segments = [(0, size)]
            _replace(raw, b"content-length", str(size).encode())
        elif len(ranges) == 1:
            self.status_code = 206
            start, stop = ranges[0]
            segments = [(start, stop)]
            _replace(raw, b"content-range", content_range(start, stop, size).encode())
            _replace(raw, b"content-length", str(stop - start).encode())
        else:
            self.status_code = 206
            boundary = token_hex(16)
            content_type = Headers(raw=raw).get("content-type", "application/octet-stream")
            parts, closing, length = byteranges_frames(ranges, size, content_type, boundary)
            segments = []
            for head, start, stop in parts:
                segments += (head, (start, stop))
            segments.append(closing)
            _replace(raw, b"content-type", f"multipart/byteranges; boundary={boundary}".encode())
            _replace(raw, b"content-length", str(length).encode())
        if method == "HEAD" or size == 0:
            return segments, b""
        if read and self._read_here(segments, pathsend, zerocopysend):
            return segments, self._read(segments)
        return segments, None

    def _read_here(
        self, segments: list[bytes | tuple[int, int]], pathsend: bool, zerocopysend: bool
    ) -> bool:
        """Whether to read the body at once and send it as one message: no server
        extension sends this file, and the body fits in one chunk."""
        if (pathsend and self.status_code == 200) or zerocopysend:
            return False
        total = 0
        for segment in segments:
            total += len(segment) if isinstance(segment, bytes) else segment[1] - segment[0]
        return total <= self.chunk_size

    def _read(self, segments: list[bytes | tuple[int, int]]) -> bytes:
        """Open, seek and read every segment in one go (blocking: run in a worker thread)."""
        parts: list[bytes] = []
        with open(self.filepath, "rb") as file:
            for segment in segments:
                if isinstance(segment, bytes):
                    parts.append(segment)
                    continue
                start, stop = segment
                file.seek(start)
                chunk = file.read(stop - start)
                if len(chunk) != stop - start:
                    raise RuntimeError(f"FileResponse: {self.filepath!r} shrank while being sent")
                parts.append(chunk)
        return b"".join(parts)

    async def _send_zerocopy(self, segments: list[bytes | tuple[int, int]], send: Send) -> None:
        file = await anyio.to_thread.run_sync(open, self.filepath, "rb")
        try:
            await send(self._start())
            for segment in segments:
                if isinstance(segment, bytes):
                    message: Message = {"type": "http.response.body", "body": segment}
                else:
                    start, stop = segment
                    message = {
                        "type": "http.response.zerocopysend",
                        "file": file,
                        "offset": start,
                        "count": stop - start,
                    }
                message["more_body"] = True
                await send(message)
            await send({"type": "http.response.body", "body": b""})
        finally:
            await anyio.to_thread.run_sync(file.close)

    async def _send_chunks(
        self, segments: list[bytes | tuple[int, int]], receive: Receive, send: Send
    ) -> None:
        async with await anyio.open_file(self.filepath, "rb") as file:
            await send(self._start())

            async def stream() -> None:
                for segment in segments:
                    if isinstance(segment, bytes):
                        await _send_body(send, segment, True)
                        continue
                    start, stop = segment
                    await file.seek(start)
                    while start < stop:
                        chunk = await file.read(min(self.chunk_size, stop - start))
                        if not chunk:
                            raise RuntimeError(
                                f"FileResponse: {self.filepath!r} shrank while being sent"
                            )
                        start += len(chunk)
                        await _send_body(send, chunk, True)
                await _send_body(send, b"", False)

            await _until_disconnect(receive, stream)


__all__ = [
    "FileResponse",
    "HTMLResponse",
    "JSONResponse",
    "PlainTextResponse",
    "RedirectResponse",
    "Response",
    "SendEventResponse",
    "SmallResponse",
    "StreamResponse",
    "iri_to_uri",
]
