"""Pure parts of the performance report: medians, paired ratios, noise floor, targets, merges.

The JSON document is the canonical output; :mod:`benchmarks.report_markdown` renders the
Markdown page from it.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from benchmarks import peers as peers_mod

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
    #: A peer target: evaluated only on results that scheduled the peer (``result["peers"]``).
    peer: bool = False


#: The small-response scenarios, over HTTP/1.1 (wrk) and HTTP/2 (h2load).
SMALL = ("hello", "json-router", "h2-hello", "h2-json-router")
#: The scenarios every peer serves (the ``sse`` one only where the peer has an event stream).
PEER_SCENARIOS = ("hello", "json-router", "file-1mib", "sse", "h2-hello", "h2-json-router")
TARGETS = (
    Target("hello >= 0.95x raw ASGI", ("hello", "h2-hello"), "raw", 0.95),
    # The raw app routes with one split and two isdigit tests that know the table's shape: a
    # general router cannot cost nothing, so json-router's floor is 0.85x (issue 20).
    Target("json-router >= 0.85x raw ASGI", ("json-router", "h2-json-router"), "raw", 0.85),
    Target("small responses >= 1.0x Starlette", SMALL, "starlette", 1.0),
    Target("FileResponse >= 1.0x Starlette", ("file-1mib",), "starlette", 1.0),
    # Every pure-Python peer; BlackSheep (Cython) is the compiled reference, never a target.
    *(
        Target(f"baize >= 1.0x {name}", PEER_SCENARIOS, name, 1.0, peer=True)
        for name in peers_mod.targets()
    ),
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
    # raw, Starlette, then every peer measured (the A/A control is paired with raw apart).
    others = [impl for impl in samples if impl not in (*REFERENCES, "baize", CONTROL)]
    for reference in (*REFERENCES, *others):
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
    # A report from before the peers were measured measured none.
    old, new = {"peers": [], **old}, {"peers": [], **new}
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
                if target.peer and target.reference not in result.get("peers", ()):
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
