# Over 700 lines on purpose: one case per FileResponse requirement (ranges live in
# test_file_ranges.py), sharing the file fixtures.
"""FileResponse requirements (conformance/requirements/file.toml): full answers, headers, errors.

The ranges cases are in ``test_file_ranges.py`` and use the helpers here. The scenario app
(``conformance/apps/file.py``) writes its files at import time: every file holds the first bytes
of the SHAKE-256 stream of ``b"baize conformance"`` (never periodic; the same computed here) and
every mtime is 2021-03-04 05:06:07.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Sequence
from email.utils import formatdate
from typing import Any
from urllib.parse import quote, unquote_to_bytes, urlencode

import pytest

from conformance.answers import json_answer
from conformance.harness import (
    expect_contains,
    expect_equal,
    expect_in,
    expect_true,
    not_applicable,
)
from conformance.harness.byteranges import (
    check_against_file,
    parse_byteranges,
    parse_content_range,
)
from conformance.harness.rawhttp import RawResponse, build_request, exchange
from conformance.harness.server import Server

SIZES = {
    "empty.txt": 0,
    "one.txt": 1,
    "small.txt": 1000,
    "big.bin": 300 * 1024,
    "page.html": 600,
    "data.json": 500,
    "blob.qqzz": 700,
    "na\u00efve r\u00e9sum\u00e9.txt": 300,
}
LAST_MODIFIED = "Thu, 04 Mar 2021 05:06:07 GMT"
DEFAULT_CHUNK = 256 * 1024
PATHSEND = "http.response.pathsend"
ZEROCOPY = "http.response.zerocopysend"

# entity-tag = [ weak ] opaque-tag; opaque-tag = DQUOTE *etagc DQUOTE (RFC 9110 §8.8.3)
STRONG_ETAG = re.compile(r'"[\x21\x23-\x7e\x80-\xff]*"')
# IMF-fixdate (RFC 9110 §5.6.7)
IMF_FIXDATE = re.compile(
    r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} "
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT"
)
_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_QUOTED = r'"(?:[^"\\]|\\.)*"'
_PARAM = re.compile(rf"\s*;\s*({_TOKEN})\s*=\s*({_TOKEN}|{_QUOTED})")
# ext-value = charset "'" [ language ] "'" value-chars; value-chars = *( pct-encoded / attr-char )
_EXT_VALUE = re.compile(r"(?i:utf-8)'[A-Za-z0-9-]*'((?:%[0-9A-Fa-f]{2}|[A-Za-z0-9!#$&+.^_`|~-])*)")


def file_bytes(name: str) -> bytes:
    """The bytes the scenario app wrote for ``name`` (same formula, computed here)."""
    return hashlib.shake_256(b"baize conformance").digest(SIZES[name])


def target(route: str, name: str, **query: str) -> str:
    """``/file/<route>/<name>?query``, percent-encoded."""
    path = f"/file/{route}/{quote(name)}"
    return path + ("?" + urlencode(query) if query else "")


def fetch(
    server: Server,
    name: str,
    headers: Sequence[tuple[str, str]] = (),
    *,
    method: str = "GET",
    route: str = "f",
    **query: str,
) -> RawResponse:
    """One exchange over a raw socket, read strictly (RFC 9112 framing)."""
    request = build_request(
        method, target(route, name, **query), [*headers, ("Connection", "close")]
    )
    return exchange(server.host, server.port, request, method_hint=method, timeout=5.0)


def record_result(server: Server, token: str) -> Any:
    """What ``/file/record`` or ``/file/zerocopy`` stored under ``token``."""
    with server.http() as client:
        response = client.get(f"/file/result/{token}")
    return json_answer(response, "the result endpoint")


def media_type(value: str | None) -> tuple[str, dict[str, str]]:
    """``type/subtype`` (lower-case) and its parameters (names lower-case, values unquoted)."""
    expect_true(value is not None, "Content-Type is sent", "a Content-Type field", "none")
    assert value is not None
    main, _, rest = value.partition(";")
    params: dict[str, str] = {}
    for match in _PARAM.finditer(";" + rest):
        raw = match.group(2)
        if raw.startswith('"'):
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        params[match.group(1).lower()] = raw
    return main.strip().lower(), params


def disposition(value: str) -> tuple[str, dict[str, str]]:
    """A Content-Disposition value split strictly into its type and parameters (RFC 6266 §4.1)."""
    kind, sep, rest = value.partition(";")
    position, params = 0, {}
    rest = sep + rest
    while position < len(rest):
        match = _PARAM.match(rest, position)
        expect_true(
            match is not None,
            "Content-Disposition parameters follow RFC 6266 §4.1",
            "; name=token or quoted-string",
            f"{value!r} (bad at {rest[position:]!r})",
        )
        assert match is not None
        raw = match.group(2)
        if match.group(1).lower() != "filename*" and raw.startswith('"'):
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        params[match.group(1).lower()] = raw
        position = match.end()
    return kind.strip().lower(), params


def first_difference(actual: bytes, expected: bytes) -> int | None:
    """The first offset where two byte strings differ (None when equal)."""
    if actual == expected:
        return None
    pairs = zip(actual, expected, strict=False)
    return next((i for i, (a, b) in enumerate(pairs) if a != b), min(len(actual), len(expected)))


def expect_full(response: RawResponse, name: str, what: str) -> None:
    """A 200 answer with the whole file and its exact Content-Length."""
    data = file_bytes(name)
    expect_equal(response.status, 200, f"{what}: status")
    expect_equal(response.header("content-range"), None, f"{what}: no Content-Range on a 200")
    expect_equal(response.header("content-length"), str(len(data)), f"{what}: Content-Length")
    expect_true(
        response.body == data,
        f"{what}: body is the file",
        f"{len(data)} bytes equal to the file",
        f"{len(response.body)} bytes, first difference at {first_difference(response.body, data)}",
    )


def expect_error_before_sending(answer: Any, what: str) -> None:
    expect_equal(answer["raised"], True, f"{what}: an exception is raised")
    expect_true(
        any(name in ("RuntimeError", "ValueError", "OSError") for name in answer["mro"]),
        f"{what}: the exception is a RuntimeError, ValueError or OSError",
        "one of them in the exception's MRO",
        repr(answer["mro"]),
    )
    expect_true(
        bool(answer["message"].strip()),
        f"{what}: the exception says what is wrong",
        "a non-empty message",
        repr(answer["message"]),
    )
    expect_equal(answer["sent"], [], f"{what}: no ASGI message was sent before the exception")


# -- the whole file ------------------------------------------------------------------------------


@pytest.mark.requirement("FILE-FULL-BODY")
def test_full_body(server: Server) -> None:
    response = fetch(server, "small.txt")
    data = file_bytes("small.txt")
    expect_equal(response.status, 200, "GET small.txt: status")
    expect_true(
        response.body == data,
        "GET small.txt: body is the file",
        f"{len(data)} bytes equal to the file",
        f"{len(response.body)} bytes, first difference at {first_difference(response.body, data)}",
    )


@pytest.mark.requirement("FILE-CONTENT-LENGTH")
def test_content_length(server: Server) -> None:
    response = fetch(server, "small.txt")
    expect_equal(response.status, 200, "GET small.txt: status")
    expect_equal(
        response.header("content-length"), str(SIZES["small.txt"]), "Content-Length is the size"
    )
    expect_equal(response.framing, "length", "framed by Content-Length")


@pytest.mark.requirement("FILE-CONTENT-TYPE-TEXT")
def test_content_type_text_guessed(server: Server) -> None:
    # API.md: "content type guessed from the name"; it names no charset for a file (whose
    # encoding FileResponse cannot know), so a charset parameter is neither required nor refused.
    for name, expected in (("small.txt", "text/plain"), ("page.html", "text/html")):
        kind, _ = media_type(fetch(server, name).header("content-type"))
        expect_equal(kind, expected, f"media type guessed for {name}")


@pytest.mark.requirement("FILE-CONTENT-TYPE-JSON")
def test_content_type_json(server: Server) -> None:
    kind, _ = media_type(fetch(server, "data.json").header("content-type"))
    expect_equal(kind, "application/json", "media type guessed for data.json")


@pytest.mark.requirement("FILE-CONTENT-TYPE-UNKNOWN")
def test_content_type_unknown_extension(server: Server) -> None:
    response = fetch(server, "blob.qqzz")
    expect_full(response, "blob.qqzz", "GET blob.qqzz")
    expect_equal(
        media_type(response.header("content-type"))[0],
        "application/octet-stream",
        "an unknown extension gives application/octet-stream",
    )


@pytest.mark.requirement("FILE-CONTENT-TYPE-EXPLICIT")
def test_content_type_explicit(server: Server) -> None:
    response = fetch(server, "blob.qqzz", content_type="image/x-test")
    expect_equal(response.header("content-type"), "image/x-test", "content_type= is sent as is")
    expect_equal(response.header("content-disposition"), None, "no attachment once a type is given")


@pytest.mark.requirement("FILE-ETAG-STRONG", "FILE-ETAG-STABLE")
def test_etag_strong_and_stable(server: Server) -> None:
    first = fetch(server, "small.txt").header("etag")
    second = fetch(server, "small.txt").header("etag")
    expect_true(
        first is not None and STRONG_ETAG.fullmatch(first) is not None,
        "ETag is a strong entity-tag (RFC 9110 §8.8.3)",
        "DQUOTE *etagc DQUOTE, no W/ prefix",
        repr(first),
    )
    expect_equal(second, first, "the same file gets the same ETag twice")
    other = fetch(server, "page.html").header("etag")
    expect_true(other != first, "another file gets another ETag", f"not {first}", repr(other))


def seeded_bytes(seed: str, size: int) -> bytes:
    """What ``/file/write`` writes for ``seed`` (the app's formula, computed here)."""
    return hashlib.shake_256(b"baize conformance " + seed.encode()).digest(size)


def write_file(server: Server, name: str, seed: str, size: int, mtime: int) -> None:
    """Have the scenario app (re)write ``name`` with ``size`` seeded bytes and ``mtime``."""
    with server.http() as client:
        query: dict[str, str | int] = {"seed": seed, "size": size, "mtime": mtime}
        response = client.get(f"/file/write/{name}", params=query)
    expect_equal(response.status_code, 200, f"the scenario app wrote {name}")


@pytest.mark.requirement("FILE-CHANGED-FILE")
def test_changed_file_is_served_anew(server: Server) -> None:
    name = f"w-{uuid.uuid4().hex[:12]}"
    # 2021-03-04 05:06:07 UTC, then one hour later; the size changes last, mtime kept.
    versions = [("a", 1000, 1614834367), ("b", 1000, 1614837967), ("c", 1500, 1614837967)]
    seen_etags: list[str | None] = []
    for seed, size, mtime in versions:
        write_file(server, name, seed, size, mtime)
        response = fetch(server, name)
        data = seeded_bytes(seed, size)
        expect_equal(response.status, 200, f"GET of version {seed!r}")
        expect_equal(
            response.header("content-length"), str(size), f"version {seed!r}: Content-Length"
        )
        expect_true(
            response.body == data,
            f"version {seed!r}: the body is the file as it is now",
            f"{size} bytes equal to the new file",
            f"{len(response.body)} bytes, first difference at"
            f" {first_difference(response.body, data)}",
        )
        expect_equal(
            response.header("last-modified"),
            formatdate(mtime, usegmt=True),
            f"version {seed!r}: Last-Modified is the new mtime",
        )
        etag = response.header("etag")
        expect_true(
            etag not in seen_etags,
            f"version {seed!r} gets an ETag no earlier version had (RFC 9110 §8.8.1)",
            f"not one of {seen_etags}",
            repr(etag),
        )
        seen_etags.append(etag)


@pytest.mark.requirement("FILE-LAST-MODIFIED")
def test_last_modified(server: Server) -> None:
    value = fetch(server, "small.txt").header("last-modified")
    expect_true(
        value is not None and IMF_FIXDATE.fullmatch(value) is not None,
        "Last-Modified is an IMF-fixdate (RFC 9110 §5.6.7)",
        "e.g. 'Thu, 04 Mar 2021 05:06:07 GMT'",
        repr(value),
    )
    expect_equal(value, LAST_MODIFIED, "Last-Modified is the file's modification time")


@pytest.mark.requirement("FILE-ACCEPT-RANGES")
def test_accept_ranges(server: Server) -> None:
    value = fetch(server, "small.txt").header("accept-ranges")
    expect_equal((value or "").lower(), "bytes", "Accept-Ranges")


@pytest.mark.requirement("FILE-HEADERS-EXTRA")
def test_extra_headers(server: Server) -> None:
    response = fetch(server, "small.txt", header="Cache-Control:max-age=60")
    expect_equal(response.header("cache-control"), "max-age=60", "headers= given are sent")
    expect_full(response, "small.txt", "GET with headers=")


@pytest.mark.requirement("FILE-NON-ASCII-PATH")
def test_non_ascii_file_name(server: Server) -> None:
    name = "na\u00efve r\u00e9sum\u00e9.txt"
    response = fetch(server, name)
    expect_full(response, name, "GET a file whose name is not ASCII")
    expect_equal(media_type(response.header("content-type"))[0], "text/plain", "media type")


# -- Content-Disposition ---------------------------------------------------------------------------


def check_disposition(
    response: RawResponse, name: str, what: str, *, fallback: bool = True
) -> None:
    """'attachment' with a filename*= ext-value decoding to ``name``; with ``fallback``, also a
    filename= that is ASCII (and equal to ``name`` when ``name`` is ASCII)."""
    value = response.header("content-disposition")
    expect_true(value is not None, f"{what}: Content-Disposition is sent", "a value", "none")
    assert value is not None
    kind, params = disposition(value)
    expect_equal(kind, "attachment", f"{what}: disposition type")
    expect_contains(params, "filename*", f"{what}: a filename*= parameter (RFC 6266 §4.3)")
    if fallback:
        expect_contains(params, "filename", f"{what}: a filename= parameter (RFC 6266 §4.3)")
        plain = params["filename"]
        expect_true(plain.isascii(), f"{what}: filename= is ASCII", "ASCII only", repr(plain))
        if name.isascii():
            expect_equal(plain, name, f"{what}: filename= (unquoted) is the name")
    ext = _EXT_VALUE.fullmatch(params["filename*"])
    expect_true(
        ext is not None,
        f"{what}: filename*= is an RFC 8187 ext-value in UTF-8",
        "UTF-8'[language]'value-chars (attr-char or %HH)",
        repr(params["filename*"]),
    )
    assert ext is not None
    decoded = unquote_to_bytes(ext.group(1)).decode("utf-8", "replace")
    expect_equal(decoded, name, f"{what}: filename*= decodes to the name")


@pytest.mark.requirement("FILE-DISPOSITION-DOWNLOAD-NAME")
def test_disposition_download_name(server: Server) -> None:
    response = fetch(server, "small.txt", download_name="report-2021.txt")
    check_disposition(response, "report-2021.txt", "download_name='report-2021.txt'")
    expect_full(response, "small.txt", "GET with download_name")


NON_ASCII_NAME = "r\u00e9sum\u00e9 \u20ac \u6f22.txt"


@pytest.mark.requirement("FILE-DISPOSITION-NON-ASCII")
def test_disposition_non_ascii(server: Server) -> None:
    response = fetch(server, "small.txt", download_name=NON_ASCII_NAME)
    check_disposition(response, NON_ASCII_NAME, f"{NON_ASCII_NAME!r}", fallback=False)


@pytest.mark.requirement("FILE-DISPOSITION-ASCII-FALLBACK")
def test_disposition_ascii_fallback(server: Server) -> None:
    response = fetch(server, "small.txt", download_name=NON_ASCII_NAME)
    check_disposition(response, NON_ASCII_NAME, f"{NON_ASCII_NAME!r}")


@pytest.mark.requirement("FILE-DISPOSITION-QUOTES")
def test_disposition_quotes_and_backslash(server: Server) -> None:
    name = 'say "hi"\\now; x=1.txt'
    check_disposition(fetch(server, "small.txt", download_name=name), name, f"{name!r}")


@pytest.mark.requirement("FILE-DISPOSITION-OCTET-STREAM")
def test_disposition_octet_stream(server: Server) -> None:
    check_disposition(fetch(server, "blob.qqzz"), "blob.qqzz", "unknown type, no download_name")


@pytest.mark.requirement("FILE-DISPOSITION-ABSENT")
def test_disposition_absent_for_known_type(server: Server) -> None:
    value = fetch(server, "small.txt").header("content-disposition")
    expect_equal(value, None, "Content-Disposition for a .txt file without download_name")


# -- HEAD ------------------------------------------------------------------------------------------


@pytest.mark.requirement("FILE-HEAD-HEADERS")
def test_head_same_headers(server: Server) -> None:
    get = fetch(server, "small.txt")
    head = fetch(server, "small.txt", method="HEAD")
    expect_equal(head.status, 200, "HEAD status")
    for name in ("content-type", "content-length", "etag", "last-modified", "accept-ranges"):
        expect_equal(head.header(name), get.header(name), f"HEAD {name} equals GET's")


@pytest.mark.requirement("FILE-HEAD-NO-BODY")
def test_head_no_body(server: Server) -> None:
    token = uuid.uuid4().hex
    head = fetch(server, "small.txt", method="HEAD", route=f"record/{token}")
    expect_equal(head.status, 200, "HEAD status")
    expect_true(
        head.raw.endswith(b"\r\n\r\n") and head.body == b"",
        "HEAD gets no content (RFC 9110 §9.3.2)",
        "the head and nothing after it",
        repr(head.raw[-40:]),
    )
    record = record_result(server, token)
    expect_equal(record["body_bytes"], 0, "body bytes the implementation sent for HEAD")
    expect_true(
        PATHSEND not in record["types"] and ZEROCOPY not in record["types"],
        "no file is sent for HEAD",
        "no pathsend or zerocopysend message",
        repr(record["types"]),
    )


# -- sizes and chunking ----------------------------------------------------------------------------


@pytest.mark.requirement("FILE-EMPTY")
def test_empty_file(server: Server) -> None:
    expect_full(fetch(server, "empty.txt"), "empty.txt", "GET a zero-length file")


@pytest.mark.requirement("FILE-ONE-BYTE")
def test_one_byte_file(server: Server) -> None:
    expect_full(fetch(server, "one.txt"), "one.txt", "GET a one-byte file")


@pytest.mark.requirement("FILE-LARGE-STREAMED")
def test_large_file_intact(server: Server) -> None:
    expect_true(SIZES["big.bin"] > DEFAULT_CHUNK, "harness", "file > chunk size", "smaller")
    expect_full(fetch(server, "big.bin"), "big.bin", "GET a 300 KiB file")


@pytest.mark.requirement("FILE-CHUNK-SIZE")
def test_small_chunk_size_intact(server: Server) -> None:
    token = uuid.uuid4().hex
    response = fetch(server, "big.bin", route=f"record/{token}", chunk_size="4093")
    expect_full(response, "big.bin", "GET with chunk_size=4093")
    types = record_result(server, token)["types"]
    if PATHSEND in types or ZEROCOPY in types:
        not_applicable("the file went by pathsend/zerocopysend: chunk_size is never exercised")
    bodies = types.count("http.response.body")
    expect_true(
        bodies >= SIZES["big.bin"] // 4093,
        "chunk_size bounds each body message",
        f"at least {SIZES['big.bin'] // 4093} http.response.body messages",
        f"{bodies}",
    )


# -- errors ----------------------------------------------------------------------------------------


def error_answer(server: Server, kind: str) -> Any:
    with server.http() as client:
        response = client.get(f"/file/error/{kind}", params={"mode": "catch"})
    return json_answer(response, "the error scenario")


def expect_oserror_when_built(answer: Any, error: str, what: str) -> None:
    """As upstream: the constructor raises ``error`` (an ``OSError`` subclass), so nothing
    is ever sent."""
    expect_error_before_sending(answer, what)
    expect_equal(answer["stage"], "construct", f"{what}: raised when the response is built")
    expect_true(
        error in answer["mro"] and "OSError" in answer["mro"],
        f"{what}: the exception is a {error} (an OSError)",
        f"{error} in the exception's MRO",
        repr(answer["mro"]),
    )


@pytest.mark.requirement("FILE-MISSING-ERROR")
def test_missing_file_is_a_clear_error(server: Server) -> None:
    answer = error_answer(server, "missing")
    expect_oserror_when_built(answer, "FileNotFoundError", "FileResponse(missing path)")


@pytest.mark.requirement("FILE-DIRECTORY-ERROR")
def test_directory_is_a_clear_error(server: Server) -> None:
    answer = error_answer(server, "dir")
    expect_oserror_when_built(answer, "IsADirectoryError", "FileResponse(a directory)")


@pytest.mark.requirement("FILE-ERROR-NO-PARTIAL-200")
def test_error_propagates_without_partial_answer(server: Server) -> None:
    for kind in ("missing", "dir"):
        request = build_request(
            "GET", f"/file/error/{kind}?mode=propagate", [("Connection", "close")]
        )
        reply = server.raw(request)
        status_line = reply.split(b"\r\n", 1)[0]
        expect_true(
            not status_line.startswith((b"HTTP/1.1 2", b"HTTP/1.0 2")),
            f"FileResponse({kind}) raising in the app yields no 2xx answer",
            "a 500 answer or a closed connection",
            repr(status_line),
        )


# -- pathsend / zerocopysend -----------------------------------------------------------------------


@pytest.mark.requirement("FILE-PATHSEND-USED")
def test_pathsend_used_when_offered(server: Server) -> None:
    if not server.offers(PATHSEND):
        not_applicable("the server does not offer http.response.pathsend")
    token = uuid.uuid4().hex
    expect_full(fetch(server, "big.bin", route=f"record/{token}"), "big.bin", "GET via pathsend")
    record = record_result(server, token)
    expect_equal(
        record["types"],
        ["http.response.start", PATHSEND],
        "messages sent for a whole file under a server offering pathsend",
    )


@pytest.mark.requirement("FILE-PATHSEND-ABSOLUTE")
def test_pathsend_path_absolute(server: Server) -> None:
    if not server.offers(PATHSEND):
        not_applicable("the server does not offer http.response.pathsend")
    token = uuid.uuid4().hex
    response = fetch(server, "big.bin", route=f"record/{token}", relative="1")
    expect_full(response, "big.bin", "GET FileResponse(<relative path>) under pathsend")
    paths = record_result(server, token)["paths"]
    if not paths:
        not_applicable("the implementation sent no http.response.pathsend (FILE-PATHSEND-USED)")
    expect_true(
        all(path.startswith("/") and path.endswith("/big.bin") for path in paths),
        "the pathsend path is absolute although FileResponse got a relative one "
        "(ASGI Path Send extension)",
        "absolute paths ending in /big.bin",
        repr(paths),
    )


@pytest.mark.requirement("FILE-NO-UNOFFERED-EXTENSION")
def test_no_extension_message_the_server_lacks(server: Server) -> None:
    allowed = {"http.response.start", "http.response.body"}
    allowed |= {name for name in (PATHSEND, ZEROCOPY) if server.offers(name)}
    for headers in ((), (("Range", "bytes=0-9,20-29"),)):
        token = uuid.uuid4().hex
        response = fetch(server, "small.txt", headers, route=f"record/{token}")
        expect_in(response.status, (200, 206), "the file is served")
        types = set(record_result(server, token)["types"])
        expect_true(
            types <= allowed,
            "only message types the server offers (ASGI extensions)",
            f"a subset of {sorted(allowed)}",
            repr(sorted(types)),
        )


def _line_end_before(body: bytes, at: int) -> int:
    """Where the CRLF or bare LF that ends just before offset ``at`` starts (``at`` if none)."""
    if body[at - 2 : at] == b"\r\n":
        return at - 2
    return at - 1 if body[at - 1 : at] == b"\n" else at


def with_crlf_framing(body: bytes, boundary: bytes) -> bytes:
    """The multipart body with each line ending of its framing made CRLF; data untouched.

    Bare LF in the framing breaks RFC 2046 §5.1.1, which RANGE-MULTI-CRLF checks on its own;
    the other multipart requirements (parts, their headers and bytes) are then checked by
    the strict parser on this copy. A part's data is delimited by its Content-Range length.
    """
    dash = b"--" + boundary
    at = body.find(dash)
    if at < 0:
        return body
    out = bytearray(body[: _line_end_before(body, at)] + (b"\r\n" if at else b""))
    while True:
        out += dash
        at += len(dash)
        if body.startswith(b"--", at):  # close-delimiter, then the epilogue
            rest = body[at + 2 :]
            out += b"--" + (b"\r\n" + rest[1:] if rest.startswith(b"\n") else rest)
            return bytes(out)
        length = None
        first_line = True
        while True:  # transport padding + line end, then header lines up to the empty one
            eol = body.find(b"\n", at)
            if eol < 0:
                return bytes(out + body[at:])
            line = body[at:eol]
            line = line[:-1] if line.endswith(b"\r") else line
            out += line + b"\r\n"
            at = eol + 1
            if first_line:
                first_line = False
                continue
            if not line:
                break
            name, _, value = line.partition(b":")
            match = re.fullmatch(rb"[ \t]*bytes ([0-9]+)-([0-9]+)/.*", value)
            if name.strip().lower() == b"content-range" and match is not None:
                length = int(match.group(2)) - int(match.group(1)) + 1
        end = at + (length or 0)
        if length is not None and body.startswith((b"\r\n" + dash, b"\n" + dash), end):
            following = body.find(dash, end)
        else:
            following = body.find(dash, at)
            if following < 0:
                return bytes(out + body[at:])
            end = _line_end_before(body, following)
        out += body[at:end] + b"\r\n"
        at = following


def decode_parts(
    response: RawResponse, data: bytes, *, strict_line_endings: bool = False
) -> list[tuple[int, int, bytes]]:
    """``(first, last, bytes)`` for every part of a 206 (single or multipart), checked.

    A multipart body is parsed strictly; unless ``strict_line_endings``, bare LF in its
    framing is first made CRLF (that is RANGE-MULTI-CRLF's question, not every case's).
    """
    content_type = response.header("content-type") or ""
    kind, params = media_type(content_type)
    if kind == "multipart/byteranges":
        body = response.body
        if not strict_line_endings and "boundary" in params:
            body = with_crlf_framing(body, params["boundary"].encode("latin-1"))
        parts = parse_byteranges(body, content_type, total_length=len(data))
        check_against_file(parts, data)
        return [(p.content_range[0], p.content_range[1], p.data) for p in parts]
    parsed = parse_content_range(response.header("content-range") or "")
    expect_true(parsed[0] != "*", "a satisfied range", "first-last/size", repr(parsed))
    first, last = int(parsed[0]), int(parsed[1])
    expect_equal(response.body, data[first : last + 1], f"the bytes {first}-{last}")
    return [(first, last, response.body)]


def expect_spans_in_order(
    body: bytes, data: bytes, spans: Sequence[tuple[int, int]], what: str
) -> None:
    """Each span's bytes of ``data`` appear in ``body`` in order, with only framing between.

    The multipart framing itself (CRLF, part headers) is RANGE-MULTI-*'s question; this
    checks the bytes a zerocopysend message carried landed where they belong.
    """
    at = 0
    for first, last in spans:
        found = body.find(data[first : last + 1], at)
        expect_true(
            found >= 0,
            f"{what}: the bytes {first}-{last} follow the previous part",
            f"{last - first + 1} bytes of the file after offset {at} of the body",
            "not found",
        )
        expect_true(
            found - at < 512,
            f"{what}: only part framing before the bytes {first}-{last}",
            "fewer than 512 bytes of boundary and part headers",
            f"{found - at} bytes",
        )
        at = found + last - first + 1
    expect_true(
        len(body) - at < 512,
        f"{what}: only the closing boundary after the last part",
        "fewer than 512 bytes",
        f"{len(body) - at} bytes",
    )


@pytest.mark.requirement("FILE-ZEROCOPYSEND-USED", "FILE-ZEROCOPYSEND-BYTES")
def test_zerocopysend_used_when_offered(server: Server) -> None:
    data = file_bytes("big.bin")
    token = uuid.uuid4().hex
    spec = "bytes=10-20000,262000-262200,-100"
    spans = [(10, 20000), (262000, 262200), (len(data) - 100, len(data) - 1)]
    response = fetch(server, "big.bin", [("Range", spec)], route=f"zerocopy/{token}")
    expect_equal(response.status, 206, f"status for {spec} with zerocopysend offered")
    expect_equal(
        media_type(response.header("content-type"))[0],
        "multipart/byteranges",
        f"{spec}: a multipart answer",
    )
    expect_spans_in_order(response.body, data, spans, f"{spec} through zerocopysend")
    types = record_result(server, token)["types"]
    expect_contains(types, ZEROCOPY, "a http.response.zerocopysend message when offered")
    # The same path for one range and for the whole file (offset/count given or left out).
    single = fetch(server, "big.bin", [("Range", "bytes=1000-150000")], route=f"zerocopy/{token}")
    expect_equal(single.status, 206, "status for bytes=1000-150000 with zerocopysend offered")
    expect_true(
        single.body == data[1000:150001],
        "bytes=1000-150000 through zerocopysend",
        "the file's bytes 1000-150000",
        f"{len(single.body)} bytes, first difference at "
        f"{first_difference(single.body, data[1000:150001])}",
    )
    expect_full(fetch(server, "big.bin", route=f"zerocopy/{token}"), "big.bin", "GET via zerocopy")
