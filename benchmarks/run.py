"""The load-benchmark runner: ``python -m benchmarks.run``.

For each server configuration (``servers/*.toml``) and each scenario it starts one server
per implementation (raw ASGI, Starlette, baize), measures them in interleaved rounds, and
writes ``reports/performance.json`` and ``reports/performance.md``. See benchmarks/README.md.

The parts: :mod:`benchmarks.scenarios` (what each load is and checks),
:mod:`benchmarks.servers` (server processes, on the conformance harness's),
:mod:`benchmarks.supervise` (restarting a server that died), :mod:`benchmarks.rounds`
(interleaved rounds and their pairing), :mod:`benchmarks.loadgen` (wrk, h2load and the Python
clients), :mod:`benchmarks.tools` (the external programs, found once), :mod:`benchmarks.cpus`
(CPU pinning), :mod:`benchmarks.report` (ratios, noise floor, targets, merges),
:mod:`benchmarks.report_markdown` (the Markdown page); this module starts servers, runs
scenarios and writes the report.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import importlib.metadata
import json
import os
import platform
import shlex
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks import cpus, explanations, loadgen, peers, report, report_markdown
from benchmarks import suite_timing as suite_timing_mod
from benchmarks.apps import common
from benchmarks.rounds import measure_round, scenario_result, scheduled_impls
from benchmarks.scenarios import (
    ALL_SCENARIOS,
    MAX_RESTARTS,
    MEMORY_SCENARIO,
    SCENARIOS,
    Scenario,
    Settings,
)
from benchmarks.servers import RunningServer, load_servers
from benchmarks.supervise import EXIT_GRACE, GaveUp, Supervised, prepare_server
from benchmarks.tools import INSTALL_HINTS, Tools
from conformance.harness.process import ServerError
from conformance.harness.serverconfig import ServerConfig

ROOT = Path(__file__).resolve().parent.parent
REPORT_DIR = ROOT / "reports"
# An event stream of the benchmark apps ends this long after one measurement would.
SSE_SLACK_SECONDS = 2
APP_MODULES = {
    "raw": "benchmarks.apps.raw",
    "starlette": "benchmarks.apps.starlette_impl",
    "baize": "benchmarks.apps.baize_impl",
    report.CONTROL: "benchmarks.apps.raw",  # the A/A control: the raw app, its own process
    **{name: peer.module for name, peer in peers.PEERS.items()},
}
VERSIONED = (
    "baize-reference",
    "starlette",
    "uvicorn",
    "httptools",
    "uvloop",
    "websockets",
    "wsproto",
    "h11",
    "hypercorn",
    "trio",
    "daphne",
    "granian",
    "gunicorn",
    "anyio",
)


def missing_baize_names(names: Sequence[str]) -> list[str]:
    """The ``baize.asgi`` names still placeholders (``NotImplemented``) or absent."""
    import baize.asgi

    return [n for n in names if getattr(baize.asgi, n, NotImplemented) is NotImplemented]


def make_data(directory: Path) -> bytes:
    """Write the 1 MiB file (deterministic bytes) and the 1 GiB sparse file; return the former."""
    content = bytes(range(256)) * (common.FILE_SIZE // 256)
    (directory / common.FILE_NAME).write_bytes(content)
    with (directory / common.BIG_FILE_NAME).open("wb") as f:
        f.truncate(common.BIG_FILE_SIZE)
    return content


def skipped_result(
    config: ServerConfig, scenario: Scenario, key: str, reason: str
) -> dict[str, Any]:
    """A result without measurements: ``key`` is ``not_applicable`` or ``not_measured``."""
    print(f"    {scenario.name:12} {reason}")
    return {
        "server": config.name,
        "scenario": scenario.name,
        "unit": scenario.unit,
        "samples": {},
        "median": {},
        "ratios": {},
        "errors": {},
        key: reason,
    }


def start_servers(
    config: ServerConfig,
    app: str,
    impls: Sequence[str],
    workdir: Path,
    env: dict[str, str],
    prefix: Sequence[str] = (),
) -> tuple[dict[str, RunningServer], dict[str, str]]:
    """Start one server per implementation at once; return those ready and the errors of others.

    :param prefix: put before the server's command (CPU pinning).
    """
    running: dict[str, RunningServer] = {}
    errors: dict[str, str] = {}
    for impl in impls:
        log = workdir / f"{config.name}-{app}-{impl}.log"
        server = RunningServer(config, f"{APP_MODULES[impl]}:{app}", log, env, prefix=list(prefix))
        server.start()
        running[impl] = server
    for impl, server in list(running.items()):
        try:
            server.wait_ready()
        except ServerError as exc:
            errors[impl] = str(exc).splitlines()[0]
            print(f"    {impl}: {exc}", file=sys.stderr)
            server.stop()
            del running[impl]
    return running, errors


def run_scenario(
    config: ServerConfig,
    scenario: Scenario,
    impls: Sequence[str],
    settings: Settings,
    workdir: Path,
    env: dict[str, str],
    content: bytes,
) -> dict[str, Any]:
    """Measure every implementation of one scenario on one server, interleaved by round.

    A server that dies is restarted before its next measurement (at most
    ``settings.max_restarts`` times per implementation, then the scenario is given up).
    """
    servers, errors = start_servers(
        config, scenario.app, impls, workdir, env, settings.server_prefix
    )
    team = {impl: Supervised(impl, server) for impl, server in servers.items()}
    rounds: list[dict[str, dict[str, Any]]] = []
    gave_up: str | None = None
    try:
        if scenario.kind == "h2load" and team:
            refusal = loadgen.probe_h2c(next(iter(team.values())).server.port)
            if refusal is not None:
                return skipped_result(config, scenario, "not_applicable", f"no h2c: {refusal}")
        for impl, sup in list(team.items()):
            problem = prepare_server(scenario, sup.server, settings, content)
            if problem and not sup.server.exited(EXIT_GRACE):  # died: restarted, not dropped
                errors[impl] = f"wrong answer: {problem}"
                print(f"    {impl}: {errors[impl]}", file=sys.stderr)
                sup.server.stop()
                del team[impl]
        try:
            for round_index in range(settings.rounds):
                rounds.append(measure_round(team, round_index, scenario, settings, errors, content))
        except GaveUp as exc:
            gave_up = str(exc)
            print(f"    {scenario.name}: GAVE UP: {gave_up}", file=sys.stderr)
        for sup in team.values():
            sup.note_exit()
    finally:
        for sup in team.values():
            sup.server.stop()
    result = scenario_result(config, scenario, team, rounds, errors, gave_up)
    print_result(scenario, result)
    return result


def print_result(scenario: Scenario, result: dict[str, Any]) -> None:
    """One line per scenario: median rates, ratios, restarts and dropped rounds."""
    ratios = "  ".join(
        f"{k} {v['median']:.2f}x" for k, v in result["ratios"].items() if v["median"]
    )
    rates = "  ".join(f"{k} {v['rate']:,.0f}" for k, v in result["median"].items())
    restarts = "  ".join(
        f"{impl} restarted {r['count']}x" for impl, r in result.get("restarts", {}).items()
    )
    dropped = result.get("dropped_rounds")
    extra = f"  [{restarts}]" if restarts else ""
    extra += f"  [dropped rounds {dropped}]" if dropped else ""
    print(f"    {scenario.name:12} {rates} {scenario.unit}  {ratios}{extra}")


def measure_memory(
    config: ServerConfig,
    impls: Sequence[str],
    workdir: Path,
    env: dict[str, str],
    prefix: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """Download the 1 GiB sparse file from each implementation; record the server's RSS."""
    entries: list[dict[str, Any]] = []
    for impl in impls:
        entry: dict[str, Any] = {"server": config.name, "impl": impl}
        servers, errors = start_servers(config, "big_file", [impl], workdir, env, prefix)
        server = servers.get(impl)
        if server is None:
            entries.append({**entry, "error": errors.get(impl, "did not start")})
            continue
        try:
            time.sleep(0.3)
            before = server.rss_bytes()
            peak = before

            def sample_rss(server: RunningServer = server) -> None:
                nonlocal peak
                peak = max(peak, server.rss_bytes())

            received, seconds = loadgen.download(server.port, "/", sample_rss, timeout=120)
            sample_rss()
            time.sleep(0.5)
            after = server.rss_bytes()
            entry.update(
                rss_before=before,
                rss_peak=peak,
                rss_after=after,
                growth_bytes=peak - before,
                received_bytes=received,
                seconds=seconds,
                throughput_bytes_per_s=received / seconds if seconds else None,
            )
            if received < common.BIG_FILE_SIZE:
                entry["error"] = f"incomplete: {received} of {common.BIG_FILE_SIZE} bytes"
        except OSError as exc:
            entry["error"] = f"{type(exc).__name__}: {exc}"
        finally:
            server.stop()
        entries.append(entry)
        growth = entry.get("growth_bytes")
        speed = entry.get("throughput_bytes_per_s")
        print(
            f"    memory-1gib  {impl}: growth "
            + (
                f"{growth / report.MIB:.1f} MiB, {speed / report.MIB:,.0f} MiB/s"
                if growth is not None and speed
                else "?"
            )
            + (f"  ERROR {entry['error']}" if entry.get("error") else "")
        )
    return entries


