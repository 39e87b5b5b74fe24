"""The load-benchmark runner: ``python -m benchmarks.run``.

For each server configuration (``servers/*.toml``) and each scenario it starts one server
per implementation (raw ASGI, Starlette, baize), measures them in interleaved rounds, and
writes ``reports/performance.json`` and ``reports/performance.md``. See benchmarks/README.md.
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
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import cpus, loadgen, report
from benchmarks import suite_timing as suite_timing_mod
from benchmarks.apps import common
from benchmarks.servers import (
    ExitWatch,
    RunningServer,
    ServerConfig,
    ServerStartError,
    exit_line,
    load_servers,
    wait_idle,
)

ROOT = Path(__file__).resolve().parent.parent
REPORT_DIR = ROOT / "reports"
# Before each measurement, wait at most this long for every server of the scenario to be
# idle, so that work left over from the previous measurement does not steal the CPU.
IDLE_TIMEOUT = 10.0
# An event stream of the benchmark apps ends this long after one measurement would.
SSE_SLACK_SECONDS = 2
APP_MODULES = {
    "raw": "benchmarks.apps.raw",
    "starlette": "benchmarks.apps.starlette_impl",
    "baize": "benchmarks.apps.baize_impl",
    report.CONTROL: "benchmarks.apps.raw",  # the A/A control: the raw app, its own process
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
MEMORY_SCENARIO = "memory-1gib"
#: Restarts one implementation's server may get in one scenario before the scenario is given up.
MAX_RESTARTS = 3
#: Seconds to wait for a server's exit after a failed check or load, before blaming the answer.
EXIT_GRACE = 0.5


@dataclass(frozen=True)
class Scenario:
    """One load: which app attribute serves it, how it is driven and checked."""

    name: str
    app: str
    kind: str  # "wrk", "h2load", "sse" or "websocket"
    unit: str
    baize_names: tuple[str, ...]
    path: str = "/"
    headers: tuple[str, ...] = ()


SCENARIOS = {
    s.name: s
    for s in (
        Scenario("hello", "hello", "wrk", "req/s", ("PlainTextResponse",)),
        Scenario(
            "json-router",
            "json_router",
            "wrk",
            "req/s",
            ("JSONResponse", "Router", "Request", "request_response"),
            path=common.JSON_PATH,
        ),
        Scenario("file-1mib", "file", "wrk", "req/s", ("FileResponse",)),
        Scenario(
            "range-64kib",
            "range_file",
            "wrk",
            "req/s",
            ("FileResponse",),
            headers=(f"Range: {common.RANGE_HEADER}",),
        ),
        Scenario("sse", "sse", "sse", "events/s", ("SendEventResponse",)),
        Scenario("websocket", "websocket", "websocket", "messages/s", ("WebSocket",)),
        Scenario("h2-hello", "hello", "h2load", "req/s", ("PlainTextResponse",)),
        Scenario(
            "h2-json-router",
            "json_router",
            "h2load",
            "req/s",
            ("JSONResponse", "Router", "Request", "request_response"),
            path=common.JSON_PATH,
        ),
    )
}
#: Requests of the h2c check that precedes the measurement (it also warms the server up).
H2_CHECK_REQUESTS = 200
ALL_SCENARIOS = (*SCENARIOS, MEMORY_SCENARIO)


@dataclass(frozen=True)
class Settings:
    duration: int
    rounds: int
    warmup_requests: int
    connections: int
    threads: int
    stream_clients: int
    h2_clients: int = 8
    h2_streams: int = 4
    pinning: str = "none"  # Pinning.describe(), or "none"
    max_restarts: int = MAX_RESTARTS  # per implementation and scenario
    server_prefix: tuple[str, ...] = ()  # starts a server on its CPUs (taskset); not reported
    control: bool = True  # measure the A/A control (raw-again) in the hello scenario

    def to_json(self) -> dict[str, float | int | str]:
        return {k: v for k, v in self.__dict__.items() if k != "server_prefix"}


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


def check_response(scenario: Scenario, port: int, content: bytes) -> str | None:
    """Send one request the way the load will and check the answer; return what is wrong."""
    if scenario.kind == "sse":
        sample = loadgen.count_sse_events(port, scenario.path, 1.0, 1)
        return (
            None if sample.count > 0 and not sample.errors else "no event stream (status or events)"
        )
    if scenario.kind == "websocket":
        sample = loadgen.websocket_echo(port, scenario.path, 1.0, 1)
        return None if sample.count > 0 and not sample.errors else "no WebSocket echo"
    status, body = loadgen.http_get(port, scenario.path, scenario.headers)
    expected: tuple[int, bytes]
    if scenario.app == "hello":
        expected = (200, common.HELLO)
    elif scenario.app == "json_router":
        ok = status == 200 and json.loads(body or b"null") == common.json_payload(
            common.ROUTE_COUNT - 1, 42
        )
        return None if ok else f"status {status}, body {body[:80]!r}"
    elif scenario.app == "file":
        expected = (200, content)
    else:
        expected = (206, content[common.RANGE_FIRST : common.RANGE_LAST + 1])
    if (status, body) != expected:
        wanted = f"{expected[0]} and {len(expected[1])}"
        return f"status {status} and {len(body)} body bytes, expected {wanted}"
    return None


def measure(scenario: Scenario, port: int, duration: float, settings: Settings) -> loadgen.Sample:
    if scenario.kind == "sse":
        return loadgen.count_sse_events(port, scenario.path, duration, settings.stream_clients)
    if scenario.kind == "websocket":
        return loadgen.websocket_echo(port, scenario.path, duration, settings.stream_clients)
    if scenario.kind == "h2load":
        return loadgen.run_h2load(
            port,
            scenario.path,
            clients=settings.h2_clients,
            streams=settings.h2_streams,
            threads=settings.threads,
            duration=duration,
        )
    return loadgen.run_wrk(
        port,
        scenario.path,
        duration,
        connections=settings.connections,
        threads=settings.threads,
        headers=scenario.headers,
    )


def check_h2(scenario: Scenario, port: int, settings: Settings) -> str | None:
    """Drive ``H2_CHECK_REQUESTS`` requests over h2c; return what is wrong, or None.

    Every request must succeed with a 2xx, h2load must report ``h2c``, and the DATA bytes
    must be the HTTP/1.1 body's length times the number of requests.
    """
    _, body = loadgen.http_get(port, scenario.path, scenario.headers)
    sample = loadgen.run_h2load(
        port,
        scenario.path,
        clients=min(2, settings.h2_clients),
        streams=settings.h2_streams,
        threads=1,
        requests=H2_CHECK_REQUESTS,
    )
    if sample.count != H2_CHECK_REQUESTS or sample.errors:
        return (
            f"{sample.count} of {H2_CHECK_REQUESTS} h2c requests succeeded, {sample.errors} errors"
        )
    if sample.data_bytes != H2_CHECK_REQUESTS * len(body):
        return (
            f"{sample.data_bytes} DATA bytes for {H2_CHECK_REQUESTS} requests,"
            f" expected {len(body)} each"
        )
    return None


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
        except ServerStartError as exc:
            errors[impl] = str(exc).splitlines()[0]
            print(f"    {impl}: {exc}", file=sys.stderr)
            server.stop()
            del running[impl]
    return running, errors


def server_crash(server: RunningServer) -> str | None:
    """Why ``server`` is gone, when it exited (its log's last error line), else None."""
    if server.process is None or server.process.poll() is None:
        return None
    why = exit_line(server.log())
    return f"server exited during the measurement (status {server.process.returncode}): {why}"


class GaveUp(RuntimeError):
    """A server died more often than ``Settings.max_restarts`` allows, or did not come back."""


@dataclass(frozen=True)
class Crash:
    """One death of a server process during a scenario.

    :ivar after_round: the last (1-based) round in which this process was measured before it
        died; 0 when it died before its first measurement (during the answer check).
    :ivar reason: the error line of the server's log.
    :ivar cut: it died before its measurement of ``after_round`` ended: that round is dropped.
    """

    after_round: int
    reason: str
    status: int | None
    cut: bool

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class Supervised:
    """One implementation's server in a scenario, with its crashes and restarts."""

    impl: str
    server: RunningServer
    crashes: list[Crash] = field(default_factory=list)
    restarts: int = 0
    noted: bool = False  # the current process's exit is already in ``crashes``
    last_round: int = 0  # the last round in which the current process was measured

    def note_exit(self, cut: bool = False) -> Crash | None:
        """Record the exit of the current process (once); None while it runs."""
        if self.noted or not self.server.exited():
            return None
        process = self.server.process
        status = None if process is None else process.returncode
        crash = Crash(self.last_round, self.server.exit_line(), status, cut)
        self.crashes.append(crash)
        self.noted = True
        return crash

    def to_json(self) -> dict[str, Any]:
        return {"count": self.restarts, "crashes": [c.to_json() for c in self.crashes]}


def warm_up(scenario: Scenario, port: int, settings: Settings) -> None:
    """Send the warm-up requests (HTTP/1.1 loads; the h2c check warms up the others)."""
    for _ in range(settings.warmup_requests if scenario.kind == "wrk" else 0):
        loadgen.http_get(port, scenario.path, scenario.headers)


def prepare_server(
    scenario: Scenario, server: RunningServer, settings: Settings, content: bytes
) -> str | None:
    """Check the server's answer (over h2c too, for h2 loads), then warm it up.

    :returns: what is wrong with the answer, or None.
    """
    try:
        problem = check_response(scenario, server.port, content)
        if problem is None and scenario.kind == "h2load":
            problem = check_h2(scenario, server.port, settings)
        if problem is None:
            warm_up(scenario, server.port, settings)
    except (OSError, ValueError, IndexError, subprocess.TimeoutExpired) as exc:
        problem = f"{type(exc).__name__}: {exc}"
    return problem


def restart(sup: Supervised, scenario: Scenario, settings: Settings, content: bytes) -> None:
    """Replace the dead server of ``sup`` by a fresh, checked and warmed-up process.

    :raises GaveUp: the restarts are used up, or the new process does not start or answer right.
    """
    reason = sup.crashes[-1].reason if sup.crashes else "exited"
    if sup.restarts >= settings.max_restarts:
        raise GaveUp(
            f"the {sup.impl} server died {len(sup.crashes)} times; gave up after"
            f" {sup.restarts} restart{'' if sup.restarts == 1 else 's'}: {reason}"
        )
    sup.server.stop()
    sup.restarts += 1
    stem = sup.server.log_path.name.split(".restart")[0].removesuffix(".log")
    fresh = sup.server.fresh(sup.server.log_path.with_name(f"{stem}.restart{sup.restarts}.log"))
    sup.server, sup.noted, sup.last_round = fresh, False, 0
    fresh.start()
    try:
        fresh.wait_ready()
    except ServerStartError as exc:
        raise GaveUp(
            f"the {sup.impl} server did not come back after restart {sup.restarts}"
            f" ({str(exc).splitlines()[0]}); it had died: {reason}"
        ) from exc
    problem = prepare_server(scenario, fresh, settings, content)
    if problem is not None and not fresh.exited(EXIT_GRACE):  # died again: ensure_running
        raise GaveUp(f"the {sup.impl} server answers wrongly after a restart: {problem}")
    print(f"    {sup.impl}: restarted ({sup.restarts}) after: {reason}", file=sys.stderr)


def ensure_running(sup: Supervised, scenario: Scenario, settings: Settings, content: bytes) -> None:
    """Restart the server of ``sup`` while it is found dead (between measurements)."""
    while sup.server.exited():
        sup.note_exit()
        restart(sup, scenario, settings, content)


def measure_once(
    sup: Supervised,
    round_number: int,
    scenario: Scenario,
    settings: Settings,
    errors: dict[str, str],
) -> dict[str, Any] | None:
    """One measurement of one implementation; None when it failed or a crash cut it.

    A server that exited before the measured time was over, or whose load saw errors or
    failed, cut the measurement; one that died afterwards (hypercorn-trio when h2load drops
    its connections) leaves a complete figure, which is kept.
    """
    started = time.monotonic()
    sup.last_round = round_number
    sample: loadgen.Sample | None = None
    problem = ""
    with ExitWatch(sup.server.process) as watch:
        try:
            sample = measure(scenario, sup.server.port, settings.duration, settings)
        except (OSError, ValueError, subprocess.TimeoutExpired) as exc:
            problem = f"{type(exc).__name__}: {exc}"
    failed = sample is None or sample.errors > 0
    if sup.server.exited(EXIT_GRACE if failed else 0.0):
        early = watch.died_at is not None and watch.died_at < started + settings.duration
        cut = failed or early
        crash = sup.note_exit(cut)
        if crash is not None:
            what = "cut its measurement, round dropped" if cut else "after its measurement"
            print(f"    {sup.impl}: server exited ({what}): {crash.reason}", file=sys.stderr)
        return None if cut or sample is None else sample.to_json()
    if sample is None:
        errors[sup.impl] = problem
        print(f"    {sup.impl}: ERROR {problem}", file=sys.stderr)
        return None
    return sample.to_json()


def measure_round(
    team: dict[str, Supervised],
    round_index: int,
    scenario: Scenario,
    settings: Settings,
    errors: dict[str, str],
    content: bytes,
) -> dict[str, dict[str, Any]]:
    """Measure every implementation once, in an order rotated by the round; impl -> sample."""
    order = list(team)
    shift = round_index % len(order) if order else 0
    measured: dict[str, dict[str, Any]] = {}
    for impl in order[shift:] + order[:shift]:
        try:
            ensure_running(team[impl], scenario, settings, content)
        except GaveUp as exc:
            if impl != report.CONTROL:
                raise
            # The A/A control is only a yardstick: losing it never gives the scenario up.
            errors[impl] = f"control dropped: {exc}"
            print(f"    {impl}: {errors[impl]}", file=sys.stderr)
            team.pop(impl).server.stop()
            continue
        running = {name: sup.server for name, sup in team.items()}
        for busy in wait_idle(running, IDLE_TIMEOUT):
            errors.setdefault(busy, f"still busy {IDLE_TIMEOUT:g} s after its clients left")
        sample = measure_once(team[impl], round_index + 1, scenario, settings, errors)
        if sample is not None:
            measured[impl] = sample
    return measured


def paired_rounds(
    rounds: Sequence[dict[str, dict[str, Any]]],
) -> tuple[dict[str, list[dict[str, Any]]], list[int]]:
    """Keep the rounds in which every implementation measured at all has a sample.

    A round missing one figure (a failed measurement, or one cut by a crash) is dropped for
    every implementation, so that the per-round ratios stay paired.

    :returns: impl -> its samples of the kept rounds, and the 1-based numbers of dropped rounds.
    """
    present = list(dict.fromkeys(impl for measured in rounds for impl in measured))
    dropped = [i + 1 for i, m in enumerate(rounds) if any(impl not in m for impl in present)]
    kept = [m for i, m in enumerate(rounds) if i + 1 not in dropped]
    return {impl: [m[impl] for m in kept] for impl in present}, dropped


def split_control(
    rounds: Sequence[dict[str, dict[str, Any]]],
) -> tuple[list[dict[str, dict[str, Any]]], list[float], list[float], list[int]]:
    """Take the A/A control out of the rounds, so that it never drops a round of the others.

    :returns: the rounds without the control; the raw and control rates of the rounds in
        which both were measured (paired); the 1-based numbers of those rounds.
    """
    main = [{k: v for k, v in m.items() if k != report.CONTROL} for m in rounds]
    both = [i for i, m in enumerate(rounds) if report.CONTROL in m and "raw" in m]
    raw = [float(rounds[i]["raw"]["rate"]) for i in both]
    control = [float(rounds[i][report.CONTROL]["rate"]) for i in both]
    return main, raw, control, [i + 1 for i in both]


def scheduled_impls(scenario: str, impls: Sequence[str], control: bool) -> list[str]:
    """The implementations measured in ``scenario``: ``impls``, plus the A/A control last
    (so that the rotation is A B C D) in the ``hello`` scenario when ``control`` is on."""
    extra = control and scenario == report.CONTROL_SCENARIO and "raw" in impls
    return [*impls, report.CONTROL] if extra else list(impls)


def crash_note(sup: Supervised, config: ServerConfig) -> str:
    """``restarted N times: <reason>``, and what else the crashes did, for the errors column."""
    reasons = "; ".join(dict.fromkeys(c.reason for c in sup.crashes))
    plural = "" if sup.restarts == 1 else "s"
    text = f"restarted {sup.restarts} time{plural}: {reasons}"
    if config.known_crash(reasons):
        text += " (declared in [known-crashes])"
    if len(sup.crashes) > sup.restarts:
        text += "; exited again after its last measurement"
    cut = sorted({c.after_round for c in sup.crashes if c.cut})
    if cut:
        text += "; cut the measurement of round " + ", ".join(map(str, cut))
    return text


def scenario_result(
    config: ServerConfig,
    scenario: Scenario,
    team: dict[str, Supervised],
    rounds: Sequence[dict[str, dict[str, Any]]],
    errors: dict[str, str],
    gave_up: str | None,
) -> dict[str, Any]:
    """The result of one scenario: paired samples, medians, ratios, errors, restarts.

    The A/A control (hello only) is paired with raw on its own: a round it misses is not
    dropped for the others, and it never enters the baize ratios.
    """
    main_rounds, raw_rates, control_rates, control_rounds = split_control(rounds)
    samples, dropped = paired_rounds(main_rounds)
    if control_rounds:
        samples[report.CONTROL] = [rounds[n - 1][report.CONTROL] for n in control_rounds]
    for impl, kept in samples.items():
        failed = sum(int(s["errors"]) for s in kept)
        if failed:
            errors.setdefault(impl, f"{failed} failed requests or socket errors")
    for impl, sup in team.items():
        if sup.crashes:
            note = crash_note(sup, config)
            errors[impl] = f"{note}; {errors[impl]}" if impl in errors else note
    summary = report.summarize({} if gave_up else samples)
    if control_rounds and not gave_up:
        summary["ratios"][report.CONTROL_RATIO] = {
            **report.control_summary(raw_rates, control_rates),
            "rounds": control_rounds,
        }
    result: dict[str, Any] = {
        "server": config.name,
        "scenario": scenario.name,
        "unit": scenario.unit,
        "samples": samples,
        **summary,
        "errors": errors,
    }
    if dropped:
        result["dropped_rounds"] = dropped
    restarts = {impl: sup.to_json() for impl, sup in team.items() if sup.crashes}
    if restarts:
        result["restarts"] = restarts
    if gave_up:
        result["not_measured"] = f"not measured: {gave_up}"
    return result


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


def environment() -> dict[str, Any]:
    versions = {}
    for name in VERSIONED:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "load_average_at_start": list(os.getloadavg()),
        "wrk": loadgen.wrk_version(),
        "h2load": loadgen.h2load_version(),
        "git_commit": commit,
        "versions": versions,
    }


