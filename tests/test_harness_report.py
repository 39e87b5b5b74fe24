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
    "python": "CPython 3.11.9",
    "started": "2025-01-01T00:00:00+00:00",
    "duration_s": 12.5,
    "servers": [
        {"name": "alpha", "version": "1.0", "command": "{python} -m alpha --fd {fd} {app}"},
        {"name": "beta", "version": "2.0", "command": "{python} -m beta {app}"},
    ],
}


def data() -> dict[str, Any]:
    return report.build(RUN, REQUIREMENTS, RESULTS)


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_json_schema_is_exact() -> None:
    document = data()
    assert set(document) == {"run", "requirements", "results"}
    assert set(document["run"]) == {
        "impl",
        "impl_version",
        "python",
        "started",
        "duration_s",
        "servers",
    }
    assert set(document["requirements"][0]) == {"id", "area", "source", "clause", "level", "text"}
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
    assert "| `Y-ONE` | API | API.md Thing | XPASS | FAIL |" in text
    assert "| beta | 2.0 | 0 | 2 | 0 | 1 | 0 |" in text


@pytest.mark.parametrize("needle", ["<script", "http://", "https://"])
def test_html_is_self_contained(needle: str) -> None:
    assert needle not in report.render_html(data())


def test_html_escapes_text() -> None:
    html = report.render_html(data())
    assert "actual &lt;2&gt;" in html
    assert "One &lt;must&gt; hold." in html
