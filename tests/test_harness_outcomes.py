"""How a case's exception becomes its outcome and detail in the report."""

from __future__ import annotations

import httpx
import pytest

from conformance.harness import ExpectationFailed, not_applicable
from conformance.harness.http1.errors import FramingError, ResponseTimeout
from conformance.harness.plugin import _base_outcome
from conformance.harness.sse import EventStreamError


def outcome_of(error: BaseException | None) -> tuple[str, str]:
    def run() -> None:
        if error is not None:
            raise error

    return _base_outcome(pytest.CallInfo.from_call(run, "call"))


def test_pass_has_no_detail() -> None:
    assert outcome_of(None) == ("pass", "")


def test_failed_expectation_keeps_its_message() -> None:
    outcome, detail = outcome_of(ExpectationFailed("status", ["200"], "500"))
    assert outcome == "fail"
    assert "status" in detail and "500" in detail
    assert "harness error" not in detail


def test_not_applicable_is_its_own_outcome() -> None:
    with pytest.raises(BaseException) as raised:
        not_applicable("the server does not offer pathsend")
    outcome, detail = outcome_of(raised.value)
    assert outcome == "not-applicable"
    assert detail.endswith("the server does not offer pathsend")


@pytest.mark.parametrize(
    "error",
    [FramingError("Content-Length in a 204 response"), EventStreamError("CR without LF")],
)
def test_broken_bytes_on_the_wire_are_a_protocol_violation_not_a_harness_error(
    error: Exception,
) -> None:
    outcome, detail = outcome_of(error)
    assert outcome == "fail"
    assert detail.startswith("protocol violation on the wire: ")
    assert str(error) in detail


def test_no_answer_is_a_failure_of_what_is_tested() -> None:
    outcome, detail = outcome_of(ResponseTimeout("no response head within 5 s"))
    assert (outcome, detail.split(":")[0]) == ("fail", "no complete answer")


def test_an_unexpected_exception_is_a_harness_error() -> None:
    outcome, detail = outcome_of(KeyError("oops"))
    assert outcome == "fail"
    assert detail.startswith("harness error: KeyError")


def test_a_client_timeout_is_no_complete_answer() -> None:
    outcome, detail = outcome_of(httpx.ReadTimeout("timed out"))
    assert (outcome, detail) == ("fail", "no complete answer: ReadTimeout: timed out")


def test_several_failures_of_what_is_tested_are_listed_together() -> None:
    group = ExceptionGroup(
        "Hypothesis found 2 distinct failures.",
        [ExpectationFailed("status", ["206"], "416"), FramingError("LF framing")],
    )
    outcome, detail = outcome_of(group)
    assert outcome == "fail"
    assert detail.startswith("2 distinct failures:\n")
    assert "416" in detail and "protocol violation on the wire: FramingError" in detail


def test_a_group_holding_a_harness_bug_stays_a_harness_error() -> None:
    group = ExceptionGroup("two", [ExpectationFailed("status", ["206"], "416"), KeyError("x")])
    assert outcome_of(group)[1].startswith("harness error: ExceptionGroup")
