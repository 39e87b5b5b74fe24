"""Range, validator and header logic shared by file responses; no I/O here."""

from __future__ import annotations

import mimetypes
import os
from urllib.parse import quote

from baize._validators import format_http_date
from baize.exceptions import MalformedRangeHeader
from baize.ranges import MAX_RANGES, if_range_matches, parse_range_header

# RFC 8187 attr-char beyond ALPHA / DIGIT (quote() never encodes "_.-~")
_ATTR_CHAR = "!#$&+^`|"


class NotAFileError(OSError):
    """``FileResponse`` refuses a path that is neither a regular file nor a directory.

    (A missing path raises ``FileNotFoundError`` and a directory ``IsADirectoryError``,
    as upstream.) This is a programming error (check the path before building the
    response), not an HTTP error; ``Files``/``Pages`` check for themselves and answer 404.
    """

    def __init__(self, filepath: str, reason: str) -> None:
        super().__init__(f"FileResponse cannot send {filepath!r}: {reason}")
        self.filepath = filepath


class FileResponseMixin:
    """What a file response decides before touching the file: headers and which bytes to send.

    ``max_ranges`` caps the ranges honoured after coalescing (more: full 200).
    """

    max_ranges: int = MAX_RANGES

    @staticmethod
    def generate_etag(stat_result: os.stat_result) -> str:
        """A strong entity tag from modification time and size: ``"<mtime_ns hex>-<size hex>"``."""
        return f'"{stat_result.st_mtime_ns:x}-{stat_result.st_size:x}"'

    @staticmethod
    def generate_last_modified(stat_result: os.stat_result) -> str:
        """The ``Last-Modified`` HTTP-date of the file's modification time."""
        return format_http_date(stat_result.st_mtime)

    @staticmethod
    def guess_content_type(filepath: str) -> str:
        """The media type guessed from a file name; ``text/*`` gets ``; charset=utf-8``."""
        media_type = mimetypes.guess_type(filepath)[0] or "application/octet-stream"
        if media_type.startswith("text/"):
            return media_type + "; charset=utf-8"
        return media_type

    @staticmethod
    def content_disposition(filename: str) -> str:
        """``attachment`` with an ASCII ``filename=`` fallback and an RFC 8187 ``filename*=``.

        :raises ValueError: the name holds CR, LF or NUL.
        """
        if any(char in filename for char in "\r\n\0"):
            raise ValueError(f"download_name must not contain CR, LF or NUL: {filename!r}")
        fallback = "".join(
            ("\\" + char if char in '"\\' else char) if " " <= char <= "~" else "_"
            for char in filename
        )
        encoded = quote(filename, safe=_ATTR_CHAR, encoding="utf-8")
        return f"attachment; filename=\"{fallback}\"; filename*=utf-8''{encoded}"

    def file_headers(
        self,
        filepath: str,
        stat_result: os.stat_result,
        content_type: str | None,
        download_name: str | None,
    ) -> dict[str, str]:
        """The headers of every answer for this file, except the length and range ones."""
        if content_type is None:
            content_type = self.guess_content_type(download_name or filepath)
        headers = {
            "content-type": content_type,
            "etag": self.generate_etag(stat_result),
            "last-modified": self.generate_last_modified(stat_result),
            "accept-ranges": "bytes",
        }
        if download_name is None and content_type == "application/octet-stream":
            download_name = os.path.basename(filepath)
        if download_name is not None:
            headers["content-disposition"] = self.content_disposition(download_name)
        return headers

    @classmethod
    def parse_range(cls, range_raw_line: str, max_size: int) -> list[tuple[int, int]]:
        """Parse a ``Range`` value against ``max_size`` bytes (upstream's name).

        RFC 9110 semantics, not upstream's: ranges are half-open ``(start, stop)`` pairs,
        coalesced when they overlap or touch, in the order the header asked for them
        (§14.6); a suffix longer than the file or a set with one satisfiable range is
        satisfiable (§14.1.2); more than :attr:`max_ranges` ranges, or ranges adding
        up to more than the file, count as malformed (a server may ignore them).

        :raises MalformedRangeHeader: bad syntax or a unit other than ``bytes`` (the
            header may be ignored or rejected with 400, §14.2).
        :raises RangeNotSatisfiable: no range overlaps the file (416, §15.5.17).
        """
        return parse_range_header(range_raw_line, max_size, max_ranges=cls.max_ranges)

    def select_ranges(
        self,
        method: str,
        range_value: str | None,
        if_range_value: str | None,
        etag: str | None,
        last_modified: str | None,
        size: int,
    ) -> list[tuple[int, int]] | None:
        """Which ranges to send: ``None`` for the whole file, else ``(start, stop)`` pairs.

        Ranges apply to GET only (RFC 9110 §14.2); a failed ``If-Range`` or a header that
        must be ignored gives ``None``.

        :raises RangeNotSatisfiable: no range overlaps the file (answer 416).
        """
        if method != "GET" or range_value is None:
            return None
        if if_range_value is not None and not if_range_matches(if_range_value, etag, last_modified):
            return None
        try:
            return parse_range_header(range_value, size, max_ranges=self.max_ranges)
        except MalformedRangeHeader:
            return None


__all__ = ["FileResponseMixin", "NotAFileError"]
