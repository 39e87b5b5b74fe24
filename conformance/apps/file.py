"""Scenario apps for the file area: ``FileResponse`` and RFC 9110 ranges.

At import time the files of :data:`FILES` are written into a temporary directory; byte ``i`` of
every file is byte ``i`` of the SHAKE-256 stream of ``b"baize conformance"`` (never
periodic, so a range off by any amount is seen; the cases compute the same) and every file's
modification time is :data:`MTIME`.

- ``/file/f/<name>?download_name=&content_type=&chunk_size=&header=Name:Value`` serves a file;
  ``relative=1`` hands ``FileResponse`` the path relative to the working directory.
- ``/file/record/<token>/<name>`` serves it and records the ASGI message types it sends;
  ``/file/result/<token>`` answers the record as JSON (``null`` until there is one).
- ``/file/zerocopy/<token>/<name>`` offers an emulated ``http.response.zerocopysend``
  (on top of what the server offers) and turns those messages into plain body messages;
  ``file`` may be an ``int`` descriptor or an object with ``fileno()`` (the extension's
  "file descriptor object"), read with ``os.sendfile``'s offset/count semantics.
- ``/file/error/<missing|dir>?mode=catch|propagate``: a path that is not a regular file;
  ``catch`` answers JSON with what was raised and which messages went out before it.
- ``/file/write/<name>?size=&seed=&mtime=`` (re)writes the file ``<name>`` (``w-`` then
  lower-case letters, digits, ``-``) with ``size`` bytes of :func:`seeded_content` and sets
  its mtime; ``/file/f/<name>`` serves it, so a case can change a file between two requests.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import re
import shutil
import tempfile
from typing import Any
from urllib.parse import parse_qs

from . import _impl
from ._plumbing import Message, Receive, Scope, Send
from ._plumbing import send_json as _json

PREFIX = "/file"


#: name on disk -> size in bytes.
FILES = {
    "empty.txt": 0,
    "one.txt": 1,
    "small.txt": 1000,
    "big.bin": 300 * 1024,
    "page.html": 600,
    "data.json": 500,
    "blob.qqzz": 700,
    "na\u00efve r\u00e9sum\u00e9.txt": 300,
}
#: 2021-03-04 05:06:07 UTC, every file's modification time.
MTIME = 1614834367
ZEROCOPY = "http.response.zerocopysend"

RESULTS: dict[str, dict[str, Any]] = {}


def content(size: int) -> bytes:
    """The deterministic bytes of a file of ``size`` bytes."""
    return hashlib.shake_256(b"baize conformance").digest(size)


def seeded_content(seed: str, size: int) -> bytes:
    """The bytes ``/file/write`` writes: SHAKE-256 of ``b"baize conformance " + seed``."""
    return hashlib.shake_256(b"baize conformance " + seed.encode()).digest(size)


def _make_files() -> str:
    root = tempfile.mkdtemp(prefix="conformance-file-")
    atexit.register(shutil.rmtree, root, True)
    for name, size in FILES.items():
        path = os.path.join(root, name)
        with open(path, "wb") as file:
            file.write(content(size))
        os.utime(path, (MTIME, MTIME))
    os.mkdir(os.path.join(root, "a-directory"))
    return root


ROOT = _make_files()


async def _plain(send: Send, status: int, text: str) -> None:
    body = text.encode()
    headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _response(name: str, scope: Scope) -> Any:
    """A ``FileResponse`` for ``name`` with the options of the query string."""
    query = parse_qs(scope["query_string"].decode("latin-1"), keep_blank_values=True)
    kwargs: dict[str, Any] = {}
    if "download_name" in query:
        kwargs["download_name"] = query["download_name"][0]
    if "content_type" in query:
        kwargs["content_type"] = query["content_type"][0]
    if "chunk_size" in query:
        kwargs["chunk_size"] = int(query["chunk_size"][0])
    if "header" in query:
        kwargs["headers"] = dict(item.split(":", 1) for item in query["header"])
    path = os.path.join(ROOT, name)
    if "relative" in query:  # the same file, named relative to the working directory
        path = os.path.relpath(path)
    return _impl.asgi.FileResponse(path, **kwargs)


def _recorder(token: str, send: Send) -> Send:
    """A ``send`` that stores each message's type, a pathsend path and the body bytes sent."""
    record: dict[str, Any] = {"types": [], "paths": [], "body_bytes": 0}
    RESULTS[token] = record

    async def recording(message: Message) -> None:
        record["types"].append(message["type"])
        record["body_bytes"] += len(message.get("body", b""))
        if "path" in message:
            record["paths"].append(message["path"])
        await send(message)

    return recording


async def serve(parts: list[str], scope: Scope, receive: Receive, send: Send) -> None:
    await _response(parts[0], scope)(scope, receive, send)


async def record(parts: list[str], scope: Scope, receive: Receive, send: Send) -> None:
    token, name = parts[0], parts[1]
    await _response(name, scope)(scope, receive, _recorder(token, send))


