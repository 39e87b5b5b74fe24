"""Tests of Cookie (Set-Cookie rendering, RFC 6265 §4.1, in upstream's spelling) and
parse_cookie (lenient, as upstream and browsers)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from baize.datastructures import Cookie, parse_cookie


def test_cookie_defaults() -> None:
    assert str(Cookie("session", "abc")) == "session=abc; samesite=lax"


def test_cookie_takes_upstreams_positional_order() -> None:
    cookie = Cookie("n", "v", None, "example.com", "/p", True, True, 60, "strict")
    assert (cookie.name, cookie.value, cookie.domain, cookie.path) == (
        "n",
        "v",
        "example.com",
        "/p",
    )
    assert (cookie.httponly, cookie.secure, cookie.max_age, cookie.samesite) == (
        True,
        True,
        60,
        "strict",
    )
    assert cookie.key == "n"


def test_cookie_equality_bytes_and_repr() -> None:
    cookie = Cookie("session", "1234567890", path="/", httponly=True)
    assert cookie == "session=1234567890; path=/; httponly; samesite=lax"
    assert cookie == b"session=1234567890; path=/; httponly; samesite=lax"
    assert bytes(cookie) == str(cookie).encode("ascii")
    assert cookie == Cookie("session", "1234567890", path="/", httponly=True)
    assert cookie != Cookie("session", "other", path="/", httponly=True)
    assert cookie != 1234567890
    assert hash(cookie) == hash(Cookie("session", "1234567890", path="/", httponly=True))
    assert repr(cookie) == "<Cookie session: 1234567890>"


def test_cookie_every_attribute() -> None:
    cookie = Cookie(
        "id",
        "42",
        max_age=3600,
        expires=datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC),
        path="/app",
        domain="example.com",
        secure=True,
        httponly=True,
        samesite="STRICT",
    )
    assert str(cookie) == (
        "id=42; expires=Wed, 02 Jan 2030 03:04:05 GMT; max-age=3600; domain=example.com;"
        " path=/app; httponly; secure; samesite=strict"
    )


def test_cookie_without_path_or_samesite() -> None:
    assert str(Cookie("a", "b", path=None, samesite=None)) == "a=b"
    assert str(Cookie("a", "b", samesite="None", secure=True)).endswith("secure; samesite=none")
    # browsers drop SameSite=None without Secure: it is added
    assert str(Cookie("a", "b", samesite="none")) == "a=b; secure; samesite=none"
    assert str(Cookie("a", "b", samesite="strict")) == "a=b; samesite=strict"


def test_cookie_expires_variants() -> None:
    naive = Cookie("a", expires=datetime(2030, 1, 1))
    assert "expires=Tue, 01 Jan 2030 00:00:00 GMT" in str(naive)
    shifted = Cookie("a", expires=datetime(2030, 1, 1, 2, tzinfo=timezone(timedelta(hours=2))))
    assert "expires=Tue, 01 Jan 2030 00:00:00 GMT" in str(shifted)
    assert "expires=Thu, 01 Jan 1970 00:00:00 GMT" in str(
        Cookie("a", expires="Thu, 01 Jan 1970 00:00:00 GMT")
    )
    relative = str(Cookie("a", expires=100)).split("expires=")[1].split(";")[0]
    delta = parsedate_to_datetime(relative).timestamp() - time.time()
    assert 95 <= delta <= 101


def test_cookie_max_age_zero_deletes() -> None:
    assert "max-age=0" in str(Cookie("a", max_age=0))
    assert "max-age" not in str(Cookie("a", max_age=-1))


@pytest.mark.parametrize("value", ["a b", 'say "hi"', "back\\slash", "x,y"])
def test_cookie_value_needing_quotes_round_trips(value: str) -> None:
    rendered = str(Cookie("k", value, samesite=None))
    assert rendered.startswith('k="')
    assert parse_cookie(rendered) == {"k": value}


@pytest.mark.parametrize("value", ["a;b", "a\r\nSet-Cookie: x=1", "a\nb", "a\x00b", "\x7f", "é"])
def test_cookie_refuses_bad_values(value: str) -> None:
    with pytest.raises(ValueError, match="cookie 'k'"):
        Cookie("k", value)


@pytest.mark.parametrize("key", ["", "a b", "a;b", "a=b", "a\r\n", "a\x00", "é", "(x)"])
def test_cookie_refuses_bad_names(key: str) -> None:
    with pytest.raises(ValueError, match="Invalid cookie name"):
        Cookie(key, "v")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"path": "/a;b"},
        {"path": "/a\r\n"},
        {"domain": "x\x00"},
        {"expires": "soon; Secure"},
        {"samesite": "sometimes"},
    ],
)
def test_cookie_refuses_bad_attributes(kwargs: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="cookie 'k'"):
        Cookie("k", "v", **kwargs)  # type: ignore[arg-type]


def test_parse_cookie_lenient() -> None:
    assert parse_cookie("a=1; b=2") == {"a": "1", "b": "2"}
    assert parse_cookie("a=1;b=2;;  c = 3 ") == {"a": "1", "b": "2", "c": "3"}
    assert parse_cookie("novalue; d=") == {"": "novalue", "d": ""}  # a chunk without "="
    assert parse_cookie("novalue; =nameless") == {"": "nameless"}  # the last one wins
    assert parse_cookie("a=1; a=2") == {"a": "2"}  # last wins, as upstream
    assert parse_cookie('q="quoted \\" value"') == {"q": 'quoted " value'}
    assert parse_cookie('q="octal\\012escape"') == {"q": "octal\nescape"}
    assert parse_cookie('x="') == {"x": '"'}
    assert parse_cookie('x="a') == {"x": '"a'}  # one quote: not a quoted value
    assert parse_cookie("e=a=b") == {"e": "a=b"}
    assert parse_cookie("a b c=d e = f") == {"a b c": "d e = f"}
    assert parse_cookie("") == {}
    assert parse_cookie(" ; ;") == {}


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        # upstream's own edge cases (from Tornado): every ";" separates, even in quotes
        (
            'keebler="E=mc2; L=\\"Loves\\"; fudge=\\012;"',
            {"keebler": '"E=mc2', "L": '\\"Loves\\"', "fudge": "\\012", "": '"'},
        ),
        ("keebler=E=mc2", {"keebler": "E=mc2"}),
        ("key:term=value:term", {"key:term": "value:term"}),
        ("a=b; c=[; d=r; f=h", {"a": "b", "c": "[", "d": "r", "f": "h"}),
        ('a=b; "; c=d', {"a": "b", "": '"', "c": "d"}),
    ],
)
def test_parse_cookie_edge_cases(header: str, expected: dict[str, str]) -> None:
    assert parse_cookie(header) == expected


@given(st.text())
def test_parse_cookie_never_raises(header: str) -> None:
    cookies = parse_cookie(header)
    assert all(";" not in name for name in cookies)


_names = st.from_regex(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,10}", fullmatch=True)
_values = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E, blacklist_characters=";")
)


@given(st.dictionaries(_names, _values, max_size=6))
def test_cookie_render_then_parse_round_trip(cookies: dict[str, str]) -> None:
    header = "; ".join(str(Cookie(k, v, path=None, samesite=None)) for k, v in cookies.items())
    assert parse_cookie(header) == cookies
