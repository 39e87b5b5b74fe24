"""Media types: :class:`ContentType` (one ``Content-Type`` value) and :class:`MediaType`
(one media range of ``Accept``). Parsing never raises."""

from __future__ import annotations

import math
from collections.abc import Iterator

from baize._headers import TOKEN


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


def _format_parameters(parameters: dict[str, str]) -> str:
    """``; name=value`` for each parameter, quoting values that are not tokens."""
    text = ""
    for name, value in parameters.items():
        if not TOKEN.fullmatch(value):
            value = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        text += f"; {name}={value}"
    return text


class ContentType:
    """A ``Content-Type`` value: :attr:`type` is the bare media type, lower-cased.

    It compares equal to a media type string case-insensitively (``ct == "text/html"``);
    :attr:`options` holds the parameters (``charset``, ``boundary``) with lower-cased
    names and unquoted values; ``str()`` gives the type with its parameters. Never raises.
    """

    __slots__ = ("options", "type")

    def __init__(self, content_type_raw_line: str = "") -> None:
        media_type, _, parameters = str(content_type_raw_line).partition(";")
        self.type = media_type.strip().lower()
        self.options = dict(_parse_parameters(parameters))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            return self.type == other.strip().lower()
        if isinstance(other, ContentType):
            return (self.type, self.options) == (other.type, other.options)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.type)

    def __str__(self) -> str:
        return self.type + _format_parameters(self.options)

    def __repr__(self) -> str:
        return f"<ContentType: {self}>"


class MediaType:
    """One media range of an ``Accept`` header: ``type/subtype;param=value;q=0.8``.

    Upstream's names: :attr:`main_type`, :attr:`sub_type`, :attr:`options` (every
    parameter, ``q`` included) and :attr:`is_all_types`. This implementation adds
    :attr:`q`, read as a float and clamped into ``[0, 1]`` (a ``q`` that is not a
    finite number counts as absent: ``1.0``), and :attr:`params` (the parameters
    but ``q``). A bare ``*`` means ``*/*``; an entry without ``/`` has an empty
    subtype. Never raises.
    """

    __slots__ = ("_quality", "params", "q", "subtype", "type")

    def __init__(self, media_type_raw_line: str) -> None:
        media_range, _, parameters = media_type_raw_line.partition(";")
        media_range = media_range.strip().lower()
        if media_range == "*":
            media_range = "*/*"
        self.type, _, self.subtype = (part.strip() for part in media_range.partition("/"))
        self.params = dict(_parse_parameters(parameters))
        self.q = 1.0
        quality = self._quality = self.params.pop("q", None)
        if quality is not None:
            try:
                number = float(quality)
            except ValueError:
                number = math.nan
            if math.isfinite(number):
                self.q = min(max(number, 0.0), 1.0)

    @property
    def main_type(self) -> str:
        """The type before ``/`` (upstream's name of :attr:`type`)."""
        return self.type

    @property
    def sub_type(self) -> str:
        """The subtype after ``/`` (upstream's name of :attr:`subtype`)."""
        return self.subtype

    @property
    def options(self) -> dict[str, str]:
        """Every parameter as given, ``q`` included (upstream's view)."""
        if self._quality is None:
            return dict(self.params)
        return {**self.params, "q": self._quality}

    @property
    def is_all_types(self) -> bool:
        """Whether this is ``*/*``."""
        return self.type == "*" and self.subtype == "*"

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
        """The media range with every parameter, ``q`` included (``text`` for a bare type)."""
        media_type = f"{self.type}/{self.subtype}" if self.subtype else self.type
        return media_type + _format_parameters(self.options)

    def __repr__(self) -> str:
        return f"<MediaType: {self}>"

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
