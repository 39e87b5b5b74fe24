"""Measured facts (``open_behaviours``) as report sections (harness/report_facts.py)."""

from __future__ import annotations

from typing import Any

from conformance.harness.report_facts import fact_sections, shown

DATA: dict[str, Any] = {
    "open_behaviours": {
        "idle_keep_alive": {
            "question": "When is an idle connection closed?",
            "servers": {
                "uvicorn": {"closed": True, "seconds": 5.0, "text": "closed after 5.0 s"},
                "daphne": {"closed": True, "seconds": 60.0, "text": "closed after 60.0 s"},
            },
        },
        "allowed_answers": {
            "question": "Which allowed answer?",
            "servers": {"granian": {"A": "400, then closed", "B": "400, then closed", "C": "431"}},
        },
        "lifespan_startup_failed_exit_status": {
            "question": "Exit status?",
            "servers": {"tremolo": None, "uvicorn": 3},
        },
        "root_path": {"question": "own table", "servers": {"uvicorn": {}}},
    }
}


def test_every_topic_but_root_path_is_a_section_with_sorted_servers() -> None:
    sections = {topic: rows for topic, _, rows in fact_sections(DATA)}
    assert set(sections) == {
        "idle_keep_alive",
        "allowed_answers",
        "lifespan_startup_failed_exit_status",
    }
    assert sections["idle_keep_alive"] == [
        ("daphne", "closed after 60.0 s"),
        ("uvicorn", "closed after 5.0 s"),
    ]


def test_allowed_answers_are_counted_most_common_first() -> None:
    assert shown("allowed_answers", {"A": "431", "B": "400", "C": "400"}) == "400 (2); 431 (1)"


def test_plain_values_and_none() -> None:
    assert shown("lifespan_startup_failed_exit_status", None) == "–"
    assert shown("lifespan_startup_failed_exit_status", 3) == "3"
    assert shown("http2_settings", {"max_frame_size": 16384}) == "max_frame_size 16384"


def test_no_facts_no_sections() -> None:
    assert fact_sections({}) == []
