"""The pure parts of the load-benchmark runner: wrk parsing, ratios, targets, Markdown."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

# benchmarks/ is not an installed package; `pytest tests/...` does not put the root on sys.path.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import (
    loadgen,
    report,
    report_markdown,
    rounds,
    run,
    servers,
    suite_timing,
    supervise,
)
from benchmarks.servers import load_servers
from benchmarks.tools import Tools
from conformance.harness.serverconfig import ServerConfig

WRK_OUTPUT = """\
Running 1s test @ http://127.0.0.1:8000/
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.21ms  412.00us   9.80ms   91.00%
    Req/Sec     9.91k   310.00     10.20k    80.00%
  Latency Distribution
     50%    3.10ms
     75%    3.30ms
     90%  850.00us
     99%    1.20s
  9904 requests in 1.00s, 1.33MB read
  Socket errors: connect 0, read 2, write 1, timeout 0
  Non-2xx or 3xx responses: 4
Requests/sec:   9876.54
Transfer/sec:      1.33MB
"""


def test_parse_wrk_output_reads_rate_percentiles_and_errors() -> None:
    sample = loadgen.parse_wrk_output(WRK_OUTPUT)
    assert sample.rate == 9876.54
    assert sample.p50_ms == 3.10
    assert sample.p90_ms == pytest.approx(0.85)
    assert sample.p99_ms == 1200.0
    assert sample.count == 9904
    assert sample.seconds == 1.0
    assert sample.errors == 2 + 1 + 4


def test_parse_wrk_output_without_errors_counts_zero() -> None:
    clean = "\n".join(
        ln for ln in WRK_OUTPUT.splitlines() if not ln.strip().startswith(("Socket", "Non-2xx"))
    )
    assert loadgen.parse_wrk_output(clean).errors == 0


def test_parse_wrk_output_without_latency_table_is_an_error() -> None:
    without = WRK_OUTPUT.replace("     99%    1.20s\n", "")
    with pytest.raises(loadgen.WrkOutputError, match="99% latency"):
        loadgen.parse_wrk_output(without)


def test_parse_wrk_output_without_rate_is_an_error() -> None:
    with pytest.raises(loadgen.WrkOutputError, match="Requests/sec"):
        loadgen.parse_wrk_output("unable to connect to 127.0.0.1:1 Connection refused")


@pytest.mark.parametrize(
    ("text", "ms"), [("812.00us", 0.812), ("1.25ms", 1.25), ("2.00s", 2000.0), ("1.50m", 90000.0)]
)
def test_parse_duration_ms_units(text: str, ms: float) -> None:
    assert loadgen.parse_duration_ms(text) == pytest.approx(ms)


def test_parse_duration_ms_refuses_garbage() -> None:
    with pytest.raises(loadgen.WrkOutputError):
        loadgen.parse_duration_ms("3 parsecs")


def test_wrk_command_has_whole_seconds_latency_and_headers() -> None:
    command = loadgen.wrk_command(
        "/opt/wrk",
        "http://127.0.0.1:1/",
        2,
        connections=32,
        threads=1,
        headers=["Range: bytes=0-9"],
    )
    assert command == [
        "/opt/wrk",
        "-t1",
        "-c32",
        "-d2s",
        "--latency",
        "--timeout",
        "5s",
        "-H",
        "Range: bytes=0-9",
        "http://127.0.0.1:1/",
    ]


def test_paired_ratios_pair_rounds_and_drop_zero_references() -> None:
    assert report.paired_ratios([10, 20, 30], [5, 0, 60]) == [2.0, 0.5]
    with pytest.raises(ValueError, match="3 rounds against 2"):
        report.paired_ratios([1, 2, 3], [1, 2])


def _sample(rate: float, p50: float | None = 1.0) -> dict[str, Any]:
    return {"rate": rate, "p50_ms": p50, "p90_ms": p50, "p99_ms": p50, "errors": 0}


def test_summarize_takes_median_of_per_round_ratios() -> None:
    samples = {
        "raw": [_sample(100), _sample(50), _sample(200)],
        "starlette": [_sample(80), _sample(40), _sample(100)],
        "baize": [_sample(90), _sample(60), _sample(150)],
    }
    summary = report.summarize(samples)
    assert summary["median"]["raw"]["rate"] == 100
    assert summary["ratios"]["baize/raw"]["per_round"] == [0.9, 1.2, 0.75]
    assert summary["ratios"]["baize/raw"]["median"] == 0.9
    assert summary["ratios"]["baize/starlette"]["median"] == 1.5
    # The median of paired ratios differs from the ratio of medians (90/100): pairs cancel noise.
    assert summary["ratios"]["baize/starlette"]["per_round"] == [1.125, 1.5, 1.5]


def test_summarize_without_baize_has_no_ratios() -> None:
    summary = report.summarize({"raw": [_sample(1)], "starlette": [_sample(2)]})
    assert summary["ratios"] == {}
    assert set(summary["median"]) == {"raw", "starlette"}


def _result(server: str, scenario: str, raw: float | None, star: float | None) -> dict[str, Any]:
    ratios = {}
    if raw is not None:
        ratios["baize/raw"] = {"per_round": [raw], "median": raw}
    if star is not None:
        ratios["baize/starlette"] = {"per_round": [star], "median": star}
    return {
        "server": server,
        "scenario": scenario,
        "unit": "req/s",
        "samples": {},
        "median": {"raw": _sample(1000), "baize": _sample(960, None)},
        "ratios": ratios,
        "errors": {"starlette": "did not start"} if star is None else {},
    }


def test_evaluate_targets_pass_miss_and_not_measured() -> None:
    results = [
        _result("uvicorn", "hello", 0.96, 1.01),
        _result("uvicorn", "json-router", 0.84, None),
        _result("uvicorn", "file-1mib", 0.5, 0.99),
    ]
    memory = [
        {"server": "uvicorn", "impl": "baize", "growth_bytes": 40 * report.MIB},
        {"server": "uvicorn", "impl": "starlette", "growth_bytes": 0},
    ]
    verdicts = report.evaluate_targets(results, memory, ["uvicorn"])
    got = {(v["target"], v["scenario"]): v["verdict"] for v in verdicts}
    vs_raw, router_raw, vs_starlette, file_target = (t.name for t in report.TARGETS[:4])
    assert got == {
        (vs_raw, "hello"): "PASS",
        (router_raw, "json-router"): "MISS",  # 0.84 < 0.85 (issue 20)
        (vs_starlette, "hello"): "PASS",
        (vs_starlette, "json-router"): "NOT MEASURED",
        (file_target, "file-1mib"): "MISS",
        ("memory flat serving 1 GiB (RSS growth <= 32 MiB)", "memory-1gib"): "MISS",
    }


def _document() -> dict[str, Any]:
    results = [_result("uvicorn", "hello", 0.96, 1.01), _result("daphne", "hello", 0.5, None)]
    memory = [
        {
            "server": "uvicorn",
            "impl": "baize",
            "rss_before": 30 * report.MIB,
            "rss_peak": 31 * report.MIB,
            "rss_after": 30 * report.MIB,
            "growth_bytes": report.MIB,
            "throughput_bytes_per_s": 200 * report.MIB,
        }
    ]
    return {
        "command": "python -m benchmarks.run --quick",
        "environment": {
            "date": "2026-01-01T00:00:00+00:00",
            "cpu_count": 2,
            "platform": "Linux",
            "python": "3.11.9",
            "load_average_at_start": [1.0, 0.5, 0.25],
            "wrk": "wrk 4.1.0",
            "versions": {"starlette": "1.0", "uvicorn": "0.30"},
        },
        "settings": {
            "duration": 1,
            "rounds": 3,
            "connections": 32,
            "threads": 1,
            "stream_clients": 4,
        },
        "notes": ["json-router: baize not measured"],
        "results": results,
        "memory": memory,
        "targets": report.evaluate_targets(results, memory, ["uvicorn", "daphne"]),
    }


def test_render_markdown_has_targets_ratio_grid_numbers_and_memory() -> None:
    text = report_markdown.render_markdown(_document())
    lines = text.splitlines()
    assert lines[0] == "# Performance report"
    assert "Generated by `python -m benchmarks.run --quick` on 2026-01-01T00:00:00+00:00." in text
    assert "- json-router: baize not measured" in lines
    assert "3 PASS, 1 MISS (0 within the noise floor), 1 not measured." in text
    assert "load average at start 1.00 / 0.50 / 0.25" in text
    assert (
        "| hello >= 0.95x raw ASGI | daphne | hello | 0.500x | 0.500–0.500x | – | MISS |" in lines
    )
    assert "| server | hello |" in lines
    assert "| uvicorn | 0.96x / 1.01x |" in lines
    assert "| daphne | 0.50x / – |" in lines
    assert "| uvicorn | 1,000 (1.00 / 1.00 / 1.00) | – | 960 | none |" in lines
    assert "| daphne | 1,000 (1.00 / 1.00 / 1.00) | – | 960 | starlette: did not start |" in lines
    assert "| uvicorn | baize | 30.0 | 31.0 | 30.0 | 1.0 | 200.0 |  |" in lines
    assert any(
        ln.startswith("Not measured yet: `python -m benchmarks.run --only-suite-timing`")
        for ln in lines
    )


def test_render_markdown_suite_timing() -> None:
    document = _document()
    document["suite_timing"] = {
        "date": "2026-01-02",
        "command": "python -m benchmarks.run --only-suite-timing",
        "cpu_count": 2,
        "load_average_at_start": [0.5, 0.25, 0.125],
        "runs": [
            {
                "mode": "serial",
                "command": "pytest conformance -n 0",
                "seconds": 61.25,
                "returncode": 0,
                "summary": "10 passed in 61.00s",
                "cases": 12,
                "outcomes": {"deviation": 2, "pass": 10},
            },
            {
                "mode": "-n auto",
                "command": "pytest conformance -n auto",
                "seconds": 33.0,
                "returncode": 1,
                "summary": "1 failed",
                "cases": None,
                "outcomes": {},
            },
        ],
    }
    lines = report_markdown.render_markdown(document).splitlines()
    assert (
        "| serial | `pytest conformance -n 0` | 61.2 | 0 | 12 | deviation 2, pass 10"
        " | 10 passed in 61.00s |" in lines
    )
    assert "| -n auto | `pytest conformance -n auto` | 33.0 | 1 | – | – | 1 failed |" in lines
    assert any("2 CPUs, load average at start 0.50 / 0.25 / 0.12" in ln for ln in lines)


def test_load_servers_are_the_harness_configurations_with_a_longer_ready_timeout() -> None:
    from conformance.harness.serverconfig import load_servers as harness_servers

    harness = harness_servers(servers.SERVERS_DIR)
    mine = load_servers()
    assert list(mine) == list(harness) and "uvicorn" in mine
    for name, config in mine.items():
        assert config.command == harness[name].command
        assert config.socket == harness[name].socket
        assert config.ready_timeout == max(harness[name].ready_timeout, servers.READY_TIMEOUT)


def test_run_without_wrk_says_how_to_install_and_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert run.main(["--quick", "--report-dir", str(tmp_path)], Tools()) == 2
    assert "apt-get install -y wrk" in capsys.readouterr().err
    assert not (tmp_path / "performance.json").exists()


def test_parse_args_refuses_fractional_or_zero_durations() -> None:
    with pytest.raises(SystemExit):
        run.parse_args(["--duration", "0"])
    with pytest.raises(SystemExit):
        run.parse_args(["--duration", "0.5"])
    with pytest.raises(SystemExit):
        run.parse_args(["--scenario", "nope"])


def test_only_suite_timing_runs_serial_and_n_auto_and_merges_into_the_report(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    original = _document()
    (tmp_path / "performance.json").write_text(json.dumps(original))
    calls: list[list[str]] = []

    def fake_run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append(command)
        # The suite writes its own report where --report-dir says: two cases here.
        report_dir = Path(command[command.index("--report-dir") + 1])
        report_dir.mkdir(parents=True)
        results = [{"outcome": "pass"}, {"outcome": "deviation"}]
        (report_dir / "conformance.json").write_text(json.dumps({"results": results}))
        out = "created: 2/2 workers\n" if "auto" in command else ""
        return subprocess.CompletedProcess(
            command, 1, stdout=f"{out}x\n== 3 passed, 1 failed in 2s ==\n"
        )

    monkeypatch.setattr(subprocess, "run", fake_run)
    assert run.main(["--only-suite-timing", "--report-dir", str(tmp_path)]) == 0
    assert [c[3:-2] for c in calls] == [
        ["conformance", "-n", "0"],
        ["conformance", "-n", "auto"],
    ]
    # Each run's own report goes to a temporary directory of its own, never into reports/.
    dirs = [Path(c[-1]) for c in calls]
    assert dirs[0] != dirs[1] and tmp_path not in (dirs[0], *dirs[0].parents)
    merged = json.loads((tmp_path / "performance.json").read_text())
    # The load results are kept as they were; only the timing section is added.
    assert merged["results"] == json.loads(json.dumps(original["results"]))
    timing = merged["suite_timing"]
    assert timing["command"] == "python -m benchmarks.run --only-suite-timing --report-dir " + str(
        tmp_path
    )
    assert [(r["mode"], r["returncode"]) for r in timing["runs"]] == [("serial", 1), ("-n auto", 1)]
    first = timing["runs"][0]
    assert first["summary"] == "3 passed, 1 failed in 2s"
    assert first["pytest"] == {"passed": 3, "failed": 1}
    assert (first["cases"], first["outcomes"]) == (2, {"deviation": 1, "pass": 1})
    assert [r["workers"] for r in timing["runs"]] == [1, 2]
    assert "| serial | `pytest conformance -n 0` |" in (tmp_path / "performance.md").read_text()


def test_only_suite_timing_without_a_report_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run.main(["--only-suite-timing", "--report-dir", str(tmp_path)]) == 2
    assert "run the load benchmark first" in capsys.readouterr().err
    assert not (tmp_path / "performance.json").exists()


def test_suite_timing_flags_exclude_each_other() -> None:
    with pytest.raises(SystemExit):
        run.parse_args(["--suite-timing", "--only-suite-timing"])
    assert run.parse_args(["--suite-timing"]).suite_timing


def test_pytest_counts_reads_every_outcome_word() -> None:
    summary = suite_timing.summary_line(
        "lots of dots\n= 3770 passed, 2 skipped, 1 error, 4 xfailed, 3 warnings in 54.41s =\n", ""
    )
    assert summary == "3770 passed, 2 skipped, 1 error, 4 xfailed, 3 warnings in 54.41s"
    assert suite_timing.pytest_counts(summary) == {
        "passed": 3770,
        "skipped": 2,
        "errors": 1,
        "xfailed": 4,
        "warnings": 3,
    }
    assert suite_timing.summary_line("", "ImportError: boom\n") == "ImportError: boom"


def test_conformance_outcomes_of_a_missing_or_broken_report(tmp_path: Path) -> None:
    assert suite_timing.conformance_outcomes(tmp_path / "none.json") == (None, {})
    (tmp_path / "bad.json").write_text('{"results": [{"no": "outcome"}]}')
    assert suite_timing.conformance_outcomes(tmp_path / "bad.json") == (None, {})


# --- A server that dies: restarted, its crash reported, cut rounds dropped, bounded -------------

# A tiny ASGI app served by a real uvicorn process. ``/crash`` makes the process log an error
# line and kill itself with SIGKILL at once (mid-load); ``/crash-soon`` does so 0.3 s later,
# after the load generator has finished (as hypercorn-trio does when h2load drops its
# connections at the end of a run).
CRASHY_APP = """
import os
import signal
import sys
import threading


