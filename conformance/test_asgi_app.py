"""ASGI-APP-*: the implementation's ASGI messages, validated inside the server process.

Every scenario app (except the raw ``asgi`` area) runs wrapped in
``conformance_apps._validator``; the plugin reads the violations after each case and reports
each as a ``fail`` of its ``ASGI-APP-*`` id for the case that caused it. The sweep cases here
(marked ``sweep``: they run after the other cases of their server) give every rule its verdict
per server: ``pass`` when no case of the run tripped it, else ``fail`` listing the violations.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from conformance.harness.catalogue import load_catalogue
from conformance.harness.server import Server
from conformance.harness.verify import ExpectationFailed
from conformance.harness.violations import ASGI_APP_PREFIX, describe_violations


def _sweep(requirement: str) -> Callable[[Server, list[dict[str, Any]]], None]:
    rule = requirement.removeprefix(ASGI_APP_PREFIX)

    def case(server: Server, asgi_violations: list[dict[str, Any]]) -> None:
        found = [v for v in asgi_violations if v.get("rule") == rule]
        if found:
            raise ExpectationFailed(
                f"{requirement} on every case run against {server.name}",
                ["no violation"],
                describe_violations(found),
            )

    case.__name__ = "test_" + rule.lower().replace("-", "_")
    case.__doc__ = f"No case of the run made the implementation break {requirement}."
    marked: Callable[[Server, list[dict[str, Any]]], None] = pytest.mark.sweep(
        pytest.mark.requirement(requirement)(case)
    )
    return marked


for _requirement in load_catalogue():
    if _requirement.startswith(ASGI_APP_PREFIX):
        _case = _sweep(_requirement)
        globals()[_case.__name__] = _case
