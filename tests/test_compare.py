"""``python -m conformance.compare OLD.json NEW.json``: changed cells, order, exit status."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from conformance.compare import compare, main, render

ROOT = Path(__file__).resolve().parent.parent


def doc(*rows: tuple[str, str, str], sha: str = "a" * 64) -> dict[str, Any]:
    return {
        "run": {"impl": "baize", "impl_version": "1", "started": "t", "catalogue_sha256": sha},
        "requirements": [],
        "results": [
            {"requirement": r, "server": s, "case": f"c::{r}[{s}]", "outcome": o}
            for r, s, o in rows
        ],
    }


OLD = doc(
    ("A-1", "uvicorn", "pass"),
    ("A-2", "uvicorn", "fail"),
    ("A-3", "uvicorn", "pass"),
    ("A-4", "daphne", "deviation"),
    ("A-5", "daphne", "pass"),
    ("A-6", "daphne", "pass"),
)
NEW = doc(
    ("A-1", "uvicorn", "pass"),
    ("A-2", "uvicorn", "pass"),
    ("A-3", "uvicorn", "fail"),
    ("A-4", "daphne", "unexpected-pass"),
    ("A-5", "daphne", "not-applicable"),
    ("A-7", "daphne", "pass"),
)


def test_changes_per_server_new_failures_first() -> None:
    changes = compare(OLD, NEW)
    listed = [(c.server, c.requirement, c.old, c.new) for c in changes]
    assert listed == [
        ("daphne", "A-4", "deviation", "unexpected-pass"),
        ("daphne", "A-6", "pass", "absent"),
        ("daphne", "A-7", "absent", "pass"),
        ("daphne", "A-5", "pass", "not-applicable"),
        ("uvicorn", "A-3", "pass", "fail"),
        ("uvicorn", "A-2", "fail", "pass"),
    ]
    assert [c.regression for c in changes] == [False] * 4 + [True, False]


def test_worst_result_is_the_cell() -> None:
    old = doc(("A-1", "x", "pass"), ("A-1", "x", "pass"))
    new = doc(("A-1", "x", "pass"), ("A-1", "x", "fail"))
    assert [(c.old, c.new) for c in compare(old, new)] == [("pass", "fail")]


def test_render_marks_regressions_and_catalogue_change() -> None:
    text = render(OLD, doc(("A-1", "uvicorn", "fail"), sha="b" * 64), compare(OLD, NEW))
    assert "note: the requirement catalogues differ" in text
    assert "A-3: pass -> fail  REGRESSION" in text
    assert text.index("daphne:") < text.index("uvicorn:")


def write(path: Path, data: dict[str, Any]) -> str:
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def test_exit_status(tmp_path: Path, capsys: Any) -> None:
    old, new = write(tmp_path / "old.json", OLD), write(tmp_path / "new.json", NEW)
    assert main([old, new]) == 1
    assert "REGRESSION" in capsys.readouterr().out
    assert main([old, old]) == 0
    assert "no outcome changed" in capsys.readouterr().out
    assert main([new, old]) == 1  # A-6 was absent in new; A-2 pass -> fail going back
    (tmp_path / "bad.json").write_text("{}")
    assert main([old, str(tmp_path / "bad.json")]) == 2
    assert main([old, str(tmp_path / "missing.json")]) == 2


def test_improvement_only_exits_zero(tmp_path: Path) -> None:
    old = write(tmp_path / "o.json", doc(("A-1", "x", "fail")))
    new = write(tmp_path / "n.json", doc(("A-1", "x", "pass")))
    assert main([old, new]) == 0


def test_runs_as_a_module(tmp_path: Path) -> None:
    old, new = write(tmp_path / "old.json", OLD), write(tmp_path / "new.json", NEW)
    done = subprocess.run(
        [sys.executable, "-m", "conformance.compare", old, new],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "uvicorn:" in done.stdout


def test_a_new_harness_error_is_a_regression_and_ranks_with_new_failures() -> None:
    changes = compare(
        doc(("A-1", "x", "pass"), ("A-2", "x", "fail")),
        doc(("A-1", "x", "error"), ("A-2", "x", "error")),
    )
    assert [(c.requirement, c.old, c.new, c.regression, c.rank) for c in changes] == [
        ("A-1", "pass", "error", True, 0),
        ("A-2", "fail", "error", False, 3),  # a known failure outranks an unknown result
    ]


def test_a_cell_with_a_failure_and_an_error_is_a_failure() -> None:
    old = doc(("A-1", "x", "error"))
    new = doc(("A-1", "x", "error"), ("A-1", "x", "fail"))
    assert [(c.old, c.new) for c in compare(old, new)] == [("error", "fail")]
