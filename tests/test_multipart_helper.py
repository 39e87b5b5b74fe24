"""Tests of parse_stream and parse_async_stream: results, limits, cleanup, memory."""

from __future__ import annotations

import io
import tracemalloc
from collections.abc import AsyncIterator, Iterable, Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from baize.datastructures import Headers, UploadFile
from baize.exceptions import MalformedMultipart, RequestEntityTooLarge
from baize.multipart_helper import DEFAULT_MAX_FIELD_SIZE, parse_async_stream, parse_stream

BOUNDARY = b"----formboundary7MA4YWxk"


class MemoryFile:
    """A tiny file object recording what the parser did to it."""

    def __init__(self, filename: str, headers: Headers) -> None:
        self.filename = filename
        self.headers = headers
        self.buffer = io.BytesIO()
        self.writes = 0
        self.closed = False

    def write(self, data: bytes) -> int:
        self.writes += 1
        return self.buffer.write(data)

    def seek(self, offset: int) -> int:
        return self.buffer.seek(offset)

    async def awrite(self, data: bytes) -> int:
        return self.write(data)

    async def aseek(self, offset: int) -> int:
        return self.seek(offset)

    def close(self) -> None:
        self.closed = True

    def content(self) -> bytes:
        assert self.buffer.tell() == 0, "the parser must rewind the file"
        return self.buffer.getvalue()


class Factory:
    def __init__(self) -> None:
        self.made: list[MemoryFile] = []

    def __call__(self, filename: str, headers: Headers) -> MemoryFile:
        file = MemoryFile(filename, headers)
        self.made.append(file)
        return file


def part(name: str, content: bytes, filename: str | None = None, ctype: bytes = b"") -> bytes:
    head = b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="' + name.encode() + b'"'
    if filename is not None:
        head += b'; filename="' + filename.encode() + b'"'
    if ctype:
        head += b"\r\nContent-Type: " + ctype
    return head + b"\r\n\r\n" + content + b"\r\n"


def body_of(*parts: bytes, epilogue: bytes = b"") -> bytes:
    return b"".join(parts) + b"--" + BOUNDARY + b"--\r\n" + epilogue


def chunked(body: bytes, size: int) -> list[bytes]:
    return [body[i : i + size] for i in range(0, len(body), size)]


