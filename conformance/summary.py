"""Markdown summaries of a ``conformance.json`` report, for the README.

``python -m conformance.summary REPORT`` prints the server comparison: one row per server
configuration (version, what it offers, its server duties and the implementation on it at a
glance, its deviations and failures), then the server catalogue by area and the implementation
catalogue by area family, servers as columns. ``--impl-summary`` prints instead where the
implementation under test fails (one row per failing implementation requirement; server duties
and extensions not provided apart). ``--glance`` leaves out the column of deviations and
failures (of the implementation summary: its table). ``--readme FILE`` replaces the block
between ``<!-- NAME:start -->`` and ``<!-- NAME:end -->`` in FILE instead of printing (NAME is
``server-comparison`` or ``impl-summary``, or ``--marker``); ``--output FILE`` writes the block
to FILE (for the generated pages of ``reports/``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.harness.reportgrid import (
    Grid,
    Part,
    build_grid,
    declared_reason,
    deviation_link,
    glance,
    plural,
    split_detail,
)
from conformance.harness.serverconfig import ServerConfigError, load_servers
from conformance.harness.transport import declared_deviation, split_column
from conformance.harness.verdicts import (
    EXTENSION_LEVEL,
    FLAKY_LABEL,
    NOT_PROVIDED,
    aggregate,
    is_outcome,
)

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
        if not is_outcome(result["outcome"]):
            raise SummaryError(f"report {path}: unknown outcome {result['outcome']!r}")
    return data


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
        base, transport = split_column(name)  # an h2c/h2 column takes its server's configuration
        entry = recorded.get(name) or recorded.get(base, {})
        config = configs.get(base)
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
        reasons = {}
        if config is not None:
            flaky = transport_reasons(config.flaky, transport)
            reasons = {rid: FLAKY_LABEL + why for rid, why in flaky.items()}
            reasons.update(transport_reasons(config.deviations, transport))
        info[name] = ServerInfo(str(entry.get("version") or "?"), offers, reasons)
    return info


def transport_reasons(deviations: Mapping[str, str], transport: str) -> dict[str, str]:
    """Deviation reasons of one transport's column (:func:`transport.declared_deviation`)."""
    ids = {key.partition("@")[0] for key in deviations}
    return {rid: why for rid in ids if (why := declared_deviation(deviations, rid, transport))}


def _cell_text(text: str) -> str:
    """One line, safe inside a Markdown table cell."""
    line = " ".join(text.split())
    if len(line) > DETAIL_WIDTH:
        line = line[: DETAIL_WIDTH - 1].rstrip() + "…"
    return line.replace("|", "\\|")


def first_line(detail: str) -> str:
    """The first non-empty line of a result's detail."""
    return next((line.strip() for line in detail.splitlines() if line.strip()), "(no detail)")


def _what_happened(result: Mapping[str, Any]) -> str:
    """The first line of what happened (the server log left out)."""
    return first_line(split_detail(dict(result))[0])


def _reason(result: Mapping[str, Any], toml_reasons: Mapping[str, str]) -> str:
    """A deviation's declared reason (the report's, else the TOML's) with its issue link."""
    text = declared_reason(dict(result)) or toml_reasons.get(
        result["requirement"], "(no reason recorded)"
    )
    link = deviation_link({**result, "reason": text})
    text = _cell_text(text)
    return f"{text} ([issue]({link}))" if link and link not in text else text


def _run_line(run: Mapping[str, Any]) -> str:
    version = run.get("impl_version") or "(unknown version)"
    started = str(run.get("started") or "")[:10]
    when = f", run {started}" if started else ""
    return f"Implementation `{run['impl']}` {version} on {run['python']}{when}."


def _families(part: Part) -> Part:
    """The part with its areas merged by family (the area name before ``:``)."""
    families: dict[str, list[dict[str, Any]]] = {}
    for area, rows in part.areas:
        families.setdefault(area.split(":", 1)[0].strip(), []).extend(rows)
    return Part(part.subject, list(families.items()))


def _alarming(text: str) -> bool:
    """Whether a glance text counts failures, unexpected passes or harness errors."""
    return any(word in text for word in (" FAIL", " XPASS", " ERROR"))


