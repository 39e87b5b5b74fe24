"""Markdown summaries of a ``conformance.json`` report, for the README.

``python -m conformance.summary REPORT`` prints the server comparison (one row per server
configuration: version, what it offers, verdict counts, its deviations and failures).
``--impl-summary`` prints instead where the implementation under test fails (one row per
failing requirement). ``--readme FILE`` replaces the block between
``<!-- NAME:start -->`` and ``<!-- NAME:end -->`` in FILE instead of printing (NAME is
``server-comparison`` or ``impl-summary``, or ``--marker``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.harness.report import SEVERITY
from conformance.harness.serverconfig import ServerConfigError, load_servers

DECLARED = "declared deviation: "
DETAIL_WIDTH = 160


class SummaryError(ValueError):
    """The report, the server configurations or the README cannot be used; says why."""


@dataclass(frozen=True)
class ServerInfo:
    """What the comparison shows of one configuration besides its verdicts."""

    version: str
    offers: str
    reasons: Mapping[str, str]


def load_report(path: Path) -> dict[str, Any]:
    """Read and minimally validate a ``conformance.json``.

    :raises SummaryError: unreadable file, bad JSON or missing keys.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise SummaryError(f"cannot read report {path}: {error.strerror}") from error
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise SummaryError(f"report {path} is not valid JSON: {error}") from error
    if not isinstance(data, dict) or not {"run", "requirements", "results"} <= set(data):
        raise SummaryError(f"report {path} lacks 'run', 'requirements' or 'results'")
    for result in data["results"]:
        if not {"requirement", "server", "outcome", "detail"} <= set(result):
            raise SummaryError(f"report {path}: malformed result {result!r}")
        if result["outcome"] not in SEVERITY:
            raise SummaryError(f"report {path}: unknown outcome {result['outcome']!r}")
    return data


