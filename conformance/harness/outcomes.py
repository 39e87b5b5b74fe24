"""Results per (requirement, server) and the exceptions a case ends with besides a failure."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import pytest

from conformance.harness.verdicts import FLAKY_LABEL, OUTCOMES, Outcome

__all__ = ["OUTCOMES", "HarnessError", "NotApplicable", "Outcome", "Result", "not_applicable"]

LOG_HEADING = "--- last lines of its log ---"


class NotApplicable(pytest.skip.Exception):  # type: ignore[name-defined,misc]
    """Raised by :func:`not_applicable`: the server does not offer what the case needs."""


def not_applicable(reason: str) -> None:
    """End the case with the verdict ``not-applicable`` (never a failure, never a plain skip).

    :param reason: what the server lacks, e.g. "no websocket.http.response extension".
    """
    raise NotApplicable(f"not applicable: {reason}", _use_item_location=True)


def require_offer(server: Any, capability: str) -> None:
    """``not-applicable`` unless ``server``'s configuration offers ``capability``.

    :param capability: ``websocket``, ``lifespan`` or ``http10`` (``[offers]`` in its TOML,
        true unless the configuration says ``false``).
    """
    if not server.config.offers.capability(capability):
        not_applicable(f"servers/{server.config.base_name}.toml: [offers] {capability} = false")


class HarnessError(pytest.fail.Exception):  # type: ignore[name-defined,misc]
    """The case reached no verdict (outcome ``error``): e.g. its server did not start.

    pytest shows ``detail`` and the log tail; the report keeps them apart.
    """

    def __init__(self, detail: str, log_tail: str = "") -> None:
        self.detail = detail
        self.log_tail = log_tail
        shown = f"harness error: {detail}"
        if log_tail:
            shown += f"\n{LOG_HEADING}\n{log_tail}"
        super().__init__(shown, pytrace=False)


@dataclass(frozen=True)
class Result:
    """One row of ``results`` in ``conformance.json``.

    ``detail``: what happened (the case's own message); ``reason``: the declared deviation's
    reason (``deviation`` and ``unexpected-pass``); ``log_tail``: the last lines of the server's
    log when the case did not pass; ``link``: the server's issue-tracker entry for the deviation.
    """

    requirement: str
    server: str
    case: str
    outcome: Outcome
    duration_s: float
    detail: str = ""
    reason: str = ""
    log_tail: str = ""
    link: str = ""
    #: "h1", "h2c" or "h2"; ``server`` is then the report column (``NAME``, ``NAME/h2c`` ...).
    transport: str = "h1"
    #: Declared in ``[flaky]`` (a fault seen on some runs only); ``reason`` starts "flaky: ".
    flaky: bool = False

    def to_json(self) -> dict[str, Any]:
        """The row as JSON; ``flaky`` only when true (rows of undeclared ids stay as before)."""
        data = asdict(self)
        if not self.flaky:
            del data["flaky"]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Result:
        return cls(
            requirement=str(data["requirement"]),
            server=str(data["server"]),
            case=str(data["case"]),
            outcome=data["outcome"],
            duration_s=float(data["duration_s"]),
            detail=str(data.get("detail", "")),
            reason=str(data.get("reason", "")),
            log_tail=str(data.get("log_tail", "")),
            link=str(data.get("link", "")),
            transport=str(data.get("transport", "h1")),
            flaky=data.get("flaky") is True,
        )


def apply_deviation(outcome: Outcome, declared: str | None) -> Outcome:
    """Turn ``fail`` into ``deviation`` and ``pass`` into ``unexpected-pass`` when declared.

    ``error`` stays ``error``: a case that reached no verdict confirms no declaration.
    """
    if declared is None:
        return outcome
    if outcome == "fail":
        return "deviation"
    if outcome == "pass":
        return "unexpected-pass"
    return outcome


def apply_flaky(outcome: Outcome, flaky: str | None) -> Outcome:
    """A requirement declared in ``[flaky]``: ``fail`` becomes ``deviation`` (the known,
    intermittent fault), ``pass`` stays ``pass`` (never an unexpected pass: the fault shows on
    some runs only), ``error`` and ``not-applicable`` stay what they are."""
    if flaky is not None and outcome == "fail":
        return "deviation"
    return outcome


def declared_outcome(
    outcome: Outcome, deviation: str | None, flaky: str | None
) -> tuple[Outcome, str]:
    """The verdict of a case's ``outcome`` under its server's declarations, and the reason
    the report shows (``flaky: ...`` for a ``[flaky]`` entry, also on a pass; ``""`` when
    nothing is declared). A configuration never declares one id in both tables
    (:func:`serverconfig.declared_twice`); a deviation would win."""
    if deviation is not None:
        return apply_deviation(outcome, deviation), deviation
    if flaky is not None:
        return apply_flaky(outcome, flaky), FLAKY_LABEL + flaky
    return outcome, ""
