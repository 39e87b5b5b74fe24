"""Per-dispatch cost of baize's ``Router`` against every peer's router, at 5, 50 and 500 routes.

Every framework gets the same route table (half static ``/static{i}/about``, half
``/users{i}/{id:int}/posts/{slug}``, written in its own syntax by
:mod:`benchmarks.routing_peers`, which also says what one dispatch covers in each). Three
paths per table:

- ``static``: the last static route, the same path every call;
- ``dynamic``: the last parametrised route with ``id`` 42, the same path every call;
- ``varied``: the last parametrised route with a different ``id`` each call, cycling through
  ``--distinct`` ids over the whole run, so that a per-path match cache misses too. The hit
  ratio printed is the best an unbounded per-path cache could reach on that sequence (calls
  whose path was seen before, warm-up included); an LRU cache smaller than ``--distinct``
  (Litestar's ``handle_routing`` keeps 1024 entries, BlackSheep's router 1200) never hits on
  a cyclic sequence. baize, Starlette, Falcon and FastAPI keep no such cache.

Paths and ASGI scopes are built before the timing. Rounds interleave the frameworks so that
noise hits all of them alike; the best round of each is reported. A framework that is not
installed is reported ``not installed``.

Run: ``python -m benchmarks.bench_routing [--rounds 7] [--calls 2000] [--distinct 10000]``.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import itertools
import os
import platform
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio

from benchmarks import peers
from benchmarks.routing_peers import BUILDERS, FRAMEWORKS, MISSING, Router, installed

COUNTS = (5, 50, 500)
KINDS = ("static", "dynamic", "varied")


def templates(count: int, layout: str = "flat") -> tuple[list[str], str, str, str]:
    """``count`` templates, half static and half parametrised.

    :returns: the templates, then a path hitting the last static route, a path hitting the
        last parametrised route (``id`` 42), and the latter's prefix for varied ids.
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
        f"{base}/static{last_static}/about",
        f"{base}/users{last}/42/posts/hello",
        f"{base}/users{last}/",
    )


@dataclass
class Case:
    framework: str
    count: int
    kind: str
    router: Router
    paths: Iterator[str]  # endless: the same path, or varied ids cycling


def varied_paths(prefix: str, distinct: int) -> Iterator[str]:
    return (f"{prefix}{i}/posts/hello" for i in itertools.cycle(range(distinct)))


def hit_ratio(total_calls: int, distinct: int) -> float:
    """The share of calls whose path was seen before: the most a per-path cache can hit."""
    return max(0, total_calls - distinct) / total_calls if total_calls else 0.0


async def time_calls(case: Case, calls: int) -> float:
    """Nanoseconds per dispatch over ``calls`` dispatches of the case's next paths."""
    prepared = [case.router.prepare(next(case.paths)) for _ in range(calls)]
    dispatch = case.router.dispatch
    start = time.perf_counter_ns()
    for each in prepared:
        await dispatch(each)
    return (time.perf_counter_ns() - start) / calls


def build_cases(
    frameworks: Sequence[str], distinct: int, layout: str = "flat"
) -> tuple[list[Case], dict[str, str]]:
    """Every (framework, count, kind) case of the installed frameworks; the others' reasons."""
    cases: list[Case] = []
    missing: dict[str, str] = {}
    for name in frameworks:
        if not installed(name):
            missing[name] = MISSING
            continue
        for count in COUNTS:
            paths, static, dynamic, prefix = templates(count, layout)
            router = BUILDERS[name](paths)
            cases.append(Case(name, count, "static", router, itertools.repeat(static)))
            cases.append(Case(name, count, "dynamic", router, itertools.repeat(dynamic)))
            cases.append(Case(name, count, "varied", router, varied_paths(prefix, distinct)))
    return cases, missing


async def check(cases: Sequence[Case]) -> None:
    """Every dispatch must find its route (a wrong table would be measured as fast)."""
    for case in cases:
        found = await case.router.dispatch(case.router.prepare(next(case.paths)))
        if found is None and case.framework not in ("baize", "starlette", "fastapi"):
            raise RuntimeError(f"{case.framework} {case.count} {case.kind}: no route matched")


