"""Validators and conditional requests (RFC 9110 §8.8, §13): HTTP-dates, entity tags, preconditions.

Shared by :mod:`baize.responses` and :mod:`baize.ranges` (``Last-Modified``, ``If-Range``),
:mod:`baize.staticfiles` (``If-Match`` and friends) and cookies (``Expires``). Pure functions.
"""

from __future__ import annotations

import enum
import re
import time
from calendar import timegm
from datetime import datetime
from email.utils import formatdate
from functools import lru_cache
from typing import NamedTuple


@lru_cache(maxsize=1024)  # a file's mtime repeats on every answer for it
def format_http_date(timestamp: float) -> str:
    """The IMF-fixdate of a POSIX timestamp: ``Tue, 15 Nov 1994 08:12:31 GMT`` (RFC 9110 §5.6.7)."""
    return formatdate(timestamp, usegmt=True)


# --- HTTP-date (RFC 9110 §5.6.7) -------------------------------------------

_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
        start=1,
    )
}
_DAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_DAY_L = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_MONTH = r"(?P<month>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
# time-of-day = hour ":" minute ":" second
_TIME = r"(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})"
# IMF-fixdate = day-name "," SP date1 SP time-of-day SP GMT
# date1 = day SP month SP year            ; e.g., 02 Jun 1982
_IMF_FIXDATE = re.compile(rf"{_DAY}, (?P<day>[0-9]{{2}}) {_MONTH} (?P<year>[0-9]{{4}}) {_TIME} GMT")
# rfc850-date = day-name-l "," SP date2 SP time-of-day SP GMT
# date2 = day "-" month "-" 2DIGIT        ; e.g., 02-Jun-82
_RFC850_DATE = re.compile(
    rf"{_DAY_L}, (?P<day>[0-9]{{2}})-{_MONTH}-(?P<year>[0-9]{{2}}) {_TIME} GMT"
)
# asctime-date = day-name SP date3 SP time-of-day SP year
# date3 = month SP ( 2DIGIT / ( SP DIGIT ) )  ; e.g., Jun  2
_ASCTIME_DATE = re.compile(
    rf"{_DAY} {_MONTH} (?P<day>[0-9]{{2}}| [0-9]) {_TIME} (?P<year>[0-9]{{4}})"
)


def parse_http_date(value: str, *, now: int | None = None) -> int | None:
    """Parse an HTTP-date into a POSIX timestamp, or None when it is not one.

    Accepts the three formats RFC 9110 §5.6.7 requires recipients to accept,
    case-sensitively. A two-digit rfc850 year more than 50 years in the future
    is taken as the most recent past year with those digits. Leading and
    trailing whitespace is ignored; a list of dates is not a date.

    :param now: the current timestamp, for the two-digit year rule (tests).
    """
    value = value.strip(" \t")
    match = _IMF_FIXDATE.fullmatch(value) or _ASCTIME_DATE.fullmatch(value)
    two_digit_year = False
    if match is None:
        match = _RFC850_DATE.fullmatch(value)
        two_digit_year = match is not None
    if match is None:
        return None
    year = int(match["year"])
    if two_digit_year:
        current = time.gmtime(now).tm_year
        year += current - current % 100
        if year > current + 50:
            year -= 100
    # A leap second (60) is allowed by the grammar; clamp it to a valid instant.
    second = min(int(match["second"]), 59)
    try:
        moment = datetime(
            year,
            _MONTHS[match["month"]],
            int(match["day"]),
            int(match["hour"]),
            int(match["minute"]),
            second,
        )
    except ValueError:  # 31 Feb, hour 25, ...
        return None
    return timegm(moment.timetuple())


# --- entity tags (RFC 9110 §8.8.3) -----------------------------------------

# entity-tag = [ weak ] opaque-tag ; weak = %s"W/" ; opaque-tag = DQUOTE *etagc DQUOTE
# etagc = %x21 / %x23-7E / obs-text
_ENTITY_TAG = re.compile(r'(W/)?"[\x21\x23-\x7e\x80-\xff]*"')


class EntityTag(NamedTuple):
    """One entity tag: its opaque tag (with quotes) and whether it is weak."""

    opaque: str
    weak: bool


