"""A strict ``multipart/byteranges`` parser (RFC 9110 §14.6, RFC 2046 §5.1).

Used by the range cases to check a 206 response byte for byte. Every
deviation from the grammar raises :class:`ByterangesError` with the offset and
the rule it breaks; nothing is repaired.

RFC 2046 §5.1.1, the grammar this module follows::

    multipart-body := [preamble CRLF] dash-boundary transport-padding CRLF
                      body-part *encapsulation close-delimiter
                      transport-padding [CRLF epilogue]
    encapsulation := delimiter transport-padding CRLF body-part
    delimiter := CRLF dash-boundary
    close-delimiter := delimiter "--"
    dash-boundary := "--" boundary
    transport-padding := *LWSP-char
    body-part := MIME-part-headers [CRLF *OCTET]

RFC 9110 §14.4::

    Content-Range = range-unit SP ( range-resp / unsatisfied-range )
    range-resp = incl-range "/" ( complete-length / "*" )
    incl-range = first-pos "-" last-pos
    unsatisfied-range = "*/" complete-length
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "ByterangesError",
    "ContentRangeError",
    "Part",
    "check_against_file",
    "parse_byteranges",
    "parse_content_range",
]

# token = 1*tchar (RFC 9110 §5.6.2)
_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
# quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE
_QUOTED = r'"(?:[^"\\\x00-\x08\x0a-\x1f\x7f]|\\[\t\x20-\x7e\x80-\xff])*"'
_PARAM = re.compile(rf"[ \t]*;[ \t]*({_TOKEN})=({_TOKEN}|{_QUOTED})")
_MEDIA_TYPE = re.compile(rf"({_TOKEN})/({_TOKEN})")
# bchars := bcharsnospace / " "  (RFC 2046 §5.1.1); boundary := 0*69<bchars> bcharsnospace
_BOUNDARY = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")
# first-pos / last-pos / complete-length = 1*DIGIT
_RANGE_RESP = re.compile(r"([0-9]+)-([0-9]+)/([0-9]+|\*)")
_UNSATISFIED = re.compile(r"\*/([0-9]+)")
_FIELD_LINE = re.compile(rb"(" + _TOKEN.encode() + rb"):[ \t]*(.*?)[ \t]*")
_LWSP = b" \t"


class ByterangesError(ValueError):
    """Raised by :func:`parse_byteranges` and :func:`check_against_file` when a
    body breaks RFC 9110 §14.6 or RFC 2046 §5.1; the message names the rule."""


class ContentRangeError(ByterangesError):
    """Raised by :func:`parse_content_range` for a value outside RFC 9110 §14.4."""


ContentRange = tuple[int, int, int | Literal["*"]] | tuple[Literal["*"], int]


@dataclass(frozen=True, slots=True)
class Part:
    """One body part of a ``multipart/byteranges`` body.

    :param content_type: the part's Content-Type value, or None when absent.
    :param content_range: ``(first, last, complete_length)`` from Content-Range;
        complete_length is -1 for ``*`` (only accepted when no total length is given).
    :param headers: every part header in order, names as sent, values stripped.
    :param data: the part's octets.
    """

    content_type: str | None
    content_range: tuple[int, int, int]
    headers: list[tuple[str, str]]
    data: bytes


def parse_content_range(value: str) -> ContentRange:
    """Parse a Content-Range value strictly (RFC 9110 §14.4), bytes unit only.

    ``"bytes 0-4/10"`` gives ``(0, 4, 10)``, ``"bytes 0-4/*"`` gives
    ``(0, 4, "*")`` and ``"bytes */10"`` gives ``("*", 10)``.

    :raises ContentRangeError: on any deviation, including last < first and
        complete-length <= last-pos (both invalid per §14.4).
    """
    unit, sep, rest = value.partition(" ")
    if not sep:
        raise ContentRangeError(f"Content-Range {value!r}: expected range-unit SP ...")
    if not re.fullmatch(_TOKEN, unit):
        raise ContentRangeError(f"Content-Range {value!r}: range-unit {unit!r} is not a token")
    if unit.lower() != "bytes":
        raise ContentRangeError(f"Content-Range {value!r}: unit {unit!r} is not 'bytes'")
    unsatisfied = _UNSATISFIED.fullmatch(rest)
    if unsatisfied is not None:
        return ("*", int(unsatisfied.group(1)))
    match = _RANGE_RESP.fullmatch(rest)
    if match is None:
        raise ContentRangeError(
            f"Content-Range {value!r}: expected 'first-last/complete', 'first-last/*' "
            "or '*/complete' after the unit (RFC 9110 §14.4)"
        )
    first, last = int(match.group(1)), int(match.group(2))
    if last < first:
        raise ContentRangeError(f"Content-Range {value!r}: last-pos {last} < first-pos {first}")
    if match.group(3) == "*":
        return (first, last, "*")
    complete = int(match.group(3))
    if complete <= last:
        raise ContentRangeError(
            f"Content-Range {value!r}: complete-length {complete} <= last-pos {last}"
        )
    return (first, last, complete)


def _boundary_from(content_type_header: str) -> str:
    match = _MEDIA_TYPE.match(content_type_header.strip(" \t"))
    if match is None:
        raise ByterangesError(f"Content-Type {content_type_header!r} is not type/subtype")
    media = f"{match.group(1)}/{match.group(2)}".lower()
    if media != "multipart/byteranges":
        raise ByterangesError(f"Content-Type is {media!r}, expected 'multipart/byteranges'")
    rest = content_type_header.strip(" \t")[match.end() :]
    boundary: str | None = None
    position = 0
    while position < len(rest):
        param = _PARAM.match(rest, position)
        if param is None:
            raise ByterangesError(
                f"Content-Type {content_type_header!r}: bad parameter syntax at {rest[position:]!r}"
            )
        name, raw = param.group(1), param.group(2)
        if raw.startswith('"'):
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        if name.lower() == "boundary":
            if boundary is not None:
                raise ByterangesError("Content-Type has more than one boundary parameter")
            boundary = raw
        position = param.end()
    if boundary is None:
        raise ByterangesError(
            f"Content-Type {content_type_header!r} has no boundary parameter (RFC 2046 §5.1.1)"
        )
    if not _BOUNDARY.fullmatch(boundary):
        raise ByterangesError(
            f"boundary {boundary!r} is not 1 to 70 bchars ending in a non-space (RFC 2046 §5.1.1)"
        )
    return boundary


def _expect_crlf(body: bytes, at: int, what: str) -> int:
    """Return the offset after a CRLF at ``at``; raise naming ``what`` otherwise."""
    if body.startswith(b"\r\n", at):
        return at + 2
    if body.startswith(b"\n", at):
        raise ByterangesError(f"bare LF at offset {at} {what}; RFC 2046 §5.1.1 requires CRLF")
    raise ByterangesError(f"expected CRLF at offset {at} {what}, found {body[at : at + 16]!r}")


def _skip_padding(body: bytes, at: int) -> int:
    while at < len(body) and body[at] in _LWSP:
        at += 1
    return at


def _parse_part_headers(body: bytes, at: int, index: int) -> tuple[list[tuple[str, str]], int]:
    headers: list[tuple[str, str]] = []
    while True:
        end = body.find(b"\n", at)
        if end == -1:
            raise ByterangesError(f"part {index}: headers not terminated by an empty line")
        if end == at or body[end - 1] != 0x0D:
            raise ByterangesError(
                f"part {index}: bare LF at offset {end} in the part headers; "
                "RFC 2046 §5.1.1 requires CRLF"
            )
        line = body[at : end - 1]
        at = end + 1
        if not line:
            return headers, at
        field = _FIELD_LINE.fullmatch(line)
        if field is None:
            raise ByterangesError(f"part {index}: malformed header line {line!r}")
        headers.append((field.group(1).decode("ascii"), field.group(2).decode("latin-1")))


def _header(headers: list[tuple[str, str]], name: str, index: int) -> str | None:
    values = [value for key, value in headers if key.lower() == name]
    if len(values) > 1:
        raise ByterangesError(f"part {index}: {len(values)} {name} fields")
    return values[0] if values else None


def parse_byteranges(
    body: bytes, content_type_header: str, *, total_length: int | None
) -> list[Part]:
    """Parse a ``multipart/byteranges`` body, strictly.

    :param body: the whole response body.
    :param content_type_header: the response's Content-Type value.
    :param total_length: the representation's length, checked against every
        part's complete-length; None to only check that they agree.
    :raises ByterangesError: naming the first deviation and its offset.
    """
    boundary = _boundary_from(content_type_header).encode("latin-1")
    dash_boundary = b"--" + boundary
    delimiter = b"\r\n" + dash_boundary
    if body.startswith(dash_boundary):
        at = len(dash_boundary)
    else:
        found = body.find(delimiter)
        if found == -1:
            if body.find(b"\n" + dash_boundary) != -1:
                raise ByterangesError(
                    "first boundary is preceded by a bare LF; RFC 2046 §5.1.1 requires CRLF"
                )
            raise ByterangesError(f"no dash-boundary {dash_boundary!r} in the body")
        at = found + len(delimiter)
    at = _expect_crlf(body, _skip_padding(body, at), "after the first dash-boundary")
    parts: list[Part] = []
    complete_lengths: set[int] = set()
    while True:
        index = len(parts) + 1
        headers, data_start = _parse_part_headers(body, at, index)
        raw_range = _header(headers, "content-range", index)
        if raw_range is None:
            raise ByterangesError(f"part {index} has no Content-Range (RFC 9110 §14.6)")
        try:
            parsed = parse_content_range(raw_range)
        except ContentRangeError as exc:
            raise ByterangesError(f"part {index}: {exc}") from None
        if parsed[0] == "*":
            raise ByterangesError(f"part {index}: unsatisfied-range {raw_range!r} in a part")
        first, last, complete = parsed
        if complete == "*":
            if total_length is not None:
                raise ByterangesError(f"part {index}: complete-length '*', expected {total_length}")
        elif total_length is not None and complete != total_length:
            raise ByterangesError(
                f"part {index}: complete-length {complete} does not match the "
                f"representation length {total_length}"
            )
        expected_end = data_start + (last - first + 1)
        if body.startswith(delimiter, expected_end):
            data_end = expected_end
        else:
            data_end = body.find(delimiter, data_start)
            if data_end == -1:
                bare = body.find(b"\n" + dash_boundary, data_start)
                if bare != -1:
                    raise ByterangesError(
                        f"part {index}: delimiter at offset {bare} is preceded by a bare LF; "
                        "RFC 2046 §5.1.1 requires CRLF"
                    )
                raise ByterangesError(
                    f"part {index}: no delimiter {delimiter!r} after its data "
                    "(missing close delimiter?)"
                )
            raise ByterangesError(
                f"part {index}: Content-Range {raw_range!r} announces {last - first + 1} bytes "
                f"but the part holds {data_end - data_start}"
            )
        if complete != "*":
            complete_lengths.add(complete)
        parts.append(
            Part(
                content_type=_header(headers, "content-type", index),
                content_range=(first, last, complete if complete != "*" else -1),
                headers=headers,
                data=body[data_start:data_end],
            )
        )
        at = data_end + len(delimiter)
        if body.startswith(b"--", at):
            break
        if _skip_padding(body, at) >= len(body) - (1 if body.endswith(b"\r") else 0):
            raise ByterangesError(
                f"body ends after the delimiter of part {index}: missing close delimiter "
                f"{delimiter + b'--'!r}"
            )
        at = _expect_crlf(body, _skip_padding(body, at), f"after the delimiter of part {index}")
        if at == len(body):
            raise ByterangesError(
                f"body ends after part {index}: missing close delimiter {delimiter + b'--'!r}"
            )
    if len(complete_lengths) > 1:
        raise ByterangesError(f"parts disagree on the complete-length: {sorted(complete_lengths)}")
    at = _skip_padding(body, at + 2)
    if at < len(body):
        _expect_crlf(body, at, "after the close-delimiter")
    return parts


def check_against_file(parts: Sequence[Part], file_bytes: bytes) -> None:
    """Check that every part's data is the file's bytes in its Content-Range.

    :raises ByterangesError: naming the part and the first differing offset.
    """
    for index, part in enumerate(parts, start=1):
        first, last, complete = part.content_range
        if complete not in (-1, len(file_bytes)):
            raise ByterangesError(
                f"part {index}: complete-length {complete}, file has {len(file_bytes)} bytes"
            )
        if last >= len(file_bytes):
            raise ByterangesError(
                f"part {index}: range {first}-{last} exceeds the file's {len(file_bytes)} bytes"
            )
        expected = file_bytes[first : last + 1]
        if part.data != expected:
            offset = next(
                (i for i, (a, b) in enumerate(zip(part.data, expected, strict=False)) if a != b),
                min(len(part.data), len(expected)),
            )
            raise ByterangesError(
                f"part {index} ({first}-{last}): data differs from the file at file offset "
                f"{first + offset} (got {part.data[offset : offset + 8]!r}, "
                f"expected {expected[offset : offset + 8]!r})"
            )
