# Over 700 lines on purpose: one case per requirement of the Responses area, in catalogue order,
# sharing the raw-response helpers.
"""Responses (conformance/requirements/responses.toml): the implementation's response classes,
read byte by byte with the raw-socket client where framing matters."""

from __future__ import annotations

import contextlib
import json
import re
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.harness import (
    expect_equal,
    expect_in,
    expect_stopped_when_gone,
    expect_true,
    not_applicable,
    polling,
)
from conformance.harness.rawhttp import (
    Connection,
    Data,
    EndOfMessage,
    RawResponse,
    build_request,
    exchange,
    parse_response,
)
from conformance.harness.server import Server

RAW_TIMEOUT = 5.0
RESULT_DEADLINE = 5.0
RESULT_POLL = 0.02
# Mirrors of conformance/apps/responses.py (the app runs in the server process).
STREAM_CHUNKS = [b"one;", b"two;", b"three;"]
ENDLESS_MAX = 1000
COOKIE_DATE = datetime(2031, 2, 3, 4, 5, 6, tzinfo=UTC)
TEXT = "h\u00e9llo w\u00f6rld \u20ac \U0001f600"
BINARY = b"\x00\xff\r\n raw \x80"
JSON_VALUE = {"b": 1, "a": [1, 2.5, None, True, False], "s": "\u00e9\u20ac\U0001f600", "e": {}}
COMPACT: dict[str, Any] = {"separators": (",", ":"), "ensure_ascii": False}
IMF_FIXDATE = re.compile(
    r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
    r" [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT"
)
ACCEPTED_ERRORS = ("ValueError", "RuntimeError", "HTTPException")

_cache: dict[tuple[str, ...], Any] = {}
_clients = contextlib.ExitStack()


@pytest.fixture(scope="module", autouse=True)
def _close_clients() -> Iterator[None]:
    """Close the keep-alive clients the Hypothesis case reuses across its examples."""
    with _clients:
        yield


def path(name: str) -> str:
    return f"/responses/{name}"


def fetch(server: Server, name: str, method: str = "GET") -> RawResponse:
    """One exchange with the raw client (strict framing), cached per server."""
    key = (server.base_url, method, name)
    if key not in _cache:
        request = build_request(method, path(name))
        _cache[key] = exchange(
            server.host, server.port, request, method_hint=method, timeout=RAW_TIMEOUT
        )
    response: RawResponse = _cache[key]
    return response


def fetch_closing(server: Server, name: str, method: str = "GET") -> tuple[RawResponse, bytes]:
    """Ask with ``Connection: close`` and read to the close: (response, bytes after it)."""
    key = ("closing", server.base_url, method, name)
    if key not in _cache:
        request = build_request(method, path(name), {"Connection": "close"})
        data = server.raw(request, timeout=RAW_TIMEOUT)
        head, sep, rest = data.partition(b"\r\n\r\n")
        expect_true(bool(sep), "a complete response head", "CRLF CRLF", repr(data))
        _cache[key] = (parse_response(head + sep, method, eof=False), rest)
    answer: tuple[RawResponse, bytes] = _cache[key]
    return answer


def check_status(response: RawResponse, status: int) -> None:
    expect_equal(response.status, status, "status code")


def only(response: RawResponse, name: str) -> str | None:
    values = response.header_values(name)
    expect_true(len(values) <= 1, f"one {name} field", "at most one line", repr(values))
    return values[0] if values else None


def media_type(value: str | None) -> tuple[str, dict[str, str]]:
    """Split a Content-Type into the lower-cased type and its parameters."""
    expect_true(value is not None, "Content-Type present", "a Content-Type field", "none")
    assert value is not None
    kind, *params = value.split(";")
    parsed = {}
    for param in params:
        name, _, param_value = param.strip().partition("=")
        parsed[name.lower()] = param_value.strip('"')
    return kind.strip().lower(), parsed


def refusal(server: Server, kind: str) -> dict[str, Any]:
    with server.http() as client:
        answer: dict[str, Any] = client.get(path(f"refuse/{kind}")).json()
    return answer


def check_refused(server: Server, *kinds: str) -> None:
    for kind in kinds:
        answer = refusal(server, kind)
        expect_true(
            answer["raised"],
            f"bad input ({kind}) is refused",
            "an exception from the constructor or before the first send",
            f"no error; the response sent {answer['sent']!r}",
        )
        expect_true(
            any(name in ACCEPTED_ERRORS for name in answer["mro"]),
            f"the error for {kind} is a clear one",
            f"a subclass of one of {ACCEPTED_ERRORS}",
            f"{answer['mro'][0]}: {answer['message']}",
        )
        expect_equal(answer["sent"], [], f"ASGI messages sent before the error ({kind})")


def poll_result(server: Server, token: str, done: Any, what: str) -> Any:
    """Poll the app's record: the event happens in the server process, nothing to await here."""
    with server.http() as client:
        return polling.poll_result(
            lambda: client.get(path(f"result/{token}")).json(),
            done,
            what,
            seconds=RESULT_DEADLINE,
            interval=RESULT_POLL,
        )


