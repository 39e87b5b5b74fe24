"""The HTML report as a browser shows it: headless Chromium loads the page written by the
harness's own writer and the summary it renders must equal the counts computed from the JSON.

Chromium is driven over the DevTools protocol (``--remote-debugging-port=0``, the port read
from ``DevToolsActivePort`` in a fresh profile directory). Every browser process runs in its
own process group, which is killed on every path. Without Chromium these tests fail (not
skip): run ``.ci/install-system-deps`` as root first.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

from conformance.harness import report
from conformance.harness.outcomes import Result
from conformance.harness.verdicts import CATEGORIES, SEVERITY, SUBJECTS, subject_of

ROOT = Path(__file__).resolve().parent.parent
REAL_REPORT = ROOT / "reports" / "conformance.json"
INSTALL_HINT = "run .ci/install-system-deps (as root) to install Debian's chromium"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--remote-debugging-port=0",
    "--window-size=1400,1000",
)
START_TIMEOUT = 30.0  # seconds until DevToolsActivePort appears
CALL_TIMEOUT = 20.0  # seconds for one DevTools round trip
NO_RESULT = "no result"

pytestmark = pytest.mark.timeout(120)


def find_chromium() -> str:
    """The Chromium executable (``$CHROMIUM`` or ``chromium`` on ``PATH``); fails the test
    with the install hint when there is none."""
    executable = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if not executable or not os.access(executable, os.X_OK):
        pytest.fail(f"headless Chromium not found: {INSTALL_HINT}", pytrace=False)
    return executable


class Page:
    """One page target of a running browser, spoken to over its DevTools WebSocket."""

    def __init__(self, socket: ClientConnection, pid: int) -> None:
        self._socket = socket
        self.pid = pid  # the browser's process (and process group) id
        self._ids = count(1)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one command and return its ``result``; events in between are dropped."""
        ident = next(self._ids)
        self._socket.send(json.dumps({"id": ident, "method": method, "params": params}))
        deadline = time.monotonic() + CALL_TIMEOUT
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no DevTools answer to {method} in {CALL_TIMEOUT} s")
            message = json.loads(self._socket.recv(timeout=remaining))
            if message.get("id") != ident:
                continue
            if "error" in message:
                raise RuntimeError(f"DevTools {method} failed: {message['error']}")
            result: dict[str, Any] = message["result"]
            return result

    def evaluate(self, expression: str) -> Any:
        """The JSON value of ``expression`` evaluated in the page."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def load(self, url: str) -> None:
        """Navigate and wait (bounded) until the document has loaded."""
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + CALL_TIMEOUT
        while True:
            state = self.evaluate("document.location.href + ' ' + document.readyState")
            if state == f"{url} complete":
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} not loaded in {CALL_TIMEOUT} s (last: {state})")
            time.sleep(0.05)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the browser's process group, SIGKILL after 5 s, then reap."""
    for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        with suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace)
            break
    with suppress(ProcessLookupError):  # helpers left behind by the leader
        os.killpg(process.pid, signal.SIGKILL)


def _devtools_port(profile: Path, process: subprocess.Popen[bytes], log: Path) -> int:
    marker = profile / "DevToolsActivePort"
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"chromium exited with {process.returncode}:\n{tail}")
        lines = marker.read_text().splitlines() if marker.exists() else []
        if lines and lines[0].isdigit():
            return int(lines[0])
        time.sleep(0.05)
    raise TimeoutError(f"chromium wrote no DevToolsActivePort within {START_TIMEOUT} s")


@contextmanager
def browser_page() -> Iterator[Page]:
    """A headless Chromium with a fresh profile and one page; killed on every exit path."""
    executable = find_chromium()
    with tempfile.TemporaryDirectory(prefix="chromium-test-") as scratch:
        profile = Path(scratch) / "profile"
        log = Path(scratch) / "chromium.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [executable, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            port = _devtools_port(profile, process, log)
            with urllib.request.urlopen(
                f"http://127.0.0.1:{port}/json/list", timeout=CALL_TIMEOUT
            ) as answer:
                targets = json.load(answer)
            pages = [t for t in targets if t.get("type") == "page"]
            assert pages, f"no page target among {targets}"
            with connect(
                pages[0]["webSocketDebuggerUrl"],
                open_timeout=CALL_TIMEOUT,
                close_timeout=2,
                max_size=None,
            ) as socket:
                yield Page(socket, process.pid)
        finally:
            _stop(process)