def _descriptor(file: Any) -> int:
    """The OS file descriptor behind a zerocopysend ``file``.

    The ASGI Zero Copy Send extension asks for "an opened file descriptor object with an
    underlying OS file descriptor that can be used to call os.sendfile": an ``int``
    descriptor or an object whose ``fileno()`` gives one (e.g. not ``BytesIO``) both fit.
    """
    if isinstance(file, int) and not isinstance(file, bool):
        return file
    fileno = getattr(file, "fileno", None)
    if fileno is None:
        raise TypeError(f"zerocopysend 'file' has no OS file descriptor: {file!r}")
    descriptor = fileno()
    if not isinstance(descriptor, int):
        raise TypeError(f"zerocopysend 'file'.fileno() is not an int: {descriptor!r}")
    return descriptor


def _sendfile_bytes(message: Message) -> bytes:
    """What ``os.sendfile`` would send for a zerocopysend message (offset/count semantics)."""
    descriptor = _descriptor(message["file"])
    offset = message.get("offset")
    count = message.get("count")
    start = os.lseek(descriptor, 0, os.SEEK_CUR) if offset is None else offset
    if count is None:
        count = os.fstat(descriptor).st_size - start
    chunks, position = [], start
    while position < start + count:
        chunk = os.pread(descriptor, start + count - position, position)
        if not chunk:
            break
        chunks.append(chunk)
        position += len(chunk)
    if offset is None:  # sendfile without an offset reads from, and advances, the position
        os.lseek(descriptor, position, os.SEEK_SET)
    return b"".join(chunks)


async def zerocopy(parts: list[str], scope: Scope, receive: Receive, send: Send) -> None:
    """Offer an emulated zero-copy send; each such message becomes one body message."""
    token, name = parts[0], parts[1]
    recording = _recorder(token, send)
    extensions = dict(scope.get("extensions") or {})
    extensions[ZEROCOPY] = {}
    inner = dict(scope, extensions=extensions)

    async def emulate(message: Message) -> None:
        if message["type"] != ZEROCOPY:
            await recording(message)
            return
        RESULTS[token]["types"].append(ZEROCOPY)
        await send(
            {
                "type": "http.response.body",
                "body": _sendfile_bytes(message),
                "more_body": message.get("more_body", False),
            }
        )

    await _response(name, inner)(inner, receive, emulate)


async def error(parts: list[str], scope: Scope, receive: Receive, send: Send) -> None:
    """Serve a missing path or a directory; ``mode=catch`` reports what was raised."""
    path = os.path.join(ROOT, "no-such-file.txt" if parts[0] == "missing" else "a-directory")
    mode = parse_qs(scope["query_string"].decode("latin-1")).get("mode", ["catch"])[0]
    if mode == "propagate":
        await _impl.asgi.FileResponse(path)(scope, receive, send)
        return
    sent: list[str] = []

    async def swallow(message: Message) -> None:
        sent.append(message["type"])

    stage = "construct"
    try:
        response = _impl.asgi.FileResponse(path)
        stage = "call"
        await response(scope, receive, swallow)
    except Exception as exc:
        mro = [cls.__name__ for cls in type(exc).__mro__]
        await _json(
            send, {"raised": True, "stage": stage, "mro": mro, "message": str(exc), "sent": sent}
        )
        return
    await _json(send, {"raised": False, "stage": stage, "sent": sent})


_WRITABLE = re.compile(r"w-[a-z0-9-]{1,40}")


async def write(parts: list[str], scope: Scope, receive: Receive, send: Send) -> None:
    """(Re)write a file the case names, with the size, content seed and mtime it asks for."""
    name = parts[0]
    query = parse_qs(scope["query_string"].decode("latin-1"))
    if _WRITABLE.fullmatch(name) is None:
        await _plain(send, 400, "a writable file name is w- then [a-z0-9-]")
        return
    size, mtime = int(query["size"][0]), int(query["mtime"][0])
    path = os.path.join(ROOT, name)
    with open(path, "wb") as file:
        file.write(seeded_content(query["seed"][0], size))
    os.utime(path, (mtime, mtime))
    await _json(send, {"written": size})


async def result(parts: list[str], scope: Scope, receive: Receive, send: Send) -> None:
    await _json(send, RESULTS.get(parts[0]))


ROUTES = {
    "f": serve,
    "record": record,
    "zerocopy": zerocopy,
    "error": error,
    "result": result,
    "write": write,
}


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """Dispatch ``/file/<route>/...`` with a plain dict."""
    if scope["type"] != "http":
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
        return
    parts = scope["path"].split("/")[2:]
    handler = ROUTES.get(parts[0]) if parts else None
    if handler is None or len(parts) < 2:
        await _plain(send, 404, "no such file scenario")
        return
    await handler(parts[1:], scope, receive, send)