def _die():
    print("RuntimeError: simulated crash of the test server", file=sys.stderr, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)


served = 0


async def hello(scope, receive, send):
    global served
    served += scope["path"] == "/"
    if scope["path"] == "/crash" or str(served) == os.environ.get("CRASHY_DIE_AT"):
        _die()
    if scope["path"] == "/crash-soon":
        threading.Timer(0.3, _die).start()
    headers = [(b"content-type", b"text/plain")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"Hello, world!"})
"""
CRASH_LINE = "RuntimeError: simulated crash of the test server"
CRASHY_CONFIG = ServerConfig(
    "crashy",
    "uvicorn",
    ("{python}", "-m", "uvicorn", "--fd", "{fd}", "--lifespan", "off", "--no-access-log", "{app}"),
    "fd",
    known_crashes={"simulated crash": "a declared bug of the test server"},
)


def _get_quietly(port: int, path: str) -> None:
    try:
        loadgen.http_get(port, path, timeout=2.0)
    except OSError:
        pass  # /crash kills the server before it answers


class _Load:
    """Stands in for wrk: real GETs for ``duration`` s; ``plan[i]`` is what the i-th
    measurement does to its server: ``mid`` (kills it a third into the load), ``after``
    (it dies 0.3 s after the load) or ``none``."""

    def __init__(self, plan: list[str]) -> None:
        self.plan = plan
        self.ports: list[int] = []

    def __call__(
        self, scenario: run.Scenario, port: int, duration: float, settings: run.Settings
    ) -> loadgen.Sample:
        action = self.plan[len(self.ports)] if len(self.ports) < len(self.plan) else "none"
        self.ports.append(port)
        count = errors = 0
        started = time.monotonic()
        while (elapsed := time.monotonic() - started) < duration:
            if action == "mid" and elapsed > duration / 3:
                _get_quietly(port, "/crash")
                action = "done"
            try:
                status, _ = loadgen.http_get(port, "/", timeout=2.0)
                count += status == 200
                errors += status != 200
            except OSError:
                errors += 1
                time.sleep(0.01)
        if action == "after":
            _get_quietly(port, "/crash-soon")
        return loadgen.Sample(rate=count / duration, count=count, seconds=duration, errors=errors)


def _crashy_run(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    plan: list[str],
    impls: list[str],
    rounds: int,
    max_restarts: int = 3,
    env: dict[str, str] | None = None,
) -> tuple[dict[str, Any], _Load, list[int]]:
    """Run the ``hello`` scenario on real uvicorn processes serving CRASHY_APP.

    :returns: the result, the load (ports measured, in order) and the ports that
        :func:`supervise.prepare_server` checked and warmed up.
    """
    (tmp_path / "crashy_app.py").write_text(CRASHY_APP)
    monkeypatch.setattr(run, "APP_MODULES", dict.fromkeys(impls, "crashy_app"))
    load = _Load(plan)
    monkeypatch.setattr(supervise, "measure", load)
    prepared: list[int] = []
    real_prepare = supervise.prepare_server

    def spy(scenario: run.Scenario, server: Any, *args: Any) -> str | None:
        prepared.append(server.port)
        return real_prepare(scenario, server, *args)

    monkeypatch.setattr(run, "prepare_server", spy)
    monkeypatch.setattr(supervise, "prepare_server", spy)
    settings = run.Settings(
        duration=1,
        rounds=rounds,
        warmup_requests=2,
        connections=1,
        threads=1,
        stream_clients=1,
        max_restarts=max_restarts,
    )
    env = {"PYTHONPATH": str(tmp_path), **(env or {})}
    result = run.run_scenario(
        CRASHY_CONFIG, run.SCENARIOS["hello"], impls, settings, tmp_path, env, b""
    )
    return result, load, prepared


def test_a_server_that_died_after_its_measurement_is_restarted_and_its_figure_kept(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Round 1: raw (dies 0.3 s after its load), baize; round 2: baize, raw (restarted first).
    result, load, prepared = _crashy_run(
        monkeypatch, tmp_path, ["after", "none", "none", "none"], ["raw", "baize"], rounds=2
    )
    assert [len(result["samples"][impl]) for impl in ("raw", "baize")] == [2, 2]
    assert "dropped_rounds" not in result
    assert result["restarts"] == {
        "raw": {
            "count": 1,
            "crashes": [{"after_round": 1, "reason": CRASH_LINE, "status": -9, "cut": False}],
        }
    }
    assert result["errors"] == {
        "raw": f"restarted 1 time: {CRASH_LINE} (declared in [known-crashes])"
    }
    assert set(result["ratios"]) == {"baize/raw"}
    # A fresh process (new socket) measured raw in round 2, after its answer was checked
    # and it was warmed up like the first one.
    raw_first, raw_again = load.ports[0], load.ports[3]
    assert raw_again != raw_first
    assert prepared == [raw_first, load.ports[1], raw_again]
    assert (tmp_path / "crashy-hello-raw.restart1.log").exists()
    text = report_markdown.render_markdown({**_document(), "results": [result]})
    assert f"| raw: restarted 1 time: {CRASH_LINE} (declared in [known-crashes]) |" in text
    assert f"| crashy | hello | raw | 1 | 1 | none | {CRASH_LINE} |" in text.splitlines()


def test_a_round_cut_by_a_crash_is_dropped_for_every_implementation(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Round 1: raw is killed mid-load, baize; round 2: baize, raw (restarted first).
    result, load, _ = _crashy_run(
        monkeypatch, tmp_path, ["mid", "none", "none", "none"], ["raw", "baize"], rounds=2
    )
    assert result["dropped_rounds"] == [1]
    assert [len(result["samples"][impl]) for impl in ("raw", "baize")] == [1, 1]
    assert len(result["ratios"]["baize/raw"]["per_round"]) == 1
    [crash] = result["restarts"]["raw"]["crashes"]
    assert (crash["after_round"], crash["cut"], crash["reason"]) == (1, True, CRASH_LINE)
    assert result["errors"]["raw"].startswith(f"restarted 1 time: {CRASH_LINE}")
    assert result["errors"]["raw"].endswith("; cut the measurement of round 1")
    assert "baize" not in result["errors"]
    assert load.ports[3] != load.ports[0]
    text = report_markdown.render_markdown({**_document(), "results": [result]})
    assert f"| crashy | hello | raw | 1 | 1 (cut) | 1 | {CRASH_LINE} |" in text.splitlines()


def test_a_server_dying_again_and_again_is_given_up_with_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    result, load, prepared = _crashy_run(
        monkeypatch, tmp_path, ["mid"] * 10, ["raw"], rounds=6, max_restarts=2
    )
    assert len(load.ports) == 3  # measured, restarted, measured, restarted, measured: no loop
    assert len(prepared) == 3
    assert result["not_measured"] == (
        "not measured: the raw server died 3 times in a row without a complete measurement;"
        f" gave up after 2 restarts: {CRASH_LINE}"
    )
    assert (result["median"], result["ratios"]) == ({}, {})
    assert result["restarts"]["raw"]["count"] == 2
    assert [c["cut"] for c in result["restarts"]["raw"]["crashes"]] == [True] * 3
    assert result["errors"]["raw"].startswith(f"restarted 2 times: {CRASH_LINE}")
    verdicts = report.evaluate_targets([result], [], ["crashy"])
    assert {v["verdict"] for v in verdicts} == {"NOT MEASURED"}
    text = report_markdown.render_markdown({**_document(), "results": [result]})
    assert "| crashy | not measured |" in text
    assert f"gave up after 2 restarts: {CRASH_LINE} |" in text


def test_a_server_dying_after_every_complete_measurement_is_never_given_up(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # hypercorn-trio under h2load: each measurement completes, then the server dies. Every
    # restart brings a figure, so the limit on restarts in a row without one never trips.
    # Measurement order (rotated rounds): raw starlette baize | starlette baize raw | baize
    # raw starlette: raw is measured 1st, 6th and 8th, and dies after each.
    plan = ["after", "none", "none", "none", "none", "after", "none", "after", "none"]
    impls = ["raw", "starlette", "baize"]
    result, load, _ = _crashy_run(monkeypatch, tmp_path, plan, impls, rounds=3, max_restarts=1)
    assert "not_measured" not in result
    assert "dropped_rounds" not in result
    assert [len(result["samples"][impl]) for impl in impls] == [3, 3, 3]
    raw_ports = [load.ports[i] for i in (0, 5, 7)]
    assert len(set(raw_ports)) == 3  # a fresh process for each measurement after a death
    assert result["restarts"]["raw"]["count"] == 2  # more than --max-restarts 1
    assert [c["cut"] for c in result["restarts"]["raw"]["crashes"]] == [False] * 3


def test_exit_watch_notes_when_a_real_process_exits() -> None:
    started = time.monotonic()
    short = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.3)"])
    with servers.ExitWatch(short.poll) as watch:
        short.wait()
        time.sleep(0.1)
    assert watch.died_at is not None and started + 0.3 <= watch.died_at <= started + 5
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with servers.ExitWatch(alive.poll) as watch:
            time.sleep(0.1)
        assert watch.died_at is None
    finally:
        alive.kill()
        alive.wait()


def test_paired_rounds_drop_a_round_missing_a_figure() -> None:
    a, b = _sample(1), _sample(2)
    samples, dropped = rounds.paired_rounds(
        [{"raw": a, "baize": b}, {"raw": a}, {"baize": b, "raw": a}]
    )
    assert (samples, dropped) == ({"raw": [a, a], "baize": [b, b]}, [2])
    # An implementation never measured does not drop the rounds of the others.
    assert rounds.paired_rounds([{"raw": a}, {"raw": a}]) == ({"raw": [a, a]}, [])


def test_known_crashes_are_read_from_the_server_configuration() -> None:
    trio = load_servers()["hypercorn-trio"]
    line = "trio.BusyResourceError: another task is currently sending data on this SocketStream"
    assert "hypercorn bug" in (trio.known_crash(line) or "")
    assert trio.known_crash("ValueError: something else") is None


def test_parse_args_max_restarts() -> None:
    assert run.parse_args([]).max_restarts == run.MAX_RESTARTS == 3
    assert run.parse_args(["--max-restarts", "0"]).max_restarts == 0
    with pytest.raises(SystemExit):
        run.parse_args(["--max-restarts", "-1"])


def test_a_server_dying_during_its_check_is_restarted_then_given_up(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Every process dies on its 2nd request to ``/`` (the first warm-up request): it is not
    called a wrong answer but restarted, and the restarts stay bounded."""
    die = {"CRASHY_DIE_AT": "2"}
    result, load, prepared = _crashy_run(
        monkeypatch, tmp_path, [], ["raw"], rounds=3, max_restarts=1, env=die
    )
    assert load.ports == []  # never measured
    assert len(prepared) == 2  # the first process and the restarted one were checked
    assert result["not_measured"] == (
        "not measured: the raw server died 2 times in a row without a complete measurement;"
        f" gave up after 1 restart: {CRASH_LINE}"
    )
    crashes = result["restarts"]["raw"]["crashes"]
    assert [(c["after_round"], c["cut"]) for c in crashes] == [(0, False), (0, False)]
    assert not result["errors"]["raw"].startswith("wrong answer")
