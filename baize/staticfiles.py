"""Pure helpers for static files: safe path resolution and conditional requests.

Nothing here reads a file; the only I/O is ``os.stat`` and ``os.path.realpath``.

Path safety works on the ASGI ``path`` only (already percent-decoded by the
server), never on ``raw_path``: the string checked is exactly the string handed
to the file system, so ``%2e%2e`` (arriving as ``..``) is refused as a dot
segment and ``%252e`` (arriving as ``%2e``) is a literal file name that simply
does not exist. Every lookup ends with a containment check of the real path
(symlinks resolved) against the real path of the served directory.

Not covered: dotfiles (``.env``) below the directory are served like any other
file, and a writer of the served directory who swaps a component for a symlink
between the check and the open can race it; serve directories you control.

Conditional requests follow RFC 9110 §13.1 and the precedence of §13.2.2.
"""

from __future__ import annotations

import enum
import os
import re
import stat
import time
from calendar import timegm
from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

#: Longest route path accepted, in UTF-8 bytes (Linux ``PATH_MAX``).
MAX_PATH_BYTES = 4096


class RoutePath(NamedTuple):
    """A route path split into safe segments.

    :param segments: the path's non-empty segments, never ``.`` or ``..``.
    :param trailing_slash: whether the path ends with ``/`` (or is ``/``).
    """

    segments: tuple[str, ...]
    trailing_slash: bool


def split_route_path(path: str) -> RoutePath | None:
    """Split a route path into segments, or return None when it is hostile.

    ``"/a/b/"`` gives ``RoutePath(("a", "b"), True)``; ``""`` gives
    ``RoutePath((), False)``. Refused (None): ``.`` or ``..`` segments, empty
    segments (``//etc``), backslashes, NUL, lone surrogates (a server decoding
    invalid UTF-8 with ``surrogateescape``) and paths over :data:`MAX_PATH_BYTES`.
    """
    if "\x00" in path or "\\" in path:
        return None
    try:
        size = len(path.encode("utf-8"))
    except UnicodeEncodeError:
        return None
    if size > MAX_PATH_BYTES:
        return None
    leading_slash = path.startswith("/")
    if leading_slash:
        path = path[1:]
    if path == "":
        return RoutePath((), leading_slash)
    trailing_slash = path.endswith("/")
    if trailing_slash:
        path = path[:-1]
    segments = tuple(path.split("/"))
    for segment in segments:
        if segment in ("", ".", ".."):
            return None
    return RoutePath(segments, trailing_slash)


def _inside(root: str, candidate: str) -> bool:
    try:
        return os.path.commonpath([root, candidate]) == root
    except ValueError:  # different drives, or mixed absolute and relative
        return False


class Found(NamedTuple):
    """An existing file system entry below the served directory.

    :param path: its real path (every symlink resolved).
    :param stat_result: ``os.stat`` of that path.
    """

    path: str
    stat_result: os.stat_result

    @property
    def is_file(self) -> bool:
        """Whether the entry is a regular file."""
        return stat.S_ISREG(self.stat_result.st_mode)

    @property
    def is_dir(self) -> bool:
        """Whether the entry is a directory."""
        return stat.S_ISDIR(self.stat_result.st_mode)


def lookup(root: str, segments: Sequence[str]) -> Found | None:
    """Find ``segments`` below ``root`` without ever leaving it.

    :param root: the real path of the served directory (``os.path.realpath``).
    :param segments: safe segments from :func:`split_route_path`.
    :return: the entry, or None when it is missing, unreadable, or resolves
        (through a symlink) outside ``root``. Never raises for odd names:
        ``ENAMETOOLONG``, ``ENOTDIR``, ``ELOOP`` and friends all mean None.
    """
    try:
        real = os.path.realpath(os.path.join(root, *segments))
        if not _inside(root, real):
            return None
        return Found(real, os.stat(real))
    except (OSError, ValueError):
        return None


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
    "MAX_PATH_BYTES",
    "Conditionals",
    "EntityTag",
    "Found",
    "Precondition",
    "RoutePath",
    "evaluate_preconditions",
    "lookup",
    "parse_entity_tag",
    "parse_entity_tag_list",
    "parse_http_date",
    "split_route_path",
    "strong_match",
    "weak_match",
]
