"""Pure parts of the performance report: medians, paired ratios, targets, Markdown.

The JSON document is the canonical output; the Markdown is rendered from it.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

IMPLS = ("raw", "starlette", "baize")
REFERENCES = ("raw", "starlette")
#: The A/A control: a second, independent server process of the raw app, measured in the
#: ``hello`` rounds; its ratio to ``raw`` in the same round is the server's noise floor.
CONTROL = "raw-again"
CONTROL_RATIO = f"{CONTROL}/raw"
CONTROL_SCENARIO = "hello"
#: The annotation of a MISS that the noise of the measurement can explain (see noise_note).
WITHIN_NOISE = "within noise"
#: A file download may grow the server's RSS by at most this much to count as flat.
MEMORY_FLAT_LIMIT = 32 * 1024 * 1024
MIB = 1024 * 1024


@dataclass(frozen=True)
class Target:
    """A ratio the issue asks for: ``baize/<reference>`` at least ``minimum`` on ``scenarios``."""

    name: str
    scenarios: tuple[str, ...]
    reference: str
    minimum: float


#: The small-response scenarios, over HTTP/1.1 (wrk) and HTTP/2 (h2load).
SMALL = ("hello", "json-router", "h2-hello", "h2-json-router")
TARGETS = (
    Target("small responses >= 0.95x raw ASGI", SMALL, "raw", 0.95),
    Target("small responses >= 1.0x Starlette", SMALL, "starlette", 1.0),
    Target("FileResponse >= 1.0x Starlette", ("file-1mib",), "starlette", 1.0),
)


def paired_ratios(numerators: Sequence[float], denominators: Sequence[float]) -> list[float]:
    """Ratio of each round's figure to the same round's reference (interleaved pairs).

    Rounds where the reference is 0 are dropped.
    """
    if len(numerators) != len(denominators):
        raise ValueError(f"{len(numerators)} rounds against {len(denominators)} reference rounds")
    return [n / d for n, d in zip(numerators, denominators, strict=True) if d > 0]


def median_or_none(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def spread(values: Sequence[float]) -> tuple[float, float] | None:
    """The (min, max) of per-round ratios, or None without any."""
    return (min(values), max(values)) if values else None


def ratio_summary(per_round: Sequence[float]) -> dict[str, Any]:
    """Per-round ratios with their median, min and max (None when there is no round)."""
    bounds = spread(per_round)
    return {
        "per_round": list(per_round),
        "median": median_or_none(per_round),
        "min": None if bounds is None else bounds[0],
        "max": None if bounds is None else bounds[1],
    }


def control_summary(raw: Sequence[float], control: Sequence[float]) -> dict[str, Any]:
    """The A/A ratio ``raw-again/raw`` of each round (paired), with median, min and max."""
    return ratio_summary(paired_ratios(control, raw))


def noise_floor(results: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per server, its A/A noise floor: the ``raw-again/raw`` ratios of its ``hello`` result.

    :returns: server -> ``scenario``, ``rounds``, ``median``, ``min``, ``max``, ``spread``
        (max - min) and ``margin`` (see :func:`median_margin`; None below 3 rounds);
        servers without a measured control are absent.
    """
    floors: dict[str, dict[str, Any]] = {}
    for r in results:
        entry = r.get("ratios", {}).get(CONTROL_RATIO)
        if r["scenario"] != CONTROL_SCENARIO or not entry or not entry.get("per_round"):
            continue
        low, high = min(entry["per_round"]), max(entry["per_round"])
        floors[r["server"]] = {
            "scenario": r["scenario"],
            "rounds": len(entry["per_round"]),
            "median": entry["median"],
            "min": low,
            "max": high,
            "spread": high - low,
            "margin": median_margin(entry["per_round"]),
        }
    return floors


#: Scale of the median absolute deviation to a normal standard deviation, and of a
#: standard deviation to the standard error of a median (sqrt(pi / 2)).
_MAD_TO_SIGMA = 1.4826
_SIGMA_TO_MEDIAN_ERROR = 1.2533