# -- Response ------------------------------------------------------------------------------------


@pytest.mark.requirement("RESP-BASE-DEFAULT")
def test_bare_response_is_200_with_empty_body(server: Server) -> None:
    response = fetch(server, "base-default")
    check_status(response, 200)
    expect_equal(response.body, b"", "body of a bare Response()")
    if response.framing == "length":
        expect_equal(only(response, "content-length"), "0", "Content-Length of an empty body")


@pytest.mark.requirement("RESP-BASE-STATUS")
def test_response_status_codes(server: Server) -> None:
    for status in (418, 599):
        response = fetch(server, f"status-{status}")
        check_status(response, status)
        expect_equal(response.body, b"", f"body of Response({status})")


@pytest.mark.requirement("RESP-BASE-HEADERS")
def test_response_headers_as_given(server: Server) -> None:
    headers = [(name.lower(), value) for name, value in fetch(server, "base").headers]
    expect_in(("x-custom", "Value With  Spaces"), headers, "the X-Custom field, value unchanged")
    expect_in(("x-b", "b"), headers, "the x-b field")


@pytest.mark.requirement("RESP-BASE-HEADER-EMPTY")
def test_response_header_with_empty_value(server: Server) -> None:
    headers = [(name.lower(), value) for name, value in fetch(server, "base").headers]
    expect_in(("x-empty", ""), headers, "a field given with an empty value")


@pytest.mark.requirement("RESP-BASE-HEADERS-MUTABLE")
def test_response_headers_mutated_after_construction(server: Server) -> None:
    response = fetch(server, "base-mutated")
    check_status(response, 202)
    expect_equal(response.header_values("x-late"), ["set after construction"], "x-late")
    # RFC 9110 §5.3: two field lines of one name and their comma-joined combination are the
    # same field value, so either form shows both appends, in order.
    expect_in(
        response.header_values("x-multi"),
        (["first", "second"], ["first, second"]),
        "appended x-multi values (two lines, or one line combined per RFC 9110 §5.3)",
    )


# -- cookies -------------------------------------------------------------------------------------


def set_cookies(server: Server, name: str = "cookies") -> dict[str, tuple[str, dict[str, Any]]]:
    """Each Set-Cookie line parsed: cookie name -> (value, {attribute (lower): [values]})."""
    cookies: dict[str, tuple[str, dict[str, Any]]] = {}
    for line in fetch(server, name).header_values("set-cookie"):
        pair, *attributes = line.split(";")
        key, equals, value = pair.strip().partition("=")
        expect_true(bool(equals), "cookie-pair has '='", "name=value", repr(line))
        parsed: dict[str, list[str | None]] = {}
        for attribute in attributes:
            attr_name, attr_eq, attr_value = attribute.strip().partition("=")
            parsed.setdefault(attr_name.lower(), []).append(attr_value if attr_eq else None)
        expect_true(key not in cookies, "one line per cookie", "distinct names", repr(line))
        cookies[key] = (value, parsed)
    return cookies


def refused_cookies(server: Server, name: str = "cookies") -> dict[str, str]:
    """The set_cookie calls the scenario app saw raise: cookie name -> exception class."""
    header = fetch(server, name).header("x-cookie-refused") or ""
    return dict(item.partition(":")[::2] for item in header.split(",") if item)


def cookie(server: Server, key: str, name: str = "cookies") -> tuple[str, dict[str, Any]]:
    refused = refused_cookies(server, name)
    expect_true(
        key not in refused,
        f"the set_cookie call for {key!r} is accepted",
        "no exception",
        f"raised {refused.get(key)}",
    )
    cookies = set_cookies(server, name)
    expect_in(key, list(cookies), f"a Set-Cookie line for {key!r}")
    return cookies[key]


def attribute(attributes: dict[str, Any], name: str) -> Any:
    values = attributes.get(name.lower(), [])
    expect_true(len(values) == 1, f"the {name} attribute once", "exactly one", repr(values))
    return values[0]


def absent(attributes: dict[str, Any], *names: str) -> None:
    for name in names:
        expect_true(
            name.lower() not in attributes, f"no {name} attribute", "absent", repr(attributes)
        )


def check_imf_fixdate(value: Any, what: str) -> datetime:
    expect_true(
        isinstance(value, str) and IMF_FIXDATE.fullmatch(value) is not None,
        f"{what} is an IMF-fixdate",
        "e.g. 'Sun, 06 Nov 1994 08:49:37 GMT'",
        repr(value),
    )
    return parsedate_to_datetime(value)


