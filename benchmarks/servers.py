"""Benchmark servers: the conformance harness's server process, and what only a benchmark needs.

The configurations (``conformance/servers/*.toml``, :mod:`conformance.harness.serverconfig`),
the process lifecycle (spawn on a race-free socket, readiness probe, stop and reap) and the
ports are the harness's (:mod:`conformance.harness.process`). This module adds what the
benchmarks alone need: the app and environment of each server, CPU pinning (a command
prefix), a larger listen backlog, the RSS and CPU time of the process tree, the exit watch
and the idle wait.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType

import conformance
from conformance.harness.process import ServerProcess
from conformance.harness.serverconfig import ServerConfig
from conformance.harness.serverconfig import load_servers as load_configs

ROOT = Path(__file__).resolve().parent.parent
SERVERS_DIR = Path(conformance.__file__).resolve().parent / "servers"
#: Seconds a server gets to answer its first probe, at least (several start at once, pinned).
READY_TIMEOUT = 30.0
#: The listen backlog of an inherited socket: room for every connection of a load at once.
LISTEN_BACKLOG = 1024


def load_servers(directory: Path = SERVERS_DIR) -> dict[str, ServerConfig]:
    """The harness's configurations of ``directory``, with at least :data:`READY_TIMEOUT`."""
    return {
        name: dataclasses.replace(config, ready_timeout=max(config.ready_timeout, READY_TIMEOUT))
        for name, config in load_configs(directory).items()
    }


class RunningServer(ServerProcess):
    """A server of the benchmarks: one app of ``benchmarks/apps`` (``module:attribute``).

    :param env: added to this process's environment.
    :param prefix: put before the server's command (``taskset``, to pin it).
    """

    def __init__(
        self,
        config: ServerConfig,
        app: str,
        log_path: Path,
        env: Mapping[str, str] | None = None,
        prefix: Sequence[str] = (),
    ) -> None:
        self.extra_env = dict(env or {})
        super().__init__(
            config,
            python=sys.executable,
            app_root=ROOT,
            log_path=log_path,
            env={**os.environ, **self.extra_env},
            app=app,
            prefix=prefix,
            backlog=LISTEN_BACKLOG,
            # the benchmark apps have no /__ready__ route: any answer means the server is up
            ready_on_any_status=True,
        )

    def log(self) -> str:
        """The whole log of the process."""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def exited(self, grace: float = 0.0) -> bool:
        """True once the server process has exited (it is reaped here).

        :param grace: wait this long for an exit (a client may see the sockets close a
            moment before the process is reapable).
        """
        return self.wait_exit(grace) is not None

    def exit_line(self) -> str:
        """Why the process exited: see :func:`exit_line`."""
        return exit_line(self.log())

    def fresh(self, log_path: Path) -> RunningServer:
        """A new, not yet started server of the same configuration, app, environment and CPUs."""
        return RunningServer(self.config, self.app, log_path, self.extra_env, self.prefix)

    def process_tree(self) -> list[int]:
        """The server's pid and every descendant's (for RSS of multi-process servers)."""
        if self.pid is None:
            return []
        pids = [self.pid]
        index = 0
        while index < len(pids):
            pids.extend(_children(pids[index]))
            index += 1
        return pids

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the whole process tree."""
        return sum(_cpu_seconds(pid) for pid in self.process_tree())

    def rss_bytes(self) -> int:
        """Resident set size of the whole process tree, in bytes (0 once it is gone)."""
        return sum(_rss(pid) for pid in self.process_tree())


def exit_line(log: str) -> str:
    """Why a server exited: the last error line of its ``log``, else its last line."""
    lines = [line.strip().lstrip("|+ ") for line in log.splitlines()]
    errors = [line for line in lines if "Error:" in line or "Exception:" in line]
    return errors[-1] if errors else next((x for x in reversed(lines) if x), "no log")


class ExitWatch:
    """Notes when a process exits, from a thread that polls it while the ``with`` lasts.

    :param exit_code: the process's exit status, or None while it runs
        (:meth:`ServerProcess.exit_code`, :meth:`subprocess.Popen.poll`).
    :ivar died_at: :func:`time.monotonic` when the exit was seen (at most ``interval`` late),
        or None while the process lives.
    """

    def __init__(self, exit_code: Callable[[], int | None], interval: float = 0.01) -> None:
        self.exit_code = exit_code
        self.interval = interval
        self.died_at: float | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._done.wait(self.interval):
            if self.exit_code() is not None:
                self.died_at = time.monotonic()
                return

    def __enter__(self) -> ExitWatch:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._done.set()
        self._thread.join()


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        found.extend(int(p) for p in _proc_text(f"{pid}/task/{task}/children").split())
    return found


def _proc_text(name: str) -> str:
    """The text of ``/proc/NAME``, or ``""`` once the process is gone."""
    try:
        with open(f"/proc/{name}") as f:
            return f.read()
    except OSError:
        return ""


def _rss(pid: int) -> int:
    for line in _proc_text(f"{pid}/status").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    fields = _proc_text(f"{pid}/stat").rpartition(")")[2].split()
    if len(fields) < 13:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime after the name


def wait_idle(
    servers: Mapping[str, RunningServer],
    timeout: float,
    window: float = 0.2,
    busy: float = 0.02,
) -> list[str]:
    """Wait until no server uses more than ``busy`` of a CPU over ``window`` seconds.

    Streams an implementation keeps feeding after its clients left would otherwise
    steal the server CPU from the next implementation measured.

    :returns: the names of the servers still busy at ``timeout`` (empty: all idle).
    """
    started = time.monotonic()
    while True:
        before = {name: server.cpu_seconds() for name, server in servers.items()}
        time.sleep(window)
        still = [
            name
            for name, server in servers.items()
            if server.cpu_seconds() - before[name] > busy * window
        ]
        if not still or time.monotonic() - started >= timeout:
            return still