def median_margin(ratios: Sequence[float]) -> float | None:
    """Two standard errors of a median of ``len(ratios)`` per-round ratios, estimated from
    ``ratios`` themselves (A/A: how much a median of that many rounds moves by noise alone).

    The spread of the rounds is taken robustly (median absolute deviation), so one wild
    round does not widen it much. None below 3 rounds: too few to estimate a spread.
    """
    if len(ratios) < 3:
        return None
    centre = statistics.median(ratios)
    mad = statistics.median(abs(r - centre) for r in ratios)
    return 2 * _SIGMA_TO_MEDIAN_ERROR * _MAD_TO_SIGMA * mad / math.sqrt(len(ratios))


def noise_note(value: float | None, threshold: float, margin: float | None) -> str | None:
    """Why a MISS lies within the noise, or None (also for a PASS or no value).

    A MISS (``value < threshold``) is within noise when its distance to the threshold
    (``threshold - value``) is smaller than the server's A/A margin (:func:`median_margin`
    of its ``raw-again/raw`` rounds): a median that far below could come from noise alone.
    A round that met the target is not enough (with more rounds, one always does). The
    verdict itself is not changed.
    """
    if value is None or value >= threshold or margin is None:
        return None
    distance = threshold - value
    if distance < margin:
        return (
            f"{WITHIN_NOISE}: {distance:.3f} below the threshold,"
            f" less than the server's A/A margin {margin:.3f}"
        )
    return None


def summarize(samples: Mapping[str, Sequence[Mapping[str, Any]]]) -> dict[str, Any]:
    """Medians per implementation and ``baize/<reference>`` ratios from per-round samples.

    :param samples: implementation name -> one sample dict (``rate``, ``p50_ms``...) per round.
    """
    medians = {
        impl: {
            key: median_or_none(s[key] for s in rounds)
            for key in ("rate", "p50_ms", "p90_ms", "p99_ms")
        }
        for impl, rounds in samples.items()
        if rounds
    }
    ratios: dict[str, Any] = {}
    baize = [s["rate"] for s in samples.get("baize", ())]
    for reference in REFERENCES:
        other = [s["rate"] for s in samples.get(reference, ())]
        if baize and other:
            ratios[f"baize/{reference}"] = ratio_summary(paired_ratios(baize, other))
    return {"median": medians, "ratios": ratios}


#: Settings that may differ between a report and a run merged into it (they do not change what
#: a figure means); any other difference refuses the merge.
MERGE_FREE_SETTINGS = frozenset(("max_restarts",))


