"""Reports: ``conformance.json`` (canonical) and the Markdown and HTML grids rendered from it.

Both renderings lead with a one-line overview and the per-server summary, then the failures
and unexpected passes, then the declared deviations, then the grid of every requirement.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from conformance.harness.catalogue import Requirement
from conformance.harness.outcomes import OUTCOMES, Result

# A cell shows the worst outcome of its results, in this order.
SEVERITY = ("fail", "unexpected-pass", "deviation", "pass", "not-applicable")
# Short labels for grid and summary cells; the full name goes in a tooltip.
LABELS = {
    "pass": "pass",
    "fail": "FAIL",
    "not-applicable": "n/a",
    "deviation": "dev",
    "unexpected-pass": "XPASS",
    None: "–",
}
NO_RESULT = "no result"
SHOWN = ("fail", "deviation", "unexpected-pass")
FAILING = ("fail", "unexpected-pass")
# Summary columns, most alarming first after pass.
SUMMARY_ORDER = ("pass", "fail", "unexpected-pass", "deviation", "not-applicable")
LOG_MARKER = re.compile(r"^--- last lines of .* ---$", re.MULTILINE)
SOURCE_WIDTH = 40  # characters of source/clause shown in a Markdown cell


def build(
    run: dict[str, Any],
    requirements: Iterable[Requirement],
    results: Iterable[Result],
    open_behaviours: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``conformance.json`` document, results sorted by (requirement, server, case).

    ``open_behaviours``: measured facts on what the spec leaves open (never verdicts), e.g.
    ``{"root_path": {"question": str, "servers": {name: {...}}}}``.
    """
    ordered = sorted(results, key=lambda r: (r.requirement, r.server, r.case))
    return {
        "run": run,
        "requirements": [r.to_json() for r in requirements],
        "results": [r.to_json() for r in ordered],
        "open_behaviours": open_behaviours or {},
    }


@dataclass(frozen=True)
class _Grid:
    """What both renderings need, computed once from a ``conformance.json`` document."""

    servers: list[str]
    areas: list[tuple[str, list[dict[str, Any]]]]
    cells: dict[tuple[str, str], str]  # (requirement, server) -> worst outcome
    first: dict[tuple[str, str], dict[str, Any]]  # (requirement, server) -> worst result

    def cell(self, requirement: str, server: str) -> str | None:
        return self.cells.get((requirement, server))

    def counts(self, server: str) -> dict[str, int]:
        """Requirements per verdict on ``server``, plus ``no result``."""
        counts: dict[str, int] = dict.fromkeys((*OUTCOMES, NO_RESULT), 0)
        for (_, name), outcome in self.cells.items():
            if name == server:
                counts[outcome] += 1
        ids = [row["id"] for _, rows in self.areas for row in rows]
        counts[NO_RESULT] = sum(1 for rid in ids if (rid, server) not in self.cells)
        return counts

    def totals(self) -> dict[str, int]:
        """Cells per verdict over every server; ``no result`` counts requirements that lack a
        result on at least one server."""
        totals: dict[str, int] = dict.fromkeys(OUTCOMES, 0)
        for outcome in self.cells.values():
            totals[outcome] += 1
        ids = [row["id"] for _, rows in self.areas for row in rows]
        totals[NO_RESULT] = sum(
            1 for rid in ids if any((rid, s) not in self.cells for s in self.servers)
        )
        return totals

    def area_counts(self, rows: list[dict[str, Any]]) -> dict[str, int]:
        counts: dict[str, int] = dict.fromkeys(OUTCOMES, 0)
        for row in rows:
            for server in self.servers:
                outcome = self.cell(row["id"], server)
                if outcome is not None:
                    counts[outcome] += 1
        return counts


def _grid(data: dict[str, Any]) -> _Grid:
    names = [s["name"] for s in data["run"]["servers"]]
    names += sorted({r["server"] for r in data["results"]} - set(names))
    known = {r["id"] for r in data["requirements"]}
    rows = list(data["requirements"])
    for rid in sorted({r["requirement"] for r in data["results"]} - known):
        rows.append({"id": rid, "area": "(not in catalogue)", "source": "", "clause": ""})
        rows[-1].update(level="", text="")
    areas: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        areas.setdefault(row["area"], []).append(row)
    cells: dict[tuple[str, str], str] = {}
    first: dict[tuple[str, str], dict[str, Any]] = {}
    for result in data["results"]:
        key = (result["requirement"], result["server"])
        previous = cells.get(key)
        if previous is None or SEVERITY.index(result["outcome"]) < SEVERITY.index(previous):
            cells[key] = result["outcome"]
            first[key] = result
    return _Grid(names, list(areas.items()), cells, first)