async def run(rounds: int, calls: int, cases: Sequence[Case]) -> dict[tuple[str, int, str], float]:
    await check(cases)
    best = {(c.framework, c.count, c.kind): float("inf") for c in cases}
    for case in cases:
        await time_calls(case, max(1, calls // 10))  # warm up
    for _ in range(rounds):
        for case in cases:
            key = (case.framework, case.count, case.kind)
            best[key] = min(best[key], await time_calls(case, calls))
    return best


def report(
    best: dict[tuple[str, int, str], float],
    missing: dict[str, str],
    hit: float,
    distinct: int,
    out: Callable[[str], Any] = print,
) -> None:
    """A Markdown table: ns per dispatch, and each framework's ratio to baize (>1: slower)."""
    frameworks = list(dict.fromkeys(k[0] for k in best))
    out("| routes | path | " + " | ".join(frameworks) + "".join(f" | {m}" for m in missing) + " |")
    out("|---|---|" + "---|" * (len(frameworks) + len(missing)))
    for count in COUNTS:
        for kind in KINDS:
            base = best.get(("baize", count, kind))
            cells = []
            for name in frameworks:
                ns = best[(name, count, kind)]
                ratio = f" ({ns / base:.2f}x)" if base and name != "baize" else ""
                cells.append(f"{ns / 1000:.2f} µs{ratio}")
            cells += [missing[m] for m in missing]
            out(f"| {count} | {kind} | " + " | ".join(cells) + " |")
    out("")
    out(
        f"Varied: {distinct} distinct ids cycled in order; an unbounded per-path cache could"
        f" hit at most {hit:.0%} of the calls, an LRU cache holding fewer than {distinct}"
        " entries none (Litestar's holds 1024, BlackSheep's 1200): then `varied` measures"
        " their misses,"
        " `static` and `dynamic` (one path) their hits. (x): the framework's time over"
        " baize's (above 1: slower)."
        f" Load average at the end: {' / '.join(f'{v:.2f}' for v in os.getloadavg())}."
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--distinct", type=int, default=10_000, help="ids cycled by `varied`")
    parser.add_argument(
        "--framework", action="append", choices=list(FRAMEWORKS), help="repeat; default all"
    )
    parser.add_argument("--layout", choices=("flat", "nested"), default="flat")
    parser.add_argument(
        "--out",
        type=Path,
        help="also write the table to this Markdown file (reports/routing.md)",
    )
    args = parser.parse_args(argv)
    if args.calls < 1 or args.rounds < 1:
        parser.error("--calls and --rounds must be at least 1")
    cases, missing = build_cases(args.framework or list(FRAMEWORKS), args.distinct, args.layout)
    best = anyio.run(run, args.rounds, args.calls, cases)
    per_case = max(1, args.calls // 10) + 1 + args.rounds * args.calls
    lines: list[str] = []
    report(best, missing, hit_ratio(per_case, args.distinct), args.distinct, out=lines.append)
    print("\n".join(lines))
    if args.out is not None:
        command = "python -m benchmarks.bench_routing " + " ".join(
            str(arg) for arg in (sys.argv[1:] if argv is None else argv)
        )
        header = [
            "# Routing: baize's Router beside every peer's, in-process",
            "",
            f"Generated by `{command.strip()}` on {datetime.now(UTC).isoformat(timespec='seconds')}"
            f" ({os.cpu_count()} CPUs, Python {platform.python_version()}; versions:"
            f" {', '.join(f'{k} {v}' for k, v in versions().items())}).",
            "",
            "Time per dispatch, best round of each framework (see `benchmarks/bench_routing.py`"
            " for what one dispatch covers in each framework: baize, Starlette and FastAPI are"
            " full ASGI calls; Falcon, Litestar and BlackSheep their router's lookup only).",
            "",
        ]
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(header + lines) + "\n", encoding="utf-8")
        print(f"wrote {args.out}")


def versions() -> dict[str, str]:
    """baize's and Starlette's versions, then each routing peer's (:func:`peers.versions`)."""
    found = {}
    for name in ("baize-reference", "starlette"):
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "not installed"
    return {**found, **peers.versions([name for name in peers.PEERS if name in FRAMEWORKS])}


if __name__ == "__main__":
    main()