async def agen(chunks: Iterable[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


SAMPLE = body_of(
    part("title", "h\u00e9llo".encode()),
    part("upload", b"\x00binary\r\ndata", "a.bin", b"application/octet-stream"),
    part("title", b"second"),
    part("bad", b"caf\xe9"),
)


def check_sample(items: list[tuple[str, str | MemoryFile]]) -> None:
    assert [name for name, _ in items] == ["title", "upload", "title", "bad"]
    assert items[0][1] == "h\u00e9llo"
    assert items[2][1] == "second"
    assert items[3][1] == "caf\ufffd"
    upload = items[1][1]
    assert isinstance(upload, MemoryFile)
    assert upload.filename == "a.bin"
    assert isinstance(upload.headers, Headers)
    assert upload.headers["content-type"] == "application/octet-stream"
    assert upload.content() == b"\x00binary\r\ndata"


@pytest.mark.parametrize("size", [1, 3, 64, 65536])
def test_parse_stream_fields_and_files(size: int) -> None:
    check_sample(parse_stream(chunked(SAMPLE, size), BOUNDARY, "utf-8", file_factory=Factory()))


async def test_parse_async_stream_fields_and_files() -> None:
    for size in [1, 5, 65536]:
        items = await parse_async_stream(
            agen(chunked(SAMPLE, size)), BOUNDARY, "utf-8", file_factory=Factory()
        )
        check_sample(items)


@settings(max_examples=50, deadline=None)
@given(cuts=st.sets(st.integers(0, len(SAMPLE)), max_size=15))
def test_parse_stream_any_split(cuts: set[int]) -> None:
    points = sorted(cuts)
    chunks = [SAMPLE[a:b] for a, b in zip([0, *points], [*points, len(SAMPLE)], strict=True)]
    check_sample(parse_stream(chunks, BOUNDARY, "utf-8", file_factory=Factory()))


def test_field_values_decoded_with_charset() -> None:
    body = body_of(part("x", "caf\u00e9".encode("latin-1")))
    assert parse_stream([body], BOUNDARY, "latin-1", file_factory=Factory()) == [("x", "caf\u00e9")]


def test_with_upload_file() -> None:
    body = body_of(part("f", b"0123456789" * 300, "big.txt", b"text/plain"))
    items = parse_stream(
        chunked(body, 100),
        BOUNDARY,
        "utf-8",
        file_factory=lambda name, headers: UploadFile(name, headers, max_in_memory_size=1000),
    )
    upload = items[0][1]
    assert isinstance(upload, UploadFile)
    assert not upload.in_memory
    assert upload.content_type == "text/plain"
    assert upload.read() == b"0123456789" * 300
    upload.close()


def test_stream_is_drained_after_the_last_part() -> None:
    consumed: list[bytes] = []

    def source() -> Iterator[bytes]:
        for chunk in [body_of(part("a", b"1")), b"epilogue 1", b"epilogue 2"]:
            consumed.append(chunk)
            yield chunk

    assert parse_stream(source(), BOUNDARY, "utf-8", file_factory=Factory()) == [("a", "1")]
    assert consumed[1:] == [b"epilogue 1", b"epilogue 2"]


async def test_async_stream_is_drained_after_the_last_part() -> None:
    chunks = [body_of(part("a", b"1")), b"epilogue"]
    consumed: list[bytes] = []

    async def source() -> AsyncIterator[bytes]:
        for chunk in chunks:
            consumed.append(chunk)
            yield chunk

    items = await parse_async_stream(source(), BOUNDARY, "utf-8", file_factory=Factory())
    assert items == [("a", "1")]
    assert consumed == chunks


def test_empty_form() -> None:
    assert parse_stream([body_of()], BOUNDARY, "utf-8", file_factory=Factory()) == []


# Limits ----------------------------------------------------------------------------


def tiny_fields(count: int) -> bytes:
    return body_of(*(part(f"f{i}", b"v") for i in range(count)))


def test_ten_thousand_tiny_fields_hit_the_default_part_limit() -> None:
    with pytest.raises(RequestEntityTooLarge, match="more than 1000") as info:
        parse_stream(chunked(tiny_fields(10_000), 65536), BOUNDARY, "utf-8", file_factory=Factory())
    assert info.value.status_code == 413


async def test_ten_thousand_tiny_fields_async() -> None:
    with pytest.raises(RequestEntityTooLarge, match="more than 1000"):
        await parse_async_stream(
            agen(chunked(tiny_fields(10_000), 65536)), BOUNDARY, "utf-8", file_factory=Factory()
        )


def test_exactly_the_part_limit_is_accepted() -> None:
    items = parse_stream([tiny_fields(1000)], BOUNDARY, "utf-8", file_factory=Factory())
    assert len(items) == 1000
    with pytest.raises(RequestEntityTooLarge):
        parse_stream([tiny_fields(6)], BOUNDARY, "utf-8", file_factory=Factory(), max_form_parts=5)


def test_files_count_as_parts() -> None:
    body = body_of(part("a", b"1"), part("f", b"x", "f.txt"), part("b", b"2"))
    factory = Factory()
    with pytest.raises(RequestEntityTooLarge):
        parse_stream([body], BOUNDARY, "utf-8", file_factory=factory, max_form_parts=2)
    assert [file.closed for file in factory.made] == [True]


def test_total_field_memory_limit() -> None:
    body = body_of(part("a", b"x" * 600), part("b", b"y" * 600))
    with pytest.raises(RequestEntityTooLarge, match="1000 bytes of memory"):
        parse_stream([body], BOUNDARY, "utf-8", file_factory=Factory(), max_form_memory_size=1000)
    items = parse_stream(
        [body], BOUNDARY, "utf-8", file_factory=Factory(), max_form_memory_size=1200
    )
    assert items == [("a", "x" * 600), ("b", "y" * 600)]


def test_file_data_does_not_count_against_field_memory() -> None:
    body = body_of(part("f", b"z" * 5000, "f.bin"), part("a", b"x" * 10))
    items = parse_stream(
        [body], BOUNDARY, "utf-8", file_factory=Factory(), max_form_memory_size=100
    )
    assert items[1] == ("a", "x" * 10)


def test_default_per_field_limit_is_one_mebibyte() -> None:
    def source(size: int) -> Iterator[bytes]:
        yield b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="big"\r\n\r\n'
        for _ in range(size // 65536):
            yield b"x" * 65536
        yield b"\r\n--" + BOUNDARY + b"--\r\n"

    items = parse_stream(source(DEFAULT_MAX_FIELD_SIZE), BOUNDARY, "utf-8", file_factory=Factory())
    assert items == [("big", "x" * DEFAULT_MAX_FIELD_SIZE)]
    with pytest.raises(RequestEntityTooLarge, match=r"big.* is larger than 1048576"):
        parse_stream(source(2 * DEFAULT_MAX_FIELD_SIZE), BOUNDARY, "utf-8", file_factory=Factory())


# Errors ------------------------------------------------------------------------------


def test_malformed_body_closes_files_already_made() -> None:
    body = part("f", b"data", "f.txt") + b"--" + BOUNDARY + b"\r\nno colon\r\n\r\nx"
    factory = Factory()
    with pytest.raises(MalformedMultipart, match="no field name"):
        parse_stream([body], BOUNDARY, "utf-8", file_factory=factory)
    assert factory.made and all(file.closed for file in factory.made)


async def test_truncated_body_closes_files_async() -> None:
    body = part("f", b"data", "f.txt")[:-4]
    factory = Factory()
    with pytest.raises(MalformedMultipart, match="before the close delimiter"):
        await parse_async_stream(agen([body]), BOUNDARY, "utf-8", file_factory=factory)
    assert [file.closed for file in factory.made] == [True]


def test_wrong_boundary_is_malformed() -> None:
    with pytest.raises(MalformedMultipart, match="no boundary line"):
        parse_stream([SAMPLE], b"other", "utf-8", file_factory=Factory())


# Memory ------------------------------------------------------------------------------

HUGE = 200 * 1024 * 1024
CHUNK = 64 * 1024


async def huge_body() -> AsyncIterator[bytes]:
    """A 200 MB file part in 64 KiB chunks, never held whole."""
    block = bytes(range(256)) * (CHUNK // 256)
    yield (
        b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="f"; filename="h.bin"\r\n\r\n'
    )
    for _ in range(HUGE // CHUNK):
        yield block
    yield b"\r\n--" + BOUNDARY + b"--\r\n"


async def test_200_mb_file_part_keeps_memory_flat() -> None:
    """The UploadFile spills to a real temporary file after 1 MiB; nothing else grows."""
    tracemalloc.start()
    try:
        items = await parse_async_stream(
            huge_body(),
            BOUNDARY,
            "utf-8",
            file_factory=lambda name, headers: UploadFile(name, headers),
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    upload = items[0][1]
    assert isinstance(upload, UploadFile)
    try:
        assert not upload.in_memory
        assert upload.seek(0, io.SEEK_END) == HUGE
        upload.seek(HUGE - 256)
        assert upload.read() == bytes(range(256))
    finally:
        upload.close()
    assert peak < 4 * 1024 * 1024, f"peak traced memory {peak} bytes"
