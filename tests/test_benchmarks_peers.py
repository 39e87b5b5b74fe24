"""The peers of the load benchmarks: installed or not, scheduled, paired with baize, targets,
and the peers table. No framework, server or external tool is needed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from benchmarks import peers, report, report_markdown, report_peers, rounds, run
from benchmarks.tools import Tool, Tools


def _sample(rate: float) -> dict[str, Any]:
    return {"rate": rate, "p50_ms": 1.0, "p90_ms": 2.0, "p99_ms": 3.0, "errors": 0}


def test_a_peer_that_is_not_installed_is_reported_not_raised() -> None:
    installed, missing = peers.available(
        ["litestar", "falcon", "fastapi"], exists=lambda module: module != "falcon"
    )
    assert installed == ["litestar", "fastapi"]
    assert list(missing) == ["falcon"]
    assert missing["falcon"].startswith("not installed (falcon missing;")
    assert 'pip install -e ".[peers]"' in missing["falcon"]


def test_a_peer_missing_one_of_its_modules_is_not_installed() -> None:
    _, missing = peers.available(["fastapi"], exists=lambda module: module == "fastapi")
    assert missing == {
        "fastapi": 'not installed (sse_starlette missing; pip install -e ".[peers]")'
    }


def test_versions_of_a_missing_distribution() -> None:
    old = peers.PEERS["falcon"]
    peers.PEERS["falcon"] = peers.Peer("falcon", old.module, (), "no-such-dist-x", old.apps)
    try:
        assert peers.versions(["falcon"]) == {"falcon": "not installed"}
    finally:
        peers.PEERS["falcon"] = old


def test_blacksheep_is_the_compiled_reference_not_a_target() -> None:
    assert peers.targets() == ["sse-starlette", "litestar", "falcon", "fastapi"]
    names = [t.name for t in report.TARGETS]
    assert "baize >= 1.0x blacksheep" not in names
    assert "baize >= 1.0x litestar" in names


def test_each_peer_serves_its_scenarios_only() -> None:
    every = list(peers.PEERS)
    assert peers.for_app(every, "sse") == every
    assert peers.for_app(every, "hello") == ["litestar", "falcon", "fastapi", "blacksheep"]
    assert peers.for_app(every, "range_file") == []
    assert peers.for_app(every, "websocket") == []


def test_peers_are_scheduled_after_baize_and_before_the_control() -> None:
    impls = rounds.scheduled_impls("hello", ["raw", "starlette", "baize"], True, ["falcon"])
    assert impls == ["raw", "starlette", "baize", "falcon", "raw-again"]
    assert rounds.scheduled_impls("sse", ["raw"], True, ["litestar"]) == ["raw", "litestar"]
    for name, peer in peers.PEERS.items():
        assert run.APP_MODULES[name] == peer.module


def test_summarize_pairs_baize_with_every_peer_per_round() -> None:
    samples = {
        "raw": [_sample(100), _sample(100)],
        "starlette": [_sample(50), _sample(50)],
        "baize": [_sample(80), _sample(90)],
        "litestar": [_sample(40), _sample(100)],
        report.CONTROL: [_sample(100), _sample(100)],
    }
    ratios = report.summarize(samples)["ratios"]
    assert set(ratios) == {"baize/raw", "baize/starlette", "baize/litestar"}
    assert ratios["baize/litestar"]["per_round"] == [2.0, 0.9]
    assert ratios["baize/litestar"]["median"] == pytest.approx(1.45)


def _result(server: str, scenario: str, scheduled: list[str], ratios: dict[str, float]) -> dict:
    return {
        "server": server,
        "scenario": scenario,
        "unit": "req/s",
        "samples": {},
        "median": {
            "baize": _sample(1000),
            **{impl: _sample(1000 / r) for impl, r in ratios.items()},
        },
        "ratios": {f"baize/{impl}": report.ratio_summary([r]) for impl, r in ratios.items()},
        "errors": {},
        "peers": scheduled,
    }


def test_peer_targets_only_where_the_peer_was_scheduled() -> None:
    results = [
        _result("uvicorn", "hello", ["falcon", "blacksheep"], {"falcon": 0.9, "blacksheep": 0.5}),
        _result("uvicorn", "json-router", ["falcon"], {}),  # falcon failed: no ratio
    ]
    verdicts = report.evaluate_targets(results, [], ["uvicorn"])
    got = {(v["target"], v["scenario"]): v["verdict"] for v in verdicts if "1.0x" in v["target"]}
    assert got[("baize >= 1.0x falcon", "hello")] == "MISS"
    assert got[("baize >= 1.0x falcon", "json-router")] == "NOT MEASURED"
    assert not any("litestar" in target for target, _ in got)  # not scheduled: no verdict
    assert not any("blacksheep" in target for target, _ in got)


def test_peers_table_rows_cells_and_margin() -> None:
    results = [
        _result("uvicorn", "hello", ["falcon", "blacksheep"], {"falcon": 1.25, "blacksheep": 0.5}),
        _result("uvicorn", "sse", ["sse-starlette"], {}),
    ]
    results[1]["errors"] = {"sse-starlette": "wrong answer: no event stream"}
    document = {"results": results, "peers": {"falcon": "4.4.0", "blacksheep": "2.6.4"}}
    lines = report_peers.render_peers(document)
    assert lines[0] == "## Peers: baize beside the frameworks people pick instead"
    assert "Peers: falcon 4.4.0, blacksheep 2.6.4." in lines
    assert "| scenario | server | baize | raw | starlette | falcon | blacksheep | A/A margin |" in (
        lines
    )
    assert "| hello (req/s) | uvicorn | 1,000 | – | – | 800 (1.25x) | 2,000 (0.50x) | – |" in lines
    assert "| sse (req/s) | uvicorn | 1,000 | – | – | n/a | n/a | – |" in lines
    results[0]["median"]["falcon"]["rate"] = 0.0
    results[0]["ratios"].pop("baize/falcon")
    lines = report_peers.render_peers(document)
    assert (
        "| hello (req/s) | uvicorn | 1,000 | – | – | 0 (none complete) | 2,000 (0.50x) | – |"
        in (lines)
    )


def test_peers_table_says_which_peers_are_not_installed() -> None:
    document = {"results": [], "peers": {"litestar": "not installed (litestar missing)"}}
    lines = report_peers.render_peers(document)
    assert "Peers: litestar not installed (litestar missing)." in lines
    assert "No scenario measured a peer." in lines
    assert report_peers.render_peers({"results": []}) == []


def test_run_reports_missing_peers_and_schedules_the_installed_ones(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    scheduled: dict[str, list[str]] = {}

    def fake_scenario(config: Any, scenario: Any, impls: list[str], *args: Any) -> dict:
        scheduled[scenario.name] = list(impls)
        return {
            "server": config.name,
            "scenario": scenario.name,
            "unit": scenario.unit,
            "samples": {},
            "median": {},
            "ratios": {},
            "errors": {},
        }

    monkeypatch.setattr(run, "run_scenario", fake_scenario)
    monkeypatch.setattr(peers, "_module_exists", lambda module: module == "falcon")
    monkeypatch.setattr(peers, "versions", lambda names: dict.fromkeys(names, "4.4.0"))
    tools = Tools(wrk=Tool("/fake/wrk", "wrk (test)"))
    argv = ["--server", "uvicorn", "--scenario", "hello", "--scenario", "sse", "--no-pin"]
    assert run.main([*argv, "--rounds", "1", "--report-dir", str(tmp_path)], tools) == 0
    assert scheduled["hello"] == ["raw", "starlette", "baize", "falcon", "raw-again"]
    assert scheduled["sse"] == ["raw", "starlette", "baize", "falcon"]
    document = run.previous_report(tmp_path)
    assert document["peers"]["falcon"] == "4.4.0"
    assert document["peers"]["litestar"].startswith("not installed (litestar missing")
    assert any(
        n.startswith("peer blacksheep not measured: not installed") for n in document["notes"]
    )
    assert document["settings"]["peers"] == list(peers.PEERS)
    text = (tmp_path / "performance.md").read_text()
    assert "## Peers: baize beside the frameworks people pick instead" in text
    assert report_markdown.render_markdown(document) == text


def test_no_peers_measures_the_three_and_merges_into_an_old_report() -> None:
    args = run.parse_args(["--no-peers"])
    assert args.no_peers and run.parse_args(["--peer", "falcon"]).peer == ["falcon"]
    assert report.settings_conflicts({"rounds": 3}, {"rounds": 3, "peers": []}) == []
    assert report.settings_conflicts({"rounds": 3}, {"rounds": 3, "peers": ["falcon"]}) == [
        "peers: [] vs ['falcon']"
    ]


def test_routing_templates_in_each_framework_syntax_and_the_hit_ratio() -> None:
    from benchmarks import bench_routing, routing_peers

    template = "/users7/{id:int}/posts/{slug}"
    assert routing_peers.rewrite(template, "plain") == "/users7/{id}/posts/{slug}"
    assert routing_peers.rewrite(template, "typed") == template
    assert routing_peers.rewrite(template, "litestar") == "/users7/{id:int}/posts/{slug:str}"
    assert routing_peers.rewrite(template, "blacksheep") == "/users7/{int:id}/posts/{slug}"
    assert bench_routing.hit_ratio(10_201, 10_000) == pytest.approx(201 / 10_201)
    assert bench_routing.hit_ratio(100, 10_000) == 0.0
    paths, static, dynamic, prefix = bench_routing.templates(5)
    assert len(paths) == 5
    assert (static, dynamic, prefix) == ("/static4/about", "/users3/42/posts/hello", "/users3/")


def test_routing_reports_a_framework_that_is_not_installed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from benchmarks import bench_routing

    monkeypatch.setattr(bench_routing, "installed", lambda name: name == "baize")
    cases, missing = bench_routing.build_cases(["baize", "falcon"], 10)
    assert missing == {"falcon": "not installed"}
    assert {c.framework for c in cases} == {"baize"} and len(cases) == 9
    out: list[str] = []
    best = {(c.framework, c.count, c.kind): 1000.0 for c in cases}
    bench_routing.report(best, missing, 0.0, 10, out.append)
    assert out[0] == "| routes | path | baize | falcon |"
    assert "| 5 | varied | 1.00 µs | not installed |" in out


def test_bench_routing_writes_its_table(tmp_path: Path) -> None:
    from benchmarks import bench_routing

    out = tmp_path / "routing.md"
    bench_routing.main(
        [
            "--rounds",
            "1",
            "--calls",
            "5",
            "--distinct",
            "10",
            "--framework",
            "baize",
            "--out",
            str(out),
        ]
    )
    text = out.read_text()
    assert text.startswith("# Routing: baize's Router beside every peer's, in-process")
    assert "--framework baize" in text
    assert "| 500 | varied |" in text
