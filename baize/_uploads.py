"""Parsed forms: :class:`UploadFile` (memory, then a temporary file) and :class:`FormData`."""

from __future__ import annotations

import os
import tempfile
from io import BytesIO
from typing import IO

import anyio.to_thread

from baize._headers import Headers
from baize._media import ContentType
from baize._multidict import MultiMapping


class UploadFile:
    """A file of a multipart form: kept in memory up to ``max_in_memory_size``
    bytes, then moved to a temporary file on disk.

    Sync methods do the I/O in the calling thread; the ``a*`` methods run it in a
    worker thread once the data lives on disk (in memory there is nothing to wait for).

    :param filename: the file name the client sent.
    :param headers: the headers of the part.
    :param max_in_memory_size: the size above which the data moves to disk; by
        default the class attribute :attr:`spool_max_size` (upstream's knob) as it
        is when the file is created.
    """

    spool_max_size: int = 1024 * 1024
    """Bytes kept in memory before the data moves to disk, for files built without
    ``max_in_memory_size``."""

    def __init__(
        self,
        filename: str,
        headers: Headers | None = None,
        max_in_memory_size: int | None = None,
    ) -> None:
        self.filename = filename
        self.headers = headers if headers is not None else Headers()
        if max_in_memory_size is None:
            max_in_memory_size = self.spool_max_size
        self.max_in_memory_size = max_in_memory_size
        self._file: IO[bytes] = BytesIO()
        self._in_memory = True

    @property
    def content_type(self) -> ContentType:
        """The ``Content-Type`` of the part."""
        return ContentType(self.headers.get("content-type", ""))

    @property
    def in_memory(self) -> bool:
        """Whether the data is still held in memory."""
        return self._in_memory

    @property
    def closed(self) -> bool:
        return self._file.closed

    @property
    def file(self) -> IO[bytes]:
        """The file object holding the data now (in memory, or on disk once moved)."""
        return self._file

    def _would_spill(self, size: int) -> bool:
        if not self._in_memory:
            return False
        return self._file.tell() + size > self.max_in_memory_size

    def _spill(self) -> None:
        disk = tempfile.TemporaryFile()
        memory = self._file
        assert isinstance(memory, BytesIO)
        disk.write(memory.getbuffer())
        disk.seek(memory.tell())
        memory.close()
        self._file = disk
        self._in_memory = False

    def write(self, data: bytes) -> int:
        if self._would_spill(len(data)):
            self._spill()
        return self._file.write(data)

    def read(self, size: int = -1) -> bytes:
        return self._file.read(size)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def close(self) -> None:
        self._file.close()

    async def awrite(self, data: bytes) -> int:
        if self._in_memory and not self._would_spill(len(data)):
            return self._file.write(data)
        return await anyio.to_thread.run_sync(self.write, data)

    async def aread(self, size: int = -1) -> bytes:
        if self._in_memory:
            return self._file.read(size)
        return await anyio.to_thread.run_sync(self._file.read, size)

    async def aseek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if self._in_memory:
            return self._file.seek(offset, whence)
        return await anyio.to_thread.run_sync(self._file.seek, offset, whence)

    async def aclose(self) -> None:
        if self._in_memory:
            self._file.close()
        else:
            await anyio.to_thread.run_sync(self._file.close)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Copy the whole file to ``path`` (the position is restored afterwards)."""
        position = self._file.tell()
        self._file.seek(0)
        try:
            with open(path, "wb") as target:
                while chunk := self._file.read(1024 * 1024):
                    target.write(chunk)
        finally:
            self._file.seek(position)

    async def asave(self, path: str | os.PathLike[str]) -> None:
        """:meth:`save` in a worker thread."""
        await anyio.to_thread.run_sync(self.save, path)

    def __repr__(self) -> str:
        return f"UploadFile(filename={self.filename!r}, content_type={str(self.content_type)!r})"


class FormData(MultiMapping[str, "str | UploadFile"]):
    """A parsed form: text fields as ``str``, files as :class:`UploadFile`."""

    __slots__ = ()

    def close(self) -> None:
        """Close every :class:`UploadFile` of the form (blocking file I/O)."""
        for _, value in self._list:
            if isinstance(value, UploadFile):
                value.close()

    async def aclose(self) -> None:
        """Close every :class:`UploadFile` of the form, disk files in a worker thread."""
        for _, value in self._list:
            if isinstance(value, UploadFile):
                await value.aclose()


__all__ = ["FormData", "UploadFile"]
