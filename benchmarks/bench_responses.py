"""Small responses called in-process: baize vs raw ASGI vs Starlette (calls per second).

Each round times every contender on the same number of build-and-call iterations, and
rounds are interleaved so machine noise hits all of them alike. Run:
``python benchmarks/bench_responses.py [rounds] [iterations]``.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from starlette.responses import JSONResponse as StarletteJSON
from starlette.responses import PlainTextResponse as StarlettePlain

from baize.asgi import JSONResponse, PlainTextResponse

SCOPE: dict[str, Any] = {"type": "http", "method": "GET", "path": "/", "headers": []}
PAYLOAD = {"message": "hello", "items": [1, 2, 3], "ok": True}


async def receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def send(message: dict[str, Any]) -> None:
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


CASES: dict[str, dict[str, Callable[[], Awaitable[None]]]] = {
    "plain": {"raw": raw_plain, "baize": baize_plain, "starlette": starlette_plain},
    "json": {"raw": raw_json, "baize": baize_json, "starlette": starlette_json},
}


async def run(rounds: int, iterations: int) -> None:
    for case, contenders in CASES.items():
        best = dict.fromkeys(contenders, 0.0)
        for _ in range(rounds):
            for name, function in contenders.items():
                started = time.perf_counter()
                for _ in range(iterations):
                    await function()
                rate = iterations / (time.perf_counter() - started)
                best[name] = max(best[name], rate)
        line = ", ".join(f"{name} {rate:,.0f}/s" for name, rate in best.items())
        print(
            f"{case}: {line}; baize/raw {best['baize'] / best['raw']:.2f}, "
            f"baize/starlette {best['baize'] / best['starlette']:.2f}"
        )


if __name__ == "__main__":
    arguments = [int(value) for value in sys.argv[1:3]]
    anyio.run(run, *(arguments + [7, 20_000][len(arguments) :]))