@pytest.mark.requirement("RESP-COOKIE-SEPARATE-LINES")
def test_each_cookie_is_its_own_set_cookie_line(server: Server) -> None:
    response = fetch(server, "cookies")
    lines = [line for line in response.header_lines if line.lower().startswith(b"set-cookie:")]
    # a call the implementation refused is judged by that cookie's own id, not here
    refused = refused_cookies(server)
    expected = sorted(
        {"cross", "dated", "full", "laxed", "nosite", "plain", "relative"} - set(refused)
    )
    expect_true(len(expected) >= 2, "at least two cookies set", ">= 2", f"refused {refused}")
    calls = f"{len(expected)} accepted set_cookie calls (refused: {refused or 'none'})"
    expect_equal(len(lines), len(expected), f"Set-Cookie field lines for {calls}")
    names = sorted(set_cookies(server))
    expect_equal(names, expected, "cookie names, one per line")


@pytest.mark.requirement("RESP-COOKIE-DEFAULTS")
def test_cookie_defaults(server: Server) -> None:
    value, attributes = cookie(server, "plain")
    expect_equal(value, "v1", "cookie value")
    expect_equal(attribute(attributes, "Path"), "/", "default Path")
    expect_equal(str(attribute(attributes, "SameSite")).lower(), "lax", "default SameSite")
    absent(attributes, "Max-Age", "Expires", "Domain", "Secure", "HttpOnly")


@pytest.mark.requirement("RESP-COOKIE-MAX-AGE")
def test_cookie_max_age(server: Server) -> None:
    _, attributes = cookie(server, "full")
    expect_equal(attribute(attributes, "Max-Age"), "3600", "Max-Age")


@pytest.mark.requirement("RESP-COOKIE-PATH")
def test_cookie_path(server: Server) -> None:
    _, attributes = cookie(server, "full")
    expect_equal(attribute(attributes, "Path"), "/sub", "Path")


@pytest.mark.requirement("RESP-COOKIE-DOMAIN")
def test_cookie_domain(server: Server) -> None:
    _, attributes = cookie(server, "full")
    expect_equal(attribute(attributes, "Domain"), "example.com", "Domain")


@pytest.mark.requirement("RESP-COOKIE-SECURE")
def test_cookie_secure(server: Server) -> None:
    _, attributes = cookie(server, "full")
    expect_equal(attribute(attributes, "Secure"), None, "Secure (a bare attribute)")


@pytest.mark.requirement("RESP-COOKIE-HTTPONLY")
def test_cookie_httponly(server: Server) -> None:
    _, attributes = cookie(server, "full")
    expect_equal(attribute(attributes, "HttpOnly"), None, "HttpOnly (a bare attribute)")


@pytest.mark.requirement("RESP-COOKIE-SAMESITE")
def test_cookie_samesite_strict_and_lax(server: Server) -> None:
    _, strict = cookie(server, "full")
    expect_equal(str(attribute(strict, "SameSite")).lower(), "strict", "SameSite for 'strict'")
    _, lax = cookie(server, "laxed")
    expect_equal(str(attribute(lax, "SameSite")).lower(), "lax", "SameSite for 'lax'")


@pytest.mark.requirement("RESP-COOKIE-SAMESITE-NONE")
def test_cookie_samesite_none(server: Server) -> None:
    _, attributes = cookie(server, "cross")
    expect_equal(str(attribute(attributes, "SameSite")).lower(), "none", "SameSite for 'none'")
    expect_equal(attribute(attributes, "Secure"), None, "Secure alongside SameSite=None")


@pytest.mark.requirement("RESP-COOKIE-SAMESITE-OMITTED")
def test_cookie_samesite_none_value(server: Server) -> None:
    refused = refused_cookies(server).get("nosite")
    if refused in ("TypeError", "ValueError"):
        not_applicable(f"set_cookie refuses samesite=None ({refused}): API.md names no None")
    _, attributes = cookie(server, "nosite")
    samesite = attributes.get("samesite", [])
    if not samesite:
        return  # no SameSite attribute: the user agent's default applies
    # rfc6265bis §5.7 (storage model): a cookie whose same-site-flag is "None" is ignored
    # entirely unless its secure-only-flag is true.
    expect_true(
        str(attribute(attributes, "SameSite")).lower() != "none" or "secure" in attributes,
        "a cookie the user agent keeps",
        "no SameSite, SameSite=Strict/Lax, or SameSite=None with Secure",
        repr(attributes),
    )


@pytest.mark.requirement("RESP-COOKIE-EXPIRES-DATETIME")
def test_cookie_expires_datetime(server: Server) -> None:
    refused = refused_cookies(server).get("dated")
    if refused == "TypeError":
        not_applicable("set_cookie takes no datetime expires (API.md names no type for it)")
    _, attributes = cookie(server, "dated")
    value = attribute(attributes, "Expires")
    check_imf_fixdate(value, "Expires")
    expect_equal(value, format_datetime(COOKIE_DATE, usegmt=True), "Expires for the datetime")


@pytest.mark.requirement("RESP-COOKIE-EXPIRES-SECONDS")
def test_cookie_expires_seconds_from_now(server: Server) -> None:
    _, attributes = cookie(server, "relative")
    when = check_imf_fixdate(attribute(attributes, "Expires"), "Expires")
    # The cached exchange may be a little older than now: allow a generous window.
    offset = when.timestamp() - time.time()
    expect_true(
        3000 < offset <= 3601, "Expires is 3600 s from now", "about +3600 s", f"{offset:+.0f} s"
    )