# What the page shows, read after rendering: every table (marked as a summary by id/class
# "summary", with the catalogue part it counts in data-subject) as rows of visible cell text
# (innerText, so hidden text does not count), the overview line, the headings in order,
# each grid link and whether its target exists, where the first table sits, the grids'
# area rows and the left edge of each server column in the header and in every area.
READ_PAGE = """(() => {
  const text = (el) => el.innerText.replace(/\\s+/g, ' ').trim();
  const tables = [...document.querySelectorAll('table')].map((t) => ({
    summary: t.matches('#summary, .summary'),
    subject: t.dataset.subject || null,
    top: t.getBoundingClientRect().top,
    rows: [...t.rows].map((r) => [...r.cells].map(text)),
  }));
  const links = [...document.querySelectorAll('table.grid td a[href^="#"]')].map((a) => ({
    label: text(a),
    target: !!document.getElementById(decodeURIComponent(a.hash.slice(1))),
  }));
  const headings = [...document.querySelectorAll('h1,h2,h3')].map(text);
  const overview = document.querySelector('.overview');
  const grid = document.getElementById('grid');
  const edges = (row) => [...row.cells].slice(-SERVERS).map((c) => c.getBoundingClientRect().left);
  const areaRows = [...document.querySelectorAll('table.grid tr.area')];
  return {
    tables, links, headings, viewport: window.innerHeight,
    overview: overview ? text(overview) : null,
    areas: areaRows.map((r) => text(r.cells[0])),
    header: grid ? edges(grid.tHead.rows[0]) : [],
    columns: areaRows.map((r) => edges(r.nextElementSibling)),
  };
})()"""
# Where the grid's header row sits once the page is scrolled just past the header's own
# place (room below added so that a short page can scroll that far): sticky means at the top.
STUCK_HEADER = """(() => {
  document.body.style.paddingBottom = '3000px';
  const grid = document.getElementById('grid');
  const head = grid.tHead.getBoundingClientRect();
  window.scrollTo(0, window.scrollY + head.bottom + 1);
  const th = grid.tHead.rows[0].cells[0];
  return {top: th.getBoundingClientRect().top, scrolled: window.scrollY};
})()"""
# Whether the element a fragment names is shown: every <details> around it is open.
FRAGMENT_SHOWN = """((id) => {
  const target = document.getElementById(id);
  let node = target && target.parentElement;
  while (node) {
    if (node.tagName === 'DETAILS' && !node.open) return false;
    node = node.parentElement;
  }
  return !!target;
})"""


def _subjects(data: dict[str, Any]) -> dict[str, str]:
    """Requirement id -> the catalogue part it is counted in (its subject)."""
    ids = {r["requirement"] for r in data["results"]} - {r["id"] for r in data["requirements"]}
    rows = [*data["requirements"], *({"id": rid} for rid in ids)]
    return {row["id"]: subject_of(row) for row in rows}


def _levels(data: dict[str, Any]) -> dict[str, str]:
    return {row["id"]: row.get("level", "") for row in data["requirements"]}


def expected_counts(data: dict[str, Any], subject: str | None = None) -> dict[str, dict[str, int]]:
    """Per server, the number of requirements (of ``subject``'s part, or all) per category (a
    cell's worst verdict; an EXT failure counts as ``not-provided``), and ``no result``:
    requirements (catalogue or results) with no result on that server."""
    subjects, levels = _subjects(data), _levels(data)
    ids = {rid for rid, part in subjects.items() if subject in (None, part)}
    cells: dict[tuple[str, str], str] = {}
    for result in data["results"]:
        key = (result["server"], result["requirement"])
        previous = cells.get(key)
        if previous is None or SEVERITY.index(result["outcome"]) < SEVERITY.index(previous):
            cells[key] = result["outcome"]
    servers = [s["name"] for s in data["run"]["servers"]]
    servers += sorted({r["server"] for r in data["results"]} - set(servers))
    keys = (*CATEGORIES, NO_RESULT)
    counts: dict[str, dict[str, int]] = {s: dict.fromkeys(keys, 0) for s in servers}
    for (server, rid), outcome in cells.items():
        if rid in ids:
            shown = "not-provided" if (outcome, levels.get(rid)) == ("fail", "EXT") else outcome
            counts[server][shown] += 1
    for server in servers:
        counts[server][NO_RESULT] = sum(1 for rid in ids if (server, rid) not in cells)
    return counts


