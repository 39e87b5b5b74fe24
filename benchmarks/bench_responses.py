"""Small responses called in-process: baize vs raw ASGI vs Starlette (calls per second).

Cases:

- ``plain`` and ``json``: build a response and call it;
- ``range-64kib``: ``FileResponse`` of a 1 MiB file for one 64 KiB range (raw: the slice
  preloaded), without ``zerocopysend``/``pathsend``, as under uvicorn;
- ``hello`` and ``json-router``: the load benchmark's own apps (``benchmarks/apps``), so
  ``json-router`` goes through the router (50 routes, the last one hit), baize's
  ``request_response`` and ``Request``, and ``JSONResponse``.

Each round times every contender on the same number of calls, in an order rotated every
round, so machine noise hits all of them alike; the figures are medians over rounds (rates,
and the per-round ratios). Run:
``python -m benchmarks.bench_responses [--rounds 9] [--calls 20000] [--case json-router]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from starlette.responses import FileResponse as StarletteFile
from starlette.responses import JSONResponse as StarletteJSON
from starlette.responses import PlainTextResponse as StarlettePlain

from baize.asgi import FileResponse, JSONResponse, PlainTextResponse
from baize.typing import Message
from benchmarks.apps import baize_impl, raw, starlette_impl
from benchmarks.apps.common import FILE_SIZE, JSON_PATH, RANGE_FIRST, RANGE_HEADER, RANGE_LAST

SCOPE: dict[str, Any] = {"type": "http", "method": "GET", "path": "/", "headers": []}
PAYLOAD = {"message": "hello", "items": [1, 2, 3], "ok": True}


def server_scope(path: str) -> dict[str, Any]:
    """A scope as a server builds it for ``GET path``."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"wrk")],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def send(message: Message) -> None:
    pass


async def raw_plain() -> None:
    body = b"Hello, world!"
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-length", str(len(body)).encode()),
                (b"content-type", b"text/plain; charset=utf-8"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def raw_json() -> None:
    body = json.dumps(PAYLOAD, separators=(",", ":"), ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-length", str(len(body)).encode()),
                (b"content-type", b"application/json"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def baize_plain() -> None:
    await PlainTextResponse("Hello, world!")(SCOPE, receive, send)


async def baize_json() -> None:
    await JSONResponse(PAYLOAD)(SCOPE, receive, send)


async def starlette_plain() -> None:
    await StarlettePlain("Hello, world!")(SCOPE, receive, send)


async def starlette_json() -> None:
    await StarletteJSON(PAYLOAD)(SCOPE, receive, send)


def app_call(app: Callable[..., Awaitable[None]], path: str) -> Callable[[], Awaitable[None]]:
    """Call a load-benchmark app the way a server does: a fresh scope per request."""
    scope = server_scope(path)

    async def call() -> None:
        await app(dict(scope), receive, send)

    return call


FILE_PATH = os.path.join(tempfile.mkdtemp(prefix="bench-responses-"), "file.bin")
with open(FILE_PATH, "wb") as _file:
    _file.write(os.urandom(FILE_SIZE))
RANGE_SCOPE = server_scope("/")
RANGE_SCOPE["headers"] = [*RANGE_SCOPE["headers"], (b"range", RANGE_HEADER.encode())]
RANGE_BODY = open(FILE_PATH, "rb").read()[RANGE_FIRST : RANGE_LAST + 1]


async def receive_nothing() -> Message:
    """The request body was read: a server's receive waits until the client leaves."""
    await anyio.sleep_forever()
    raise AssertionError("unreachable")


async def raw_range() -> None:
    content_range = f"bytes {RANGE_FIRST}-{RANGE_LAST}/{FILE_SIZE}".encode()
    headers = [
        (b"content-type", b"application/octet-stream"),
        (b"content-range", content_range),
        (b"content-length", str(len(RANGE_BODY)).encode()),
    ]
    await send({"type": "http.response.start", "status": 206, "headers": headers})
    await send({"type": "http.response.body", "body": RANGE_BODY})


async def baize_range() -> None:
    await FileResponse(FILE_PATH)(dict(RANGE_SCOPE), receive_nothing, send)


async def starlette_range() -> None:
    await StarletteFile(FILE_PATH)(dict(RANGE_SCOPE), receive_nothing, send)


CASES: dict[str, dict[str, Callable[[], Awaitable[None]]]] = {
    "plain": {"raw": raw_plain, "starlette": starlette_plain, "baize": baize_plain},
    "json": {"raw": raw_json, "starlette": starlette_json, "baize": baize_json},
    "hello": {
        "raw": app_call(raw.hello, "/"),
        "starlette": app_call(starlette_impl.hello, "/"),
        "baize": app_call(baize_impl.hello, "/"),
    },
    "json-router": {
        "raw": app_call(raw.json_router, JSON_PATH),
        "starlette": app_call(starlette_impl.json_router, JSON_PATH),
        "baize": app_call(baize_impl.json_router, JSON_PATH),
    },
    "range-64kib": {"raw": raw_range, "starlette": starlette_range, "baize": baize_range},
}


async def rate(function: Callable[[], Awaitable[None]], calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        await function()
    return calls / (time.perf_counter() - started)


def ratio(rates: dict[str, list[float]], other: str) -> float:
    """The median of the per-round ratios baize / ``other``."""
    pairs = zip(rates["baize"], rates[other], strict=True)
    return statistics.median(b / o for b, o in pairs)


async def run(cases: list[str], rounds: int, calls: int) -> None:
    for case in cases:
        contenders = CASES[case]
        names = list(contenders)
        rates: dict[str, list[float]] = {name: [] for name in names}
        for name in names:  # warm up
            await rate(contenders[name], calls // 10)
        for index in range(rounds):
            shift = index % len(names)
            for name in names[shift:] + names[:shift]:
                rates[name].append(await rate(contenders[name], calls))
        medians = ", ".join(f"{name} {statistics.median(rates[name]):,.0f}/s" for name in names)
        print(
            f"{case}: {medians}; baize/raw {ratio(rates, 'raw'):.2f}, "
            f"baize/starlette {ratio(rates, 'starlette'):.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--case", action="append", choices=list(CASES))
    parser.add_argument("--backend", choices=("asyncio", "trio"), default="asyncio")
    args = parser.parse_args()
    anyio.run(run, args.case or list(CASES), args.rounds, args.calls, backend=args.backend)


if __name__ == "__main__":
    main()
