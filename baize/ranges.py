"""Pure ``Range`` / ``If-Range`` handling and ``multipart/byteranges`` framing (RFC 9110 §14).

Nothing here does I/O. A range is a half-open ``(start, stop)`` pair of byte offsets
(``stop`` excluded), already clipped to the representation's size.

Choices where RFC 9110 leaves room (§14.2: a server MAY ignore a ``Range`` header):

- a header that does not parse, or whose unit is not ``bytes``, is ignored (full 200);
- overlapping or adjacent ranges are coalesced; the parts keep the order in which
  their first range appeared in the header (§14.6 SHOULD);
- an abusive set is ignored (full 200), never answered with an amplified body: more than
  :data:`MAX_RANGES` ranges after coalescing, or requested ranges whose lengths add up to
  more than the representation (heavy overlap);
- a satisfiable suffix range on an empty representation selects zero bytes, which a
  ``Content-Range`` cannot express, so it is ignored too (full, empty 200).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from baize._validators import parse_entity_tag, parse_http_date, strong_match
from baize.exceptions import MalformedRangeHeader, RangeNotSatisfiable

#: More ranges than this after coalescing and the ``Range`` header is ignored.
MAX_RANGES = 16

# range-unit = token                                      (RFC 9110 §14.1)
# ranges-specifier = range-unit "=" range-set
_SPECIFIER = re.compile(r"([!#$%&'*+.^_`|~0-9A-Za-z-]+)=(.*)", re.DOTALL)
# int-range = first-pos "-" [ last-pos ]  /  suffix-range = "-" suffix-length
_SPEC = re.compile(r"([0-9]*)-([0-9]*)")
# Longer digit strings are refused rather than handed to int() (CPython's 4300-digit limit).
_MAX_DIGITS = 1000


class ExcessiveRanges(MalformedRangeHeader):
    """400 hint, but callers ignore it: too many ranges or heavy overlap (RFC 9110 §14.2)."""

    def __init__(self, message: str = "Too many or overlapping ranges.") -> None:
        super().__init__(message)


class EmptySelection(MalformedRangeHeader):
    """A satisfiable suffix range on an empty representation: nothing ``Content-Range`` can name."""

    def __init__(self, message: str = "Range selects zero bytes.") -> None:
        super().__init__(message)


def _position(digits: str) -> int:
    if len(digits) > _MAX_DIGITS:
        raise MalformedRangeHeader("Range position too long.")
    return int(digits)


def parse_range_header(
    value: str, size: int, *, max_ranges: int = MAX_RANGES
) -> list[tuple[int, int]]:
    """Parse a ``Range`` field value against a representation of ``size`` bytes.

    ``parse_range_header("bytes=0-1, -2", 10)`` returns ``[(0, 2), (8, 10)]``.

    :param value: the ``Range`` field value.
    :param size: the length of the selected representation.
    :param max_ranges: the most ranges (after coalescing) that are honoured.
    :returns: the coalesced, satisfiable ranges, in the order the header asked for them.
    :raises MalformedRangeHeader: the header must be ignored: bad syntax, unknown unit
        (and :class:`ExcessiveRanges`, :class:`EmptySelection` for the choices above).
    :raises RangeNotSatisfiable: no range overlaps the representation (416).
    """
    match = _SPECIFIER.fullmatch(value.strip(" \t"))
    if match is None or match.group(1).lower() != "bytes":
        raise MalformedRangeHeader("Unsupported range unit or malformed Range header.")
    requested: list[tuple[int, int]] = []
    satisfiable_empty = False
    any_spec = False
    for element in match.group(2).split(","):
        element = element.strip(" \t")
        if not element:  # RFC 9110 §5.6.1: empty list elements are ignored
            continue
        spec = _SPEC.fullmatch(element)
        if spec is None:
            raise MalformedRangeHeader(f"Malformed range {element!r}.")
        first, last = spec.groups()
        any_spec = True
        if first:
            start = _position(first)
            if last and _position(last) < start:
                raise MalformedRangeHeader(f"Range {element!r} ends before it starts.")
            stop = min(_position(last) + 1, size) if last else size
            if start < size:
                requested.append((start, stop))
        elif last:
            length = _position(last)
            if length > 0:
                if size == 0:
                    satisfiable_empty = True
                else:
                    requested.append((max(size - length, 0), size))
        else:
            raise MalformedRangeHeader("A range needs a first position or a suffix length.")
    if not any_spec:
        raise MalformedRangeHeader("Empty range set.")
    if not requested:
        if satisfiable_empty:
            raise EmptySelection()
        raise RangeNotSatisfiable(size)
    if sum(stop - start for start, stop in requested) > size:
        raise ExcessiveRanges()
    ranges = coalesce(requested)
    if len(ranges) > max_ranges:
        raise ExcessiveRanges()
    return ranges


def coalesce(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Merge overlapping or adjacent ranges; each result keeps the earliest position of its parts.

    ``coalesce([(5, 8), (0, 2), (2, 4)])`` returns ``[(5, 8), (0, 4)]``.
    """
    ordered = sorted((start, stop, index) for index, (start, stop) in enumerate(ranges))
    merged: list[list[int]] = []
    for start, stop, index in ordered:
        if merged and start <= merged[-1][1]:
            last = merged[-1]
            last[1] = max(last[1], stop)
            last[2] = min(last[2], index)
        else:
            merged.append([start, stop, index])
    merged.sort(key=lambda item: item[2])
    return [(start, stop) for start, stop, _ in merged]


