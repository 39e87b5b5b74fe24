"""Pure helpers for static files: safe path resolution (and, re-exported, conditional requests).

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

Conditional requests (RFC 9110 §13.1, precedence of §13.2.2) live in ``baize._validators``
and are re-exported here.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from typing import NamedTuple

from baize._validators import (
    Conditionals,
    EntityTag,
    Precondition,
    evaluate_preconditions,
    parse_entity_tag,
    parse_entity_tag_list,
    parse_http_date,
    strong_match,
    weak_match,
)

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

    :param path: its real path (every symlink resolved), or with ``follow_symlinks``
        the path below the served directory.
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


def lookup(root: str, segments: Sequence[str], *, follow_symlinks: bool = False) -> Found | None:
    """Find ``segments`` below ``root`` without ever leaving it.

    :param root: the real path of the served directory (``os.path.realpath``).
    :param segments: safe segments from :func:`split_route_path`.
    :param follow_symlinks: serve what a symlink below ``root`` points to even when
        it resolves outside ``root`` (upstream's behaviour); the request path itself
        still never leaves ``root``, since its segments hold no ``..``.
    :return: the entry, or None when it is missing, unreadable, or (unless
        ``follow_symlinks``) resolves through a symlink outside ``root``. Never
        raises for odd names: ``ENAMETOOLONG``, ``ENOTDIR``, ``ELOOP`` and friends
        all mean None.
    """
    try:
        joined = os.path.join(root, *segments)
        if follow_symlinks:
            return Found(joined, os.stat(joined))
        real = os.path.realpath(joined)
        if not _inside(root, real):
            return None
        return Found(real, os.stat(real))
    except (OSError, ValueError):
        return None


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