def expected_overview(data: dict[str, Any]) -> dict[str, int]:
    """The overview line's numbers: cells per category over every server, and requirements
    that lack a result on at least one server."""
    counts = expected_counts(data)
    totals: dict[str, int] = {
        o: sum(c[o] for c in counts.values()) for o in CATEGORIES if o != "pass"
    }
    ids = {r["id"] for r in data["requirements"]} | {r["requirement"] for r in data["results"]}
    covered = {(r["server"], r["requirement"]) for r in data["results"]}
    totals[NO_RESULT] = sum(1 for rid in ids if any((s, rid) not in covered for s in counts))
    return totals


def shown_overview(line: str) -> dict[str, int]:
    """``N failures · N unexpected passes · ...`` as numbers per category."""
    words = {
        "failure": "fail",
        "failures": "fail",
        "unexpected pass": "unexpected-pass",
        "unexpected passes": "unexpected-pass",
        "harness error": "error",
        "harness errors": "error",
        "extension not provided": "not-provided",
        "extensions not provided": "not-provided",
        "deviation": "deviation",
        "deviations": "deviation",
        "not applicable": "not-applicable",
        "requirement without results": NO_RESULT,
        "requirements without results": NO_RESULT,
    }
    shown: dict[str, int] = {}
    for part in line.split(" · "):
        number, _, name = part.partition(" ")
        assert number.isdigit() and name in words, f"overview part {part!r} of {line!r}"
        shown[words[name]] = int(number)
    return shown


def _label_to_category(label: str) -> str | None:
    label = label.lower()
    if label == NO_RESULT:
        return NO_RESULT
    for shown in CATEGORIES:
        if label in (shown, report.LABELS[shown].lower()):
            return shown
    return None


def shown_counts(table: list[list[str]], subject: str) -> dict[str, dict[str, int]]:
    """A summary table as the page shows it: first column → category → number (columns
    headed by a category's name or label, or "no result"; other columns are ignored). A
    server-duties table has no "no ext" column: extensions are the implementation's."""
    header, *rows = table
    columns = {i: _label_to_category(label) for i, label in enumerate(header)}
    found = {o for o in columns.values() if o}
    wanted = {*CATEGORIES, NO_RESULT} - ({"not-provided"} if subject == "server" else set())
    assert found == wanted, f"summary header {header} lacks a column"
    shown: dict[str, dict[str, int]] = {}
    for row in rows:
        numbers = {columns[i]: cell for i, cell in enumerate(row) if columns.get(i)}
        assert all(n.isdigit() for n in numbers.values()), f"summary row {row}"
        shown[row[0]] = {str(o): int(n) for o, n in numbers.items()}
        shown[row[0]].setdefault("not-provided", 0)
    return shown


def render_and_read(data: dict[str, Any], directory: Path) -> dict[str, Any]:
    page_path = directory / "conformance.html"
    page_path.write_text(report.render_html(data), encoding="utf-8")
    servers = len(expected_counts(data))
    with browser_page() as page:
        page.load(page_path.as_uri())
        seen: dict[str, Any] = page.evaluate(READ_PAGE.replace("SERVERS", str(servers)))
        seen["stuck"] = page.evaluate(STUCK_HEADER)
    return seen


def check_summary(data: dict[str, Any], seen: dict[str, Any]) -> None:
    assert seen["tables"], "the page shows no table"
    marked = [t for t in seen["tables"] if t["summary"]]
    assert marked, "no summary table"
    assert marked[0]["top"] < seen["viewport"], "the summary table is not in the first screen"
    parts = [s for s in SUBJECTS if s in set(_subjects(data).values())]
    assert [t["subject"] for t in marked] == parts, "one summary a catalogue part, in order"
    for summary in marked:
        expected = expected_counts(data, summary["subject"])
        shown = shown_counts(summary["rows"], summary["subject"])
        # Rows for every server; a totals row or the like is not compared.
        assert {s: shown.get(s) for s in expected} == expected
    assert seen["overview"], "no overview line"
    assert shown_overview(seen["overview"]) == expected_overview(data)


