"""Scenario apps for ``root_path``: run under each server with its root-path option on.

``/rootpath/scope/...`` answers the raw ``path``, ``raw_path`` and ``root_path`` (facts, never
verdicts); the others use the implementation's ``HTTPConnection.url``, ``Router``,
``Subpaths`` and ``Files`` and answer what they saw as JSON.
"""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any

from . import _impl
from ._plumbing import App, Receive, Scope, Send

PREFIX = "/rootpath"
STATIC_TEXT = b"static file under root_path\n"


async def _json(send: Send, data: Any) -> None:
    body = json.dumps(data).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def scope_view(scope: Scope, receive: Receive, send: Send) -> None:
    """The raw keys a server's root-path option affects."""
    raw = scope.get("raw_path")
    await _json(
        send,
        {
            "path": scope.get("path"),
            "raw_path": raw.decode("latin-1") if isinstance(raw, bytes) else raw,
            "root_path": scope.get("root_path"),
        },
    )


def _seen(scope: Scope) -> dict[str, Any]:
    url = _impl.asgi.HTTPConnection(scope).url
    return {
        "url": str(url),
        "url_path": url.path,
        "path": scope.get("path"),
        "root_path": scope.get("root_path"),
        "path_params": {k: str(v) for k, v in dict(scope.get("path_params") or {}).items()},
    }


async def seen_view(scope: Scope, receive: Receive, send: Send) -> None:
    """``url`` and the routing keys as this app sees them."""
    await _json(send, _seen(scope))


def _static_directory() -> str:
    base = os.environ.get("CONFORMANCE_STATE_DIR") or tempfile.mkdtemp(prefix="rootpath-")
    directory = os.path.join(base, "rootpath-static")
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "hello.txt"), "wb") as file:
        file.write(STATIC_TEXT)
    return directory


_APP: App | None = None


def _build() -> App:
    asgi = _impl.asgi
    inner = asgi.Router(("/leaf", seen_view), ("/items/{item:int}", seen_view))
    router = asgi.Router(
        ("/rootpath/url", seen_view),
        ("/rootpath/url/{rest:any}", seen_view),
        ("/rootpath/items/{item:int}", seen_view),
    )
    return asgi.Subpaths(  # type: ignore[no-any-return]
        ("/rootpath/sub", inner),
        ("/rootpath/static", asgi.Files(_static_directory())),
        ("", router),
    )


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """Built on first use, so a broken implementation breaks only this prefix."""
    global _APP
    if scope["path"].endswith("/rootpath/selftest-broken"):
        # For tests/test_harness_options.py only: two response starts, so the validator
        # must report ASGI-APP-HTTP-START-ONCE. No conformance case requests it.
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"broken on purpose"})
        return
    if "/rootpath/scope" in scope["path"]:
        await scope_view(scope, receive, send)
        return
    if _APP is None:
        _APP = _build()
    try:
        await _APP(scope, receive, send)
    except _impl.exceptions.HTTPException as error:  # Router/Files raise 404 as API.md says
        body = str(error.status_code).encode()
        headers = [(b"content-type", b"text/plain"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": error.status_code, "headers": headers})
        await send({"type": "http.response.body", "body": body})
