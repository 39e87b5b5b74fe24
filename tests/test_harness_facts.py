"""Measured facts: which allowed answer a server chose (``srv_checks.answer_of``), noted by the
shared checks, filed per requirement id and merged per server (``harness/facts.py``)."""

from __future__ import annotations

from typing import Any

from conformance.harness.facts import (
    ANSWERS_TOPIC,
    answer_facts,
    merge_fact,
    note_answer,
    take_answers,
)
from conformance.harness.http1.response import RawResponse
from conformance.srv_checks import answer_of
from conformance.srv_wire import CANARY_PATH, Exchange


def response(status: int, body: bytes = b"") -> RawResponse:
    return RawResponse(status, "", "HTTP/1.1", [], body, None, [], b"")


def exchange(statuses: list[int], *, closed: bool, canary: bool = False) -> Exchange:
    responses = [response(status) for status in statuses]
    if canary:
        responses.append(response(200, b'{"path": {"str": "' + CANARY_PATH + b'"}}'))
    return Exchange(b"", responses, closed=closed, reset=False, timed_out=not closed)


def test_the_answer_says_status_and_what_became_of_the_connection() -> None:
    assert answer_of(exchange([400], closed=True)) == "400, then closed"
    assert answer_of(exchange([], closed=True)) == "closed without a response"
    assert answer_of(exchange([], closed=False)) == "no response, connection left open"
    assert answer_of(exchange([431], closed=False)) == "431, connection left open"
    kept = answer_of(exchange([400], closed=True, canary=True))
    assert kept == "400, connection kept (the pipelined request answered)"


def test_noted_answers_are_taken_once_and_filed_under_the_case_ids() -> None:
    take_answers()
    note_answer("alpha", "400, then closed")
    note_answer("alpha", "400, then closed")
    note_answer("beta", "closed without a response")
    facts = answer_facts(take_answers(), ["X-ONE", "X-TWO"])
    assert take_answers() == []
    assert {f["server"]: f["value"] for f in facts} == {
        "alpha": {"X-ONE": "400, then closed", "X-TWO": "400, then closed"},
        "beta": {"X-ONE": "closed without a response", "X-TWO": "closed without a response"},
    }
    assert all(f["topic"] == ANSWERS_TOPIC and f["merge"] for f in facts)


def test_mergeable_facts_add_up_per_server_and_plain_ones_replace() -> None:
    behaviours: dict[str, dict[str, Any]] = {}
    for ids, answer in ((["X-ONE"], "400, then closed"), (["X-TWO"], "431, then closed")):
        note_answer("alpha", answer)
        for fact in answer_facts(take_answers(), ids):
            merge_fact(behaviours, fact)
    servers = behaviours[ANSWERS_TOPIC]["servers"]
    assert servers == {"alpha": {"X-ONE": "400, then closed", "X-TWO": "431, then closed"}}
    plain = {"topic": "t", "question": "q", "server": "alpha", "value": {"a": 1}}
    merge_fact(behaviours, plain)
    merge_fact(behaviours, {**plain, "value": {"b": 2}})
    assert behaviours["t"]["servers"] == {"alpha": {"b": 2}}
