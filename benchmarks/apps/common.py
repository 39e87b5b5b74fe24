"""What the benchmark apps of every implementation share: data, payloads, lifespan."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any, TypeVar

import anyio
import anyio.lowlevel

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]
T = TypeVar("T")

#: Environment variable naming the directory holding ``file.bin`` and ``big.bin``.
DATA_DIR_ENV = "BAIZE_BENCH_DATA_DIR"
HELLO = b"Hello, world!"
FILE_NAME = "file.bin"
BIG_FILE_NAME = "big.bin"
FILE_SIZE = 1024 * 1024
BIG_FILE_SIZE = 1024 * 1024 * 1024
ROUTE_COUNT = 50
#: The route every JSON request hits: the last of the 50, so every router scans them all.
JSON_PATH = f"/route{ROUTE_COUNT - 1}/42"
#: The single range requested in the range scenario: 64 KiB in the middle of the file.
RANGE_FIRST = FILE_SIZE // 2
RANGE_LAST = RANGE_FIRST + 64 * 1024 - 1
RANGE_HEADER = f"bytes={RANGE_FIRST}-{RANGE_LAST}"
SSE_DATA = "hello"
#: Backstop: an event stream ends by itself after this many seconds.
# How long one event stream may run at most (the runner sets a little more than one
# measurement): a stream whose client left, and that the implementation does not stop,
# must not keep the server busy during the next measurement.
SSE_MAX_SECONDS = float(os.environ.get("BAIZE_BENCH_SSE_SECONDS", "120"))


def data_dir() -> Path:
    """Return the data directory the runner created (``BAIZE_BENCH_DATA_DIR``)."""
    value = os.environ.get(DATA_DIR_ENV)
    if not value:
        raise RuntimeError(f"{DATA_DIR_ENV} is not set: start the apps through benchmarks.run")
    return Path(value)


def file_path() -> str:
    return str(data_dir() / FILE_NAME)


def big_file_path() -> str:
    return str(data_dir() / BIG_FILE_NAME)


def json_payload(route: int, item_id: int) -> dict[str, int]:
    """The JSON object every implementation answers for ``/route{route}/{item_id}``."""
    return {"route": route, "item_id": item_id}


def with_lifespan(app: App) -> App:
    """Answer the lifespan protocol and hand every other scope to ``app``.

    Every implementation goes through this same wrapper, so its cost cancels in the ratios.
    """

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    return wrapped


async def not_a_websocket(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer a plain HTTP request to a WebSocket endpoint (the runner's readiness probe)."""
    headers = [(b"content-type", b"text/plain"), (b"content-length", b"0")]
    await send({"type": "http.response.start", "status": 426, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


async def timed_events(event: T) -> AsyncIterator[T]:
    """Yield ``event`` over and over, yielding to the event loop after each, until
    ``SSE_MAX_SECONDS`` have passed (then up to the next thousand): the peers' event source."""
    deadline = anyio.current_time() + SSE_MAX_SECONDS
    sent = 0
    while sent % 1000 or anyio.current_time() < deadline:
        yield event
        await anyio.lowlevel.checkpoint()
        sent += 1


def with_own_lifespan(app: Callable[..., Awaitable[None]]) -> App:
    """Hand every scope, lifespan included, to a framework that runs its own startup (the
    peers); the one extra call per request matches :func:`with_lifespan`'s."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        await app(scope, receive, send)

    return wrapped
