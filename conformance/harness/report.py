"""Reports: ``conformance.json`` (canonical) and the Markdown and HTML grids rendered from it."""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

from conformance.harness.catalogue import Requirement
from conformance.harness.outcomes import OUTCOMES, Result

# A cell shows the worst outcome of its results, in this order.
SEVERITY = ("fail", "unexpected-pass", "deviation", "pass", "not-applicable")
LABELS = {
    "pass": "pass",
    "fail": "FAIL",
    "not-applicable": "n/a",
    "deviation": "deviation",
    "unexpected-pass": "XPASS",
    None: "–",
}
SHOWN = ("fail", "deviation", "unexpected-pass")


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


def _servers(data: dict[str, Any]) -> list[str]:
    names = [s["name"] for s in data["run"]["servers"]]
    names += sorted({r["server"] for r in data["results"]} - set(names))
    return names


def _cell(data: dict[str, Any], requirement: str, server: str) -> str | None:
    outcomes = {
        r["outcome"]
        for r in data["results"]
        if r["requirement"] == requirement and r["server"] == server
    }
    return next((o for o in SEVERITY if o in outcomes), None)


def _areas(data: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    known = {r["id"] for r in data["requirements"]}
    rows = list(data["requirements"])
    for rid in sorted({r["requirement"] for r in data["results"]} - known):
        rows.append({"id": rid, "area": "(not in catalogue)", "source": "", "clause": ""})
        rows[-1].update(level="", text="")
    areas: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        areas.setdefault(row["area"], []).append(row)
    return list(areas.items())


def _counts(data: dict[str, Any], server: str) -> dict[str, int]:
    counts: dict[str, int] = dict.fromkeys(OUTCOMES, 0)
    for requirement in {r["requirement"] for r in data["results"] if r["server"] == server}:
        outcome = _cell(data, requirement, server)
        if outcome is not None:
            counts[outcome] += 1
    return counts


def _run_line(run: dict[str, Any]) -> str:
    return (
        f"implementation {run['impl']} {run['impl_version'] or '(unknown version)'} "
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


def _notable(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in data["results"] if r["outcome"] in SHOWN]


def render_markdown(data: dict[str, Any]) -> str:
    """The grid as Markdown: summary per server, then requirements by area, then details."""
    servers = _servers(data)
    versions = {s["name"]: s["version"] for s in data["run"]["servers"]}
    out = ["# Conformance report", "", _run_line(data["run"]), ""]
    out += [f"- {label}: {value}" for label, value in _provenance(data["run"])]
    out += ["", "## Summary", ""]
    out.append("| server | version | " + " | ".join(OUTCOMES) + " |")
    out.append("|---|---|" + "---:|" * len(OUTCOMES))
    for server in servers:
        counts = _counts(data, server)
        cells = " | ".join(str(counts[o]) for o in OUTCOMES)
        out.append(f"| {server} | {versions.get(server) or '?'} | {cells} |")
    for area, rows in _areas(data):
        out += ["", f"## {area}", ""]
        out.append("| requirement | level | source | " + " | ".join(servers) + " |")
        out.append("|---|---|---|" + "---|" * len(servers))
        for row in rows:
            cells = " | ".join(LABELS[_cell(data, row["id"], s)] for s in servers)
            source = f"{row['source']} {row['clause']}".strip()
            out.append(f"| `{row['id']}` | {row['level']} | {source} | {cells} |")
    fact_rows = _root_path_rows(data)
    if fact_rows:
        question = data["open_behaviours"]["root_path"].get("question", "")
        out += ["", "## Behaviours the spec leaves open: root_path", "", question, ""]
        out += ["| server | option | request | the app saw |", "|---|---|---|---|"]
        out += ["| " + " | ".join(f"`{c}`" if c else "" for c in r) + " |" for r in fact_rows]
    notable = _notable(data)
    if notable:
        out += ["", "## Failures and deviations", ""]
        for result in notable:
            out.append(f"### `{result['requirement']}` on {result['server']}: {result['outcome']}")
            out += ["", f"Case `{result['case']}`", "", "```", result["detail"].rstrip(), "```", ""]
    return "\n".join(out).rstrip() + "\n"


_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f3f3f3}
td.pass{background:#d9f2d9}td.fail{background:#f8c9c9;font-weight:bold}
td.not-applicable{background:#eee;color:#666}td.deviation{background:#fbe7b5}
td.unexpected-pass{background:#f3d0f3;font-weight:bold}td.none{color:#999}
td.num{text-align:right}
pre{background:#f7f7f7;padding:.5em;overflow-x:auto;white-space:pre-wrap}
details{margin:.3em 0}summary{cursor:pointer}
a{color:inherit}
""".strip()


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _anchor(requirement: str, server: str) -> str:
    return f"r-{requirement}-{server}"


def render_html(data: dict[str, Any]) -> str:
    """A self-contained page (inline CSS, no script): summary, grid, expandable failures."""
    servers = _servers(data)
    versions = {s["name"]: s["version"] for s in data["run"]["servers"]}
    notable = {(r["requirement"], r["server"]) for r in _notable(data)}
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>Conformance report</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>Conformance report</h1>",
        f"<p>{_e(_run_line(data['run']))}</p>",
        "<table>",
        *(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in _provenance(data["run"])),
        "</table>",
        "<h2>Summary</h2><table><tr><th>server</th><th>version</th><th>command</th>",
    ]
    out.append("".join(f"<th>{_e(o)}</th>" for o in OUTCOMES) + "</tr>")
    commands = {s["name"]: s["command"] for s in data["run"]["servers"]}
    for server in servers:
        counts = _counts(data, server)
        out.append(
            f"<tr><td>{_e(server)}</td><td>{_e(versions.get(server) or '?')}</td>"
            f"<td><code>{_e(commands.get(server, ''))}</code></td>"
            + "".join(f'<td class="num">{counts[o]}</td>' for o in OUTCOMES)
            + "</tr>"
        )
    out.append("</table>")
    for area, rows in _areas(data):
        out.append(f"<h2>{_e(area)}</h2><table><tr><th>requirement</th><th>level</th>")
        out.append("<th>source</th>" + "".join(f"<th>{_e(s)}</th>" for s in servers) + "</tr>")
        for row in rows:
            out.append(
                f'<tr><td title="{_e(row["text"])}"><code>{_e(row["id"])}</code></td>'
                f"<td>{_e(row['level'])}</td><td>{_e(row['source'])} {_e(row['clause'])}</td>"
            )
            for server in servers:
                outcome = _cell(data, row["id"], server)
                label = _e(LABELS[outcome])
                if (row["id"], server) in notable:
                    label = f'<a href="#{_e(_anchor(row["id"], server))}">{label}</a>'
                out.append(f'<td class="{_e(outcome or "none")}">{label}</td>')
            out.append("</tr>")
        out.append("</table>")
    fact_rows = _root_path_rows(data)
    if fact_rows:
        question = data["open_behaviours"]["root_path"].get("question", "")
        out.append("<h2>Behaviours the spec leaves open: root_path</h2>")
        out.append(f"<p>{_e(question)}</p><table><tr><th>server</th><th>option</th>")
        out.append("<th>request</th><th>the app saw</th></tr>")
        for fact in fact_rows:
            out.append("<tr>" + "".join(f"<td><code>{_e(c)}</code></td>" for c in fact) + "</tr>")
        out.append("</table>")
    if notable:
        out.append("<h2>Failures and deviations</h2>")
        anchored: set[str] = set()
        for result in _notable(data):
            rid, server = result["requirement"], result["server"]
            anchor = _anchor(rid, server)
            id_attr = "" if anchor in anchored else f' id="{_e(anchor)}"'
            anchored.add(anchor)
            out.append(
                f"<details{id_attr}><summary><code>{_e(rid)}</code> on "
                f"{_e(server)}: <b>{_e(result['outcome'])}</b></summary>"
                f"<p>case <code>{_e(result['case'])}</code></p>"
                f"<pre>{_e(result['detail'])}</pre></details>"
            )
    out.append("</body></html>")
    return "\n".join(out) + "\n"