def _glance_table(grid: Grid, part: Part, heading: str) -> list[str]:
    out = [f"| {heading} | " + " | ".join(f"`{s}`" for s in grid.servers) + " |"]
    out.append("|---|" + ":-:|" * len(grid.servers))
    for area, texts in glance(grid, part):
        cells = [f"**{t}**" if _alarming(t) else t for t in texts]
        out.append(f"| {_cell_text(area)} | " + " | ".join(cells) + " |")
    return out


def _notes(data: Mapping[str, Any], grid: Grid, name: str, reasons: Mapping[str, str]) -> list[str]:
    """A configuration's deviations and failures, server duties first."""
    notes = []
    for part in grid.parts:
        for rid in sorted(part.ids):
            result = grid.worst.get((rid, name))
            if result is None:
                continue
            shown = grid.counts_as(rid, name, result["outcome"])
            if shown == "deviation":
                notes.append(f"`{rid}`: {_reason(result, reasons)}")
            elif shown == "fail":
                notes.append(f"`{rid}`: **fails** ({_cell_text(_what_happened(result))})")
            elif shown == "error":
                notes.append(f"`{rid}`: harness error ({_cell_text(_what_happened(result))})")
            elif shown == NOT_PROVIDED:
                notes.append(f"`{rid}`: {grid.why_not_provided(rid, name)}")
            elif shown == "unexpected-pass":
                notes.append(f"`{rid}`: declared but passes")
            elif shown == "pass" and result.get("flaky") is True:
                why = _cell_text(declared_reason(dict(result)).removeprefix(FLAKY_LABEL))
                notes.append(f"`{rid}`: flaky, passed this run ({why})")
    return notes


def server_comparison(
    data: Mapping[str, Any],
    servers_dir: Path | None,
    title: str | None = "Server comparison",
    notes: bool = True,
) -> str:
    """The Markdown comparison of the report's server configurations.

    :param servers_dir: where ``NAME.toml`` live (offers, deviation reasons).
    :param title: a ``###`` heading; ``None`` or empty for none.
    :param notes: with the column of each configuration's deviations and failures (else the
        comparison at a glance).
    """
    info = server_info(data, servers_dir)
    grid = build_grid(dict(data))
    parts = {part.subject: part for part in grid.parts}
    out = [f"### {title}", ""] if title else []
    total = len({r["id"] for r in data["requirements"]})
    tested = len({r["requirement"] for r in data["results"]})
    sizes = ", ".join(f"{len(p.ids)} {p.subject}" for p in grid.parts)
    out += [
        f"{_run_line(data['run'])} {total} requirements in the catalogue ({sizes}), {tested} "
        "with results. A cell reads passed/judged (not-applicable left out), then the "
        "requirements per other verdict (with several cases, the worst): FAIL, XPASS "
        "(declared but passes), ERROR (no verdict: harness error), no ext (extension not "
        "provided), dev (declared deviation).",
        "",
    ]
    columns = [
        "server duties" if p.subject == "server" else f"`{data['run']['impl']}` on it"
        for p in grid.parts
    ]
    head = ["configuration", "version", "offers", *columns]
    head += ["deviations and failures"] if notes else []
    out.append("| " + " | ".join(head) + " |")
    out.append("|---|---|---|" + ":-:|" * len(columns) + ("---|" if notes else ""))
    for name in server_names(data):
        row = [f"`{name}`", info[name].version, info[name].offers]
        for part in grid.parts:
            whole = Part(part.subject, [("all", [grid.rows[rid] for rid in part.ids])])
            text = glance(grid, whole)[0][1][grid.servers.index(name)]
            row.append(f"**{text}**" if _alarming(text) else text)
        if notes:
            row.append("<br>".join(_notes(data, grid, name, info[name].reasons)) or "none")
        out.append("| " + " | ".join(row) + " |")
    if "server" in parts:
        out += ["", "Server duties by area (each server's own requirements):", ""]
        out += _glance_table(grid, parts["server"], "server area")
    if "implementation" in parts:
        out += ["", f"`{data['run']['impl']}` on each server, by area:", ""]
        out += _glance_table(grid, _families(parts["implementation"]), "implementation area")
    return "\n".join(out) + "\n"