@pytest.mark.requirement("RESP-COOKIE-DELETE-VALUE")
def test_delete_cookie_empty_value(server: Server) -> None:
    value, _ = cookie(server, "gone", "delete-cookie")
    # cookie-value = *cookie-octet / ( DQUOTE *cookie-octet DQUOTE ): '' and '""' both hold
    # no cookie-octet (RFC 6265 §4.1.1).
    expect_in(value, ("", '""'), "value of a deleted cookie (empty, bare or quoted)")


@pytest.mark.requirement("RESP-COOKIE-DELETE-EXPIRES")
def test_delete_cookie_expires_now(server: Server) -> None:
    _, attributes = cookie(server, "gone", "delete-cookie")
    expect_equal(attribute(attributes, "Max-Age"), "0", "Max-Age of a deleted cookie")
    when = check_imf_fixdate(attribute(attributes, "Expires"), "Expires")
    expect_true(when.timestamp() < time.time(), "Expires in the past", "a past date", str(when))


@pytest.mark.requirement("RESP-COOKIE-DELETE-SCOPE")
def test_delete_cookie_same_path_and_domain(server: Server) -> None:
    _, attributes = cookie(server, "gone", "delete-cookie")
    expect_equal(attribute(attributes, "Path"), "/area", "Path of the deleted cookie")
    expect_equal(attribute(attributes, "Domain"), "example.org", "Domain of the deleted cookie")


# RFC 6265 §4.1.1: cookie-pair = cookie-name "=" cookie-value; cookie-name = token;
# cookie-value = *cookie-octet / ( DQUOTE *cookie-octet DQUOTE )
COOKIE_OCTETS = r"[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*"
COOKIE_PAIR = re.compile(rf"([!#$%&'*+\-.^_`|~0-9A-Za-z]+)=({COOKIE_OCTETS}|\"{COOKIE_OCTETS}\")")


def check_cookie_refused_or_encoded(server: Server, name: str, *kinds: str) -> None:
    """Refused as :func:`check_refused` wants, or sent as one grammatical cookie ``name``.

    An implementation may encode a value it cannot send as it is, provided the line
    matches the grammar (RFC 9110 §2.2) and the value adds no attribute (no Domain).
    """
    for kind in kinds:
        answer = refusal(server, kind)
        if answer["raised"]:
            check_refused(server, kind)
            continue
        starts = [m for m in answer["sent"] if m["type"] == "http.response.start"]
        lines = [v for m in starts for n, v in m["headers"] if n.lower() == "set-cookie"]
        expect_equal(len(lines), 1, f"Set-Cookie lines sent for {kind} (not refused)")
        pair, _, attributes = lines[0].partition(";")
        matched = COOKIE_PAIR.fullmatch(pair)
        expect_true(
            matched is not None and matched.group(1) == name,
            f"the cookie-pair sent for {kind} matches RFC 6265 §4.1.1",
            f"{name}=<cookie-octets>, or an error before sending",
            repr(lines[0]),
        )
        names = [a.strip().partition("=")[0].lower() for a in attributes.split(";") if a.strip()]
        expect_true(
            "domain" not in names,
            f"the value of {kind} adds no attribute",
            "no Domain attribute (none was set)",
            repr(lines[0]),
        )


@pytest.mark.requirement("RESP-COOKIE-VALUE-REFUSED")
def test_bad_cookie_value_refused(server: Server) -> None:
    check_cookie_refused_or_encoded(server, "c", "cookie-value-crlf", "cookie-value-semicolon")
    check_refused(server, "cookie-name-equals")  # no token can spell "c=d": refusal only


@pytest.mark.requirement("RESP-COOKIE-ATTRIBUTE-REFUSED")
def test_bad_cookie_attribute_refused(server: Server) -> None:
    check_refused(server, "cookie-path-crlf", "cookie-path-semicolon", "cookie-domain-crlf")


# -- header injection ----------------------------------------------------------------------------


@pytest.mark.requirement("RESP-HEADER-VALUE-CRLF-REFUSED")
def test_header_value_with_cr_or_lf_refused(server: Server) -> None:
    check_refused(server, "header-value-crlf", "header-value-lf", "header-value-cr")


@pytest.mark.requirement("RESP-HEADER-SET-CRLF-REFUSED")
def test_header_set_with_lf_refused(server: Server) -> None:
    check_refused(server, "header-value-set")


@pytest.mark.requirement("RESP-HEADER-NAME-REFUSED")
def test_header_name_not_a_token_refused(server: Server) -> None:
    check_refused(server, "header-name-crlf", "header-name-colon")


@pytest.mark.requirement("RESP-MEDIA-TYPE-CRLF-REFUSED")
def test_media_type_with_crlf_refused(server: Server) -> None:
    check_refused(server, "media-type-crlf")


# -- statuses without content --------------------------------------------------------------------


