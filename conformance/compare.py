"""Compare two conformance reports: ``python -m conformance.compare OLD.json NEW.json``.

Prints, per server, the requirements whose outcome (the grid cell: worst outcome of its
results, :mod:`conformance.harness.verdicts`) changed, new failures first; exits 1 when some
``pass`` became ``fail`` or ``error``, 2 on a usage or file error, 0 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.harness.verdicts import aggregate, severity

ABSENT = "absent"
BAD = ("fail", "unexpected-pass", "error")


@dataclass(frozen=True)
class Change:
    """One (requirement, server) whose cell differs between the reports."""

    server: str
    requirement: str
    old: str
    new: str

    @property
    def regression(self) -> bool:
        """A pass that became a fail or a harness error: the exit status is 1."""
        return self.old == "pass" and self.new in ("fail", "error")

    @property
    def rank(self) -> int:
        """Sort key: new failures, other worsenings, additions/removals, improvements."""
        if self.new in BAD and self.old not in BAD:
            return 0
        if self.old == ABSENT or self.new == ABSENT:
            return 2
        if severity(self.new) < severity(self.old):
            return 1
        return 3


def cells(document: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(server, requirement) -> the worst outcome of its results."""
    worst = aggregate(document.get("results", []))
    return {(server, rid): str(result["outcome"]) for (rid, server), result in worst.items()}


def compare(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Every changed cell, ordered by server, then new failures first, then id."""
    before, after = cells(old), cells(new)
    changes = [
        Change(server, requirement, before.get(key, ABSENT), after.get(key, ABSENT))
        for key in sorted(set(before) | set(after))
        for server, requirement in [key]
        if before.get(key) != after.get(key)
    ]
    return sorted(changes, key=lambda c: (c.server, c.rank, c.requirement))


def _describe_run(document: dict[str, Any]) -> str:
    run = document.get("run", {})
    return (
        f"{run.get('impl', '?')} {run.get('impl_version') or '?'} "
        f"started {run.get('started', '?')}, catalogue {str(run.get('catalogue_sha256', '?'))[:12]}"
    )


def render(old: dict[str, Any], new: dict[str, Any], changes: list[Change]) -> str:
    """The text printed by the command."""
    lines = [f"old: {_describe_run(old)}", f"new: {_describe_run(new)}"]
    if old.get("run", {}).get("catalogue_sha256") != new.get("run", {}).get("catalogue_sha256"):
        lines.append("note: the requirement catalogues differ")
    if not changes:
        lines.append("no outcome changed")
        return "\n".join(lines) + "\n"
    server = None
    for change in changes:
        if change.server != server:
            server = change.server
            lines.append(f"\n{server}:")
        mark = "  REGRESSION" if change.regression else ""
        lines.append(f"  {change.requirement}: {change.old} -> {change.new}{mark}")
    regressions = sum(c.regression for c in changes)
    lines.append(f"\n{len(changes)} changed, {regressions} pass -> fail or error")
    return "\n".join(lines) + "\n"


def _load(path: str) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise SystemExit(f"cannot read {path}: {error}") from error
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        raise SystemExit(f"{path}: not a conformance report (no 'results' list)")
    return data


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m conformance.compare",
        description="Requirements whose outcome changed per server between two reports.",
    )
    parser.add_argument("old", help="the earlier conformance.json")
    parser.add_argument("new", help="the later conformance.json")
    args = parser.parse_args(argv)
    try:
        old, new = _load(args.old), _load(args.new)
    except SystemExit as error:
        sys.stderr.write(f"{error}\n")
        return 2
    changes = compare(old, new)
    sys.stdout.write(render(old, new, changes))
    return 1 if any(c.regression for c in changes) else 0


if __name__ == "__main__":
    raise SystemExit(main())
