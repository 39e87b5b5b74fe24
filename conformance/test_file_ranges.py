"""Range requests against FileResponse (RFC 9110 §14, §13.1.5 If-Range, §15.3.7, §15.5.17).

Every 206 is decoded strictly (``conformance.harness.byteranges``) and compared with the
file's real bytes; helpers come from ``test_file.py``. Only RANGE-MULTI-CRLF's cases look at
the line endings of the multipart framing: elsewhere bare LF there is first made CRLF, so a
body with LF framing fails that requirement and not every multipart one.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.budget import BOUNDED, Budget, budget_fixture  # noqa: F401 (the fixture "budget")
from conformance.harness import (
    expect_contains,
    expect_equal,
    expect_in,
    expect_true,
    not_applicable,
)
from conformance.harness.byteranges import parse_byteranges
from conformance.harness.rawhttp import RawResponse
from conformance.harness.server import Server
from conformance.test_file import (
    LAST_MODIFIED,
    SIZES,
    decode_parts,
    expect_full,
    fetch,
    file_bytes,
    media_type,
    with_crlf_framing,
)

# Every case reads or writes HTTP/1.1 (or WebSocket) bytes: none is generated for h2c/h2
# columns (harness/transport.py); HTTP/2 twins live in test_h2_twins.py.
pytestmark = pytest.mark.h1_only

SMALL = "small.txt"
SIZE = SIZES[SMALL]
#: Bytes a 200/416 answer to an abusive Range may carry beyond the file itself.
OVERHEAD = 1024
_INT_RANGE = re.compile(r"([0-9]+)-([0-9]*)")
_SUFFIX = re.compile(r"-([0-9]+)")


def ranged(server: Server, spec: str, name: str = SMALL, **kw: str) -> RawResponse:
    return fetch(server, name, [("Range", spec)], **kw)


def expect_single(response: RawResponse, name: str, first: int, last: int, what: str) -> None:
    """A single-part 206 holding the file's bytes ``first..last`` (inclusive)."""
    data = file_bytes(name)
    expect_equal(response.status, 206, f"{what}: status")
    expect_equal(
        response.header("content-range"),
        f"bytes {first}-{last}/{len(data)}",
        f"{what}: Content-Range (RFC 9110 §14.4)",
    )
    expect_equal(
        response.header("content-length"), str(last - first + 1), f"{what}: Content-Length"
    )
    expect_true(
        response.body == data[first : last + 1],
        f"{what}: the body is the file's bytes {first}-{last}",
        f"{last - first + 1} bytes equal to the file's",
        f"{len(response.body)} bytes, equal: {response.body == data[first : last + 1]}",
    )


def multipart(response: RawResponse, name: str, what: str) -> list[tuple[int, int, bytes]]:
    """A 206 ``multipart/byteranges`` answer, parsed strictly and checked against the file."""
    expect_equal(response.status, 206, f"{what}: status")
    expect_equal(
        media_type(response.header("content-type"))[0],
        "multipart/byteranges",
        f"{what}: Content-Type",
    )
    return decode_parts(response, file_bytes(name))


def partial_only(response: RawResponse, name: str, what: str) -> None:
    """For a clause about 206 responses: a correct 200 (the Range ignored, which RFC 9110 §14.2
    lets a server do; the SHOULD-level RANGE-* cases judge that) leaves it not exercised."""
    if response.status == 200:
        expect_full(response, name, what)
        not_applicable(f"{what}: answered 200 (the Range ignored), so no 206 to check")
    expect_equal(response.status, 206, f"{what}: status")