def parse_entity_tag(value: str) -> EntityTag | None:
    """Parse one entity tag such as ``W/"xyz"``; None when it is malformed."""
    match = _ENTITY_TAG.fullmatch(value.strip(" \t"))
    if match is None:
        return None
    return EntityTag(match[0][2:] if match[1] else match[0], bool(match[1]))


def parse_entity_tag_list(value: str) -> list[EntityTag] | None:
    """Parse ``"*" / #entity-tag`` (the value of If-Match or If-None-Match).

    :return: None for ``*``; otherwise the well-formed tags in order. An
        opaque tag may contain commas, so the list is scanned, not split;
        malformed members are skipped up to the next comma.
    """
    if value.strip(" \t") == "*":
        return None
    tags: list[EntityTag] = []
    position, end = 0, len(value)
    while position < end:
        if value[position] in " \t,":
            position += 1
            continue
        match = _ENTITY_TAG.match(value, position)
        if match is not None:
            tags.append(EntityTag(match[0][2:] if match[1] else match[0], bool(match[1])))
            position = match.end()
        else:
            comma = value.find(",", position)
            position = end if comma < 0 else comma + 1
    return tags


def strong_match(a: EntityTag, b: EntityTag) -> bool:
    """RFC 9110 §8.8.3.2: both strong and their opaque tags identical."""
    return not a.weak and not b.weak and a.opaque == b.opaque


def weak_match(a: EntityTag, b: EntityTag) -> bool:
    """RFC 9110 §8.8.3.2: opaque tags identical, weakness ignored."""
    return a.opaque == b.opaque


# --- preconditions (RFC 9110 §13.2.2) --------------------------------------


class Precondition(enum.Enum):
    """The outcome of evaluating a request's preconditions."""

    #: Perform the method (then If-Range, for ranges).
    PROCEED = 200
    #: Respond 304 Not Modified (GET and HEAD only).
    NOT_MODIFIED = 304
    #: Respond 412 Precondition Failed.
    FAILED = 412


class Conditionals(NamedTuple):
    """The raw values of the precondition header fields of a request (None: absent)."""

    if_match: str | None = None
    if_none_match: str | None = None
    if_modified_since: str | None = None
    if_unmodified_since: str | None = None


def evaluate_preconditions(
    method: str, conditionals: Conditionals, etag: str, last_modified: int
) -> Precondition:
    """Evaluate preconditions against an existing representation.

    RFC 9110 §13.2.2 order: If-Match, else If-Unmodified-Since (false -> 412);
    then If-None-Match (false -> 304 for GET/HEAD, else 412), else
    If-Modified-Since for GET/HEAD (false -> 304). If-Match uses the strong
    comparison, If-None-Match the weak one. Invalid dates are ignored.

    :param etag: the representation's entity tag as sent (``"..."`` or ``W/"..."``).
    :param last_modified: its modification time in whole seconds, as sent in
        ``Last-Modified``.
    """
    current = parse_entity_tag(etag)
    safe = method in ("GET", "HEAD")
    if conditionals.if_match is not None:
        tags = parse_entity_tag_list(conditionals.if_match)
        if tags is not None and not (
            current is not None and any(strong_match(tag, current) for tag in tags)
        ):
            return Precondition.FAILED
    elif conditionals.if_unmodified_since is not None:
        date = parse_http_date(conditionals.if_unmodified_since)
        if date is not None and last_modified > date:
            return Precondition.FAILED
    if conditionals.if_none_match is not None:
        tags = parse_entity_tag_list(conditionals.if_none_match)
        matched = tags is None or (
            current is not None and any(weak_match(tag, current) for tag in tags)
        )
        if matched:
            return Precondition.NOT_MODIFIED if safe else Precondition.FAILED
    elif safe and conditionals.if_modified_since is not None:
        date = parse_http_date(conditionals.if_modified_since)
        if date is not None and last_modified <= date:
            return Precondition.NOT_MODIFIED
    return Precondition.PROCEED


__all__ = [
    "Conditionals",
    "EntityTag",
    "Precondition",
    "evaluate_preconditions",
    "format_http_date",
    "parse_entity_tag",
    "parse_entity_tag_list",
    "parse_http_date",
    "strong_match",
    "weak_match",
]
