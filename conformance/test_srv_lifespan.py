"""The server's lifespan duties (requirements/srv-lifespan.toml).

Each scenario needs a server process serving one whole app of ``conformance/apps/srv_lifespan.py``
(startup that completes late, startup that fails, an app without lifespan support).
The first case of a server starts all of them at once through the harness's process layer
(same command, another ``{app}``), bounded; every one is stopped at the end of the module.
"""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from conformance.harness import expect_equal, expect_true, require_offer
from conformance.harness.facts import record_fact
from conformance.harness.process import HOST, ServerError, ServerProcess
from conformance.harness.server import Server, ServerPool

# Every case needs the HTTP/1.1 column (the sweep fixture, the root-path twin or a private
# instance): none is generated for h2c/h2 columns (harness/transport.py).
pytestmark = pytest.mark.h1_only

APPS = {
    "complete": "complete_app",
    "startup-failed": "startup_failed_app",
    "unsupported": "unsupported_app",
}
STARTUP_FAILED_MARKER = "srv-lifespan-startup-failed-marker"
EXIT_BOUND = 10.0
_PROCESSES: dict[tuple[str, str], ServerProcess] = {}


@pytest.fixture(scope="module", autouse=True)
def _stop_lifespan_processes() -> Iterator[None]:
    yield
    for process in _PROCESSES.values():
        try:
            process.stop()
        except ServerError:
            pass
    _PROCESSES.clear()


def lifespan_process(server: Server, pool: ServerPool, scenario: str) -> ServerProcess:
    """The process of ``scenario`` for ``server``'s configuration (all started on first use)."""
    require_offer(server, "lifespan")
    if (server.name, scenario) not in _PROCESSES:
        main = pool.process(server.name)
        assert main is not None, "the server fixture started it"
        for name, attr in APPS.items():
            config = replace(server.config, name=f"{server.name}+{name}")
            work = Path(main.log_path).parent.with_name(f"{server.name}.lifespan-{name}")
            work.mkdir(exist_ok=True)
            process = ServerProcess(
                config,
                python=main.python,
                app_root=main.app_root,
                log_path=work / "server.log",
                env=dict(main.env, CONFORMANCE_STATE_DIR=str(work)),
                app=f"conformance_apps.srv_lifespan:{attr}",
            )
            process.start()
            _PROCESSES[(server.name, name)] = process
    return _PROCESSES[(server.name, scenario)]


def probe(process: ServerProcess, timeout: float = 2.0) -> dict[str, Any] | None:
    """``GET /srv_lifespan/probe`` as JSON, or None when nothing answered 200."""
    connection = http.client.HTTPConnection(HOST, process.port, timeout=timeout)
    try:
        connection.request("GET", "/srv_lifespan/probe")
        response = connection.getresponse()
        body = response.read()
        return dict(json.loads(body)) if response.status == 200 else None
    except (OSError, http.client.HTTPException, ValueError):
        return None
    finally:
        connection.close()


def wait_exit(process: ServerProcess, bound: float = EXIT_BOUND) -> int | None:
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        code = process.exit_code()
        if code is not None:
            return code
        time.sleep(0.05)
    return None


def records(process: ServerProcess) -> list[dict[str, Any]]:
    path = Path(process.env["CONFORMANCE_STATE_DIR"]) / "srv-lifespan.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def ready(process: ServerProcess) -> dict[str, Any]:
    try:
        process.wait_ready()
    except ServerError as error:
        expect_true(False, "the server serves", "ready within its ready_timeout", str(error)[:600])
    answer = probe(process)
    expect_true(answer is not None, "the server serves", "a 200 answer", "none")
    assert answer is not None
    return answer