def environment(tools: Tools) -> dict[str, Any]:
    """The machine, the tools (each one's version line, or ``missing``) and the versions."""
    versions = {}
    for name in VERSIONED:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    tool_versions = tools.versions()
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "load_average_at_start": list(os.getloadavg()),
        "wrk": tool_versions["wrk"],
        "h2load": tool_versions["h2load"],
        "taskset": tool_versions["taskset"],
        "git": tool_versions["git"],
        "git_commit": tools.git_commit(ROOT),
        "versions": versions,
    }


def write_report(document: dict[str, Any], directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "performance.json").write_text(json.dumps(document, indent=2) + "\n")
    (directory / "performance.md").write_text(report_markdown.render_markdown(document))


def previous_report(directory: Path) -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = json.loads((directory / "performance.json").read_text())
    except (OSError, ValueError):
        return {}
    return loaded


def print_targets(verdicts: Sequence[dict[str, Any]]) -> None:
    print("\nTargets:")
    for t in verdicts:
        if t["scenario"] == MEMORY_SCENARIO:
            value = "?" if t["value"] is None else f"{t['value'] / report.MIB:.1f} MiB growth"
        else:
            value = "?" if t["value"] is None else f"{t['value']:.3f}x"
        bounds = t.get("spread")
        spread = f"  rounds {bounds[0]:.3f}-{bounds[1]:.3f}" if bounds else ""
        note = f"  ({report.WITHIN_NOISE})" if t.get("note") else ""
        print(
            f"  {t['verdict']:12} {t['target']:40} {t['server']:16} {t['scenario']:12}"
            f" {value}{spread}{note}"
        )


