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
