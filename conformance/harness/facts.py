"""Measured facts on what a text leaves open (limits, which of two allowed answers): recorded
by a case, carried to the report's ``open_behaviours`` under a topic, never a verdict.

A case calls :func:`record_fact` with its ``request``; the plugin gathers every recorded fact
(also across xdist workers, through the report's user properties) into
``open_behaviours[topic] = {"question": ..., "servers": {server: value}}``.
"""

from __future__ import annotations

from typing import Any

import pytest

FACT_PROPERTY = "conformance.open_behaviour"


def record_fact(
    request: pytest.FixtureRequest, topic: str, question: str, server: str, value: Any
) -> None:
    """Record ``value`` (JSON-serialisable) as what ``server`` does on ``topic``."""
    fact = {"topic": topic, "question": question, "server": server, "value": value}
    request.node.user_properties.append((FACT_PROPERTY, fact))


def merge_fact(behaviours: dict[str, dict[str, Any]], fact: dict[str, Any]) -> None:
    """Fold one recorded fact into ``behaviours`` (topic -> question and servers)."""
    topic = behaviours.setdefault(fact["topic"], {"question": fact["question"], "servers": {}})
    topic["servers"][fact["server"]] = fact["value"]