def write_report(document: dict[str, Any], directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "performance.json").write_text(json.dumps(document, indent=2) + "\n")
    (directory / "performance.md").write_text(report.render_markdown(document))


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
            f"  deviation {f['deviation']:.3f}  ({f['rounds']} rounds)"
        )


def run_load(args: argparse.Namespace, command: str) -> int:
    if loadgen.wrk_path() is None:
        print(loadgen.WRK_INSTALL_HINT, file=sys.stderr)
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
    )
    pinning = None if args.no_pin else cpus.split(cpus.available())
    if pinning is not None:
        settings = dataclasses.replace(
            settings, pinning=pinning.describe(), server_prefix=tuple(pinning.server_prefix())
        )
    notes: list[str] = []
    wants_h2 = any(SCENARIOS[s].kind == "h2load" for s in scenario_names if s in SCENARIOS)
    if wants_h2 and loadgen.h2load_path() is None:
        print(loadgen.H2LOAD_INSTALL_HINT, file=sys.stderr)
        notes.append("HTTP/2 scenarios not measured: h2load missing (Debian nghttp2-client)")
    document: dict[str, Any] = {
        "command": command,
        "environment": environment(),
        "settings": settings.to_json(),
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
                if scenario.kind == "h2load" and loadgen.h2load_path() is None:
                    document["results"].append(
                        skipped_result(
                            config, scenario, "not_measured", "not measured: h2load missing"
                        )
                    )
                    continue
                impls = scheduled_impls(
                    name, _impls_for(scenario.baize_names, notes, name), settings.control
                )
                document["results"].append(
                    run_scenario(config, scenario, impls, settings, workdir, env, content)
                )
    document["notes"] = list(dict.fromkeys(notes))
    document["noise"] = report.noise_floor(document["results"])
    document["targets"] = report.evaluate_targets(
        document["results"], document["memory"], [c.name for c in chosen]
    )
    if "suite_timing" in (old := previous_report(args.report_dir)):
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
        help="restarts of a server that died, per implementation and scenario, before the"
        f" scenario is given up (default {MAX_RESTARTS})",
    )
    parser.add_argument(
        "--no-control",
        action="store_true",
        help="do not measure the A/A control (a second raw-app process in the hello scenario,"
        " whose ratio to raw is the noise floor)",
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


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so every started server is stopped by its `finally`.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    command = shlex.join(
        ["python", "-m", "benchmarks.run", *(sys.argv[1:] if argv is None else argv)]
    )
    if args.only_suite_timing:
        return suite_timing(args, command)
    return run_load(args, command)


if __name__ == "__main__":
    sys.exit(main())
