"""The HTTP/2 part of the load benchmarks: h2load parsing, the h2c probe, skipped results."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

# benchmarks/ is not an installed package; `pytest tests/...` does not put the root on sys.path.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import cpus, loadgen, report, report_markdown, run
from benchmarks.tools import Tool, Tools

#: wrk "installed" for the runner's check; the tests replace every measurement.
FAKE_WRK = Tool("/fake/wrk", "wrk (test)")
FAKE_H2LOAD = Tool("/fake/h2load", "h2load (test)")

# Captured from `h2load -D 1 -c 8 -m 4 -t 1 --log-file=... http://127.0.0.1:PORT/` (granian),
# progress lines shortened.
H2_OUTPUT = """\
starting benchmark...
spawning thread #0: 8 total client(s). Timing-based test with 0s of warm-up time and 1s of \
main duration for measurements.
Warm-up started for thread #0.
progress: 12% of clients started
progress: 100% of clients started
Warm-up phase is over for thread #0.
Main benchmark duration is started for thread #0.
Application protocol: h2c
Main benchmark duration is over for thread #0. Stopping all clients.
Stopped all clients for thread #0

finished in 1.00s, 15582.00 req/s, 609.66KB/s
requests: 15582 total, 15614 started, 15582 done, 15582 succeeded, 0 failed, 0 errored, 0 timeout
status codes: 15582 2xx, 0 3xx, 0 4xx, 0 5xx
traffic: 609.66KB (624288) total, 137.51KB (140806) headers (space savings 91.71%), \
197.82KB (202566) data
                     min         max         mean         sd        +/- sd
time for request:      217us     11.16ms      1.94ms      1.30ms    83.90%
time for connect:      616us       709us       672us        30us    75.00%
time to 1st byte:     2.07ms      3.99ms      3.33ms       625us    75.00%
req/s           :    1908.61     1978.72     1947.38       22.09    75.00%
"""

# Captured against uvicorn, which answers the HTTP/2 preface with an HTTP/1.1 400.
REFUSED_OUTPUT = """\
starting benchmark...
spawning thread #0: 1 total client(s). 20 total requests
Application protocol: h2c

finished in 6.57ms, 0.00 req/s, 28.53KB/s
requests: 20 total, 1 started, 0 done, 0 succeeded, 20 failed, 20 errored, 0 timeout
status codes: 0 2xx, 0 3xx, 0 4xx, 0 5xx
traffic: 192B (192) total, 0B (0) headers (space savings 0.00%), 0B (0) data
                     min         max         mean         sd        +/- sd
