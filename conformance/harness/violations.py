"""ASGI message violations (``ASGI-APP-*``) read from the server instances, attributed to the
case that was running when their connection began, and described for the report."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conformance.harness.outcomes import Result, declared_outcome
from conformance.harness.server import ServerPool
from conformance.harness.serverconfig import INSTANCE_SUFFIXES

ASGI_APP_PREFIX = "ASGI-APP-"
VIOLATIONS_SHOWN = 10


def collect(
    pool: ServerPool,
    name: str,
    starts: list[tuple[float, str]],
    deviations: Mapping[str, str],
    store: list[dict[str, Any]],
    flaky: Mapping[str, str] | None = None,
) -> list[Result]:
    """Read new violations of ``name``'s instances; one ``fail`` row per violation.

    Each is attributed to the case of ``starts`` ((monotonic time, node id) of each case's
    setup) that was running when its connection began, and appended to ``store``.
    ``deviations`` and ``flaky`` are the server's declarations (a declared id's row is a
    ``deviation``).
    """
    rows: list[Result] = []
    for instance in (name, *(name + suffix for suffix in INSTANCE_SUFFIXES)):
        handle = pool.ready(instance)
        if handle is None:
            continue
        for violation in handle.new_violations():
            case = next((c for t, c in reversed(starts) if t <= violation["t"]), "?")
            violation["case"] = case
            violation["instance"] = instance
            store.append(violation)
            requirement = ASGI_APP_PREFIX + violation["rule"]
            declared = deviations.get(requirement)
            intermittent = (flaky or {}).get(requirement)
            outcome, why = declared_outcome("fail", declared, intermittent)
            rows.append(
                Result(
                    requirement,
                    name,
                    case,
                    outcome,
                    0.0,
                    describe(violation),
                    why,
                    flaky=declared is None and intermittent is not None,
                )
            )
    return rows


def describe(violation: dict[str, Any]) -> str:
    """One violation in three lines: the rule's text, the message, the connection."""
    return (
        f"{violation.get('text')}\n"
        f"message: {violation.get('message')}\n"
        f"connection: {violation.get('scope_type')} {violation.get('path')!r} "
        f"on {violation.get('instance')}"
    )


def describe_violations(violations: list[dict[str, Any]]) -> str:
    """Text for a sweep case's failure: count and the first few violations with their case."""
    lines = [f"{len(violations)} violation(s); first {min(len(violations), VIOLATIONS_SHOWN)}:"]
    for violation in violations[:VIOLATIONS_SHOWN]:
        lines.append(f"- case {violation.get('case')}")
        lines += [f"  {line}" for line in describe(violation).splitlines()]
    return "\n".join(lines)
