"""Cookies: :class:`Cookie` builds one ``Set-Cookie`` value, :func:`parse_cookie` reads
a ``Cookie`` header (RFC 6265)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from baize._headers import TOKEN
from baize._validators import format_http_date

# RFC 6265 §4.1.1: cookie-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E
_COOKIE_OCTETS = re.compile(r"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*")
# RFC 6265 §4.1.1: av-octet = any CHAR except CTLs or ";". Attribute values use it, and so
# do cookie values sent in DQUOTEs (SP, "," and escaped '"' and "\" let through).
_AV_OCTETS = re.compile(r"[\x20-\x3a\x3c-\x7e]*")
_SAMESITE = {"strict": "Strict", "lax": "Lax", "none": "None"}


@dataclass(frozen=True, slots=True)
class Cookie:
    """One ``Set-Cookie`` line (RFC 6265 §4.1); ``str(cookie)`` is the field value.

    ``max_age`` below 0 and ``expires=None`` leave the cookie a session cookie;
    ``expires`` is a ``datetime`` (naive means UTC), a number of seconds from
    now, or a ready-made string. A value outside the cookie-octet set is sent
    in double quotes with ``"`` and ``\\`` backslash-escaped (:func:`parse_cookie`
    undoes that); CR, LF, NUL, ``;``, other controls and non-ASCII raise ``ValueError``.
    """

    key: str
    value: str = ""
    max_age: int = -1
    expires: datetime | int | float | str | None = None
    path: str | None = "/"
    domain: str | None = None
    secure: bool = False
    httponly: bool = False
    samesite: str | None = "lax"

    def __post_init__(self) -> None:
        if not TOKEN.fullmatch(self.key):
            raise ValueError(f"Invalid cookie name {self.key!r}: it must be an RFC 9110 token")
        if not _AV_OCTETS.fullmatch(self.value):
            raise ValueError(
                f"Invalid value for cookie {self.key!r}: control characters, ';' and"
                " non-ASCII characters are not allowed (percent-encode them first)"
            )
        for name in ("path", "domain"):
            attribute = getattr(self, name)
            if attribute is not None and not _AV_OCTETS.fullmatch(attribute):
                raise ValueError(f"Invalid {name} for cookie {self.key!r}: {attribute!r}")
        if isinstance(self.expires, str) and not _AV_OCTETS.fullmatch(self.expires):
            raise ValueError(f"Invalid expires for cookie {self.key!r}: {self.expires!r}")
        if self.samesite is not None and self.samesite.lower() not in _SAMESITE:
            raise ValueError(
                f"Invalid samesite for cookie {self.key!r}: {self.samesite!r}"
                " (expected 'strict', 'lax' or 'none')"
            )

    def _expires(self) -> str | None:
        expires = self.expires
        if expires is None or isinstance(expires, str):
            return expires
        if isinstance(expires, datetime):
            if expires.tzinfo is None:
                expires = expires.replace(tzinfo=UTC)
            return format_http_date(expires.timestamp())
        return format_http_date(time.time() + expires)

    def __str__(self) -> str:
        value = self.value
        if not _COOKIE_OCTETS.fullmatch(value):
            value = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        parts = [f"{self.key}={value}"]
        expires = self._expires()
        if expires is not None:
            parts.append(f"Expires={expires}")
        if self.max_age >= 0:
            parts.append(f"Max-Age={int(self.max_age)}")
        if self.domain is not None:
            parts.append(f"Domain={self.domain}")
        if self.path is not None:
            parts.append(f"Path={self.path}")
        if self.secure:
            parts.append("Secure")
        if self.httponly:
            parts.append("HttpOnly")
        if self.samesite is not None:
            parts.append(f"SameSite={_SAMESITE[self.samesite.lower()]}")
        return "; ".join(parts)


def parse_cookie(header: str) -> dict[str, str]:
    """Parse a ``Cookie`` header leniently: pairs without ``=`` or a name are skipped.

    Values in double quotes are unquoted (backslash escapes undone). When a name
    repeats, the first value wins (RFC 6265 §5.4 sends the most specific path first).
    Never raises.
    """
    cookies: dict[str, str] = {}
    for pair in header.split(";"):
        name, equals, value = pair.partition("=")
        name = name.strip(" \t")
        if not equals or not name or name in cookies:
            continue
        value = value.strip(" \t")
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = re.sub(r"\\(.)", r"\1", value[1:-1], flags=re.DOTALL)
        cookies[name] = value
    return cookies


__all__ = ["Cookie", "parse_cookie"]
