"""The "Peers" section of the performance page: every framework side by side with baize.

One row per (scenario, server) that measured peers; for each framework its median rate and
``baize/<framework>`` (the median of the per-round ratios: above 1.0x baize is faster), and
the server's A/A margin. Rendered from the JSON document of ``benchmarks.run``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from benchmarks import peers
from benchmarks.report import noise_floor

#: The frameworks of the table besides baize, in this order (Starlette is always measured).
FRAMEWORKS = ("raw", "starlette", *peers.PEERS)


def _cell(result: Mapping[str, Any], framework: str) -> str:
    median = result.get("median", {}).get(framework)
    if median is None or median.get("rate") is None:
        error = result.get("errors", {}).get(framework)
        return "error" if error else "–"
    if not median["rate"]:
        # wrk counts complete responses: none within the measured time (e.g. 1 MiB downloads
        # on 32 connections in 1 s on a busy machine), so there is no ratio either.
        return "0 (none complete)"
    ratio = result.get("ratios", {}).get(f"baize/{framework}", {}).get("median")
    shown = "–" if ratio is None else f"{ratio:.2f}x"
    return f"{median['rate']:,.0f} ({shown})"


def render_peers(document: Mapping[str, Any]) -> list[str]:
    """The Peers section, or nothing when no result measured a peer."""
    results: Sequence[Mapping[str, Any]] = document.get("results", [])
    measured = [r for r in results if r.get("peers")]
    installed: Mapping[str, str] = document.get("peers", {})
    if not measured and not installed:
        return []
    floors = noise_floor(results)
    columns = [f for f in FRAMEWORKS if f in ("raw", "starlette") or f in installed]
    lines = [
        "## Peers: baize beside the frameworks people pick instead",
        "",
        "Each cell: the framework's median rate (baize/framework, the median of the per-round"
        " ratios: above 1.00x baize is faster). Measured in the same interleaved rounds as raw,"
        " Starlette and baize. Targets: baize >= 1.0x each pure-Python peer (Starlette,"
        " sse-starlette, Litestar, Falcon, FastAPI); BlackSheep (Cython) is the compiled"
        " reference, not a target. A/A margin: the server's noise floor (see"
        ' "Noise floor (A/A)").',
        "",
        "Peers: "
        + ", ".join(f"{name} {installed[name]}" for name in peers.PEERS if name in installed)
        + ".",
        "",
    ]
    if not measured:
        return [*lines, "No scenario measured a peer.", ""]
    lines += [
        "| scenario | server | baize | " + " | ".join(columns) + " | A/A margin |",
        "|---|---|---|" + "---|" * (len(columns) + 1),
    ]
    order = list(dict.fromkeys(r["scenario"] for r in measured))
    for scenario in order:
        for r in (r for r in measured if r["scenario"] == scenario):
            baize = r.get("median", {}).get("baize", {}).get("rate")
            cells = [
                _cell(r, f) if f in ("raw", "starlette") or f in r["peers"] else "n/a"
                for f in columns
            ]
            margin = floors.get(r["server"], {}).get("margin")
            lines.append(
                f"| {scenario} ({r['unit']}) | {r['server']} |"
                f" {'–' if baize is None else f'{baize:,.0f}'} | "
                + " | ".join(cells)
                + f" | {'–' if margin is None else f'{margin:.3f}'} |"
            )
    return [*lines, ""]