def if_range_matches(value: str, etag: str | None, last_modified: str | None) -> bool:
    """Whether an ``If-Range`` validator lets the ranges be honoured (RFC 9110 §13.1.5).

    An entity tag matches only by strong comparison (a weak tag never matches); a date
    matches only when it is a valid HTTP-date equal to ``Last-Modified``.
    """
    value = value.strip(" \t")
    if value.startswith('"') or value.startswith("W/"):
        tag = parse_entity_tag(value)
        current = None if etag is None else parse_entity_tag(etag)
        return tag is not None and current is not None and strong_match(tag, current)
    if last_modified is None:
        return False
    date = parse_http_date(value)
    return date is not None and date == parse_http_date(last_modified)


def content_range(start: int, stop: int, size: int) -> str:
    """The ``Content-Range`` value of one range: ``bytes first-last/size``."""
    return f"bytes {start}-{stop - 1}/{size}"


def byteranges_frames(
    ranges: list[tuple[int, int]], size: int, content_type: str, boundary: str
) -> tuple[list[tuple[bytes, int, int]], bytes, int]:
    """Frame ranges as a ``multipart/byteranges`` body (RFC 9110 §14.6, CRLF line endings).

    :returns: ``(parts, closing, content_length)``: each part is ``(head, start, stop)``,
        where ``head`` (delimiter and part headers) goes before the bytes ``start:stop``;
        ``closing`` ends the body; ``content_length`` is the exact length of the body.
    """
    parts: list[tuple[bytes, int, int]] = []
    length = 0
    delimiter = f"--{boundary}\r\nContent-Type: {content_type}\r\nContent-Range: "
    for index, (start, stop) in enumerate(ranges):
        head = (
            ("\r\n" if index else "") + delimiter + content_range(start, stop, size) + "\r\n\r\n"
        ).encode("latin-1")
        parts.append((head, start, stop))
        length += len(head) + stop - start
    closing = f"\r\n--{boundary}--\r\n".encode("latin-1")
    return parts, closing, length + len(closing)


__all__ = [
    "MAX_RANGES",
    "EmptySelection",
    "ExcessiveRanges",
    "byteranges_frames",
    "coalesce",
    "content_range",
    "if_range_matches",
    "parse_range_header",
]
