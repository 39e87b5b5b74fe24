"""Server processes are stopped and reaped on every exit path of a real pytest run.

Each test runs pytest in a subprocess on a tiny suite whose only server configuration is a
small fake HTTP server (``fakeserver.py``, written below) that can misbehave on demand. Every
process the run spawns carries ``CONFORMANCE_RUN_TOKEN`` in its environment; afterwards no live
process may carry it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

RUN_TIMEOUT = 60.0

FAKE_SERVER = r'''
"""A tiny HTTP server on an inherited socket; MODE picks how it misbehaves."""
import os, signal, socket, subprocess, sys, time

mode, fd = sys.argv[1], int(sys.argv[2])
# A grandchild in the same process group: the harness must kill it too.
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
print(f"fake server mode={mode}", flush=True)
if mode == "never":
    print("fake server never listening", flush=True)
    time.sleep(600)
if mode == "stubborn":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
listener = socket.socket(fileno=fd)
served = 0
while True:
    conn, _ = listener.accept()
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    if mode == "crash-once" and served == 2 and not os.path.exists(os.environ["TINY_MARK"]):
        # answered the probe and /__scope__; exit without answering the first case
        open(os.environ["TINY_MARK"], "w").close()
        print("fake server crashing once, in the first case", flush=True)
        os._exit(3)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
    conn.close()
    served += 1
    if mode == "crash" and served == 1:
        print("fake server crashing after the probe", flush=True)
        sys.exit(3)
'''

CONFTEST = "from conformance.harness.plugin import pytest_addoption, pytest_configure  # noqa\n"

SUITE = r"""
import os, pathlib, time
import pytest

@pytest.mark.requirement("FAKE-1")
def test_first(server):
    scenario = os.environ["TINY_SCENARIO"]
    if scenario == "interrupt":
        pathlib.Path(os.environ["TINY_MARK"]).write_text("started")
        time.sleep(60)
    with server.http(timeout=2) as client:
        assert client.get("/anything").text == "ok"
    assert scenario != "failing", "the case fails on purpose"

@pytest.mark.requirement("FAKE-2")
def test_second(server):
    with server.http(timeout=2) as client:
        assert client.get("/anything").status_code == 200
