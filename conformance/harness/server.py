"""What a case receives as ``server``: one running configuration and its clients."""

from __future__ import annotations

import contextlib
import copy
import functools
import socket
import ssl
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from websockets.sync.client import ClientConnection, connect

from conformance.harness.certificates import CertificateStore
from conformance.harness.h2client import H2Client
from conformance.harness.idle import IdleWatcher, longest_idle
from conformance.harness.process import (
    HOST,
    ServerDidNotStart,
    ServerError,
    ServerExited,
    ServerProcess,
)
from conformance.harness.serverconfig import (
    INSTANCE_SUFFIXES,
    ROOTPATH_SUFFIX,
    TLS_SUFFIX,
    ServerConfig,
)
from conformance.harness.transport import Transport, column, not_this_transport

HTTP_TIMEOUT = 10.0
#: Default restarts of a configuration that exited mid-run (``--max-restarts``); one more
#: exit fails its later cases at once.
MAX_RESTARTS = 2
WS_TIMEOUT = 5.0
RAW_TIMEOUT = 5.0


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One TLS context for every client: building one per ``httpx.Client`` costs ~0.1 s."""
    return httpx.create_ssl_context()


class Server:
    """A ready server; client factories all carry timeouts.

    ``transport`` is what :meth:`http` speaks: ``"h1"``, ``"h2c"`` (HTTP/2 with prior
    knowledge) or ``"h2"`` (HTTP/2 over TLS with ALPN, on the ``NAME+tls`` instance; see
    :mod:`conformance.harness.transport`), where the HTTP/1.1-only accessors end the case as
    not run on this transport.
    """

    transport: Transport = "h1"

    def __init__(
        self,
        process: ServerProcess,
        version: str | None,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self._process = process
        self.version = version
        #: On a ``+tls`` instance: a client context trusting the run's CA, offering ALPN h2.
        self.tls_context = tls_context
        #: What a live scope advertised (``GET /__scope__``): extensions, asgi; None if unknown.
        self.live: dict[str, Any] | None = process.get_json(process.config.root_path + "/__scope__")
        self._violation_offset = 0

    def over(self, transport: Transport) -> Server:
        """This server as seen over ``transport`` (same process)."""
        if transport == self.transport:
            return self
        view = copy.copy(self)
        view.transport = transport
        return view

    def _h1_only(self, what: str) -> None:
        if self.transport != "h1":
            raise not_this_transport(what)

    @property
    def name(self) -> str:
        """The configuration's name (``NAME+rootpath`` for a root-path instance; a TLS
        instance answers its configuration's ``NAME``)."""
        return self.config.name.removesuffix(TLS_SUFFIX)

    @property
    def column(self) -> str:
        """The report column: ``NAME``, ``NAME/h2c`` or ``NAME/h2``."""
        return column(self.name, self.transport)

    @property
    def config(self) -> ServerConfig:
        return self._process.config

    @property
    def host(self) -> str:
        return HOST

    @property
    def port(self) -> int:
        self._h1_only("server.port")
        return self._process.port

    @property
    def base_url(self) -> str:
        self._h1_only("server.base_url")
        return f"http://{HOST}:{self._process.port}"

    @property
    def ws_url(self) -> str:
        self._h1_only("server.ws_url")
        return f"ws://{HOST}:{self._process.port}"

    @property
    def command(self) -> list[str]:
        return list(self._process.command)

    @property
    def root_path(self) -> str:
        """The root path this instance was started with (``""`` unless ``NAME+rootpath``)."""
        return self.config.root_path

    @property
    def state_dir(self) -> Path | None:
        """This instance's ``CONFORMANCE_STATE_DIR`` (what the app records), if it has one."""
        value = self._process.env.get("CONFORMANCE_STATE_DIR")
        return Path(value) if value else None

    def new_violations(self) -> list[dict[str, Any]]:
        """ASGI violations recorded by the app since the previous call."""
        found, self._violation_offset = self._process.violations_since(self._violation_offset)
        return found

    def offers(self, extension: str) -> bool:
        """Whether the configuration declares ``extension`` (checked live by ASGI-EXTENSIONS)."""
        return extension in self.config.offers.extensions

    def log_tail(self, lines: int = 40) -> str:
        return self._process.log_tail(lines)

    def check_alive(self) -> None:
        """:raises ServerExited: the process died."""
        self._process.check_alive()

    @property
    def scheme(self) -> str:
        """``https`` on the TLS instance, else ``http``."""
        return "https" if self.config.tls else "http"

    @contextlib.contextmanager
    def http(self, timeout: float = HTTP_TIMEOUT) -> Iterator[httpx.Client]:
        """An ``httpx.Client`` with a timeout on every call, speaking this server's transport:
        h2c (HTTP/2 with prior knowledge, ``http1=False``), or h2 (``https``, ALPN ``h2`` only,
        the certificate verified against the run's CA)."""
        http2 = self.transport != "h1"
        verify = self.tls_context if self.config.tls and self.tls_context else _ssl_context()
        with httpx.Client(
            base_url=f"{self.scheme}://{HOST}:{self._process.port}",
            timeout=timeout,
            verify=verify,
            http1=not http2,
            http2=http2,
        ) as client:
            yield client

    @contextlib.contextmanager
    def h2(self, timeout: float = HTTP_TIMEOUT) -> Iterator[H2Client]:
        """The strict HTTP/2 client: h2c with prior knowledge on the plain instance (any
        column), TLS with ALPN ``h2`` (certificate verified) on the TLS instance."""
        context = self.tls_context if self.config.tls else None
        with H2Client.connect(
            HOST, self._process.port, tls=self.config.tls, timeout=timeout, context=context
        ) as client:
            yield client

    @contextlib.contextmanager
    def ws(
        self, path: str, subprotocols: list[str] | None = None, timeout: float = WS_TIMEOUT
    ) -> Iterator[ClientConnection]:
        """A ``websockets`` sync client connected to ``path``; ``recv`` needs its own timeout."""
        self._h1_only("server.ws()")
        with connect(
            self.ws_url + path,
            subprotocols=subprotocols,  # type: ignore[arg-type]
            open_timeout=timeout,
            close_timeout=timeout,
        ) as connection:
            yield connection

    def connect(self, timeout: float = RAW_TIMEOUT) -> socket.socket:
        """A plain TCP socket to the server with ``timeout`` on every operation."""
        self._h1_only("server.connect()")
        return socket.create_connection((HOST, self._process.port), timeout=timeout)

    def raw(self, data: bytes, timeout: float = RAW_TIMEOUT) -> bytes:
        """Send ``data``, read until the server closes or ``timeout`` passes; answer the bytes.

        Ask for ``Connection: close`` in ``data``; the socket is not half-closed (several
        servers drop a request whose sender half-closed).
        """
        self._h1_only("server.raw()")
        deadline = time.monotonic() + timeout
        chunks: list[bytes] = []
        with self.connect(timeout) as sock:
            sock.sendall(data)
            while True:
                sock.settimeout(max(deadline - time.monotonic(), 0.001))
                try:
                    chunk = sock.recv(65536)
                except TimeoutError:
                    break
                if not chunk:
                    break
                chunks.append(chunk)
        return b"".join(chunks)


