"""Merge per-server reports: ``python -m conformance.merge A.json B.json ... --out DIR``.

For a matrix split across CI jobs (one ``--server`` each): the reports must come from the same
requirement catalogue (``catalogue_sha256``), the same implementation and version, and the
same ``--requirement`` selection; a server may appear in one report only, unless
``--prefer-last`` keeps its results from the last report naming it. Writes
``DIR/NAME.json`` (the same document and provenance fields as one run of every server), and
the Markdown and HTML renderings (:mod:`conformance.harness.reportfiles`, as a run writes them).

The document is treated as opaque where possible: results and requirements are passed through
unchanged; only ``run`` (provenance) and the per-server parts are combined. Exit status 0,
or 2 when a file cannot be read or the reports cannot be merged (the message names why).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from conformance.harness.reportfiles import write_reports

# Top-level keys this module knows how to combine; any other must be equal in every report.
KNOWN_KEYS = ("run", "requirements", "results", "open_behaviours")
# Provenance fields shared by the shards: a differing value is listed, "a | b".
SHARED_FIELDS = ("impl_file", "python", "platform", "harness_version", "harness_python")


class MergeError(ValueError):
    """The reports cannot be merged; the message names the files and the difference."""


@dataclass(frozen=True)
class Shard:
    """One input report."""

    path: str
    data: dict[str, Any]

    @property
    def run(self) -> dict[str, Any]:
        run: dict[str, Any] = self.data["run"]
        return run

    def server_names(self) -> list[str]:
        """Servers of the report: those described in ``run``, then any other with results."""
        names = [str(server["name"]) for server in self.run.get("servers", [])]
        for result in self.data["results"]:
            if str(result["server"]) not in names:
                names.append(str(result["server"]))
        return names


def load(path: str) -> Shard:
    """Read one ``conformance.json``.

    :raises MergeError: unreadable, not JSON, or not a conformance report.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise MergeError(f"cannot read {path}: {error}") from error
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("run"), dict)
        or not isinstance(data.get("results"), list)
        or not isinstance(data.get("requirements"), list)
    ):
        raise MergeError(
            f"{path}: not a conformance report (needs 'run', 'requirements', 'results')"
        )
    return Shard(path, data)


def _implementation(run: dict[str, Any]) -> str:
    return f"{run.get('impl')} {run.get('impl_version') or '(unknown version)'}"


def _selection(run: dict[str, Any]) -> str:
    selected = run.get("requirements_selected") or []
    return ", ".join(f"{prefix}*" for prefix in selected) or "every requirement"


def check_compatible(shards: Sequence[Shard]) -> None:
    """Same catalogue, implementation and version, and selection in every report.

    :raises MergeError: naming the field and each file's value.
    """
    checks = (
        ("catalogue_sha256", lambda run: str(run.get("catalogue_sha256"))),
        ("implementation", _implementation),
        ("requirement selection", _selection),
    )
    for label, describe in checks:
        values = {shard.path: describe(shard.run) for shard in shards}
        if len(set(values.values())) > 1:
            listed = "; ".join(f"{path}: {value}" for path, value in values.items())
            raise MergeError(f"the reports differ in {label}: {listed}")


def _owners(shards: Sequence[Shard], prefer_last: bool) -> dict[str, int]:
    """Server name -> index of the report whose results are kept."""
    owners: dict[str, int] = {}
    for index, shard in enumerate(shards):
        for name in shard.server_names():
            if name in owners and not prefer_last:
                raise MergeError(
                    f"server {name} is in both {shards[owners[name]].path} and {shard.path} "
                    "(--prefer-last keeps the later one)"
                )
            owners[name] = index
    return owners


def _shared(values: list[Any]) -> Any:
    distinct = list(dict.fromkeys(values))
    return distinct[0] if len(distinct) == 1 else " | ".join(str(v) for v in distinct)


def _timespan(runs: list[dict[str, Any]]) -> tuple[str, float]:
    """Earliest start and the wall time from it to the last end (jobs may run in parallel)."""
    try:
        starts = [datetime.fromisoformat(str(run["started"])) for run in runs]
        ends = [
            s + timedelta(seconds=float(r["duration_s"])) for s, r in zip(starts, runs, strict=True)
        ]
        first = min(starts)
        return first.isoformat(timespec="seconds"), round((max(ends) - first).total_seconds(), 2)
    except (KeyError, TypeError, ValueError):  # mixed or missing timestamps: keep the first
        return str(runs[0].get("started")), max(float(r.get("duration_s", 0)) for r in runs)


