"""Start and stop ASGI servers for the benchmarks, from the command lines in ``servers/*.toml``.

A configuration file names a ``command`` with placeholders (``{python}``, ``{app}``,
``{host}``, ``{port}``, ``{fd}``) and a ``socket`` kind: ``fd`` (the server inherits a
listening socket this process bound, so no port can race) or ``port`` (a free port that
this process never hands out twice).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

HOST = "127.0.0.1"
SERVERS_DIR = Path(__file__).resolve().parent.parent / "conformance" / "servers"
#: Seconds a server gets to answer its first HTTP probe.
READY_TIMEOUT = 30.0
#: Seconds a server gets to exit after SIGTERM before SIGKILL.
STOP_GRACE = 5.0


class ServerStartError(RuntimeError):
    """A server process exited or never answered its readiness probe; carries its log."""

    def __init__(self, name: str, reason: str, log: str) -> None:
        super().__init__(f"server {name!r} did not start: {reason}\n--- log ---\n{log[-4000:]}")


@dataclass(frozen=True)
class ServerConfig:
    """One server configuration: a name, a command template and how it gets its socket."""

    name: str
    command: tuple[str, ...]
    socket: str
    description: str = ""
    #: ``[known-crashes]``: a text of the crash log -> why it is a declared server bug.
    known_crashes: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_mapping(cls, data: dict[str, object], where: str) -> ServerConfig:
        """Build a configuration from a parsed TOML table; ``where`` names it in errors."""
        name = data.get("name")
        command = data.get("command")
        kind = data.get("socket", "port")
        if not isinstance(name, str) or not name:
            raise ValueError(f"{where}: 'name' must be a non-empty string")
        if not isinstance(command, list) or not all(isinstance(a, str) for a in command):
            raise ValueError(f"{where}: 'command' must be a list of strings")
        if kind not in ("fd", "port"):
            raise ValueError(f"{where}: 'socket' must be 'fd' or 'port', not {kind!r}")
        known = data.get("known-crashes", {})
        if not isinstance(known, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in known.items()
        ):
            raise ValueError(f"{where}: '[known-crashes]' maps a text of the crash log to a reason")
        description = str(data.get("description", ""))
        return cls(name, tuple(command), str(kind), description, tuple(known.items()))

    def known_crash(self, log_line: str) -> str | None:
        """The declared reason of a crash whose log line contains a ``[known-crashes]`` text."""
        return next((why for text, why in self.known_crashes if text in log_line), None)


def load_servers(directory: Path = SERVERS_DIR) -> dict[str, ServerConfig]:
    """Read every ``*.toml`` of ``directory``, keyed by server name, in file-name order."""
    servers: dict[str, ServerConfig] = {}
    for path in sorted(directory.glob("*.toml")):
        with path.open("rb") as f:
            config = ServerConfig.from_mapping(tomllib.load(f), str(path))
        servers[config.name] = config
    return servers


_handed_out: set[int] = set()


def free_port() -> int:
    """Return a free TCP port on ``HOST`` that this process has not handed out before."""
    for _ in range(100):
        with socket.socket() as s:
            s.bind((HOST, 0))
            port = int(s.getsockname()[1])
        if port not in _handed_out:
            _handed_out.add(port)
            return port
    raise RuntimeError("no free port found after 100 attempts")


@dataclass
class RunningServer:
    """A started server process (its own process group), stopped on exit of the ``with``."""

    config: ServerConfig
    app: str
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    prefix: list[str] = field(default_factory=list)  # e.g. taskset, to pin the server

    def start(self) -> None:
        """Spawn the server; :meth:`wait_ready` checks that it answers."""
        listener: socket.socket | None = None
        values = {"python": sys.executable, "app": self.app, "host": HOST}
        if self.config.socket == "fd":
            listener = socket.socket()
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            # Accepted sockets inherit this on Linux. Servers that wrap an inherited fd as
            # AF_UNIX (uvicorn --fd) would otherwise leave Nagle on and add 40 ms per response.
            listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            listener.bind((HOST, 0))
            listener.listen(1024)
            listener.set_inheritable(True)
            self.port = int(listener.getsockname()[1])
            values["fd"] = str(listener.fileno())
        else:
            self.port = free_port()
        values["port"] = str(self.port)
        args = [*self.prefix, *(part.format(**values) for part in self.config.command)]
        env = {**os.environ, **self.env}
        try:
            with self.log_path.open("wb") as log:
                self.process = subprocess.Popen(
                    args,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=env,
                    pass_fds=(listener.fileno(),) if listener else (),
                    start_new_session=True,
                    cwd=str(SERVERS_DIR.parent.parent),
                )
        finally:
            if listener is not None:
                listener.close()

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        """Poll until the server answers an HTTP request with a status line.

        :raises ServerStartError: the process exited or ``timeout`` passed.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise ServerStartError(self.config.name, "process exited", self.log())
            if _answers_http(self.port):
                return
            time.sleep(0.05)
        raise ServerStartError(self.config.name, f"no answer within {timeout} s", self.log())

    def stop(self) -> None:
        """SIGTERM the process group, SIGKILL it after ``STOP_GRACE`` seconds, reap it."""
        process = self.process
        if process is None or process.returncode is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(STOP_GRACE)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(STOP_GRACE)
        except ProcessLookupError:
            process.wait(STOP_GRACE)
        # Workers left behind in the group (gunicorn, granian) go with it.
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def exited(self, grace: float = 0.0) -> bool:
        """True once the server process has exited (it is reaped here).

        :param grace: wait this long for an exit (a client may see the sockets close a
            moment before the process is reapable).
        """
        if self.process is None:
            return False
        try:
            self.process.wait(grace)
        except subprocess.TimeoutExpired:
            return False
        return True

    def exit_line(self) -> str:
        """Why the process exited: see :func:`exit_line`."""
        return exit_line(self.log())

    def fresh(self, log_path: Path) -> RunningServer:
        """A new, not yet started server of the same configuration, app, environment and CPUs."""
        return RunningServer(self.config, self.app, log_path, dict(self.env), prefix=self.prefix)

    def process_tree(self) -> list[int]:
        """The server's pid and every descendant's (for RSS of multi-process servers)."""
        if self.process is None:
            return []
        pids = [self.process.pid]
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

    def __enter__(self) -> RunningServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def exit_line(log: str) -> str:
    """Why a server exited: the last error line of its ``log``, else its last line."""
    lines = [line.strip().lstrip("|+ ") for line in log.splitlines()]
    errors = [line for line in lines if "Error:" in line or "Exception:" in line]
    return errors[-1] if errors else next((x for x in reversed(lines) if x), "no log")


class ExitWatch:
    """Notes when a process exits, from a thread that polls it while the ``with`` lasts.

    :ivar died_at: :func:`time.monotonic` when the exit was seen (at most ``interval`` late),
        or None while the process lives.
    """

    def __init__(self, process: subprocess.Popen[bytes] | None, interval: float = 0.01) -> None:
        self.process = process
        self.interval = interval
        self.died_at: float | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while self.process is not None and not self._done.wait(self.interval):
            if self.process.poll() is not None:
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


def _answers_http(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1.0) as s:
            s.sendall(b"GET /__ready__ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            return s.recv(5).startswith(b"HTTP/")
    except OSError:
        return False


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found.extend(int(p) for p in f.read().split())
        except OSError:
            continue
    return found


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
    except OSError:
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