def _exited(process: ServerProcess) -> ServerExited:
    code = process.exit_code()
    return ServerExited(process.config.name, f"exited with status {code}", process.log_tail())


class ServerPool:
    """Starts each configuration at most once per pytest process, lazily or ahead of time."""

    def __init__(
        self,
        configs: dict[str, ServerConfig],
        *,
        python: str,
        app_root: Path,
        work_dir: Path,
        env: dict[str, str],
        versions: dict[str, str | None],
        max_restarts: int = MAX_RESTARTS,
        certificates: CertificateStore | None = None,
    ) -> None:
        self._configs = configs
        # the run's test certificates, generated when a first TLS instance is configured
        self._certificates = certificates or CertificateStore(work_dir / "certificates")
        self._max_restarts = max_restarts
        self._python = python
        self._app_root = app_root
        self._work_dir = work_dir
        self._env = env
        self._versions = versions
        self._processes: dict[str, ServerProcess] = {}
        self._ready: dict[str, Server] = {}
        # a server given up on (never ready, or too many exits): raised again, never restarted
        self._failed_again: dict[str, ServerError] = {}
        self._generation = 0
        self._exits: dict[str, int] = {}
        self._reported: set[str] = set()
        self._idle: dict[str, IdleWatcher] = {}
        self._spares: dict[str, ServerProcess] = {}  # started ahead, taken by the next start
        #: What the idle keep-alive connection of each configuration showed (:mod:`idle`):
        #: measured on its first instance in this process, filled in when it stops.
        self.idle_facts: dict[str, dict[str, Any]] = {}

    def config_of(self, name: str) -> ServerConfig:
        """The configuration ``name``, ``BASE+rootpath`` (BASE with its root-path option) or
        ``BASE+tls`` (BASE with its ``[tls]`` options and the run's test certificate).

        :raises ValueError: BASE has no ``[rootpath]`` (no ``[tls]``).
        """
        if name.endswith(ROOTPATH_SUFFIX) and name not in self._configs:
            base = self._configs[name.removesuffix(ROOTPATH_SUFFIX)]
            self._configs[name] = base.with_root_path()
        if name.endswith(TLS_SUFFIX) and name not in self._configs:
            base = self._configs[name.removesuffix(TLS_SUFFIX)]
            self._configs[name] = base.with_tls(self._certificates.get().placeholders())
        return self._configs[name]

    def spawn(self, name: str) -> ServerProcess:
        """Spawn ``name`` if not yet spawned (no readiness wait: several start in parallel);
        a spare instance started ahead (:meth:`warm_spares`) is taken when there is one."""
        if name not in self._processes:
            spare = self._spares.pop(name, None)
            if spare is not None and spare.exit_code() is None:
                self._processes[name] = spare
                return spare
            if spare is not None:
                spare.stop()  # died before use: start a new one as usual
            self._processes[name] = self._start_process(name)
        return self._processes[name]

    def warm_spare(self, name: str) -> None:
        """Start a spare instance of ``name`` unless one is there: a case that restarts the
        configuration (a fresh instance, a lifespan shutdown) then takes a process already
        starting (:meth:`spawn`). The plugin asks for one between cases, while restarting
        cases of ``name`` remain; :meth:`stop_all` stops an unused one."""
        if name not in self._spares and name not in self._failed_again:
            self._spares[name] = self._start_process(name)

    def _start_process(self, name: str) -> ServerProcess:
        """A new, started process of ``name`` in a work folder of its own."""
        config = self.config_of(name)
        self._generation += 1
        work = self._work_dir / f"{name}.{self._generation}"
        tmp = work / "tmp"
        tmp.mkdir(parents=True)
        # the app's temporary fixture folders live in the run's folder, removed at the end
        # even when the server dies by a signal before its atexit handlers run
        env = dict(self._env, CONFORMANCE_STATE_DIR=str(work), TMPDIR=str(tmp))
        process = ServerProcess(
            config,
            python=self._python,
            app_root=self._app_root,
            log_path=work / "server.log",
            env=env,
        )
        process.start()
        return process

    def get(self, name: str) -> Server:
        """A ready server; a failed start is remembered so later cases fail at once.

        A server that exited mid-run is restarted (at most ``max_restarts`` times): the
        case that saw it die fails (see :meth:`take_exit`), later cases get a fresh process.
        An exit nobody reported yet fails the asking case instead of being restarted silently.
        A server that never became ready raises :class:`ServerDidNotStart` whose ``problem`` is
        one line, ``did not start: <reason>``; it is remembered and raised again, never retried.

        :raises ServerError: the server is not ready, exited, or exited mid-run.
        """
        if name in self._failed_again:
            raise self._failed_again[name]
        server = self._ready.get(name)
        if server is not None and server._process.exit_code() is not None:
            error = self._forget_exited(name, server._process)
            if error is not None:
                raise error
            server = None
        if server is None:
            process = self.spawn(name)
            try:
                process.wait_ready()
            except ServerError as error:
                failure = process.start_failure(error)
                process.stop()
                self._processes.pop(name, None)
                self._failed_again[name] = ServerDidNotStart(
                    name, f"{failure.problem} (not started again)", failure.log_tail
                )
                raise failure from None
            config = self.config_of(name)
            context = self._certificates.get().client_context() if config.tls else None
            server = Server(process, self._versions.get(config.base_name), context)
            self._ready[name] = server
            self._watch_idle(name, process)
        return server

    def _watch_idle(self, name: str, process: ServerProcess) -> None:
        """Leave one keep-alive connection idle on the first instance of a configuration."""
        if process.config.base_name != name or name in self._idle:
            return  # a root-path or TLS twin: the configuration's own instance is watched
        if self.idle_facts.get(name, {}).get("closed"):
            return  # measured: a later instance (after a stop) would only repeat it
        watcher = IdleWatcher(HOST, process.port, "/__ready__", lambda: process.exit_code() is None)
        self._idle[name] = watcher
        watcher.start()

    def _finish_idle(self, name: str) -> None:
        """Close the idle connection of ``name`` before its server stops; keep the fact."""
        watcher = self._idle.pop(name, None)
        if watcher is not None:
            self.idle_facts[name] = longest_idle(self.idle_facts.get(name), watcher.finish())

    def _forget_exited(self, name: str, process: ServerProcess) -> ServerError | None:
        """Drop an exited instance so the next :meth:`get` restarts it; the error to raise.

        None when :meth:`take_exit` already failed a case for this exit and a restart is due.
        """
        error = _exited(process)
        self._finish_idle(name)
        self._exits[name] = self._exits.get(name, 0) + 1
        self._processes.pop(name, None)
        self._ready.pop(name, None)
        process.stop()  # reap the leader, kill what is left of its group
        if self._exits[name] > self._max_restarts:
            restarts = self._exits[name] - 1
            problem = (
                f"gave up after {restarts} restart{'s' * (restarts != 1)} "
                f"(--max-restarts {self._max_restarts}): {error.problem}"
            )
            self._failed_again[name] = ServerExited(name, problem, error.log_tail)
            return ServerExited(name, problem, error.log_tail)
        if name in self._reported:
            self._reported.discard(name)
            return None
        return ServerExited(name, f"{error.problem} (restarted for the next case)", error.log_tail)

    def take_exit(self, name: str) -> ServerExited | None:
        """If a ready instance of ``name`` (or its root-path or TLS twin) exited, say so once.

        The plugin calls it after each case so that the case during which a server died
        fails with its log, and the next case gets a restarted process.
        """
        for instance in (name, *(name + suffix for suffix in INSTANCE_SUFFIXES)):
            server = self._ready.get(instance)
            if server is None or instance in self._reported:
                continue
            if server._process.exit_code() is not None:
                self._reported.add(instance)
                return _exited(server._process)
        return None

    def process(self, name: str) -> ServerProcess | None:
        return self._processes.get(name)

    def ready(self, name: str) -> Server | None:
        """``name`` if it is running and ready, without starting anything."""
        return self._ready.get(name)

    def stop(self, name: str) -> ServerProcess:
        """Stop ``name`` gracefully and forget it: the next :meth:`get` starts a fresh one.

        For cases that observe shutdown; mark them ``stops_server`` so they run last.
        """
        self._finish_idle(name)
        process = self._processes.pop(name)
        self._ready.pop(name, None)
        process.stop()
        return process

    def stop_all(self) -> None:
        """Stop every server this pool spawned, all at once (each has its own grace period)."""
        for name in list(self._idle):
            self._finish_idle(name)
        processes = [*self._processes.values(), *self._spares.values()]
        self._spares.clear()
        if not processes:
            return
        with ThreadPoolExecutor(max_workers=len(processes)) as executor:
            outcomes = list(executor.map(_stop_quietly, processes))
        errors = [error for error in outcomes if error is not None]
        if errors:
            raise errors[0]


def _stop_quietly(process: ServerProcess) -> ServerError | None:
    """Stop ``process``; the error instead of raising it (for :meth:`ServerPool.stop_all`)."""
    try:
        process.stop()
    except ServerError as error:
        return error
    return None
