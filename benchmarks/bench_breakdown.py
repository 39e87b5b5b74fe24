"""Where baize's time goes in ``json-router``, under a real server: one layer added at a time.

Serves each app of :mod:`benchmarks.apps.breakdown` (the raw app, then baize's
``JSONResponse``, the view plumbing, the route table, the whole benchmark app) from its own
process of one server configuration, pinned like the load benchmark (server on the first
half of the CPUs, wrk on the rest), checks each answer, and measures them with wrk in
interleaved rounds (order rotated every round). Prints, per app, the median req/s, the time
per request and the median per-round difference to the raw app in microseconds: what the
added layers cost per request on that server. ``--in-process`` calls the same apps without
a server instead (as ``bench_responses`` does: no-op ``receive``/``send``, a fresh scope per
call), for the bare Python cost of each. Run::

    python -m benchmarks.bench_breakdown [--server granian] [--rounds 5] [--duration 2]
    python -m benchmarks.bench_breakdown --in-process [--rounds 9] [--calls 20000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import anyio

from benchmarks import cpus, loadgen
from benchmarks.apps import breakdown, common
from benchmarks.bench_responses import app_call, rate
from benchmarks.scenarios import SCENARIOS, check_response
from benchmarks.servers import RunningServer, load_servers, wait_idle
from benchmarks.tools import INSTALL_HINTS, Tools
from conformance.harness.process import ServerError

IDLE_TIMEOUT = 10.0
WARMUP_REQUESTS = 20


def measure(
    wrk: str, servers: dict[str, RunningServer], rounds: int, duration: int, connections: int
) -> dict[str, list[float]]:
    """Requests per second of every app, per round, in an order rotated each round."""
    order = list(servers)
    rates: dict[str, list[float]] = {name: [] for name in order}
    for index in range(rounds):
        shift = index % len(order)
        for name in order[shift:] + order[:shift]:
            wait_idle(servers, IDLE_TIMEOUT)
            sample = loadgen.run_wrk(
                wrk,
                servers[name].port,
                common.JSON_PATH,
                duration,
                connections=connections,
                threads=1,
            )
            if sample.errors:
                raise RuntimeError(f"{name}: {sample.errors} failed requests during the load")
            rates[name].append(sample.rate)
        print(f"  round {index + 1}: " + "  ".join(f"{n} {r[-1]:,.0f}" for n, r in rates.items()))
    return rates


def table(rates: dict[str, list[float]]) -> list[str]:
    """Markdown rows: app, median req/s, µs per request, median per-round µs over raw."""
    reference = rates["raw_split"]
    lines = [
        "| app for `GET /route49/42` | req/s | µs per request | µs over raw |",
        "|---|---|---|---|",
    ]
    for name, description in breakdown.LAYERS.items():
        per_round = [
            1e6 / rate - 1e6 / ref for rate, ref in zip(rates[name], reference, strict=True)
        ]
        median = statistics.median(rates[name])
        lines.append(
            f"| {description} | {median:,.0f} | {1e6 / median:.1f} |"
            f" {statistics.median(per_round):+.1f} |"
        )
    return lines


def in_process(rounds: int, calls: int) -> dict[str, float]:
    """Median µs per call of every layer, in rotated rounds (as ``bench_responses`` calls
    the load apps: a fresh scope per call, a receive and send that do nothing)."""
    names = list(breakdown.LAYERS)
    calls_of = {name: app_call(getattr(breakdown, name), common.JSON_PATH) for name in names}
    times: dict[str, list[float]] = {name: [] for name in names}

    async def measure_all() -> None:
        for index in range(rounds):
            shift = index % len(names)
            for name in names[shift:] + names[:shift]:
                times[name].append(1e6 / await rate(calls_of[name], calls))

    anyio.run(measure_all)
    return {name: statistics.median(values) for name, values in times.items()}


def main(argv: Sequence[str] | None = None, tools: Tools | None = None) -> int:
    """Run the breakdown; ``tools`` are found on ``PATH`` unless given (a test's fakes)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="granian", help="a servers/*.toml name")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=2, help="whole seconds per measurement")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--no-pin", action="store_true", help="do not pin servers and wrk")
    parser.add_argument("--in-process", action="store_true", help="call the apps, no server")
    parser.add_argument("--calls", type=int, default=20000, help="calls per round (in-process)")
    args = parser.parse_args(argv)
    if args.in_process:
        os.environ.setdefault(common.DATA_DIR_ENV, tempfile.gettempdir())
        reference = None
        print("| app for `GET /route49/42` | in-process µs | µs over raw |\n|---|---|---|")
        for name, micros in in_process(args.rounds, args.calls).items():
            reference = micros if reference is None else reference
            print(f"| {breakdown.LAYERS[name]} | {micros:.1f} | {micros - reference:+.1f} |")
        return 0
    tools = Tools.detect() if tools is None else tools
    if tools.wrk is None:
        print(INSTALL_HINTS["wrk"], file=sys.stderr)
        return 2
    wrk = tools.wrk.path
    configs = load_servers()
    if args.server not in configs:
        parser.error(f"unknown server {args.server!r}; known: {', '.join(sorted(configs))}")
    config = configs[args.server]
    pinning, unpinned = cpus.choose(tools, wanted=not args.no_pin)
    if unpinned is not None:
        print(f"{unpinned}\n{INSTALL_HINTS['taskset']}", file=sys.stderr)
    prefix = [] if pinning is None else pinning.server_prefix(tools.need("taskset"))
    with cpus.clients_pinned(pinning), tempfile.TemporaryDirectory(prefix="baize-bd-") as tmp:
        env = {common.DATA_DIR_ENV: tmp}
        servers = {
            name: RunningServer(
                config,
                f"benchmarks.apps.breakdown:{name}",
                Path(tmp) / f"{name}.log",
                env,
                prefix=prefix,
            )
            for name in breakdown.LAYERS
        }
        try:
            for server in servers.values():
                server.start()
            for name, server in servers.items():
                server.wait_ready()
                problem = check_response(SCENARIOS["json-router"], server.port, b"")
                if problem is not None:
                    print(f"{name}: wrong answer: {problem}", file=sys.stderr)
                    return 1
                for _ in range(WARMUP_REQUESTS):
                    loadgen.http_get(server.port, common.JSON_PATH)
            print(
                f"{config.name}: {args.rounds} rounds of {args.duration} s,"
                f" {pinning.describe() if pinning else 'not pinned'}"
            )
            rates = measure(wrk, servers, args.rounds, args.duration, args.connections)
        except ServerError as exc:
            print(f"a server did not start: {exc}", file=sys.stderr)
            return 1
        finally:
            for server in servers.values():
                server.stop()
    print("\n".join(["", *table(rates)]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
