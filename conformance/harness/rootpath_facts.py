"""What a server's root-path option does to ``path``, ``raw_path`` and ``root_path``:
measured once per configuration and reported as facts, never as verdicts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conformance.harness.server import Server
from conformance.harness.serverconfig import ROOT_PATH

ROOTPATH_FACT_PATH = "/rootpath/scope/a%20b"
QUESTION = (
    "What a server's root-path option does to path, raw_path and root_path, "
    f"for GET {ROOT_PATH}{ROOTPATH_FACT_PATH} (with the prefix) and "
    f"GET {ROOTPATH_FACT_PATH} (without). The ASGI spec implies path includes "
    "root_path (WSGI compatibility: PATH_INFO is path with root_path stripped) "
    "but leaves the option's behaviour to each server: measured, never judged."
)


def measure(server: Server, option: str) -> dict[str, Any]:
    """path, raw_path, root_path a server gives with and without its root-path prefix."""
    facts: dict[str, Any] = {"option": option}
    for label, target in (
        ("with_prefix", server.root_path + ROOTPATH_FACT_PATH),
        ("without_prefix", ROOTPATH_FACT_PATH),
    ):
        entry: dict[str, Any] = {"request": target}
        try:
            with server.http() as client:
                response = client.get(target)
            entry["status"] = response.status_code
            if response.headers.get("content-type", "").startswith("application/json"):
                entry.update(response.json())
        except Exception as error:  # a fact, not a verdict: record what happened
            entry["error"] = f"{type(error).__name__}: {error}"
        facts[label] = entry
    return facts


def open_behaviours(facts: Mapping[str, Any], selected: list[str]) -> dict[str, Any]:
    """The report's ``open_behaviours`` from the facts measured per configuration."""
    if not facts:
        return {}
    return {
        "root_path": {
            "question": QUESTION,
            "servers": {n: facts[n] for n in selected if n in facts},
        }
    }
