"""What the Markdown and HTML reports show, computed once from a ``conformance.json`` document:
the servers, the two catalogues (server duties, then the implementation) by area, the cell of
every (requirement, server), counts, and the texts shared by both renderings."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from conformance.harness.transport import TRANSPORTS, split_column
from conformance.harness.verdicts import (
    CATEGORIES,
    NOT_PROVIDED,
    SUBJECTS,
    aggregate,
    category,
    runs_trio,
    subject_of,
    trio_not_provided,
)

# Short labels for grid and summary cells; the full name goes in a tooltip.
LABELS: dict[str | None, str] = {
    "pass": "pass",
    "fail": "FAIL",
    "error": "ERROR",
    "not-applicable": "n/a",
    "deviation": "dev",
    "unexpected-pass": "XPASS",
    NOT_PROVIDED: "no ext",
    None: "–",
}
NO_RESULT = "no result"
TRIO_NOT_PROVIDED = "trio (extension) not provided"
# Summary columns, most alarming first after pass.
SUMMARY_ORDER = (
    "pass",
    "fail",
    "unexpected-pass",
    "error",
    NOT_PROVIDED,
    "deviation",
    "not-applicable",
)
# Categories whose results a report lists with their detail, and which of them turn a run red.
SHOWN = ("fail", "unexpected-pass", "error", NOT_PROVIDED, "deviation")
FAILING = ("fail", "unexpected-pass")
FLAGGED = ("fail", "unexpected-pass", "error", NOT_PROVIDED, "deviation")
PART_TITLES = {
    "server": "Server duties",
    "implementation": "Implementation",
}
PART_INTROS = {
    "server": "What each server owes whatever application it runs (the server catalogue): "
    "a failure here is the server's.",
    "implementation": "The implementation under test, run on each server (the implementation "
    "catalogue). A failure of an EXT requirement is an extension not provided (no ext), "
    "never an API failure; so is a failure on a configuration running under trio (trio "
    "(extension) not provided).",
}
# Reports written by harness 0.2 packed the server log into ``detail`` after this line.
LEGACY_LOG_MARKER = re.compile(r"^--- last lines of .* ---$", re.MULTILINE)
LEGACY_DECLARED = "declared deviation:"
URL = re.compile(r"https?://[^\s)>\]]+")


@dataclass(frozen=True)
class Part:
    """One catalogue of the report (``server`` or ``implementation``) by area."""

    subject: str
    areas: list[tuple[str, list[dict[str, Any]]]]

    @property
    def ids(self) -> list[str]:
        return [row["id"] for _, rows in self.areas for row in rows]


@dataclass(frozen=True)
class Grid:
    """Servers, the non-empty catalogue parts, and the worst result of every cell."""

    servers: list[str]
    parts: list[Part]
    worst: dict[tuple[str, str], dict[str, Any]]  # (requirement, server) -> worst result
    rows: dict[str, dict[str, Any]]  # requirement id -> its catalogue row (with defaults)
    trio: frozenset[str] = frozenset()  # configurations that ran the application under trio

    def counts_as(self, requirement: str, server: str, outcome: str | None) -> str | None:
        """How ``outcome`` of ``requirement`` on ``server`` counts (:func:`verdicts.category`)."""
        row = self.rows.get(requirement, {})
        return category(outcome, row.get("level"), row.get("subject"), server in self.trio)

    def why_not_provided(self, requirement: str, server: str) -> str:
        """Which extension a ``not-provided`` cell lacks, in words."""
        subject = self.rows.get(requirement, {}).get("subject")
        if trio_not_provided(subject, server in self.trio):
            return TRIO_NOT_PROVIDED
        return "extension not provided"

    def outcome(self, requirement: str, server: str) -> str | None:
        result = self.worst.get((requirement, server))
        return None if result is None else str(result["outcome"])

    def cell(self, requirement: str, server: str) -> str | None:
        """How the cell counts (:func:`verdicts.category`); ``None``: no result."""
        return self.counts_as(requirement, server, self.outcome(requirement, server))

    def counts(self, server: str, ids: list[str]) -> dict[str, int]:
        """Requirements of ``ids`` per category on ``server``, plus ``no result``."""
        counts: dict[str, int] = dict.fromkeys((*CATEGORIES, NO_RESULT), 0)
        for rid in ids:
            counts[self.cell(rid, server) or NO_RESULT] += 1
        return counts

    def totals(self) -> dict[str, int]:
        """Cells per category over every server; ``no result`` counts requirements that lack a
        result on at least one server."""
        totals: dict[str, int] = dict.fromkeys((*CATEGORIES, NO_RESULT), 0)
        ids = [rid for part in self.parts for rid in part.ids]
        for rid in ids:
            for server in self.servers:
                found = self.cell(rid, server)
                if found is not None:
                    totals[found] += 1
        totals[NO_RESULT] = sum(
            1 for rid in ids if any((rid, s) not in self.worst for s in self.servers)
        )
        return totals

    def area_counts(self, rows: list[dict[str, Any]]) -> dict[str, int]:
        counts: dict[str, int] = dict.fromkeys(CATEGORIES, 0)
        for row in rows:
            for server in self.servers:
                found = self.cell(row["id"], server)
                if found is not None:
                    counts[found] += 1
        return counts


def requirement_row(entry: dict[str, Any]) -> dict[str, Any]:
    """A catalogue entry with the fields the reports read, defaulted when the catalogue
    predates them (``subject`` from the id, ``level``, ``quote``, ``text``)."""
    row = dict(entry)
    row["subject"] = subject_of(entry)
    for key in ("level", "quote", "text", "source", "clause"):
        row.setdefault(key, "")
    return row


def _column_order(servers: list[str]) -> Callable[[str], tuple[int, int, str]]:
    """Sort key of a column: its transport (h1, h2c, h2), then its server's place in the run."""

    def key(name: str) -> tuple[int, int, str]:
        base, transport = split_column(name)
        place = servers.index(base) if base in servers else len(servers)
        return TRANSPORTS.index(transport), place, name

    return key


