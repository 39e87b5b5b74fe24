"""How a case's exception becomes its outcome: ``fail`` when it says something about what is
under test, ``error`` when it does not (a bug of the case or the harness), ``not-applicable``."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest
import websockets.exceptions

from conformance.harness.byteranges import ByterangesError
from conformance.harness.h2client import H2ConnectionClosed, H2ProtocolError, H2Timeout
from conformance.harness.http1.errors import FramingError, ResponseTimeout, ServerClosedConnection
from conformance.harness.outcomes import HarnessError, NotApplicable
from conformance.harness.sse import EventStreamError
from conformance.harness.verdicts import Outcome
from conformance.harness.wsframes import WsProtocolError

# What the strict clients raise on bytes that break HTTP/1.1 framing, the event-stream
# format or multipart/byteranges: a failure of what is under test, not of the harness.
WIRE_ERRORS = (
    FramingError,
    EventStreamError,
    ByterangesError,
    H2ProtocolError,
    httpx.RemoteProtocolError,
    websockets.exceptions.InvalidHandshake,
    WsProtocolError,
)
# A response that never came, or ended early: the implementation hung or dropped it.
NO_ANSWER_ERRORS = (
    ResponseTimeout,
    ServerClosedConnection,
    H2ConnectionClosed,
    H2Timeout,
    httpx.TimeoutException,
    websockets.exceptions.ConnectionClosedError,
    TimeoutError,
)


@dataclass(frozen=True)
class CaseOutcome:
    """A case's outcome before deviations, what happened, and a server log tail if known."""

    outcome: Outcome
    detail: str
    log_tail: str = ""


def base_outcome(call: pytest.CallInfo[None]) -> CaseOutcome:
    """Outcome before deviations, and the detail text for the report."""
    excinfo = call.excinfo
    if excinfo is None:
        return CaseOutcome("pass", "")
    error = excinfo.value
    if isinstance(error, NotApplicable):
        return CaseOutcome("not-applicable", str(error.msg))
    if isinstance(error, HarnessError):
        return CaseOutcome("error", error.detail, error.log_tail)
    if isinstance(error, pytest.skip.Exception):
        return CaseOutcome("error", f"a plain skip is not a verdict: {error.msg}")
    if isinstance(error, pytest.fail.Exception):
        return CaseOutcome("fail", str(error.msg))
    return failure_outcome(error)


def failure_outcome(error: BaseException) -> CaseOutcome:
    """Why a case failed; ``error`` only when the exception says nothing about what is under
    test (a bug of the case or the harness)."""
    if isinstance(error, AssertionError):
        return CaseOutcome("fail", str(error) or f"{type(error).__name__}")
    if isinstance(error, WIRE_ERRORS):  # the server and app under test broke the protocol
        return CaseOutcome(
            "fail", f"protocol violation on the wire: {type(error).__name__}: {error}"
        )
    if isinstance(error, NO_ANSWER_ERRORS):
        return CaseOutcome("fail", f"no complete answer: {type(error).__name__}: {error}")
    if isinstance(error, BaseExceptionGroup):  # e.g. Hypothesis reporting several failures
        inner = [failure_outcome(one) for one in error.exceptions]
        if all(one.outcome == "fail" for one in inner):
            details = "\n\n".join(one.detail for one in inner)
            return CaseOutcome("fail", f"{len(inner)} distinct failures:\n{details}")
    return CaseOutcome("error", f"{type(error).__name__}: {error}")
