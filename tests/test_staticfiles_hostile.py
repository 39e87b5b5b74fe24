"""Hostile paths against Files and Pages: never a byte from outside the directory.

Each path is what an ASGI server would put in ``scope["path"]`` (already
percent-decoded), sometimes with the ``raw_path`` a client sent. Every one must
give 404 (an ``HTTPException(404)`` raised without ``handle_404``, or the
``handle_404`` app's answer), never the secret's bytes, never another exception.
"""

from __future__ import annotations

import os
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from baize.asgi import Files, Pages
from baize.exceptions import HTTPException
from baize.typing import ASGIApp, Message, Receive, Scope, Send

# At collection time, so that parametrized async tests also run on both backends
# (the conftest adds the marker too late for those).
pytestmark = pytest.mark.anyio

SECRET = b"TOP-SECRET-BYTES"


@dataclass
class Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


async def call(
    app: ASGIApp, path: str, *, raw_path: bytes | None = None, root_path: str = ""
) -> Answer:
    """Run one GET through ``app``; an HTTPException becomes an Answer with its status."""
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "root_path": root_path,
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "extensions": {},
    }
    if raw_path is not None:
        scope["raw_path"] = raw_path
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

    try:
        with anyio.fail_after(10):
            await app(scope, receive, send)
    except HTTPException as exc:
        assert not messages, "an exception after the response started"
        return Answer(exc.status_code)
    start = messages[0]
    assert start["type"] == "http.response.start"
    body = b"".join(m.get("body", b"") for m in messages[1:])
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in start["headers"]}
    return Answer(start["status"], headers, body)


