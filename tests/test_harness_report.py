"""Golden-file tests of the Markdown and HTML report writers, from a fixed conformance.json.

Regenerate after an intended change with ``UPDATE_GOLDEN=1 pytest tests/test_harness_report.py``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from conformance.harness import report, reportgrid
from conformance.harness.catalogue import Requirement
from conformance.harness.outcomes import Result

GOLDEN = Path(__file__).parent / "harness_golden"


def requirement(rid: str, area: str, source: str, clause: str, level: str, text: str) -> Any:
    """A catalogue row as ``conformance.json`` holds it (``subject`` left to its default)."""
    return {"id": rid, "area": area, "source": source, "clause": clause, "level": level,
            "text": text}  # fmt: skip


REQUIREMENTS = [
    requirement("X-ONE", "Area A", "RFC 1", "§1", "MUST", "One <must> hold."),
    requirement("X-TWO", "Area A", "RFC 1", "§2", "SHOULD", "Two should hold."),
    requirement("Y-ONE", "Area B", "API.md", "Thing", "API", "The API & its rule."),
    {
        **requirement("S-ONE", "Server area", "RFC 9", "§9", "MUST", "The server frames it."),
        "subject": "server",
        "quote": "A server MUST frame it.",
    },
    requirement("ASGI-HTTP-TWO", "Server area", "ASGI spec", "§2", "MUST", "Scope key."),
    requirement("Z-EXT", "Area B", "docs/api.md", "#extensions", "EXT", "An extension."),
]
RESULTS = [
    Result("X-ONE", "alpha", "c.py::test_one[alpha]", "pass", 0.01, ""),
    Result("X-ONE", "beta", "c.py::test_one[beta]", "fail", 0.02, "expected 1\nactual <2>"),
    Result("X-TWO", "alpha", "c.py::test_two[alpha]", "not-applicable", 0.0, "n/a: no ext"),
    Result("X-TWO", "beta", "c.py::test_two[beta]", "deviation", 0.01, "got 2", "known"),
    Result("Y-ONE", "alpha", "c.py::test_y[alpha]", "unexpected-pass", 0.01, "", "declared"),
    Result("Y-ONE", "beta", "c.py::test_y[beta]", "pass", 0.01, ""),
    Result("Y-ONE", "beta", "c.py::test_y2[beta]", "fail", 0.01, "second case fails"),
    Result("S-ONE", "alpha", "c.py::test_s[alpha]", "pass", 0.01, ""),
    Result("S-ONE", "beta", "c.py::test_s[beta]", "fail", 0.01, "bare LF", log_tail="boom"),
    Result("ASGI-HTTP-TWO", "alpha", "c.py::test_h[alpha]", "error", 0.01, "KeyError: 'x'"),
    Result(
        "ASGI-HTTP-TWO",
        "beta",
        "c.py::test_h[beta]",
        "deviation",
        0.01,
        "a str",
        "port is a str (https://tracker.example/issues/7)",
    ),
    Result("Z-EXT", "alpha", "c.py::test_z[alpha]", "pass", 0.01, ""),
    Result("Z-EXT", "beta", "c.py::test_z[beta]", "fail", 0.01, "no getlist"),
]
RUN: dict[str, Any] = {
    "impl": "baize",
    "impl_version": "0.1.0",
    "impl_file": "/env/lib/baize/__init__.py",
    "python": "CPython 3.11.9",
    "platform": "Linux-x86_64",
    "harness_version": "0.2.0",
    "harness_python": "CPython 3.11.9",
    "catalogue_sha256": "ab" * 32,
    "requirements_selected": [],
    "asgi_validation": True,
    "started": "2025-01-01T00:00:00+00:00",
    "duration_s": 12.5,
    "servers": [
        {
            "name": "alpha",
            "version": "1.0",
            "command": "{python} -m alpha --fd {fd} {app}",
            "extensions": ["http.response.pathsend"],
            "asgi": {"version": "3.0"},
        },
        {
            "name": "beta",
            "version": "2.0",
            "command": "{python} -m beta {app}",
            "extensions": None,
            "asgi": {"version": "3.0"},
        },
    ],
}
OPEN = {
    "root_path": {
        "question": "What the root-path option does.",
        "servers": {
            "alpha": {
                "option": "--root-path /mount",
                "with_prefix": {"request": "/mount/x", "status": 404},
                "without_prefix": {
                    "request": "/x",
                    "status": 200,
                    "path": "/mount/x",
                    "raw_path": "/mount/x",
                    "root_path": "/mount",
                },
            }
        },
    }
}


def document(
    requirements: list[dict[str, Any]], results: list[Result], facts: Any = None
) -> dict[str, Any]:
    return {**report.build(RUN, [], results, facts), "requirements": requirements}


def data() -> dict[str, Any]:
    return document(REQUIREMENTS, RESULTS, OPEN)


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_json_schema_is_exact() -> None:
    document = data()
    assert set(document) == {"run", "requirements", "results", "open_behaviours"}
    assert document["open_behaviours"] == OPEN
    assert set(document["results"][0]) == {
        "requirement",
        "server",
        "case",
        "outcome",
        "duration_s",
        "detail",
        "reason",
        "log_tail",
        "link",
        "transport",
    }
    keys = [(r["requirement"], r["server"], r["case"]) for r in document["results"]]
    assert keys == sorted(keys)


def test_a_catalogue_requirement_keeps_its_subject_and_quote() -> None:
    entry = Requirement("S-X", "Server area", "RFC 9", "§9", "MUST", "Frames.", "server", "Q.")
    document = report.build(RUN, [entry], [])
    assert document["requirements"][0]["subject"] == "server"
    assert document["requirements"][0]["quote"] == "Q."
    text = report.render_markdown(document)
    assert "### Server duties: 1 requirement" in text
    assert "### Implementation" not in text


def test_markdown_golden() -> None:
    check_golden("conformance.md", report.render_markdown(data()))


def test_html_golden() -> None:
    check_golden("conformance.html", report.render_html(data()))


def section(text: str, start: str, end: str = "\n## ") -> str:
    return text.split(start, 1)[1].split(end, 1)[0]


def test_server_duties_and_the_implementation_are_apart() -> None:
    text = report.render_markdown(data())
    server = section(text, "### Server duties: 2 requirements", "### Implementation")
    implementation = section(text, "### Implementation: 4 requirements", "Labels:")
    # pass, FAIL, XPASS, ERROR, dev, n/a, no result: no "no ext" column for server duties
    assert "| beta | 2.0 | 0 | **1** | 0 | 0 | 1 | 0 | 0 |" in server
    assert "| alpha | 1.0 | 1 | 0 | 0 | 1 | 0 | 0 | 0 |" in server
    # pass, FAIL, XPASS, ERROR, no ext, dev, n/a, no result
    assert "| beta | 2.0 | 0 | **2** | 0 | 0 | 1 | 1 | 0 | 0 |" in implementation
    assert "| alpha | 1.0 | 2 | 0 | **1** | 0 | 0 | 0 | 1 | 0 |" in implementation
    # The server's failure never shows in the implementation's part, and the reverse.
    assert "S-ONE" not in section(text, "## Implementation by area")
    assert "X-ONE" not in section(text, "## Server duties by area")
    # At a glance: passed/judged, then the flagged verdicts.
    assert (
        "| [Server area](#server-area) | **1/2 · 1 ERROR** | **0/2 · 1 FAIL · 1 dev** |" in server
    )


def test_ext_failures_are_extensions_not_provided_never_failures() -> None:
    text = report.render_markdown(data())
    assert "| `Z-EXT` | EXT | docs/api.md #extensions | pass | **no ext** |" in text
    assert "Z-EXT" not in section(text, "## Failures and unexpected passes")
    assert "| `Z-EXT` | beta | no getlist |" in section(text, "## Extensions not provided")
    assert "1 extension not provided" in text.splitlines()[4]
    page = report.render_html(data())
    assert '<span class="tag not-provided">no ext</span> <code>Z-EXT</code>' in page


def test_harness_errors_are_listed_apart_from_failures() -> None:
    text = report.render_markdown(data())
    assert "ASGI-HTTP-TWO" not in section(text, "## Failures and unexpected passes")
    errors = section(text, "## Harness errors")
    assert "### ERROR: `ASGI-HTTP-TWO` on alpha" in errors
    assert "KeyError: 'x'" in errors
    overview = text.splitlines()[4]
    assert overview.startswith(
        "[**3 failures**](#failures-and-unexpected-passes) · "
        "[**1 unexpected pass**](#failures-and-unexpected-passes) · "
        "[1 harness error](#harness-errors) · "
        "[1 extension not provided](#extensions-not-provided) · [2 deviations](#deviations)"
    )


def test_a_failure_quotes_its_clause_then_what_is_accepted_then_what_happened() -> None:
    text = report.render_markdown(data())
    failure = section(text, "### FAIL: `S-ONE` on beta", "### ")
    lines = [line for line in failure.splitlines() if line]
    assert lines[:4] == [
        "> A server MUST frame it.",
        ">",
        "> — RFC 9 §9 (MUST)",
        "Accepted: The server frames it.",
    ]
    assert "bare LF" in failure
    assert "<details><summary>last lines of the beta log</summary>" in failure
    page = report.render_html(data())
    assert "<blockquote>A server MUST frame it.<br>— RFC 9 §9 (MUST)</blockquote>" in page


def test_a_deviation_keeps_its_clause_and_links_the_servers_tracker() -> None:
    text = report.render_markdown(data())
    deviations = section(text, "## Deviations")
    assert "| `X-TWO` | beta | RFC 1 §2 | known |" in deviations
    assert (
        "| `ASGI-HTTP-TWO` | beta | ASGI spec §2 | port is a str "
        "(https://tracker.example/issues/7) |"
    ) in deviations
    linked = Result("X-TWO", "beta", "c", "deviation", 0.0, "", "known", "", "https://t.example/1")
    text = report.render_markdown(document(REQUIREMENTS, [linked]))
    assert "| `X-TWO` | beta | RFC 1 §2 | known ([issue](https://t.example/1)) |" in text
    page = report.render_html(document(REQUIREMENTS, [linked]))
    assert '<a href="https://t.example/1">issue</a>' in page


def test_overview_line_counts_cells_and_missing_requirements() -> None:
    extra = [*REQUIREMENTS, requirement("Z-NONE", "Area B", "RFC 2", "§9", "MUST", "Untested.")]
    markdown = report.render_markdown(document(extra, RESULTS, OPEN))
    assert markdown.splitlines()[4].endswith("1 not applicable · 1 requirement without results")
    assert "| beta | 2.0 | 0 | **2** | 0 | 0 | 1 | 1 | 0 | 1 |" in markdown  # no-result column
    page = report.render_html(document(extra, RESULTS, OPEN))
    assert '<a class="bad" href="#failures">3 failures</a>' in page
    assert '<a class="bad" href="#failures">1 unexpected pass</a>' in page
    assert '<a class="bad" href="#errors">1 harness error</a>' in page
    assert '<td class="v none" title="no result">–</td>' in page


def test_markdown_puts_summary_then_failures_then_grids() -> None:
    text = report.render_markdown(data())
    order = [
        "## Summary",
        "### Server duties",
        "### Implementation",
        "## Failures and unexpected passes",
        "## Harness errors",
        "## Extensions not provided",
        "## Deviations",
        "## Server duties by area",
        "## Implementation by area",
        "## Behaviours the spec leaves open: root_path",
    ]
    positions = [text.index(heading) for heading in order]
    assert positions == sorted(positions)
    assert "- [Area A](#area-a): 2 requirements, 1 FAIL, 1 dev" in text


def test_html_puts_summary_then_failures_then_one_grid_per_part() -> None:
    page = report.render_html(data())
    order = ['id="summary"', 'id="areas"', 'id="failures"', 'id="errors"', 'id="not-provided"']
    order += ['id="deviations"', 'id="grid"', 'id="grid-implementation"']
    positions = [page.index(marker) for marker in order]
    assert positions == sorted(positions)
    assert page.count('class="grid"') == 2  # one table a part: server columns line up
    assert page.count('<tr class="area">') == 3
    assert "position:sticky" in page
    assert "table-layout:fixed" in page
    failures = section(page, 'id="failures"', 'id="errors"')
    assert failures.count('<details class="result"') == 4
    assert failures.index("S-ONE") < failures.index("X-ONE")  # server duties first
    deviations = section(page, 'id="deviations"', 'id="grid"')
    assert "<details><summary>2 declared deviations" in deviations
    assert "<details open" not in page


def test_html_tooltips_carry_the_long_text() -> None:
    page = report.render_html(data())
    assert '<th title="{python} -m beta {app}">beta</th>' in page  # command on hover
    assert '<th title="unexpected-pass">XPASS</th>' in page
    assert 'title="fail: expected 1 actual &lt;2&gt;"' in page
    assert 'title="deviation: known"' in page
    assert '<td title="RFC 1 §1">RFC 1 §1</td>' in page


def test_log_tail_is_kept_apart_and_old_reports_still_split() -> None:
    result = {"server": "beta", "detail": "expected 1", "log_tail": "boom\n", "outcome": "fail"}
    assert reportgrid.split_detail(result) == ("expected 1", "last lines of the beta log", "boom")
    old = "declared deviation: slow\nexpected 1\n--- last lines of the beta log ---\nboom\n"
    legacy = {"server": "beta", "detail": old, "outcome": "deviation"}
    assert reportgrid.split_detail(legacy) == (
        "declared deviation: slow\nexpected 1",
        "last lines of the beta log",
        "boom",
    )
    assert reportgrid.reason(legacy) == "slow"
    assert reportgrid.reason({**legacy, "outcome": "fail", "detail": "a:\n  200\nb:  500"}) == (
        "a: 200 b: 500"
    )
    page = report.render_html(data())
    assert '<p>last lines of the beta log</p><pre class="log">boom</pre>' in page


def test_markdown_escapes_pipes_and_shortens_sources() -> None:
    long = requirement("L-ONE", "Area L", "RFC 9", "§" + "x" * 80, "MUST", "Long.")
    results = [Result("L-ONE", "alpha", "c.py::t[alpha]", "deviation", 0.1, "", "a | b")]
    text = report.render_markdown(document([long], results))
    assert "| `L-ONE` | alpha | RFC 9 §" + "x" * 80 + " | a \\| b |" in text
    row = next(line for line in text.splitlines() if line.startswith("| `L-ONE` | MUST"))
    assert "| RFC 9 §" + "x" * 32 + "… |" in row  # 40 characters in all


@pytest.mark.parametrize("needle", ["<script", "http://"])
def test_html_is_self_contained(needle: str) -> None:
    assert needle not in report.render_html(data())


def test_html_escapes_text() -> None:
    html = report.render_html(data())
    assert "actual &lt;2&gt;" in html
    assert "One &lt;must&gt; hold." in html


def test_headers_state_provenance() -> None:
    for text in (report.render_markdown(data()), report.render_html(data())):
        assert "/env/lib/baize/__init__.py" in text
        assert "ab" * 32 in text
        assert "Linux-x86_64" in text
        assert "0.2.0" in text
        assert "extensions advertised: http.response.pathsend" in text


def test_open_behaviours_are_facts_not_verdicts() -> None:
    text = report.render_markdown(data())
    section_text = text.split("## Behaviours the spec leaves open: root_path", 1)[1]
    assert "`path='/mount/x' raw_path='/mount/x' root_path='/mount'`" in section_text
    assert "status 404 (the app was not called)" in section_text
    summary = text.split("## Summary", 1)[1].split("## ", 1)[0]
    assert "root_path" not in summary  # never counted as pass or fail
    assert "what the root-path option does" in report.render_html(data()).lower()


def trio_document(trio: bool | None) -> dict[str, Any]:
    """The fixed report plus a configuration ``tri`` (``trio`` as given; ``None``: an old
    report without the field) where an implementation and a server requirement fail."""
    tri: dict[str, Any] = {"name": "tri", "version": "3.0", "command": "{python} -m tri {app}"}
    if trio is not None:
        tri["trio"] = trio
    results = [
        *RESULTS,
        Result("X-ONE", "tri", "c.py::test_one[tri]", "fail", 0.01, "sniffio: asyncio"),
        Result("S-ONE", "tri", "c.py::test_s[tri]", "fail", 0.01, "bare LF"),
    ]
    run = {**RUN, "servers": [*RUN["servers"], tri]}
    return {**report.build(run, [], results, OPEN), "requirements": REQUIREMENTS}


def test_an_implementation_failure_under_trio_is_the_trio_extension_not_provided() -> None:
    text = report.render_markdown(trio_document(True))
    # X-ONE fails on beta (asyncio): a failure; on tri (trio): the trio extension not provided.
    assert "| `X-ONE` | MUST | RFC 1 §1 | pass | **FAIL** | **no ext** |" in text
    assert "| `S-ONE` | MUST | RFC 9 §9 | pass | **FAIL** | **FAIL** |" in text  # server duty
    failures = section(text, "## Failures and unexpected passes")
    assert "`X-ONE` on beta" in failures and "`X-ONE` on tri" not in failures
    assert "`S-ONE` on tri" in failures
    assert "| `X-ONE` | tri | trio (extension) not provided: sniffio: asyncio |" in section(
        text, "## Extensions not provided"
    )
    page = report.render_html(trio_document(True))
    assert '<span class="tag not-provided">no ext</span> <code>X-ONE</code> on <b>tri</b>' in page


@pytest.mark.parametrize("trio", [False, None])
def test_the_same_failure_on_an_asyncio_or_unmarked_server_is_a_failure(trio: bool | None) -> None:
    text = report.render_markdown(trio_document(trio))
    assert "| `X-ONE` | MUST | RFC 1 §1 | pass | **FAIL** | **FAIL** |" in text
    assert "`X-ONE` on tri" in section(text, "## Failures and unexpected passes")