"""


def fake_config(script: Path, mode: str, deviations: str = "", ready_timeout: float = 2) -> str:
    return (
        'name = "fake"\ndistribution = "pytest"\nsocket = "fd"\n'
        f'command = ["{{python}}", "{script}", "{mode}", "{{fd}}"]\n'
        f"ready_timeout = {ready_timeout}\nstop_timeout = 1\n"
        f"[offers]\nextensions = []\n[deviations]\n{deviations}"
    )


def make_suite(tmp_path: Path, mode: str, deviations: str = "") -> Path:
    (tmp_path / "servers").mkdir()
    script = tmp_path / "fakeserver.py"
    (tmp_path / "servers" / "fake.toml").write_text(fake_config(script, mode, deviations))
    (tmp_path / "fakeserver.py").write_text(FAKE_SERVER)
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_tiny.py").write_text(SUITE)
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    return tmp_path


def token_processes(token: str) -> list[int]:
    """Live (non-zombie) processes whose environment carries ``token``."""
    found = []
    needle = f"CONFORMANCE_RUN_TOKEN={token}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def pytest_command(suite: Path, *args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pytest",
        str(suite),
        "-p",
        "no:randomly",
        "-p",
        "no:hypothesispytest",
        "--no-builtin-servers",
        f"--servers-dir={suite / 'servers'}",
        f"--report-dir={suite / 'reports'}",
        *args,
    ]


def run_env(suite: Path, scenario: str, token: str) -> dict[str, str]:
    env = dict(os.environ, CONFORMANCE_RUN_TOKEN=token, TINY_SCENARIO=scenario)
    env["TINY_MARK"] = str(suite / "started.mark")
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    return env


def run_suite(
    tmp_path: Path, mode: str, scenario: str, *args: str, deviations: str = ""
) -> tuple[subprocess.CompletedProcess[str], str]:
    suite = make_suite(tmp_path, mode, deviations)
    token = uuid.uuid4().hex
    done = subprocess.run(
        pytest_command(suite, *args),
        env=run_env(suite, scenario, token),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        cwd=suite,
    )
    return done, token


def results(tmp_path: Path) -> list[dict[str, str]]:
    data = json.loads((tmp_path / "reports" / "conformance.json").read_text())
    return list(data["results"])


def test_normal_end_leaves_no_process(tmp_path: Path) -> None:
    done, token = run_suite(tmp_path, "ok", "normal")
    assert done.returncode == 0, done.stdout + done.stderr
    assert token_processes(token) == []
    assert {r["outcome"] for r in results(tmp_path)} == {"pass"}


def test_failing_case_leaves_no_process_and_attaches_log(tmp_path: Path) -> None:
    done, token = run_suite(tmp_path, "ok", "failing")
    assert done.returncode == 1
    assert "fake server log (last lines)" in done.stdout
    assert token_processes(token) == []
    outcomes = {r["requirement"]: r for r in results(tmp_path)}
    assert outcomes["FAKE-1"]["outcome"] == "fail"
    assert "the case fails on purpose" in outcomes["FAKE-1"]["detail"]
    assert "fake server mode=ok" in outcomes["FAKE-1"]["log_tail"]  # the log kept apart
    assert "fake server mode=ok" not in outcomes["FAKE-1"]["detail"]


def test_declared_deviation_and_unexpected_pass(tmp_path: Path) -> None:
    declared = '"FAKE-1" = "fails on purpose"\n"FAKE-2" = "declared but holds"\n'
    done, token = run_suite(tmp_path, "ok", "failing", deviations=declared)
    rows = {r["requirement"]: r for r in results(tmp_path)}
    assert {k: r["outcome"] for k, r in rows.items()} == {
        "FAKE-1": "deviation",
        "FAKE-2": "unexpected-pass",
    }
    assert (rows["FAKE-1"]["reason"], rows["FAKE-2"]["reason"]) == (
        "fails on purpose",
        "declared but holds",
    )
    assert "the case fails on purpose" in rows["FAKE-1"]["detail"]
    assert "1 failed, 1 xfailed" in done.stdout
    assert "unexpected pass on fake" in done.stdout
    assert token_processes(token) == []


def test_a_flaky_failure_is_a_deviation_and_a_flaky_pass_a_pass(tmp_path: Path) -> None:
    """``[flaky]``: the run stays green whichever way the intermittent case goes."""
    flaky = '[flaky]\n"FAKE-1" = "fails on some runs"\n"FAKE-2" = "passes this time"\n'
    done, token = run_suite(tmp_path, "ok", "failing", deviations=flaky)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed, 1 xfailed" in done.stdout
    found = {r["requirement"]: (r["outcome"], r["reason"], r["flaky"]) for r in results(tmp_path)}
    assert found == {
        "FAKE-1": ("deviation", "flaky: fails on some runs", True),
        "FAKE-2": ("pass", "flaky: passes this time", True),
    }
    assert token_processes(token) == []


def test_under_xdist_the_worker_hands_over_its_idle_keep_alive_fact(tmp_path: Path) -> None:
    """The worker takes the controller's environment probe (workerinput) and gives back what
    its idle keep-alive watch saw (workeroutput); the fake server closes after each answer."""
    done, token = run_suite(tmp_path, "ok", "normal", "-n", "2")
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads((tmp_path / "reports" / "conformance.json").read_text())
    fact = data["open_behaviours"]["idle_keep_alive"]["servers"]["fake"]
    assert fact["closed"] is True and fact["seconds"] == 0.0
    assert fact["text"] == "the server closed the connection after the first response"
    assert data["run"]["python"].startswith("CPython")  # the probe's answer reached the run
    assert token_processes(token) == []


def test_stubborn_server_is_killed(tmp_path: Path) -> None:
    done, token = run_suite(tmp_path, "stubborn", "normal")
    assert done.returncode == 0, done.stdout + done.stderr
    assert token_processes(token) == []


def test_server_crash_mid_run_is_a_clear_harness_error(tmp_path: Path) -> None:
    done, token = run_suite(tmp_path, "crash", "normal")
    assert done.returncode == 1
    assert "exited with status 3" in done.stdout
    assert "fake server crashing after the probe" in done.stdout
    assert token_processes(token) == []
    assert {r["outcome"] for r in results(tmp_path)} == {"error"}  # never a failure


def test_server_crash_fails_its_case_and_is_restarted(tmp_path: Path) -> None:
    done, token = run_suite(tmp_path, "crash-once", "normal")
    assert done.returncode == 1
    outcomes = {r["requirement"]: r for r in results(tmp_path)}
    assert outcomes["FAKE-1"]["outcome"] == "error"
    assert "exited with status 3" in outcomes["FAKE-1"]["detail"]
    assert "fake server crashing once" in outcomes["FAKE-1"]["log_tail"]
    assert outcomes["FAKE-2"]["outcome"] == "pass", outcomes["FAKE-2"]["detail"]
    assert token_processes(token) == []


def test_declared_known_crash_is_a_deviation_of_its_case(tmp_path: Path) -> None:
    known = '[known-crashes]\n"fake server crashing once" = "a declared server bug"\n'
    done, token = run_suite(tmp_path, "crash-once", "normal", deviations=known)
    assert done.returncode == 0, done.stdout + done.stderr
    outcomes = {r["requirement"]: r for r in results(tmp_path)}
    assert outcomes["FAKE-1"]["outcome"] == "deviation"
    assert outcomes["FAKE-1"]["reason"] == "known crash of fake: a declared server bug"
    assert "exited with status 3" in outcomes["FAKE-1"]["detail"]
    assert outcomes["FAKE-2"]["outcome"] == "pass", outcomes["FAKE-2"]["detail"]
    assert token_processes(token) == []


def test_a_crash_not_declared_stays_an_error(tmp_path: Path) -> None:
    known = '"FAKE-1" = "a deviation does not excuse a crash"\n'
    known += '[known-crashes]\n"some other crash" = "a declared server bug"\n'
    done, _ = run_suite(tmp_path, "crash-once", "normal", deviations=known)
    assert done.returncode == 1
    assert {r["requirement"]: r["outcome"] for r in results(tmp_path)}["FAKE-1"] == "error"


def test_server_never_ready_fails_in_bounded_time(tmp_path: Path) -> None:
    started = time.monotonic()
    done, token = run_suite(tmp_path, "never", "normal")
    assert done.returncode == 1
    assert "did not answer GET /__ready__ within 2 s" in done.stdout
    assert "fake server never listening" in done.stdout
    assert time.monotonic() - started < 30
    assert token_processes(token) == []
    rows = results(tmp_path)
    assert {r["outcome"] for r in rows} == {"error"}, rows  # no verdict, never a failure
    assert all("did not answer GET /__ready__" in r["detail"] for r in rows), rows
    assert all("fake server never listening" in r["log_tail"] for r in rows), rows


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_leaves_no_process(tmp_path: Path) -> None:
    suite = make_suite(tmp_path, "ok", "")
    token = uuid.uuid4().hex
    env = run_env(suite, "interrupt", token)
    mark = suite / "started.mark"
    with subprocess.Popen(
        pytest_command(suite),
        env=env,
        cwd=suite,
        stdout=subprocess.PIPE,
        text=True,
        # A shell without job control starts background jobs with SIGINT ignored, and Python
        # then keeps ignoring it: give the child the default disposition, as a terminal would.
        preexec_fn=_default_sigint,
    ) as child:
        deadline = time.monotonic() + RUN_TIMEOUT
        while not mark.exists():  # written by the case: the server is up, the case is running
            assert time.monotonic() < deadline, "the case never started"
            assert child.poll() is None, child.communicate()[0]
            time.sleep(0.05)
        assert token_processes(token), "the fake server should be running"
        child.send_signal(signal.SIGINT)
        out, _ = child.communicate(timeout=RUN_TIMEOUT)
    assert "KeyboardInterrupt" in out
    assert token_processes(token) == []


def test_sigterm_to_pytest_leaves_no_process(tmp_path: Path) -> None:
    suite = make_suite(tmp_path, "ok", "")
    token = uuid.uuid4().hex
    mark = suite / "started.mark"
    with subprocess.Popen(
        pytest_command(suite),
        env=run_env(suite, "interrupt", token),
        cwd=suite,
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        deadline = time.monotonic() + RUN_TIMEOUT
        while not mark.exists():
            assert time.monotonic() < deadline and child.poll() is None
            time.sleep(0.05)
        child.send_signal(signal.SIGTERM)
        child.communicate(timeout=RUN_TIMEOUT)
    assert token_processes(token) == []


def test_unknown_server_is_a_usage_error(tmp_path: Path) -> None:
    done, _ = run_suite(tmp_path, "ok", "normal", "--server", "nope")
    assert done.returncode == 4
    assert "unknown --server nope; known: fake" in done.stderr


def test_header_names_left_out_servers(tmp_path: Path) -> None:
    suite = make_suite(tmp_path, "ok", "")
    missing = fake_config(suite / "fakeserver.py", "ok").replace(
        'name = "fake"', 'name = "missing"'
    )
    missing = missing.replace('distribution = "pytest"', 'distribution = "no-such-dist-xyz"')
    (suite / "servers" / "missing.toml").write_text(missing)
    done = subprocess.run(
        pytest_command(suite, "--collect-only"),
        env=run_env(suite, "normal", uuid.uuid4().hex),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        cwd=suite,
    )
    header = [line for line in done.stdout.splitlines() if line.startswith("conformance:")]
    assert len(header) == 1
    assert "servers fake;" in header[0]
    assert "missing: distribution 'no-such-dist-xyz' not installed" in header[0]


@pytest.mark.parametrize("workers", ["2"])
def test_xdist_run_reports_on_controller(tmp_path: Path, workers: str) -> None:
    done, token = run_suite(tmp_path, "ok", "normal", "-n", workers)
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(results(tmp_path)) == 2
    assert token_processes(token) == []