def check_grid(seen: dict[str, Any]) -> None:
    """Server columns line up in every area of every grid, and the first grid's header stays
    on screen when scrolled."""
    assert seen["header"], "no grid header row"
    for area, edges in zip(seen["areas"], seen["columns"], strict=True):
        assert edges == seen["header"], f"server columns of {area!r} do not line up"
    stuck = seen["stuck"]
    assert stuck["scrolled"] > 0
    assert 0 <= stuck["top"] < 5, f"the grid header scrolled away: {stuck}"


def requirement(rid: str, area: str, source: str, clause: str, level: str, text: str) -> Any:
    """A catalogue row as ``conformance.json`` holds it."""
    return {"id": rid, "area": area, "source": source, "clause": clause, "level": level,
            "text": text}  # fmt: skip


def document(requirements: list[dict[str, Any]], results: list[Result]) -> dict[str, Any]:
    return {**report.build(RUN, [], results), "requirements": requirements}


REQUIREMENTS = [
    requirement("A-ONE", "Area A", "RFC 1", "§1", "MUST", "One <b>must</b> hold."),
    requirement("A-TWO", "Area A", "RFC 1", "§2", "SHOULD", "Two should hold."),
    requirement("B-ONE", "Area B", "API.md", "Thing", "API", "The API & its rule."),
    requirement("B-TWO", "Area B", "API.md", "Other", "API", "Another rule."),
    requirement("B-EXT", "Area B", "docs/api.md", "#extensions", "EXT", "An extension."),
    requirement("SRV-ONE", "Server area", "RFC 9112", "§6", "MUST", "Framing."),
]
RESULTS = [
    Result("A-ONE", "alpha", "c.py::test_a1[alpha]", "pass", 0.01, ""),
    Result("A-ONE", "beta", "c.py::test_a1[beta]", "fail", 0.02, "expected 1\nactual <2>"),
    Result("A-ONE", "gamma", "c.py::test_a1[gamma]", "pass", 0.01, ""),
    Result("A-TWO", "alpha", "c.py::test_a2[alpha]", "not-applicable", 0.0, "no ext"),
    Result("A-TWO", "beta", "c.py::test_a2[beta]", "deviation", 0.01, "declared: known"),
    Result("A-TWO", "gamma", "c.py::test_a2[gamma]", "pass", 0.01, ""),
    Result("B-ONE", "alpha", "c.py::test_b1[alpha]", "unexpected-pass", 0.01, "declared"),
    Result("B-ONE", "beta", "c.py::test_b1[beta]", "pass", 0.01, ""),
    Result("B-ONE", "beta", "c.py::test_b1x[beta]", "fail", 0.01, "second case fails"),
    Result("B-ONE", "gamma", "c.py::test_b1[gamma]", "pass", 0.01, ""),
    Result("B-TWO", "alpha", "c.py::test_b2[alpha]", "pass", 0.01, ""),
    Result("B-TWO", "beta", "c.py::test_b2[beta]", "pass", 0.01, ""),
    Result("B-TWO", "delta", "c.py::test_b2[delta]", "pass", 0.01, ""),
    Result("B-EXT", "alpha", "c.py::test_be[alpha]", "pass", 0.01, ""),
    Result("B-EXT", "beta", "c.py::test_be[beta]", "fail", 0.01, "no getlist"),
    Result("SRV-ONE", "alpha", "c.py::test_s[alpha]", "error", 0.01, "KeyError: 'x'"),
    Result("SRV-ONE", "beta", "c.py::test_s[beta]", "fail", 0.01, "bare LF"),
    Result("SRV-ONE", "gamma", "c.py::test_s[gamma]", "pass", 0.01, ""),
]
UNTESTED = requirement("B-NONE", "Area B", "API.md", "None", "API", "Nobody tested it.")
RUN: dict[str, Any] = {
    "impl": "baize",
    "impl_version": "0.1.0",
    "python": "CPython 3.11.9",
    "started": "2025-01-01T00:00:00+00:00",
    "duration_s": 12.5,
    "servers": [
        {"name": "alpha", "version": "1.0", "command": "{python} -m alpha --fd {fd} {app}"},
        {"name": "beta", "version": "2.0", "command": "{python} -m beta {app}"},
        {"name": "gamma", "version": "3.0", "command": "{python} -m gamma {app}"},
    ],
}


