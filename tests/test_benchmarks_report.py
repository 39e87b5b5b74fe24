"""The A/A control and the noise annotation of the performance report (pure functions),
and how the runner schedules the control."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from benchmarks import report, report_markdown, rounds, run
from conformance.harness.serverconfig import ServerConfig

VS_RAW, ROUTER_RAW, VS_STARLETTE, FILE_TARGET = (t.name for t in report.TARGETS[:4])
CONFIG = ServerConfig("fake", "fake", ("{python}", "-c", "pass", "{fd}"), "fd")


def _sample(rate: float) -> dict[str, Any]:
    return {"rate": rate, "p50_ms": 1.0, "p90_ms": 2.0, "p99_ms": 3.0, "errors": 0}


def _result(
    server: str,
    scenario: str,
    vs_raw: list[float],
    vs_starlette: list[float],
    control: list[float] | None = None,
) -> dict[str, Any]:
    ratios = {
        "baize/raw": report.ratio_summary(vs_raw),
        "baize/starlette": report.ratio_summary(vs_starlette),
    }
    median = {"raw": _sample(1000), "starlette": _sample(900), "baize": _sample(950)}
    if control is not None:
        ratios[report.CONTROL_RATIO] = report.ratio_summary(control)
        median[report.CONTROL] = _sample(1010)
    return {
        "server": server,
        "scenario": scenario,
        "unit": "req/s",
        "samples": {},
        "median": median,
        "ratios": ratios,
        "errors": {},
    }


# --- spread, A/A ratios, noise floor -------------------------------------------------------


def test_spread_is_min_and_max_or_none() -> None:
    assert report.spread([1.02, 0.9, 0.97]) == (0.9, 1.02)
    assert report.spread([]) is None


def test_ratio_summary_keeps_rounds_median_min_max() -> None:
    assert report.ratio_summary([0.9, 1.1, 1.0]) == {
        "per_round": [0.9, 1.1, 1.0],
        "median": 1.0,
        "min": 0.9,
        "max": 1.1,
    }
    assert report.ratio_summary([]) == {"per_round": [], "median": None, "min": None, "max": None}


def test_control_summary_pairs_control_with_raw_of_the_same_round() -> None:
    summary = report.control_summary([100, 200, 400], [110, 180, 400])
    assert summary["per_round"] == [1.1, 0.9, 1.0]
    assert (summary["median"], summary["min"], summary["max"]) == (1.0, 0.9, 1.1)
    with pytest.raises(ValueError, match="rounds"):
        report.control_summary([1, 2], [1])


def test_summarize_keeps_baize_ratios_only_and_a_median_for_the_control() -> None:
    samples = {
        "raw": [_sample(100), _sample(200)],
        "baize": [_sample(90), _sample(220)],
        report.CONTROL: [_sample(50), _sample(50)],
    }
    summary = report.summarize(samples)
    assert set(summary["ratios"]) == {"baize/raw"}
    assert summary["ratios"]["baize/raw"]["per_round"] == [0.9, 1.1]
    assert summary["median"][report.CONTROL]["rate"] == 50


def test_noise_floor_is_read_from_hello_only() -> None:
    results = [
        _result("uvicorn", "hello", [1.0], [1.0], control=[0.98, 1.04, 1.01]),
        # A control ratio in another scenario (never scheduled) is not the floor.
        _result("daphne", "json-router", [1.0], [1.0], control=[0.5, 1.5]),
        _result("daphne", "hello", [1.0], [1.0]),
    ]
    floors = report.noise_floor(results)
    assert list(floors) == ["uvicorn"]
    floor = floors["uvicorn"]
    assert (floor["scenario"], floor["rounds"], floor["median"]) == ("hello", 3, 1.01)
    assert (floor["min"], floor["max"]) == (0.98, 1.04)
    assert floor["spread"] == pytest.approx(0.06)


# --- the annotation rule ------------------------------------------------------------------


def test_noise_note_pass_or_no_value_is_never_annotated() -> None:
    assert report.noise_note(1.0, 1.0, 1.0) is None
    assert report.noise_note(None, 1.0, 1.0) is None


def test_noise_note_distance_smaller_than_the_aa_margin() -> None:
    note = report.noise_note(0.97, 1.0, 0.05)
    assert (
        note == "within noise: 0.030 below the threshold, less than the server's A/A margin 0.050"
    )
    # Strictly smaller: a distance equal to the A/A margin, or larger, is a plain MISS.
    assert report.noise_note(0.75, 1.0, 0.25) is None
    assert report.noise_note(0.89, 1.0, 0.1) is None
    # Without a margin nothing is annotated (a round that met the target is not enough).
    assert report.noise_note(0.99, 1.0, None) is None


def test_median_margin_is_two_standard_errors_of_a_median_from_the_mad() -> None:
    # median 1.0, absolute deviations [0.02, 0, 0.02, 0.01, 0.01] -> MAD 0.01
    ratios = [0.98, 1.0, 1.02, 0.99, 1.01]
    expected = 2 * 1.2533 * 1.4826 * 0.01 / 5**0.5
    assert report.median_margin(ratios) == pytest.approx(expected)
    # A wild round in place of the widest one leaves it (robust); more rounds shrink it.
    assert report.median_margin([0.98, 1.0, 1.5, 0.99, 1.01]) == pytest.approx(expected)
    assert report.median_margin(ratios * 4) < expected  # type: ignore[operator]
    assert report.median_margin([1.0, 1.1]) is None  # too few rounds to tell


def test_noise_floor_margin_comes_from_the_control_rounds() -> None:
    control = [0.97, 1.0, 1.03]
    floors = report.noise_floor([_result("uvicorn", "hello", [1.0], [1.0], control=control)])
    assert floors["uvicorn"]["margin"] == pytest.approx(report.median_margin(control))


def test_evaluate_targets_annotates_a_miss_without_changing_the_verdict() -> None:
    results = [
        # A/A margin of [0.97, 1.0, 1.03]: 2 x 1.2533 x 1.4826 x 0.03 / sqrt(3) = 0.064.
        # hello: baize/raw MISS by 0.01 < the margin; baize/starlette PASS.
        _result("uvicorn", "hello", [0.93, 0.94, 0.96], [1.0, 1.1, 1.2], control=[0.97, 1.0, 1.03]),
        # json-router: baize/raw MISS of 0.85 by 0.14, clear; baize/starlette MISS by 0.04 < margin.
        _result("uvicorn", "json-router", [0.70, 0.71, 0.72], [0.95, 0.96, 0.97]),
        _result("daphne", "hello", [0.90, 0.91, 0.92], [0.97, 0.96, 0.98]),  # no control
    ]
    verdicts = report.evaluate_targets(results, [], ["uvicorn", "daphne"])
    got = {(v["target"], v["server"], v["scenario"]): v for v in verdicts}
    hello_raw = got[(VS_RAW, "uvicorn", "hello")]
    assert (hello_raw["verdict"], hello_raw["value"]) == ("MISS", 0.94)
    assert hello_raw["spread"] == [0.93, 0.96]
    assert hello_raw["aa_range"] == [0.97, 1.03]  # min-max of the control rounds
    assert hello_raw["note"].startswith("within noise: 0.010 below the threshold")
    assert got[(VS_STARLETTE, "uvicorn", "hello")]["verdict"] == "PASS"
    assert "note" not in got[(VS_STARLETTE, "uvicorn", "hello")]
    assert got[(ROUTER_RAW, "uvicorn", "json-router")]["verdict"] == "MISS"
    assert got[(ROUTER_RAW, "uvicorn", "json-router")]["threshold"] == 0.85
    assert "note" not in got[(ROUTER_RAW, "uvicorn", "json-router")]
    router_star = got[(VS_STARLETTE, "uvicorn", "json-router")]
    assert router_star["verdict"] == "MISS"
    assert router_star["note"].startswith("within noise: 0.040 below the threshold")
    # daphne has no A/A: nothing is annotated.
    daphne_star = got[(VS_STARLETTE, "daphne", "hello")]
    assert (daphne_star["verdict"], daphne_star["aa_range"]) == ("MISS", None)
    assert "note" not in daphne_star


# --- rendering ----------------------------------------------------------------------------


def _document(results: list[dict[str, Any]], servers: list[str]) -> dict[str, Any]:
    return {
        "command": "python -m benchmarks.run",
        "environment": {
            "date": "2026-01-01T00:00:00+00:00",
            "cpu_count": 2,
            "platform": "Linux",
            "python": "3.11.9",
            "wrk": "wrk 4.1.0",
            "versions": {},
        },
        "settings": {
            "duration": 1,
            "rounds": 3,
            "connections": 32,
            "threads": 1,
            "stream_clients": 4,
        },
        "results": results,
        "memory": [],
        "noise": report.noise_floor(results),
        "targets": report.evaluate_targets(results, [], servers),
    }


def test_render_targets_counts_misses_within_noise_and_shows_both_ranges() -> None:
    results = [
        _result("uvicorn", "hello", [0.93, 0.94, 0.96], [1.0, 1.1, 1.2], control=[0.97, 1.0, 1.03]),
        _result("uvicorn", "json-router", [0.70, 0.71, 0.72], [1.0, 1.0, 1.0]),
    ]
    lines = report_markdown.render_markdown(_document(results, ["uvicorn"])).splitlines()
    assert "2 PASS, 2 MISS (1 within the noise floor), 0 not measured." in lines
    assert (
        f"| {VS_RAW} | uvicorn | hello | 0.940x | 0.930–0.960x | 0.970–1.030x"
        " | MISS (within noise) |" in lines
    )
    assert (
        f"| {ROUTER_RAW} | uvicorn | json-router | 0.710x | 0.700–0.720x | 0.970–1.030x | MISS |"
        in lines
    )
    assert (
        f"| {VS_STARLETTE} | uvicorn | hello | 1.100x | 1.000–1.200x | 0.970–1.030x | PASS |"
        in (lines)
    )
    assert any(report_markdown.NOISE_RULE in ln for ln in lines)


def test_render_noise_floor_section() -> None:
    results = [
        _result("uvicorn", "hello", [1.0], [1.0], control=[0.97, 1.0, 1.03]),
        _result("daphne", "hello", [1.0], [1.0]),
    ]
    lines = report_markdown.render_markdown(_document(results, ["uvicorn", "daphne"])).splitlines()
    start = lines.index("## Noise floor (A/A)")
    section = lines[start : lines.index("## Ratios: baize / raw ASGI and baize / Starlette")]
    header = "| server | rounds | raw-again/raw median | min–max | margin | raw req/s |"
    header += " raw-again req/s |"
    assert header in section
    assert "| uvicorn | 3 | 1.00x | 0.970–1.030x | 0.064 | 1,000 | 1,010 |" in section
    assert "| daphne | – | – | – | – | – | – |" in section
    assert lines.index("## Targets") < start


def test_render_noise_floor_without_control_or_without_hello() -> None:
    no_control = report_markdown.render_noise_floor([_result("uvicorn", "hello", [1.0], [1.0])])
    assert no_control[0] == "## Noise floor (A/A)"
    assert "Not measured (`--no-control`, or the control did not run)." in no_control
    assert (
        report_markdown.render_noise_floor([_result("uvicorn", "json-router", [1.0], [1.0])]) == []
    )


def test_render_targets_of_an_old_report_without_ranges() -> None:
    old = {
        "target": VS_RAW,
        "server": "uvicorn",
        "scenario": "hello",
        "value": 0.9,
        "threshold": 0.95,
        "verdict": "MISS",
    }
    lines = report_markdown.render_targets([old])
    assert "0 PASS, 1 MISS (0 within the noise floor), 0 not measured." in lines
    assert f"| {VS_RAW} | uvicorn | hello | 0.900x | – | – | MISS |" in lines


# --- the runner: the control is scheduled only in hello, rotated, kept out of the pairs ----


def test_control_is_scheduled_only_in_hello_when_on() -> None:
    impls = ["raw", "starlette", "baize"]
    assert run.scheduled_impls("hello", impls, True) == [*impls, "raw-again"]
    assert run.scheduled_impls("hello", impls, False) == impls
    for name in run.SCENARIOS:
        if name != "hello":
            assert run.scheduled_impls(name, impls, True) == impls
    assert run.scheduled_impls("hello", ["starlette"], True) == ["starlette"]  # no raw: no A/A
    assert run.APP_MODULES["raw-again"] == run.APP_MODULES["raw"]


def test_parse_args_no_control() -> None:
    assert run.parse_args([]).no_control is False
    assert run.parse_args(["--no-control"]).no_control is True


class _FakeSup:
    def __init__(self, impl: str) -> None:
        self.impl = impl
        self.server = self

    def stop(self) -> None:
        self.stopped = True


def _fake_round(
    monkeypatch: pytest.MonkeyPatch, impls: list[str], gives_up: str = ""
) -> tuple[list[list[str]], dict[str, Any], dict[str, str]]:
    measured: list[str] = []

    def ensure_running(sup: Any, *args: Any) -> None:
        if sup.impl == gives_up:
            raise run.GaveUp(f"the {sup.impl} server died 4 times")

    def measure_once(sup: Any, *args: Any) -> dict[str, Any]:
        measured.append(sup.impl)
        return _sample(100)

    monkeypatch.setattr(rounds, "ensure_running", ensure_running)
    monkeypatch.setattr(rounds, "wait_idle", lambda servers, timeout: [])
    monkeypatch.setattr(rounds, "measure_once", measure_once)
    team: dict[str, Any] = {impl: _FakeSup(impl) for impl in impls}
    settings = run.Settings(1, 4, 0, 1, 1, 1)
    errors: dict[str, str] = {}
    orders = []
    for index in range(4):
        run.measure_round(team, index, run.SCENARIOS["hello"], settings, errors, b"")
        orders.append(list(measured))
        measured.clear()
    return orders, team, errors


def test_control_is_rotated_with_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    impls = run.scheduled_impls("hello", ["raw", "starlette", "baize"], True)
    orders, _, _ = _fake_round(monkeypatch, impls)
    assert orders == [
        ["raw", "starlette", "baize", "raw-again"],
        ["starlette", "baize", "raw-again", "raw"],
        ["baize", "raw-again", "raw", "starlette"],
        ["raw-again", "raw", "starlette", "baize"],
    ]


def test_a_control_that_gives_up_is_dropped_not_the_scenario(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    orders, team, errors = _fake_round(monkeypatch, ["raw", "baize", "raw-again"], "raw-again")
    assert orders[0] == ["raw", "baize"]
    assert "raw-again" not in team
    assert errors == {"raw-again": "control dropped: the raw-again server died 4 times"}
    with pytest.raises(run.GaveUp):
        _fake_round(monkeypatch, ["raw", "baize"], "baize")


def test_scenario_result_keeps_the_control_out_of_the_baize_pairs() -> None:
    rounds = [
        {"raw": _sample(100), "starlette": _sample(80), "baize": _sample(90)},  # no control
        {
            "raw": _sample(100),
            "starlette": _sample(100),
            "baize": _sample(110),
            "raw-again": _sample(95),
        },
        {
            "raw": _sample(200),
            "starlette": _sample(100),
            "baize": _sample(180),
            "raw-again": _sample(210),
        },
    ]
    with_control = run.scenario_result(CONFIG, run.SCENARIOS["hello"], {}, rounds, {}, None)
    without = [{k: v for k, v in m.items() if k != "raw-again"} for m in rounds]
    plain = run.scenario_result(CONFIG, run.SCENARIOS["hello"], {}, without, {}, None)
    # A round the control missed is not dropped for the others; the baize ratios are the same.
    assert "dropped_rounds" not in with_control
    for key in ("baize/raw", "baize/starlette"):
        assert with_control["ratios"][key] == plain["ratios"][key]
    assert with_control["ratios"]["baize/raw"]["per_round"] == [0.9, 1.1, 0.9]
    control = with_control["ratios"]["raw-again/raw"]
    assert control["per_round"] == [0.95, 1.05]
    assert control["rounds"] == [2, 3]
    assert (control["min"], control["max"]) == (0.95, 1.05)
    assert [s["rate"] for s in with_control["samples"]["raw-again"]] == [95, 210]
    assert with_control["median"]["raw-again"]["rate"] == 152.5
    assert "raw-again/raw" not in plain["ratios"]


# --- merging a partial run into a report ------------------------------------------------


def test_merge_replaces_only_the_measured_cells_and_records_the_merge() -> None:
    old = _document(
        [
            _result("uvicorn", "hello", [1.0], [1.0]),
            _result("granian", "hello", [0.9], [0.9]),
            _result("granian", "h2-hello", [0.5], [0.5]),
        ],
        ["uvicorn", "granian"],
    )
    old["memory"] = [{"server": "granian", "impl": "baize", "growth_bytes": 1}]
    new = _document(
        [_result("granian", "h2-hello", [0.99], [1.01]), _result("daphne", "hello", [1.0], [1.0])],
        ["granian", "daphne"],
    )
    new["command"] = "python -m benchmarks.run --server granian --merge"
    new["environment"] = {**new["environment"], "date": "2026-01-02T00:00:00+00:00"}
    new["memory"] = [{"server": "granian", "impl": "baize", "growth_bytes": 2}]
    merged = report.merge_results(old, new)
    cells = [
        (r["server"], r["scenario"], r["ratios"]["baize/raw"]["median"]) for r in merged["results"]
    ]
    assert cells == [
        ("uvicorn", "hello", 1.0),
        ("granian", "hello", 0.9),
        ("granian", "h2-hello", 0.99),  # replaced in place
        ("daphne", "hello", 1.0),  # new cells are appended
    ]
    assert merged["memory"] == [{"server": "granian", "impl": "baize", "growth_bytes": 2}]
    assert merged["command"] == "python -m benchmarks.run"  # the report's own run
    (merge,) = merged["merges"]
    assert merge["command"].endswith("--merge")
    assert merge["measured"] == ["granian h2-hello", "daphne hello", "granian memory (baize)"]
    assert report.report_servers(merged) == ["uvicorn", "granian", "daphne"]
    page = report_markdown.render_markdown(merged)
    assert "re-measured granian h2-hello, daphne hello, granian memory (baize)." in page
    assert old["results"][2]["ratios"]["baize/raw"]["median"] == 0.5  # old is not modified


def test_merge_refuses_settings_that_change_what_a_figure_means() -> None:
    old = {"duration": 2, "rounds": 7, "connections": 32, "max_restarts": 3}
    assert report.settings_conflicts(old, {**old, "max_restarts": 5}) == []
    assert report.settings_conflicts(old, {**old, "rounds": 3}) == ["rounds: 7 vs 3"]
    assert report.settings_conflicts(old, {**old, "control": False}) == ["control: None vs False"]


def test_merge_problem_before_any_load(tmp_path: Path) -> None:
    settings = run.Settings(2, 7, 20, 32, 1, 4)
    assert "no " in (run.merge_problem({}, settings, tmp_path) or "")
    same = {"settings": settings.to_json()}
    assert run.merge_problem(same, settings, tmp_path) is None
    other = {"settings": {**settings.to_json(), "duration": 1}}
    assert "duration: 1 vs 2" in (run.merge_problem(other, settings, tmp_path) or "")