def _merge_run(shards: Sequence[Shard], owners: dict[str, int]) -> dict[str, Any]:
    runs = [shard.run for shard in shards]
    run = dict(runs[0])
    for field in SHARED_FIELDS:
        if any(field in r for r in runs):
            run[field] = _shared([r.get(field) for r in runs])
    run["asgi_validation"] = all(r.get("asgi_validation", True) for r in runs)
    run["started"], run["duration_s"] = _timespan(runs)
    run["servers"] = [
        server
        for index, shard in enumerate(shards)
        for server in shard.run.get("servers", [])
        if owners.get(str(server["name"])) == index
    ]
    run["merged_from"] = [
        {
            "file": shard.path,
            "started": shard.run.get("started"),
            "duration_s": shard.run.get("duration_s"),
            "servers": [name for name in shard.server_names() if owners[name] == index],
        }
        for index, shard in enumerate(shards)
    ]
    return run


def _merge_open_behaviours(shards: Sequence[Shard], owners: dict[str, int]) -> dict[str, Any]:
    """Each behaviour's ``servers`` facts from the report that owns the server."""
    merged: dict[str, Any] = {}
    for index, shard in enumerate(shards):
        for key, behaviour in (shard.data.get("open_behaviours") or {}).items():
            target = merged.setdefault(key, {k: v for k, v in behaviour.items() if k != "servers"})
            facts = behaviour.get("servers", {})
            kept = {name: fact for name, fact in facts.items() if owners.get(name) == index}
            target.setdefault("servers", {}).update(kept)
    return merged


def merge(shards: Sequence[Shard], prefer_last: bool = False) -> dict[str, Any]:
    """One report of every server of ``shards``.

    :raises MergeError: incompatible reports, a server in two reports (without
        ``prefer_last``), or a top-level part this module cannot combine that differs.
    """
    if not shards:
        raise MergeError("no report to merge")
    check_compatible(shards)
    owners = _owners(shards, prefer_last)
    requirements: dict[str, Any] = {}
    for shard in shards:
        for requirement in shard.data["requirements"]:
            requirements.setdefault(str(requirement["id"]), requirement)
    results = [
        result
        for index, shard in enumerate(shards)
        for result in shard.data["results"]
        if owners[str(result["server"])] == index
    ]
    results.sort(key=lambda r: (r["requirement"], r["server"], r["case"]))
    merged: dict[str, Any] = {
        "run": _merge_run(shards, owners),
        "requirements": list(requirements.values()),
        "results": results,
        "open_behaviours": _merge_open_behaviours(shards, owners),
    }
    for shard in shards:
        for key, value in shard.data.items():
            if key in KNOWN_KEYS:
                continue
            if key in merged and merged[key] != value:
                raise MergeError(f"{shard.path}: its {key!r} differs and cannot be merged")
            merged.setdefault(key, value)
    return merged


def write(data: dict[str, Any], directory: Path, name: str = "conformance") -> list[Path]:
    """``directory/name.{json,md,html}``, written as a run writes them; the paths written."""
    html = write_reports(directory, name, data)
    return [html.with_suffix(".json"), html.with_suffix(".md"), html]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m conformance.merge",
        description="Merge per-server conformance reports of one catalogue into one report.",
    )
    parser.add_argument("reports", nargs="+", metavar="REPORT.json", help="per-server reports")
    parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="output folder")
    parser.add_argument(
        "--name", default="conformance", help="base name of the files (default: conformance)"
    )
    parser.add_argument(
        "--prefer-last",
        action="store_true",
        help="a server in several reports: keep the results of the last one",
    )
    args = parser.parse_args(argv)
    if not args.name or "/" in args.name or args.name.startswith("."):
        parser.error(f"--name {args.name!r}: a plain file name is needed")
    try:
        data = merge([load(path) for path in args.reports], prefer_last=args.prefer_last)
        paths = write(data, args.out, args.name)
    except (MergeError, OSError) as error:
        sys.stderr.write(f"cannot merge: {error}\n")
        return 2
    servers = ", ".join(str(s["name"]) for s in data["run"]["servers"])
    sys.stdout.write(
        f"merged {len(args.reports)} reports ({servers}; {len(data['results'])} results) "
        f"into {', '.join(map(str, paths))}\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