def print_noise(floors: dict[str, dict[str, Any]]) -> None:
    """Each server's A/A noise floor: median and min-max of raw-again/raw."""
    if not floors:
        return
    print(f"\nNoise floor (A/A {report.CONTROL_RATIO}, {report.CONTROL_SCENARIO}):")
    for server, f in floors.items():
        print(
            f"  {server:16} median {f['median']:.3f}x  min-max {f['min']:.3f}-{f['max']:.3f}x"
            f"  margin {report_markdown.fmt_margin(f['margin'])}  ({f['rounds']} rounds)"
        )


def merge_problem(old: dict[str, Any], settings: Settings, directory: Path) -> str | None:
    """Why this run cannot be merged into the report in ``directory`` (checked before any
    load, so that no measurement is wasted), or None."""
    if not old:
        return f"--merge: no {directory / 'performance.json'} to merge into"
    conflicts = report.settings_conflicts(old.get("settings", {}), settings.to_json())
    if conflicts:
        return (
            "--merge: this run's settings differ from the report's, so its figures could not"
            " sit side by side: " + "; ".join(conflicts)
        )
    return None


def run_load(args: argparse.Namespace, command: str, tools: Tools) -> int:
    if tools.wrk is None:
        print(INSTALL_HINTS["wrk"], file=sys.stderr)
        return 2
    configs = load_servers()
    unknown = [s for s in args.server if s not in configs]
    if unknown:
        print(f"unknown server(s) {unknown}; known: {sorted(configs)}", file=sys.stderr)
        return 2
    chosen = [configs[s] for s in (args.server or configs)]
    scenario_names = args.scenario or [
        s for s in ALL_SCENARIOS if not (args.quick and s == MEMORY_SCENARIO)
    ]
    settings = Settings(
        duration=args.duration or 1,
        rounds=args.rounds or (1 if args.quick else 3),
        warmup_requests=20,
        connections=args.connections,
        threads=args.threads,
        stream_clients=args.stream_clients,
        h2_clients=args.h2_clients,
        h2_streams=args.h2_streams,
        max_restarts=args.max_restarts,
        control=not args.no_control,
        tools=tools,
        peers=() if args.no_peers else tuple(args.peer or peers.PEERS),
    )
    notes: list[str] = []
    pinning, unpinned = cpus.choose(tools, wanted=not args.no_pin)
    if unpinned is not None:
        print(INSTALL_HINTS["taskset"], file=sys.stderr)
        notes.append(unpinned)
    if pinning is not None:
        prefix = pinning.server_prefix(tools.need("taskset"))
        settings = dataclasses.replace(
            settings, pinning=pinning.describe(), server_prefix=tuple(prefix)
        )
    if args.merge:
        problem = merge_problem(previous_report(args.report_dir), settings, args.report_dir)
        if problem is not None:
            print(problem, file=sys.stderr)
            return 2
    wants_h2 = any(SCENARIOS[s].kind == "h2load" for s in scenario_names if s in SCENARIOS)
    if wants_h2 and tools.h2load is None:
        print(INSTALL_HINTS["h2load"], file=sys.stderr)
        notes.append("HTTP/2 scenarios not measured: h2load missing (Debian nghttp2-client)")
    if tools.git is None:
        print(INSTALL_HINTS["git"], file=sys.stderr)
    installed_peers, missing_peers = peers.available(settings.peers)
    for name, reason in missing_peers.items():
        print(f"peer {name}: {reason}", file=sys.stderr)
        notes.append(f"peer {name} not measured: {reason}")
    document: dict[str, Any] = {
        "command": command,
        "environment": environment(tools),
        "settings": settings.to_json(),
        "peers": {**peers.versions(installed_peers), **missing_peers},
        "notes": notes,
        "results": [],
        "memory": [],
    }
    with (
        cpus.clients_pinned(pinning),
        tempfile.TemporaryDirectory(prefix="baize-bench-") as tmp,
    ):
        workdir = Path(tmp)
        content = make_data(workdir)
        env = {
            common.DATA_DIR_ENV: str(workdir),
            "BAIZE_BENCH_SSE_SECONDS": str(settings.duration + SSE_SLACK_SECONDS),
        }
        for config in chosen:
            print(f"== {config.name}")
            for name in scenario_names:
                if name == MEMORY_SCENARIO:
                    # Only the implementation under test: a 1 GiB download takes seconds.
                    impls = _impls_for(("FileResponse",), notes, name)[-1:]
                    document["memory"] += measure_memory(
                        config, impls, workdir, env, settings.server_prefix
                    )
                    continue
                scenario = SCENARIOS[name]
                if scenario.kind == "h2load" and tools.h2load is None:
                    document["results"].append(
                        skipped_result(
                            config, scenario, "not_measured", "not measured: h2load missing"
                        )
                    )
                    continue
                # The peers are measured in the same interleaved rounds, before the A/A control.
                scheduled = peers.for_app(installed_peers, scenario.app)
                impls = scheduled_impls(
                    name, _impls_for(scenario.baize_names, notes, name), settings.control, scheduled
                )
                result = run_scenario(config, scenario, impls, settings, workdir, env, content)
                if scheduled:
                    result["peers"] = scheduled
                document["results"].append(result)
    document["notes"] = list(dict.fromkeys(notes))
    old = previous_report(args.report_dir)
    servers = [c.name for c in chosen]
    if args.merge:
        document = report.merge_results(old, document)
        servers = report.report_servers(document)
    document["noise"] = report.noise_floor(document["results"])
    document["targets"] = report.evaluate_targets(document["results"], document["memory"], servers)
    explanations.attach(
        document["targets"], explanations.load(targets=[t.name for t in report.TARGETS])
    )
    if "suite_timing" in old:
        document["suite_timing"] = old["suite_timing"]
    write_report(document, args.report_dir)
    print_targets(document["targets"])
    print_noise(document["noise"])
    print(f"\nwrote {args.report_dir / 'performance.json'} and performance.md")
    if args.suite_timing:
        return suite_timing(args, command)
    return 0


