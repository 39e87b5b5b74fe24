"""Per-dispatch cost of ``baize.asgi.Router`` against Starlette's ``Router``.

Both routers get the same templates with do-nothing ASGI apps as endpoints
(Starlette treats an endpoint that is not a function or method as a raw ASGI
app). Each case calls the router's ``__call__`` with a prepared scope whose
path hits the *last* route. Rounds interleave the routers so that noise hits
all of them alike; the best round of each is reported.

Run: ``python benchmarks/bench_routing.py [--rounds 15] [--calls 2000]``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import anyio
from starlette.routing import Route as StarletteRoute
from starlette.routing import Router as StarletteRouter

from baize.asgi import Router
from baize.typing import ASGIApp, Message, Receive, Scope, Send


class Endpoint:
    """A raw ASGI app that does nothing (a class, so Starlette does not wrap it)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        return None


async def receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def send(message: Message) -> None:
    return None


def templates(count: int, layout: str) -> tuple[list[str], str, str]:
    """``count`` templates, half static and half parametrised, and two paths.

    :returns: the templates, a path hitting the last (parametrised) route and a
        path hitting the last static route.
    """
    base = "/api/v1" if layout == "nested" else ""
    paths = []
    for i in range(count):
        if i % 2:
            paths.append(f"{base}/users{i}/{{id:int}}/posts/{{slug}}")
        else:
            paths.append(f"{base}/static{i}/about")
    last = count - 1 if (count - 1) % 2 else count - 2
    last_static = count - 1 if (count - 1) % 2 == 0 else count - 2
    return (
        paths,
        f"{base}/users{last}/42/posts/hello",
        f"{base}/static{last_static}/about",
    )


def scope_for(path: str) -> Scope:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"example.com")],
        "client": ("127.0.0.1", 1234),
        "server": ("127.0.0.1", 8000),
    }


def build(kind: str, paths: list[str]) -> ASGIApp:
    endpoint = Endpoint()
    if kind == "baize":
        return Router(*[(path, endpoint) for path in paths])
    return StarletteRouter(routes=[StarletteRoute(path, endpoint) for path in paths])


async def time_calls(app: ASGIApp, scope: Scope, calls: int) -> float:
    """Nanoseconds per call over ``calls`` calls (each on a fresh scope copy)."""
    scopes = [dict(scope) for _ in range(calls)]
    start = time.perf_counter_ns()
    for each in scopes:
        await app(each, receive, send)
    return (time.perf_counter_ns() - start) / calls


async def run(rounds: int, calls: int) -> dict[str, float]:
    cases: dict[str, tuple[ASGIApp, Scope]] = {}
    for layout in ("flat", "nested"):
        for count in (5, 500):
            paths, dynamic_path, static_path = templates(count, layout)
            for kind in ("baize", "starlette"):
                app = build(kind, paths)
                cases[f"{kind} {layout} {count} dynamic"] = (app, scope_for(dynamic_path))
                cases[f"{kind} {layout} {count} static"] = (app, scope_for(static_path))
    best = dict.fromkeys(cases, float("inf"))
    for app, scope in cases.values():
        await time_calls(app, scope, calls // 10)  # warm up
    for _ in range(rounds):
        for name, (app, scope) in cases.items():
            best[name] = min(best[name], await time_calls(app, scope, calls))
    return best


def report(best: dict[str, float], out: Callable[[str], Any] = print) -> None:
    for name, ns in best.items():
        out(f"{name:34} {ns:10.0f} ns/dispatch")
    out("")
    for layout in ("flat", "nested"):
        for hit in ("dynamic", "static"):
            b5, b500 = best[f"baize {layout} 5 {hit}"], best[f"baize {layout} 500 {hit}"]
            s500 = best[f"starlette {layout} 500 {hit}"]
            out(
                f"{layout:6} {hit:7}: baize 500/5 = {b500 / b5:4.2f}x (limit 2x); "
                f"starlette/baize at 500 = {s500 / b500:5.1f}x (need >= 3x)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    report(anyio.run(run, args.rounds, args.calls))


if __name__ == "__main__":
    main()