def check_no_body(server: Server, name: str, status: int) -> RawResponse:
    response, rest = fetch_closing(server, name)
    check_status(response, status)
    expect_equal(rest, b"", f"bytes after the head of a {status} response")
    expect_equal(response.header_values("transfer-encoding"), [], f"Transfer-Encoding on {status}")
    return response


@pytest.mark.requirement("RESP-NO-BODY-204")
def test_bare_204_has_no_body_and_no_length(server: Server) -> None:
    response = check_no_body(server, "empty-204", 204)
    expect_equal(response.header_values("content-length"), [], "Content-Length on a 204")


@pytest.mark.requirement("RESP-NO-BODY-204-SMALL")
def test_small_response_204_has_no_body_and_no_length(server: Server) -> None:
    response = check_no_body(server, "small-204", 204)
    expect_equal(response.header_values("content-length"), [], "Content-Length on a 204")


@pytest.mark.requirement("RESP-NO-BODY-304")
def test_bare_304_has_no_body(server: Server) -> None:
    response = check_no_body(server, "empty-304", 304)
    expect_equal(response.header_values("etag"), ['"v1"'], "ETag given to the 304")


@pytest.mark.requirement("RESP-NO-BODY-304-SMALL")
def test_small_response_304_has_no_body(server: Server) -> None:
    response = check_no_body(server, "small-304", 304)
    expect_in(
        response.header_values("content-length"),
        ([], [str(len(b"content"))]),
        "Content-Length on a 304: absent or the 200 response's length",
    )


# -- SmallResponse, PlainTextResponse, HTMLResponse ----------------------------------------------


@pytest.mark.requirement("RESP-SMALL-CONTENT-LENGTH")
def test_small_response_exact_content_length(server: Server) -> None:
    response = fetch(server, "text")
    expect_equal(response.framing, "length", "framing of a SmallResponse")
    expect_equal(only(response, "content-length"), str(len(TEXT.encode())), "Content-Length")


@pytest.mark.requirement("RESP-SMALL-STR-BODY")
def test_small_response_str_body_utf8(server: Server) -> None:
    expect_equal(fetch(server, "text").body, TEXT.encode("utf-8"), "body of a str content")


@pytest.mark.requirement("RESP-SMALL-BYTES-BODY")
def test_small_response_bytes_body_verbatim(server: Server) -> None:
    response = fetch(server, "text-bytes")
    expect_equal(response.body, BINARY, "body of a bytes content")
    expect_equal(only(response, "content-length"), str(len(BINARY)), "Content-Length")


@pytest.mark.requirement("RESP-SMALL-CHARSET-TEXT", "RESP-PLAIN-DEFAULT")
def test_plain_text_defaults(server: Server) -> None:
    response = fetch(server, "text")
    check_status(response, 200)
    kind, params = media_type(only(response, "content-type"))
    expect_equal(kind, "text/plain", "media type of PlainTextResponse")
    expect_equal(params.get("charset", "").lower(), "utf-8", "charset parameter")


@pytest.mark.requirement("RESP-SMALL-MEDIA-TYPE-CUSTOM")
def test_custom_text_media_type_gets_charset(server: Server) -> None:
    response = fetch(server, "text-csv")
    kind, params = media_type(only(response, "content-type"))
    expect_equal(kind, "text/csv", "the media_type given")
    expect_equal(params.get("charset", "").lower(), "utf-8", "charset parameter on text/csv")
    expect_equal(response.body, b"a,b\r\n1,2\r\n", "body")


@pytest.mark.requirement("RESP-SMALL-MEDIA-TYPE-NON-TEXT")
def test_non_text_media_type_without_charset(server: Server) -> None:
    response = fetch(server, "xml")
    expect_equal(only(response, "content-type"), "application/xml", "Content-Type")
    expect_equal(response.body, "<a>\u00e9</a>".encode(), "body (UTF-8)")


@pytest.mark.requirement("RESP-SMALL-CHARSET-CUSTOM")
def test_custom_charset_encodes_body(server: Server) -> None:
    response = fetch(server, "latin-1")
    kind, params = media_type(only(response, "content-type"))
    expect_equal(kind, "text/plain", "media type")
    expect_in(params.get("charset", "").lower(), ("latin-1", "iso-8859-1"), "charset")
    expected = "h\u00e9llo \u00ff".encode("latin-1")
    expect_equal(response.body, expected, "body encoded with the charset")
    expect_equal(only(response, "content-length"), str(len(expected)), "Content-Length")


@pytest.mark.requirement("RESP-SMALL-CONTENT-TYPE-GIVEN")
def test_given_content_type_kept_once(server: Server) -> None:
    response = fetch(server, "text-given-type")
    expect_equal(response.header_values("content-type"), ["text/x-given"], "Content-Type lines")


@pytest.mark.requirement("RESP-SMALL-STATUS-CUSTOM")
def test_small_response_custom_status(server: Server) -> None:
    for name, status, body in (
        ("text-201", 201, b"created"),
        ("text-418", 418, b"teapot"),
        ("text-503", 503, b"unavailable"),
    ):
        response = fetch(server, name)
        check_status(response, status)
        expect_equal(response.body, body, f"body of the {status} response")
    expect_equal(fetch(server, "text-503").header_values("retry-after"), ["120"], "Retry-After")


