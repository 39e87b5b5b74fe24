"""Pure Range / If-Range parsing and multipart/byteranges framing (RFC 9110 §13.1.5, §14)."""

from __future__ import annotations

import pytest

from baize.exceptions import MalformedRangeHeader, RangeNotSatisfiable
from baize.ranges import (
    EmptySelection,
    ExcessiveRanges,
    byteranges_frames,
    coalesce,
    content_range,
    if_range_matches,
    parse_range_header,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("bytes=0-0", [(0, 1)]),
        ("bytes=0-499", [(0, 500)]),
        ("bytes=500-", [(500, 1000)]),
        ("bytes=-300", [(700, 1000)]),
        ("bytes=-5000", [(0, 1000)]),  # suffix longer than the file: the whole file
        ("bytes=900-5000", [(900, 1000)]),  # last-pos past the end is clipped
        ("BYTES=1-2", [(1, 3)]),  # range units compare case-insensitively
        ("bytes=0-1, 5-6", [(0, 2), (5, 7)]),
        ("bytes=0-1,,5-6,", [(0, 2), (5, 7)]),  # empty list elements are ignored
        ("bytes=5-6,0-1", [(5, 7), (0, 2)]),  # order of the header kept
        ("bytes=0-4,5-9", [(0, 10)]),  # adjacent ranges coalesced
        ("bytes=0-10,5-20", [(0, 21)]),  # overlapping ranges coalesced
        ("bytes=20-30,0-1,25-40", [(20, 41), (0, 2)]),
        ("bytes=0-1,2000-3000", [(0, 2)]),  # unsatisfiable members dropped
        ("  bytes=1-1 ", [(1, 2)]),
        ("bytes=0-" + "9" * 50, [(0, 1000)]),
    ],
)
def test_parse_range_header_satisfiable(value: str, expected: list[tuple[int, int]]) -> None:
    assert parse_range_header(value, 1000) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "bytes",
        "bytes=",
        "bytes=,",
        "bytes=-",
        "bytes=a-b",
        "bytes=5-2",
        "bytes=0-1,5-2",
        "bytes=1",
        "bytes=1-2-3",
        "bytes = 0-1",
        "bytes=0x1-2",
        "bytes=+1-2",
        "items=0-1",
        "bytes=0-1;x",
        "bytes=1-" + "9" * 5000,
    ],
)
def test_parse_range_header_malformed(value: str) -> None:
    with pytest.raises(MalformedRangeHeader):
        parse_range_header(value, 1000)


@pytest.mark.parametrize(
    ("value", "size"),
    [("bytes=1000-", 1000), ("bytes=1000-2000", 1000), ("bytes=-0", 1000), ("bytes=0-", 0)],
)
def test_parse_range_header_unsatisfiable(value: str, size: int) -> None:
    with pytest.raises(RangeNotSatisfiable) as info:
        parse_range_header(value, size)
    assert info.value.status_code == 416
    assert info.value.headers == {"Content-Range": f"bytes */{size}"}


def test_suffix_range_on_empty_file_is_ignored() -> None:
    # RFC 9110 §14.1.1: satisfiable, but it selects zero bytes.
    with pytest.raises(EmptySelection):
        parse_range_header("bytes=-5", 0)


def test_too_many_ranges_are_ignored() -> None:
    many = ",".join(f"{i * 10}-{i * 10 + 1}" for i in range(17))
    with pytest.raises(ExcessiveRanges):
        parse_range_header("bytes=" + many, 1000)
    sixteen = ",".join(f"{i * 10}-{i * 10 + 1}" for i in range(16))
    assert len(parse_range_header("bytes=" + sixteen, 1000)) == 16


def test_heavy_overlap_is_ignored() -> None:
    with pytest.raises(ExcessiveRanges):
        parse_range_header("bytes=0-,0-", 1000)
    with pytest.raises(ExcessiveRanges):
        parse_range_header("bytes=" + ",".join(["0-99"] * 11), 1000)
    assert parse_range_header("bytes=" + ",".join(["0-99"] * 10), 1000) == [(0, 100)]


def test_coalesce_keeps_first_position() -> None:
    assert coalesce([(5, 8), (0, 2), (2, 4)]) == [(5, 8), (0, 4)]
    assert coalesce([]) == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"abc"', True),
        (' "abc" ', True),
        ('"abd"', False),
        ('W/"abc"', False),  # weak tags never match (strong comparison)
        ("Tue, 15 Nov 1994 08:12:31 GMT", True),
        ("Tuesday, 15-Nov-94 08:12:31 GMT", True),  # obsolete RFC 850 form, same instant
        ("Tue, 15 Nov 1994 08:12:32 GMT", False),
        ("not a date", False),
        ("", False),
        # Not an HTTP-date (RFC 9110 §5.6.7) although the same instant: ignored.
        ("Tue, 15 Nov 1994 08:12:31 +0000", False),
        ('"abc', False),  # unterminated entity tag
    ],
)
def test_if_range(value: str, expected: bool) -> None:
    assert if_range_matches(value, '"abc"', "Tue, 15 Nov 1994 08:12:31 GMT") is expected


def test_if_range_against_weak_or_missing_validators() -> None:
    assert not if_range_matches('W/"abc"', 'W/"abc"', None)
    assert not if_range_matches('"abc"', None, None)
    assert not if_range_matches("Tue, 15 Nov 1994 08:12:31 GMT", '"abc"', None)


def test_content_range() -> None:
    assert content_range(0, 1, 10) == "bytes 0-0/10"
    assert content_range(5, 10, 10) == "bytes 5-9/10"


def test_byteranges_frames_are_exact_and_use_crlf() -> None:
    data = b"0123456789"
    parts, closing, length = byteranges_frames([(0, 2), (5, 7)], 10, "text/plain", "XYZ")
    body = b"".join(head + data[start:stop] for head, start, stop in parts) + closing
    assert body == (
        b"--XYZ\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-1/10\r\n\r\n01"
        b"\r\n--XYZ\r\nContent-Type: text/plain\r\nContent-Range: bytes 5-6/10\r\n\r\n56"
        b"\r\n--XYZ--\r\n"
    )
    assert length == len(body)
