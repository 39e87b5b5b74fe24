"""Server-sent events in-process: baize ``SendEventResponse`` vs Starlette's ``StreamingResponse``.

Both responses stream the same bytes (``data: hello`` events, each its own
``http.response.body`` message) through their ASGI callable into a ``send`` that only
counts, with a ``receive`` that waits until the stream is done (no disconnect). As in the
load benchmark's apps, the generators yield to the event loop after every event
(``--no-checkpoint`` measures the bare per-event cost) and repeat one payload: the same
dict for baize, the same bytes for Starlette (``--fresh``: a new string per event, which
both then encode per event). Rounds alternate A B A B; the
figure is the median events/s of each, and the median of the per-round ratios.

Run: ``python benchmarks/bench_sse.py [--rounds 15] [--events 20000] [--backend trio]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import anyio.lowlevel
from starlette.responses import StreamingResponse

from baize.asgi import SendEventResponse
from baize.typing import ASGIApp, Message, ServerSentEvent

DATA = "hello"
EVENT_BYTES = f"data: {DATA}\n\n".encode()


class Sink:
    """A ``send`` that counts the body bytes, and a ``receive`` that never disconnects."""

    def __init__(self) -> None:
        self.body = bytearray()
        self.keep = False
        self.events = 0
        self.done = anyio.Event()

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.body":
            body = message.get("body", b"")
            if self.keep:
                self.body += body
            if body:
                self.events += 1
            if not message.get("more_body", False):
                self.done.set()

    async def receive(self) -> Message:
        await self.done.wait()
        return {"type": "http.disconnect"}


def baize_app(count: int, checkpoint: bool, fresh: bool) -> ASGIApp:
    async def events() -> AsyncIterator[ServerSentEvent]:
        event: ServerSentEvent = {"data": DATA}
        for number in range(count):
            yield {"data": f"{DATA}{number}"} if fresh else event
            if checkpoint:
                await anyio.lowlevel.checkpoint()

    return SendEventResponse(events())


def starlette_app(count: int, checkpoint: bool, fresh: bool) -> ASGIApp:
    async def events() -> AsyncIterator[bytes]:
        for number in range(count):
            yield f"data: {DATA}{number}\n\n".encode() if fresh else EVENT_BYTES
            if checkpoint:
                await anyio.lowlevel.checkpoint()

    headers = {"cache-control": "no-cache"}
    return StreamingResponse(events(), headers=headers, media_type="text/event-stream")


SCOPE: dict[str, Any] = {"type": "http", "method": "GET", "path": "/", "headers": []}
MAKERS: dict[str, Callable[[int, bool, bool], ASGIApp]] = {
    "starlette": starlette_app,
    "baize": baize_app,
}


async def events_per_second(name: str, count: int, checkpoint: bool, fresh: bool) -> float:
    sink = Sink()
    app = MAKERS[name](count, checkpoint, fresh)
    started = time.perf_counter()
    await app(dict(SCOPE), sink.receive, sink.send)
    elapsed = time.perf_counter() - started
    if sink.events != count:
        raise RuntimeError(f"{name} sent {sink.events} events, expected {count}")
    return count / elapsed


async def check_same_bytes(fresh: bool) -> None:
    bodies = []
    for name in MAKERS:
        sink = Sink()
        sink.keep = True
        await MAKERS[name](3, True, fresh)(dict(SCOPE), sink.receive, sink.send)
        bodies.append(bytes(sink.body))
    if len(set(bodies)) != 1:
        raise RuntimeError(f"the responses send different bytes: {bodies!r}")


async def run(rounds: int, count: int, checkpoint: bool, fresh: bool) -> dict[str, list[float]]:
    await check_same_bytes(fresh)
    rates: dict[str, list[float]] = {name: [] for name in MAKERS}
    for name in MAKERS:  # warm up
        await events_per_second(name, count // 10, checkpoint, fresh)
    for index in range(rounds):
        order = list(MAKERS) if index % 2 == 0 else list(reversed(MAKERS))
        for name in order:
            rates[name].append(await events_per_second(name, count, checkpoint, fresh))
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--backend", choices=("asyncio", "trio"), default="asyncio")
    parser.add_argument("--no-checkpoint", dest="checkpoint", action="store_false")
    parser.add_argument("--fresh", action="store_true", help="a new data string per event")
    args = parser.parse_args()
    rates = anyio.run(
        run, args.rounds, args.events, args.checkpoint, args.fresh, backend=args.backend
    )
    for name, values in rates.items():
        print(f"{name:10} {statistics.median(values):12,.0f} events/s (median of {len(values)})")
    ratios = [b / s for b, s in zip(rates["baize"], rates["starlette"], strict=True)]
    print(f"baize/starlette: {statistics.median(ratios):.2f} (median of per-round ratios)")


if __name__ == "__main__":
    main()
