"""Reports: ``conformance.json`` (canonical) and the Markdown and HTML renderings of it.

Both renderings lead with a one-line overview and, per catalogue part (the server's duties,
then the implementation under test), a summary per server and the areas at a glance; then the
failures and unexpected passes, the harness errors, the extensions not provided, the declared
deviations, and the grid of every requirement (:mod:`report_markdown`, :mod:`report_html`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from conformance.harness.catalogue import Requirement
from conformance.harness.outcomes import Result
from conformance.harness.report_html import render_html
from conformance.harness.report_markdown import render_markdown
from conformance.harness.reportgrid import LABELS, NO_RESULT, SHOWN

__all__ = ["LABELS", "NO_RESULT", "SHOWN", "build", "render_html", "render_markdown"]


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
