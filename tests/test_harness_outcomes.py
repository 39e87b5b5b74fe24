"""How a case's exception becomes its outcome and detail in the report: ``fail`` when it says
something about what is under test, ``error`` (no verdict) when it does not."""

from __future__ import annotations

import httpx
import pytest

from conformance.harness import ExpectationFailed, not_applicable
from conformance.harness.classify import base_outcome
from conformance.harness.http1.errors import FramingError, ResponseTimeout
from conformance.harness.outcomes import HarnessError, Result, apply_deviation
from conformance.harness.sse import EventStreamError


def outcome_of(error: BaseException | None) -> tuple[str, str]:
    def run() -> None:
        if error is not None:
            raise error

    case = base_outcome(pytest.CallInfo.from_call(run, "call"))
    return case.outcome, case.detail


def test_pass_has_no_detail() -> None:
    assert outcome_of(None) == ("pass", "")


def test_failed_expectation_keeps_its_message() -> None:
    outcome, detail = outcome_of(ExpectationFailed("status", ["200"], "500"))
    assert outcome == "fail"
    assert "status" in detail and "500" in detail


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


def test_an_unexpected_exception_is_an_error_not_a_failure() -> None:
    assert outcome_of(KeyError("oops")) == ("error", "KeyError: 'oops'")


def test_a_plain_skip_is_an_error_not_a_verdict() -> None:
    with pytest.raises(BaseException) as raised:
        pytest.skip("later")
    outcome, detail = outcome_of(raised.value)
    assert (outcome, detail) == ("error", "a plain skip is not a verdict: later")


def test_a_server_that_did_not_start_is_an_error_with_its_log_apart() -> None:
    def run() -> None:
        raise HarnessError("server 'alpha' exited with status 1", "Traceback: boom")

    case = base_outcome(pytest.CallInfo.from_call(run, "call"))
    assert (case.outcome, case.detail, case.log_tail) == (
        "error",
        "server 'alpha' exited with status 1",
        "Traceback: boom",
    )
    # pytest itself still shows everything, the log included.
    with pytest.raises(pytest.fail.Exception, match=r"(?s)harness error: server.*boom"):
        run()


def test_a_failure_of_the_server_stays_a_failure() -> None:
    assert outcome_of(pytest.fail.Exception("status 500", pytrace=False)) == ("fail", "status 500")


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


def test_a_group_holding_a_harness_bug_stays_an_error() -> None:
    group = ExceptionGroup("two", [ExpectationFailed("status", ["206"], "416"), KeyError("x")])
    outcome, detail = outcome_of(group)
    assert outcome == "error"
    assert detail.startswith("ExceptionGroup")


def test_a_declaration_turns_fail_and_pass_but_never_an_error() -> None:
    assert apply_deviation("fail", "known") == "deviation"
    assert apply_deviation("pass", "known") == "unexpected-pass"
    assert apply_deviation("error", "known") == "error"
    assert apply_deviation("fail", None) == "fail"


def test_a_result_round_trips_through_json_and_reads_old_reports() -> None:
    result = Result("X", "alpha", "c.py::t", "deviation", 0.5, "got 2", "known", "log", "https://x")
    assert Result.from_json(result.to_json()) == result
    old = {"requirement": "X", "server": "a", "case": "c", "outcome": "fail", "duration_s": 1}
    assert Result.from_json({**old, "detail": "d"}) == Result("X", "a", "c", "fail", 1.0, "d")