def coalesce(ranges: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Half-open ranges merged where they overlap or touch, ascending."""
    merged: list[tuple[int, int]] = []
    for start, stop in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], stop))
        else:
            merged.append((start, stop))
    return merged


def expect_union(
    parts: list[tuple[int, int, bytes]],
    wanted: list[tuple[int, int]],
    what: str,
    *,
    overlapping: bool = False,
) -> None:
    """Parts cover exactly the union of ``wanted`` (half-open), pairwise disjoint unless the
    request itself overlapped: coalescing overlapping ranges is a MAY of RFC 9110 §15.3.7.2
    (and this implementation's extension, RANGE-COALESCE-OVERLAP), so then parts may overlap."""
    spans = sorted((first, last + 1) for first, last, _ in parts)
    for (_, stop), (start, _) in [] if overlapping else itertools.pairwise(spans):
        expect_true(
            start >= stop,
            f"{what}: no byte is sent twice (RFC 9110 §14.6 coalescing)",
            "disjoint parts",
            repr(spans),
        )
    expect_equal(coalesce(spans), coalesce(wanted), f"{what}: the bytes sent are the union")


def expect_no_amplification(response: RawResponse, what: str) -> None:
    expect_in(response.status, (200, 416), f"{what}: ignored (200) or refused (416)")
    expect_true(
        len(response.body) <= SIZE + OVERHEAD,
        f"{what}: the answer is not larger than the file (RFC 9110 §14.2, §17.15)",
        f"at most {SIZE + OVERHEAD} bytes",
        f"{len(response.body)} bytes",
    )
    if response.status == 200:
        expect_full(response, SMALL, what)


def expect_416(response: RawResponse, size: int, what: str) -> None:
    expect_equal(response.status, 416, f"{what}: status (RFC 9110 §15.5.17)")
    expect_equal(response.header("content-range"), f"bytes */{size}", f"{what}: Content-Range")


# -- single ranges ---------------------------------------------------------------------------------


@pytest.mark.requirement("RANGE-SINGLE-206")
def test_single_int_range(server: Server) -> None:
    expect_single(ranged(server, "bytes=10-19"), SMALL, 10, 19, "bytes=10-19")


@pytest.mark.requirement("RANGE-SINGLE-CONTENT-RANGE")
def test_single_range_content_range(server: Server) -> None:
    response = ranged(server, "bytes=10-19")
    partial_only(response, SMALL, "bytes=10-19")
    expect_equal(response.header("content-range"), "bytes 10-19/1000", "Content-Range")


@pytest.mark.requirement("RANGE-SINGLE-NOT-MULTIPART")
def test_single_range_not_multipart(server: Server) -> None:
    response = ranged(server, "bytes=10-19")
    partial_only(response, SMALL, "bytes=10-19")
    expect_equal(
        media_type(response.header("content-type"))[0],
        "text/plain",
        "a single range keeps the file's Content-Type (not multipart)",
    )


@pytest.mark.requirement("RANGE-206-ETAG")
def test_206_carries_etag(server: Server) -> None:
    etag = fetch(server, SMALL).header("etag")
    response = ranged(server, "bytes=0-4")
    partial_only(response, SMALL, "bytes=0-4")
    expect_equal(response.header("etag"), etag, "ETag of the 206")


@pytest.mark.requirement("RANGE-OPEN-ENDED")
def test_open_ended_range(server: Server) -> None:
    expect_single(ranged(server, "bytes=990-"), SMALL, 990, 999, "bytes=990-")


@pytest.mark.requirement("RANGE-SUFFIX")
def test_suffix_range(server: Server) -> None:
    expect_single(ranged(server, "bytes=-10"), SMALL, 990, 999, "bytes=-10")


@pytest.mark.requirement("RANGE-SUFFIX-LARGER-THAN-FILE")
def test_suffix_larger_than_file(server: Server) -> None:
    expect_single(ranged(server, "bytes=-5000"), SMALL, 0, 999, "bytes=-5000")


@pytest.mark.requirement("RANGE-LAST-POS-CLIPPED")
def test_last_pos_beyond_end(server: Server) -> None:
    expect_single(ranged(server, "bytes=900-5000"), SMALL, 900, 999, "bytes=900-5000")


@pytest.mark.requirement("RANGE-LARGE-NUMERALS")
def test_large_numerals(server: Server) -> None:
    # The MUST is to parse them without error: a 206/416 as for small numbers, or the Range
    # ignored (200 full, RFC 9110 §14.2 "MAY ignore"); never a 5xx or wrong bytes.
    huge = "9" * 40
    response = ranged(server, f"bytes=0-{huge}")
    if response.status == 200:
        expect_full(response, SMALL, f"bytes=0-{huge} ignored")
    else:
        expect_single(response, SMALL, 0, 999, f"bytes=0-{huge}")
    response = ranged(server, f"bytes={huge}-")
    if response.status == 200:
        expect_full(response, SMALL, f"bytes={huge}- ignored")
    else:
        expect_416(response, SIZE, f"bytes={huge}-")


@pytest.mark.requirement("RANGE-SINGLE-BYTE")
def test_single_bytes(server: Server) -> None:
    expect_single(ranged(server, "bytes=0-0"), SMALL, 0, 0, "bytes=0-0")
    expect_single(ranged(server, "bytes=999-999"), SMALL, 999, 999, "bytes=999-999")
    expect_single(ranged(server, "bytes=0-0", "one.txt"), "one.txt", 0, 0, "one.txt bytes=0-0")


@pytest.mark.requirement("RANGE-UNIT-CASE-INSENSITIVE")
def test_unit_case_insensitive(server: Server) -> None:
    expect_single(ranged(server, "BYTES=5-9"), SMALL, 5, 9, "BYTES=5-9")


@pytest.mark.requirement("RANGE-LARGE-FILE")
def test_ranges_across_chunks_of_a_large_file(server: Server) -> None:
    size = SIZES["big.bin"]
    expect_single(
        ranged(server, "bytes=262000-262300", "big.bin"),
        "big.bin",
        262000,
        262300,
        "across 256 KiB",
    )
    expect_single(ranged(server, "bytes=1000-", "big.bin"), "big.bin", 1000, size - 1, "1000-")


@pytest.mark.requirement("RANGE-CHUNK-SIZE")
def test_ranges_with_small_chunk_size(server: Server) -> None:
    spec = "bytes=3-40,100-250,-77"
    response = ranged(server, spec, chunk_size="7")
    parts = multipart(response, SMALL, f"{spec} with chunk_size=7")
    expect_equal(
        [(first, last) for first, last, _ in parts],
        [(3, 40), (100, 250), (923, 999)],
        "the parts",
    )


# -- multipart/byteranges --------------------------------------------------------------------------

MULTI = "bytes=0-9,100-149,-20"


@pytest.mark.requirement("RANGE-MULTI-CONTENT-TYPE")
def test_multipart_content_type(server: Server) -> None:
    response = ranged(server, MULTI)
    partial_only(response, SMALL, MULTI)
    kind, params = media_type(response.header("content-type"))
    expect_equal(kind, "multipart/byteranges", "Content-Type of a multi-range 206")
    expect_contains(params, "boundary", "the boundary parameter")


@pytest.mark.requirement("RANGE-MULTI-PART-CONTENT-RANGE")
def test_multipart_part_content_range(server: Server) -> None:
    response = ranged(server, MULTI)
    partial_only(response, SMALL, MULTI)
    content_type = response.header("content-type") or ""
    boundary = media_type(content_type)[1].get("boundary", "").encode("latin-1")
    body = with_crlf_framing(response.body, boundary) if boundary else response.body
    parts = parse_byteranges(body, content_type, total_length=SIZE)
    for index, part in enumerate(parts, start=1):
        expect_true(
            part.content_range is not None,
            f"part {index} carries a Content-Range (RFC 9110 §15.3.7.2)",
            "bytes first-last/size",
            "none",
        )


@pytest.mark.requirement("RANGE-MULTI-DATA")
def test_multipart_data(server: Server) -> None:
    response = ranged(server, MULTI)
    partial_only(response, SMALL, MULTI)
    parts = multipart(response, SMALL, MULTI)  # strict but for line endings: Content-Range per part
    expect_equal(
        [(first, last) for first, last, _ in parts],
        [(0, 9), (100, 149), (980, 999)],
        "one part per range, with the file's bytes",
    )


@pytest.mark.requirement("RANGE-MULTI-CRLF")
def test_multipart_parsed_with_strict_line_endings(server: Server) -> None:
    response = ranged(server, MULTI)
    partial_only(response, SMALL, MULTI)
    decode_parts(response, file_bytes(SMALL), strict_line_endings=True)


@pytest.mark.requirement("RANGE-MULTI-CRLF")
def test_multipart_line_endings_byte_by_byte(server: Server) -> None:
    response = ranged(server, MULTI)
    partial_only(response, SMALL, MULTI)
    boundary = media_type(response.header("content-type"))[1]["boundary"].encode()
    body = response.body
    data = file_bytes(SMALL)
    # Blank out each part's data, then every LF left must follow a CR.
    framing = body
    for first, last in ((0, 9), (100, 149), (980, 999)):
        framing = framing.replace(data[first : last + 1], b"", 1)
    bare = [i for i, byte in enumerate(framing) if byte == 0x0A and framing[i - 1 : i] != b"\r"]
    expect_equal(bare, [], "offsets of bare LF in the multipart framing (RFC 2046 §5.1.1)")
    expect_true(
        body.rstrip(b"\r\n").endswith(b"\r\n--" + boundary + b"--"),
        "the body ends with CRLF '--' boundary '--'",
        "the close-delimiter",
        repr(body[-60:]),
    )


@pytest.mark.requirement("RANGE-MULTI-PART-CONTENT-TYPE")
def test_multipart_part_content_type(server: Server) -> None:
    response = ranged(server, MULTI, content_type="text/x-conf; charset=utf-8")
    content_type = response.header("content-type") or ""
    boundary = media_type(content_type)[1].get("boundary", "").encode("latin-1")
    body = with_crlf_framing(response.body, boundary) if boundary else response.body
    parts = parse_byteranges(body, content_type, total_length=SIZE)
    for index, part in enumerate(parts, start=1):
        expect_equal(
            part.content_type,
            "text/x-conf; charset=utf-8",
            f"part {index}: Content-Type is the 200's (RFC 9110 §15.3.7.2)",
        )


@pytest.mark.requirement("RANGE-MULTI-CONTENT-LENGTH")
def test_multipart_exact_content_length(server: Server) -> None:
    response = ranged(server, MULTI)
    expect_equal(response.framing, "length", "a multi-range 206 is framed by length")
    expect_equal(
        response.header("content-length"), str(len(response.body)), "Content-Length is exact"
    )


@pytest.mark.requirement("RANGE-MULTI-NO-TOP-CONTENT-RANGE")
def test_multipart_has_no_top_level_content_range(server: Server) -> None:
    response = ranged(server, MULTI)
    partial_only(response, SMALL, MULTI)
    expect_equal(response.header("content-range"), None, "Content-Range in the header section")


@pytest.mark.requirement("RANGE-MULTI-BOUNDARY-NOT-IN-DATA")
def test_boundary_not_in_data(server: Server) -> None:
    response = ranged(server, "bytes=0-499,600-")
    partial_only(response, SMALL, "bytes=0-499,600-")
    boundary = media_type(response.header("content-type"))[1].get("boundary", "").encode()
    for first, last, chunk in multipart(response, SMALL, "bytes=0-499,600-"):
        expect_true(
            b"--" + boundary not in chunk,
            "the boundary does not occur in the encapsulated data (RFC 2046 §5.1.1)",
            f"no {boundary!r} in part {first}-{last}",
            "found",
        )


@pytest.mark.requirement("RANGE-MULTI-ORDER")
def test_parts_in_request_order(server: Server) -> None:
    spec = "bytes=500-509,0-9,200-209"
    parts = multipart(ranged(server, spec), SMALL, spec)
    expect_equal(
        [(first, last) for first, last, _ in parts],
        [(500, 509), (0, 9), (200, 209)],
        "parts in the order of the Range header (RFC 9110 §14.6)",
    )


@pytest.mark.requirement("RANGE-COALESCE-OVERLAP")
def test_overlapping_ranges_coalesced(server: Server) -> None:
    spec = "bytes=0-99,50-149,500-509"
    response = ranged(server, spec)
    expect_equal(response.status, 206, f"{spec}: status")
    expect_union(decode_parts(response, file_bytes(SMALL)), [(0, 150), (500, 510)], spec)


@pytest.mark.requirement("RANGE-COALESCE-ADJACENT")
def test_adjacent_ranges(server: Server) -> None:
    spec = "bytes=0-9,10-19"
    response = ranged(server, spec)
    expect_equal(response.status, 206, f"{spec}: status")
    expect_union(decode_parts(response, file_bytes(SMALL)), [(0, 20)], spec)


@pytest.mark.requirement("RANGE-PARTIAL-UNSATISFIABLE")
def test_unsatisfiable_range_among_others(server: Server) -> None:
    spec = "bytes=0-9,5000-6000"
    response = ranged(server, spec)
    expect_equal(response.status, 206, f"{spec}: status")
    parts = decode_parts(response, file_bytes(SMALL))
    expect_equal([(f, last) for f, last, _ in parts], [(0, 9)], f"{spec}: only the satisfiable")


@pytest.mark.requirement("RANGE-LIST-OWS")
def test_whitespace_around_commas(server: Server) -> None:
    spec = "bytes=0-9 , \t20-29"
    parts = multipart(ranged(server, spec), SMALL, repr(spec))
    expect_equal([(f, last) for f, last, _ in parts], [(0, 9), (20, 29)], "parts")


@pytest.mark.requirement("RANGE-LIST-EMPTY-ELEMENTS")
def test_empty_list_elements(server: Server) -> None:
    spec = "bytes=0-9,,20-29,"
    parts = multipart(ranged(server, spec), SMALL, repr(spec))
    expect_equal([(f, last) for f, last, _ in parts], [(0, 9), (20, 29)], "parts")


# -- abuse -----------------------------------------------------------------------------------------


@pytest.mark.requirement("RANGE-ABUSE-MANY")
def test_many_small_ranges(server: Server) -> None:
    spec = "bytes=" + ",".join(f"{2 * i}-{2 * i}" for i in range(200))
    expect_no_amplification(ranged(server, spec), "200 one-byte ranges")


@pytest.mark.requirement("RANGE-ABUSE-OVERLAP")
def test_many_overlapping_ranges(server: Server) -> None:
    spec = "bytes=" + ",".join(["0-999"] * 20 + ["-1000"] * 20)
    expect_no_amplification(ranged(server, spec), "40 whole-file ranges")


@pytest.mark.requirement("RANGE-ABUSE-UNORDERED")
def test_many_descending_ranges(server: Server) -> None:
    spec = "bytes=" + ",".join(f"{i}-{i + 1}" for i in range(990, 0, -10))
    expect_no_amplification(ranged(server, spec), "99 small ranges in descending order")


# -- unsatisfiable ---------------------------------------------------------------------------------


@pytest.mark.requirement("RANGE-UNSATISFIABLE-416", "RANGE-416-CONTENT-RANGE")
def test_first_pos_at_size(server: Server) -> None:
    expect_416(ranged(server, "bytes=1000-1005"), SIZE, "bytes=1000-1005")


@pytest.mark.requirement("RANGE-SUFFIX-ZERO")
def test_suffix_zero(server: Server) -> None:
    expect_416(ranged(server, "bytes=-0"), SIZE, "bytes=-0")


@pytest.mark.requirement("RANGE-ALL-UNSATISFIABLE")
def test_all_ranges_unsatisfiable(server: Server) -> None:
    expect_416(ranged(server, "bytes=1000-,2000-2001,-0"), SIZE, "bytes=1000-,2000-2001,-0")


@pytest.mark.requirement("RANGE-EMPTY-FILE-416")
def test_empty_file_int_range(server: Server) -> None:
    expect_416(ranged(server, "bytes=0-0", "empty.txt"), 0, "empty file, bytes=0-0")
    expect_416(ranged(server, "bytes=1-", "one.txt"), 1, "one-byte file, bytes=1-")


@pytest.mark.requirement("RANGE-EMPTY-FILE-SUFFIX")
def test_empty_file_suffix(server: Server) -> None:
    response = ranged(server, "bytes=-5", "empty.txt")
    expect_full(response, "empty.txt", "empty file, bytes=-5 (satisfiable, selects nothing)")


# -- ignored Range headers -------------------------------------------------------------------------


@pytest.mark.requirement("RANGE-UNKNOWN-UNIT")
def test_unknown_unit_ignored(server: Server) -> None:
    expect_full(ranged(server, "items=0-1"), SMALL, "Range: items=0-1")


def expect_ignored_or_rejected(server: Server, spec: str) -> None:
    """RFC 9110 §14.2: "A server MAY ignore or reject a Range header field that contains an
    invalid ranges-specifier": the whole file (200), or 400 (upstream's
    MalformedRangeHeader) without any part of it."""
    response = ranged(server, spec)
    if response.status == 400:
        expect_equal(
            response.header("content-range"), None, f"Range: {spec!r} rejected: Content-Range"
        )
        return
    expect_full(response, SMALL, f"Range: {spec!r} (ignored, or else rejected with 400)")


@pytest.mark.requirement("RANGE-INVALID-NOT-NUMBERS")
def test_non_numeric_positions_ignored(server: Server) -> None:
    for spec in ("bytes=a-b", "bytes=0x1-5", "bytes=1.5-3"):
        expect_ignored_or_rejected(server, spec)


@pytest.mark.requirement("RANGE-INVALID-REVERSED")
def test_reversed_range_ignored(server: Server) -> None:
    expect_ignored_or_rejected(server, "bytes=5-2")


@pytest.mark.requirement("RANGE-INVALID-EMPTY-SET")
def test_empty_range_set_ignored(server: Server) -> None:
    for spec in ("bytes=", "bytes=-", "bytes=,"):
        expect_ignored_or_rejected(server, spec)


@pytest.mark.requirement("RANGE-INVALID-NO-EQUALS")
def test_missing_equals_ignored(server: Server) -> None:
    for spec in ("bytes 0-1", "bytes", "0-1"):
        expect_ignored_or_rejected(server, spec)


@pytest.mark.requirement("RANGE-INVALID-ONE-SPEC")
def test_one_invalid_spec_ignores_the_header(server: Server) -> None:
    expect_ignored_or_rejected(server, "bytes=0-9,x-y")


@pytest.mark.requirement("RANGE-HEAD-IGNORED")
def test_head_with_range(server: Server) -> None:
    response = fetch(server, SMALL, [("Range", "bytes=0-9")], method="HEAD")
    expect_equal(response.status, 200, "HEAD with Range: status (range only defined for GET)")
    expect_equal(response.header("content-length"), str(SIZE), "HEAD Content-Length")
    expect_equal(response.header("content-range"), None, "HEAD Content-Range")
    expect_equal(response.body, b"", "HEAD body")


# -- If-Range --------------------------------------------------------------------------------------


def etag_of(server: Server) -> str:
    etag = fetch(server, SMALL).header("etag")
    expect_true(etag is not None, "an ETag to use in If-Range", "a value", "none")
    assert etag is not None
    return etag


def if_range(server: Server, validator: str, spec: str = "bytes=10-19") -> RawResponse:
    return fetch(server, SMALL, [("Range", spec), ("If-Range", validator)])


@pytest.mark.requirement("RANGE-IF-RANGE-ETAG-MATCH")
def test_if_range_matching_etag(server: Server) -> None:
    expect_single(if_range(server, etag_of(server)), SMALL, 10, 19, "If-Range: <the ETag>")


@pytest.mark.requirement("RANGE-IF-RANGE-ETAG-MISMATCH")
def test_if_range_other_etag(server: Server) -> None:
    etag = etag_of(server)
    other = '"' + etag.strip('"') + 'x"'
    expect_full(if_range(server, other), SMALL, f"If-Range: {other}")


@pytest.mark.requirement("RANGE-IF-RANGE-WEAK")
def test_if_range_weak_etag(server: Server) -> None:
    weak = "W/" + etag_of(server)
    expect_full(if_range(server, weak), SMALL, f"If-Range: {weak}")


@pytest.mark.requirement("RANGE-IF-RANGE-DATE-MATCH")
def test_if_range_exact_date(server: Server) -> None:
    expect_single(if_range(server, LAST_MODIFIED), SMALL, 10, 19, "If-Range: <Last-Modified>")


@pytest.mark.requirement("RANGE-IF-RANGE-DATE-MISMATCH")
def test_if_range_other_date(server: Server) -> None:
    for date in ("Thu, 04 Mar 2021 05:06:08 GMT", "Thu, 04 Mar 2021 05:06:06 GMT"):
        expect_full(if_range(server, date), SMALL, f"If-Range: {date}")


@pytest.mark.requirement("RANGE-IF-RANGE-INVALID")
def test_if_range_garbage(server: Server) -> None:
    expect_full(if_range(server, "not a validator"), SMALL, "If-Range: not a validator")


@pytest.mark.requirement("RANGE-IF-RANGE-WITHOUT-RANGE")
def test_if_range_without_range(server: Server) -> None:
    response = fetch(server, SMALL, [("If-Range", "Thu, 01 Jan 1970 00:00:00 GMT")])
    expect_full(response, SMALL, "If-Range without Range")


# -- any Range header against an oracle ------------------------------------------------------------

GARBAGE = ["a-b", "5-2", "-", "", "1-2-3", "--1", "+1-2"]


def oracle(specs: list[str], size: int) -> tuple[str, list[tuple[int, int]], bool]:
    """What RFC 9110 §14 and API.md make of ``bytes=<specs joined by ','>``.

    :returns: ``("full" | "416" | "206", wanted half-open ranges, whether a full 200 is
        also acceptable)``; the last is true for sets a server MAY ignore (§14.2: overlapping
        ranges) or that select zero bytes.
    """
    wanted: list[tuple[int, int]] = []
    empty_selection = False
    seen = 0
    for spec in specs:
        spec = spec.strip(" \t")
        if not spec:
            continue  # RFC 9110 §5.6.1.2: empty list elements are ignored
        seen += 1
        int_range, suffix = _INT_RANGE.fullmatch(spec), _SUFFIX.fullmatch(spec)
        if int_range is not None:
            first = int(int_range.group(1))
            last = int(int_range.group(2)) if int_range.group(2) else None
            if last is not None and last < first:
                return "full", [], False
            if first < size:
                wanted.append((first, size if last is None else min(last + 1, size)))
        elif suffix is not None:
            length = int(suffix.group(1))
            if length and size:
                wanted.append((max(size - length, 0), size))
            elif length:
                empty_selection = True
        else:
            return "full", [], False
    if not seen:
        return "full", [], False
    if not wanted:
        return ("full", [], False) if empty_selection else ("416", [], False)
    overlapping = sum(stop - start for start, stop in wanted) > sum(
        stop - start for start, stop in coalesce(wanted)
    )
    return "206", wanted, overlapping


def spec_strategy(size: int) -> st.SearchStrategy[str]:
    position = st.integers(0, size + 5)
    return st.one_of(
        st.builds(lambda a, b: f"{a}-{a + b}", position, st.integers(0, size)),
        st.builds(lambda a: f"{a}-", position),
        st.builds(lambda n: f"-{n}", position),
        st.sampled_from(GARBAGE),
    )


@pytest.mark.requirement("RANGE-ORACLE")
@BOUNDED
@given(data=st.data())
def test_any_range_set_against_the_file(
    server: Server, budget: Budget, data: st.DataObject
) -> None:
    budget.check()
    name = data.draw(st.sampled_from([SMALL, "one.txt", "empty.txt"]), label="file")
    size = SIZES[name]
    specs = data.draw(st.lists(spec_strategy(size), min_size=1, max_size=5), label="specs")
    separator = data.draw(st.sampled_from([",", ", "]), label="separator")
    header = "bytes=" + separator.join(specs)
    verdict, wanted, may_ignore = oracle(specs, size)
    response = ranged(server, header, name)
    what = f"{name} Range: {header!r}"
    if verdict == "full" or (may_ignore and response.status == 200):
        expect_full(response, name, what)
    elif verdict == "416":
        expect_416(response, size, what)
    else:
        expect_equal(response.status, 206, f"{what}: status")
        parts = decode_parts(response, file_bytes(name))
        expect_union(parts, wanted, what, overlapping=may_ignore)
        if len([s for s in specs if s.strip()]) == 1:
            expect_true(
                response.header("content-range") is not None,
                f"{what}: one range gets a single-part 206 (RFC 9110 §15.3.7.2 MUST NOT)",
                "a Content-Range field, not multipart",
                repr(response.header("content-type")),
            )
