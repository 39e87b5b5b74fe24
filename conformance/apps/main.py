"""Plain-ASGI entry point: dispatch on the first path segment to ``conformance_apps.<name>``.

Every sibling module not starting with ``_`` defines ``PREFIX`` and ``app``. Dispatch uses the
*route path* (``path`` without a leading ``root_path``), so a server started with a root-path
option reaches the same apps; the scope is passed on unchanged. A path ending in ``/__ready__``
answers the harness readiness probe, one ending in ``/__scope__`` the extensions and ``asgi``
keys of a live scope (provenance).

Every scenario app except those in :data:`UNVALIDATED` or whose module sets ``VALIDATE = False``
(raw ASGI apps that deliberately test server behaviour) is wrapped in
:func:`conformance_apps._validator.validate`, which records the ASGI message violations of
the implementation under test in ``$CONFORMANCE_STATE_DIR/asgi-violations.jsonl``;
``CONFORMANCE_VALIDATE=0`` turns it off.

Lifespan is handled here: startup is recorded (``STARTUP``) and a ``state`` key is set when
the server offers lifespan state; shutdown writes
``lifespan-shutdown.json`` into ``$CONFORMANCE_STATE_DIR``. A module that fails to import
answers 500 (with its traceback) under ``/<module name>`` instead of breaking every prefix.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import traceback
from collections.abc import Callable
from typing import Any

from ._plumbing import App, Receive, Scope, Send

STARTUP: dict[str, Any] = {}
UNVALIDATED = frozenset({"asgi"})
STATE_VALUE = "set-by-lifespan-startup"


def _broken(name: str, error: str) -> App:
    """Stand-in for a module that failed to import: its prefix answers 500 with the error."""

    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await _plain(send, 500, f"conformance_apps.{name} failed to import:\n{error}".encode())
        else:
            await send({"type": "websocket.close", "code": 1011})

    return broken


def _recorder() -> Callable[[dict[str, Any]], None] | None:
    """Where violations go, or None when validation is off."""
    if os.environ.get("CONFORMANCE_VALIDATE", "1") == "0":
        return None
    from ._validator import file_recorder

    state_dir = os.environ.get("CONFORMANCE_STATE_DIR")
    if state_dir:
        return file_recorder(state_dir)
    return lambda violation: print("ASGI violation:", violation, flush=True)


def _load_apps() -> dict[str, App]:
    """Import every scenario module; one that fails to import breaks only its own prefix."""
    from ._validator import file_exercise_recorder, validate

    record = _recorder()
    state_dir = os.environ.get("CONFORMANCE_STATE_DIR")
    exercised = file_exercise_recorder(state_dir) if state_dir else (lambda rule: None)
    apps: dict[str, App] = {}
    package = __name__.rpartition(".")[0]
    for info in pkgutil.iter_modules(importlib.import_module(package).__path__):
        if info.name.startswith("_") or info.name == "main":
            continue
        try:
            module = importlib.import_module(f"{package}.{info.name}")
            name = module.PREFIX.strip("/")
            target = module.app
            unvalidated = name in UNVALIDATED or not getattr(module, "VALIDATE", True)
            if record is not None and not unvalidated:
                target = validate(target, record, exercised)
            apps[name] = target
        except Exception:
            apps[info.name] = _broken(info.name, traceback.format_exc())
    return apps


APPS = _load_apps()


async def _plain(send: Send, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _live_scope(scope: Scope, send: Send) -> None:
    """What the server advertises: extension names, the ``asgi`` dict, its type names."""
    extensions = scope.get("extensions")
    data = {
        "extensions": sorted(extensions) if isinstance(extensions, dict) else None,
        "asgi": {str(k): str(v) for k, v in dict(scope.get("asgi") or {}).items()},
        "root_path": scope.get("root_path"),
    }
    body = json.dumps(data).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _lifespan(scope: Scope, receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            STARTUP.update(
                received=True,
                asgi=dict(scope.get("asgi", {})),
                state_offered=isinstance(scope.get("state"), dict),
            )
            if isinstance(scope.get("state"), dict):
                scope["state"]["conformance"] = STATE_VALUE
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            state_dir = os.environ.get("CONFORMANCE_STATE_DIR")
            if state_dir:
                path = os.path.join(state_dir, "lifespan-shutdown.json")
                with open(path, "w", encoding="utf-8") as file:
                    json.dump({"received": True}, file)
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """Route ``/name/...`` to the scenario app ``name``; 404 otherwise."""
    if scope["type"] == "lifespan":
        await _lifespan(scope, receive, send)
        return
    path = scope["path"]
    if scope["type"] == "http" and path.endswith(("/__ready__", "/__scope__")):
        if path.endswith("/__ready__"):
            await _plain(send, 200, b"ready")
        else:
            await _live_scope(scope, send)
        return
    root = scope.get("root_path") or ""
    if root and (path == root or path.startswith(root + "/")):
        path = path[len(root) :]
    if path.startswith(("http://", "https://")):  # an absolute-form target passed as path
        path = "/" + path.split("/", 3)[-1] if path.count("/") >= 3 else "/"
    first = path.lstrip("/").partition("/")[0]
    target = APPS.get(first)
    if target is not None:
        await target(scope, receive, send)
    elif scope["type"] == "http":
        await _plain(send, 404, b"no scenario app at this prefix")
    else:
        await send({"type": "websocket.close", "code": 1008})
