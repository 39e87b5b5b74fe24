"""Verdicts per (requirement, server) and how a pytest report maps onto them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import pytest

Outcome = Literal["pass", "fail", "not-applicable", "deviation", "unexpected-pass"]
OUTCOMES: tuple[Outcome, ...] = ("pass", "fail", "not-applicable", "deviation", "unexpected-pass")


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


@dataclass(frozen=True)
class Result:
    """One row of ``results`` in ``conformance.json``."""

    requirement: str
    server: str
    case: str
    outcome: Outcome
    duration_s: float
    detail: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Result:
        return cls(
            requirement=str(data["requirement"]),
            server=str(data["server"]),
            case=str(data["case"]),
            outcome=data["outcome"],
            duration_s=float(data["duration_s"]),
            detail=str(data["detail"]),
        )


def apply_deviation(outcome: Outcome, declared: str | None) -> Outcome:
    """Turn ``fail`` into ``deviation`` and ``pass`` into ``unexpected-pass`` when declared."""
    if declared is None:
        return outcome
    if outcome == "fail":
        return "deviation"
    if outcome == "pass":
        return "unexpected-pass"
    return outcome
