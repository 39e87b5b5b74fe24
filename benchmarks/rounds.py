"""Interleaved rounds: measure every implementation once per round, in a rotated order, and
pair the rounds into the scenario's result (the A/A control paired with raw on its own).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from benchmarks import report
from benchmarks.scenarios import Scenario, Settings
from benchmarks.servers import wait_idle
from benchmarks.supervise import GaveUp, Supervised, crash_note, ensure_running, measure_once
from conformance.harness.serverconfig import ServerConfig

# Before each measurement, wait at most this long for every server of the scenario to be
# idle, so that work left over from the previous measurement does not steal the CPU.
IDLE_TIMEOUT = 10.0


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


def scheduled_impls(
    scenario: str, impls: Sequence[str], control: bool, peers: Sequence[str] = ()
) -> list[str]:
    """The implementations measured in ``scenario``: ``impls``, then the ``peers``, plus the
    A/A control last (so that the rotation is A B C D) in the ``hello`` scenario when
    ``control`` is on."""
    extra = control and scenario == report.CONTROL_SCENARIO and "raw" in impls
    return [*impls, *peers, *([report.CONTROL] if extra else [])]


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
