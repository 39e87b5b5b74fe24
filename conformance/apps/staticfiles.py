"""Scenario apps for the staticfiles area: the implementation's ``Files`` and ``Pages``.

At import time a temporary directory is built::

    ROOT/served/            the directory every mount serves (see SERVED_FILES)
        sub/index.html, sub/inner.txt, emptydir/, about.html, index.html, caf\u00e9.txt, ...
        link-in.txt      -> hello.txt              (a symlink that stays inside: allowed)
        link-out.txt     -> ../SECRET.txt          (a symlink leading out: refused)
        link-out.html    -> ../SECRET.html
        link-out-dir     -> ../outside             (a directory symlink leading out: refused)
    ROOT/SECRET.txt, ROOT/SECRET.html, ROOT/outside/secret.txt   (hold :data:`SECRET_MARKER`)

Every file's modification time is :data:`MTIME`; file contents are :func:`content` of the name.

Mounts (each a plain-ASGI wrapper that sets ``root_path`` to the mount and ``path`` to the rest
below it, so the implementation's route path is the rest, and renders an ``HTTPException`` as
status, headers and content):

- ``/staticfiles/files/...``: ``Files(served)``.
- ``/staticfiles/private/...``: ``Files(served, cacheability="private", max_age=30)``.
- ``/staticfiles/custom404/...``: ``Files(served, handle_404=...)``; the handler answers 404 with
  :data:`HANDLE_404_MARKER`.
- ``/staticfiles/pages/...``: ``Pages(served)``.
- ``/staticfiles/follow/...``: ``Files(served, follow_symlinks=True)`` (upstream's behaviour).
- ``/staticfiles/info``: JSON with the absolute paths of the secret file and of ``served``.

A request to a mount with ``record=<token>`` in its query string has the ASGI messages the
implementation sends recorded (types, body bytes, and ``done`` once the app returned);
``/staticfiles/result/<token>`` answers that record as JSON (``null`` until there is one).
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import shutil
import tempfile
from typing import Any
from urllib.parse import parse_qs

from . import _impl
from ._plumbing import App, Message, Receive, Scope, Send

PREFIX = "/staticfiles"


#: In the secret files only; no answer to a hostile path may contain it.
SECRET_MARKER = "STATICFILES-SECRET-9f2c4e71-outside-the-served-directory"
#: The body of the handle_404 app of ``/staticfiles/custom404``.
HANDLE_404_MARKER = "custom-handle-404-app-answered"
#: 2021-03-04 05:06:07 UTC, every file's modification time.
MTIME = 1614834367
#: name (relative to ``served``, ``/``-separated) -> size; bytes from :func:`content`.
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


def content(name: str, size: int) -> bytes:
    """Deterministic ASCII bytes for the file ``name``: its name, then printable bytes
    drawn from the SHAKE-256 stream of the name (never periodic)."""
    head = f"<{name}>".encode()
    pattern = bytes(0x21 + byte % 90 for byte in hashlib.shake_256(name.encode()).digest(size))
    return (head + pattern)[:size]


def _write(path: str, data: bytes) -> None:
    with open(path, "wb") as file:
        file.write(data)
    os.utime(path, (MTIME, MTIME))


def _build() -> tuple[str, str]:
    root = tempfile.mkdtemp(prefix="conformance-staticfiles-")
    atexit.register(shutil.rmtree, root, True)
    served = os.path.join(root, "served")
    for folder in ("served", "served/sub", "served/emptydir", "outside"):
        os.mkdir(os.path.join(root, folder))
    for name, size in SERVED_FILES.items():
        _write(os.path.join(served, *name.split("/")), content(name, size))
    secret = f"{SECRET_MARKER}\n".encode()
    _write(os.path.join(root, "SECRET.txt"), secret)
    _write(os.path.join(root, "SECRET.html"), secret)
    _write(os.path.join(root, "outside", "secret.txt"), secret)
    _write(os.path.join(root, "outside", "index.html"), secret)
    os.symlink("hello.txt", os.path.join(served, "link-in.txt"))
    os.symlink(os.path.join("..", "SECRET.txt"), os.path.join(served, "link-out.txt"))
    os.symlink(os.path.join("..", "SECRET.html"), os.path.join(served, "link-out.html"))
    os.symlink(os.path.join("..", "outside"), os.path.join(served, "link-out-dir"))
    return root, served


ROOT, SERVED = _build()


async def _respond(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    fields = [(b"content-length", str(len(body)).encode())]
    fields += headers or [(b"content-type", b"text/plain; charset=utf-8")]
    await send({"type": "http.response.start", "status": status, "headers": fields})
    await send({"type": "http.response.body", "body": body})


async def _handle_404(scope: Scope, receive: Receive, send: Send) -> None:
    await _respond(send, 404, HANDLE_404_MARKER.encode())


def _make(mount: str) -> Any:
    """The implementation's app for one mount (built on first use)."""
    asgi = _impl.asgi
    if mount == "files":
        return asgi.Files(SERVED)
    if mount == "private":
        return asgi.Files(SERVED, cacheability="private", max_age=30)
    if mount == "custom404":
        return asgi.Files(SERVED, handle_404=_handle_404)
    if mount == "follow":
        return asgi.Files(SERVED, follow_symlinks=True)
    return asgi.Pages(SERVED)