def cells(data: Mapping[str, Any]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Results grouped by (server, requirement), worst verdict first."""
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for result in data["results"]:
        grouped.setdefault((result["server"], result["requirement"]), []).append(result)
    for results in grouped.values():
        results.sort(key=lambda r: SEVERITY.index(r["outcome"]))
    return grouped


def server_names(data: Mapping[str, Any]) -> list[str]:
    """The run's configurations in report order, then any seen only in results."""
    names = [s["name"] for s in data["run"]["servers"]]
    return names + sorted({r["server"] for r in data["results"]} - set(names))


def describe_offers(offers: Mapping[str, Any]) -> str:
    """``HTTP/2, trio, `ext`, ...`` or ``–`` for a configuration offering nothing optional."""
    parts = [label for key, label in (("http2", "HTTP/2"), ("trio", "trio")) if offers.get(key)]
    parts += [f"`{extension}`" for extension in sorted(offers.get("extensions", []))]
    return ", ".join(parts) or "–"


def server_info(data: Mapping[str, Any], servers_dir: Path | None) -> dict[str, ServerInfo]:
    """Version and offers per configuration: from ``run.servers`` when the report carries
    ``offers``, else from ``servers_dir/NAME.toml``; deviation reasons from the TOML.

    :raises SummaryError: a configuration's offers are in neither place.
    """
    try:
        configs = load_servers(servers_dir) if servers_dir and servers_dir.is_dir() else {}
    except ServerConfigError as error:
        raise SummaryError(str(error)) from error
    recorded = {s["name"]: s for s in data["run"]["servers"]}
    info: dict[str, ServerInfo] = {}
    for name in server_names(data):
        entry = recorded.get(name, {})
        config = configs.get(name)
        if "offers" in entry:
            offers = describe_offers(entry["offers"])
        elif config is not None:
            offers = describe_offers(
                {
                    "http2": config.offers.http2,
                    "trio": config.offers.trio,
                    "extensions": config.offers.extensions,
                }
            )
        else:
            where = servers_dir / f"{name}.toml" if servers_dir else "a servers directory"
            raise SummaryError(
                f"server {name!r}: the report records no offers and {where} does not exist "
                "(pass --servers-dir)"
            )
        reasons = dict(config.deviations) if config is not None else {}
        info[name] = ServerInfo(str(entry.get("version") or "?"), offers, reasons)
    return info


def _cell_text(text: str) -> str:
    """One line, safe inside a Markdown table cell."""
    line = " ".join(text.split())
    if len(line) > DETAIL_WIDTH:
        line = line[: DETAIL_WIDTH - 1].rstrip() + "…"
    return line.replace("|", "\\|")


def first_line(detail: str) -> str:
    """The first non-empty line of a result's detail."""
    return next((line.strip() for line in detail.splitlines() if line.strip()), "(no detail)")


def _reason(result: Mapping[str, Any], toml_reasons: Mapping[str, str]) -> str:
    line = first_line(result["detail"])
    if line.startswith(DECLARED):
        return line.removeprefix(DECLARED)
    return toml_reasons.get(result["requirement"], "(no reason recorded)")


def _run_line(run: Mapping[str, Any]) -> str:
    version = run.get("impl_version") or "(unknown version)"
    started = str(run.get("started") or "")[:10]
    when = f", run {started}" if started else ""
    return f"Implementation `{run['impl']}` {version} on {run['python']}{when}."


def server_comparison(
    data: Mapping[str, Any], servers_dir: Path | None, title: str | None = "Server comparison"
) -> str:
    """The Markdown comparison of the report's server configurations.

    :param servers_dir: where ``NAME.toml`` live (offers, deviation reasons).
    :param title: a ``###`` heading; ``None`` or empty for none.
    """
    info = server_info(data, servers_dir)
    grouped = cells(data)
    columns = ["pass", "fail", "deviation", "not-applicable"]
    if any(r["outcome"] == "unexpected-pass" for r in data["results"]):
        columns.append("unexpected-pass")
    out = [f"### {title}", ""] if title else []
    total = len({r["id"] for r in data["requirements"]})
    tested = len({r["requirement"] for r in data["results"]})
    out += [
        f"{_run_line(data['run'])} {total} requirements in the catalogue, {tested} with "
        "results; the counts are requirements per verdict (with several cases, the worst).",
        "",
        "| configuration | version | offers | "
        + " | ".join(columns)
        + " | deviations and failures |",
        "|---|---|---|" + "---:|" * len(columns) + "---|",
    ]
    for name in server_names(data):
        worst = {rid: rs[0] for (server, rid), rs in sorted(grouped.items()) if server == name}
        counts = [sum(1 for r in worst.values() if r["outcome"] == c) for c in columns]
        notes = []
        for rid, result in worst.items():
            if result["outcome"] == "deviation":
                notes.append(f"`{rid}`: {_cell_text(_reason(result, info[name].reasons))}")
            elif result["outcome"] == "fail":
                notes.append(f"`{rid}`: **fails** ({_cell_text(first_line(result['detail']))})")
            elif result["outcome"] == "unexpected-pass":
                notes.append(f"`{rid}`: declared but passes")
        row = [f"`{name}`", info[name].version, info[name].offers, *map(str, counts)]
        row.append("<br>".join(notes) or "none")
        out.append("| " + " | ".join(row) + " |")
    return "\n".join(out) + "\n"


def impl_summary(data: Mapping[str, Any], title: str | None = None) -> str:
    """Where the implementation under test fails: one row per requirement that fails on at
    least one server, with on how many servers and the first line of the first failure.

    :param title: a ``###`` heading; ``None`` for ``Where IMPL VERSION fails``, empty for none.
    """
    run = data["run"]
    if title is None:
        version = run.get("impl_version") or "(unknown version)"
        title = f"Where {run['impl']} {version} fails"
    requirements = {r["id"]: r for r in data["requirements"]}
    failing: dict[str, list[dict[str, Any]]] = {}
    tested: dict[str, set[str]] = {}
    for (server, rid), results in sorted(cells(data).items()):
        tested.setdefault(rid, set()).add(server)
        if results[0]["outcome"] == "fail":
            failing.setdefault(rid, []).append(results[0])
    out = [f"### {title}", ""] if title else []
    out.append(
        f"{_run_line(run)} {len(failing)} of {len(tested)} requirements tested fail on at "
        "least one server."
    )
    if not failing:
        return "\n".join(out) + "\n"
    out += ["", "| requirement | source | fails on | first failure |", "|---|---|---|---|"]
    for rid in sorted(failing):
        results = failing[rid]
        servers = [r["server"] for r in results]
        where = f"{len(servers)} of {len(tested[rid])}"
        if len(servers) < len(tested[rid]):
            where += " (" + ", ".join(servers) + ")"
        spec = requirements.get(rid, {})
        source = _cell_text(f"{spec.get('source', '')} {spec.get('clause', '')}".strip()) or "?"
        detail = f"{servers[0]}: {first_line(results[0]['detail'])}"
        out.append(f"| `{rid}` | {source} | {where} | {_cell_text(detail)} |")
    return "\n".join(out) + "\n"


def replace_block(text: str, marker: str, block: str, where: str) -> str:
    """``text`` with the lines between ``<!-- marker:start -->`` and ``<!-- marker:end -->``
    replaced by ``block`` (the marker lines stay).

    :raises SummaryError: a marker is missing, repeated, or the end comes first.
    """
    start, end = f"<!-- {marker}:start -->", f"<!-- {marker}:end -->"
    for tag in (start, end):
        found = text.count(tag)
        if found != 1:
            problem = "is missing" if found == 0 else f"appears {found} times"
            raise SummaryError(
                f"{where}: marker {tag} {problem}; the generated block goes between "
                f"{start} and {end}, each on its own line"
            )
    head, rest = text.split(start)
    if end not in rest:
        raise SummaryError(f"{where}: {end} comes before {start}")
    _, tail = rest.split(end)
    return f"{head}{start}\n{block.rstrip()}\n{end}{tail}"


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry; prints the summary or rewrites the README block."""
    parser = argparse.ArgumentParser(
        prog="python -m conformance.summary",
        description="Generate the README's server comparison (or an implementation's "
        "failure summary) from a conformance.json report.",
    )
    parser.add_argument("report", type=Path, help="a conformance.json")
    parser.add_argument("--readme", type=Path, help="rewrite the marked block of this file")
    parser.add_argument("--title", help="heading of the block ('' for none)")
    parser.add_argument(
        "--impl-summary",
        action="store_true",
        help="summarise the implementation's failures per requirement instead",
    )
    parser.add_argument("--marker", help="marker NAME in <!-- NAME:start --> (default by mode)")
    parser.add_argument(
        "--servers-dir",
        type=Path,
        default=Path("servers"),
        help="server TOMLs for offers and deviation reasons (default: servers)",
    )
    args = parser.parse_args(argv)
    try:
        data = load_report(args.report)
        if args.impl_summary:
            block = impl_summary(data, args.title)
            marker = args.marker or "impl-summary"
        else:
            title = "Server comparison" if args.title is None else args.title
            block = server_comparison(data, args.servers_dir, title)
            marker = args.marker or "server-comparison"
        if args.readme is None:
            sys.stdout.write(block)
            return 0
        try:
            text = args.readme.read_text(encoding="utf-8")
        except OSError as error:
            raise SummaryError(f"cannot read {args.readme}: {error.strerror}") from error
        note = (
            f"<!-- generated from {args.report.name} by `python -m conformance.summary`: "
            "do not edit by hand -->\n"
        )
        args.readme.write_text(
            replace_block(text, marker, note + block, str(args.readme)), encoding="utf-8"
        )
    except SummaryError as error:
        print(f"conformance.summary: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
