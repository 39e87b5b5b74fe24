"""One server process: spawn on a race-free socket, wait until ready, stop and reap.

Every phase is bounded and a timeout raises a named error carrying the log tail:

1. spawn in a new session (its own process group) with the listening socket inherited
   (``socket = "fd"``) or on a port this session never hands out twice (``socket = "port"``);
2. ready when ``GET /__ready__`` answers 200, within ``ready_timeout``;
3. stop: SIGTERM to the leader, ``stop_timeout`` of grace, SIGKILL to the whole group, reap
   within :data:`REAP_TIMEOUT`; stragglers of the group get SIGKILL too.

The benchmarks start their servers through the same class: the keyword arguments after
``env`` (another ``app``, a command ``prefix`` such as taskset, a larger listen ``backlog``,
readiness on any status) exist for them; the defaults are the conformance suite's.
"""

from __future__ import annotations

import atexit
import functools
import http.client
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import threading
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from conformance.harness.serverconfig import ServerConfig

VIOLATIONS_FILE = "asgi-violations.jsonl"

HOST = "127.0.0.1"
REAP_TIMEOUT = 5.0
PROBE_INTERVAL = 0.05
LOG_TAIL_LINES = 40
CONFORMANCE_APP = "conformance_apps.main:app"
LISTEN_BACKLOG = 128
FRAME_PREFIXES = ("File ", "^", "~", "Traceback ", "(empty log)", "(no log")
#: ``SomeError: message`` (also dotted names and ``SystemExit``) in a traceback
EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b(:.*)?$")


class ServerError(RuntimeError):
    """A server process failed; the message ends with the last lines of its log."""

    def __init__(self, name: str, problem: str, log_tail: str) -> None:
        self.name = name
        self.problem = problem
        self.log_tail = log_tail
        tail = f"\n--- last lines of its log ---\n{log_tail}" if log_tail else ""
        super().__init__(f"server {name!r} {problem}{tail}")


class ServerDidNotStart(ServerError):
    """The process never became ready; ``problem`` is one line: ``did not start: <reason>``."""


class ServerNotReady(ServerError):
    """The readiness probe did not answer within ``ready_timeout``."""


class ServerExited(ServerError):
    """The process exited (before becoming ready, or mid-run)."""


class ServerStopTimeout(ServerError):
    """The process group survived SIGKILL for :data:`REAP_TIMEOUT` seconds."""


class PortFactory:
    """Hands out free TCP ports, never the same one twice in this process."""

    def __init__(self) -> None:
        self._given: set[int] = set()
        self._lock = threading.Lock()

    def __call__(self) -> int:
        with self._lock:
            while True:
                with socket.socket() as probe:
                    probe.bind((HOST, 0))
                    port = int(probe.getsockname()[1])
                if port not in self._given:
                    self._given.add(port)
                    return port


FREE_PORTS = PortFactory()
_LIVE: set[ServerProcess] = set()
_LIVE_LOCK = threading.Lock()


def stop_all() -> None:
    """Stop every live server of this process (atexit, signal handlers, session end)."""
    with _LIVE_LOCK:
        live = list(_LIVE)
    for process in live:
        try:
            process.stop()
        except ServerError:
            pass


atexit.register(stop_all)