@pytest.mark.requirement("RESP-SMALL-HEAD-NO-BODY")
def test_head_has_no_body(server: Server) -> None:
    response, rest = fetch_closing(server, "text", "HEAD")
    check_status(response, 200)
    expect_equal(rest, b"", "bytes after the head of a HEAD response")


@pytest.mark.requirement("RESP-SMALL-HEAD-ASGI")
def test_head_body_message_is_empty(server: Server) -> None:
    token = uuid.uuid4().hex
    request = build_request("HEAD", path(f"recorded/text/{token}"), {"Connection": "close"})
    server.raw(request, timeout=RAW_TIMEOUT)
    record = poll_result(server, token, lambda r: r is not None, "the HEAD response was recorded")
    bodies = [m["body"] for m in record["messages"] if m["type"] == "http.response.body"]
    expect_true(bool(bodies), "a body message for HEAD", "at least one", repr(record))
    expect_equal("".join(bodies), "", "body bytes the response hands the server for HEAD")


@pytest.mark.requirement("RESP-SMALL-HEAD-SAME-HEADERS")
def test_head_has_the_get_headers(server: Server) -> None:
    head, _ = fetch_closing(server, "text", "HEAD")
    get = fetch(server, "text")
    for name in ("content-length", "content-type"):
        expect_equal(head.header_values(name), get.header_values(name), f"{name} for HEAD")


@pytest.mark.requirement("RESP-HTML-DEFAULT")
def test_html_response_defaults(server: Server) -> None:
    response = fetch(server, "html")
    check_status(response, 200)
    kind, params = media_type(only(response, "content-type"))
    expect_equal(kind, "text/html", "media type of HTMLResponse")
    expect_equal(params.get("charset", "").lower(), "utf-8", "charset parameter")
    expected = ("<p>" + TEXT + "</p>").encode()
    expect_equal(response.body, expected, "body")
    expect_equal(only(response, "content-length"), str(len(expected)), "Content-Length")


@pytest.mark.requirement("RESP-HTML-BYTES")
def test_html_response_bytes(server: Server) -> None:
    response = fetch(server, "html-bytes")
    expect_equal(response.body, b"<p>\xc3\xa9</p>", "body of a bytes content")
    expect_equal(media_type(only(response, "content-type"))[0], "text/html", "media type")


# -- JSONResponse --------------------------------------------------------------------------------


@pytest.mark.requirement("RESP-JSON-COMPACT")
def test_json_compact_separators(server: Server) -> None:
    body = fetch(server, "json").body
    expect_equal(body, json.dumps(JSON_VALUE, **COMPACT).encode(), "JSON body")


@pytest.mark.requirement("RESP-JSON-UTF8")
def test_json_non_ascii_as_utf8(server: Server) -> None:
    response = fetch(server, "json")
    expect_true(
        "\u00e9\u20ac\U0001f600".encode() in response.body and b"\\u" not in response.body,
        "non-ASCII characters travel as UTF-8 bytes",
        "raw UTF-8, no \\u escapes",
        repr(response.body),
    )
    expect_equal(json.loads(response.body.decode("utf-8")), JSON_VALUE, "decoded JSON value")
    expect_equal(only(response, "content-length"), str(len(response.body)), "Content-Length")


@pytest.mark.requirement("RESP-JSON-MEDIA-TYPE")
def test_json_media_type(server: Server) -> None:
    kind, params = media_type(only(fetch(server, "json"), "content-type"))
    expect_equal(kind, "application/json", "media type")
    expect_in(params.get("charset", "utf-8").lower(), ("utf-8",), "charset parameter, if any")


@pytest.mark.requirement("RESP-JSON-KWARGS")
def test_json_kwargs_reach_dumps(server: Server) -> None:
    body = fetch(server, "json-kwargs").body
    expected = json.dumps(
        JSON_VALUE, indent=2, sort_keys=True, separators=(",", ": "), ensure_ascii=False
    )
    expect_equal(body.decode("utf-8"), expected, "JSON body with indent, sort_keys, separators")


@pytest.mark.requirement("RESP-JSON-KWARGS-OVERRIDE")
def test_json_kwargs_override_defaults(server: Server) -> None:
    body = fetch(server, "json-ascii").body
    expected = json.dumps(JSON_VALUE, separators=(",", ":"), ensure_ascii=True)
    expect_equal(body.decode("ascii", "replace"), expected, "JSON body with ensure_ascii=True")


@pytest.mark.requirement("RESP-JSON-NAN-REFUSED")
def test_json_nan_and_infinity_refused(server: Server) -> None:
    check_refused(server, "json-nan", "json-infinity")


_json_leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
json_values = st.recursive(
    _json_leaves,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=10,
)