@pytest.mark.requirement("SRV-LIFESPAN-STARTUP-WAITS")
def test_no_request_served_before_startup_complete(server: Server, server_pool: ServerPool) -> None:
    process = lifespan_process(server, server_pool, "complete")
    deadline = time.monotonic() + process.config.ready_timeout
    while time.monotonic() < deadline:
        answer = probe(process, timeout=1.0)
        if answer is not None:
            expect_equal(
                answer["started"], True, "startup complete when the first request is served"
            )
            return
        process.check_alive()
        time.sleep(0.02)
    expect_true(False, "the server serves after startup", "a 200 answer", "none in time")


@pytest.mark.requirement("SRV-LIFESPAN-ONCE")
def test_lifespan_runs_once(server: Server, server_pool: ServerPool) -> None:
    process = lifespan_process(server, server_pool, "complete")
    answer = ready(process)
    expect_equal(answer["lifespan_calls"], 1, "lifespan calls in the one event loop")


@pytest.mark.requirement("SRV-LIFESPAN-SHUTDOWN-WAITS")
def test_shutdown_complete_awaited(server: Server, server_pool: ServerPool) -> None:
    process = lifespan_process(server, server_pool, "complete")
    ready(process)
    process.stop()
    events = [r["event"] for r in records(process)]
    expect_true(
        "shutdown-done" in events,
        "the server waits for lifespan.shutdown.complete before terminating",
        "the shutdown handler's record (written 0.3 s into shutdown)",
        f"records {events}; log:\n{process.log_tail(10)}",
    )


@pytest.mark.requirement("SRV-LIFESPAN-STARTUP-FAILED-EXITS")
def test_startup_failed_exits(
    server: Server, server_pool: ServerPool, request: pytest.FixtureRequest
) -> None:
    process = lifespan_process(server, server_pool, "startup-failed")
    code = wait_exit(process)
    record_fact(
        request,
        "lifespan_startup_failed_exit_status",
        "The app sends lifespan.startup.failed: the server's exit status (the spec says 'exit', "
        f"not with which status; None: still running after {EXIT_BOUND:g} s).",
        server.name,
        code,
    )
    expect_true(
        code is not None,
        "the server exits after lifespan.startup.failed",
        f"an exit within {EXIT_BOUND:g} s",
        "still running; log:\n" + process.log_tail(10),
    )


@pytest.mark.requirement("SRV-LIFESPAN-STARTUP-FAILED-MESSAGE")
def test_startup_failed_message_logged(server: Server, server_pool: ServerPool) -> None:
    process = lifespan_process(server, server_pool, "startup-failed")
    wait_exit(process)
    log = process.log_tail(200)
    expect_true(
        STARTUP_FAILED_MARKER in log,
        "the server prints the message of lifespan.startup.failed",
        repr(STARTUP_FAILED_MARKER),
        log[-800:],
    )


@pytest.mark.requirement("SRV-LIFESPAN-STARTUP-FAILED-NOT-SERVING")
def test_startup_failed_never_serves(server: Server, server_pool: ServerPool) -> None:
    process = lifespan_process(server, server_pool, "startup-failed")
    served = []
    deadline = time.monotonic() + EXIT_BOUND
    while process.exit_code() is None and time.monotonic() < deadline:
        answer = probe(process, timeout=0.5)
        if answer is not None:
            served.append(answer)
        time.sleep(0.05)
    expect_equal(served, [], "requests served by a server whose startup failed")


@pytest.mark.requirement("SRV-LIFESPAN-UNSUPPORTED-SERVES")
def test_app_without_lifespan_served(server: Server, server_pool: ServerPool) -> None:
    ready(lifespan_process(server, server_pool, "unsupported"))


@pytest.mark.requirement("SRV-LIFESPAN-UNSUPPORTED-NO-EVENTS")
def test_no_lifespan_event_after_the_app_raised(server: Server, server_pool: ServerPool) -> None:
    process = lifespan_process(server, server_pool, "unsupported")
    ready(process)
    process.stop()
    calls = [r for r in records(process) if r["event"] == "lifespan-call"]
    expect_equal(len(calls), 1, "lifespan calls of an app that raised on the lifespan scope")
