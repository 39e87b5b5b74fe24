"""ASGI-APP-*: the implementation's ASGI messages, validated inside the server process.

Every scenario app (except the raw ``asgi`` area) runs wrapped in
``conformance_apps._validator``; the plugin reads the violations after each case and reports
each as a ``fail`` of its ``ASGI-APP-*`` id for the case that caused it. The sweep cases here
(marked ``sweep``: they run after the other cases of their server) give every rule its verdict
per server: ``fail`` listing the violations when a case of the run tripped it; ``pass`` when
messages of the run put the rule to the test and none broke it; ``not-applicable`` when no
message ever exercised it (the WebSocket denial sequence on a server without the denial
extension, pathsend where no server offers it, the debug extension nobody sends).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conformance.apps._validator import read_exercised
from conformance.harness import not_applicable
from conformance.harness.catalogue import load_catalogue
from conformance.harness.server import Server
from conformance.harness.serverconfig import INSTANCE_SUFFIXES
from conformance.harness.verify import ExpectationFailed
from conformance.harness.violations import ASGI_APP_PREFIX, describe_violations

# Every case needs the HTTP/1.1 column (the sweep fixture, the root-path twin or a private
# instance): none is generated for h2c/h2 columns (harness/transport.py).
pytestmark = pytest.mark.h1_only


def exercised_rules(server: Server) -> set[str]:
    """Rules any instance of ``server`` (every restart, the root-path one too) exercised."""
    state_dir = server.state_dir
    if state_dir is None:
        return set()
    found: set[str] = set()
    for instance in (server.name, *(server.name + suffix for suffix in INSTANCE_SUFFIXES)):
        for directory in Path(state_dir).parent.glob(f"{instance}.*"):
            found |= read_exercised(str(directory))
    return found


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
        if rule not in exercised_rules(server):
            not_applicable(f"no message sent to {server.name} in this run exercised {rule}")

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
