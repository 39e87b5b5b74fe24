"""Wall time of the conformance suite's full default matrix, serial and with ``-n auto``.

Each run writes the suite's own report into a directory of its own under a temporary
directory (``--report-dir``), so the committed ``reports/conformance.*`` stay as they are;
the number of cases and the outcome counts are read back from that report.
"""

from __future__ import annotations

import collections
import datetime
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

#: (mode, extra pytest arguments), in the order they run.
MODES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("serial", ("-n", "0")),
    ("-n auto", ("-n", "auto")),
)
#: Seconds one run of the suite may take before it is stopped.
RUN_TIMEOUT = 3600

_COUNT = re.compile(
    r"(\d+) (passed|failed|skipped|xfailed|xpassed|errors?|deselected|warnings?|rerun)\b"
)
_WORKERS = re.compile(r"^created: (\d+)/\d+ workers?\b", re.MULTILINE)


def pytest_counts(summary: str) -> dict[str, int]:
    """The counts of pytest's closing line: ``3 passed, 1 failed, 2 xfailed in 4.2s``.

    ``error`` and ``errors`` are both read as ``errors``; likewise ``warnings``.
    """
    counts: dict[str, int] = {}
    for number, word in _COUNT.findall(summary):
        key = {"error": "errors", "warning": "warnings"}.get(word, word)
        counts[key] = counts.get(key, 0) + int(number)
    return counts


def summary_line(stdout: str, stderr: str) -> str:
    """Pytest's closing line (the last non-empty line of its output), or the error's tail."""
    lines = [ln.strip().strip("=").strip() for ln in stdout.splitlines() if ln.strip()]
    return lines[-1] if lines else stderr.strip()[-200:]


def conformance_outcomes(report_json: Path) -> tuple[int | None, dict[str, int]]:
    """Number of cases and outcome counts (``pass``, ``deviation``...) of a suite report.

    :returns: ``(None, {})`` if the report is missing or unreadable.
    """
    try:
        document = json.loads(report_json.read_text())
        results = document["results"]
        outcomes = collections.Counter(str(r["outcome"]) for r in results)
    except (OSError, ValueError, KeyError, TypeError):
        return None, {}
    return len(results), dict(sorted(outcomes.items()))


def time_runs(root: Path, python: str = sys.executable) -> list[dict[str, Any]]:
    """Run ``pytest conformance`` once per mode of :data:`MODES`, timed, one after the other."""
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="suite-timing-") as tmp:
        for mode, extra in MODES:
            report_dir = Path(tmp) / mode.replace(" ", "").replace("-", "")
            shown = ["pytest", "conformance", *extra]
            print(f"timing: {shlex.join(shown)} --report-dir <temporary>")
            started = time.perf_counter()
            try:
                result = subprocess.run(
                    [python, "-m", *shown, "--report-dir", str(report_dir)],
                    cwd=root,
                    capture_output=True,
                    text=True,
                    check=False,
                    timeout=RUN_TIMEOUT,
                )
                returncode: int | None = result.returncode
                stdout, stderr = result.stdout, result.stderr
            except subprocess.TimeoutExpired:
                returncode, stdout, stderr = None, "", f"stopped after {RUN_TIMEOUT} s"
            seconds = time.perf_counter() - started
            summary = summary_line(stdout, stderr)
            cases, outcomes = conformance_outcomes(report_dir / "conformance.json")
            workers = _WORKERS.search(stdout)
            run = {
                "mode": mode,
                "command": shlex.join(shown),
                "seconds": round(seconds, 2),
                "returncode": returncode,
                "summary": summary,
                "pytest": pytest_counts(summary),
                "cases": cases,
                "outcomes": outcomes,
                "workers": int(workers.group(1)) if workers else (1 if extra[-1] == "0" else None),
            }
            runs.append(run)
            print(
                f"  {mode}: {seconds:.1f} s, exit {returncode}: {summary}; {cases} cases {outcomes}"
            )
    return runs


def measure(root: Path, command: str, python: str = sys.executable) -> dict[str, Any]:
    """Time every mode; return the ``suite_timing`` section of ``performance.json``."""
    date = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    load = list(os.getloadavg())
    runs = time_runs(root, python)
    return {
        "date": date,
        "command": command,
        "cpu_count": os.cpu_count(),
        "load_average_at_start": load,
        "runs": runs,
    }
