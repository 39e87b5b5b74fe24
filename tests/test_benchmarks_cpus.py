"""CPU pinning of the load benchmark: servers and load generators on separate CPUs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks import cpus, servers
from benchmarks.tools import Tool, Tools

# A stand-in for taskset: ``--cpu-list LIST COMMAND...`` runs COMMAND on the CPUs of LIST, as
# the real one does (it executes COMMAND in its own process), and notes that it was used.
FAKE_TASKSET = """#!{python}
import os, sys
assert sys.argv[1] == "--cpu-list", sys.argv
os.sched_setaffinity(0, {{int(cpu) for cpu in sys.argv[2].split(",")}})
with open(sys.argv[0] + ".used", "a") as note:
    note.write(sys.argv[2] + "\\n")
os.execvp(sys.argv[3], sys.argv[3:])
"""


def fake_taskset(directory: Path) -> Tools:
    """Tools whose taskset is :data:`FAKE_TASKSET` (no real taskset needed)."""
    path = directory / "taskset"
    path.write_text(FAKE_TASKSET.format(python=sys.executable))
    path.chmod(0o755)
    return Tools(taskset=Tool(str(path), "taskset (fake)"))


def test_split_gives_servers_the_first_half_and_clients_the_rest() -> None:
    assert cpus.split({3, 1}) == cpus.Pinning(server=(1,), clients=(3,))
    assert cpus.split(range(8)) == cpus.Pinning(server=(0, 1, 2, 3), clients=(4, 5, 6, 7))
    assert cpus.split(range(3)) == cpus.Pinning(server=(0,), clients=(1, 2))


def test_one_cpu_cannot_be_split() -> None:
    assert cpus.split({0}) is None


def test_clients_pinned_restores_the_affinity() -> None:
    before = os.sched_getaffinity(0)
    pinning = cpus.split(before)
    if pinning is None:
        pytest.skip("needs 2 CPUs")  # pragma: no cover - CI and dev machines have 2 or more
    with cpus.clients_pinned(pinning):
        assert os.sched_getaffinity(0) == set(pinning.clients)
    assert os.sched_getaffinity(0) == before


def test_a_server_started_with_the_prefix_runs_on_the_server_cpus(tmp_path: Path) -> None:
    """A real uvicorn process of the benchmarks, started through taskset (a fake one)."""
    tools = fake_taskset(tmp_path)
    pinning, unpinned = cpus.choose(tools, wanted=True)
    if pinning is None:
        pytest.skip("needs 2 CPUs")  # pragma: no cover - CI and dev machines have 2 or more
    assert unpinned is None
    prefix = pinning.server_prefix(tools.need("taskset"))
    assert prefix == [str(tmp_path / "taskset"), "--cpu-list", ",".join(map(str, pinning.server))]
    config = servers.load_servers()["uvicorn"]
    # json_router answers /__ready__ with 404: the benchmarks' readiness takes any answer.
    app = "benchmarks.apps.raw:json_router"
    server = servers.RunningServer(config, app, tmp_path / "server.log", prefix=prefix)
    server.start()
    try:
        server.wait_ready()
        assert server.command[:3] == prefix
        assert server.pid is not None
        assert os.sched_getaffinity(server.pid) == set(pinning.server)
    finally:
        server.stop()
    assert (tmp_path / "taskset.used").read_text() == prefix[2] + "\n"


def test_without_taskset_pinning_is_off_and_said(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cpus, "available", lambda: {0, 1})
    assert cpus.choose(Tools(), wanted=True) == (None, cpus.NO_TASKSET)
    assert cpus.choose(Tools(), wanted=False) == (None, None)
    tools = Tools(taskset=Tool("/fake/taskset", "taskset (fake)"))
    assert cpus.choose(tools, wanted=True) == (cpus.Pinning((0,), (1,)), None)
    monkeypatch.setattr(cpus, "available", lambda: {0})
    assert cpus.choose(tools, wanted=True) == (None, None)  # one CPU: nothing to split


class _Process:
    """What wait_idle reads of a server: the CPU time of a real process."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process

    def cpu_seconds(self) -> float:
        return servers._cpu_seconds(self.process.pid)


BUSY_THEN_IDLE = "import time\nt = time.time()\nwhile time.time() - t < 0.8: pass\ntime.sleep(30)"


def test_wait_idle_waits_for_a_busy_process_to_calm_down() -> None:
    process = subprocess.Popen([sys.executable, "-c", BUSY_THEN_IDLE])
    try:
        time.sleep(0.1)
        fake = {"busy": _Process(process)}
        assert servers.wait_idle(fake, timeout=0.3) == ["busy"]  # type: ignore[arg-type]
        started = time.monotonic()
        assert servers.wait_idle(fake, timeout=10) == []  # type: ignore[arg-type]
        assert time.monotonic() - started < 5
    finally:
        process.kill()
        process.wait()


def test_a_server_that_died_is_named_with_the_error_of_its_log() -> None:
    from benchmarks.servers import exit_line

    log = "starting\n  | trio.BusyResourceError: another task is sending\n  +----------\n"
    assert exit_line(log) == "trio.BusyResourceError: another task is sending"
    assert exit_line("starting\nstopped by a signal\n\n") == "stopped by a signal"
    assert exit_line("") == "no log"
