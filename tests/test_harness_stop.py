"""A server stop interrupted midway (case timeout, Ctrl-C) still kills the process group."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from conformance.harness.process import ServerProcess
from conformance.harness.serverconfig import ServerConfig

STUBBORN = (
    "import signal, socket, sys, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "socket.socket(fileno=int(sys.argv[1]))\n"
    "time.sleep(600)\n"
)


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except OSError:
        return False


def test_interrupted_stop_kills_the_group(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script = tmp_path / "stubborn.py"
    script.write_text(STUBBORN)
    config = ServerConfig(
        name="stubborn",
        distribution="pytest",
        command=("{python}", str(script), "{fd}"),
        stop_timeout=30,
    )
    process = ServerProcess(
        config,
        python=sys.executable,
        app_root=tmp_path,
        log_path=tmp_path / "log",
        env=dict(os.environ),
    )
    process.start()
    pid = process.pid
    assert pid is not None and alive(pid)
    popen = process._popen
    assert popen is not None
    real_wait = popen.wait

    def interrupted_wait(timeout: float | None = None) -> int:
        if timeout == 30:  # the grace period: a case timeout fires here
            raise KeyboardInterrupt("case timeout")
        return real_wait(timeout)

    monkeypatch.setattr(popen, "wait", interrupted_wait)
    with pytest.raises(KeyboardInterrupt):
        process.stop()
    deadline = time.monotonic() + 5
    while alive(pid) and time.monotonic() < deadline:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            break
        time.sleep(0.05)
    assert not alive(pid)
