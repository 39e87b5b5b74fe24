"""Static files path safety (conformance/requirements/staticfiles.toml, ``*-TRAVERSAL-*``).

Each case sends a corpus of hostile request targets byte for byte over a raw socket and fails
if any of them leaks: a 2xx/3xx where a refusal is due, a 5xx, or the secret marker anywhere
in the bytes received. The secret files sit next to the served directory (``ROOT/SECRET.txt``,
``ROOT/SECRET.html``, ``ROOT/outside/``); their absolute paths come from ``/staticfiles/info``
because the scenario app builds them in a fresh temporary directory per server process.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Callable, Sequence
from urllib.parse import quote, unquote

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from conformance.budget import BOUNDED, Budget, budget_fixture  # noqa: F401 (the fixture "budget")
from conformance.harness import expect_equal, expect_true
from conformance.harness.rawhttp import (
    RawResponse,
    ServerClosedConnection,
    build_request,
    exchange,
)
from conformance.harness.server import Server
from conformance.test_staticfiles import (
    FILES,
    INSIDE_LINKS,
    PAGES,
    SECRET_MARKER,
    SERVED_FILES,
    content,
)

# Every case reads or writes HTTP/1.1 (or WebSocket) bytes: none is generated for h2c/h2
# columns (harness/transport.py); HTTP/2 twins live in test_h2_twins.py.
pytestmark = pytest.mark.h1_only

REFUSED = (400, 404)
#: What /etc/passwd starts with on every Unix: must never come back either.
PASSWD_MARKER = b"root:"

Info = dict[str, str]
Corpus = Callable[[Info], list[str]]


def info(server: Server) -> Info:
    """The absolute paths the scenario app chose (``secret``, ``outside``, ``served``)."""
    raw = server.raw(build_request("GET", "/staticfiles/info", [("Connection", "close")]))
    head, _, body = raw.partition(b"\r\n\r\n")
    expect_true(head.startswith(b"HTTP/1.1 200"), "the info app answers 200", "200", repr(head))
    data: Info = json.loads(body)
    return data


def send_hostile(server: Server, target: str) -> RawResponse | None:
    """One exchange; None when the server closes without answering (it refused the line)."""
    request = build_request("GET", target, [("Connection", "close")])
    try:
        return exchange(server.host, server.port, request, timeout=5.0)
    except ServerClosedConnection:
        return None


def check_refused(
    server: Server, mount: str, targets: Sequence[str], accepted: Sequence[int] = REFUSED
) -> None:
    """Send every target below ``mount``; collect every leak, fail once naming them all."""
    problems: list[str] = []
    for rest in targets:
        target = mount + rest
        response = send_hostile(server, target)
        if response is None:
            continue
        shown = target if len(target) <= 120 else target[:100] + f"...({len(target)} bytes)"
        if SECRET_MARKER in response.raw or PASSWD_MARKER in response.body:
            problems.append(f"{shown}: LEAKED a file from outside ({response.status})")
        elif response.status not in accepted:
            problems.append(f"{shown}: status {response.status}, body {response.body[:60]!r}")
    expect_true(
        not problems,
        f"hostile targets below {mount} are refused without leaking",
        f"status in {list(accepted)}, never the secret marker, never 5xx",
        "\n  ".join(problems),
    )


def dotdot(paths: Info) -> list[str]:
    return [
        "/../SECRET.txt",
        "/./../SECRET.txt",
        "/sub/../../SECRET.txt",
        "/sub/inner.txt/../../../SECRET.txt",
        "/emptydir/../sub/../../SECRET.txt",
        "/../outside/secret.txt",
        "/..",
        "/../",
        "/sub/../..",
        "/.." * 16 + paths["secret"],
        "/sub/" + "../" * 16 + paths["secret"].lstrip("/"),
    ]


def encoded(paths: Info) -> list[str]:
    deep = "%2e%2e%2f" * 16 + quote(paths["secret"].lstrip("/"), safe="")
    return [
        "/%2e%2e/SECRET.txt",
        "/%2E%2E/SECRET.txt",
        "/.%2e/SECRET.txt",
        "/%2e./SECRET.txt",
        "/%2e%2e%2fSECRET.txt",
        "/%2E%2E%2FSECRET.txt",
        "/..%2fSECRET.txt",
        "/..%2FSECRET.txt",
        "/sub%2f..%2f..%2fSECRET.txt",
        "/%2e%2e%2foutside%2fsecret.txt",
        "/%2e",
        "/%2e%2e",
        "/" + deep,
    ]


def double_encoded(paths: Info) -> list[str]:
    return [
        "/%252e%252e%252fSECRET.txt",
        "/%252E%252E%252FSECRET.txt",
        "/%252e%252e/SECRET.txt",
        "/..%252fSECRET.txt",
        "/%25252e%25252e%25252fSECRET.txt",
        "/sub%252f%252e%252e%252f%252e%252e%252fSECRET.txt",
        "/" + "%252e%252e%252f" * 16 + quote(quote(paths["secret"].lstrip("/"), safe=""), safe=""),
    ]


def backslash(paths: Info) -> list[str]:
    return [
        "/..\\SECRET.txt",
        "/sub\\..\\..\\SECRET.txt",
        "/..%5cSECRET.txt",
        "/..%5CSECRET.txt",
        "/%5c..%5cSECRET.txt",
        "/%2e%2e%5cSECRET.txt",
        "/..%255cSECRET.txt",
        "/sub%5cinner.txt",
        "/" + "..%5c" * 16 + paths["secret"].lstrip("/").replace("/", "%5c"),
    ]


def absolute(paths: Info) -> list[str]:
    secret = paths["secret"]
    return [
        "//etc/passwd",
        "/%2fetc%2fpasswd",
        "/%2Fetc/passwd",
        "/" + secret,
        "/" + quote(secret, safe=""),
        "/%2F" + quote(secret.lstrip("/"), safe="/"),
        "//" + paths["outside"].lstrip("/") + "/secret.txt",
        "/file:" + secret,
        "/C:%5cWindows%5cwin.ini",
    ]


def nul(paths: Info) -> list[str]:
    return [
        "/%00",
        "/hello.txt%00",
        "/hello.txt%00.png",
        "/SECRET.txt%00",
        "/../SECRET.txt%00.txt",
        "/%2e%2e%00/SECRET.txt",
        "/sub%00/../../SECRET.txt",
        "/" + quote(paths["secret"], safe="") + "%00",
    ]


def overlong(paths: Info) -> list[str]:
    return [
        "/%c0%ae%c0%ae/SECRET.txt",
        "/%C0%AE%C0%AE%C0%AFSECRET.txt",
        "/%e0%80%ae%e0%80%ae/SECRET.txt",
        "/..%c0%afSECRET.txt",
        "/..%e0%80%afSECRET.txt",
        "/..%c1%9cSECRET.txt",
        "/%c0%ae%c0%ae%c0%af" * 16 + paths["secret"].lstrip("/"),
    ]


def invalid_utf8(paths: Info) -> list[str]:
    return [
        "/%ff",
        "/%80%80",
        "/hello.txt%ff",
        "/hello%ff.txt",
        "/%fe%ff/../SECRET.txt",
        "/%ed%a0%80.txt",
        "/%ff/%2e%2e/%2e%2e/SECRET.txt",
    ]


def lookalike(paths: Info) -> list[str]:
    return [
        "/%E2%80%A4%E2%80%A4/SECRET.txt",
        "/%E2%80%A5/SECRET.txt",
        "/%EF%BC%8E%EF%BC%8E/SECRET.txt",
        "/..%E2%88%95SECRET.txt",
        "/..%EF%BC%8FSECRET.txt",
        "/%EF%BC%8E%EF%BC%8E%EF%BC%8FSECRET.txt",
        "/..%EF%BC%BCSECRET.txt",
        "/%E2%80%A5%E2%88%95outside%E2%88%95secret.txt",
        "/hello%EF%BC%8Etxt",
    ]


def symlink_out(paths: Info) -> list[str]:
    return [
        "/link-out.txt",
        "/link-out.html",
        "/link-out-dir/secret.txt",
        "/link-out-dir/index.html",
        "/link-out-dir/",
        "/link-out-dir",
        "/link-out-dir/../SECRET.txt",
    ]


def pages_symlinks(paths: Info) -> list[str]:
    """Symlinks leading out, reached through Pages' name completion and directory index."""
    return [
        "/link-out",
        "/link-out.txt",
        "/link-out-dir/",
        "/link-out-dir/secret.txt",
        "/link-out-dir/index",
    ]


