"""The verdicts module: severity order, the worst result of a cell, subjects and EXT."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.harness import verdicts


def row(rid: str, outcome: str, server: str = "s", case: str = "c") -> dict[str, Any]:
    return {"requirement": rid, "server": server, "case": case, "outcome": outcome}


def test_every_outcome_has_one_rank_and_fail_is_the_worst() -> None:
    assert sorted(verdicts.SEVERITY) == sorted(verdicts.OUTCOMES)
    assert verdicts.SEVERITY[0] == "fail"
    assert verdicts.severity("fail") < verdicts.severity("error") < verdicts.severity("pass")
    assert verdicts.severity("deviation") < verdicts.severity("pass")
    assert verdicts.severity("pass") < verdicts.severity("not-applicable")
    assert verdicts.severity("bogus") == len(verdicts.SEVERITY)


@pytest.mark.parametrize(
    ("outcomes", "worst"),
    [
        (["pass", "pass"], "pass"),
        (["pass", "error"], "error"),  # a case without verdict hides no pass
        (["error", "fail"], "fail"),  # a known failure outranks an unknown result
        (["not-applicable", "pass"], "pass"),
        (["deviation", "unexpected-pass"], "unexpected-pass"),
        (["pass", "deviation", "not-applicable"], "deviation"),
    ],
)
def test_a_cell_holds_its_worst_result(outcomes: list[str], worst: str) -> None:
    results = [row("A", o, case=f"c{i}") for i, o in enumerate(outcomes)]
    assert verdicts.worst(results)["outcome"] == worst
    cells = verdicts.aggregate([*results, row("B", "pass"), row("A", "pass", server="t")])
    assert {k: v["outcome"] for k, v in cells.items()} == {
        ("A", "s"): worst,
        ("B", "s"): "pass",
        ("A", "t"): "pass",
    }


def test_the_first_of_equally_bad_results_is_kept() -> None:
    first, second = row("A", "fail", case="one"), row("A", "fail", case="two")
    assert verdicts.worst([first, second]) is first
    assert verdicts.aggregate([first, second])[("A", "s")] is first
    with pytest.raises(ValueError):
        verdicts.worst([])


@pytest.mark.parametrize(
    ("entry", "subject"),
    [
        ({"id": "ASGI-HTTP-SCOPE-PATH"}, "server"),
        ({"id": "ASGI-WS-SCOPE"}, "server"),
        ({"id": "ASGI-LIFESPAN-STARTUP"}, "server"),
        ({"id": "ASGI-EXT-WS-DENIAL"}, "server"),
        ({"id": "ASGI-EXTENSIONS-DECLARED"}, "server"),
        ({"id": "SRV-H1-CL-TE"}, "server"),
        ({"id": "ASGI-APP-HTTP-START-FIRST"}, "implementation"),
        ({"id": "WS-ACCEPT-HEADERS"}, "implementation"),
        ({"id": "WS-ACCEPT-HEADERS", "subject": "server"}, "server"),
        ({"id": "SRV-X", "subject": "implementation"}, "implementation"),
        ({"id": "REQ-X", "subject": "bogus"}, "implementation"),
    ],
)
def test_subject_defaults_from_the_id(entry: dict[str, Any], subject: str) -> None:
    assert verdicts.subject_of(entry) == subject


def test_an_ext_failure_counts_as_not_provided_only() -> None:
    assert verdicts.category("fail", "EXT") == verdicts.NOT_PROVIDED
    assert verdicts.category("fail", "API") == "fail"
    assert verdicts.category("pass", "EXT") == "pass"
    assert verdicts.category("error", "EXT") == "error"
    assert verdicts.category("deviation", "EXT") == "deviation"
    assert verdicts.category(None, "EXT") is None


def test_an_implementation_failure_under_trio_is_the_trio_extension_not_provided() -> None:
    assert verdicts.category("fail", "MUST", "implementation", trio=True) == verdicts.NOT_PROVIDED
    assert verdicts.category("fail", "API", "implementation", trio=True) == verdicts.NOT_PROVIDED
    assert verdicts.category("fail", "MUST", "server", trio=True) == "fail"  # the server's duty
    assert verdicts.category("fail", "MUST", "implementation", trio=False) == "fail"  # asyncio
    assert verdicts.category("error", "API", "implementation", trio=True) == "error"
    assert verdicts.category("deviation", "MUST", "implementation", trio=True) == "deviation"
    assert verdicts.category("pass", "API", "implementation", trio=True) == "pass"


@pytest.mark.parametrize(
    ("entry", "trio"),
    [
        ({"name": "hypercorn-trio", "trio": True}, True),
        ({"name": "hypercorn", "trio": False}, False),
        ({"name": "hypercorn-trio"}, False),  # an old report: the name is no evidence
        ({"name": "x", "trio": "yes"}, False),
    ],
)
def test_a_server_runs_trio_only_when_its_entry_says_so(entry: dict[str, Any], trio: bool) -> None:
    assert verdicts.runs_trio(entry) is trio