class ServerProcess:
    """A server configuration running as a child process group."""

    def __init__(
        self,
        config: ServerConfig,
        *,
        python: str,
        app_root: Path,
        log_path: Path,
        env: dict[str, str],
        app: str = CONFORMANCE_APP,
        prefix: Sequence[str] = (),
        backlog: int = LISTEN_BACKLOG,
        ready_on_any_status: bool = False,
    ) -> None:
        """A process of ``config``, not started yet (:meth:`start`).

        :param env: the whole environment of the process.
        :param app: the ``{app}`` of the command.
        :param prefix: put before the command (``taskset --cpu-list 0``, to pin it).
        :param backlog: the listen backlog of an inherited socket (``socket = "fd"``).
        :param ready_on_any_status: ready once ``GET /__ready__`` gets any HTTP answer (an
            app without that route answers 404), not only 200.
        """
        self.config = config
        self.python = python
        self.app_root = app_root
        self.log_path = log_path
        self.env = env
        self.app = app
        self.prefix = tuple(prefix)
        self.backlog = backlog
        self.ready_on_any_status = ready_on_any_status
        self.port = 0
        self.command: list[str] = []
        self._popen: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return None if self._popen is None else self._popen.pid

    def start(self) -> None:
        """Spawn the process (does not wait for readiness)."""
        listener: socket.socket | None = None
        values = {"python": self.python, "host": HOST, **self.app_values()}
        if self.config.socket == "fd":
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            # Accepted sockets inherit TCP_NODELAY. Some servers (uvicorn --fd) take an
            # inherited socket for a Unix one and never disable Nagle's algorithm, which
            # delays every small response by ~40 ms (the client's delayed ACK).
            listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            listener.bind((HOST, 0))
            listener.listen(self.backlog)
            listener.set_inheritable(True)
            self.port = int(listener.getsockname()[1])
            values["fd"] = str(listener.fileno())
        else:
            self.port = FREE_PORTS()
        values["port"] = str(self.port)
        self.command = [*self.prefix, *self.config.render_command(**values)]
        env = dict(self.env)
        env.update(self.config.render_env(python=self.python, host=HOST, **self.app_values()))
        try:
            with open(self.log_path, "ab") as log:
                self._popen = subprocess.Popen(
                    self.command,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=self.app_root,
                    env=env,
                    start_new_session=True,
                    pass_fds=() if listener is None else (listener.fileno(),),
                )
        finally:
            if listener is not None:
                listener.close()
        with _LIVE_LOCK:
            _LIVE.add(self)

    def app_values(self) -> dict[str, str]:
        """``{app}`` (``module:attr``), ``{app_file}`` and ``{app_attr}`` (the app as a file).

        ``{app_file}`` is a one-line module next to the log that imports the app, so that a
        server importing a file by path (tremolo) keeps the app's package and its relative
        imports; ``{app_attr}`` is the name to take from it, always ``app``.
        """
        module, _, attr = self.app.partition(":")
        return {"app": self.app, "app_file": str(self._app_shim(module, attr)), "app_attr": "app"}

    def _app_shim(self, module: str, attr: str) -> Path:
        shim = self.log_path.parent / "asgi_app_file.py"
        text = f"from {module} import {attr or 'app'} as app  # written by the harness\n"
        if not shim.exists() or shim.read_text() != text:
            shim.write_text(text)
        return shim

    def exit_code(self) -> int | None:
        """The exit status, or None while running."""
        return None if self._popen is None else self._popen.poll()

    def wait_exit(self, timeout: float) -> int | None:
        """The exit status once the process exits within ``timeout`` seconds, else None."""
        if self._popen is None:
            return None
        try:
            return self._popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """The last ``lines`` lines of the captured stdout and stderr."""
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as log:
                return "".join(deque(log, maxlen=lines)) or "(empty log)"
        except OSError as error:
            return f"(no log: {error})"

    def check_alive(self) -> None:
        """:raises ServerExited: if the process has exited."""
        code = self.exit_code()
        if code is not None:
            raise ServerExited(self.config.name, f"exited with status {code}", self.log_tail())

    def wait_ready(self) -> None:
        """Probe ``GET /__ready__`` until it answers 200 or ``ready_timeout`` passes.

        :raises ServerExited: the process exited first.
        :raises ServerNotReady: no answer in time.
        """
        deadline = time.monotonic() + self.config.ready_timeout
        while True:
            self.check_alive()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ServerNotReady(
                    self.config.name,
                    f"did not answer GET /__ready__ within {self.config.ready_timeout:g} s",
                    self.log_tail(),
                )
            if self._probe(min(remaining, 1.0)):
                return
            if self.config.socket == "port":
                time.sleep(PROBE_INTERVAL)  # nothing to await: the port is not listening yet

    def start_failure(self, error: ServerError) -> ServerDidNotStart:
        """``error`` (from :meth:`wait_ready`) as one line: ``did not start: <reason>``.

        The reason is the last exception line of the log (``ModuleNotFoundError: ...``, the
        exception of an unsupported Python or a broken wheel), else its last line that is not a
        traceback frame, else ``error``'s own problem.
        """
        lines = [line.strip() for line in self.log_tail().splitlines()]
        lines = [t for t in lines if t and not t.startswith(FRAME_PREFIXES)]
        exceptions = [t for t in lines if EXCEPTION_LINE.match(t)]
        last = exceptions[-1] if exceptions else (lines[-1] if lines else "")
        reason = f"{error.problem}: {last}" if last else error.problem
        return ServerDidNotStart(self.config.name, f"did not start: {reason}", error.log_tail)

    def _connection(self, timeout: float) -> http.client.HTTPConnection:
        """An HTTP/1.1 connection to the listener, over TLS on a ``+tls`` instance (the probe
        does not verify the test certificate: it only waits for the server)."""
        if self.config.tls:
            return http.client.HTTPSConnection(
                HOST, self.port, timeout=timeout, context=_probe_tls_context()
            )
        return http.client.HTTPConnection(HOST, self.port, timeout=timeout)

    def _probe(self, timeout: float) -> bool:
        connection = self._connection(timeout)
        try:
            connection.request("GET", self.config.root_path + "/__ready__")
            status = connection.getresponse().status
            return status == 200 or self.ready_on_any_status
        except (OSError, http.client.HTTPException):
            return False
        finally:
            connection.close()

    def get_json(self, path: str, timeout: float = 5.0) -> Any:
        """``GET path`` answered as JSON, or None on any failure (provenance, never a verdict)."""
        connection = self._connection(timeout)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            body = response.read()
            return json.loads(body) if response.status == 200 else None
        except (OSError, http.client.HTTPException, ValueError):
            return None
        finally:
            connection.close()

    def violations_since(self, offset: int) -> tuple[list[dict[str, Any]], int]:
        """ASGI violations the app recorded after byte ``offset`` of its file; the new offset.

        The validator in the server appends JSON lines to ``asgi-violations.jsonl`` in the
        instance's state dir only when a violation happens, so the usual cost is one ``stat``.
        """
        state_dir = self.env.get("CONFORMANCE_STATE_DIR")
        if not state_dir:
            return [], offset
        path = Path(state_dir) / VIOLATIONS_FILE
        try:
            size = path.stat().st_size
        except OSError:
            return [], offset
        if size <= offset:
            return [], offset
        with open(path, "rb") as file:
            file.seek(offset)
            data = file.read(size - offset)
        complete = data.rpartition(b"\n")[0]
        found = []
        for line in complete.splitlines():
            try:
                found.append(json.loads(line))
            except ValueError:
                continue
        return found, offset + len(complete) + (1 if complete else 0)

    def stop(self) -> None:
        """SIGTERM, grace, SIGKILL to the group, reap; idempotent.

        :raises ServerStopTimeout: the process could not be reaped.
        """
        popen = self._popen
        if popen is None:
            return
        try:
            self._stop(popen)
        except BaseException:
            # interrupted (a case timeout, Ctrl-C) mid-stop: never leave the group running
            _kill_group(popen.pid)
            raise
        finally:
            with _LIVE_LOCK:
                _LIVE.discard(self)

    def _stop(self, popen: subprocess.Popen[bytes]) -> None:
        """SIGTERM, ``stop_timeout`` of grace, SIGKILL to the group, reap."""
        if popen.poll() is None:
            popen.send_signal(signal.SIGTERM)
            try:
                popen.wait(self.config.stop_timeout)
            except subprocess.TimeoutExpired:
                _kill_group(popen.pid)
                try:
                    popen.wait(REAP_TIMEOUT)
                except subprocess.TimeoutExpired as error:
                    raise ServerStopTimeout(
                        self.config.name,
                        f"survived SIGKILL for {REAP_TIMEOUT:g} s (pid {popen.pid})",
                        self.log_tail(),
                    ) from error
        _kill_group(popen.pid)


@functools.cache
def _probe_tls_context() -> ssl.SSLContext:
    """TLS for the readiness probe: no verification, no CA loading (built once); ALPN offers
    ``http/1.1``, what the probe speaks (tigrcorn refuses a handshake without ALPN)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["http/1.1"])
    return context


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