def settings_conflicts(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """The settings that differ between two runs and would make a merged report lie."""
    keys = (set(old) | set(new)) - MERGE_FREE_SETTINGS
    return [
        f"{k}: {old.get(k)!r} vs {new.get(k)!r}" for k in sorted(keys) if old.get(k) != new.get(k)
    ]


def merge_results(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """The ``old`` report with the ``new`` run's results in place of the same cells.

    A result replaces the old one of the same (server, scenario), a memory entry the old one
    of the same (server, impl); the rest of ``old`` stays, in its order, and new cells are
    appended. A ``merges`` entry records what was re-measured, by which command, when, and
    the new run's environment. Noise floor and targets must be evaluated again afterwards.
    """
    merged = dict(old)
    fresh = {(r["server"], r["scenario"]): r for r in new["results"]}
    kept = [fresh.pop((r["server"], r["scenario"]), r) for r in old["results"]]
    merged["results"] = kept + list(fresh.values())
    fresh_memory = {(m["server"], m["impl"]): m for m in new["memory"]}
    kept_memory = [fresh_memory.pop((m["server"], m["impl"]), m) for m in old["memory"]]
    merged["memory"] = kept_memory + list(fresh_memory.values())
    merged["notes"] = list(dict.fromkeys([*old.get("notes", []), *new.get("notes", [])]))
    measured = [f"{r['server']} {r['scenario']}" for r in new["results"]]
    measured += [f"{m['server']} memory ({m['impl']})" for m in new["memory"]]
    merged["merges"] = [
        *old.get("merges", []),
        {
            "command": new["command"],
            "date": new["environment"]["date"],
            "measured": measured,
            "environment": new["environment"],
        },
    ]
    return merged


def report_servers(document: Mapping[str, Any]) -> list[str]:
    """Every server of a report, in the order of its results, then of its memory entries."""
    names = [r["server"] for r in document["results"]] + [m["server"] for m in document["memory"]]
    return list(dict.fromkeys(names))


def evaluate_targets(
    results: Sequence[Mapping[str, Any]],
    memory: Sequence[Mapping[str, Any]],
    servers: Sequence[str],
) -> list[dict[str, Any]]:
    """One verdict per (target, server, scenario): PASS, MISS, or NOT MEASURED (never guessed).

    A result marked ``not_applicable`` (a server without h2c) gets no verdict. Each ratio
    verdict carries the per-round ``spread`` ([min, max] of the ratios behind the median),
    the server's A/A range ``aa_range`` ([min, max] of ``raw-again/raw``, or None) and, for
    a MISS that :func:`noise_note` finds within the noise, a ``note``.
    """
    by_key = {(r["server"], r["scenario"]): r for r in results}
    floors = noise_floor(results)
    verdicts: list[dict[str, Any]] = []
    for target in TARGETS:
        for server in servers:
            for scenario in target.scenarios:
                result = by_key.get((server, scenario))
                if result is None or result.get("not_applicable"):
                    continue
                entry = result["ratios"].get(f"baize/{target.reference}", {})
                ratio = entry.get("median")
                bounds = spread(entry.get("per_round") or [])
                floor = floors.get(server)
                verdict: dict[str, Any] = {
                    "target": target.name,
                    "server": server,
                    "scenario": scenario,
                    "value": ratio,
                    "threshold": target.minimum,
                    "verdict": _verdict(ratio, target.minimum),
                    "spread": None if bounds is None else list(bounds),
                    "aa_range": None if floor is None else [floor["min"], floor["max"]],
                }
                note = noise_note(
                    ratio, target.minimum, None if floor is None else floor.get("margin")
                )
                if note is not None:
                    verdict["note"] = note
                verdicts.append(verdict)
    for entry in memory:
        if entry["impl"] != "baize":
            continue
        growth = entry.get("growth_bytes")
        verdicts.append(
            {
                "target": "memory flat serving 1 GiB (RSS growth <= 32 MiB)",
                "server": entry["server"],
                "scenario": "memory-1gib",
                "value": growth,
                "threshold": MEMORY_FLAT_LIMIT,
                "verdict": "NOT MEASURED"
                if growth is None
                else ("PASS" if growth <= MEMORY_FLAT_LIMIT else "MISS"),
            }
        )
    return verdicts


def _verdict(value: float | None, minimum: float) -> str:
    if value is None:
        return "NOT MEASURED"
    return "PASS" if value >= minimum else "MISS"


def _fmt_ratio(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}x"


def _fmt_load(values: Sequence[float] | None) -> str:
    return "–" if not values else " / ".join(f"{v:.2f}" for v in values)


def _fmt_rate(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:,.0f}"


def _fmt_ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _fmt_mib(value: float | None) -> str:
    return "–" if value is None else f"{value / MIB:.1f}"


def render_markdown(report: Mapping[str, Any]) -> str:
    """The Markdown page of a performance report (the JSON document of ``benchmarks.run``)."""
    env = report["environment"]
    settings = report["settings"]
    results: Sequence[Mapping[str, Any]] = report["results"]
    servers: list[str] = list(dict.fromkeys(r["server"] for r in results))
    scenarios: list[str] = list(dict.fromkeys(r["scenario"] for r in results))
    by_key = {(r["server"], r["scenario"]): r for r in results}
    lines = [
        "# Performance report",
        "",
        f"Generated by `{report['command']}` on {env['date']}.",
        "",
        f"- Machine: {env['cpu_count']} CPUs, {env['platform']}, Python {env['python']},"
        f" load average at start {_fmt_load(env.get('load_average_at_start'))}",
        f"- Load: {env['wrk']}, {settings['threads']} thread,"
        f" {settings['connections']} connections,"
        f" {settings['duration']:g} s per measurement, {settings['rounds']} interleaved rounds"
        f" (medians); SSE and WebSocket: {settings['stream_clients']} Python socket clients",
        *_h2_settings_line(report),
        f"- CPU pinning: {settings.get('pinning', 'none')}",
        "- Versions: " + ", ".join(f"{k} {v}" for k, v in sorted(env["versions"].items())),
        "",
        "Ratios are medians of per-round ratios; every round measures the implementations back"
        " to back (A B C, rotated each round; in `hello` A B C D with the A/A control), so that"
        " the noise of a shared machine cancels.",
        "",
    ]
    for merge in report.get("merges", []):
        lines += [
            f"Merged into this report: `{merge['command']}` on {merge['date']} re-measured"
            f" {', '.join(merge['measured'])}.",
            "",
        ]
    if report.get("notes"):
        lines += ["## Notes", "", *(f"- {note}" for note in report["notes"]), ""]
    verdicts = report.get("targets", [])
    if verdicts:
        lines += render_targets(verdicts)
    lines += render_noise_floor(results)
    if results:
        lines += [
            "## Ratios: baize / raw ASGI and baize / Starlette",
            "",
            "| server | " + " | ".join(scenarios) + " |",
            "|---|" + "---|" * len(scenarios),
        ]
        for server in servers:
            cells = []
            for scenario in scenarios:
                r = by_key.get((server, scenario))
                if r is None:
                    cells.append("")
                    continue
                if _skip_reason(r):
                    cells.append("no h2c" if r.get("not_applicable") else "not measured")
                    continue
                raw = r["ratios"].get("baize/raw", {}).get("median")
                star = r["ratios"].get("baize/starlette", {}).get("median")
                cells.append(f"{_fmt_ratio(raw)} / {_fmt_ratio(star)}")
            lines.append(f"| {server} | " + " | ".join(cells) + " |")
        lines += ["", "## Absolute numbers (medians)", ""]
        for scenario in scenarios:
            unit = next(r["unit"] for r in results if r["scenario"] == scenario)
            lines += [
                f"### {scenario} ({unit}; latency p50 / p90 / p99 in ms)",
                "",
                *(H2_NOTE if scenario.startswith("h2-") else ()),
                "| server | " + " | ".join(IMPLS) + " | errors |",
                "|---|" + "---|" * (len(IMPLS) + 1),
            ]
            for server in servers:
                r = by_key.get((server, scenario))
                if r is None:
                    continue
                if reason := _skip_reason(r):
                    lines.append(
                        f"| {server} | " + " | ".join("–" for _ in IMPLS) + f" | {reason} |"
                    )
                    continue
                cells = []
                for impl in IMPLS:
                    m = r["median"].get(impl)
                    if m is None:
                        cells.append("–")
                        continue
                    latency = ""
                    if m["p50_ms"] is not None:
                        percentiles = (m["p50_ms"], m["p90_ms"], m["p99_ms"])
                        latency = " (" + " / ".join(_fmt_ms(p) for p in percentiles) + ")"
                    cells.append(_fmt_rate(m["rate"]) + latency)
                errors = (
                    "; ".join(f"{k}: {_cell(v)}" for k, v in r.get("errors", {}).items()) or "none"
                )
                lines.append(f"| {server} | " + " | ".join(cells) + f" | {errors} |")
            lines.append("")
    lines += render_restarts(results)
    memory = report.get("memory", [])
    if memory:
        lines += [
            "## Memory while serving a 1 GiB sparse file",
            "",
            "RSS of the server's whole process tree, sampled every 4 MiB of download.",
            "",
            "| server | impl | before MiB | peak MiB | after MiB | growth MiB | MiB/s | error |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for m in memory:
            speed = m.get("throughput_bytes_per_s")
            lines.append(
                f"| {m['server']} | {m['impl']} | {_fmt_mib(m.get('rss_before'))} |"
                f" {_fmt_mib(m.get('rss_peak'))} | {_fmt_mib(m.get('rss_after'))} |"
                f" {_fmt_mib(m.get('growth_bytes'))} | {_fmt_mib(speed)} | {m.get('error') or ''} |"
            )
        lines.append("")
    lines += [
        "## Conformance suite wall time",
        "",
        *render_suite_timing(report.get("suite_timing")),
    ]
    return "\n".join(lines)


NOISE_RULE = (
    "A MISS is annotated *within noise* when its distance to the threshold (threshold -"
    " median) is smaller than the server's A/A margin: two standard errors of a median of"
    ' that many rounds, estimated from its raw-again/raw ratios (see "Noise floor (A/A)").'
    " The verdict itself is only median >= threshold: PASS, else MISS."
)


def render_targets(verdicts: Sequence[Mapping[str, Any]]) -> list[str]:
    """The Targets section: counts, the noise rule, one row per verdict."""
    counts = {
        v: sum(1 for t in verdicts if t["verdict"] == v) for v in ("PASS", "MISS", "NOT MEASURED")
    }
    noisy = sum(1 for t in verdicts if t["verdict"] == "MISS" and t.get("note"))
    lines = [
        "## Targets",
        "",
        f"{counts['PASS']} PASS, {counts['MISS']} MISS ({noisy} within the noise floor),"
        f" {counts['NOT MEASURED']} not measured.",
        "",
        "Value: the median of the per-round ratios; per-round spread: their min–max; A/A"
        " range: the min–max of the server's raw-again/raw ratios (its noise floor). " + NOISE_RULE,
        "",
        "| target | server | scenario | value | per-round spread | A/A range | verdict |",
        "|---|---|---|---|---|---|---|",
    ]
    for t in verdicts:
        memory = t["scenario"] == "memory-1gib"
        if memory:
            value = f"{_fmt_mib(t['value'])} MiB"
        else:
            value = "–" if t["value"] is None else f"{t['value']:.3f}x"
        verdict = t["verdict"] + (f" ({WITHIN_NOISE})" if t.get("note") else "")
        lines.append(
            f"| {t['target']} | {t['server']} | {t['scenario']} | {value} |"
            f" {_fmt_range(t.get('spread'))} | {_fmt_range(t.get('aa_range'))} | {verdict} |"
        )
    return [*lines, ""]


def render_noise_floor(results: Sequence[Mapping[str, Any]]) -> list[str]:
    """The "Noise floor (A/A)" section: each server's raw-again/raw ratios.

    Empty without a ``hello`` result (the only scenario with the control).
    """
    hello = [r for r in results if r["scenario"] == CONTROL_SCENARIO and not _skip_reason(r)]
    if not hello:
        return []
    lines = [
        "## Noise floor (A/A)",
        "",
        f"In the `{CONTROL_SCENARIO}` scenario (HTTP/1.1) a second, independent server process"
        f" of the raw ASGI app (`{CONTROL}`) is measured in the same interleaved rounds as the"
        f" others. The two processes are identical, so `{CONTROL_RATIO}` of the same round"
        " would be 1.00 without noise: how far it moves is how far any ratio of that server"
        " moves by noise alone. Margin: two standard errors of a median of that many rounds"
        " (1.2533 x 1.4826 x the median absolute deviation of the A/A ratios / sqrt(rounds),"
        " twice); a median of baize's ratios that far from a threshold could be noise. It is"
        " taken as the server's noise floor for all its scenarios; the baize ratios do not"
        " use it.",
        "",
    ]
    floors = noise_floor(hello)
    if not floors:
        return [*lines, "Not measured (`--no-control`, or the control did not run).", ""]
    lines += [
        f"| server | rounds | {CONTROL_RATIO} median | min–max | margin |"
        f" raw req/s | {CONTROL} req/s |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in hello:
        floor = floors.get(r["server"])
        if floor is None:
            lines.append(f"| {r['server']} | – | – | – | – | – | – |")
            continue
        rates = [r["median"].get(impl, {}).get("rate") for impl in ("raw", CONTROL)]
        lines.append(
            f"| {r['server']} | {floor['rounds']} | {_fmt_ratio(floor['median'])} |"
            f" {_fmt_range([floor['min'], floor['max']])} |"
            f" {fmt_margin(floor.get('margin'))} |"
            f" {_fmt_rate(rates[0])} | {_fmt_rate(rates[1])} |"
        )
    return [*lines, ""]


def fmt_margin(margin: float | None) -> str:
    return "–" if margin is None else f"{margin:.3f}"


def _fmt_range(bounds: Sequence[float] | None) -> str:
    return "–" if not bounds else f"{bounds[0]:.3f}–{bounds[1]:.3f}x"


H2_NOTE = (
    "HTTP/2 over cleartext with prior knowledge (h2c), measured with h2load. h2load's report"
    " gives req/s and min / max / mean / sd of the request time (kept in the JSON); the"
    " p50 / p90 / p99 here are computed from its per-request `--log-file`.",
    "",
)


def render_restarts(results: Sequence[Mapping[str, Any]]) -> list[str]:
    """The section listing every server that died during a scenario and was restarted.

    Empty when no server died. A round cut by a crash is dropped for every implementation.
    """
    rows = [
        f"| {r['server']} | {r['scenario']} | {impl} | {entry['count']} |"
        f" {_crash_rounds(entry['crashes'])} | {_rounds(r.get('dropped_rounds'))} |"
        f" {_cell('; '.join(dict.fromkeys(c['reason'] for c in entry['crashes'])), 400)} |"
        for r in results
        for impl, entry in r.get("restarts", {}).items()
    ]
    if not rows:
        return []
    return [
        "## Server restarts",
        "",
        "A server process that died was restarted (same server configuration and app, checked"
        ' and warmed up again) before its next measurement. "died after round" is the last'
        " round measured on the dead process (0: before its first); a round whose measurement"
        " the crash cut is dropped for every implementation, one that ended before the crash"
        " is kept.",
        "",
        "| server | scenario | impl | restarts | died after round | dropped rounds | reason |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
    ]


def _crash_rounds(crashes: Sequence[Mapping[str, Any]]) -> str:
    return ", ".join(f"{c['after_round']}" + (" (cut)" if c["cut"] else "") for c in crashes)


def _rounds(numbers: Sequence[int] | None) -> str:
    return ", ".join(map(str, numbers)) if numbers else "none"


def _skip_reason(result: Mapping[str, Any]) -> str:
    return str(result.get("not_applicable") or result.get("not_measured") or "")


def _h2_settings_line(report: Mapping[str, Any]) -> list[str]:
    if not any(r["scenario"].startswith("h2-") for r in report["results"]):
        return []
    settings = report["settings"]
    return [
        f"- HTTP/2 load: {report['environment'].get('h2load', 'h2load')} over h2c,"
        f" {settings.get('h2_clients')} clients x {settings.get('h2_streams')} streams,"
        f" {settings['threads']} thread"
    ]


def render_suite_timing(timing: Mapping[str, Any] | None) -> list[str]:
    """The lines of the conformance-suite timing section (without its heading)."""
    if not timing:
        return [
            "Not measured yet: `python -m benchmarks.run --only-suite-timing`"
            " (or `--suite-timing` after the load scenarios).",
            "",
        ]
    load = _fmt_load(timing.get("load_average_at_start"))
    lines = [
        f"Measured on {timing['date']} with `{timing['command']}`"
        f" ({timing.get('cpu_count', '?')} CPUs, load average at start {load}):"
        " the full default matrix, each run with its own temporary `--report-dir`.",
        "",
        "| mode | command | wall time s | exit code | cases | outcomes | pytest |",
        "|---|---|---|---|---|---|---|",
    ]
    for run in timing["runs"]:
        outcomes = ", ".join(f"{k} {v}" for k, v in run.get("outcomes", {}).items()) or "–"
        cases = "–" if run.get("cases") is None else str(run["cases"])
        command = f"`{run['command']}`" if run.get("command") else "–"
        lines.append(
            f"| {run['mode']} | {command} | {run['seconds']:.1f} | {run['returncode']} |"
            f" {cases} | {outcomes} | {run['summary']} |"
        )
    return [*lines, ""]


def _cell(text: str, limit: int = 160) -> str:
    """One table cell: the first line of ``text``, shortened, with ``|`` escaped
    (the whole text stays in the JSON)."""
    line = str(text).strip().splitlines()[0] if str(text).strip() else ""
    if len(line) > limit:
        line = line[: limit - 1] + "\u2026"
    return line.replace("|", "\\|")
