"""The transport dimension's column arithmetic (conformance/harness/transport.py)."""

from __future__ import annotations

from conformance.harness.transport import column, columns_for, split_column

SERVERS = ["uvicorn", "hypercorn", "granian"]
OFFERS = {"uvicorn": False, "hypercorn": True, "granian": True}
BOTH = ("h1", "h2c")


def test_unmarked_cases_run_on_h1_then_h2c_columns() -> None:
    assert columns_for(set(), SERVERS, OFFERS, BOTH) == [
        "uvicorn",
        "hypercorn",
        "granian",
        "hypercorn/h2c",
        "granian/h2c",
    ]


def test_h1_only_cases_are_not_multiplied() -> None:
    assert columns_for({"h1_only"}, SERVERS, OFFERS, BOTH) == SERVERS


def test_h2_only_cases_run_on_h2c_and_once_where_http2_is_missing() -> None:
    assert columns_for({"h2_only"}, SERVERS, OFFERS, BOTH) == [
        "uvicorn",
        "hypercorn/h2c",
        "granian/h2c",
    ]


def test_transport_selection() -> None:
    assert columns_for(set(), SERVERS, OFFERS, ("h2c",)) == ["hypercorn/h2c", "granian/h2c"]
    assert columns_for(set(), SERVERS, OFFERS, ("h1",)) == SERVERS


def test_column_names_round_trip() -> None:
    assert split_column(column("hypercorn", "h2c")) == ("hypercorn", "h2c")
    assert split_column("hypercorn") == ("hypercorn", "h1")
    assert split_column("granian+rootpath") == ("granian+rootpath", "h1")
