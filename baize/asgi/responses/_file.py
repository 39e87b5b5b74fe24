"""The file response: validators, ranges, and the three ways to send the bytes
(``http.response.pathsend``, ``http.response.zerocopysend``, or chunks read in a worker
thread), with the caches that keep a small file's answer cheap."""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from functools import lru_cache
from secrets import token_hex
from typing import Any

import anyio
import anyio.to_thread

from baize.asgi.responses._base import Response, _send_body, _until_disconnect
from baize.asgi.responses._filereader import SegmentReader
from baize.datastructures import Headers, MutableHeaders
from baize.exceptions import RangeNotSatisfiable
from baize.ranges import byteranges_frames, content_range
from baize.responses import FileResponseMixin, NotAFileError
from baize.typing import Message, Receive, Scope, Send

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
    when offered, else it is read in a worker thread, up to 1 MiB per thread call, and sent
    in body messages of at most ``chunk_size`` bytes.

    Without ``stat_result`` the file is looked at when the response is built (to raise
    the errors below, as upstream) and again on each later call of a response that is
    sent several times, so its validators follow a file that changes.

    :raises ValueError: CR, LF or NUL in ``download_name``, or ``chunk_size`` < 1.
    :raises FileNotFoundError: (an ``OSError``, in the constructor) the path is missing.
    :raises IsADirectoryError: (an ``OSError``, in the constructor) it is a directory.
    :raises NotAFileError: (an ``OSError``, in the constructor) it is neither a regular
        file nor a directory (a FIFO, a device).
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
        self.chunk_size = chunk_size
        self._restat = stat_result is None  # look again on later calls: the file may change
        self._called = False
        self._given_headers: list[tuple[bytes, bytes]] | None = None  # as at the first call
        self.stat_result = self._check(stat_result if stat_result is not None else self._stat())

    def _stat(self) -> os.stat_result:
        """``os.stat`` of the file (blocking)."""
        return self._check(os.stat(self.filepath))

    def _check(self, stat_result: os.stat_result) -> os.stat_result:
        if stat.S_ISREG(stat_result.st_mode):
            return stat_result
        if stat.S_ISDIR(stat_result.st_mode):
            raise IsADirectoryError(f"FileResponse cannot send {self.filepath!r}: a directory")
        raise NotAFileError(self.filepath, "not a regular file")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        extensions = scope.get("extensions")
        if extensions:
            pathsend = "http.response.pathsend" in extensions
            zerocopysend = "http.response.zerocopysend" in extensions
        else:
            pathsend = zerocopysend = False
        method = scope["method"]
        range_value, if_range_value = _range_fields(scope)
        called, self._called = self._called, True
        if called and self._restat:  # one worker-thread call: stat, and read a small body
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
            empty (HEAD, 416, empty file), or read here when ``read`` (after a fresh
            ``stat``) and the body is small and no server extension sends the file.
        """
        if read:  # called from a worker thread: look at the file again
            self.stat_result = self._stat()
        stat_result = self.stat_result
        if self._given_headers is None:
            self._given_headers = list(self._raw)
        else:  # a later call: start again from the headers given, not the last answer's
            self._raw[:] = self._given_headers
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
        reader = SegmentReader(self.filepath, segments, self.chunk_size)
        try:
            await reader.open()
            await send(self._start())

            async def stream() -> None:
                previous = None  # held back one chunk: the last one ends the body
                async for chunk in reader.chunks():
                    if previous is not None:
                        await _send_body(send, previous, True)
                    previous = chunk
                await _send_body(send, previous or b"", False)

            await _until_disconnect(receive, stream)
        finally:
            reader.close()


__all__ = ["FileResponse"]
