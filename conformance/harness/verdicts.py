"""Verdicts: the outcomes, their severity, the worst result of a cell, and whom a verdict binds.

Every renderer (``report``, ``summary``, ``compare``) imports these; nothing else defines them.

- An *outcome* is what one case gave one requirement on one server.
- ``error`` is kept apart from ``fail`` (as h2spec and Autobahn do): the case reached no verdict
  (a bug of the suite, a plain skip, a server that did not start or exited during the case).
- A *cell* (requirement, server) shows the worst outcome of its results, in :data:`SEVERITY`
  order: a known failure outranks an unknown result, which outranks a pass.
- A requirement binds a ``subject``: the ``server`` (its duties, whatever app runs) or the
  ``implementation`` under test. Its ``level`` (MUST, SHOULD, API, EXT) says how a failure
  counts: the failure of an ``EXT`` requirement is an extension not provided, never an API
  failure. Running on trio is an extension too: on a configuration that runs the application
  under trio (``[offers] trio = true``), the failure of an ``implementation`` requirement is
  the trio extension not provided; server duties and the asyncio configurations count as usual.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal, TypeVar

Outcome = Literal["pass", "fail", "error", "not-applicable", "deviation", "unexpected-pass"]
OUTCOMES: tuple[Outcome, ...] = (
    "pass",
    "fail",
    "error",
    "not-applicable",
    "deviation",
    "unexpected-pass",
)
# A cell shows the worst outcome of its results, in this order.
SEVERITY: tuple[Outcome, ...] = (
    "fail",
    "unexpected-pass",
    "error",
    "deviation",
    "pass",
    "not-applicable",
)
# Outcomes that turn a run red, and outcomes a report lists with their detail.
FAILING: tuple[Outcome, ...] = ("fail", "unexpected-pass")
SHOWN: tuple[Outcome, ...] = ("fail", "error", "deviation", "unexpected-pass")

# How a renderer counts a cell: its outcome, except that the failure of an EXT requirement
# counts as an extension not provided.
NOT_PROVIDED: Literal["not-provided"] = "not-provided"
Category = Literal[
    "pass", "fail", "error", "not-applicable", "deviation", "unexpected-pass", "not-provided"
]
CATEGORIES: tuple[Category, ...] = (*OUTCOMES, NOT_PROVIDED)

Subject = Literal["server", "implementation"]
SUBJECTS: tuple[Subject, ...] = ("server", "implementation")
# Ids that bind the server when the catalogue entry states no subject.
SERVER_PREFIXES = (
    "ASGI-HTTP-",
    "ASGI-WS-",
    "ASGI-LIFESPAN-",
    "ASGI-EXT-",
    "ASGI-EXTENSIONS-",
    "SRV-",
)
EXTENSION_LEVEL = "EXT"
#: The reason of a result declared in a server's ``[flaky]`` table starts with this label (a
#: fault seen on some runs only: its ``fail`` is a ``deviation``, its ``pass`` stays a pass).
FLAKY_LABEL = "flaky: "

ResultT = TypeVar("ResultT", bound=Mapping[str, Any])


def severity(outcome: str) -> int:
    """Rank of ``outcome`` in :data:`SEVERITY` (0 is the worst); unknown outcomes rank last."""
    return SEVERITY.index(outcome) if outcome in SEVERITY else len(SEVERITY)


def is_outcome(value: object) -> bool:
    """Whether ``value`` names one of :data:`OUTCOMES`."""
    return value in OUTCOMES


def worst(results: Iterable[ResultT]) -> ResultT:
    """The result of ``results`` with the worst outcome (the first of equals).

    :raises ValueError: ``results`` is empty.
    """
    found: ResultT | None = None
    for result in results:
        if found is None or severity(result["outcome"]) < severity(found["outcome"]):
            found = result
    if found is None:
        raise ValueError("a cell needs at least one result")
    return found


def aggregate(results: Iterable[ResultT]) -> dict[tuple[str, str], ResultT]:
    """(requirement, server) -> the worst of its results (see :func:`worst`)."""
    cells: dict[tuple[str, str], ResultT] = {}
    for result in results:
        key = (str(result["requirement"]), str(result["server"]))
        held = cells.get(key)
        if held is None or severity(result["outcome"]) < severity(held["outcome"]):
            cells[key] = result
    return cells


def subject_of(requirement: Mapping[str, Any]) -> Subject:
    """Whom ``requirement`` binds: its ``subject``, else ``server`` for the server id prefixes
    (:data:`SERVER_PREFIXES`) and ``implementation`` for every other id."""
    declared = requirement.get("subject")
    if declared in SUBJECTS:
        return declared  # type: ignore[no-any-return]
    return (
        "server" if str(requirement.get("id", "")).startswith(SERVER_PREFIXES) else "implementation"
    )


def category(
    outcome: str | None,
    level: str | None,
    subject: str | None = None,
    trio: bool = False,
) -> str | None:
    """How a cell counts: ``not-provided`` for the failure of an ``EXT`` requirement, or of an
    ``implementation`` requirement on a configuration running under ``trio`` (trio is an
    extension); else its outcome (``None``: no result)."""
    if outcome == "fail" and (level == EXTENSION_LEVEL or trio_not_provided(subject, trio)):
        return NOT_PROVIDED
    return outcome


def trio_not_provided(subject: str | None, trio: bool) -> bool:
    """Whether a failure of a requirement binding ``subject`` counts as the trio extension not
    provided: an ``implementation`` requirement on a configuration running under trio."""
    return trio and subject == "implementation"


def runs_trio(server: Mapping[str, Any]) -> bool:
    """Whether a ``run.servers`` entry ran the application under trio: its ``trio`` field;
    reports that predate the field count as asyncio (a name is no evidence)."""
    return server.get("trio") is True