MOUNTS = ("files", "private", "custom404", "pages", "follow")
_BUILT: dict[str, App] = {}
RECORDS: dict[str, dict[str, Any]] = {}


def _render_body(content: Any, status: int) -> bytes:
    if isinstance(content, bytes):
        return content
    if content is None:
        return f"HTTP error {status}".encode()
    return str(content).encode("utf-8", "replace")


async def _mounted(mount: str, scope: Scope, receive: Receive, send: Send) -> None:
    """Call the mount's app with ``root_path`` set; render an ``HTTPException`` it raises."""
    app = _BUILT.get(mount)
    if app is None:
        app = _BUILT[mount] = _make(mount)
    # The route path is handed over in the form every router produces (``path`` = the rest
    # below the mount, ``root_path`` = the mount), which API.md's route-path rule reads the same
    # way as the ASGI-spec form; how ``Files`` reads a ``path`` that still includes
    # ``root_path`` is ROOTPATH-FILES' question, not every STATIC-* case's.
    inner = dict(scope)
    inner["root_path"] = f"{PREFIX}/{mount}"
    inner["path"] = scope["path"][len(inner["root_path"]) :]
    started = False
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    record: dict[str, Any] | None = None
    if "record" in query:
        record = RECORDS[query["record"][0]] = {"types": [], "body_bytes": 0, "done": False}

    async def tracking_send(message: Message) -> None:
        nonlocal started
        if message["type"] == "http.response.start":
            started = True
        if record is not None:
            record["types"].append(message["type"])
            record["body_bytes"] += len(message.get("body", b""))
        await send(message)

    try:
        await app(inner, receive, tracking_send)
        if record is not None:
            record["done"] = True
    except _impl.exceptions.HTTPException as exc:
        if started:
            raise
        headers = [
            (str(name).lower().encode("latin-1"), str(value).encode("latin-1"))
            for name, value in dict(exc.headers or {}).items()
        ]
        headers.append((b"content-type", b"text/plain; charset=utf-8"))
        status = int(exc.status_code)
        await _respond(send, status, _render_body(exc.content, status), headers)


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """Dispatch ``/staticfiles/<mount>/...`` with a plain dict lookup."""
    if scope["type"] != "http":
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
        return
    parts = scope["path"].split("/", 3)
    mount = parts[2] if len(parts) > 2 else ""
    if mount == "info" and len(parts) == 3:
        info = {
            "secret": os.path.join(ROOT, "SECRET.txt"),
            "outside": os.path.join(ROOT, "outside"),
            "served": SERVED,
        }
        body = json.dumps(info).encode()
        await _respond(send, 200, body, [(b"content-type", b"application/json")])
        return
    if mount == "result" and len(parts) == 4:
        body = json.dumps(RECORDS.get(parts[3])).encode()
        await _respond(send, 200, body, [(b"content-type", b"application/json")])
        return
    if mount not in MOUNTS:
        await _respond(send, 404, b"no such staticfiles scenario")
        return
    await _mounted(mount, scope, receive, send)
