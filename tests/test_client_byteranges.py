"""Tests of the strict multipart/byteranges parser used by the range cases."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.harness.byteranges import (
    ByterangesError,
    ContentRangeError,
    Part,
    check_against_file,
    parse_byteranges,
    parse_content_range,
)

FILE = bytes(range(256)) * 4
CT = "multipart/byteranges; boundary=THIS_STRING_SEPARATES"


def encode(
    ranges: list[tuple[int, int]],
    file_bytes: bytes,
    *,
    boundary: str = "THIS_STRING_SEPARATES",
    part_type: str | None = "application/octet-stream",
    eol: bytes = b"\r\n",
) -> bytes:
    """A hand-written byteranges writer, the shape RFC 9110 §14.6 shows."""
    out = b""
    for first, last in ranges:
        out += b"--" + boundary.encode() + eol
        if part_type is not None:
            out += b"Content-Type: " + part_type.encode() + eol
        out += f"Content-Range: bytes {first}-{last}/{len(file_bytes)}".encode() + eol + eol
        out += file_bytes[first : last + 1] + eol
    return out + b"--" + boundary.encode() + b"--" + eol


def test_rfc9110_example_parses() -> None:
    body = (
        b"--THIS_STRING_SEPARATES\r\n"
        b"Content-Type: application/pdf\r\n"
        b"Content-Range: bytes 500-999/8000\r\n"
        b"\r\n" + b"a" * 500 + b"\r\n"
        b"--THIS_STRING_SEPARATES\r\n"
        b"Content-Type: application/pdf\r\n"
        b"Content-Range: bytes 7000-7999/8000\r\n"
        b"\r\n" + b"b" * 1000 + b"\r\n"
        b"--THIS_STRING_SEPARATES--\r\n"
    )
    parts = parse_byteranges(body, CT, total_length=8000)
    assert [p.content_range for p in parts] == [(500, 999, 8000), (7000, 7999, 8000)]
    assert [p.content_type for p in parts] == ["application/pdf", "application/pdf"]
    assert parts[0].data == b"a" * 500
    assert parts[1].data == b"b" * 1000
    assert parts[0].headers == [
        ("Content-Type", "application/pdf"),
        ("Content-Range", "bytes 500-999/8000"),
    ]


def test_quoted_boundary_and_preamble_and_epilogue() -> None:
    body = b"preamble\r\n" + encode([(0, 9)], FILE, boundary="a b:c")[:-2] + b"  \r\nepilogue"
    parts = parse_byteranges(body, 'Multipart/Byteranges ; boundary="a b:c"', total_length=1024)
    assert parts[0].data == FILE[:10]


def test_data_containing_crlf_and_dashes_is_taken_by_length() -> None:
    data = b"\r\n--THIS_STRING_SEPARATES\r\n"
    body = encode([(0, len(data) - 1)], data)
    (part,) = parse_byteranges(body, CT, total_length=len(data))
    assert part.data == data


def test_part_without_content_type_is_allowed() -> None:
    (part,) = parse_byteranges(encode([(3, 5)], FILE, part_type=None), CT, total_length=1024)
    assert part.content_type is None
    assert part.data == FILE[3:6]


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (encode([(0, 4)], FILE, eol=b"\n"), CT, "bare LF"),
        (encode([(0, 4)], FILE), "multipart/byteranges", "no boundary parameter"),
        (encode([(0, 4)], FILE), "multipart/mixed; boundary=x", "expected 'multipart/byteranges'"),
        (encode([(0, 4)], FILE), "multipart/byteranges; boundary=", "bad parameter syntax"),
        (encode([(0, 4)], FILE), "multipart/byteranges; boundary=a;boundary=b", "more than one"),
        (encode([(0, 4)], FILE), "multipart/byteranges; boundary=OTHER", "no dash-boundary"),
        (encode([(0, 4)], FILE)[: -len(b"--THIS_STRING_SEPARATES--\r\n")], CT, "close delimiter"),
        (encode([(0, 4)], FILE)[:-4] + b"\r\n", CT, "close delimiter"),
        (encode([(0, 4)], FILE).replace(b"\r\n--THIS_STRING_SEPARATES--", b""), CT, "no delimiter"),
        (encode([(0, 4)], FILE).replace(b"Content-Range", b"X-Range"), CT, "no Content-Range"),
        (encode([(0, 4)], FILE).replace(b"bytes 0-4", b"bytes 0-"), CT, "Content-Range"),
        (encode([(0, 4)], FILE).replace(b"bytes 0-4", b"bytes 0-5"), CT, "announces 6 bytes"),
        (encode([(0, 4)], FILE).replace(b"/1024", b"/2000"), CT, "does not match"),
        (encode([(0, 4)], FILE).replace(b"/1024", b"/*"), CT, "complete-length '*'"),
        (encode([(0, 4)], FILE).replace(b"\r\n\r\n", b"\r\n\n"), CT, "bare LF"),
        (encode([(0, 4)], FILE).replace(b"\x04\r\n--", b"\x04\n--"), CT, "bare LF"),
        (encode([(0, 4)], FILE).replace(b"Content-Type:", b"Content Type:"), CT, "malformed"),
        (encode([(0, 4)], FILE)[:-2] + b"junk", CT, "after the close-delimiter"),
    ],
)
def test_errors_name_the_rule(body: bytes, content_type: str, message: str) -> None:
    with pytest.raises(ByterangesError, match=message):
        parse_byteranges(body, content_type, total_length=1024)


def test_parts_must_agree_on_complete_length_when_total_unknown() -> None:
    body = encode([(0, 4), (10, 14)], FILE)
    body = body.replace(b"10-14/1024", b"10-14/2048")
    with pytest.raises(ByterangesError, match="disagree"):
        parse_byteranges(body, CT, total_length=None)


def test_star_complete_length_accepted_without_total() -> None:
    body = encode([(0, 4)], FILE).replace(b"/1024", b"/*")
    (part,) = parse_byteranges(body, CT, total_length=None)
    assert part.content_range == (0, 4, -1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("bytes 0-4/10", (0, 4, 10)),
        ("bytes 42-1233/1234", (42, 1233, 1234)),
        ("bytes 0-4/*", (0, 4, "*")),
        ("bytes */1234", ("*", 1234)),
        ("Bytes 0-0/1", (0, 0, 1)),
    ],
)
def test_parse_content_range(value: str, expected: object) -> None:
    assert parse_content_range(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "bytes 0-4",
        "bytes=0-4/10",
        "bytes  0-4/10",
        "bytes 0-4/10 ",
        "bytes 5-4/10",
        "bytes 0-10/10",
        "bytes -4/10",
        "bytes 0-4/-1",
        "bytes */*",
        "items 0-4/10",
        "bytes 0x1-4/10",
        "",
    ],
)
def test_parse_content_range_rejects(value: str) -> None:
    with pytest.raises(ContentRangeError):
        parse_content_range(value)


def test_check_against_file_passes_and_fails() -> None:
    parts = parse_byteranges(encode([(0, 9), (100, 199)], FILE), CT, total_length=1024)
    check_against_file(parts, FILE)
    wrong = [Part(None, (100, 109, 1024), [], FILE[100:105] + b"xxxxx")]
    with pytest.raises(ByterangesError, match="file offset 105"):
        check_against_file(wrong, FILE)
    with pytest.raises(ByterangesError, match="complete-length 1024, file has 10"):
        check_against_file(parts, FILE[:10])


@st.composite
def ranges_of(draw: st.DrawFn, size: int) -> list[tuple[int, int]]:
    pairs = draw(
        st.lists(st.tuples(st.integers(0, size - 1), st.integers(0, size - 1)), min_size=1)
    )
    return [(min(a, b), max(a, b)) for a, b in pairs]


@given(file_bytes=st.binary(min_size=1, max_size=300), data=st.data())
def test_any_ranges_round_trip(file_bytes: bytes, data: st.DataObject) -> None:
    ranges = data.draw(ranges_of(len(file_bytes)))
    parts = parse_byteranges(encode(ranges, file_bytes), CT, total_length=len(file_bytes))
    assert [p.content_range[:2] for p in parts] == ranges
    check_against_file(parts, file_bytes)


@given(file_bytes=st.binary(min_size=2, max_size=100), data=st.data())
def test_truncated_body_is_rejected(file_bytes: bytes, data: st.DataObject) -> None:
    body = encode(data.draw(ranges_of(len(file_bytes))), file_bytes)
    cut = data.draw(st.integers(0, len(body) - 3))
    with pytest.raises(ByterangesError):
        parse_byteranges(body[:cut], CT, total_length=len(file_bytes))