def build_grid(data: dict[str, Any]) -> Grid:
    names = [s["name"] for s in data["run"]["servers"]]
    # then the HTTP/2 columns: every NAME/h2c, then every NAME/h2 (run order within each)
    names += sorted({r["server"] for r in data["results"]} - set(names), key=_column_order(names))
    rows = [requirement_row(r) for r in data["requirements"]]
    known = {r["id"] for r in rows}
    for rid in sorted({r["requirement"] for r in data["results"]} - known):
        rows.append(requirement_row({"id": rid, "area": "(not in catalogue)"}))
    parts = []
    for subject in SUBJECTS:
        areas: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            if row["subject"] == subject:
                areas.setdefault(row["area"], []).append(row)
        if areas:
            parts.append(Part(subject, list(areas.items())))
    trio = frozenset(s["name"] for s in data["run"]["servers"] if runs_trio(s))
    return Grid(names, parts, aggregate(data["results"]), {row["id"]: row for row in rows}, trio)


def notable(data: dict[str, Any], grid: Grid, categories: tuple[str, ...]) -> list[dict[str, Any]]:
    """Results counted in one of ``categories``, server duties first, in report order."""
    order = {s: i for i, s in enumerate(SUBJECTS)}
    found = [
        r
        for r in data["results"]
        if grid.counts_as(r["requirement"], r["server"], r["outcome"]) in categories
    ]
    return sorted(found, key=lambda r: order[grid.rows[r["requirement"]]["subject"]])


def flaky_passes(data: dict[str, Any], grid: Grid) -> list[dict[str, Any]]:
    """Cells declared ``[flaky]`` whose requirement passed this run (one result per cell,
    server duties first): the reports name them so the intermittent fault stays visible."""
    order = {s: i for i, s in enumerate(SUBJECTS)}
    found = [
        r
        for (rid, server), r in grid.worst.items()
        if r.get("flaky") is True and r["outcome"] == "pass" and rid in grid.rows
    ]
    subject = {rid: order[row["subject"]] for rid, row in grid.rows.items()}
    return sorted(found, key=lambda r: (subject[r["requirement"]], r["requirement"], r["server"]))