@pytest.mark.requirement("RESP-JSON-ROUND-TRIP")
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(value=json_values)
def test_json_round_trip(server: Server, value: Any) -> None:
    key = ("client", server.base_url)
    if key not in _cache:
        _cache[key] = _clients.enter_context(server.http())
    client: httpx.Client = _cache[key]
    response = client.post(path("json-echo"), content=json.dumps(value).encode())
    expect_equal(response.status_code, 200, "status")
    expected = json.dumps(value, **COMPACT).encode()
    expect_equal(response.content, expected, "JSONResponse body for the value sent")
    expect_equal(response.headers.get("content-length"), str(len(expected)), "Content-Length")


# -- RedirectResponse ----------------------------------------------------------------------------


def check_redirect(server: Server, name: str, status: int, location: str) -> RawResponse:
    response = fetch(server, name)
    check_status(response, status)
    expect_equal(only(response, "location"), location, "Location")
    return response


@pytest.mark.requirement("RESP-REDIRECT-DEFAULT-307")
def test_redirect_default_307(server: Server) -> None:
    check_redirect(server, "redirect", 307, "/target?x=1")


@pytest.mark.requirement("RESP-REDIRECT-CODES")
def test_redirect_other_codes(server: Server) -> None:
    for status in (301, 302, 303, 307, 308):
        check_redirect(server, f"redirect-{status}", status, "/target?x=1")


@pytest.mark.requirement("RESP-REDIRECT-EMPTY-BODY")
def test_redirect_empty_body(server: Server) -> None:
    response = fetch(server, "redirect")
    expect_equal(response.body, b"", "redirect body")
    expect_equal(only(response, "content-length"), "0", "Content-Length of a redirect")


@pytest.mark.requirement("RESP-REDIRECT-IRI")
def test_redirect_iri_to_uri(server: Server) -> None:
    location = "/caf%C3%A9/%E6%BC%A2%E5%AD%97?q=%C3%BC&x=1#fr%C3%A4g"
    check_redirect(server, "redirect-iri", 307, location)


@pytest.mark.requirement("RESP-REDIRECT-KEEP-ESCAPES")
def test_redirect_keeps_percent_escapes(server: Server) -> None:
    check_redirect(server, "redirect-escaped", 307, "/a%20b/%C3%A9?x=%2F&y=%25")


@pytest.mark.requirement("RESP-REDIRECT-ABSOLUTE")
def test_redirect_absolute_url(server: Server) -> None:
    location = "https://example.com/p%C3%A4th?q=a/b&r=%41#top"
    check_redirect(server, "redirect-absolute", 307, location)


@pytest.mark.requirement("RESP-REDIRECT-HEADERS")
def test_redirect_extra_headers(server: Server) -> None:
    response = check_redirect(server, "redirect-headers", 303, "/t")
    expect_equal(response.header_values("x-extra"), ["kept"], "extra header of a redirect")


@pytest.mark.requirement("RESP-REDIRECT-CRLF-REFUSED")
def test_redirect_crlf_refused(server: Server) -> None:
    """Refused (as check_refused judges) or percent-encoded (upstream's iri_to_uri): either
    way no CR or LF reaches the Location field and no header is injected."""
    urls = {
        "redirect-crlf": "/a\r\nx-injected: yes",
        "redirect-lf": "/a\nx-injected: yes",
        "redirect-cr": "/a\rx-injected: yes",
    }
    for kind, url in urls.items():
        answer = refusal(server, kind)
        if answer["raised"]:
            check_refused(server, kind)
            continue
        starts = [m for m in answer["sent"] if m["type"] == "http.response.start"]
        expect_true(bool(starts), f"{kind}: a response start was sent", "one", repr(answer))
        headers = [(name.lower(), value) for name, value in starts[0]["headers"]]
        locations = [value for name, value in headers if name == "location"]
        expect_equal(len(locations), 1, f"{kind}: one Location field")
        location = locations[0]
        expect_true(
            not any(char in location for char in "\r\n"),
            f"{kind}: no CR or LF in the Location value",
            "CR and LF percent-encoded",
            repr(location),
        )
        expect_equal(unquote(location), url, f"{kind}: the Location decodes to the URL given")
        injected = [name for name, _ in headers if name == "x-injected"]
        expect_equal(injected, [], f"{kind}: no header injected")


# -- StreamResponse ------------------------------------------------------------------------------


def recorded_stream(server: Server) -> tuple[RawResponse, dict[str, Any]]:
    key = ("stream", server.base_url)
    if key not in _cache:
        token = uuid.uuid4().hex
        request = build_request("GET", path(f"stream/{token}"))
        response = exchange(server.host, server.port, request, timeout=RAW_TIMEOUT)
        record = poll_result(server, token, lambda r: r is not None, "the stream was recorded")
        _cache[key] = (response, record)
    answer: tuple[RawResponse, dict[str, Any]] = _cache[key]
    return answer


@pytest.mark.requirement("RESP-STREAM-ORDER")
def test_stream_chunks_in_order(server: Server) -> None:
    response, _ = recorded_stream(server)
    check_status(response, 200)
    expect_equal(response.body, b"".join(STREAM_CHUNKS), "streamed body")


