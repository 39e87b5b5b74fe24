"""Keeping a scenario's servers alive: notice a server that died, restart it, measure once.

A server process that exits during a scenario (hypercorn-trio under h2load, for one) is
restarted before its next measurement, checked and warmed up again; a measurement its death
cut is dropped. See "A server that dies" in benchmarks/README.md.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from benchmarks import loadgen
from benchmarks.scenarios import Scenario, Settings, check_h2, check_response, measure
from benchmarks.servers import ExitWatch, RunningServer
from conformance.harness.process import ServerError
from conformance.harness.serverconfig import ServerConfig

#: Seconds to wait for a server's exit after a failed check or load, before blaming the answer.
EXIT_GRACE = 0.5


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
    #: restarts since the last complete measurement: a server that dies after every complete
    #: measurement still makes progress; one that never completes one is given up
    fruitless: int = 0
    noted: bool = False  # the current process's exit is already in ``crashes``
    last_round: int = 0  # the last round in which the current process was measured

    def note_exit(self, cut: bool = False) -> Crash | None:
        """Record the exit of the current process (once); None while it runs."""
        if self.noted or not self.server.exited():
            return None
        crash = Crash(self.last_round, self.server.exit_line(), self.server.exit_code(), cut)
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

    :raises GaveUp: ``settings.max_restarts`` restarts in a row brought no complete
        measurement, or the new process does not start or answer right.
    """
    reason = sup.crashes[-1].reason if sup.crashes else "exited"
    if sup.fruitless >= settings.max_restarts:
        raise GaveUp(
            f"the {sup.impl} server died {sup.fruitless + 1} times in a row without a complete"
            f" measurement; gave up after {sup.fruitless} restart"
            f"{'' if sup.fruitless == 1 else 's'}: {reason}"
        )
    sup.server.stop()
    sup.restarts += 1
    sup.fruitless += 1
    stem = sup.server.log_path.name.split(".restart")[0].removesuffix(".log")
    fresh = sup.server.fresh(sup.server.log_path.with_name(f"{stem}.restart{sup.restarts}.log"))
    sup.server, sup.noted, sup.last_round = fresh, False, 0
    fresh.start()
    try:
        fresh.wait_ready()
    except ServerError as exc:
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
    with ExitWatch(sup.server.exit_code) as watch:
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
        if cut or sample is None:  # a missing sample is always cut; said for the type checker
            return None
    elif sample is None:
        errors[sup.impl] = problem
        print(f"    {sup.impl}: ERROR {problem}", file=sys.stderr)
        return None
    sup.fruitless = 0
    return sample.to_json()


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
