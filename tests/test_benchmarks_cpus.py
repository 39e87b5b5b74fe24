"""CPU pinning of the load benchmark: servers and load generators on separate CPUs."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from benchmarks import cpus, servers


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


def test_a_server_started_with_the_prefix_runs_on_the_server_cpus() -> None:
    pinning = cpus.split(os.sched_getaffinity(0))
    if pinning is None:
        pytest.skip("needs 2 CPUs")  # pragma: no cover
    code = "import os; print(sorted(os.sched_getaffinity(0)))"
    out = subprocess.run(
        [*pinning.server_prefix(), sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.strip() == str(list(pinning.server))


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