def long(paths: Info) -> list[str]:
    return [
        "/" + "a" * 300,
        "/" + "a/" * 2100 + "hello.txt",
        "/.." * 1000 + paths["secret"],
        "/" + "%2e%2e%2f" * 600 + "SECRET.txt",
        "/" + "b" * 8000,
    ]


def pages(paths: Info) -> list[str]:
    return [
        "/../SECRET",
        "/../SECRET.html",
        "/%2e%2e/SECRET",
        "/%2e%2e%2fSECRET",
        "/..%5cSECRET",
        "/../outside/",
        "/../outside",
        "/..",
        "/../",
        "/%2e%2e/",
        "/.." * 16 + paths["secret"].removesuffix(".txt"),
        "/%E2%80%A5/SECRET",
        "/SECRET%00",
    ]


@pytest.mark.requirement("STATIC-TRAVERSAL-DOTDOT")
def test_dotdot(server: Server) -> None:
    check_refused(server, FILES, dotdot(info(server)))


@pytest.mark.requirement("STATIC-TRAVERSAL-ENCODED")
def test_encoded(server: Server) -> None:
    check_refused(server, FILES, encoded(info(server)))


@pytest.mark.requirement("STATIC-TRAVERSAL-DOUBLE-ENCODED")
def test_double_encoded(server: Server) -> None:
    check_refused(server, FILES, double_encoded(info(server)))


