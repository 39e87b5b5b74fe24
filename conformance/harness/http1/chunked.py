"""The chunked transfer coding (RFC 9112 §7.1), both directions, without I/O.

:func:`parse_chunk_header` reads one chunk-size line for the response parser;
:func:`encode_chunks` frames a request body for the request builder::

    chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
    chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
    last-chunk = 1*("0") [ chunk-ext ] CRLF
"""

from __future__ import annotations

import re
from typing import Final

from conformance.harness.http1.errors import FramingError
from conformance.harness.http1.syntax import QUOTED, TOKEN

__all__ = ["MAX_CHUNK_SIZE", "encode_chunks", "parse_chunk_header"]

# chunk-size [ chunk-ext ]
_CHUNK_EXT = re.compile(
    rb"[ \t]*;[ \t]*(" + TOKEN + rb")(?:[ \t]*=[ \t]*(" + TOKEN + rb"|" + QUOTED + rb"))?"
)
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]+)")
MAX_CHUNK_SIZE: Final = 1 << 40
"""Largest chunk size accepted (1 TiB): larger sizes are an attack, not a body."""


def parse_chunk_header(content: bytes, raw_line: bytes) -> tuple[int, list[tuple[str, str | None]]]:
    """Parse a chunk-size line.

    :param content: the line without its line ending.
    :param raw_line: the line as received, quoted in error messages.
    :returns: the chunk size and its extensions as ``(name, value or None)``.
    :raises FramingError: on a line that is not ``chunk-size [ chunk-ext ]``
        or a size above :data:`MAX_CHUNK_SIZE`.
    """
    size_match = _CHUNK_SIZE.match(content)
    if size_match is None:
        raise FramingError(f"bad chunk size line {raw_line!r} (RFC 9112 §7.1)")
    extensions: list[tuple[str, str | None]] = []
    position = size_match.end()
    while position < len(content):
        ext = _CHUNK_EXT.match(content, position)
        if ext is None:
            raise FramingError(f"bad chunk size line {raw_line!r} (RFC 9112 §7.1)")
        value = ext.group(2)
        extensions.append(
            (
                ext.group(1).decode("ascii"),
                None if value is None else value.decode("latin-1"),
            )
        )
        position = ext.end()
    size = int(size_match.group(1), 16)
    if size > MAX_CHUNK_SIZE:
        raise FramingError(f"chunk size {size} is too large")
    return size, extensions


def encode_chunks(body: bytes, chunk_size: int | None = None) -> bytes:
    """Frame ``body`` as data chunks, without the last chunk and trailer section.

    :param chunk_size: split into chunks of this size (default: one chunk;
        none at all for an empty body).
    :raises ValueError: when ``chunk_size`` is below 1.
    """
    if chunk_size is not None and chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    out = bytearray()
    step = chunk_size or max(len(body), 1)
    for start in range(0, len(body), step):
        piece = body[start : start + step]
        out += f"{len(piece):X}\r\n".encode("ascii") + piece + b"\r\n"
    return bytes(out)
