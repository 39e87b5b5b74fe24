"""The measured facts of a run (``open_behaviours``) as rows the reports can show.

Every topic but ``root_path`` (which has its own table: ``reportgrid.root_path_rows``) becomes
one section: its question, then one row per server column with what was measured, in words.
The JSON keeps the full values; this is the readable digest.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from conformance.harness.facts import ANSWERS_TOPIC

#: Topics with a table of their own elsewhere in the reports.
OWN_TABLE = ("root_path",)


def shown(topic: str, value: Any) -> str:
    """One server's measured value in words."""
    if topic == ANSWERS_TOPIC and isinstance(value, dict):
        counts = Counter(str(answer) for answer in value.values())
        return "; ".join(f"{answer} ({count})" for answer, count in counts.most_common())
    if isinstance(value, dict):
        if isinstance(value.get("text"), str):
            return str(value["text"])
        return ", ".join(f"{key} {item}" for key, item in value.items())
    return "–" if value is None else str(value)


def fact_sections(data: dict[str, Any]) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(topic, question, [(server, what was measured)]) of each topic, servers sorted."""
    sections = []
    for topic, entry in sorted(data.get("open_behaviours", {}).items()):
        if topic in OWN_TABLE or not isinstance(entry, dict):
            continue
        servers = entry.get("servers", {})
        rows = [(server, shown(topic, servers[server])) for server in sorted(servers)]
        sections.append((topic, str(entry.get("question", "")), rows))
    return sections