def _run_line(run: dict[str, Any]) -> str:
    return (
        f"implementation {run['impl']} {run.get('impl_version') or '(unknown version)'} "
        f"on {run['python']}; started {run['started']}, {run['duration_s']} s"
    )


def _provenance(run: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) pairs of the run's provenance, for the report headers."""
    selected = run.get("requirements_selected") or []
    pairs = [
        ("implementation", f"{run['impl']} {run.get('impl_version') or '(unknown version)'}"),
        ("imported from", str(run.get("impl_file") or "?")),
        ("Python", f"{run.get('python')} on {run.get('platform') or '?'}"),
        ("harness", f"{run.get('harness_version', '?')} ({run.get('harness_python', '?')})"),
        ("catalogue sha256", str(run.get("catalogue_sha256", "?"))),
        ("selection", ", ".join(f"{p}*" for p in selected) or "every requirement"),
        ("ASGI message validation", "on" if run.get("asgi_validation", True) else "off"),
        ("started", f"{run['started']}, {run['duration_s']} s"),
    ]
    for server in run["servers"]:
        extensions = server.get("extensions")
        if "extensions" not in server:
            shown = "?"
        elif extensions is None:
            shown = "none (no extensions key in an http scope)"
        else:
            shown = ", ".join(extensions) or "none"
        pairs.append(
            (
                f"server {server['name']}",
                f"{server.get('version') or '?'}; extensions advertised: {shown}",
            )
        )
    return pairs


def _root_path_rows(data: dict[str, Any]) -> list[list[str]]:
    """One row per (server, request) of the root_path facts."""
    facts = data.get("open_behaviours", {}).get("root_path", {}).get("servers", {})
    rows = []
    for server, fact in facts.items():
        for label in ("with_prefix", "without_prefix"):
            entry = fact.get(label, {})
            seen = entry.get("error") or (
                f"path={entry.get('path')!r} raw_path={entry.get('raw_path')!r} "
                f"root_path={entry.get('root_path')!r}"
                if "path" in entry
                else f"status {entry.get('status')} (the app was not called)"
            )
            rows.append([server, fact.get("option", ""), f"GET {entry.get('request')}", seen])
    return rows


def _notable(data: dict[str, Any], outcomes: tuple[str, ...] = SHOWN) -> list[dict[str, Any]]:
    return [r for r in data["results"] if r["outcome"] in outcomes]


def _split_detail(detail: str) -> tuple[str, str, str]:
    """(the case's own detail, the log heading, the server log tail) of a result's detail."""
    found = LOG_MARKER.search(detail)
    if found is None:
        return detail.rstrip(), "", ""
    heading = found.group(0).strip("- ")
    return detail[: found.start()].rstrip(), heading, detail[found.end() :].strip("\n")


def _reason(detail: str) -> str:
    """A detail in one line: a deviation's declared reason, else the case's own detail
    (before the server log) with its whitespace collapsed."""
    main = _split_detail(detail)[0].strip()
    first = main.split("\n", 1)[0]
    if first.startswith("declared deviation:"):
        return first.removeprefix("declared deviation:").strip()
    return _short(" ".join(main.split()), 300)


def _plural(count: int, word: str, words: str | None = None) -> str:
    return f"{count} {word if count == 1 else (words or word + 's')}"


def _overview_parts(totals: dict[str, int]) -> list[tuple[str, str, int]]:
    """(text, anchor, count) of each part of the overview line."""
    return [
        (_plural(totals["fail"], "failure"), "failures", totals["fail"]),
        (
            _plural(totals["unexpected-pass"], "unexpected pass", "unexpected passes"),
            "failures",
            totals["unexpected-pass"],
        ),
        (_plural(totals["deviation"], "deviation"), "deviations", totals["deviation"]),
        (f"{totals['not-applicable']} not applicable", "grid", totals["not-applicable"]),
        (
            _plural(
                totals[NO_RESULT], "requirement without results", "requirements without results"
            ),
            "grid",
            totals[NO_RESULT],
        ),
    ]


# ---------------------------------------------------------------------------- Markdown


