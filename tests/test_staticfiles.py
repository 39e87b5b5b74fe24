# Over 700 lines on purpose: the unit tests of one module, baize/asgi/staticfiles.py, mirrored one
# to one.
"""Files and Pages through real ASGI calls, and the pure helpers of baize.staticfiles."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path

import anyio
import pytest

from baize.asgi import Files, Pages
from baize.exceptions import HTTPException
from baize.responses import FileResponseMixin
from baize.staticfiles import (
    Conditionals,
    EntityTag,
    Precondition,
    RoutePath,
    evaluate_preconditions,
    parse_entity_tag,
    parse_entity_tag_list,
    parse_http_date,
    split_route_path,
    strong_match,
    weak_match,
)
from baize.typing import ASGIApp, Message, Receive, Scope, Send

# At collection time, so that parametrized async tests also run on both backends.
pytestmark = pytest.mark.anyio

MTIME = 784111777  # Sun, 06 Nov 1994 08:49:37 GMT
MTIME_DATE = "Sun, 06 Nov 1994 08:49:37 GMT"
BODY = b"0123456789abcdefghij"


@dataclass
class Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    raw_headers: list[tuple[bytes, bytes]] = field(default_factory=list)


async def call(
    app: ASGIApp,
    path: str,
    *,
    method: str = "GET",
    headers: list[tuple[str, str]] | None = None,
    root_path: str = "",
    query_string: bytes = b"",
    host: str | None = "testserver",
) -> Answer:
    """One request through ``app``; a raised HTTPException becomes its status."""
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "root_path": root_path,
        "query_string": query_string,
        "headers": ([] if host is None else [(b"host", host.encode("latin-1"))])
        + [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers or []],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "extensions": {},
    }
    messages: list[Message] = []
    done = anyio.Event()
    first = True

    async def receive() -> Message:
        nonlocal first
        if first:
            first = False
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        messages.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            done.set()

    with anyio.fail_after(10):
        await app(scope, receive, send)
    start = messages[0]
    assert start["type"] == "http.response.start"
    assert all(m["type"] == "http.response.body" for m in messages[1:])
    assert not messages[-1].get("more_body", False)
    body = b"".join(m.get("body", b"") for m in messages[1:])
    raw = list(start["headers"])
    mapped = {k.decode("latin-1"): v.decode("latin-1") for k, v in raw}
    return Answer(start["status"], mapped, body, raw)


async def raises(app: ASGIApp, path: str, **kwargs: object) -> HTTPException[object]:
    with pytest.raises(HTTPException) as info:
        await call(app, path, **kwargs)  # type: ignore[arg-type]
    return info.value


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    root.mkdir()
    (root / "data.txt").write_bytes(BODY)
    os.utime(root / "data.txt", (MTIME, MTIME))
    (root / "index.html").write_bytes(b"<h1>home</h1>")
    (root / "about.html").write_bytes(b"about page")
    (root / "docs").mkdir()
    (root / "docs" / "index.html").write_bytes(b"docs index")
    (root / "docs" / "guide.html").write_bytes(b"guide")
    (root / "empty").mkdir()
    (root / "both").mkdir()
    (root / "both" / "index.html").write_bytes(b"both index")
    (root / "both.html").write_bytes(b"both page")
    (root / "caf\u00e9").mkdir()
    (root / "caf\u00e9" / "index.html").write_bytes(b"cafe")
    (root / "plain").write_bytes(b"no extension")
    return root


def etag_of(path: Path) -> str:
    return FileResponseMixin.generate_etag(os.stat(path))


# --- pure helpers ------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("", RoutePath((), False)),
        ("/", RoutePath((), True)),
        ("/a", RoutePath(("a",), False)),
        ("/a/b/", RoutePath(("a", "b"), True)),
        ("a/b", RoutePath(("a", "b"), False)),
        ("/%2e%2e", RoutePath(("%2e%2e",), False)),
        ("/\u2024\u2024", RoutePath(("\u2024\u2024",), False)),
        ("/..", None),
        ("/a/./b", None),
        ("//a", None),
        ("/a//b", None),
        ("/a\\b", None),
        ("/a\x00", None),
        ("/\udcc0", None),
        ("/" + "a" * 4096, None),
    ],
    ids=ascii,
)
def test_split_route_path(path: str, expected: RoutePath | None) -> None:
    assert split_route_path(path) == expected


@pytest.mark.parametrize(
    "value",
    [
        "Sun, 06 Nov 1994 08:49:37 GMT",
        "Sunday, 06-Nov-94 08:49:37 GMT",
        "Sun Nov  6 08:49:37 1994",
        "  Sun, 06 Nov 1994 08:49:37 GMT\t",
    ],
)
def test_parse_http_date_accepts_the_three_formats(value: str) -> None:
    assert parse_http_date(value, now=MTIME) == MTIME


@pytest.mark.parametrize(
    "value",
    [
        "",
        "yesterday",
        "sun, 06 Nov 1994 08:49:37 GMT",
        "Sun, 06 nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 06 Nov 1994 08:49:37",
        "Sun, 6 Nov 1994 08:49:37 GMT",
        "Sun, 31 Feb 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 24:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 GMT, Sun, 06 Nov 1994 08:49:37 GMT",
        "784111777",
        "Sun, 06 Nov 1994 08:49:37 GMT\x00",
    ],
)
def test_parse_http_date_refuses_invalid(value: str) -> None:
    assert parse_http_date(value) is None


def test_parse_http_date_two_digit_year_rule() -> None:
    now = parse_http_date("Mon, 01 Jan 2024 00:00:00 GMT")
    assert now is not None
    in_2070 = parse_http_date("Wednesday, 01-Jan-70 00:00:00 GMT", now=now)
    in_2074 = parse_http_date("Monday, 01-Jan-74 00:00:00 GMT", now=now)
    in_2075 = parse_http_date("Sunday, 01-Jan-75 00:00:00 GMT", now=now)
    assert in_2070 == parse_http_date("Thu, 01 Jan 2070 00:00:00 GMT")
    assert in_2074 == parse_http_date("Thu, 01 Jan 2074 00:00:00 GMT")
    # 2075 would be more than 50 years ahead: 1975.
    assert in_2075 == parse_http_date("Wed, 01 Jan 1975 00:00:00 GMT")


def test_parse_http_date_leap_second_is_clamped() -> None:
    assert parse_http_date("Sun, 06 Nov 1994 08:49:60 GMT") == MTIME + 22


def test_parse_entity_tag() -> None:
    assert parse_entity_tag('"abc"') == EntityTag('"abc"', False)
    assert parse_entity_tag('W/"abc"') == EntityTag('"abc"', True)
    assert parse_entity_tag('w/"abc"') is None
    assert parse_entity_tag("abc") is None
    assert parse_entity_tag('"a"b"') is None


def test_parse_entity_tag_list() -> None:
    assert parse_entity_tag_list("*") is None
    assert parse_entity_tag_list(" * ") is None
    assert parse_entity_tag_list("") == []
    assert parse_entity_tag_list('"a", W/"b" ,"c"') == [
        EntityTag('"a"', False),
        EntityTag('"b"', True),
        EntityTag('"c"', False),
    ]
    # A comma inside an opaque tag does not split it.
    assert parse_entity_tag_list('"a,b"') == [EntityTag('"a,b"', False)]
    # Malformed members are skipped up to the next comma.
    assert parse_entity_tag_list('junk, "a", x"y, W/"b"') == [
        EntityTag('"a"', False),
        EntityTag('"b"', True),
    ]
    assert parse_entity_tag_list('"unterminated') == []


def test_comparison_functions() -> None:
    # RFC 9110 §8.8.3.2 table.
    w1, w1b, w2, s1 = (
        EntityTag('"1"', True),
        EntityTag('"1"', True),
        EntityTag('"2"', True),
        EntityTag('"1"', False),
    )
    assert not strong_match(w1, w1b) and weak_match(w1, w1b)
    assert not strong_match(w1, w2) and not weak_match(w1, w2)
    assert not strong_match(w1, s1) and weak_match(w1, s1)
    assert strong_match(s1, s1) and weak_match(s1, s1)


TAG = '"x1"'


@pytest.mark.parametrize(
    ("method", "conditionals", "expected"),
    [
        ("GET", Conditionals(), Precondition.PROCEED),
        ("GET", Conditionals(if_none_match=TAG), Precondition.NOT_MODIFIED),
        ("GET", Conditionals(if_none_match=f"W/{TAG}"), Precondition.NOT_MODIFIED),
        ("GET", Conditionals(if_none_match='"a", "b"'), Precondition.PROCEED),
        ("GET", Conditionals(if_none_match="*"), Precondition.NOT_MODIFIED),
        ("PUT", Conditionals(if_none_match=TAG), Precondition.FAILED),
        ("PUT", Conditionals(if_none_match="*"), Precondition.FAILED),
        ("GET", Conditionals(if_match=TAG), Precondition.PROCEED),
        ("GET", Conditionals(if_match="*"), Precondition.PROCEED),
        ("GET", Conditionals(if_match=f"W/{TAG}"), Precondition.FAILED),
        ("GET", Conditionals(if_match='"other"'), Precondition.FAILED),
        ("GET", Conditionals(if_unmodified_since=MTIME_DATE), Precondition.PROCEED),
        (
            "GET",
            Conditionals(if_unmodified_since="Sat, 05 Nov 1994 08:49:37 GMT"),
            Precondition.FAILED,
        ),
        ("GET", Conditionals(if_unmodified_since="garbage"), Precondition.PROCEED),
        # If-Match present: If-Unmodified-Since is not evaluated.
        (
            "GET",
            Conditionals(if_match=TAG, if_unmodified_since="Sat, 05 Nov 1994 08:49:37 GMT"),
            Precondition.PROCEED,
        ),
        ("GET", Conditionals(if_modified_since=MTIME_DATE), Precondition.NOT_MODIFIED),
        (
            "GET",
            Conditionals(if_modified_since="Sat, 05 Nov 1994 08:49:37 GMT"),
            Precondition.PROCEED,
        ),
        ("POST", Conditionals(if_modified_since=MTIME_DATE), Precondition.PROCEED),
        # If-None-Match present: If-Modified-Since is ignored.
        (
            "GET",
            Conditionals(if_none_match='"other"', if_modified_since=MTIME_DATE),
            Precondition.PROCEED,
        ),
        (
            "HEAD",
            Conditionals(if_none_match=TAG, if_modified_since="Sat, 05 Nov 1994 08:49:37 GMT"),
            Precondition.NOT_MODIFIED,
        ),
        # If-Match failing wins over a matching If-None-Match.
        ("GET", Conditionals(if_match='"other"', if_none_match=TAG), Precondition.FAILED),
    ],
)
def test_evaluate_preconditions(
    method: str, conditionals: Conditionals, expected: Precondition
) -> None:
    assert evaluate_preconditions(method, conditionals, TAG, MTIME) is expected


# --- Files -------------------------------------------------------------------


async def test_files_serves_a_file_with_validators(site: Path) -> None:
    answer = await call(Files(site), "/data.txt")
    assert answer.status == 200
    assert answer.body == BODY
    assert answer.headers["content-length"] == str(len(BODY))
    assert answer.headers["content-type"] == "text/plain; charset=utf-8"
    assert answer.headers["cache-control"] == "public, max-age=600"
    assert answer.headers["etag"] == etag_of(site / "data.txt")
    assert answer.headers["last-modified"] == MTIME_DATE
    assert answer.headers["accept-ranges"] == "bytes"


async def test_files_cache_control_options(site: Path) -> None:
    answer = await call(Files(site, cacheability="private", max_age=0), "/data.txt")
    assert answer.headers["cache-control"] == "private, max-age=0"
    answer = await call(Files(site, cacheability="no-cache", max_age=31536000), "/data.txt")
    assert answer.headers["cache-control"] == "no-cache, max-age=31536000"


@pytest.mark.parametrize(
    "kwargs", [{"cacheability": "everyone"}, {"max_age": -1}, {"max_age": "60"}]
)
def test_files_refuses_bad_options(site: Path, kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Files(site, **kwargs)  # type: ignore[arg-type]


def test_files_refuses_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        Files(tmp_path / "nowhere")
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(ValueError, match="does not exist"):
        Files(tmp_path / "file")


async def test_files_from_a_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "baize_sf_testpkg"
    (package / "static").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "static" / "x.css").write_bytes(b"body{}")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        answer = await call(Files("static", package="baize_sf_testpkg"), "/x.css")
    finally:
        sys.modules.pop("baize_sf_testpkg", None)
    assert (answer.status, answer.body) == (200, b"body{}")
    assert answer.headers["content-type"] == "text/css; charset=utf-8"


def test_files_from_an_unknown_package() -> None:
    with pytest.raises(ValueError, match="cannot be found"):
        Files("static", package="baize_no_such_package_anywhere")


@pytest.mark.parametrize(
    ("path", "root_path", "status"),
    [
        ("/static/data.txt", "/static", 200),  # path includes root_path (ASGI spec)
        ("/data.txt", "/static", 200),  # servers passing the path without it
        ("/static/data.txt", "/stat", 200),  # not a segment boundary: not stripped
        ("/staticdata.txt", "/static", 404),
        ("/static", "/static", 404),  # the directory itself
    ],
)
async def test_files_route_path(site: Path, path: str, root_path: str, status: int) -> None:
    (site / "static").mkdir()
    (site / "static" / "data.txt").write_bytes(b"nested")
    app = Files(site)
    if status == 404:
        assert (await raises(app, path, root_path=root_path)).status_code == 404
    else:
        answer = await call(app, path, root_path=root_path)
        assert answer.status == status


async def test_files_missing_and_directories_raise_404(site: Path) -> None:
    app = Files(site)
    for path in ("/nope.txt", "/docs", "/docs/", "/", "/about"):
        assert (await raises(app, path)).status_code == 404


async def test_files_handle_404_gets_the_request(site: Path) -> None:
    seen: list[Scope] = []

    async def handle_404(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope)
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b"custom"})

    answer = await call(Files(site, handle_404=handle_404), "/nope.txt", query_string=b"a=1")
    assert (answer.status, answer.body) == (404, b"custom")
    assert seen[0]["path"] == "/nope.txt" and seen[0]["query_string"] == b"a=1"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"])
async def test_files_other_methods_get_405(site: Path, method: str) -> None:
    for path in ("/data.txt", "/nope"):
        error = await raises(Files(site), path, method=method)
        assert error.status_code == 405
        assert error.headers == {"Allow": "GET, HEAD"}


async def test_files_head_sends_headers_only(site: Path) -> None:
    answer = await call(Files(site), "/data.txt", method="HEAD")
    assert answer.status == 200
    assert answer.body == b""
    assert answer.headers["content-length"] == str(len(BODY))
    assert answer.headers["etag"] == etag_of(site / "data.txt")


# --- conditional requests ----------------------------------------------------


def assert_not_modified(answer: Answer, site: Path) -> None:
    assert answer.status == 304
    assert answer.body == b""
    assert answer.headers["etag"] == etag_of(site / "data.txt")
    assert answer.headers["last-modified"] == MTIME_DATE
    assert answer.headers["cache-control"] == "public, max-age=600"
    assert "content-length" not in answer.headers
    assert "content-type" not in answer.headers


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize(
    "value",
    [
        "{etag}",
        "W/{etag}",
        '"nope", {etag}',
        'W/"nope",W/{etag} , "x"',
        "*",
    ],
)
async def test_if_none_match_gives_304(site: Path, method: str, value: str) -> None:
    header = value.format(etag=etag_of(site / "data.txt"))
    answer = await call(
        Files(site), "/data.txt", method=method, headers=[("If-None-Match", header)]
    )
    assert_not_modified(answer, site)


async def test_if_none_match_over_several_header_lines(site: Path) -> None:
    headers = [("If-None-Match", '"nope"'), ("If-None-Match", etag_of(site / "data.txt"))]
    assert_not_modified(await call(Files(site), "/data.txt", headers=headers), site)


@pytest.mark.parametrize("value", ['"nope"', 'W/"nope", "other"', "", "garbage"])
async def test_if_none_match_without_match_gives_200(site: Path, value: str) -> None:
    answer = await call(Files(site), "/data.txt", headers=[("If-None-Match", value)])
    assert (answer.status, answer.body) == (200, BODY)


async def test_if_none_match_takes_precedence_over_if_modified_since(site: Path) -> None:
    app = Files(site)
    etag = etag_of(site / "data.txt")
    # No match: If-Modified-Since (which alone would give 304) is ignored.
    answer = await call(
        app,
        "/data.txt",
        headers=[
            ("If-None-Match", '"nope"'),
            ("If-Modified-Since", "Fri, 01 Jan 2100 00:00:00 GMT"),
        ],
    )
    assert answer.status == 200
    # Match: 304 even though If-Modified-Since alone would give 200.
    answer = await call(
        app,
        "/data.txt",
        headers=[("If-None-Match", etag), ("If-Modified-Since", "Thu, 01 Jan 1970 00:00:00 GMT")],
    )
    assert_not_modified(answer, site)


@pytest.mark.parametrize(
    ("value", "status"),
    [
        (MTIME_DATE, 304),
        ("Sunday, 06-Nov-94 08:49:37 GMT", 304),
        ("Sun Nov  6 08:49:37 1994", 304),
        ("Sun, 06 Nov 1994 08:49:38 GMT", 304),
        ("Fri, 01 Jan 2100 00:00:00 GMT", 304),
        ("Sun, 06 Nov 1994 08:49:36 GMT", 200),
        ("Thu, 01 Jan 1970 00:00:00 GMT", 200),
        ("not a date", 200),
        ("sun, 06 nov 1994 08:49:37 gmt", 200),
        (f"{MTIME_DATE}, {MTIME_DATE}", 200),
        ("", 200),
    ],
)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
async def test_if_modified_since(site: Path, value: str, status: int, method: str) -> None:
    answer = await call(
        Files(site), "/data.txt", method=method, headers=[("If-Modified-Since", value)]
    )
    if status == 304:
        assert_not_modified(answer, site)
    else:
        assert answer.status == 200
        assert answer.body == (BODY if method == "GET" else b"")


async def test_if_modified_since_compares_whole_seconds(site: Path) -> None:
    # A sub-second mtime: Last-Modified shows the whole second, and that date is "not modified".
    os.utime(site / "data.txt", ns=(MTIME * 10**9 + 700_000_000,) * 2)
    answer = await call(Files(site), "/data.txt", headers=[("If-Modified-Since", MTIME_DATE)])
    assert answer.status == 304
    assert answer.headers["last-modified"] == MTIME_DATE


async def test_304_etag_agrees_with_200_etag(site: Path) -> None:
    app = Files(site)
    first = await call(app, "/data.txt")
    again = await call(app, "/data.txt", headers=[("If-None-Match", first.headers["etag"])])
    assert again.status == 304
    assert again.headers["etag"] == first.headers["etag"]
    (site / "data.txt").write_bytes(BODY + b"!")
    changed = await call(app, "/data.txt", headers=[("If-None-Match", first.headers["etag"])])
    assert changed.status == 200
    assert changed.headers["etag"] != first.headers["etag"]


@pytest.mark.parametrize(
    "headers",
    [
        [("If-Match", '"nope"')],
        [("If-Match", "W/{etag}")],
        [("If-Unmodified-Since", "Sat, 05 Nov 1994 08:49:37 GMT")],
    ],
)
async def test_failed_precondition_gives_412(site: Path, headers: list[tuple[str, str]]) -> None:
    etag = etag_of(site / "data.txt")
    headers = [(k, v.format(etag=etag)) for k, v in headers]
    assert (await raises(Files(site), "/data.txt", headers=headers)).status_code == 412


@pytest.mark.parametrize(
    "headers",
    [
        [("If-Match", "{etag}")],
        [("If-Match", '"a", {etag}')],
        [("If-Match", "*")],
        [("If-Unmodified-Since", MTIME_DATE)],
        [("If-Unmodified-Since", "invalid")],
        [("If-Match", "{etag}"), ("If-Unmodified-Since", "Sat, 05 Nov 1994 08:49:37 GMT")],
    ],
)
async def test_passed_precondition_gives_200(site: Path, headers: list[tuple[str, str]]) -> None:
    etag = etag_of(site / "data.txt")
    headers = [(k, v.format(etag=etag)) for k, v in headers]
    answer = await call(Files(site), "/data.txt", headers=headers)
    assert (answer.status, answer.body) == (200, BODY)


# --- ranges (delegated to FileResponse) ---------------------------------------


async def test_files_single_range(site: Path) -> None:
    answer = await call(Files(site), "/data.txt", headers=[("Range", "bytes=2-5")])
    assert answer.status == 206
    assert answer.body == BODY[2:6]
    assert answer.headers["content-range"] == f"bytes 2-5/{len(BODY)}"
    assert answer.headers["cache-control"] == "public, max-age=600"


async def test_files_suffix_and_multiple_ranges(site: Path) -> None:
    app = Files(site)
    suffix = await call(app, "/data.txt", headers=[("Range", "bytes=-3")])
    assert (suffix.status, suffix.body) == (206, BODY[-3:])
    multi = await call(app, "/data.txt", headers=[("Range", "bytes=0-1, 10-11")])
    assert multi.status == 206
    assert multi.headers["content-type"].startswith("multipart/byteranges; boundary=")
    assert b"\r\n01\r\n" in multi.body and b"\r\nab\r\n" in multi.body
    assert int(multi.headers["content-length"]) == len(multi.body)


async def test_files_unsatisfiable_range(site: Path) -> None:
    answer = await call(Files(site), "/data.txt", headers=[("Range", "bytes=100-")])
    assert answer.status == 416
    assert answer.headers["content-range"] == f"bytes */{len(BODY)}"


async def test_files_if_range(site: Path) -> None:
    app = Files(site)
    etag = etag_of(site / "data.txt")
    hit = await call(app, "/data.txt", headers=[("Range", "bytes=0-3"), ("If-Range", etag)])
    assert (hit.status, hit.body) == (206, BODY[:4])
    miss = await call(app, "/data.txt", headers=[("Range", "bytes=0-3"), ("If-Range", '"old"')])
    assert (miss.status, miss.body) == (200, BODY)


async def test_not_modified_wins_over_range(site: Path) -> None:
    etag = etag_of(site / "data.txt")
    answer = await call(
        Files(site), "/data.txt", headers=[("Range", "bytes=0-3"), ("If-None-Match", etag)]
    )
    assert_not_modified(answer, site)


# --- WebSocket -----------------------------------------------------------------


@pytest.mark.parametrize("app_class", [Files, Pages])
async def test_websocket_is_closed_without_denial_extension(
    site: Path, app_class: type[Files]
) -> None:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "websocket", "path": "/data.txt", "root_path": "", "headers": []}
    await app_class(site)(scope, receive, send)
    assert [m["type"] for m in sent] == ["websocket.close"]


async def test_websocket_is_denied_with_404_when_possible(site: Path) -> None:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "websocket",
        "path": "/data.txt",
        "root_path": "",
        "headers": [],
        "extensions": {"websocket.http.response": {}},
    }
    await Files(site)(scope, receive, send)
    assert [m["type"] for m in sent] == [
        "websocket.http.response.start",
        "websocket.http.response.body",
    ]
    assert sent[0]["status"] == 404


async def test_lifespan_scope_is_refused(site: Path) -> None:
    async def receive() -> Message:
        return {"type": "lifespan.startup"}

    async def send(message: Message) -> None:
        raise AssertionError("nothing must be sent")

    with pytest.raises(RuntimeError, match="lifespan"):
        await Files(site)({"type": "lifespan"}, receive, send)


# --- Pages ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/", b"<h1>home</h1>"),
        ("/index.html", b"<h1>home</h1>"),
        ("/about", b"about page"),
        ("/about.html", b"about page"),
        ("/docs/", b"docs index"),
        ("/docs/guide", b"guide"),
        ("/both", b"both page"),
        ("/both/", b"both index"),
        ("/plain", b"no extension"),
        ("/data.txt", BODY),
        ("/caf\u00e9/", b"cafe"),
    ],
    ids=ascii,
)
async def test_pages_serves(site: Path, path: str, body: bytes) -> None:
    answer = await call(Pages(site), path)
    assert (answer.status, answer.body) == (200, body)
    assert answer.headers["cache-control"] == "public, max-age=600"


async def test_pages_html_content_type(site: Path) -> None:
    for path in ("/", "/about", "/docs/"):
        answer = await call(Pages(site), path)
        assert answer.headers["content-type"] == "text/html; charset=utf-8"


@pytest.mark.parametrize(
    "path", ["/nope", "/empty/", "/about/", "/data.txt/", "/docs/missing", "/docs/guide/"]
)
async def test_pages_404(site: Path, path: str) -> None:
    assert (await raises(Pages(site), path)).status_code == 404


@pytest.mark.parametrize(
    ("path", "root_path", "query", "location"),
    [
        ("/docs", "", b"", "/docs/"),
        ("/docs", "", b"a=1&b=%20x", "/docs/?a=1&b=%20x"),
        ("/empty", "", b"", "/empty/"),
        ("/site/docs", "/site", b"q=1", "/site/docs/?q=1"),
        ("/docs", "/site", b"", "/site/docs/"),
        ("/site", "/site", b"x", "/site/?x"),
        ("", "", b"", "/"),
        ("/caf\u00e9", "", b"", "/caf%C3%A9/"),
        ("/docs", "", "q=caf\u00e9".encode(), "/docs/?q=caf%C3%A9"),
        ("/docs", "", b"a=\r\nSet-Cookie:x", "/docs/?a=%0D%0ASet-Cookie:x"),
    ],
    ids=ascii,
)
async def test_pages_redirects_directory_to_slash(
    site: Path, path: str, root_path: str, query: bytes, location: str
) -> None:
    answer = await call(Pages(site), path, root_path=root_path, query_string=query)
    assert answer.status == 307
    # as upstream: a network-path reference to the requested host
    assert answer.headers["location"] == "//testserver" + location
    assert answer.body == b""


@pytest.mark.parametrize(
    ("host", "location"),
    [
        (None, "/docs/"),  # no Host: a path-absolute reference
        ("example.org:8080", "//example.org:8080/docs/"),
        ("evil.example/x", "/docs/"),  # not an authority: never trusted
        ("user@evil.example", "/docs/"),
        ("", "/docs/"),
    ],
)
async def test_pages_redirect_names_the_requested_host_only(
    site: Path, host: str | None, location: str
) -> None:
    answer = await call(Pages(site), "/docs", host=host)
    assert answer.status == 307
    assert answer.headers["location"] == location


async def test_pages_redirect_path_never_reads_as_an_authority(site: Path) -> None:
    answer = await call(Pages(site), "//evil.example/docs", root_path="//evil.example")
    assert answer.status == 307
    assert answer.headers["location"] == "//testserver/evil.example/docs/"


async def test_pages_conditional_on_index(site: Path) -> None:
    app = Pages(site)
    first = await call(app, "/docs/")
    again = await call(app, "/docs/", headers=[("If-None-Match", first.headers["etag"])])
    assert (again.status, again.body) == (304, b"")
    assert again.headers["etag"] == etag_of(site / "docs" / "index.html")


async def test_pages_head_and_405(site: Path) -> None:
    head = await call(Pages(site), "/about", method="HEAD")
    assert (head.status, head.body) == (200, b"")
    assert head.headers["content-length"] == str(len(b"about page"))
    error = await raises(Pages(site), "/about", method="POST")
    assert (error.status_code, error.headers) == (405, {"Allow": "GET, HEAD"})


async def test_pages_handle_404(site: Path) -> None:
    async def handle_404(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b"custom"})

    answer = await call(Pages(site, handle_404=handle_404), "/empty/")
    assert (answer.status, answer.body) == (404, b"custom")


def test_formatdate_agrees_with_mtime_date() -> None:
    assert formatdate(MTIME, usegmt=True) == MTIME_DATE
