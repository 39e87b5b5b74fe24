"""Cookies: :class:`Cookie` builds one ``Set-Cookie`` value, :func:`parse_cookie` reads
a ``Cookie`` header (RFC 6265)."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

from baize._headers import TOKEN
from baize._validators import format_http_date

# RFC 6265 §4.1.1: cookie-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E
_COOKIE_OCTETS = re.compile(r"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*")
# RFC 6265 §4.1.1: av-octet = any CHAR except CTLs or ";". Attribute values use it, and so
# do cookie values sent in DQUOTEs (SP, "," and escaped '"' and "\" let through).
_AV_OCTETS = re.compile(r"[\x20-\x3a\x3c-\x7e]*")
_SAMESITE = frozenset(("strict", "lax", "none"))


class Cookie:
    """One ``Set-Cookie`` line (RFC 6265 §4.1); ``str(cookie)`` is the field value.

    The parameters and their order are upstream's. ``str()`` also follows upstream's
    spelling (``name=value; expires=...; max-age=...; domain=...; path=...; httponly;
    secure; samesite=lax``; attribute names are case-insensitive, RFC 6265 §5.2), and a
    cookie compares equal to that string, to its bytes and to an equal ``Cookie``.

    ``max_age`` below 0 and ``expires=None`` leave the cookie a session cookie;
    ``expires`` is a ``datetime`` (naive means UTC) and, as extensions, a number of
    seconds from now or a ready-made string. ``samesite=None`` (an extension) omits the
    attribute; ``samesite="none"`` adds ``secure``, without which browsers drop the
    cookie. A value outside the cookie-octet set is sent in double quotes with ``"``
    and ``\\`` backslash-escaped (:func:`parse_cookie` undoes that); CR, LF, NUL,
    ``;``, other controls and non-ASCII raise ``ValueError``, as does a name that is
    not an RFC 9110 token.
    """

    __slots__ = (
        "domain",
        "expires",
        "httponly",
        "max_age",
        "name",
        "path",
        "samesite",
        "secure",
        "value",
    )

    def __init__(
        self,
        name: str,
        value: str = "",
        expires: datetime | int | float | str | None = None,
        domain: str | None = None,
        path: str | None = None,
        httponly: bool = False,
        secure: bool = False,
        max_age: int = -1,
        samesite: str | None = "lax",
    ) -> None:
        if not TOKEN.fullmatch(name):
            raise ValueError(f"Invalid cookie name {name!r}: it must be an RFC 9110 token")
        if not _AV_OCTETS.fullmatch(value):
            raise ValueError(
                f"Invalid value for cookie {name!r}: control characters, ';' and"
                " non-ASCII characters are not allowed (percent-encode them first)"
            )
        for attribute, given in (("path", path), ("domain", domain)):
            if given is not None and not _AV_OCTETS.fullmatch(given):
                raise ValueError(f"Invalid {attribute} for cookie {name!r}: {given!r}")
        if isinstance(expires, str) and not _AV_OCTETS.fullmatch(expires):
            raise ValueError(f"Invalid expires for cookie {name!r}: {expires!r}")
        if samesite is not None and samesite.lower() not in _SAMESITE:
            raise ValueError(
                f"Invalid samesite for cookie {name!r}: {samesite!r}"
                " (expected 'strict', 'lax' or 'none')"
            )
        self.name = name
        self.value = value
        self.expires = expires
        self.domain = domain
        self.path = path
        self.httponly = httponly
        self.secure = secure
        self.max_age = max_age
        self.samesite = samesite

    @property
    def key(self) -> str:
        """The cookie name (the name ``Response.set_cookie`` gives it)."""
        return self.name

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
        parts = [f"{self.name}={value}"]
        expires = self._expires()
        if expires:
            parts.append(f"expires={expires}")
        if self.max_age >= 0:
            parts.append(f"max-age={int(self.max_age)}")
        if self.domain:
            parts.append(f"domain={self.domain}")
        if self.path:
            parts.append(f"path={self.path}")
        if self.httponly:
            parts.append("httponly")
        samesite = None if self.samesite is None else self.samesite.lower()
        if self.secure or samesite == "none":
            parts.append("secure")
        if samesite is not None:
            parts.append(f"samesite={samesite}")
        return "; ".join(parts)

    def __bytes__(self) -> bytes:
        return str(self).encode("ascii")

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Cookie | str):
            return str(self) == str(other)
        if isinstance(other, bytes):
            return bytes(self) == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(str(self))

    def __repr__(self) -> str:
        return f"<Cookie {self.name}: {self.value}>"


_ESCAPE = re.compile(r"\\(?:([0-3][0-7][0-7])|(.))", re.DOTALL)


def _unquote(value: str) -> str:
    """Undo the double quotes of a quoted cookie value: ``\\ooo`` octal escapes and
    ``\\c`` escapes inside are decoded; anything else is returned as is."""
    if len(value) < 2 or value[0] != '"' or value[-1] != '"':
        return value
    return _ESCAPE.sub(lambda match: chr(int(match[1], 8)) if match[1] else match[2], value[1:-1])


def parse_cookie(header: str) -> dict[str, str]:
    """Parse a ``Cookie`` header leniently, as browsers and upstream baize do.

    Every ``;`` separates pairs (even inside quotes); a chunk without ``=`` is a
    value of the name ``""``; names and values are stripped of whitespace, and a
    value in double quotes is unquoted. When a name repeats, the last value wins.
    Never raises.
    """
    cookies: dict[str, str] = {}
    for chunk in header.split(";"):
        name, equals, value = chunk.partition("=")
        if not equals:
            name, value = "", chunk
        name, value = name.strip(), value.strip()
        if name or value:
            cookies[name] = _unquote(value)
    return cookies


__all__ = ["Cookie", "parse_cookie"]