def impl_summary(data: Mapping[str, Any], title: str | None = None, table: bool = True) -> str:
    """Where the implementation under test fails: one row per implementation requirement that
    fails on at least one server, with on how many servers and the first line of the first
    failure; then the extensions it does not provide. Server duties are never counted here.

    :param title: a ``###`` heading; ``None`` for ``Where IMPL VERSION fails``, empty for none.
    :param table: with the table of failing requirements (else the counts alone).
    """
    run = data["run"]
    if title is None:
        version = run.get("impl_version") or "(unknown version)"
        title = f"Where {run['impl']} {version} fails"
    grid = build_grid(dict(data))
    implementation = {rid for p in grid.parts if p.subject == "implementation" for rid in p.ids}
    failing: dict[str, list[dict[str, Any]]] = {}
    missing: dict[str, list[str]] = {}
    tested: dict[str, set[str]] = {}
    for (rid, server), result in sorted(aggregate(data["results"]).items()):
        if rid not in implementation:
            continue
        tested.setdefault(rid, set()).add(server)
        shown = grid.counts_as(rid, server, result["outcome"])
        if shown == "fail":
            failing.setdefault(rid, []).append(result)
        elif shown == NOT_PROVIDED:
            missing.setdefault(rid, []).append(server)
    out = [f"### {title}", ""] if title else []
    out.append(
        f"{_run_line(run)} {len(failing)} of {len(tested)} implementation requirements tested "
        "fail on at least one server"
        + (f"; {plural(len(missing), 'extension')} not provided." if missing else ".")
    )
    if not table:
        return "\n".join(out) + "\n"
    if failing:
        out += ["", "| requirement | source | fails on | first failure |", "|---|---|---|---|"]
    for rid in sorted(failing):
        results = failing[rid]
        servers = [r["server"] for r in results]
        where = f"{len(servers)} of {len(tested[rid])}"
        if len(servers) < len(tested[rid]):
            where += " (" + ", ".join(servers) + ")"
        spec = grid.rows[rid]
        source = _cell_text(f"{spec['source']} {spec['clause']}".strip()) or "?"
        detail = f"{servers[0]}: {_what_happened(results[0])}"
        out.append(f"| `{rid}` | {source} | {where} | {_cell_text(detail)} |")
    if missing:
        listed = ", ".join(
            f"`{rid}`" + ("" if grid.rows[rid]["level"] == EXTENSION_LEVEL else " (trio)")
            for rid in sorted(missing)
        )
        out += [
            "",
            "Extensions not provided (EXT requirements, and failures under trio: trio "
            f"(extension) not provided; never API failures): {listed}.",
        ]
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
    parser.add_argument("--output", type=Path, help="write the block to this file instead")
    parser.add_argument(
        "--glance",
        action="store_true",
        help="the server comparison without its notes column; the implementation summary "
        "without its table",
    )
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
            block = impl_summary(data, args.title, table=not args.glance)
            marker = args.marker or "impl-summary"
        else:
            title = "Server comparison" if args.title is None else args.title
            block = server_comparison(data, args.servers_dir, title, notes=not args.glance)
            marker = args.marker or "server-comparison"
        note = (
            f"<!-- generated from {args.report.name} by `python -m conformance.summary`: "
            "do not edit by hand -->\n"
        )
        if args.output is not None:
            try:
                args.output.write_text(note + block, encoding="utf-8")
            except OSError as error:
                raise SummaryError(f"cannot write {args.output}: {error.strerror}") from error
            return 0
        if args.readme is None:
            sys.stdout.write(block)
            return 0
        try:
            text = args.readme.read_text(encoding="utf-8")
        except OSError as error:
            raise SummaryError(f"cannot read {args.readme}: {error.strerror}") from error
        args.readme.write_text(
            replace_block(text, marker, note + block, str(args.readme)), encoding="utf-8"
        )
    except SummaryError as error:
        print(f"conformance.summary: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
