"""``[flaky]`` in a server TOML: a fault seen on some runs only (a real run of it is in
``test_harness_lifecycle.py``). A failure becomes the ``deviation`` outcome labelled flaky, a
pass stays a pass (never an unexpected pass); the configuration parser refuses an id declared
both flaky and a deviation; the reports say "flaky" with the declared reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conformance import summary
from conformance.harness import report_html, report_markdown
from conformance.harness.outcomes import (
    Result,
    apply_flaky,
    declared_outcome,
)
from conformance.harness.serverconfig import (
    ServerConfig,
    ServerConfigError,
    declared_twice,
    unknown_declarations,
)
from conformance.harness.transport import declared_deviation

BASE: dict[str, Any] = {
    "name": "alpha",
    "distribution": "alpha",
    "command": ["{python}", "-m", "alpha", "--fd", "{fd}", "{app}"],
}


def config(**tables: Any) -> ServerConfig:
    return ServerConfig.from_mapping({**BASE, **tables}, "alpha.toml")


# -- the verdict rule ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        ("fail", "deviation"),
        ("pass", "pass"),
        ("error", "error"),
        ("not-applicable", "not-applicable"),
    ],
)
def test_a_flaky_failure_is_a_deviation_and_a_pass_stays_a_pass(
    outcome: Any, expected: str
) -> None:
    assert apply_flaky(outcome, "seen 2 of 5 runs") == expected
    assert apply_flaky(outcome, None) == outcome  # nothing declared: unchanged


def test_the_reason_says_flaky_on_a_failure_and_on_a_pass() -> None:
    assert declared_outcome("fail", None, "seen twice") == ("deviation", "flaky: seen twice")
    assert declared_outcome("pass", None, "seen twice") == ("pass", "flaky: seen twice")
    assert declared_outcome("pass", None, None) == ("pass", "")


def test_a_declared_deviation_keeps_its_own_rule() -> None:
    assert declared_outcome("pass", "always fails", None) == ("unexpected-pass", "always fails")
    assert declared_outcome("fail", "always fails", None) == ("deviation", "always fails")


def test_the_flaky_flag_survives_the_json_round_trip() -> None:
    row = Result("X-ONE", "alpha", "c::t", "deviation", 0.1, "", "flaky: seen", flaky=True)
    assert row.to_json()["flaky"] is True
    assert Result.from_json(row.to_json()) == row
    legacy = {k: v for k, v in row.to_json().items() if k != "flaky"}
    assert Result.from_json(legacy).flaky is False


# -- the configuration -----------------------------------------------------------------------


def test_the_flaky_table_is_parsed_with_the_transport_rule() -> None:
    parsed = config(flaky={"X-ONE": "2 of 10 runs", "X-TWO@h2c": "h2c only"})
    assert dict(parsed.flaky) == {"X-ONE": "2 of 10 runs", "X-TWO@h2c": "h2c only"}
    assert declared_deviation(parsed.flaky, "X-ONE", "h2c") == "2 of 10 runs"
    assert declared_deviation(parsed.flaky, "X-TWO", "h1") is None
    assert declared_deviation(parsed.flaky, "X-TWO", "h2c") == "h2c only"
    assert config().flaky == {}


@pytest.mark.parametrize(
    ("deviations", "flaky"),
    [
        ({"X-ONE": "always"}, {"X-ONE": "sometimes"}),
        ({"X-ONE": "always"}, {"X-ONE@h2c": "sometimes"}),
        ({"X-ONE@h2c": "always"}, {"X-ONE": "sometimes"}),
        ({"X-ONE@h2c": "always"}, {"X-ONE@h2c": "sometimes"}),
    ],
)
def test_an_id_declared_both_ways_is_refused(deviations: Any, flaky: Any) -> None:
    with pytest.raises(ServerConfigError, match=r"alpha\.toml: declared both in \[deviations\]"):
        config(deviations=deviations, flaky=flaky)


def test_one_transport_a_deviation_another_flaky_is_allowed() -> None:
    parsed = config(deviations={"X-ONE@h1": "always"}, flaky={"X-ONE@h2c": "sometimes"})
    assert declared_twice(parsed.deviations, parsed.flaky) == set()


@pytest.mark.parametrize("flaky", [{"X-ONE": ""}, {"X-ONE": 3}, ["X-ONE"]])
def test_a_flaky_entry_needs_a_reason(flaky: Any) -> None:
    with pytest.raises(ServerConfigError, match=r"'\[flaky\]' value must be a one-line reason"):
        config(flaky=flaky)


def test_a_flaky_id_may_carry_an_issue_link() -> None:
    link = "https://github.com/o/alpha/issues/9"
    parsed = config(flaky={"X-ONE": "sometimes"}, deviation_links={"X-ONE": link})
    assert parsed.deviation_links == {"X-ONE": link}


def test_unknown_ids_and_transports_are_found_in_both_tables() -> None:
    parsed = config(
        deviations={"X-ONE": "a", "X-GONE": "b", "X-ONE@h3": "c"},
        flaky={"X-TWO@h2c": "d", "X-OLD": "e"},
    )
    found = unknown_declarations(parsed, {"X-ONE", "X-TWO"}, ("h1", "h2c"))
    assert found == ["[deviations] X-GONE", "[deviations] X-ONE@h3", "[flaky] X-OLD"]


# -- the reports -----------------------------------------------------------------------------

FLAKY_FAIL = Result("S-ONE", "alpha", "c::one", "deviation", 0.1, "no close", "flaky: 2 of 8")
FLAKY_PASS = Result("S-TWO", "alpha", "c::two", "pass", 0.1, "", "flaky: 1 of 8 runs")


def server_requirement(rid: str) -> dict[str, str]:
    return {"id": rid, "area": "S", "source": "RFC 1", "clause": "§1", "level": "MUST",
            "subject": "server", "quote": "It MUST hold.", "text": rid}  # fmt: skip


REPORT: dict[str, Any] = {
    "run": {
        "impl": "baize",
        "impl_version": "9.9",
        "python": "CPython 3.11.9",
        "started": "2025-01-02T03:04:05+00:00",
        "duration_s": 1.0,
        "servers": [{"name": "alpha", "version": "1.0", "command": "{python} -m alpha"}],
    },
    "requirements": [server_requirement("S-ONE"), server_requirement("S-TWO")],
    "results": [
        {**FLAKY_FAIL.to_json(), "flaky": True},
        {**FLAKY_PASS.to_json(), "flaky": True},
    ],
    "open_behaviours": {},
}


def test_markdown_and_html_say_flaky_with_the_reason() -> None:
    markdown = report_markdown.render_markdown(REPORT)
    assert "| `S-ONE` | alpha | RFC 1 §1 | flaky: 2 of 8 |" in markdown
    assert "Declared flaky, passed this run (1):" in markdown
    assert "- `S-TWO` on alpha: 1 of 8 runs" in markdown
    page = report_html.render_html(REPORT)
    assert "flaky: 2 of 8" in page
    assert "<code>S-TWO</code> on <b>alpha</b>: 1 of 8 runs" in page


def test_the_readme_summary_says_flaky(tmp_path: Path) -> None:
    (tmp_path / "alpha.toml").write_text(
        'name = "alpha"\ndistribution = "alpha"\ncommand = ["{python}", "-m", "alpha", "{fd}"]\n'
        '[flaky]\n"S-ONE" = "2 of 8"\n"S-TWO" = "1 of 8 runs"\n'
    )
    text = summary.server_comparison(REPORT, tmp_path)
    assert "`S-ONE`: flaky: 2 of 8" in text
    assert "`S-TWO`: flaky, passed this run (1 of 8 runs)" in text
