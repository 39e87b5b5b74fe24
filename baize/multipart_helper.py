"""Bring-your-own-I/O helpers around :class:`baize.multipart.MultipartDecoder`.

:func:`parse_stream` and :func:`parse_async_stream` read a body chunk by chunk,
feed the decoder, and return the form as ``[(name, value)]`` in body order: text
fields as ``str`` (decoded with the charset, bad bytes replaced), files as the
objects ``file_factory`` made, rewound to position 0. Nothing holds more than one
chunk of a file part; field data is held in memory and capped.

Limits (each breach raises :class:`~baize.exceptions.RequestEntityTooLarge`, 413):

- ``max_form_parts``: the number of parts, fields and files together.
- ``max_form_memory_size``: the total size of text fields held in memory, and so
  also the size of any one field. When it is ``None`` the total is not capped,
  but one field may still hold at most :data:`DEFAULT_MAX_FIELD_SIZE` (1 MiB).

On any error every file made so far is closed before the exception propagates.
After the close delimiter the rest of the stream is read and thrown away, so the
caller's stream is always consumed to its end on success.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable, Iterable, Iterator
from typing import Final, NamedTuple, Protocol, TypeVar

import anyio

from .datastructures import Headers
from .exceptions import RequestEntityTooLarge
from .multipart import NEED_DATA, Data, Epilogue, Field, File, MultipartDecoder, safe_decode

#: The largest text field accepted when ``max_form_memory_size`` is None.
DEFAULT_MAX_FIELD_SIZE: Final = 1024 * 1024


class SyncUpload(Protocol):
    """What :func:`parse_stream` needs of the objects ``file_factory`` returns."""

    def write(self, data: bytes, /) -> object: ...

    def seek(self, offset: int, /) -> object: ...


class AsyncUpload(Protocol):
    """What :func:`parse_async_stream` needs of the objects ``file_factory`` returns."""

    async def awrite(self, data: bytes, /) -> object: ...

    async def aseek(self, offset: int, /) -> object: ...


S = TypeVar("S", bound=SyncUpload)
A = TypeVar("A", bound=AsyncUpload)


class _Fields:
    """Counts parts and collects text fields, enforcing the limits."""

    __slots__ = (
        "buffer",
        "charset",
        "max_field",
        "max_parts",
        "max_total",
        "name",
        "parts",
        "used",
    )

    def __init__(self, charset: str, max_parts: int, max_memory: int | None) -> None:
        self.charset = charset
        self.max_parts = max_parts
        self.max_total = max_memory
        self.max_field = DEFAULT_MAX_FIELD_SIZE if max_memory is None else max_memory
        self.parts = 0
        self.used = 0
        self.name = ""
        self.buffer = bytearray()

    def count_part(self) -> None:
        self.parts += 1
        if self.parts > self.max_parts:
            raise RequestEntityTooLarge(content=f"Too many form parts: more than {self.max_parts}.")

    def begin(self, name: str) -> None:
        self.count_part()
        self.name = name
        self.buffer = bytearray()

    def add(self, data: bytes) -> None:
        self.used += len(data)
        if self.max_total is not None and self.used > self.max_total:
            raise RequestEntityTooLarge(
                content=f"Form fields exceed {self.max_total} bytes of memory in total."
            )
        if len(self.buffer) + len(data) > self.max_field:
            raise RequestEntityTooLarge(
                content=f"Form field {self.name!r} is larger than {self.max_field} bytes."
            )
        self.buffer += data

    def finish(self) -> tuple[str, str]:
        value = safe_decode(bytes(self.buffer), self.charset)
        self.buffer = bytearray()
        return self.name, value


class _FileStart(NamedTuple):
    """A file part begins: the caller makes the object its data goes to."""

    name: str
    filename: str
    headers: tuple[tuple[bytes, bytes], ...]


#: What :meth:`_FormReader.feed` yields: a finished text field ``(name, value)``, the
#: start of a file part, a chunk of the current file's data, or None when that file ends.
_Step = tuple[str, str] | _FileStart | bytes | None


class _FormReader:
    """The I/O-free half of both parsers: the decoder, the limits and the text fields."""

    __slots__ = ("decoder", "fields", "finished", "in_file")

    def __init__(
        self, boundary: bytes, charset: str, max_parts: int, max_memory: int | None
    ) -> None:
        self.decoder = MultipartDecoder(boundary, charset)
        self.fields = _Fields(charset, max_parts, max_memory)
        self.finished = False
        self.in_file = False

    def feed(self, chunk: bytes | None) -> Iterator[_Step]:
        """Take one chunk of the body (None: its end) and yield what the caller must do."""
        decoder, fields = self.decoder, self.fields
        decoder.receive_data(chunk)
        while True:
            event = decoder.next_event()
            if type(event) is Data:
                if not self.in_file:
                    fields.add(event.data)
                    if not event.more_data:
                        yield fields.finish()
                    continue
                if event.data:
                    yield event.data
                if not event.more_data:
                    self.in_file = False
                    yield None
            elif event is NEED_DATA:
                return
            elif type(event) is Field:
                fields.begin(event.name)
            elif type(event) is File:
                fields.count_part()
                self.in_file = True
                yield _FileStart(event.name, event.filename, event.headers)
            elif type(event) is Epilogue:
                self.finished = True
                return


def parse_stream(
    stream: Iterable[bytes],
    boundary: bytes,
    charset: str,
    *,
    file_factory: Callable[[str, Headers], S],
    max_form_parts: int = 1000,
    max_form_memory_size: int | None = None,
) -> list[tuple[str, str | S]]:
    """Parse a ``multipart/form-data`` body from an iterable of chunks.

    :param stream: the body, in chunks of any size.
    :param boundary: the ``boundary`` parameter of the ``Content-Type``.
    :param charset: the charset of field names, file names and field values.
    :param file_factory: called as ``file_factory(filename, headers)`` for each file part;
        returns an object with ``write(bytes)`` and ``seek(int)``.
    :param max_form_parts: the most parts (fields and files) accepted.
    :param max_form_memory_size: the most bytes of text fields held in memory
        (also the cap of one field; 1 MiB per field when None).
    :returns: ``[(name, str or file)]`` in body order.
    :raises MalformedMultipart: the body does not parse.
    :raises RequestEntityTooLarge: a limit above was exceeded.
    """
    reader = _FormReader(boundary, charset, max_form_parts, max_form_memory_size)
    items: list[tuple[str, str | S]] = []
    files: list[S] = []
    name = ""
    chunks = iter(stream)
    try:
        while not reader.finished:
            for step in reader.feed(next(chunks, None)):
                if type(step) is bytes:
                    files[-1].write(step)
                elif step is None:
                    files[-1].seek(0)
                    items.append((name, files[-1]))
                elif type(step) is _FileStart:
                    name = step.name
                    files.append(file_factory(step.filename, Headers(raw=step.headers)))
                else:
                    items.append(step)  # type: ignore[arg-type]
        for _ in chunks:  # drain the epilogue
            pass
    except BaseException:
        for file in files:
            close = getattr(file, "close", None)
            if callable(close):
                close()
        raise
    return items


async def parse_async_stream(
    stream: AsyncIterable[bytes],
    boundary: bytes,
    charset: str,
    *,
    file_factory: Callable[[str, Headers], A],
    max_form_parts: int = 1000,
    max_form_memory_size: int | None = None,
) -> list[tuple[str, str | A]]:
    """Parse a ``multipart/form-data`` body from an async iterable of chunks.

    Same as :func:`parse_stream`, but files are written with ``await awrite(bytes)``
    and rewound with ``await aseek(0)``; on error they are closed with ``aclose()``
    (or ``close()``).

    :param stream: the body, in chunks of any size.
    :param boundary: the ``boundary`` parameter of the ``Content-Type``.
    :param charset: the charset of field names, file names and field values.
    :param file_factory: called as ``file_factory(filename, headers)`` for each file part.
    :param max_form_parts: the most parts (fields and files) accepted.
    :param max_form_memory_size: the most bytes of text fields held in memory
        (also the cap of one field; 1 MiB per field when None).
    :returns: ``[(name, str or file)]`` in body order.
    :raises MalformedMultipart: the body does not parse.
    :raises RequestEntityTooLarge: a limit above was exceeded.
    """
    reader = _FormReader(boundary, charset, max_form_parts, max_form_memory_size)
    items: list[tuple[str, str | A]] = []
    files: list[A] = []
    name = ""
    chunks = aiter(stream)
    try:
        while not reader.finished:
            for step in reader.feed(await anext(chunks, None)):
                if type(step) is bytes:
                    await files[-1].awrite(step)
                elif step is None:
                    await files[-1].aseek(0)
                    items.append((name, files[-1]))
                elif type(step) is _FileStart:
                    name = step.name
                    files.append(file_factory(step.filename, Headers(raw=step.headers)))
                else:
                    items.append(step)  # type: ignore[arg-type]
        async for _ in chunks:  # drain the epilogue
            pass
    except BaseException:
        with anyio.CancelScope(shield=True):
            for file in files:
                aclose = getattr(file, "aclose", None)
                close = getattr(file, "close", None)
                if callable(aclose):
                    await aclose()
                elif callable(close):
                    close()
        raise
    return items


__all__ = [
    "DEFAULT_MAX_FIELD_SIZE",
    "AsyncUpload",
    "SyncUpload",
    "parse_async_stream",
    "parse_stream",
]