@pytest.mark.requirement("RESP-STREAM-CHUNKED")
def test_stream_chunked_one_chunk_per_send(server: Server) -> None:
    response, _ = recorded_stream(server)
    expect_equal(response.framing, "chunked", "framing of a body without Content-Length")
    expect_equal(response.chunks, STREAM_CHUNKS, "chunks on the wire, one per app chunk")


@pytest.mark.requirement("RESP-STREAM-MESSAGES")
def test_stream_one_body_message_per_chunk(server: Server) -> None:
    _, record = recorded_stream(server)
    messages = record["messages"]
    expect_equal(messages[0]["type"], "http.response.start", "first message")
    bodies = messages[1:]
    expect_true(bool(bodies), "body messages", "at least one", repr(messages))
    for message in bodies[:-1]:
        expect_equal(message["more_body"], True, "more_body on every body message but the last")
    expect_equal(bodies[-1]["more_body"], False, "more_body on the last body message")
    chunks = [message["body"].encode("latin-1") for message in bodies if message["body"]]
    expect_equal(chunks, STREAM_CHUNKS, "non-empty body messages, one per chunk")


@pytest.mark.requirement("RESP-STREAM-INCREMENTAL")
def test_stream_first_chunk_before_second_is_produced(server: Server) -> None:
    token = uuid.uuid4().hex
    with Connection(server.host, server.port, timeout=RAW_TIMEOUT, total_timeout=10) as conn:
        conn.send(build_request("GET", path(f"stream-gated/{token}")))
        events = conn.events("GET")
        body = b""
        for event in events:
            if isinstance(event, Data):
                body += event.data
                if len(body) >= len(b"first;"):
                    break
            elif isinstance(event, EndOfMessage):
                break
        expect_equal(body, b"first;", "bytes received while the app holds its second chunk")
        with server.http() as client:
            client.get(path(f"release/{token}"))
        for event in events:
            if isinstance(event, Data):
                body += event.data
    expect_equal(body, b"first;second;", "the whole body after the release")


@pytest.mark.requirement("RESP-STREAM-CONTENT-TYPE-DEFAULT")
def test_stream_default_content_type(server: Server) -> None:
    response = fetch(server, "stream-default")
    check_status(response, 200)
    expect_equal(only(response, "content-type"), "application/octet-stream", "Content-Type")
    expect_equal(response.body, b"x", "body")


@pytest.mark.requirement("RESP-STREAM-CUSTOM")
def test_stream_custom_status_headers_type(server: Server) -> None:
    response = fetch(server, "stream-custom")
    check_status(response, 201)
    expect_equal(response.header_values("x-stream"), ["yes"], "x-stream header")
    expect_equal(only(response, "content-type"), "application/x-ndjson", "Content-Type")
    expect_equal(response.body, b"x", "body")


@pytest.mark.requirement("RESP-STREAM-EMPTY")
def test_stream_empty_iterable(server: Server) -> None:
    response = fetch(server, "stream-empty")
    check_status(response, 200)
    expect_equal(response.body, b"", "body of an empty stream")


def disconnected_stream(server: Server) -> dict[str, Any]:
    """Read the first tick, close the socket, and wait until the response has finished."""
    key = ("endless", server.base_url)
    if key not in _cache:
        token = uuid.uuid4().hex
        with Connection(server.host, server.port, timeout=RAW_TIMEOUT, total_timeout=10) as conn:
            conn.send(build_request("GET", path(f"stream-endless/{token}")))
            body = b""
            for event in conn.events("GET"):
                if isinstance(event, Data):
                    body += event.data
                    if b"tick-00000;" in body:
                        break
                elif isinstance(event, EndOfMessage):
                    break
            expect_true(b"tick-00000;" in body, "first tick", "tick-00000;", repr(body))
        _cache[key] = poll_result(
            server,
            token,
            lambda r: r is not None and r["finally"] and r["done"],
            "the generator's finally ran and the response returned after the client closed",
        )
    record: dict[str, Any] = _cache[key]
    return record


@pytest.mark.requirement("RESP-STREAM-DISCONNECT-STOPS")
def test_stream_disconnect_closes_iterator(server: Server) -> None:
    record = disconnected_stream(server)
    expect_true(
        record["produced"] < ENDLESS_MAX,
        "the iterator stopped early",
        f"fewer than {ENDLESS_MAX} chunks",
        repr(record),
    )


@pytest.mark.requirement("RESP-STREAM-DISCONNECT-NO-SEND")
def test_stream_stops_pulling_once_client_gone(server: Server) -> None:
    expect_stopped_when_gone(disconnected_stream(server), "chunks the iterable")


@pytest.mark.requirement("RESP-STREAM-DISCONNECT-QUIET")
def test_stream_disconnect_raises_nothing(server: Server) -> None:
    record = disconnected_stream(server)
    expect_in(
        record["escaped"],
        (None, "CancelledError", "Cancelled"),
        "exception escaping the response after a disconnect (a cancellation is the server's)",
    )