time for request:        0us         0us         0us         0us     0.00%
time for connect:      239us       239us       239us         0us   100.00%
time to 1st byte:        0us         0us         0us         0us     0.00%
req/s           :       0.00        0.00        0.00        0.00   100.00%
"""


def test_parse_h2load_output_reads_rate_counts_and_request_time() -> None:
    sample = loadgen.parse_h2load_output(H2_OUTPUT)
    assert sample.protocol == "h2c"
    assert sample.rate == 15582.0
    assert sample.count == 15582
    assert sample.seconds == pytest.approx(1.0)
    assert sample.errors == 0
    assert sample.data_bytes == 202566
    assert sample.min_ms == pytest.approx(0.217)
    assert sample.max_ms == pytest.approx(11.16)
    assert sample.mean_ms == pytest.approx(1.94)
    assert sample.sd_ms == pytest.approx(1.30)
    # h2load's report has no percentiles: without its log they stay unknown, never guessed.
    assert (sample.p50_ms, sample.p90_ms, sample.p99_ms) == (None, None, None)
    assert sample.to_json()["data_bytes"] == 202566


def test_parse_h2load_output_takes_percentiles_from_the_request_log() -> None:
    times_us = [float(t) for t in range(100, 0, -1)]  # 1..100 us, unsorted
    sample = loadgen.parse_h2load_output(H2_OUTPUT, times_us)
    assert sample.p50_ms == pytest.approx(0.050)
    assert sample.p90_ms == pytest.approx(0.090)
    assert sample.p99_ms == pytest.approx(0.099)


def test_parse_h2load_output_refused_connection_counts_every_request_as_an_error() -> None:
    sample = loadgen.parse_h2load_output(REFUSED_OUTPUT)
    assert (sample.rate, sample.count, sample.errors) == (0.0, 0, 20)
    assert sample.mean_ms is None


def test_parse_h2load_output_counts_4xx_5xx_once_and_3xx_as_errors() -> None:
    output = H2_OUTPUT.replace(
        "15582 succeeded, 0 failed, 0 errored", "15579 succeeded, 3 failed, 1 errored"
    ).replace("15582 2xx, 0 3xx, 0 4xx, 0 5xx", "15577 2xx, 2 3xx, 1 4xx, 1 5xx")
    assert loadgen.parse_h2load_output(output).errors == 5


def test_parse_h2load_output_refuses_a_fallback_to_http11() -> None:
    output = H2_OUTPUT.replace("Application protocol: h2c", "Application protocol: http/1.1")
    with pytest.raises(loadgen.H2loadOutputError, match=r"spoke http/1\.1, not h2c"):
        loadgen.parse_h2load_output(output)


def test_parse_h2load_output_without_a_protocol_or_figures_is_an_error() -> None:
    no_protocol = H2_OUTPUT.replace("Application protocol: h2c\n", "No protocol negotiated\n")
    with pytest.raises(loadgen.H2loadOutputError, match="negotiated no protocol"):
        loadgen.parse_h2load_output(no_protocol)
    truncated = H2_OUTPUT.split("finished in")[0]
    with pytest.raises(loadgen.H2loadOutputError, match="lacks"):
        loadgen.parse_h2load_output(truncated)


def test_parse_h2load_log_keeps_successful_requests_only() -> None:
    log = "1795565538629973\t200\t749\n1795565538629974\t-1\t0\n\ngarbage\n17\t200\t1250\n"
    assert loadgen.parse_h2load_log(log) == [749.0, 1250.0]


def test_h2load_command_is_h2c_prior_knowledge_with_a_log() -> None:
    command = loadgen.h2load_command(
        "/opt/h2load",
        "http://127.0.0.1:1/x",
        clients=8,
        streams=4,
        threads=1,
        log_file="/t/l",
        duration=3,
    )
    assert command == [
        "/opt/h2load",
        "-c8",
        "-m4",
        "-t1",
        "--no-tls-proto=h2c",
        "--log-file=/t/l",
        "-T5",
        "-D3",
        "http://127.0.0.1:1/x",
    ]
    counted = loadgen.h2load_command(
        "h2load", "u", clients=1, streams=1, threads=1, log_file="l", requests=9
    )
    assert "-n9" in counted and not any(a.startswith("-D") for a in counted)
    with pytest.raises(ValueError, match="exactly one"):
        loadgen.h2load_command("h2load", "u", clients=1, streams=1, threads=1, log_file="l")


@contextmanager
def _one_shot_server(reply: bytes) -> Iterator[int]:
    """A listener that reads the preface, answers ``reply`` (nothing: just closes)."""
    listener = socket.socket()
    listener.bind((loadgen.HOST, 0))
    listener.listen(1)
    received: list[bytes] = []

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            data = b""
            while len(data) < len(loadgen.H2_PREFACE):
                chunk = conn.recv(1024)
                if not chunk:
                    break
                data += chunk
            received.append(data)
            if reply:
                conn.sendall(reply)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        thread.join(5)
        listener.close()
    assert received == [loadgen.H2_PREFACE]


def test_probe_h2c_accepts_a_settings_frame() -> None:
    settings = b"\x00\x00\x06\x04\x00\x00\x00\x00\x00" + b"\x00\x03\x00\x00\x00\x64"
    with _one_shot_server(settings) as port:
        assert loadgen.probe_h2c(port) is None


def test_probe_h2c_names_an_http11_answer() -> None:
    with _one_shot_server(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n") as port:
        reason = loadgen.probe_h2c(port)
    assert reason == "answered the HTTP/2 preface with HTTP/1.x ('HTTP/1.1 400 Bad Request'...)"


def test_probe_h2c_names_a_close_and_other_frames() -> None:
    with _one_shot_server(b"") as port:
        assert loadgen.probe_h2c(port) == "closed the connection on the HTTP/2 preface"
    goaway = b"\x00\x00\x08\x07\x00\x00\x00\x00\x00" + bytes(8)
    with _one_shot_server(goaway) as port:
        assert "not a SETTINGS frame" in (loadgen.probe_h2c(port) or "")


def test_without_h2load_the_h2_scenarios_are_not_measured_and_the_hint_is_printed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Only wrk: every other tool's absence is reported (output, notes, environment)."""
    monkeypatch.setattr(cpus, "available", lambda: {0, 1})  # pinning is wanted, and possible
    argv = ["--server", "hypercorn", "--scenario", "h2-hello", "--rounds", "1"]
    assert run.main([*argv, "--report-dir", str(tmp_path)], Tools(wrk=FAKE_WRK)) == 0
    err = capsys.readouterr().err
    assert "apt-get install -y nghttp2-client" in err
    assert "taskset is not installed: CPU pinning is off" in err
    assert "git is not installed" in err
    document = json.loads((tmp_path / "performance.json").read_text())
    [result] = document["results"]
    assert result["not_measured"] == "not measured: h2load missing"
    environment = document["environment"]
    assert (environment["wrk"], environment["h2load"]) == ("wrk (test)", "missing")
    assert (environment["taskset"], environment["git"]) == ("missing", "missing")
    assert environment["git_commit"] == "unknown"
    assert document["settings"]["pinning"] == "none"
    assert cpus.NO_TASKSET in document["notes"]
    assert [(t["scenario"], t["verdict"]) for t in document["targets"]] == [
        ("h2-hello", "NOT MEASURED"),
        ("h2-hello", "NOT MEASURED"),
    ]
    text = (tmp_path / "performance.md").read_text()
    assert "| hypercorn | not measured |" in text
    assert "| hypercorn | – | – | – | not measured: h2load missing |" in text