@pytest.mark.requirement("STATIC-TRAVERSAL-BACKSLASH")
def test_backslash(server: Server) -> None:
    check_refused(server, FILES, backslash(info(server)))


@pytest.mark.requirement("STATIC-TRAVERSAL-ABSOLUTE")
def test_absolute(server: Server) -> None:
    check_refused(server, FILES, absolute(info(server)))


@pytest.mark.requirement("STATIC-TRAVERSAL-NUL")
def test_nul(server: Server) -> None:
    check_refused(server, FILES, nul(info(server)))


@pytest.mark.requirement("STATIC-TRAVERSAL-OVERLONG")
def test_overlong(server: Server) -> None:
    check_refused(server, FILES, overlong(info(server)))


@pytest.mark.requirement("STATIC-TRAVERSAL-INVALID-UTF8")
def test_invalid_utf8(server: Server) -> None:
    check_refused(server, FILES, invalid_utf8(info(server)))


@pytest.mark.requirement("STATIC-TRAVERSAL-LOOKALIKE")
def test_lookalike(server: Server) -> None:
    check_refused(server, FILES, lookalike(info(server)))


@pytest.mark.requirement("STATIC-TRAVERSAL-SYMLINK-OUT")
def test_symlink_out(server: Server) -> None:
    check_refused(server, FILES, symlink_out(info(server)))


@pytest.mark.requirement("STATIC-FOLLOW-SYMLINKS")
def test_follow_symlinks_restores_upstream(server: Server) -> None:
    follow = "/staticfiles/follow"
    for rest in ("/link-out.txt", "/link-out-dir/secret.txt"):
        response = send_hostile(server, follow + rest)
        expect_true(
            response is not None and response.status == 200 and SECRET_MARKER in response.body,
            f"GET {follow}{rest}: the symlink leading out is followed",
            "200 with the target's bytes",
            "no answer" if response is None else f"{response.status} {response.body[:60]!r}",
        )
    check_refused(server, follow, dotdot(info(server)))  # a path never leaves the directory


@pytest.mark.requirement("STATIC-TRAVERSAL-LONG")
def test_long(server: Server) -> None:
    check_refused(server, FILES, long(info(server)), accepted=range(400, 500))


@pytest.mark.requirement("PAGES-TRAVERSAL")
def test_pages_traversal(server: Server) -> None:
    check_refused(server, PAGES, pages(info(server)))


@pytest.mark.requirement("PAGES-TRAVERSAL-SYMLINK")
def test_pages_symlinks(server: Server) -> None:
    check_refused(server, PAGES, pages_symlinks(info(server)))


