"""Measured facts on what a text leaves open (limits, which of two allowed answers): recorded
by a case, carried to the report's ``open_behaviours`` under a topic, never a verdict.

A case calls :func:`record_fact` with its ``request``; the plugin gathers every recorded fact
(also across xdist workers, through the report's user properties) into
``open_behaviours[topic] = {"question": ..., "servers": {server: value}}``.

A shared check that accepts several answers (``conformance/srv_checks.py``: a 400 or a close,
414 or 431, closed or kept open after a refusal) calls :func:`note_answer` instead; the plugin
files each noted answer under the running case's requirement ids in the topic
:data:`ANSWERS_TOPIC` (``servers: {server: {id: answer}}``).
"""

from __future__ import annotations

from typing import Any

import pytest

FACT_PROPERTY = "conformance.open_behaviour"
ANSWERS_TOPIC = "allowed_answers"
ANSWERS_QUESTION = (
    "Which of the answers its requirement allows each server chose for a request the "
    "requirement lets it refuse (the status, or a close without a response; then whether "
    "the connection was closed), per requirement id: facts, never verdicts."
)
_ANSWERS: list[tuple[str, str]] = []  # (server, answer) noted by the running case


def record_fact(
    request: pytest.FixtureRequest, topic: str, question: str, server: str, value: Any
) -> None:
    """Record ``value`` (JSON-serialisable) as what ``server`` does on ``topic``."""
    fact = {"topic": topic, "question": question, "server": server, "value": value}
    request.node.user_properties.append((FACT_PROPERTY, fact))


def merge_fact(behaviours: dict[str, dict[str, Any]], fact: dict[str, Any]) -> None:
    """Fold one recorded fact into ``behaviours`` (topic -> question and servers); a fact
    marked ``merge`` adds its keys to the server's value instead of replacing it."""
    topic = behaviours.setdefault(fact["topic"], {"question": fact["question"], "servers": {}})
    held = topic["servers"].get(fact["server"])
    if fact.get("merge") and isinstance(held, dict):
        held.update(fact["value"])
    else:
        topic["servers"][fact["server"]] = fact["value"]


def note_answer(server: str, answer: str) -> None:
    """Note which allowed answer ``server`` gave in the running case (see the module doc)."""
    _ANSWERS.append((server, answer))


def take_answers() -> list[tuple[str, str]]:
    """The answers noted since the last call (the plugin calls it before and after a case)."""
    taken = list(_ANSWERS)
    _ANSWERS.clear()
    return taken


def answer_facts(answers: list[tuple[str, str]], ids: list[str]) -> list[dict[str, Any]]:
    """One mergeable fact per server of ``answers``: ``{id: answer}`` for the case's ``ids``
    (several answers of one case on one server are joined with "; ")."""
    by_server: dict[str, list[str]] = {}
    for server, answer in answers:
        by_server.setdefault(server, []).append(answer)
    return [
        {
            "topic": ANSWERS_TOPIC,
            "question": ANSWERS_QUESTION,
            "server": server,
            "value": dict.fromkeys(ids, "; ".join(dict.fromkeys(texts))),
            "merge": True,
        }
        for server, texts in by_server.items()
    ]
