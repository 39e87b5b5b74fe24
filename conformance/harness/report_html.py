"""The HTML report: a self-contained page (inline CSS, no script) with the same sections as the
Markdown one; each catalogue part has one grid table whose server columns line up across areas."""

from __future__ import annotations

import html
from typing import Any

from conformance.harness.report_facts import fact_sections
from conformance.harness.reportgrid import (
    FAILING,
    FLAGGED,
    LABELS,
    NO_RESULT,
    PART_INTROS,
    PART_TITLES,
    SHOWN,
    SUMMARY_ORDER,
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

CSS = """
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
.summary td.num{text-align:right;min-width:3.5em}
.summary td.num.bad{background:#fde2e2}.summary td.num.warn{background:#fdf1d6}
.summary th{white-space:nowrap}
.glance td{text-align:center;white-space:nowrap}.glance td.bad{background:#fde2e2}
.glance td.warn{background:#fdf1d6}
nav ul{columns:4 19em;list-style:none;padding:0;margin:.3em 0}
nav li{break-inside:avoid;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
nav .n{color:#888;font-size:.9em}
.tag{display:inline-block;border-radius:3px;padding:0 .3em;font-size:.85em;font-weight:bold}
.tag.fail,.tag.unexpected-pass,.tag.error{background:#f8c9c9;color:#7a0010}
.tag.deviation,.tag.not-provided{background:#fbe7b5;color:#6b4500}
details{margin:.2em 0}summary{cursor:pointer}
details.result{border-left:4px solid #e06666;padding-left:.5em;margin:.4em 0}
details.result>summary{white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
blockquote{margin:.3em 0;padding-left:.8em;border-left:3px solid #ccd;color:#333}
pre{background:#f7f7f7;padding:.5em;overflow-x:auto;white-space:pre-wrap;margin:.3em 0}
pre.log{max-height:20em;overflow-y:auto;background:#f2f2f6;font-size:.9em}
.text{color:#444;margin:.3em 0}
.deviations-list td.reason{max-width:60em}
table.grid{table-layout:fixed;width:100%;margin-top:0;font-size:13px}
table.grid col.rid{width:21em}table.grid col.level{width:5.8em}
table.grid thead th{position:sticky;top:0;z-index:2;background:#e9ecef;
  box-shadow:0 1px 0 #bbb;vertical-align:bottom;overflow-wrap:anywhere}
table.grid td{white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
table.grid td.v{text-align:center}
table.grid tr.area th{background:#dfe6f0;font-size:1.02em;padding:.35em .5em}
table.grid tr.area .counts{font-weight:normal;color:#555;margin-left:.8em}
table.grid tr.area a.top{float:right;font-weight:normal;font-size:.85em;color:#557}
td.pass{background:#f3faf3;color:#8aa88a}
td.fail,td.error{background:#f4a6a6;color:#600;font-weight:bold}
td.not-applicable{background:#eee;color:#777}
td.deviation,td.not-provided{background:#fbe3a6;color:#5a3b00}
td.unexpected-pass{background:#e9b6ee;color:#503;font-weight:bold}
td.none{color:#bbb;
  background:repeating-linear-gradient(45deg,#fff,#fff 4px,#f2f2f2 4px,#f2f2f2 8px)}
td.v a{color:inherit;display:block}
a{color:#2353a8}
""".strip()
SECTIONS = {
    "fail": "failures",
    "unexpected-pass": "failures",
    "error": "errors",
    NOT_PROVIDED: "not-provided",
    "deviation": "deviations",
}


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _anchor(requirement: str, server: str) -> str:
    return f"r-{requirement}-{server}"


def _area_id(subject: str, index: int) -> str:
    return f"area-{subject}-{index}"


def _overview(totals: dict[str, int]) -> str:
    parts = []
    for text, anchor, count in overview_parts(totals):
        style = "zero"
        if count:
            style = {"failures": "bad", "errors": "bad", "deviations": "warn"}.get(anchor, "")
            style = style or ("warn" if anchor == "not-provided" else "")
        parts.append(f'<a class="{style}" href="#{anchor}">{_e(text)}</a>')
    return '<p class="overview">' + " · ".join(parts) + "</p>"


def _summary(data: dict[str, Any], grid: Grid, part: Part) -> list[str]:
    servers = {s["name"]: s for s in data["run"]["servers"]}
    columns = [c for c in SUMMARY_ORDER if c != NOT_PROVIDED or part.subject != "server"]
    first = part is grid.parts[0]
    ident = ' id="summary"' if first else ""
    out = [f'<table{ident} class="summary" data-subject="{_e(part.subject)}">']
    out.append("<thead><tr><th>server</th><th>version</th>")
    out.append("".join(f'<th title="{_e(c)}">{_e(LABELS[c])}</th>' for c in columns))
    out.append(f'<th title="requirements with no result on this server">{NO_RESULT}</th>')
    out.append("</tr></thead><tbody>")
    for server in grid.servers:
        counts = grid.counts(server, part.ids)
        info = servers.get(server, {})
        row = [
            f'<tr><th title="{_e(info.get("command", "(not in the run’s server list)"))}">'
            f"{_e(server)}</th><td>{_e(info.get('version') or '?')}</td>"
        ]
        for column in (*columns, NO_RESULT):
            number = counts[column]
            style = "num"
            shown = str(number)
            if number and column in SECTIONS:
                style += " bad" if column in (*FAILING, "error") else " warn"
                shown = f'<a href="#{SECTIONS[column]}">{number}</a>'
            elif number and column == NO_RESULT:
                style += " warn"
            elif not number:
                style += " zero"
            row.append(f'<td class="{style}">{shown}</td>')
        out.append("".join(row) + "</tr>")
    out.append("</tbody></table>")
    return out


def _glance(grid: Grid, part: Part) -> list[str]:
    out = ['<table class="glance"><thead><tr><th>area</th>']
    out.append("".join(f"<th>{_e(s)}</th>" for s in grid.servers) + "</tr></thead><tbody>")
    for index, (area, texts) in enumerate(glance(grid, part)):
        cells = []
        for text in texts:
            style = "bad" if "FAIL" in text or "XPASS" in text or "ERROR" in text else ""
            style = style or ("warn" if " · " in text else "")
            cells.append(f'<td class="{style}">{_e(text)}</td>')
        link = f'<a href="#{_area_id(part.subject, index)}">{_e(area)}</a>'
        out.append(f"<tr><th>{link}</th>{''.join(cells)}</tr>")
    out.append("</tbody></table>")
    return out


def _areas(grid: Grid) -> list[str]:
    out = ['<nav id="areas"><h2>Areas</h2>']
    for part in grid.parts:
        out.append(f"<h3>{_e(PART_TITLES[part.subject])}</h3><ul>")
        for index, (area, rows) in enumerate(part.areas):
            counts = grid.area_counts(rows)
            tags = "".join(
                f' <span class="tag {c}" title="{_e(c)}">{counts[c]} {_e(LABELS[c])}</span>'
                for c in FLAGGED
                if counts[c]
            )
            out.append(
                f'<li><a href="#{_area_id(part.subject, index)}">{_e(area)}</a> '
                f'<span class="n">{len(rows)}</span>{tags}</li>'
            )
        out.append("</ul>")
    out.append("</nav>")
    return out


def _quote(requirement: dict[str, Any]) -> str:
    """The clause quoted (h2spec style) and what the case accepts."""
    where = f"{requirement.get('source', '')} {requirement.get('clause', '')}".strip()
    level = requirement.get("level") or ""
    out = ""
    if requirement.get("quote"):
        out += f"<blockquote>{_e(requirement['quote'])}<br>— {_e(where)} ({_e(level)})"
        out += "</blockquote>"
    elif where:
        out += f'<p class="text">{_e(where)} ({_e(level)})</p>'
    if requirement.get("text"):
        out += f'<p class="text">Accepted: {_e(requirement["text"])}</p>'
    return out


def _results(
    data: dict[str, Any],
    grid: Grid,
    anchored: set[str],
    title: str,
    ident: str,
    categories: tuple[str, ...],
) -> list[str]:
    found = notable(data, grid, categories)
    out = [f'<h2 id="{ident}">{_e(title)} ({len(found)})</h2>']
    if not found:
        out.append("<p>None.</p>")
    for result in found:
        rid, server, outcome = result["requirement"], result["server"], result["outcome"]
        anchor = _anchor(rid, server)
        id_attr = "" if anchor in anchored else f' id="{_e(anchor)}"'
        anchored.add(anchor)
        main, heading, log = split_detail(result)
        first = reason(result)
        shown = grid.counts_as(rid, server, outcome)
        label = LABELS[shown]
        out.append(
            f'<details class="result"{id_attr}><summary title="{_e(first)}">'
            f'<span class="tag {_e(shown)}">{_e(label)}</span> '
            f"<code>{_e(rid)}</code> on <b>{_e(server)}</b> — {_e(first)}</summary>"
            f"{_quote(grid.rows.get(rid, {}))}"
            f"<p>What happened (case <code>{_e(result['case'])}</code>):</p>"
            f"<pre>{_e(main or first or '(no detail)')}</pre>"
        )
        if log:
            out.append(f'<p>{_e(heading)}</p><pre class="log">{_e(log)}</pre>')
        out.append("</details>")
    return out


def _deviations(data: dict[str, Any], grid: Grid, anchored: set[str]) -> list[str]:
    deviations = notable(data, grid, ("deviation",))
    out = [f'<h2 id="deviations">Deviations ({len(deviations)})</h2>']
    if not deviations:
        return [*out, "<p>None.</p>"]
    out.append(
        f"<details><summary>{plural(len(deviations), 'declared deviation')} "
        "(a failure the server's declaration expects): show</summary>"
    )
    out.append('<table class="deviations-list"><tr><th>requirement</th><th>server</th>')
    out.append("<th>clause</th><th>declared reason (click for the detail)</th></tr>")
    for result in deviations:
        rid, server = result["requirement"], result["server"]
        anchor = _anchor(rid, server)
        id_attr = "" if anchor in anchored else f' id="{_e(anchor)}"'
        anchored.add(anchor)
        main, heading, log = split_detail(result)
        body = f"<pre>{_e(main)}</pre>"
        if log:
            body += f'<p>{_e(heading)}</p><pre class="log">{_e(log)}</pre>'
        row = grid.rows.get(rid, {})
        clause = f"{row.get('source', '')} {row.get('clause', '')}".strip()
        link = deviation_link(result)
        issue = f' <a href="{_e(link)}">issue</a>' if link else ""
        out.append(
            f"<tr{id_attr}><td><code>{_e(rid)}</code></td><td>{_e(server)}</td>"
            f"<td>{_e(clause)}</td>"
            f'<td class="reason"><details><summary>{_e(declared_reason(result) or reason(result))}'
            f"</summary><p>case <code>{_e(result['case'])}</code>{issue}</p>{body}</details>"
            "</td></tr>"
        )
    out.append("</table></details>")
    return out


def _flaky_passes(data: dict[str, Any], grid: Grid) -> list[str]:
    """Requirements declared ``[flaky]`` that passed this run, with the declared reason."""
    found = flaky_passes(data, grid)
    if not found:
        return []
    out = [f"<p>Declared flaky, passed this run ({len(found)}):</p><ul>"]
    for result in found:
        text = declared_reason(result).removeprefix(FLAKY_LABEL)
        out.append(
            f"<li><code>{_e(result['requirement'])}</code> on <b>{_e(result['server'])}</b>: "
            f"{_e(text)}</li>"
        )
    return [*out, "</ul>"]


def _grid(data: dict[str, Any], grid: Grid, part: Part, linked: set[tuple[str, str]]) -> list[str]:
    servers = {s["name"]: s for s in data["run"]["servers"]}
    title = f"{PART_TITLES[part.subject]} by area"
    ident = "grid" if part is grid.parts[0] else f"grid-{part.subject}"
    out = [f'<h2 id="{ident}-title">{_e(title)}</h2>', f'<table id="{ident}" class="grid">']
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
    span = 3 + len(grid.servers)
    words = {
        "fail": ("failure", None),
        "unexpected-pass": ("unexpected pass", "unexpected passes"),
        "error": ("harness error", None),
        NOT_PROVIDED: ("extension not provided", "extensions not provided"),
        "deviation": ("deviation", None),
    }
    for index, (area, rows) in enumerate(part.areas):
        counts = grid.area_counts(rows)
        flags = [plural(len(rows), "requirement")] + [
            plural(counts[c], *words[c]) for c in FLAGGED if counts[c]
        ]
        out.append(
            f'<tbody id="{_area_id(part.subject, index)}"><tr class="area">'
            f'<th colspan="{span}">{_e(area)} <span class="counts">{_e(" · ".join(flags))}'
            '</span> <a class="top" href="#summary">↑ summary</a></th></tr>'
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
                shown = grid.cell(row["id"], server)
                label = _e(LABELS[shown])
                result = grid.worst.get((row["id"], server))
                tip = shown or NO_RESULT
                if result is not None and shown != "pass" and reason(result).strip():
                    tip += ": " + reason(result)
                if (row["id"], server) in linked:
                    label = f'<a href="#{_e(_anchor(row["id"], server))}">{label}</a>'
                cells.append(f'<td class="v {_e(shown or "none")}" title="{_e(tip)}">{label}</td>')
            out.append("".join(cells) + "</tr>")
        out.append("</tbody>")
    out.append("</table>")
    return out


def render_html(data: dict[str, Any]) -> str:
    """A self-contained page: overview, summary and glance per part, areas, failures, harness
    errors, extensions not provided, deviations, then one grid table per part."""
    grid = build_grid(data)
    run = data["run"]
    linked = {(r["requirement"], r["server"]) for r in notable(data, grid, SHOWN)}
    sha = str(run.get("catalogue_sha256", "?"))
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>Conformance report</title>",
        f"<style>{CSS}</style></head><body>",
        "<h1>Conformance report</h1>",
        f'<p class="run">{_e(run_line(run))}; catalogue sha256 '
        f'<code title="{_e(sha)}">{_e(short(sha, 13))}</code></p>',
        "<details><summary>Provenance</summary><table>",
        *(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in provenance(run)),
        "</table></details>",
        _overview(grid.totals()),
        "<h2>Summary</h2>",
    ]
    for part in grid.parts:
        out.append(f"<h3>{_e(PART_TITLES[part.subject])}: {plural(len(part.ids), 'requirement')}")
        out.append(f'</h3><p class="run">{_e(PART_INTROS[part.subject])}</p>')
        out += _summary(data, grid, part)
        out += _glance(grid, part)
    out.append(
        '<p class="run">Labels: '
        + ", ".join(f"{_e(LABELS[c])} = {_e(c)}" for c in SUMMARY_ORDER)
        + ", – = no result. Hover a server name for its command, a cell for its detail.</p>"
    )
    out += _areas(grid)
    anchored: set[str] = set()
    out += _results(data, grid, anchored, "Failures and unexpected passes", "failures", FAILING)
    out += _results(data, grid, anchored, "Harness errors", "errors", ("error",))
    out += _results(
        data, grid, anchored, "Extensions not provided", "not-provided", (NOT_PROVIDED,)
    )
    out += _deviations(data, grid, anchored)
    out += _flaky_passes(data, grid)
    for part in grid.parts:
        out += _grid(data, grid, part, linked)
    fact_rows = root_path_rows(data)
    if fact_rows:
        question = data["open_behaviours"]["root_path"].get("question", "")
        out.append("<h2>Behaviours the spec leaves open: root_path</h2>")
        out.append(f"<p>{_e(question)}</p><table><tr><th>server</th><th>option</th>")
        out.append("<th>request</th><th>the app saw</th></tr>")
        for fact in fact_rows:
            out.append("<tr>" + "".join(f"<td><code>{_e(c)}</code></td>" for c in fact) + "</tr>")
        out.append("</table>")
    for topic, question, rows in fact_sections(data):
        out.append(f"<h2>Behaviours the spec leaves open: {_e(topic)}</h2>")
        out.append(f"<p>{_e(question)}</p><table><tr><th>server</th><th>measured</th></tr>")
        for server, value in rows:
            out.append(f"<tr><td>{_e(server)}</td><td>{_e(value)}</td></tr>")
        out.append("</table>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
