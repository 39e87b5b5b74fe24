"""Static files requirements (requirements/staticfiles.toml): serving, conditionals, Pages.

The path-safety cases are in ``test_staticfiles_traversal.py`` and use the helpers here. The
scenario app (``conformance/apps/staticfiles.py``) writes its files at import time with the
contents of :func:`content` (the same formula, computed here); every mtime is
2021-03-04 05:06:07 UTC. Every exchange goes over a raw socket so that targets and the bytes
after a header section are seen exactly.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.budget import BOUNDED, Budget, budget_fixture  # noqa: F401 (the fixture "budget")
from conformance.harness import expect_equal, expect_in, expect_true, not_applicable
from conformance.harness.byteranges import (
    check_against_file,
    parse_byteranges,
    parse_content_range,
)
from conformance.harness.polling import poll_result
from conformance.harness.rawhttp import Connection, RawResponse, build_request, exchange
from conformance.harness.server import Server

# Every case reads or writes HTTP/1.1 (or WebSocket) bytes: none is generated for h2c/h2
# columns (harness/transport.py); HTTP/2 twins live in test_h2_twins.py.
pytestmark = pytest.mark.h1_only

FILES = "/staticfiles/files"
PRIVATE = "/staticfiles/private"
CUSTOM404 = "/staticfiles/custom404"
PAGES = "/staticfiles/pages"
SECRET_MARKER = b"STATICFILES-SECRET-9f2c4e71-outside-the-served-directory"
HANDLE_404_MARKER = b"custom-handle-404-app-answered"
SERVED_FILES = {
    "hello.txt": 200,
    "index.html": 120,
    "about.html": 150,
    "style.css": 90,
    "script.js": 80,
    "data.json": 70,
    "image.png": 300,
    "blob.bin": 3000,
    "caf\u00e9.txt": 64,
    "sub/index.html": 110,
    "sub/inner.txt": 50,
}
#: Symlinks inside the served directory that stay inside: link -> target.
INSIDE_LINKS = {"link-in.txt": "hello.txt"}
LAST_MODIFIED = "Thu, 04 Mar 2021 05:06:07 GMT"
ONE_SECOND_BEFORE = "Thu, 04 Mar 2021 05:06:06 GMT"
ONE_DAY_AFTER = "Fri, 05 Mar 2021 05:06:07 GMT"
DEFAULT_CACHE = "public, max-age=600"
PRIVATE_CACHE = "private, max-age=30"
RESULT_DEADLINE = 5.0
RESULT_POLL = 0.02

# entity-tag = [ weak ] opaque-tag; opaque-tag = DQUOTE *etagc DQUOTE (RFC 9110 §8.8.3)
ENTITY_TAG = re.compile(r'(W/)?"[\x21\x23-\x7e\x80-\xff]*"')
# IMF-fixdate (RFC 9110 §5.6.7)
IMF_FIXDATE = re.compile(
    r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} "
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT"
)


def content(name: str) -> bytes:
    """The bytes the scenario app wrote for ``name`` (same formula, computed here)."""
    size = SERVED_FILES[name]
    head = f"<{name}>".encode()
    pattern = bytes(0x21 + byte % 90 for byte in hashlib.shake_256(name.encode()).digest(size))
    return (head + pattern)[:size]


def fetch(
    server: Server,
    target: str,
    headers: Sequence[tuple[str, str]] = (),
    *,
    method: str = "GET",
) -> RawResponse:
    """One exchange on a new connection, ``target`` sent byte for byte, read strictly."""
    request = build_request(method, target, [*headers, ("Connection", "close")])
    return exchange(server.host, server.port, request, method_hint=method, timeout=5.0)


def read_to_close(
    server: Server, target: str, headers: Sequence[tuple[str, str]] = (), method: str = "GET"
) -> tuple[bytes, bytes]:
    """Send one request with ``Connection: close``; answer (head, everything after it)."""
    raw = server.raw(build_request(method, target, [*headers, ("Connection", "close")]))
    head, sep, rest = raw.partition(b"\r\n\r\n")
    expect_true(bool(sep), "a complete header section", "a blank line after the head", repr(raw))
    return head, rest


def status_of(head: bytes) -> int:
    """The status code of a raw status line."""
    line = head.split(b"\r\n", 1)[0]
    match = re.fullmatch(rb"HTTP/1\.[01] ([0-9]{3})(?: .*)?", line)
    expect_true(match is not None, "a status line", "HTTP/1.x NNN reason", repr(line))
    assert match is not None
    return int(match.group(1))


def expect_file(response: RawResponse, name: str, what: str) -> None:
    """200 with exactly the bytes of the served file ``name``."""
    expect_equal(response.status, 200, f"{what}: status")
    expect_true(
        response.body == content(name),
        f"{what}: body is the file's bytes",
        f"{len(content(name))} bytes of {name}",
        f"{len(response.body)} bytes starting {response.body[:40]!r}",
    )


def etag_of(server: Server, target: str = FILES + "/hello.txt") -> str:
    """The ETag a plain GET of ``target`` carries (checked to be an entity-tag)."""
    response = fetch(server, target)
    expect_equal(response.status, 200, f"GET {target}: status")
    etag = response.header("etag")
    expect_true(
        etag is not None and ENTITY_TAG.fullmatch(etag) is not None,
        "ETag is an entity-tag (RFC 9110 §8.8.3)",
        '[W/]"etagc*"',
        repr(etag),
    )
    assert etag is not None
    return etag


def other_weakness(etag: str) -> str:
    """The same opaque tag with the other weakness: ``"x"`` <-> ``W/"x"``."""
    return etag[2:] if etag.startswith("W/") else "W/" + etag


# --- serving ----------------------------------------------------------------


@pytest.mark.requirement("STATIC-SERVE-BODY")
@pytest.mark.parametrize("name", ["hello.txt", "blob.bin", "image.png"])
def test_serve_body(server: Server, name: str) -> None:
    expect_file(fetch(server, f"{FILES}/{name}"), name, f"GET {name}")


@pytest.mark.requirement("STATIC-SERVE-SUBDIR")
def test_serve_subdir(server: Server) -> None:
    expect_file(fetch(server, FILES + "/sub/inner.txt"), "sub/inner.txt", "GET /sub/inner.txt")


@pytest.mark.requirement("STATIC-SERVE-NON-ASCII")
def test_serve_non_ascii(server: Server) -> None:
    response = fetch(server, FILES + "/caf%C3%A9.txt")
    expect_file(response, "caf\u00e9.txt", "GET /caf%C3%A9.txt")


@pytest.mark.requirement("STATIC-SYMLINK-INSIDE")
def test_symlink_inside(server: Server) -> None:
    for link, name in INSIDE_LINKS.items():
        expect_file(fetch(server, f"{FILES}/{link}"), name, f"GET {link} (-> {name})")


@pytest.mark.requirement("STATIC-CONTENT-TYPE")
def test_content_type(server: Server) -> None:
    expected = {
        "hello.txt": ["text/plain"],
        "index.html": ["text/html"],
        "style.css": ["text/css"],
        "data.json": ["application/json"],
        "image.png": ["image/png"],
        "script.js": ["text/javascript", "application/javascript", "application/x-javascript"],
    }
    for name, accepted in expected.items():
        value = fetch(server, f"{FILES}/{name}").header("content-type") or ""
        media = value.split(";", 1)[0].strip().lower()
        expect_in(media, accepted, f"Content-Type media type of {name} ({value!r})")


@pytest.mark.requirement("STATIC-CACHE-CONTROL-DEFAULT")
def test_cache_control_default(server: Server) -> None:
    response = fetch(server, FILES + "/hello.txt")
    expect_equal(response.status, 200, "status")
    expect_equal(response.header("cache-control"), DEFAULT_CACHE, "Cache-Control of Files()")


@pytest.mark.requirement("STATIC-CACHE-CONTROL-CUSTOM")
def test_cache_control_custom(server: Server) -> None:
    response = fetch(server, PRIVATE + "/hello.txt")
    expect_file(response, "hello.txt", "GET through the private mount")
    expect_equal(response.header("cache-control"), PRIVATE_CACHE, "Cache-Control")


@pytest.mark.requirement("STATIC-ETAG")
def test_etag(server: Server) -> None:
    first = etag_of(server)
    second = etag_of(server)
    expect_equal(second, first, "the ETag of an unchanged file is stable")


@pytest.mark.requirement("STATIC-LAST-MODIFIED")
def test_last_modified(server: Server) -> None:
    value = fetch(server, FILES + "/hello.txt").header("last-modified")
    expect_true(
        value is not None and IMF_FIXDATE.fullmatch(value) is not None,
        "Last-Modified is an IMF-fixdate",
        "e.g. 'Thu, 04 Mar 2021 05:06:07 GMT'",
        repr(value),
    )
    expect_equal(value, LAST_MODIFIED, "Last-Modified is the file's mtime")


@pytest.mark.requirement("STATIC-HEAD")
def test_head(server: Server) -> None:
    head, rest = read_to_close(server, FILES + "/hello.txt", method="HEAD")
    expect_equal(status_of(head), 200, "HEAD status")
    expect_equal(rest, b"", "bytes after the HEAD response's header section")


@pytest.mark.requirement("STATIC-HEAD-HEADERS")
def test_head_headers(server: Server) -> None:
    get = fetch(server, FILES + "/hello.txt")
    head, _ = read_to_close(server, FILES + "/hello.txt", method="HEAD")
    expect_equal(status_of(head), 200, "HEAD status")
    fields: dict[str, str] = {}
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.decode("latin-1").partition(":")
        fields[name.strip().lower()] = value.strip()
    for name in ("content-type", "content-length", "etag", "last-modified", "cache-control"):
        expect_equal(fields.get(name), get.header(name), f"HEAD's {name} equals GET's")


@pytest.mark.requirement("STATIC-HEAD-ASGI")
def test_head_asgi(server: Server) -> None:
    token = uuid.uuid4().hex
    request = build_request("HEAD", f"{FILES}/blob.bin?record={token}")
    # Keep the connection open until the app has returned: a close could make a broken
    # implementation stop sending its body early and look right.
    with Connection(server.host, server.port, timeout=5.0) as connection:
        connection.send(request)
        response = connection.read_response("HEAD")
        expect_equal(response.status, 200, "HEAD status")

        def read() -> Any:
            record = fetch(server, f"/staticfiles/result/{token}")
            expect_equal(record.status, 200, "result endpoint status")
            return json.loads(record.body)

        data = poll_result(
            read,
            lambda d: d is not None and d["done"],
            "",
            seconds=RESULT_DEADLINE,
            interval=RESULT_POLL,
            expect=False,
        )
    expect_true(
        data is not None and data["done"], "the app finished the HEAD exchange", "done", repr(data)
    )
    expect_equal(data["body_bytes"], 0, f"body bytes sent for HEAD (messages {data['types']})")
    sent = [kind for kind in data["types"] if kind not in ("http.response.start",)]
    expect_true(
        all(kind == "http.response.body" for kind in sent),
        "HEAD sends only http.response.body after the start",
        "no pathsend / zerocopysend",
        repr(data["types"]),
    )


@pytest.mark.requirement("STATIC-METHOD-405")
@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_method_not_allowed(server: Server, method: str) -> None:
    response = fetch(server, FILES + "/hello.txt", method=method)
    expect_equal(response.status, 405, f"{method} status")
    allow = response.header("allow") or ""
    methods = sorted(item.strip().upper() for item in allow.split(",") if item.strip())
    expect_equal(methods, ["GET", "HEAD"], f"Allow of the 405 ({allow!r})")


@pytest.mark.requirement("STATIC-RANGE-SINGLE")
def test_range_single(server: Server) -> None:
    response = fetch(server, FILES + "/blob.bin", [("Range", "bytes=10-109")])
    expect_equal(response.status, 206, "status")
    value = response.header("content-range") or ""
    expect_equal(parse_content_range(value), (10, 109, 3000), f"Content-Range {value!r}")
    expect_equal(response.body, content("blob.bin")[10:110], "the 100 bytes of the range")


@pytest.mark.requirement("STATIC-RANGE-MULTI")
def test_range_multi(server: Server) -> None:
    response = fetch(server, FILES + "/blob.bin", [("Range", "bytes=0-9,100-199,2990-")])
    expect_equal(response.status, 206, "status")
    parts = parse_byteranges(
        response.body, response.header("content-type") or "", total_length=3000
    )
    expect_equal(
        [part.content_range for part in parts],
        [(0, 9, 3000), (100, 199, 3000), (2990, 2999, 3000)],
        "the parts' ranges",
    )
    check_against_file(parts, content("blob.bin"))


@pytest.mark.requirement("STATIC-MISSING-404")
def test_missing(server: Server) -> None:
    for target in ("/no-such-file.txt", "/sub/no-such-file.txt", "/no-such-dir/x.txt"):
        expect_equal(fetch(server, FILES + target).status, 404, f"GET {target}")


@pytest.mark.requirement("STATIC-HANDLE-404")
def test_handle_404(server: Server) -> None:
    response = fetch(server, CUSTOM404 + "/no-such-file.txt")
    expect_equal(response.status, 404, "status from the handle_404 app")
    expect_equal(response.body, HANDLE_404_MARKER, "body from the handle_404 app")
    expect_file(fetch(server, CUSTOM404 + "/hello.txt"), "hello.txt", "an existing file")


@pytest.mark.requirement("STATIC-DIRECTORY-404")
def test_directory(server: Server) -> None:
    for target in ("/sub", "/sub/", "/emptydir/", "/"):
        expect_equal(fetch(server, FILES + target).status, 404, f"GET {target} (a directory)")


# --- conditional requests ---------------------------------------------------


def conditional_status(server: Server, headers: Sequence[tuple[str, str]]) -> RawResponse:
    return fetch(server, FILES + "/hello.txt", headers)


@pytest.mark.requirement("STATIC-INM-STRONG")
def test_inm_same(server: Server) -> None:
    etag = etag_of(server)
    response = conditional_status(server, [("If-None-Match", etag)])
    expect_equal(response.status, 304, f"If-None-Match: {etag}")


@pytest.mark.requirement("STATIC-INM-WEAK")
def test_inm_weak(server: Server) -> None:
    tag = other_weakness(etag_of(server))
    response = conditional_status(server, [("If-None-Match", tag)])
    expect_equal(response.status, 304, f"If-None-Match: {tag} (weak comparison)")


@pytest.mark.requirement("STATIC-INM-LIST")
def test_inm_list(server: Server) -> None:
    value = f'"a", W/"b", {etag_of(server)}, "c"'
    response = conditional_status(server, [("If-None-Match", value)])
    expect_equal(response.status, 304, f"If-None-Match: {value}")


@pytest.mark.requirement("STATIC-INM-STAR")
def test_inm_star(server: Server) -> None:
    response = conditional_status(server, [("If-None-Match", "*")])
    expect_equal(response.status, 304, "If-None-Match: *")


@pytest.mark.requirement("STATIC-INM-MISMATCH")
def test_inm_mismatch(server: Server) -> None:
    etag = etag_of(server)
    value = f'"not-{etag.strip(chr(34))[-8:]}", W/"other"'
    response = conditional_status(server, [("If-None-Match", value)])
    expect_file(response, "hello.txt", f"If-None-Match: {value}")


@pytest.mark.requirement("STATIC-INM-OVER-IMS")
def test_inm_over_ims(server: Server) -> None:
    headers = [("If-None-Match", '"no-such-tag"'), ("If-Modified-Since", ONE_DAY_AFTER)]
    expect_file(conditional_status(server, headers), "hello.txt", "mismatching INM with IMS")


@pytest.mark.requirement("STATIC-IMS-LATER")
def test_ims_later(server: Server) -> None:
    response = conditional_status(server, [("If-Modified-Since", ONE_DAY_AFTER)])
    expect_equal(response.status, 304, f"If-Modified-Since: {ONE_DAY_AFTER}")


@pytest.mark.requirement("STATIC-IMS-EQUAL")
def test_ims_equal(server: Server) -> None:
    response = conditional_status(server, [("If-Modified-Since", LAST_MODIFIED)])
    expect_equal(response.status, 304, f"If-Modified-Since: {LAST_MODIFIED}")


@pytest.mark.requirement("STATIC-IMS-EARLIER")
def test_ims_earlier(server: Server) -> None:
    response = conditional_status(server, [("If-Modified-Since", ONE_SECOND_BEFORE)])
    expect_file(response, "hello.txt", f"If-Modified-Since: {ONE_SECOND_BEFORE}")


@pytest.mark.requirement("STATIC-IMS-INVALID")
@pytest.mark.parametrize(
    "value", ["not a date", "Thu, 04 Mar 2021 05:06:07", "2099-01-01T00:00:00Z", "Thu, 31 Feb 2099"]
)
def test_ims_invalid(server: Server, value: str) -> None:
    response = conditional_status(server, [("If-Modified-Since", value)])
    expect_file(response, "hello.txt", f"If-Modified-Since: {value!r} (ignored)")


@pytest.mark.requirement("STATIC-IF-MATCH")
def test_if_match(server: Server) -> None:
    etag = etag_of(server)
    failed = conditional_status(server, [("If-Match", '"other", "another"')])
    # "MUST NOT perform the requested method"; 412 is what the server "MAY" answer.
    expect_true(
        400 <= failed.status < 500,
        "If-Match listing only other tags: the GET is not performed",
        "412 (or another 4xx)",
        f"{failed.status}",
    )
    if not etag.startswith("W/"):
        expect_file(conditional_status(server, [("If-Match", etag)]), "hello.txt", "If-Match")


def only_304(response: RawResponse, what: str) -> None:
    """For a clause about 304 responses: a 200 (the condition not honoured, which its own
    STATIC-INM-*/STATIC-IMS-* requirement judges) leaves it not exercised."""
    if response.status == 200:
        not_applicable(f"{what}: answered 200, so no 304 to check")
    expect_equal(response.status, 304, f"{what}: status")


@pytest.mark.requirement("STATIC-304-VALIDATORS")
def test_304_validators(server: Server) -> None:
    etag = etag_of(server)
    response = conditional_status(server, [("If-None-Match", etag)])
    only_304(response, "If-None-Match: <the ETag>")
    expect_equal(response.header("etag"), etag, "ETag of the 304")
    expect_equal(response.header("cache-control"), DEFAULT_CACHE, "Cache-Control of the 304")


@pytest.mark.requirement("STATIC-304-LAST-MODIFIED")
def test_304_last_modified(server: Server) -> None:
    etag = etag_of(server)
    response = conditional_status(server, [("If-Modified-Since", LAST_MODIFIED)])
    only_304(response, "If-Modified-Since: <Last-Modified>")
    expect_equal(response.header("etag"), etag, "ETag of the 304 to If-Modified-Since")
    # Optional on a 304 (RFC 9110 §15.4.5 allows it; API.md does not ask for it); if sent, exact.
    if response.header("last-modified") is not None:
        expect_equal(response.header("last-modified"), LAST_MODIFIED, "Last-Modified of the 304")


@pytest.mark.requirement("STATIC-304-NO-BODY")
@pytest.mark.parametrize(
    "header", [("If-None-Match", "*"), ("If-Modified-Since", LAST_MODIFIED)], ids=["inm", "ims"]
)
def test_304_no_body(server: Server, header: tuple[str, str]) -> None:
    head, rest = read_to_close(server, FILES + "/blob.bin", [header])
    expect_equal(status_of(head), 304, "status")
    expect_equal(rest[:80], b"", "bytes after the 304's header section (read to close)")


@pytest.mark.requirement("STATIC-CONDITIONAL-HEAD")
def test_conditional_head(server: Server) -> None:
    etag = etag_of(server)
    # If-None-Match only: its 304 is a MUST (RFC 9110 §13.1.2); If-Modified-Since's is a
    # SHOULD, checked on GET by STATIC-IMS-*.
    response = fetch(server, FILES + "/hello.txt", [("If-None-Match", etag)], method="HEAD")
    expect_equal(response.status, 304, f"HEAD with If-None-Match: {etag}")


@pytest.mark.requirement("STATIC-304-CUSTOM-CACHE")
def test_304_custom_cache(server: Server) -> None:
    etag = etag_of(server, PRIVATE + "/hello.txt")
    response = fetch(server, PRIVATE + "/hello.txt", [("If-None-Match", etag)])
    only_304(response, "If-None-Match: <the ETag>")
    expect_equal(response.header("cache-control"), PRIVATE_CACHE, "Cache-Control of the 304")


# etagc without DQUOTE, backslash and comma keeps each drawn tag well formed and unambiguous.
_OPAQUE = st.text(alphabet="abcdefXYZ0123456789-_.", min_size=0, max_size=8)
_OWS = st.sampled_from(["", " ", "  ", "\t"])


@pytest.mark.requirement("STATIC-INM-FUZZ")
@BOUNDED
@given(data=st.data())
def test_inm_fuzz(server: Server, budget: Budget, data: st.DataObject) -> None:
    budget.check()
    etag = etag_of(server)
    opaque = etag[2:] if etag.startswith("W/") else etag
    if data.draw(st.booleans(), label="star") and data.draw(st.booleans(), label="star2"):
        value, matches = "*", True
    else:
        others = data.draw(st.lists(_OPAQUE, max_size=4), label="others")
        members = [
            ("W/" if data.draw(st.booleans()) else "") + f'"{other}"'
            for other in others
            if f'"{other}"' != opaque
        ]
        matches = data.draw(st.booleans(), label="include current")
        if matches:
            weak = "W/" if data.draw(st.booleans(), label="weak") else ""
            position = data.draw(st.integers(0, len(members)), label="position")
            members.insert(position, weak + opaque)
        if not members:
            members = ['"never-the-current-tag"']
        value = ""
        for index, member in enumerate(members):
            if index:
                value += data.draw(_OWS) + "," + data.draw(_OWS)
            value += member
    response = conditional_status(server, [("If-None-Match", value)])
    expect_equal(response.status, 304 if matches else 200, f"If-None-Match: {value}")


# --- Pages --------------------------------------------------------------------


@pytest.mark.requirement("PAGES-INDEX")
@pytest.mark.parametrize("target,name", [("/sub/", "sub/index.html"), ("/", "index.html")])
def test_pages_index(server: Server, target: str, name: str) -> None:
    response = fetch(server, PAGES + target)
    expect_file(response, name, f"Pages GET {target}")
    media = (response.header("content-type") or "").split(";")[0].strip().lower()
    expect_equal(media, "text/html", "Content-Type media type")


@pytest.mark.requirement("PAGES-NAME-HTML")
def test_pages_name_html(server: Server) -> None:
    response = fetch(server, PAGES + "/about")
    expect_file(response, "about.html", "Pages GET /about")
    media = (response.header("content-type") or "").split(";")[0].strip().lower()
    expect_equal(media, "text/html", "Content-Type media type")


@pytest.mark.requirement("PAGES-FILE")
def test_pages_file(server: Server) -> None:
    for name in ("hello.txt", "sub/inner.txt"):
        expect_file(fetch(server, f"{PAGES}/{name}"), name, f"Pages GET /{name}")


def location_path(response: RawResponse) -> str:
    """The Location's path and query.

    Location is a URI-reference (RFC 9110 §10.2.2): an absolute path, an absolute URI or a
    network-path reference ``//authority/path`` (RFC 3986 §4.2) are all accepted; an authority,
    when there is one, must be the host the request named (the raw client sends ``Host:
    127.0.0.1``), so the redirect stays on this server.
    """
    location = response.header("location") or ""
    match = re.fullmatch(r"(?:(?:[A-Za-z][A-Za-z0-9+.-]*:)?//([^/?#]*))?(/[^#]*)", location)
    expect_true(match is not None, "Location is an absolute path or URI", "/...", repr(location))
    assert match is not None
    authority = match.group(1)
    if authority is not None:
        host = authority.rpartition("@")[2].split(":")[0]
        expect_equal(host, "127.0.0.1", f"host of the Location {location!r}")
    return match.group(2)


@pytest.mark.requirement("PAGES-DIR-REDIRECT")
def test_pages_dir_redirect(server: Server) -> None:
    response = fetch(server, PAGES + "/sub")
    expect_in(response.status, [301, 302, 307, 308], "status of GET /sub")
    expect_equal(location_path(response), PAGES + "/sub/", "Location")


@pytest.mark.requirement("PAGES-REDIRECT-QUERY")
def test_pages_redirect_query(server: Server) -> None:
    response = fetch(server, PAGES + "/sub?a=1&b=x%20y")
    expect_in(response.status, [301, 302, 307, 308], "status of GET /sub?a=1&b=x%20y")
    expect_equal(location_path(response), PAGES + "/sub/?a=1&b=x%20y", "Location")


@pytest.mark.requirement("PAGES-MISSING-404")
def test_pages_missing(server: Server) -> None:
    for target in ("/nothing", "/nothing/", "/emptydir/", "/sub/nothing"):
        expect_equal(fetch(server, PAGES + target).status, 404, f"Pages GET {target}")


@pytest.mark.requirement("PAGES-CONDITIONAL")
def test_pages_conditional(server: Server) -> None:
    etag = etag_of(server, PAGES + "/about")
    response = fetch(server, PAGES + "/about", [("If-None-Match", etag)])
    expect_equal(response.status, 304, "Pages If-None-Match on /about")