def test_expected_counts_take_the_worst_verdict_per_cell() -> None:
    data = document(REQUIREMENTS, RESULTS)
    counts = expected_counts(data)
    assert counts["beta"] == {
        "pass": 1,
        "fail": 3,
        "error": 0,
        "not-applicable": 0,
        "deviation": 1,
        "unexpected-pass": 0,
        "not-provided": 1,
        NO_RESULT: 0,
    }
    assert counts["alpha"]["unexpected-pass"] == 1
    assert counts["alpha"]["error"] == 1
    assert counts["delta"]["pass"] == 1  # a server seen only in results still counts
    assert counts["delta"][NO_RESULT] == 5
    assert counts["beta"][NO_RESULT] == 0
    assert expected_counts(data, "server")["beta"]["fail"] == 1
    assert expected_counts(data, "implementation")["beta"]["fail"] == 2


def test_missing_chromium_fails_with_the_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(pytest.fail.Exception, match=r"\.ci/install-system-deps"):
        find_chromium()


def _live_members(group: int) -> list[str]:
    """Processes of a process group that are still running (zombies left to init count as
    gone): ``/proc/PID/stat`` fields after the command are state, ppid, pgrp."""
    live = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == group and fields[0] not in ("Z", "X"):
                live.append(stat.parent.name)
    return live


def test_browser_is_killed_when_the_body_raises() -> None:
    with pytest.raises(RuntimeError, match="boom"), browser_page() as page:
        group = page.pid
        assert _live_members(group), "the browser should be running inside the block"
        raise RuntimeError("boom")
    assert _live_members(group) == []


def test_summary_shown_by_chromium_equals_the_json(tmp_path: Path) -> None:
    data = document([*REQUIREMENTS, UNTESTED], RESULTS)
    seen = render_and_read(data, tmp_path)
    check_summary(data, seen)
    check_grid(seen)
    assert expected_counts(data)["delta"][NO_RESULT] == 6  # the no-result column is exercised
    headings = seen["headings"]
    assert headings[0] == "Conformance report"
    order = ["Summary", "Areas", "Failures and unexpected passes (4)", "Harness errors (1)"]
    order += ["Extensions not provided (1)", "Deviations (1)"]
    order += ["Server duties by area", "Implementation by area"]
    assert [headings.index(h) for h in order] == sorted(headings.index(h) for h in order)
    assert [a.split(" · ")[0] for a in seen["areas"]] == [
        "Server area 1 requirement",
        "Area A 2 requirements",
        "Area B 4 requirements",
    ]
    # Every flagged cell links to its detail, and the detail exists.
    labels = sorted(link["label"] for link in seen["links"])
    wanted = ["error", "fail", "fail", "fail", "not-provided", "deviation", "unexpected-pass"]
    assert labels == sorted(report.LABELS[o] for o in wanted)
    assert all(link["target"] for link in seen["links"]), seen["links"]


def test_a_link_to_a_collapsed_deviation_shows_it(tmp_path: Path) -> None:
    page_path = tmp_path / "conformance.html"
    page_path.write_text(report.render_html(document(REQUIREMENTS, RESULTS)))
    anchor = "r-A-TWO-beta"
    with browser_page() as page:
        page.load(page_path.as_uri())
        assert page.evaluate(f"({FRAGMENT_SHOWN})({anchor!r})") is False  # collapsed at first
        page.call("Page.navigate", url=f"{page_path.as_uri()}#{anchor}")
        deadline = time.monotonic() + CALL_TIMEOUT
        while not page.evaluate(f"({FRAGMENT_SHOWN})({anchor!r})"):
            assert time.monotonic() < deadline, "following the link left the deviation hidden"
            time.sleep(0.05)


def test_summary_of_the_committed_report_equals_its_json(tmp_path: Path) -> None:
    data = json.loads(REAL_REPORT.read_text(encoding="utf-8"))
    seen = render_and_read(data, tmp_path)
    check_summary(data, seen)
    check_grid(seen)
    notable = sum(1 for r in data["results"] if r["outcome"] not in ("pass", "not-applicable"))
    assert bool(seen["links"]) == bool(notable)
    assert all(link["target"] for link in seen["links"])