def split_detail(result: dict[str, Any]) -> tuple[str, str, str]:
    """(what happened, the log heading, the server log tail) of a result."""
    detail = str(result.get("detail", ""))
    if result.get("log_tail"):
        heading = f"last lines of the {result['server']} log"
        return detail.rstrip(), heading, str(result["log_tail"]).strip("\n")
    found = LEGACY_LOG_MARKER.search(detail)
    if found is None:
        return detail.rstrip(), "", ""
    heading = found.group(0).strip("- ")
    return detail[: found.start()].rstrip(), heading, detail[found.end() :].strip("\n")


def declared_reason(result: dict[str, Any]) -> str:
    """The declared deviation's reason of a result ('' when none was declared)."""
    if result.get("reason"):
        return str(result["reason"])
    first = split_detail(result)[0].strip().split("\n", 1)[0]
    if first.startswith(LEGACY_DECLARED):
        return first.removeprefix(LEGACY_DECLARED).strip()
    return ""


def reason(result: dict[str, Any]) -> str:
    """A result in one line: a deviation's declared reason, else what happened (before the
    server log) with its whitespace collapsed."""
    if result["outcome"] == "deviation" and declared_reason(result):
        return declared_reason(result)
    if result["outcome"] == "unexpected-pass" and result.get("reason"):
        return f"declared deviation ({result['reason']}) but the case passed"
    main = split_detail(result)[0].strip()
    if main.startswith(LEGACY_DECLARED):
        main = main.split("\n", 1)[1] if "\n" in main else ""
    return short(" ".join(main.split()), 300)


def deviation_link(result: dict[str, Any]) -> str:
    """The server's issue-tracker link of a declared deviation: ``[deviation_links]`` of the
    server TOML, else the first URL in the reason ('' when there is none)."""
    if result.get("link"):
        return str(result["link"])
    found = URL.search(declared_reason(result))
    return found.group(0) if found else ""


def short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def plural(count: int, word: str, words: str | None = None) -> str:
    return f"{count} {word if count == 1 else (words or word + 's')}"


def run_line(run: dict[str, Any]) -> str:
    return (
        f"implementation {run['impl']} {run.get('impl_version') or '(unknown version)'} "
        f"on {run['python']}; started {run['started']}, {run['duration_s']} s"
    )


def provenance(run: dict[str, Any]) -> list[tuple[str, str]]:
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


def root_path_rows(data: dict[str, Any]) -> list[list[str]]:
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


def overview_parts(totals: dict[str, int]) -> list[tuple[str, str, int]]:
    """(text, anchor, count) of each part of the overview line."""
    return [
        (plural(totals["fail"], "failure"), "failures", totals["fail"]),
        (
            plural(totals["unexpected-pass"], "unexpected pass", "unexpected passes"),
            "failures",
            totals["unexpected-pass"],
        ),
        (plural(totals["error"], "harness error"), "errors", totals["error"]),
        (
            plural(totals[NOT_PROVIDED], "extension not provided", "extensions not provided"),
            "not-provided",
            totals[NOT_PROVIDED],
        ),
        (plural(totals["deviation"], "deviation"), "deviations", totals["deviation"]),
        (f"{totals['not-applicable']} not applicable", "grid", totals["not-applicable"]),
        (
            plural(
                totals[NO_RESULT], "requirement without results", "requirements without results"
            ),
            "grid",
            totals[NO_RESULT],
        ),
    ]


def glance(grid: Grid, part: Part) -> list[tuple[str, list[str]]]:
    """The part at a glance: per area, one text per server (``passed/applicable`` and the
    flagged categories, e.g. ``11/13 · 2 FAIL``; ``–`` when the server has no result)."""
    table = []
    for area, rows in part.areas:
        texts = []
        for server in grid.servers:
            counts = grid.counts(server, [row["id"] for row in rows])
            judged = len(rows) - counts[NO_RESULT] - counts["not-applicable"]
            if len(rows) == counts[NO_RESULT]:
                texts.append(LABELS[None])
                continue
            flags = [f"{counts[c]} {LABELS[c]}" for c in FLAGGED if counts[c]]
            texts.append(" · ".join([f"{counts['pass']}/{judged}", *flags]))
        table.append((area, texts))
    return table
