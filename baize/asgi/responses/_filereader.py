"""Reading a file's byte segments for a streamed :class:`FileResponse`, in few thread hops.

Each hop to a worker thread costs about as much as reading a few hundred KiB from the page
cache, so the reader takes up to :data:`READ_BATCH` bytes per hop (opening the file with the
first batch, closing it with the one that reads the last bytes) and hands them back as chunks
of at most ``chunk_size``: each body message stays within ``chunk_size``; what is held in
memory per response is at most ``max(chunk_size, READ_BATCH)``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import BinaryIO

import anyio.lowlevel
import anyio.to_thread

#: Bytes read per worker-thread call (unless ``chunk_size`` is larger: one chunk then).
READ_BATCH = 1024 * 1024

Segment = bytes | tuple[int, int]


class SegmentReader:
    """The chunks of ``segments`` (literal bytes, or ``(start, stop)`` of the file).

    :meth:`open` opens the file and reads the first batch before anything is sent, so that
    a file gone since the response was built fails before the answer starts;
    :meth:`chunks` yields every chunk in order; :meth:`close` is safe to call at any time.
    """

    def __init__(self, path: str, segments: list[Segment], chunk_size: int) -> None:
        self.path = path
        self.chunk_size = chunk_size
        batch = max(chunk_size, READ_BATCH)
        self._plan: list[Segment] = []
        for segment in segments:
            if isinstance(segment, bytes):
                self._plan.append(segment)
                continue
            start, stop = segment
            for offset in range(start, stop, batch):
                self._plan.append((offset, min(stop, offset + batch)))
        self._unread = sum(b - a for a, b in (s for s in self._plan if isinstance(s, tuple)))
        self._file: BinaryIO | None = None
        self._first: list[bytes] | None = None

    async def open(self) -> None:
        """Open the file and read its first batch (one worker-thread call)."""
        first = next((item for item in self._plan if isinstance(item, tuple)), None)
        if first is not None:
            self._first = await anyio.to_thread.run_sync(self._read, *first)

    async def chunks(self) -> AsyncIterator[bytes]:
        """Every chunk in order (call :meth:`open` first)."""
        for item in self._plan:
            if isinstance(item, bytes):
                yield item
                continue
            if self._first is not None:
                batch, self._first = self._first, None
            else:
                batch = await anyio.to_thread.run_sync(self._read, *item)
            for index, chunk in enumerate(batch):
                if index:
                    # Let the event loop run between the messages of one batch, as a thread
                    # hop would: a server without backpressure (daphne) writes what it has
                    # buffered before more arrives, and its memory stays flat.
                    await anyio.lowlevel.checkpoint()
                yield chunk

    def close(self) -> None:
        file, self._file = self._file, None
        if file is not None:
            file.close()

    def _read(self, start: int, stop: int) -> list[bytes]:
        """Bytes ``start``..``stop`` as chunks (blocking: runs in a worker thread)."""
        if self._file is None:
            self._file = open(self.path, "rb", buffering=0)  # closed by close()
        file = self._file
        file.seek(start)
        chunks = []
        while start < stop:
            chunk = file.read(min(self.chunk_size, stop - start))
            if not chunk:
                raise RuntimeError(f"FileResponse: {self.path!r} shrank while being sent")
            chunks.append(chunk)
            start += len(chunk)
            self._unread -= len(chunk)
        if self._unread <= 0:
            self.close()
        return chunks