def _impls_for(baize_names: Sequence[str], notes: list[str], scenario: str) -> list[str]:
    missing = missing_baize_names(baize_names)
    if missing:
        notes.append(
            f"{scenario}: baize not measured, baize.asgi.{', '.join(missing)} not implemented yet"
        )
        return ["raw", "starlette"]
    return ["raw", "starlette", "baize"]


def suite_timing(args: argparse.Namespace, command: str) -> int:
    """Time ``pytest conformance`` serial and with ``-n auto``; merge it into the report.

    :returns: 2 if there is no ``performance.json`` to merge into, else 0.
    """
    document = previous_report(args.report_dir)
    if not document:
        print(
            f"no {args.report_dir / 'performance.json'} to merge into: run the load benchmark"
            " first, or use --suite-timing to run both",
            file=sys.stderr,
        )
        return 2
    document["suite_timing"] = suite_timing_mod.measure(ROOT, command)
    write_report(document, args.report_dir)
    print(f"wrote the suite timing into {args.report_dir / 'performance.json'} and performance.md")
    return 0


def _exit_on_signal(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument(
        "--server", action="append", default=[], help="servers/NAME.toml (repeat); default: all"
    )
    parser.add_argument(
        "--scenario",
        action="append",
        default=[],
        choices=ALL_SCENARIOS,
        help="repeat; default: all",
    )
    parser.add_argument(
        "--duration", type=int, help="whole seconds per measurement, as wrk takes them (default 1)"
    )
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 3)")
    parser.add_argument("--quick", action="store_true", help="1 round, no 1 GiB memory check")
    parser.add_argument(
        "--no-pin",
        action="store_true",
        help="let servers and load generators share every CPU (default: separate halves)",
    )
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    parser.add_argument(
        "--stream-clients", type=int, default=4, help="SSE/WebSocket clients (default 4)"
    )
    parser.add_argument("--report-dir", type=Path, default=REPORT_DIR, help="default: reports/")
    parser.add_argument(
        "--h2-clients", type=int, default=8, help="h2load clients (connections; default 8)"
    )
    parser.add_argument(
        "--h2-streams",
        type=int,
        default=4,
        help="h2load concurrent streams per client (default 4: 32 in flight, as wrk's 32)",
    )
    parser.add_argument(
        "--max-restarts",
        type=int,
        default=MAX_RESTARTS,
        help="restarts in a row without a complete measurement of a server that died (per"
        f" implementation and scenario) before the scenario is given up (default {MAX_RESTARTS})",
    )
    parser.add_argument(
        "--no-control",
        action="store_true",
        help="do not measure the A/A control (a second raw-app process in the hello scenario,"
        " whose ratio to raw is the noise floor)",
    )
    parser.add_argument(
        "--peer",
        action="append",
        default=[],
        choices=list(peers.PEERS),
        help="a framework measured beside raw, Starlette and baize (repeat; default: every"
        " installed one of the peers extra)",
    )
    parser.add_argument(
        "--no-peers", action="store_true", help="measure only raw, Starlette and baize"
    )
    parser.add_argument(
        "--merge",
        action="store_true",
        help="replace only the measured (server, scenario) cells of the existing report in"
        " --report-dir (same settings required), keeping the rest",
    )
    timing = parser.add_mutually_exclusive_group()
    timing.add_argument(
        "--suite-timing",
        action="store_true",
        help="after the load scenarios, time `pytest conformance` serial (-n 0) and -n auto",
    )
    timing.add_argument(
        "--only-suite-timing",
        action="store_true",
        help="only time the suite, merged into the existing performance.json of --report-dir",
    )
    args = parser.parse_args(argv)
    if args.rounds is not None and args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.h2_clients < 1 or args.h2_streams < 1:
        parser.error("--h2-clients and --h2-streams must be at least 1")
    if args.max_restarts < 0:
        parser.error("--max-restarts must be at least 0")
    if args.duration is not None and args.duration < 1:
        parser.error("--duration must be at least 1 (wrk takes whole seconds)")
    return args


def main(argv: Sequence[str] | None = None, tools: Tools | None = None) -> int:
    """Run the benchmark; ``tools`` are found on ``PATH`` unless given (a test's fakes)."""
    args = parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so every started server is stopped by its `finally`.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    command = shlex.join(
        ["python", "-m", "benchmarks.run", *(sys.argv[1:] if argv is None else argv)]
    )
    if args.only_suite_timing:
        return suite_timing(args, command)
    return run_load(args, command, Tools.detect() if tools is None else tools)


if __name__ == "__main__":
    sys.exit(main())
