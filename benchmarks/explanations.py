"""Why a target was missed: hand-written explanations attached to the MISS verdicts of a run.

``benchmarks/explanations.toml`` holds one ``[[explanation]]`` per known cause, written after
a measurement that shows it (``bench_breakdown`` under a server, an in-process profile)::

    [[explanation]]
    target = "json-router >= 0.85x raw ASGI"     # a target's name, or a list of names
    scenarios = ["json-router"]                   # optional: every scenario of the target
    servers = ["granian"]                         # optional: every server
    text = "What costs the time, with the numbers."
    measured = "python -m benchmarks.bench_breakdown --server granian"

Each MISS gets the first explanation that matches it (``explanation`` in the JSON verdict);
a MISS that none matches is shown as *not explained* in the report, so that a new miss is
never passed over. ``python -m benchmarks.explanations [DIR]`` re-renders ``DIR``'s
``performance.md`` (default ``reports/``) after this file changed, without measuring again.
"""

from __future__ import annotations

import json
import sys
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EXPLANATIONS_FILE = Path(__file__).with_name("explanations.toml")
KEYS = {"target", "scenarios", "servers", "text", "measured"}


@dataclass(frozen=True)
class Explanation:
    """The cause of the misses of ``targets`` on ``scenarios`` x ``servers`` (empty: any)."""

    targets: tuple[str, ...]
    text: str
    measured: str
    scenarios: tuple[str, ...] = ()
    servers: tuple[str, ...] = ()

    def covers(self, verdict: Mapping[str, Any]) -> bool:
        return (
            verdict["target"] in self.targets
            and (not self.scenarios or verdict["scenario"] in self.scenarios)
            and (not self.servers or verdict["server"] in self.servers)
        )


def load(path: Path = EXPLANATIONS_FILE, targets: Sequence[str] | None = None) -> list[Explanation]:
    """The explanations of ``path``; a malformed entry is a ``ValueError`` naming it."""
    document = tomllib.loads(path.read_text(encoding="utf-8"))
    entries = document.get("explanation", [])
    explanations = []
    for number, entry in enumerate(entries, start=1):
        where = f"{path}: explanation {number}"
        unknown = set(entry) - KEYS
        missing = {"target", "text", "measured"} - set(entry)
        if unknown or missing:
            raise ValueError(f"{where}: unknown keys {sorted(unknown)}, missing {sorted(missing)}")
        named = entry["target"] if isinstance(entry["target"], list) else [entry["target"]]
        for name in named:
            if targets is not None and name not in targets:
                raise ValueError(f"{where}: no target is named {name!r}")
        explanations.append(
            Explanation(
                targets=tuple(named),
                text=" ".join(entry["text"].split()),
                measured=entry["measured"],
                scenarios=tuple(entry.get("scenarios", ())),
                servers=tuple(entry.get("servers", ())),
            )
        )
    return explanations


def attach(verdicts: Sequence[dict[str, Any]], explanations: Sequence[Explanation]) -> None:
    """Give each MISS of ``verdicts`` the text of the first explanation covering it."""
    for verdict in verdicts:
        verdict.pop("explanation", None)
        if verdict["verdict"] != "MISS":
            continue
        for explanation in explanations:
            if explanation.covers(verdict):
                verdict["explanation"] = {
                    "text": explanation.text,
                    "measured": explanation.measured,
                }
                break


def render(verdicts: Sequence[Mapping[str, Any]]) -> list[str]:
    """The "Misses explained" section: each cause once, with the misses it covers."""
    misses = [v for v in verdicts if v["verdict"] == "MISS"]
    if not misses:
        return []
    lines = [
        "## Misses explained",
        "",
        "Each MISS of the targets above with its cause, as measured by the command named"
        " (`benchmarks/explanations.toml`). A miss *within noise* is listed too: the run"
        " cannot tell it from noise, which is not the same as meeting the target.",
        "",
    ]
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for verdict in misses:
        explanation = verdict.get("explanation") or {}
        key = (explanation.get("text", ""), explanation.get("measured", ""))
        groups.setdefault(key, []).append(verdict)
    for (text, measured), group in groups.items():
        covered = ", ".join(
            f"{v['target']} on {v['server']} {v['scenario']} ({_value(v)})" for v in group
        )
        lines.append(f"- **{covered}**")
        if text:
            lines += [f"  {text}", f"  Measured by `{measured}`."]
        else:
            lines.append("  *Not explained*: no entry of `benchmarks/explanations.toml` covers it.")
        lines.append("")
    return lines


def _value(verdict: Mapping[str, Any]) -> str:
    value = verdict.get("value")
    shown = "–" if value is None else f"{value:.3f}x"
    return shown + (", within noise" if verdict.get("note") else "")


def rerender(directory: Path) -> None:
    """Attach the current explanations to ``directory``'s report and rewrite both files."""
    from benchmarks import report, report_markdown

    json_path = directory / "performance.json"
    document = json.loads(json_path.read_text(encoding="utf-8"))
    names = [target.name for target in report.TARGETS]
    attach(document.get("targets", []), load(targets=names))
    json_path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    (directory / "performance.md").write_text(report_markdown.render_markdown(document))


if __name__ == "__main__":
    rerender(Path(sys.argv[1] if len(sys.argv) > 1 else "reports"))