def _slug(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading (lower case, punctuation dropped)."""
    kept = re.sub(r"[^\w\- ]", "", heading.lower())
    return kept.replace(" ", "-")


def _md(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def _md_result(result: dict[str, Any], requirement: dict[str, Any] | None) -> list[str]:
    main, heading, log = _split_detail(result["detail"])
    label = LABELS[result["outcome"]]
    out = [f"### {label}: `{result['requirement']}` on {result['server']}", ""]
    if requirement and requirement.get("text"):
        out += [f"> {html.escape(requirement['text'], quote=False)}", ""]
    out += [f"Case `{result['case']}`", "", "```", main or "(no detail)", "```", ""]
    if log:
        out += [f"<details><summary>{heading}</summary>", "", "```", log, "```", "", "</details>"]
        out.append("")
    return out


def render_markdown(data: dict[str, Any]) -> str:
    """The report as Markdown: overview and summary, failures, deviations, then the grid."""
    grid = _grid(data)
    versions = {s["name"]: s.get("version") for s in data["run"]["servers"]}
    by_id = {row["id"]: row for _, rows in grid.areas for row in rows}
    md_anchors = {"failures": "failures-and-unexpected-passes", "deviations": "deviations"}
    overview = " · ".join(
        f"[**{text}**](#{md_anchors[anchor]})"
        if count and anchor == "failures"
        else f"[{text}](#{md_anchors[anchor]})"
        if count and anchor in md_anchors
        else text
        for text, anchor, count in _overview_parts(grid.totals())
    )
    out = ["# Conformance report", "", _run_line(data["run"]), "", overview, ""]
    out += ["<details><summary>Provenance</summary>", ""]
    out += [f"- {label}: {value}" for label, value in _provenance(data["run"])]
    out += ["", "</details>", "", "## Summary", ""]
    out.append(
        "| server | version | " + " | ".join(LABELS[o] for o in SUMMARY_ORDER) + f" | {NO_RESULT} |"
    )
    out.append("|---|---|" + "---:|" * (len(SUMMARY_ORDER) + 1))
    for server in grid.servers:
        counts = grid.counts(server)
        cells = " | ".join(
            f"**{counts[o]}**" if counts[o] and o in FAILING else str(counts[o])
            for o in (*SUMMARY_ORDER, NO_RESULT)
        )
        out.append(f"| {server} | {versions.get(server) or '?'} | {cells} |")
    out += ["", "Labels: " + ", ".join(f"{LABELS[o]} = {o}" for o in OUTCOMES) + ", – = no result."]
    failing = _notable(data, FAILING)
    out += ["", "## Failures and unexpected passes", ""]
    if not failing:
        out += ["None.", ""]
    for result in failing:
        out += _md_result(result, by_id.get(result["requirement"]))
    deviations = _notable(data, ("deviation",))
    out += ["## Deviations", ""]
    if deviations:
        out += ["| requirement | server | declared reason |", "|---|---|---|"]
        out += [
            f"| `{r['requirement']}` | {r['server']} | {_md(_reason(r['detail']))} |"
            for r in deviations
        ]
    else:
        out.append("None.")
    out += ["", "## Requirements by area", ""]
    for area, rows in grid.areas:
        counts = grid.area_counts(rows)
        flags = [
            f"{counts[o]} {LABELS[o]}"
            for o in ("fail", "unexpected-pass", "deviation")
            if counts[o]
        ]
        out.append(
            f"- [{area}](#{_slug(area)}): {_plural(len(rows), 'requirement')}"
            + "".join(f", {f}" for f in flags)
        )
    for area, rows in grid.areas:
        out += ["", f"### {area}", ""]
        out.append("| requirement | level | source | " + " | ".join(grid.servers) + " |")
        out.append("|---|---|---|" + ":-:|" * len(grid.servers))
        for row in rows:
            cells = " | ".join(
                f"**{LABELS[o]}**" if (o := grid.cell(row["id"], s)) in SHOWN else LABELS[o]
                for s in grid.servers
            )
            source = _md(_short(f"{row['source']} {row['clause']}".strip(), SOURCE_WIDTH))
            out.append(f"| `{row['id']}` | {row['level']} | {source} | {cells} |")
    fact_rows = _root_path_rows(data)
    if fact_rows:
        question = data["open_behaviours"]["root_path"].get("question", "")
        out += ["", "## Behaviours the spec leaves open: root_path", "", question, ""]
        out += ["| server | option | request | the app saw |", "|---|---|---|---|"]
        out += ["| " + " | ".join(f"`{c}`" if c else "" for c in r) + " |" for r in fact_rows]
    return "\n".join(out).rstrip() + "\n"


# ---------------------------------------------------------------------------- HTML

_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em 2em;color:#222}
h1{margin:.2em 0}h2{margin:1.2em 0 .4em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0}
th,td{border:1px solid #d4d4d4;padding:.2em .5em;text-align:left;vertical-align:top}
th{background:#f3f3f3}
[id]{scroll-margin-top:2.5em}
code{font-size:.95em}
.run{color:#555;margin:.2em 0}
.overview{font-size:1.15em;margin:.6em 0}
.overview a,.num a{text-decoration:none}
.bad{color:#b00020;font-weight:bold}.warn{color:#8a5a00;font-weight:bold}.zero{color:#888}
#summary td.num{text-align:right;min-width:3.5em}
#summary td.num.bad{background:#fde2e2}#summary td.num.warn{background:#fdf1d6}
#summary th{white-space:nowrap}
nav ul{columns:4 19em;list-style:none;padding:0;margin:.3em 0}
nav li{break-inside:avoid;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
nav .n{color:#888;font-size:.9em}
.tag{display:inline-block;border-radius:3px;padding:0 .3em;font-size:.85em;font-weight:bold}
.tag.fail,.tag.unexpected-pass{background:#f8c9c9;color:#7a0010}
.tag.deviation{background:#fbe7b5;color:#6b4500}
details{margin:.2em 0}summary{cursor:pointer}
details.result{border-left:4px solid #e06666;padding-left:.5em;margin:.4em 0}
details.result>summary{white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
pre{background:#f7f7f7;padding:.5em;overflow-x:auto;white-space:pre-wrap;margin:.3em 0}
pre.log{max-height:20em;overflow-y:auto;background:#f2f2f6;font-size:.9em}
.text{color:#444;margin:.3em 0}
#deviations-list td.reason{max-width:60em}
#grid{table-layout:fixed;width:100%;margin-top:0;font-size:13px}
#grid col.rid{width:21em}#grid col.level{width:5.8em}
#grid thead th{position:sticky;top:0;z-index:2;background:#e9ecef;
  box-shadow:0 1px 0 #bbb;vertical-align:bottom;overflow-wrap:anywhere}
#grid td{white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
#grid td.v{text-align:center}
#grid tr.area th{background:#dfe6f0;font-size:1.02em;padding:.35em .5em}
#grid tr.area .counts{font-weight:normal;color:#555;margin-left:.8em}
#grid tr.area a.top{float:right;font-weight:normal;font-size:.85em;color:#557}
td.pass{background:#f3faf3;color:#8aa88a}
td.fail{background:#f4a6a6;color:#600;font-weight:bold}
td.not-applicable{background:#eee;color:#777}
td.deviation{background:#fbe3a6;color:#5a3b00}
td.unexpected-pass{background:#e9b6ee;color:#503;font-weight:bold}
td.none{color:#bbb;
  background:repeating-linear-gradient(45deg,#fff,#fff 4px,#f2f2f2 4px,#f2f2f2 8px)}
td.v a{color:inherit;display:block}
a{color:#2353a8}
""".strip()


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _anchor(requirement: str, server: str) -> str:
    return f"r-{requirement}-{server}"


def _area_id(index: int) -> str:
    return f"area-{index}"


def _overview_html(totals: dict[str, int]) -> str:
    parts = []
    for text, anchor, count in _overview_parts(totals):
        style = "zero"
        if count:
            style = "bad" if anchor == "failures" else "warn" if anchor == "deviations" else ""
        parts.append(f'<a class="{style}" href="#{anchor}">{_e(text)}</a>')
    return '<p class="overview">' + " · ".join(parts) + "</p>"


def _summary_html(data: dict[str, Any], grid: _Grid) -> list[str]:
    servers = {s["name"]: s for s in data["run"]["servers"]}
    out = ['<table id="summary"><thead><tr><th>server</th><th>version</th>']
    out.append("".join(f'<th title="{_e(o)}">{_e(LABELS[o])}</th>' for o in SUMMARY_ORDER))
    out.append(f'<th title="requirements with no result on this server">{NO_RESULT}</th>')
    out.append("</tr></thead><tbody>")
    for server in grid.servers:
        counts = grid.counts(server)
        info = servers.get(server, {})
        row = [
            f'<tr><th title="{_e(info.get("command", "(not in the run’s server list)"))}">'
            f"{_e(server)}</th><td>{_e(info.get('version') or '?')}</td>"
        ]
        for outcome in (*SUMMARY_ORDER, NO_RESULT):
            number = counts[outcome]
            target = {"fail": "failures", "unexpected-pass": "failures", "deviation": "deviations"}
            style = "num"
            shown = str(number)
            if number and outcome in target:
                style += " bad" if outcome in FAILING else " warn"
                shown = f'<a href="#{target[outcome]}">{number}</a>'
            elif number and outcome == NO_RESULT:
                style += " warn"
            elif not number:
                style += " zero"
            row.append(f'<td class="{style}">{shown}</td>')
        out.append("".join(row) + "</tr>")
    out.append("</tbody></table>")
    return out


def _areas_html(grid: _Grid) -> list[str]:
    out = ['<nav id="areas"><h2>Areas</h2><ul>']
    for index, (area, rows) in enumerate(grid.areas):
        counts = grid.area_counts(rows)
        tags = "".join(
            f' <span class="tag {o}" title="{_e(o)}">{counts[o]} {_e(LABELS[o])}</span>'
            for o in ("fail", "unexpected-pass", "deviation")
            if counts[o]
        )
        out.append(
            f'<li><a href="#{_area_id(index)}">{_e(area)}</a> '
            f'<span class="n">{len(rows)}</span>{tags}</li>'
        )
    out.append("</ul></nav>")
    return out


def _failures_html(data: dict[str, Any], grid: _Grid) -> list[str]:
    by_id = {row["id"]: row for _, rows in grid.areas for row in rows}
    failing = _notable(data, FAILING)
    out = [f'<h2 id="failures">Failures and unexpected passes ({len(failing)})</h2>']
    if not failing:
        out.append("<p>None.</p>")
    anchored: set[str] = set()
    for result in failing:
        rid, server, outcome = result["requirement"], result["server"], result["outcome"]
        anchor = _anchor(rid, server)
        id_attr = "" if anchor in anchored else f' id="{_e(anchor)}"'
        anchored.add(anchor)
        main, heading, log = _split_detail(result["detail"])
        first = _reason(result["detail"])
        text = by_id.get(rid, {}).get("text", "")
        out.append(
            f'<details class="result"{id_attr}><summary title="{_e(first)}">'
            f'<span class="tag {_e(outcome)}">{_e(LABELS[outcome])}</span> '
            f"<code>{_e(rid)}</code> on <b>{_e(server)}</b> — {_e(first)}</summary>"
            f'<p class="text">{_e(text)}</p><p>case <code>{_e(result["case"])}</code></p>'
            f"<pre>{_e(main or '(no detail)')}</pre>"
        )
        if log:
            out.append(f'<p>{_e(heading)}</p><pre class="log">{_e(log)}</pre>')
        out.append("</details>")
    return out


def _deviations_html(data: dict[str, Any], anchored: set[str]) -> list[str]:
    deviations = _notable(data, ("deviation",))
    out = [f'<h2 id="deviations">Deviations ({len(deviations)})</h2>']
    if not deviations:
        return [*out, "<p>None.</p>"]
    out.append(
        f"<details><summary>{_plural(len(deviations), 'declared deviation')} "
        "(a failure the server's declaration expects): show</summary>"
    )
    out.append('<table id="deviations-list"><tr><th>requirement</th><th>server</th>')
    out.append("<th>declared reason (click for the detail)</th></tr>")
    for result in deviations:
        rid, server = result["requirement"], result["server"]
        anchor = _anchor(rid, server)
        id_attr = "" if anchor in anchored else f' id="{_e(anchor)}"'
        anchored.add(anchor)
        main, heading, log = _split_detail(result["detail"])
        body = f"<pre>{_e(main)}</pre>"
        if log:
            body += f'<p>{_e(heading)}</p><pre class="log">{_e(log)}</pre>'
        out.append(
            f"<tr{id_attr}><td><code>{_e(rid)}</code></td><td>{_e(server)}</td>"
            f'<td class="reason"><details><summary>{_e(_reason(result["detail"]))}</summary>'
            f"<p>case <code>{_e(result['case'])}</code></p>{body}</details></td></tr>"
        )
    out.append("</table></details>")
    return out


def _grid_html(data: dict[str, Any], grid: _Grid, linked: set[tuple[str, str]]) -> list[str]:
    servers = {s["name"]: s for s in data["run"]["servers"]}
    out = ['<h2 id="grid-title">Requirements by area</h2>', '<table id="grid">']
    out.append('<colgroup><col class="rid"><col class="level"><col class="source">')
    # About as wide as the longest server name in the bold header; a longer one wraps.
    longest = max((len(s) for s in grid.servers), default=0)
    width = max(5.5, min(8.0, round(0.6 * longest + 1.0, 1)))
    out.append(f'<col class="server" style="width:{width}em">' * len(grid.servers))
    out.append("</colgroup>")
    out.append("<thead><tr><th>requirement</th><th>level</th><th>source</th>")
    out.append(
        "".join(
            f'<th title="{_e(servers.get(s, {}).get("command", ""))}">{_e(s)}</th>'
            for s in grid.servers
        )
        + "</tr></thead>"
    )
    width = 3 + len(grid.servers)
    for index, (area, rows) in enumerate(grid.areas):
        counts = grid.area_counts(rows)
        flags = [_plural(len(rows), "requirement")] + [
            _plural(counts[o], word, words)
            for o, word, words in (
                ("fail", "failure", None),
                ("unexpected-pass", "unexpected pass", "unexpected passes"),
                ("deviation", "deviation", None),
            )
            if counts[o]
        ]
        out.append(
            f'<tbody id="{_area_id(index)}"><tr class="area"><th colspan="{width}">'
            f'{_e(area)} <span class="counts">{_e(" · ".join(flags))}</span> '
            '<a class="top" href="#summary">↑ summary</a></th></tr>'
        )
        for row in rows:
            source = f"{row['source']} {row['clause']}".strip()
            out.append(
                f'<tr><td title="{_e(row["id"] + ": " + row["text"])}"><code>{_e(row["id"])}'
                f"</code></td><td>{_e(row['level'])}</td>"
                f'<td title="{_e(source)}">{_e(source)}</td>'
            )
            cells = []
            for server in grid.servers:
                outcome = grid.cell(row["id"], server)
                label = _e(LABELS[outcome])
                result = grid.first.get((row["id"], server))
                tip = outcome or NO_RESULT
                if result is not None and outcome != "pass" and result["detail"].strip():
                    tip += ": " + _reason(result["detail"])
                if (row["id"], server) in linked:
                    label = f'<a href="#{_e(_anchor(row["id"], server))}">{label}</a>'
                cells.append(
                    f'<td class="v {_e(outcome or "none")}" title="{_e(tip)}">{label}</td>'
                )
            out.append("".join(cells) + "</tr>")
        out.append("</tbody>")
    out.append("</table>")
    return out


def render_html(data: dict[str, Any]) -> str:
    """A self-contained page (inline CSS, no script): overview, summary, areas, failures,
    deviations, then one grid table whose server columns line up across areas."""
    grid = _grid(data)
    run = data["run"]
    linked = {(r["requirement"], r["server"]) for r in _notable(data)}
    sha = str(run.get("catalogue_sha256", "?"))
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>Conformance report</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>Conformance report</h1>",
        f'<p class="run">{_e(_run_line(run))}; catalogue sha256 '
        f'<code title="{_e(sha)}">{_e(_short(sha, 13))}</code></p>',
        "<details><summary>Provenance</summary><table>",
        *(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in _provenance(run)),
        "</table></details>",
        _overview_html(grid.totals()),
        "<h2>Summary</h2>",
        *_summary_html(data, grid),
        '<p class="run">Labels: '
        + ", ".join(f"{_e(LABELS[o])} = {_e(o)}" for o in OUTCOMES)
        + ", – = no result. Hover a server name for its command, a cell for its detail.</p>",
        *_areas_html(grid),
        *_failures_html(data, grid),
    ]
    anchored = {_anchor(r["requirement"], r["server"]) for r in _notable(data, FAILING)}
    out += _deviations_html(data, anchored)
    out += _grid_html(data, grid, linked)
    fact_rows = _root_path_rows(data)
    if fact_rows:
        question = data["open_behaviours"]["root_path"].get("question", "")
        out.append("<h2>Behaviours the spec leaves open: root_path</h2>")
        out.append(f"<p>{_e(question)}</p><table><tr><th>server</th><th>option</th>")
        out.append("<th>request</th><th>the app saw</th></tr>")
        for fact in fact_rows:
            out.append("<tr>" + "".join(f"<td><code>{_e(c)}</code></td>" for c in fact) + "</tr>")
        out.append("</table>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