def test_a_server_without_h2c_is_reported_not_applicable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """uvicorn (real processes) answers the preface in HTTP/1.1: no measurement, a reason."""

    def no_h2load(*args: Any, **kwargs: Any) -> loadgen.H2Sample:
        raise AssertionError("h2load must not run against a server without h2c")

    monkeypatch.setattr(loadgen, "run_h2load", no_h2load)
    argv = ["--server", "uvicorn", "--scenario", "h2-json-router", "--rounds", "1"]
    tools = Tools(wrk=FAKE_WRK, h2load=FAKE_H2LOAD)
    assert run.main([*argv, "--report-dir", str(tmp_path)], tools) == 0
    document = json.loads((tmp_path / "performance.json").read_text())
    [result] = document["results"]
    assert result["not_applicable"] == (
        "no h2c: answered the HTTP/2 preface with HTTP/1.x ('HTTP/1.1 400 Bad Request'...)"
    )
    assert result["samples"] == {}
    assert document["targets"] == []  # not applicable: no verdict at all
    assert "| uvicorn | no h2c |" in (tmp_path / "performance.md").read_text()


def _h2_document() -> dict[str, Any]:
    sample = {"rate": 1000.0, "p50_ms": 1.0, "p90_ms": 2.0, "p99_ms": 3.0, "errors": 0}
    measured = {
        "server": "hypercorn",
        "scenario": "h2-hello",
        "unit": "req/s",
        "samples": {},
        **report.summarize({"raw": [sample], "starlette": [sample], "baize": [sample]}),
        "errors": {},
    }
    refused = {
        "server": "daphne",
        "scenario": "h2-hello",
        "unit": "req/s",
        "samples": {},
        "median": {},
        "ratios": {},
        "errors": {},
        "not_applicable": "no h2c: closed the connection on the HTTP/2 preface",
    }
    results = [measured, refused]
    return {
        "command": "python -m benchmarks.run",
        "environment": {
            "date": "2026-01-01",
            "cpu_count": 2,
            "platform": "Linux",
            "python": "3.11",
            "wrk": "wrk 4.1.0",
            "h2load": "h2load nghttp2/1.52.0",
            "versions": {},
        },
        "settings": {
            "duration": 1,
            "rounds": 1,
            "connections": 32,
            "threads": 1,
            "stream_clients": 4,
            "h2_clients": 8,
            "h2_streams": 4,
        },
        "results": results,
        "memory": [],
        "targets": report.evaluate_targets(results, [], ["hypercorn", "daphne"]),
    }


def test_render_markdown_h2_section_says_how_it_was_measured() -> None:
    document = _h2_document()
    assert {(t["server"], t["verdict"]) for t in document["targets"]} == {("hypercorn", "PASS")}
    lines = report_markdown.render_markdown(document).splitlines()
    assert "- HTTP/2 load: h2load nghttp2/1.52.0 over h2c, 8 clients x 4 streams, 1 thread" in lines
    assert "| hypercorn | 1.00x / 1.00x |" in lines
    assert "| daphne | no h2c |" in lines
    assert "| hypercorn | 1,000 (1.00 / 2.00 / 3.00) | 1,000 (1.00 / 2.00 / 3.00) |" in " ".join(
        lines
    )
    assert "| daphne | – | – | – | no h2c: closed the connection on the HTTP/2 preface |" in lines
    assert any("computed from its per-request `--log-file`" in ln for ln in lines)


def test_suite_timing_after_the_loads_lands_in_the_same_report(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pytest_runs: list[list[str]] = []

    def fake_run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        if command[0] == "/fake/git":  # git rev-parse for the environment
            return subprocess.CompletedProcess(command, 0, stdout="abc123\n", stderr="")
        pytest_runs.append(command)
        return subprocess.CompletedProcess(command, 0, stdout="== 5 passed in 1s ==\n", stderr="")

    monkeypatch.setattr(subprocess, "run", fake_run)
    argv = ["--server", "granian", "--scenario", "h2-hello", "--suite-timing"]
    tools = Tools(wrk=FAKE_WRK, git=Tool("/fake/git", "git version 0"))  # no h2load: no server
    assert run.main([*argv, "--report-dir", str(tmp_path)], tools) == 0
    document = json.loads((tmp_path / "performance.json").read_text())
    assert document["environment"]["git_commit"] == "abc123"
    assert [r["scenario"] for r in document["results"]] == ["h2-hello"]
    assert [r["mode"] for r in document["suite_timing"]["runs"]] == ["serial", "-n auto"]
    assert [r["pytest"] for r in document["suite_timing"]["runs"]] == [{"passed": 5}] * 2
    assert len(pytest_runs) == 2
    assert "## Conformance suite wall time" in (tmp_path / "performance.md").read_text()