# --- Hypothesis: targets built from hostile pieces, checked against an oracle ---
# No segment names a symlink leading out: refusing those is an extension (EXT,
# STATIC-TRAVERSAL-SYMLINK-OUT), and this case checks the baize API (upstream follows them).

#: name -> bytes for every regular file reachable inside the served directory.
REACHABLE = {name: content(name) for name in SERVED_FILES} | {
    link: content(name) for link, name in INSIDE_LINKS.items()
}
_SEGMENTS = st.sampled_from(
    [
        "..",
        "%2e%2e",
        ".%2e",
        "%2E.",
        ".",
        "%2e",
        "",
        "sub",
        "inner.txt",
        "hello.txt",
        "link-in.txt",
        "SECRET.txt",
        "outside",
        "secret.txt",
        "%252e%252e",
        "%E2%80%A5",
    ]
)
_SEPARATORS = st.sampled_from(["/", "/", "/", "%2f", "%2F", "%5c", "\\"])


def named_file(target: str, *, lenient: bool = False) -> str | None:
    """The served file a decoded route path names, None when it names none (or is hostile).

    The route path is what follows the mount: exactly one leading ``/`` belongs to it, so
    ``//hello.txt`` holds an empty segment and names no file (our ``Files`` answers 404 for it).

    :param lenient: resolve the path the way RFC 3986 §5.2.4 removes dot segments, skipping
        empty segments too (``/./hello.txt``, ``//hello.txt`` and ``/sub/../hello.txt`` name
        ``hello.txt`` and stay inside); a ``..`` above the mount names nothing. docs/api.md
        neither requires nor forbids serving such a target, so it may be served (with those
        bytes) or refused, never answered with other bytes.
    """
    path = unquote(target, errors="strict")
    if "\\" in path:
        return None
    segments = path.removeprefix("/").split("/")
    if lenient:
        kept: list[str] = []
        for segment in segments:
            if segment == "..":
                if not kept:
                    return None  # above the mount: only a refusal is right
                kept.pop()
            elif segment not in (".", ""):
                kept.append(segment)
        segments = kept
    if not segments or any(seg in ("", ".", "..") for seg in segments):
        return None
    name = posixpath.join(*segments)
    return name if name in REACHABLE else None


@pytest.mark.requirement("STATIC-TRAVERSAL-FUZZ")
@BOUNDED
@given(
    pieces=st.lists(st.tuples(_SEPARATORS, _SEGMENTS), min_size=1, max_size=6),
)
@example(pieces=[("/", ""), ("/", "hello.txt")])  # //hello.txt: an empty segment, names nothing
@example(pieces=[("/", "."), ("/", "hello.txt")])  # /./hello.txt: may be served, as hello.txt
@example(pieces=[("/", "sub"), ("/", ".."), ("/", "hello.txt")])  # stays inside: either
@example(pieces=[("/", "sub"), ("/", "inner.txt")])  # plain: must be served
@example(pieces=[("/", ".."), ("/", "SECRET.txt")])  # above the mount: refused
@example(pieces=[("/", "sub"), ("%2f", "%2e%2e"), ("%2F", ".."), ("/", "SECRET.txt")])
def test_fuzz(server: Server, budget: Budget, pieces: list[tuple[str, str]]) -> None:
    budget.check()
    rest = "".join(separator + segment for separator, segment in pieces)
    if not rest.startswith("/"):
        rest = "/" + rest
    target = FILES + rest
    response = send_hostile(server, target)
    if response is None:
        return
    expect_true(SECRET_MARKER not in response.raw, "never the secret marker", "no leak", target)
    expect_true(response.status < 500, "never a 5xx", "< 500", f"{response.status} for {target}")
    name = named_file(rest)
    if response.status == 200:
        served = named_file(rest, lenient=True)
        expect_true(
            served is not None and response.body == REACHABLE[served],
            "a 200 carries the bytes of the served file the decoded path names",
            f"the bytes of {served!r}",
            f"{response.body[:40]!r} for {target}",
        )
    elif "%" not in rest and "\\" not in rest and name is not None:
        expect_equal(response.status, 200, f"a plain target naming {name}: {target}")
    else:
        expect_true(
            response.status in REFUSED, "a refusal", "400 or 404", f"{response.status} for {target}"
        )
