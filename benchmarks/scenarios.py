"""What each load scenario is: the app it serves, how it is driven, and the answer it checks.

Also the runner's :class:`Settings`. Used by :mod:`benchmarks.run` and the modules it uses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from benchmarks import loadgen
from benchmarks.apps import common
from benchmarks.tools import Tools

MEMORY_SCENARIO = "memory-1gib"
#: Restarts one implementation's server may get in one scenario before the scenario is given up.
MAX_RESTARTS = 3


@dataclass(frozen=True)
class Scenario:
    """One load: which app attribute serves it, how it is driven and checked."""

    name: str
    app: str
    kind: str  # "wrk", "h2load", "sse" or "websocket"
    unit: str
    baize_names: tuple[str, ...]
    path: str = "/"
    headers: tuple[str, ...] = ()


SCENARIOS = {
    s.name: s
    for s in (
        Scenario("hello", "hello", "wrk", "req/s", ("PlainTextResponse",)),
        Scenario(
            "json-router",
            "json_router",
            "wrk",
            "req/s",
            ("JSONResponse", "Router", "Request", "request_response"),
            path=common.JSON_PATH,
        ),
        Scenario("file-1mib", "file", "wrk", "req/s", ("FileResponse",)),
        Scenario(
            "range-64kib",
            "range_file",
            "wrk",
            "req/s",
            ("FileResponse",),
            headers=(f"Range: {common.RANGE_HEADER}",),
        ),
        Scenario("sse", "sse", "sse", "events/s", ("SendEventResponse",)),
        Scenario("websocket", "websocket", "websocket", "messages/s", ("WebSocket",)),
        Scenario("h2-hello", "hello", "h2load", "req/s", ("PlainTextResponse",)),
        Scenario(
            "h2-json-router",
            "json_router",
            "h2load",
            "req/s",
            ("JSONResponse", "Router", "Request", "request_response"),
            path=common.JSON_PATH,
        ),
    )
}
#: Requests of the h2c check that precedes the measurement (it also warms the server up).
H2_CHECK_REQUESTS = 200
ALL_SCENARIOS = (*SCENARIOS, MEMORY_SCENARIO)


@dataclass(frozen=True)
class Settings:
    duration: int
    rounds: int
    warmup_requests: int
    connections: int
    threads: int
    stream_clients: int
    h2_clients: int = 8
    h2_streams: int = 4
    pinning: str = "none"  # Pinning.describe(), or "none"
    max_restarts: int = MAX_RESTARTS  # per implementation and scenario
    server_prefix: tuple[str, ...] = ()  # starts a server on its CPUs (taskset); not reported
    control: bool = True  # measure the A/A control (raw-again) in the hello scenario
    peers: tuple[str, ...] = ()  # the frameworks measured beside baize (benchmarks.peers)
    #: wrk and h2load for the loads; reported in the environment, not in the settings
    tools: Tools = field(default_factory=Tools)

    def to_json(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k not in ("server_prefix", "tools")}
        data["peers"] = list(self.peers)
        return data


def check_response(scenario: Scenario, port: int, content: bytes) -> str | None:
    """Send one request the way the load will and check the answer; return what is wrong."""
    if scenario.kind == "sse":
        sample = loadgen.count_sse_events(port, scenario.path, 1.0, 1)
        return (
            None if sample.count > 0 and not sample.errors else "no event stream (status or events)"
        )
    if scenario.kind == "websocket":
        sample = loadgen.websocket_echo(port, scenario.path, 1.0, 1)
        return None if sample.count > 0 and not sample.errors else "no WebSocket echo"
    status, body = loadgen.http_get(port, scenario.path, scenario.headers)
    expected: tuple[int, bytes]
    if scenario.app == "hello":
        expected = (200, common.HELLO)
    elif scenario.app == "json_router":
        ok = status == 200 and json.loads(body or b"null") == common.json_payload(
            common.ROUTE_COUNT - 1, 42
        )
        return None if ok else f"status {status}, body {body[:80]!r}"
    elif scenario.app == "file":
        expected = (200, content)
    else:
        expected = (206, content[common.RANGE_FIRST : common.RANGE_LAST + 1])
    if (status, body) != expected:
        wanted = f"{expected[0]} and {len(expected[1])}"
        return f"status {status} and {len(body)} body bytes, expected {wanted}"
    return None


def measure(scenario: Scenario, port: int, duration: float, settings: Settings) -> loadgen.Sample:
    if scenario.kind == "sse":
        return loadgen.count_sse_events(port, scenario.path, duration, settings.stream_clients)
    if scenario.kind == "websocket":
        return loadgen.websocket_echo(port, scenario.path, duration, settings.stream_clients)
    if scenario.kind == "h2load":
        return loadgen.run_h2load(
            settings.tools.need("h2load"),
            port,
            scenario.path,
            clients=settings.h2_clients,
            streams=settings.h2_streams,
            threads=settings.threads,
            duration=duration,
        )
    return loadgen.run_wrk(
        settings.tools.need("wrk"),
        port,
        scenario.path,
        duration,
        connections=settings.connections,
        threads=settings.threads,
        headers=scenario.headers,
    )


def check_h2(scenario: Scenario, port: int, settings: Settings) -> str | None:
    """Drive ``H2_CHECK_REQUESTS`` requests over h2c; return what is wrong, or None.

    Every request must succeed with a 2xx, h2load must report ``h2c``, and the DATA bytes
    must be the HTTP/1.1 body's length times the number of requests.
    """
    _, body = loadgen.http_get(port, scenario.path, scenario.headers)
    sample = loadgen.run_h2load(
        settings.tools.need("h2load"),
        port,
        scenario.path,
        clients=min(2, settings.h2_clients),
        streams=settings.h2_streams,
        threads=1,
        requests=H2_CHECK_REQUESTS,
    )
    if sample.count != H2_CHECK_REQUESTS or sample.errors:
        return (
            f"{sample.count} of {H2_CHECK_REQUESTS} h2c requests succeeded, {sample.errors} errors"
        )
    if sample.data_bytes != H2_CHECK_REQUESTS * len(body):
        return (
            f"{sample.data_bytes} DATA bytes for {H2_CHECK_REQUESTS} requests,"
            f" expected {len(body)} each"
        )
    return None