async def not_found(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 404, "headers": [(b"x-handler", b"yes")]})
    await send({"type": "http.response.body", "body": b"missing"})


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``top/secret*`` outside, ``top/served`` served, ``top/served-evil`` a look-alike sibling."""
    top = tmp_path_factory.mktemp("top")
    (top / "secret").write_bytes(SECRET)
    (top / "secret.html").write_bytes(SECRET)
    (top / "index.html").write_bytes(SECRET)
    evil = top / "served-evil"
    evil.mkdir()
    (evil / "secret").write_bytes(SECRET)
    (evil / "index.html").write_bytes(SECRET)
    served = top / "served"
    served.mkdir()
    (served / "hello.txt").write_bytes(b"hello")
    (served / "a").mkdir()
    (served / "a" / "b.txt").write_bytes(b"bee")
    (served / "inside_link").symlink_to("hello.txt")
    (served / "inside_dir_link").symlink_to("a", target_is_directory=True)
    (served / "out_link").symlink_to(os.path.join("..", "secret"))
    (served / "out_link.html").symlink_to(os.path.join("..", "secret.html"))
    (served / "out_dir").symlink_to("..", target_is_directory=True)
    (served / "abs_link").symlink_to(top / "secret")
    (served / "evil").symlink_to(evil, target_is_directory=True)
    (served / "dev_link").symlink_to("/dev/zero")
    (served / "loop").symlink_to("loop")
    (served / "a" / "up").symlink_to(os.path.join("..", ".."), target_is_directory=True)
    os.mkfifo(served / "fifo")
    return top


LONG_NAME = "b" * 300  # over NAME_MAX (255)

HOSTILE_PATHS: list[str] = [
    # dot-dot in every position
    "/../secret",
    "/a/../../secret",
    "/a/..",
    "/..",
    "/../",
    "/./../secret",
    "/a/b.txt/..",
    "/../served/hello.txt",
    "/a/./../../secret",
    "/hello.txt;/../../secret",
    "/a/up/secret",
    # what arrives when the client percent-encoded (the server decoded once)
    "/../secret.html",
    "/%2e%2e/secret",
    "/%2e%2e%2fsecret",
    "/%252e%252e/secret",
    "/..%2fsecret",
    "/..%5csecret",
    "/%2e%2e%5csecret",
    # backslashes
    "/..\\secret",
    "/\\..\\secret",
    "/\\\\secret",
    "/a\\..\\..\\secret",
    # absolute paths and empty segments
    "//etc/passwd",
    "/etc/passwd",
    "///secret",
    "/a//b.txt",
    "/C:\\secret",
    "/C:/secret",
    "/~/secret",
    # NUL
    "/hello.txt\x00",
    "/\x00../secret",
    "/\x00",
    "/%00",
    "/hello.txt%00",
    "/hello.txt%00.html",
    # invalid / overlong UTF-8
    "/%c0%ae%c0%ae/secret",
    "/\ufffd\ufffd/secret",
    "/\udcc0\udcae\udcc0\udcae/secret",
    "/\udcc0\udcae\udcc0\udcae\udcc0\udcafsecret",
    "/\ud800",
    # Unicode look-alikes stay file name characters
    "/\u2024\u2024/secret",
    "/\uff0e\uff0e/secret",
    "/..\u2215secret",
    "/..\uff0fsecret",
    "/\uff0e\uff0e\uff0fsecret",
    "/\u2025/secret",
    # symlinks leading out
    "/out_link",
    "/out_dir/secret",
    "/out_dir/",
    "/out_dir",
    "/abs_link",
    "/evil/secret",
    "/evil/",
    "/dev_link",
    "/loop",
    # not regular files, or not files at all
    "/fifo",
    "",
    "/",
    "/.",
    "/./",
    "/a",
    "/a/",
    "/hello.txt/",
    "/hello.txt/.",
    "/a/./b.txt",
    "/...",
    "/.../secret",
    "/..../secret",
    "/\t../secret",
    "/.. /secret",
    # very long
    "/" + "a" * 10_000,
    "/" + "/".join(["a"] * 300),
    "/" + "/".join(["x" * 255] * 300),
    "/" + LONG_NAME,
    "/a/" + LONG_NAME,
]


def apps(served: Path) -> dict[str, ASGIApp]:
    return {
        "Files": Files(served),
        "Pages": Pages(served),
        "Files+handle_404": Files(served, handle_404=not_found),
        "Pages+handle_404": Pages(served, handle_404=not_found),
    }


def test_corpus_is_big_enough() -> None:
    assert len(set(HOSTILE_PATHS)) == len(HOSTILE_PATHS) >= 40


@pytest.mark.parametrize("kind", ["Files", "Pages", "Files+handle_404", "Pages+handle_404"])
@pytest.mark.parametrize("path", HOSTILE_PATHS, ids=ascii)
async def test_hostile_path_gives_404(tree: Path, kind: str, path: str) -> None:
    app = apps(tree / "served")[kind]
    answer = await call(app, path)
    assert SECRET not in answer.body
    if kind.startswith("Pages") and path in ("/", "/a/", "/./", "", "/a", "/."):
        return  # directories: checked by the Pages tests (index or redirect)
    assert answer.status == 404, (path, answer)
    if kind.endswith("handle_404"):
        assert answer.headers == {"x-handler": "yes"}
        assert answer.body == b"missing"


@pytest.mark.parametrize(
    ("path", "raw_path"),
    [
        ("/../secret", b"/%2e%2e/secret"),
        ("/../secret", b"/%2E%2E%2Fsecret"),
        ("/%2e%2e/secret", b"/%252e%252e/secret"),
        ("/../secret", b"/hello.txt"),
        ("/..\\secret", b"/..%5csecret"),
        ("/\x00", b"/%00"),
        ("/\ufffd\ufffd/secret", b"/%c0%ae%c0%ae/secret"),
    ],
    ids=ascii,
)
async def test_raw_path_is_never_used(tree: Path, path: str, raw_path: bytes) -> None:
    for app in apps(tree / "served").values():
        answer = await call(app, path, raw_path=raw_path)
        assert answer.status == 404
        assert SECRET not in answer.body


async def test_path_decides_not_raw_path(tree: Path) -> None:
    # The decision is made on the decoded path alone, the string the file system sees.
    answer = await call(Files(tree / "served"), "/hello.txt", raw_path=b"/../secret")
    assert (answer.status, answer.body) == (200, b"hello")


async def test_hostile_path_below_root_path(tree: Path) -> None:
    app = Files(tree / "served")
    for path in ("/static/../secret", "/static/..", "/static/../served-evil/secret"):
        answer = await call(app, path, root_path="/static")
        assert answer.status == 404
        assert SECRET not in answer.body


@pytest.mark.parametrize("path", ["/inside_link", "/inside_dir_link/b.txt", "/a/b.txt"])
async def test_symlinks_inside_are_served(tree: Path, path: str) -> None:
    for kind in ("Files", "Pages"):
        answer = await call(apps(tree / "served")[kind], path)
        assert answer.status == 200
        assert answer.body in (b"hello", b"bee")


@pytest.mark.parametrize("kind", ["Files", "Pages"])
async def test_follow_symlinks_serves_links_leading_out_but_never_dot_dot(
    tree: Path, kind: str
) -> None:
    app = (Files if kind == "Files" else Pages)(tree / "served", follow_symlinks=True)
    for path in ("/out_link", "/abs_link", "/out_dir/secret", "/evil/secret"):
        answer = await call(app, path)
        assert (answer.status, answer.body) == (200, SECRET), path  # upstream's behaviour
    for path in ("/../secret", "/a/../../secret", "/%2e%2e/secret", "/..\\secret", "//etc/passwd"):
        answer = await call(app, path)  # the request path itself never leaves the directory
        assert answer.status == 404, path
        assert SECRET not in answer.body
    assert (await call(app, "/inside_link")).body == b"hello"
    assert (await call(app, "/dev_link")).status == 404  # not a regular file
    assert (await call(app, "/loop")).status == 404


async def test_served_directory_reached_through_a_symlink(tree: Path) -> None:
    link = tree / "served_link"
    if not link.exists():
        link.symlink_to(tree / "served", target_is_directory=True)
    app = Files(link)
    assert (await call(app, "/hello.txt")).body == b"hello"
    assert (await call(app, "/../secret")).status == 404
    assert (await call(app, "/out_link")).status == 404


_TOKENS = [
    "..",
    ".",
    "/",
    "\\",
    "%2e",
    "%2f",
    "%00",
    "\x00",
    "secret",
    "served-evil",
    "out_dir",
    "out_link",
    "evil",
    "a",
    "up",
    "\u2024",
    "\uff0e",
    "\uff0f",
    "\udcc0",
    "~",
    ":",
]


def _run(app: ASGIApp, path: str) -> Answer:
    async def main() -> Answer:
        return await call(app, path)

    return anyio.run(main)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    parts=st.lists(
        st.one_of(st.sampled_from(_TOKENS), st.text(string.printable, max_size=4)),
        max_size=12,
    ),
    pages=st.booleans(),
)
def test_fuzzed_paths_never_leak(tree: Path, parts: list[str], pages: bool) -> None:
    path = "/" + "".join(parts)
    app: Callable[..., ASGIApp] = Pages if pages else Files
    answer = _run(app(tree / "served"), path)
    assert SECRET not in answer.body
    assert answer.status in (200, 206, 307, 404), (path, answer)
