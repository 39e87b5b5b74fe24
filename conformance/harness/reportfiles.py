"""Writing a run's reports: ``NAME.json`` (canonical), ``NAME.md`` and ``NAME.html``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conformance.harness import report


def write_reports(directory: Path, name: str, data: dict[str, Any]) -> Path:
    """Write the three files of ``data`` (a :func:`report.build` document) as ``directory/name``
    with the suffixes ``.json``, ``.md`` and ``.html``; return the HTML file's path."""
    directory.mkdir(parents=True, exist_ok=True)
    base = directory / name
    base.with_suffix(".json").write_text(
        json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    base.with_suffix(".md").write_text(report.render_markdown(data), encoding="utf-8")
    base.with_suffix(".html").write_text(report.render_html(data), encoding="utf-8")
    return base.with_suffix(".html")
