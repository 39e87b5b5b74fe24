"""Unit tests of the pieces of conformance.harness.http1 that the parser and
request builder share: the chunked coding, the grammar helpers, and the
rawhttp facade that re-exports everything."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from hypothesis import given
from hypothesis import strategies as st

import conformance.harness.http1 as http1
from conformance.harness import rawhttp
from conformance.harness.http1.chunked import MAX_CHUNK_SIZE, encode_chunks, parse_chunk_header
from conformance.harness.http1.syntax import (
    FIELD_LINE,
    FIELD_VALUE,
    METHOD,
    STATUS_LINE,
    comma_list,
    fields_get,
)
from conformance.harness.rawhttp import FramingError

# -- chunked ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "size", "extensions"),
    [
        (b"0", 0, []),
        (b"000", 0, []),
        (b"1a", 26, []),
        (b"1A", 26, []),
        (b"5;name=value", 5, [("name", "value")]),
        (b"5 ; flag", 5, [("flag", None)]),
        (b'5;q="a \\" b";x = y', 5, [("q", '"a \\" b"'), ("x", "y")]),
    ],
)
def test_parse_chunk_header_reads_size_and_extensions(
    content: bytes, size: int, extensions: list[tuple[str, str | None]]
) -> None:
    assert parse_chunk_header(content, content + b"\r\n") == (size, extensions)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "bad chunk size line"),
        (b"zz", "bad chunk size line"),
        (b"-5", "bad chunk size line"),
        (b"5 junk", "bad chunk size line"),
        (b"5;", "bad chunk size line"),
        (b'5;q="unterminated', "bad chunk size line"),
        (b"%X" % (MAX_CHUNK_SIZE + 1), "is too large"),
    ],
)
def test_parse_chunk_header_rejects(content: bytes, message: str) -> None:
    with pytest.raises(FramingError, match=message) as info:
        parse_chunk_header(content, b"RAW" + content)
    if "bad" in message:
        # the message quotes the line as received, not the stripped content
        assert repr(b"RAW" + content) in str(info.value)


def test_parse_chunk_header_accepts_the_largest_size() -> None:
    assert parse_chunk_header(b"%x" % MAX_CHUNK_SIZE, b"") == (MAX_CHUNK_SIZE, [])


def test_encode_chunks_framing() -> None:
    assert encode_chunks(b"") == b""
    assert encode_chunks(b"", 3) == b""
    assert encode_chunks(b"hello world") == b"B\r\nhello world\r\n"
    assert encode_chunks(b"hello", 2) == b"2\r\nhe\r\n2\r\nll\r\n1\r\no\r\n"
    with pytest.raises(ValueError, match="chunk_size must be at least 1"):
        encode_chunks(b"x", 0)


@given(st.binary(max_size=300), st.one_of(st.none(), st.integers(1, 64)))
def test_encode_then_parse_chunk_headers_round_trip(body: bytes, chunk_size: int | None) -> None:
    encoded = encode_chunks(body, chunk_size)
    decoded = bytearray()
    position = 0
    while position < len(encoded):
        end = encoded.index(b"\r\n", position)
        size, extensions = parse_chunk_header(encoded[position:end], b"")
        assert size > 0 and extensions == []
        decoded += encoded[end + 2 : end + 2 + size]
        assert encoded[end + 2 + size : end + 4 + size] == b"\r\n"
        position = end + 4 + size
    assert bytes(decoded) == body


# -- grammar ---------------------------------------------------------------------


def test_comma_list_and_fields_get() -> None:
    headers = [("Connection", "Keep-Alive, Upgrade"), ("X", "1"), ("connection", " close ")]
    assert fields_get(headers, "connection") == ["Keep-Alive, Upgrade", " close "]
    assert fields_get(headers, "missing") == []
    assert comma_list(fields_get(headers, "connection")) == ["keep-alive", "upgrade", "close"]
    assert comma_list(["a,,b"]) == ["a", "", "b"]


def test_status_and_field_line_patterns() -> None:
    match = STATUS_LINE.fullmatch(b"HTTP/1.1 404 Not Found")
    assert match is not None and match.groups() == (b"HTTP/1.1", b"404", b" ", b"Not Found")
    bare = STATUS_LINE.fullmatch(b"HTTP/1.1 200")
    assert bare is not None and bare.group(3) is None
    assert STATUS_LINE.fullmatch(b"HTTP/1.1 20 OK") is None
    field = FIELD_LINE.fullmatch(b"Name \t: value")
    assert field is not None and field.groups() == (b"Name", b" \t", b" value")
    assert FIELD_LINE.fullmatch(b"bad name: value") is None
    assert FIELD_VALUE.fullmatch(b"tab\tand obs-text \xff")
    for bad in (b"a\rb", b"a\nb", b"a\x00b", b"a\x7fb"):
        assert FIELD_VALUE.fullmatch(bad) is None
    assert METHOD.fullmatch(b"M-SEARCH") and not METHOD.fullmatch(b"GET /")


# -- layout ----------------------------------------------------------------------


def test_rawhttp_reexports_the_package_objects() -> None:
    for name in rawhttp.__all__:
        value = getattr(rawhttp, name)
        module = getattr(value, "__module__", None)
        if module is not None and module.startswith("conformance.harness.http1."):
            assert getattr(importlib.import_module(module), name) is value


def test_every_http1_module_defines_its_all() -> None:
    modules = [info.name for info in pkgutil.iter_modules(http1.__path__)]
    assert len(modules) >= 8
    for short in modules:
        module = importlib.import_module(f"{http1.__name__}.{short}")
        assert module.__doc__, short
        for name in module.__all__:
            assert hasattr(module, name), f"{short}.{name}"
