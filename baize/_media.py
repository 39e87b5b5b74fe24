"""Media types: :class:`ContentType` (one ``Content-Type`` value) and :class:`MediaType`
(one media range of ``Accept``). Parsing never raises."""

from __future__ import annotations

import math
from collections.abc import Iterator


def _parse_parameters(text: str) -> Iterator[tuple[str, str]]:
    """Yield ``name=value`` parameters of a ``;``-separated list; quoted values unescaped."""
    index, length = 0, len(text)
    while index < length:
        end = index
        while end < length and text[end] not in ";=":
            end += 1
        name = text[index:end].strip().lower()
        if end < length and text[end] == "=":
            end += 1
            while end < length and text[end] in " \t":
                end += 1
            if end < length and text[end] == '"':
                chars: list[str] = []
                end += 1
                while end < length and text[end] != '"':
                    if text[end] == "\\" and end + 1 < length:
                        end += 1
                    chars.append(text[end])
                    end += 1
                value = "".join(chars)
                while end < length and text[end] != ";":
                    end += 1
            else:
                start = end
                while end < length and text[end] != ";":
                    end += 1
                value = text[start:end].strip()
            if name:
                yield name, value
        index = end + 1


class ContentType(str):
    """A ``Content-Type`` value: the string is the bare media type, lower-cased.

    It compares equal to a media type string case-insensitively; :attr:`options`
    holds the parameters (``charset``, ``boundary``) with lower-cased names and
    unquoted values. Never raises.
    """

    options: dict[str, str]

    def __new__(cls, value: str = "") -> ContentType:
        media_type, _, parameters = str(value).partition(";")
        self = super().__new__(cls, media_type.strip().lower())
        self.options = dict(_parse_parameters(parameters))
        return self

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            return str.__eq__(self, other.strip().lower())
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    __hash__ = str.__hash__

    def __repr__(self) -> str:
        return f"ContentType({str(self)!r}, options={self.options!r})"


class MediaType:
    """One media range of an ``Accept`` header: ``type/subtype;param=value;q=0.8``.

    ``q`` is read as a float and clamped into ``[0, 1]``; a ``q`` that is not a
    finite number counts as absent (``1.0``). A bare ``*`` means ``*/*``; an
    entry without ``/`` has an empty subtype. Never raises.
    """

    __slots__ = ("params", "q", "subtype", "type")

    def __init__(self, value: str) -> None:
        media_range, _, parameters = value.partition(";")
        media_range = media_range.strip().lower()
        if media_range == "*":
            media_range = "*/*"
        self.type, _, self.subtype = (part.strip() for part in media_range.partition("/"))
        self.params = dict(_parse_parameters(parameters))
        self.q = 1.0
        quality = self.params.pop("q", None)
        if quality is not None:
            try:
                number = float(quality)
            except ValueError:
                number = math.nan
            if math.isfinite(number):
                self.q = min(max(number, 0.0), 1.0)

    @property
    def media_type(self) -> str:
        """``type/subtype`` without parameters."""
        return f"{self.type}/{self.subtype}"

    @property
    def specificity(self) -> int:
        """0 for ``*/*``, 1 for ``type/*``, 2 for ``type/subtype``, 3 with parameters."""
        if self.type == "*":
            return 0
        if self.subtype == "*":
            return 1
        return 3 if self.params else 2

    def match(self, other: str) -> bool:
        """Whether the media type ``other`` falls in this range (wildcards on either side)."""
        candidate = MediaType(other)
        if "*" not in (self.type, candidate.type) and self.type != candidate.type:
            return False
        return "*" in (self.subtype, candidate.subtype) or self.subtype == candidate.subtype

    def __str__(self) -> str:
        params = "".join(f"; {name}={value}" for name, value in self.params.items())
        return f"{self.media_type}{params}"

    def __repr__(self) -> str:
        return f"MediaType({str(self)!r}, q={self.q})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, MediaType):
            return (self.type, self.subtype, self.params, self.q) == (
                other.type,
                other.subtype,
                other.params,
                other.q,
            )
        if isinstance(other, str):
            return self == MediaType(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


__all__ = ["ContentType", "MediaType"]
