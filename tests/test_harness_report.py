"""Golden-file tests of the Markdown and HTML report writers, from a fixed conformance.json.

Regenerate after an intended change with ``UPDATE_GOLDEN=1 pytest tests/test_harness_report.py``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from conformance.harness import report
from conformance.harness.catalogue import Requirement
from conformance.harness.outcomes import Result

GOLDEN = Path(__file__).parent / "harness_golden"

REQUIREMENTS = [
    Requirement("X-ONE", "Area A", "RFC 1", "§1", "MUST", "One <must> hold."),
    Requirement("X-TWO", "Area A", "RFC 1", "§2", "SHOULD", "Two should hold."),
    Requirement("Y-ONE", "Area B", "API.md", "Thing", "API", "The API & its rule."),
]
RESULTS = [
    Result("X-ONE", "alpha", "c.py::test_one[alpha]", "pass", 0.01, ""),
    Result("X-ONE", "beta", "c.py::test_one[beta]", "fail", 0.02, "expected 1\nactual <2>"),
    Result("X-TWO", "alpha", "c.py::test_two[alpha]", "not-applicable", 0.0, "n/a: no ext"),
    Result("X-TWO", "beta", "c.py::test_two[beta]", "deviation", 0.01, "declared: known"),
    Result("Y-ONE", "alpha", "c.py::test_y[alpha]", "unexpected-pass", 0.01, "declared but ok"),
    Result("Y-ONE", "beta", "c.py::test_y[beta]", "pass", 0.01, ""),
    Result("Y-ONE", "beta", "c.py::test_y2[beta]", "fail", 0.01, "second case fails"),
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


def data() -> dict[str, Any]:
    return report.build(RUN, REQUIREMENTS, RESULTS, OPEN)


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_json_schema_is_exact() -> None:
    document = data()
    assert set(document) == {"run", "requirements", "results", "open_behaviours"}
    assert document["open_behaviours"] == OPEN
    assert set(document["requirements"][0]) == {
        "id",
        "area",
        "source",
        "clause",
        "level",
        "subject",
        "quote",
        "text",
    }
    assert set(document["results"][0]) == {
        "requirement",
        "server",
        "case",
        "outcome",
        "duration_s",
        "detail",
    }
    keys = [(r["requirement"], r["server"], r["case"]) for r in document["results"]]
    assert keys == sorted(keys)


def test_markdown_golden() -> None:
    check_golden("conformance.md", report.render_markdown(data()))


def test_html_golden() -> None:
    check_golden("conformance.html", report.render_html(data()))


def test_worst_outcome_wins_a_cell_and_counts() -> None:
    text = report.render_markdown(data())
    assert "| `Y-ONE` | API | API.md Thing | **XPASS** | **FAIL** |" in text
    # pass, FAIL, XPASS, dev, n/a, no result
    assert "| beta | 2.0 | 0 | **2** | 0 | 1 | 0 | 0 |" in text
    assert "| alpha | 1.0 | 1 | 0 | **1** | 0 | 1 | 0 |" in text


def test_overview_line_counts_cells_and_missing_requirements() -> None:
    extra = [*REQUIREMENTS, Requirement("Z-NONE", "Area B", "RFC 2", "§9", "MUST", "Untested.")]
    document = report.build(RUN, extra, RESULTS, OPEN)
    markdown = report.render_markdown(document)
    overview = (
        "[**2 failures**](#failures-and-unexpected-passes) · "
        "[**1 unexpected pass**](#failures-and-unexpected-passes) · "
        "[1 deviation](#deviations) · 1 not applicable · 1 requirement without results"
    )
    assert overview in markdown.splitlines()
    assert "| beta | 2.0 | 0 | **2** | 0 | 1 | 0 | 1 |" in markdown  # the no-result column
    page = report.render_html(document)
    assert '<a class="bad" href="#failures">2 failures</a>' in page
    assert '<a class="bad" href="#failures">1 unexpected pass</a>' in page
    assert '<a class="zero" href="#grid">0 requirements without results</a>' not in page
    assert '<td class="v none" title="no result">–</td>' in page


def test_markdown_puts_summary_then_failures_then_grid() -> None:
    text = report.render_markdown(data())
    order = [
        "## Summary",
        "## Failures and unexpected passes",
        "## Deviations",
        "## Requirements by area",
        "## Behaviours the spec leaves open: root_path",
    ]
    positions = [text.index(heading) for heading in order]
    assert positions == sorted(positions)
    assert "| `X-TWO` | beta | declared: known |" in text
    assert "- [Area A](#area-a): 2 requirements, 1 FAIL, 1 dev" in text


def test_html_puts_summary_then_failures_then_one_grid() -> None:
    page = report.render_html(data())
    order = ['id="summary"', 'id="areas"', 'id="failures"', 'id="deviations"', 'id="grid"']
    positions = [page.index(marker) for marker in order]
    assert positions == sorted(positions)
    assert page.count('<table id="grid">') == 1  # one table: server columns line up
    assert page.count('<tr class="area">') == 2
    assert "position:sticky" in page
    assert "table-layout:fixed" in page
    # Failures expand to their detail; deviations are collapsed inside their own section.
    failures = page.split('id="failures"', 1)[1].split('id="deviations"', 1)[0]
    assert failures.count('<details class="result"') == 3
    deviations = page.split('id="deviations"', 1)[1].split('id="grid"', 1)[0]
    assert "<details><summary>1 declared deviation" in deviations
    assert "<details open" not in page


def test_html_tooltips_carry_the_long_text() -> None:
    page = report.render_html(data())
    assert '<th title="{python} -m beta {app}">beta</th>' in page  # command on hover
    assert '<th title="unexpected-pass">XPASS</th>' in page
    assert 'title="fail: expected 1 actual &lt;2&gt;"' in page
    assert 'title="deviation: declared: known"' in page
    assert '<td title="RFC 1 §1">RFC 1 §1</td>' in page


def test_detail_is_split_from_the_server_log_tail() -> None:
    detail = "declared deviation: slow\nexpected 1\n--- last lines of the beta log ---\nboom\n"
    main, heading, log = report._split_detail(detail)
    assert (main, heading, log) == (
        "declared deviation: slow\nexpected 1",
        "last lines of the beta log",
        "boom",
    )
    assert report._reason(detail) == "slow"
    assert report._reason("expected:\n  200\nactual:\n  500") == "expected: 200 actual: 500"
    results = [Result("X-ONE", "beta", "c.py::t[beta]", "fail", 0.1, detail)]
    page = report.render_html(report.build(RUN, REQUIREMENTS, results))
    assert '<p>last lines of the beta log</p><pre class="log">boom</pre>' in page
    markdown = report.render_markdown(report.build(RUN, REQUIREMENTS, results))
    assert "<details><summary>last lines of the beta log</summary>" in markdown


def test_markdown_escapes_pipes_and_shortens_sources() -> None:
    long = Requirement("L-ONE", "Area L", "RFC 9", "§" + "x" * 80, "MUST", "Long.")
    results = [Result("L-ONE", "alpha", "c.py::t[alpha]", "deviation", 0.1, "a | b")]
    text = report.render_markdown(report.build(RUN, [long], results))
    assert "| `L-ONE` | alpha | a \\| b |" in text
    row = next(line for line in text.splitlines() if line.startswith("| `L-ONE` | MUST"))
    assert "| RFC 9 §" + "x" * 32 + "… |" in row  # 40 characters in all


@pytest.mark.parametrize("needle", ["<script", "http://", "https://"])
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
    section = text.split("## Behaviours the spec leaves open: root_path", 1)[1]
    assert "`path='/mount/x' raw_path='/mount/x' root_path='/mount'`" in section
    assert "status 404 (the app was not called)" in section
    summary = text.split("## Summary", 1)[1].split("##", 1)[0]
    assert "root_path" not in summary  # never counted as pass or fail
    assert "what the root-path option does" in report.render_html(data()).lower()
