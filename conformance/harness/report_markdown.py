"""The Markdown report: overview, summary and glance per catalogue part (server duties, then the
implementation), failures, harness errors, extensions not provided, deviations, then the grid
of every requirement, part by part."""

from __future__ import annotations

import html
import re
from typing import Any

from conformance.harness.report_facts import fact_sections
from conformance.harness.reportgrid import (
    FAILING,
    FLAGGED,
    LABELS,
    NO_RESULT,
    PART_INTROS,
    PART_TITLES,
    SUMMARY_ORDER,
    TRIO_NOT_PROVIDED,
    Grid,
    Part,
    build_grid,
    declared_reason,
    deviation_link,
    flaky_passes,
    glance,
    notable,
    overview_parts,
    plural,
    provenance,
    reason,
    root_path_rows,
    run_line,
    short,
    split_detail,
)
from conformance.harness.verdicts import FLAKY_LABEL, NOT_PROVIDED

SOURCE_WIDTH = 40  # characters of source/clause shown in a Markdown cell
ANCHORS = {
    "failures": "failures-and-unexpected-passes",
    "errors": "harness-errors",
    "not-provided": "extensions-not-provided",
    "deviations": "deviations",
}


def slug(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading (lower case, punctuation dropped)."""
    kept = re.sub(r"[^\w\- ]", "", heading.lower())
    return kept.replace(" ", "-")


def md(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def _quote_lines(text: str) -> list[str]:
    return [f"> {html.escape(line, quote=False)}" if line else ">" for line in text.splitlines()]


def _result(result: dict[str, Any], requirement: dict[str, Any] | None) -> list[str]:
    """One result, h2spec style: the clause quoted, what is accepted, what happened."""
    main, heading, log = split_detail(result)
    label = LABELS[result["outcome"]]
    out = [f"### {label}: `{result['requirement']}` on {result['server']}", ""]
    if requirement:
        where = f"{requirement['source']} {requirement['clause']}".strip()
        level = requirement.get("level") or ""
        if requirement.get("quote"):
            out += [*_quote_lines(requirement["quote"]), ">", f"> — {where} ({level})", ""]
        elif where:
            out += [f"{where} ({level})" if level else where, ""]
        if requirement.get("text"):
            out += [f"Accepted: {html.escape(requirement['text'], quote=False)}", ""]
    main = main or reason(result) or "(no detail)"
    out += [f"What happened (case `{result['case']}`):", "", "```", main, "```", ""]
    if log:
        out += [f"<details><summary>{heading}</summary>", "", "```", log, "```", "", "</details>"]
        out.append("")
    return out


def _summary(grid: Grid, part: Part, versions: dict[str, Any]) -> list[str]:
    columns = [c for c in SUMMARY_ORDER if c != NOT_PROVIDED or part.subject != "server"]
    out = ["| server | version | " + " | ".join(LABELS[c] for c in columns) + f" | {NO_RESULT} |"]
    out.append("|---|---|" + "---:|" * (len(columns) + 1))
    for server in grid.servers:
        counts = grid.counts(server, part.ids)
        cells = " | ".join(
            f"**{counts[c]}**" if counts[c] and c in FAILING else str(counts[c])
            for c in (*columns, NO_RESULT)
        )
        out.append(f"| {server} | {versions.get(server) or '?'} | {cells} |")
    return out


def _alarming(text: str) -> bool:
    return any(f" {LABELS[c]}" in text for c in (*FAILING, "error"))


def _glance(grid: Grid, part: Part) -> list[str]:
    out = ["| area | " + " | ".join(grid.servers) + " |"]
    out.append("|---|" + ":-:|" * len(grid.servers))
    for area, texts in glance(grid, part):
        cells = " | ".join(f"**{t}**" if _alarming(t) else t for t in texts)
        out.append(f"| [{md(area)}](#{slug(area)}) | {cells} |")
    return out


def _area_grid(grid: Grid, part: Part) -> list[str]:
    out = []
    for area, rows in part.areas:
        counts = grid.area_counts(rows)
        flags = "".join(f", {counts[c]} {LABELS[c]}" for c in FLAGGED if counts[c])
        out.append(f"- [{area}](#{slug(area)}): {plural(len(rows), 'requirement')}{flags}")
    for area, rows in part.areas:
        out += ["", f"### {area}", ""]
        out.append("| requirement | level | source | " + " | ".join(grid.servers) + " |")
        out.append("|---|---|---|" + ":-:|" * len(grid.servers))
        for row in rows:
            cells = " | ".join(
                f"**{LABELS[c]}**" if (c := grid.cell(row["id"], s)) in FLAGGED else LABELS[c]
                for s in grid.servers
            )
            source = md(short(f"{row['source']} {row['clause']}".strip(), SOURCE_WIDTH))
            out.append(f"| `{row['id']}` | {row['level']} | {source} | {cells} |")
    return out


def _listed(
    data: dict[str, Any], grid: Grid, title: str, categories: tuple[str, ...], empty: str
) -> list[str]:
    found = notable(data, grid, categories)
    out = [f"## {title}", ""]
    if not found:
        return [*out, empty, ""]
    for result in found:
        out += _result(result, grid.rows.get(result["requirement"]))
    return out


def _not_provided(data: dict[str, Any], grid: Grid) -> list[str]:
    found = notable(data, grid, (NOT_PROVIDED,))
    out = ["## Extensions not provided", ""]
    if not found:
        return [*out, "None.", ""]
    out += ["| requirement | server | what happened |", "|---|---|---|"]
    out += [
        f"| `{r['requirement']}` | {r['server']} | {md(_lacking(grid, r) + reason(r))} |"
        for r in found
    ]
    return [*out, ""]


def _lacking(grid: Grid, result: dict[str, Any]) -> str:
    """``trio (extension) not provided: `` for a failure counted so because of trio, else ``""``."""
    why = grid.why_not_provided(result["requirement"], result["server"])
    return f"{why}: " if why == TRIO_NOT_PROVIDED else ""


def _deviations(data: dict[str, Any], grid: Grid) -> list[str]:
    found = notable(data, grid, ("deviation",))
    out = ["## Deviations", ""]
    if not found:
        return [*out, "None."]
    out += ["| requirement | server | clause | declared reason |", "|---|---|---|---|"]
    for result in found:
        row = grid.rows.get(result["requirement"], {})
        clause = md(f"{row.get('source', '')} {row.get('clause', '')}".strip())
        text = md(declared_reason(result) or reason(result))
        link = deviation_link(result)
        if link and link not in text:
            text += f" ([issue]({link}))"
        out.append(f"| `{result['requirement']}` | {result['server']} | {clause} | {text} |")
    return out


def _flaky_passes(data: dict[str, Any], grid: Grid) -> list[str]:
    """Requirements declared ``[flaky]`` that passed this run, with the declared reason."""
    found = flaky_passes(data, grid)
    if not found:
        return []
    out = ["", f"Declared flaky, passed this run ({len(found)}):", ""]
    for result in found:
        text = md(declared_reason(result).removeprefix(FLAKY_LABEL))
        out.append(f"- `{result['requirement']}` on {result['server']}: {text}")
    return out


def render_markdown(data: dict[str, Any]) -> str:
    """The report as Markdown."""
    grid = build_grid(data)
    versions = {s["name"]: s.get("version") for s in data["run"]["servers"]}
    overview = " · ".join(
        f"[**{text}**](#{ANCHORS[anchor]})"
        if count and anchor == "failures"
        else f"[{text}](#{ANCHORS[anchor]})"
        if count and anchor in ANCHORS
        else text
        for text, anchor, count in overview_parts(grid.totals())
    )
    out = ["# Conformance report", "", run_line(data["run"]), "", overview, ""]
    out += ["<details><summary>Provenance</summary>", ""]
    out += [f"- {label}: {value}" for label, value in provenance(data["run"])]
    out += ["", "</details>", "", "## Summary", ""]
    for part in grid.parts:
        title = PART_TITLES[part.subject]
        out += [f"### {title}: {plural(len(part.ids), 'requirement')}", ""]
        out += [PART_INTROS[part.subject], ""]
        out += _summary(grid, part, versions)
        out += ["", *_glance(grid, part), ""]
    labels = ", ".join(f"{LABELS[c]} = {c}" for c in SUMMARY_ORDER)
    out += [f"Labels: {labels}, – = no result.", ""]
    out += _listed(data, grid, "Failures and unexpected passes", FAILING, "None.")
    out += _listed(data, grid, "Harness errors", ("error",), "None: every case reached a verdict.")
    out += _not_provided(data, grid)
    out += _deviations(data, grid)
    out += _flaky_passes(data, grid)
    for part in grid.parts:
        out += ["", f"## {PART_TITLES[part.subject]} by area", ""]
        out += _area_grid(grid, part)
    fact_rows = root_path_rows(data)
    if fact_rows:
        question = data["open_behaviours"]["root_path"].get("question", "")
        out += ["", "## Behaviours the spec leaves open: root_path", "", question, ""]
        out += ["| server | option | request | the app saw |", "|---|---|---|---|"]
        out += ["| " + " | ".join(f"`{c}`" if c else "" for c in r) + " |" for r in fact_rows]
    for topic, question, rows in fact_sections(data):
        out += ["", f"## Behaviours the spec leaves open: {topic}", "", question, ""]
        out += ["| server | measured |", "|---|---|"]
        out += [f"| {server} | {md(value)} |" for server, value in rows]
    return "\n".join(out).rstrip() + "\n"
