"""Load generators: wrk for HTTP, small socket clients for SSE, WebSocket and big downloads.

Every load returns a :class:`Sample`; the parsing of wrk's output is pure and unit-tested.
wrk and h2load are given by path (see :mod:`benchmarks.tools`); the one-request checks go
through the conformance harness's HTTP/1.1 client (:func:`http_get`).
"""

from __future__ import annotations

import asyncio
import re
import selectors
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

from conformance.harness.process import HOST
from conformance.harness.rawhttp import build_request, exchange


class WrkOutputError(ValueError):
    """wrk's output lacks a figure the runner needs (``Requests/sec`` or the latency table)."""


@dataclass(frozen=True)
class Sample:
    """One measurement of one app: throughput and latency percentiles in milliseconds."""

    rate: float
    p50_ms: float | None = None
    p90_ms: float | None = None
    p99_ms: float | None = None
    count: int = 0
    seconds: float = 0.0
    errors: int = 0

    def to_json(self) -> dict[str, float | int | str | None]:
        return asdict(self)


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_DURATION = re.compile(r"^([0-9.]+)(us|ms|s|m|h)$")
_PERCENTILE = re.compile(r"^\s*(50|75|90|99)(?:\.0+)?%\s+(\S+)\s*$", re.MULTILINE)
_RATE = re.compile(r"^Requests/sec:\s+([0-9.]+)\s*$", re.MULTILINE)
_TOTAL = re.compile(r"^\s*(\d+) requests in ([0-9.]+)(us|ms|s|m|h)", re.MULTILINE)
_SOCKET_ERRORS = re.compile(
    r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", re.MULTILINE
)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")


def parse_duration_ms(text: str) -> float:
    """Convert a wrk duration (``812.00us``, ``1.25ms``, ``2.00s``) to milliseconds.

    :raises WrkOutputError: the text is not a wrk duration.
    """
    match = _DURATION.match(text.strip())
    if match is None:
        raise WrkOutputError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def parse_wrk_output(output: str) -> Sample:
    """Read requests/s, p50/p90/p99 and error counts from ``wrk --latency`` output.

    Errors are socket errors plus non-2xx/3xx responses.

    :raises WrkOutputError: ``Requests/sec`` or a percentile is missing.
    """
    rate = _RATE.search(output)
    if rate is None:
        raise WrkOutputError(f"no 'Requests/sec' line in wrk output:\n{output}")
    percentiles = {m.group(1): parse_duration_ms(m.group(2)) for m in _PERCENTILE.finditer(output)}
    missing = [p for p in ("50", "90", "99") if p not in percentiles]
    if missing:
        raise WrkOutputError(f"no {', '.join(missing)}% latency in wrk output (use --latency)")
    total = _TOTAL.search(output)
    socket_errors = _SOCKET_ERRORS.search(output)
    errors = sum(int(n) for n in socket_errors.groups()) if socket_errors else 0
    non_2xx = _NON_2XX.search(output)
    if non_2xx:
        errors += int(non_2xx.group(1))
    return Sample(
        rate=float(rate.group(1)),
        p50_ms=percentiles["50"],
        p90_ms=percentiles["90"],
        p99_ms=percentiles["99"],
        count=int(total.group(1)) if total else 0,
        seconds=parse_duration_ms(total.group(2) + total.group(3)) / 1000 if total else 0.0,
        errors=errors,
    )


def wrk_command(
    wrk: str,
    url: str,
    duration: float,
    *,
    connections: int,
    threads: int,
    headers: Sequence[str] = (),
) -> list[str]:
    """The command line of ``wrk`` (its path) for one measurement (``--latency`` always on)."""
    command = [wrk, f"-t{threads}", f"-c{connections}", f"-d{duration:g}s"]
    command += ["--latency", "--timeout", "5s"]
    for header in headers:
        command += ["-H", header]
    return [*command, url]


def run_wrk(
    wrk: str,
    port: int,
    path: str,
    duration: float,
    *,
    connections: int,
    threads: int,
    headers: Sequence[str] = (),
) -> Sample:
    """Run wrk against ``http://HOST:port{path}`` and parse its report."""
    command = wrk_command(
        wrk,
        f"http://{HOST}:{port}{path}",
        duration,
        connections=connections,
        threads=threads,
        headers=headers,
    )
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=duration + 30, check=False
    )
    if result.returncode != 0:
        raise WrkOutputError(f"wrk exited with {result.returncode}: {result.stderr.strip()}")
    return parse_wrk_output(result.stdout)


def http_get(
    port: int, path: str, headers: Sequence[str] = (), timeout: float = 10.0
) -> tuple[int, bytes]:
    """One HTTP/1.1 GET with ``Connection: close``; return the status and the decoded body.

    :param headers: ``"Name: value"`` lines, as wrk's ``-H`` takes them.
    :raises OSError: the connection failed, timed out or closed early.
    :raises ValueError: the response is not HTTP/1.1 (lenient parsing: a check, not a verdict).
    """
    fields = [("Connection", "close"), *(_field(line) for line in headers)]
    request = build_request("GET", path, fields, host="localhost")
    response = exchange(HOST, port, request, timeout=timeout, strict=False)
    return response.status, response.body


def _field(line: str) -> tuple[str, str]:
    name, _, value = line.partition(":")
    return name.strip(), value.strip()


def _event_ends(data: bytes) -> int:
    """Blank lines ending events: ``\n\n`` (baize, Starlette, Falcon) or ``\r\n\r\n``
    (sse-starlette, Litestar, BlackSheep); the two never overlap."""
    return data.count(b"\n\n") + data.count(b"\r\n\r\n")


def count_sse_events(port: int, path: str, duration: float, connections: int) -> Sample:
    """Open ``connections`` event streams and count complete events for ``duration`` seconds.

    An event ends with a blank line (LF or CRLF line ends); the counter looks for it across
    reads (the last 3 bytes of a read are kept and not counted again).
    """
    selector = selectors.DefaultSelector()
    request = f"GET {path} HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n"
    states: dict[socket.socket, list[object]] = {}
    for _ in range(connections):
        s = socket.create_connection((HOST, port), timeout=10)
        s.sendall(request.encode())
        s.setblocking(False)
        selector.register(s, selectors.EVENT_READ)
        states[s] = [b"", False]  # [previous tail or header buffer, headers done]
    events = 0
    errors = 0
    started = time.perf_counter()
    deadline = started + duration
    try:
        while (now := time.perf_counter()) < deadline:
            for key, _ in selector.select(deadline - now):
                conn: socket.socket = key.fileobj  # type: ignore[assignment]
                data = conn.recv(262144)
                state = states[conn]
                if not data:
                    selector.unregister(conn)
                    errors += 1
                    continue
                buffer = state[0] + data  # type: ignore[operator]
                if not state[1]:
                    if b"\r\n\r\n" not in buffer:
                        state[0] = buffer
                        continue
                    head, _, buffer = buffer.partition(b"\r\n\r\n")
                    if not head.startswith((b"HTTP/1.1 200", b"HTTP/1.0 200")):
                        errors += 1
                    state[1] = True
                events += _event_ends(buffer) - _event_ends(state[0])  # type: ignore[arg-type]
                state[0] = buffer[-3:]
        elapsed = time.perf_counter() - started
    finally:
        for conn in states:
            conn.close()
        selector.close()
    return Sample(rate=events / elapsed, count=events, seconds=elapsed, errors=errors)


def websocket_echo(port: int, path: str, duration: float, connections: int) -> Sample:
    """Run ``connections`` WebSocket clients doing echo round-trips for ``duration`` seconds."""
    return asyncio.run(_websocket_echo(port, path, duration, connections))


async def _websocket_echo(port: int, path: str, duration: float, connections: int) -> Sample:
    from websockets.asyncio.client import connect
    from websockets.exceptions import WebSocketException

    latencies: list[float] = []
    errors = 0

    async def client() -> None:
        nonlocal errors
        try:
            async with asyncio.timeout(duration + 20):
                async with connect(f"ws://{HOST}:{port}{path}", open_timeout=10) as ws:
                    await barrier.wait()
                    deadline = time.perf_counter() + duration
                    while (start := time.perf_counter()) < deadline:
                        await ws.send("hello")
                        if await ws.recv() != "hello":
                            errors += 1
                        latencies.append(time.perf_counter() - start)
        except (OSError, TimeoutError, WebSocketException):
            errors += 1

    barrier = _Barrier(connections)
    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(connections)))
    elapsed = max(time.perf_counter() - started, duration)
    return _latency_sample(latencies, elapsed, errors)


class _Barrier:
    """Start every client's timed loop together (asyncio.Barrier minus its cancellation rules)."""

    def __init__(self, parties: int) -> None:
        self._left = parties
        self._event = asyncio.Event()

    async def wait(self) -> None:
        self._left -= 1
        if self._left <= 0:
            self._event.set()
        await self._event.wait()


def _latency_sample(latencies: list[float], elapsed: float, errors: int) -> Sample:
    if not latencies:
        return Sample(rate=0.0, seconds=elapsed, errors=errors)
    ordered = sorted(latencies)
    quantiles = (
        statistics.quantiles(ordered, n=100, method="inclusive")
        if len(ordered) > 1
        else ordered * 99
    )
    return Sample(
        rate=len(ordered) / elapsed,
        p50_ms=quantiles[49] * 1000,
        p90_ms=quantiles[89] * 1000,
        p99_ms=quantiles[98] * 1000,
        count=len(ordered),
        seconds=elapsed,
        errors=errors,
    )


def download(
    port: int, path: str, on_progress: Callable[[], None], timeout: float
) -> tuple[int, float]:
    """GET ``path`` and discard the body; call ``on_progress`` every 4 MiB read.

    Reading stops at ``Content-Length`` if the response has one, else at EOF.

    :returns: (bytes received after the header, seconds taken)
    """
    request = f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode()
    received = 0
    since = 0
    started = time.perf_counter()
    deadline = started + timeout
    with socket.create_connection((HOST, port), timeout=10) as s:
        s.sendall(request)
        header = b""
        while b"\r\n\r\n" not in header:
            data = s.recv(65536)
            if not data:
                raise ConnectionError("connection closed before the response header")
            header += data
        head, _, rest = header.partition(b"\r\n\r\n")
        length = _content_length(head)
        received = len(rest)
        buffer = bytearray(1 << 20)
        while time.perf_counter() < deadline and (length is None or received < length):
            n = s.recv_into(buffer)
            if n == 0:
                break
            received += n
            since += n
            if since >= 4 << 20:
                since = 0
                on_progress()
    return received, time.perf_counter() - started


def _content_length(head: bytes) -> int | None:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return None


# --- HTTP/2 over cleartext (h2c, prior knowledge) with h2load ------------------------------

#: The client connection preface (RFC 9113 §3.4) followed by an empty SETTINGS frame.
H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
_H2_SETTINGS = 0x4


class H2loadOutputError(ValueError):
    """h2load's output lacks a figure, or shows that it did not speak h2c."""


@dataclass(frozen=True)
class H2Sample(Sample):
    """A :class:`Sample` from h2load, with its own request-time statistics (milliseconds).

    h2load prints min / max / mean / sd of the request time; the percentiles of the base
    class are computed from its ``--log-file`` (one line per request).
    """

    protocol: str = ""
    min_ms: float | None = None
    max_ms: float | None = None
    mean_ms: float | None = None
    sd_ms: float | None = None
    data_bytes: int = 0


_H2_PROTOCOL = re.compile(r"^Application protocol: (\S+)\s*$", re.MULTILINE)
_H2_NO_PROTOCOL = re.compile(r"^No protocol negotiated", re.MULTILINE)
_H2_FINISHED = re.compile(r"^finished in ([0-9.]+)(us|ms|s|m|h), ([0-9.]+) req/s", re.MULTILINE)
_H2_REQUESTS = re.compile(
    r"^requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed,"
    r" (\d+) errored, (\d+) timeout",
    re.MULTILINE,
)
_H2_STATUS = re.compile(r"^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", re.MULTILINE)
_H2_DATA = re.compile(r"^traffic: .*, \S+ \((\d+)\) data\s*$", re.MULTILINE)
_H2_REQUEST_TIME = re.compile(
    r"^time for request:\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+\S+\s*$", re.MULTILINE
)


def _h2_duration_ms(text: str) -> float:
    try:
        return parse_duration_ms(text)
    except WrkOutputError as exc:  # same unit suffixes as wrk
        raise H2loadOutputError(str(exc)) from None


def parse_h2load_output(output: str, request_times_us: Sequence[float] = ()) -> H2Sample:
    """Read req/s, request counts, status classes and request time from h2load's report.

    :param request_times_us: per-request durations from ``--log-file``, for p50/p90/p99
        (h2load's report itself has no percentiles); empty leaves them ``None``.
    :raises H2loadOutputError: a figure is missing, or the protocol is not ``h2c``
        (h2load fell back to HTTP/1.1 or negotiated nothing).
    """
    protocol = _H2_PROTOCOL.search(output)
    if protocol is None or _H2_NO_PROTOCOL.search(output):
        raise H2loadOutputError(f"h2load negotiated no protocol:\n{output}")
    if protocol.group(1) != "h2c":
        raise H2loadOutputError(f"h2load spoke {protocol.group(1)}, not h2c: refusing the figure")
    finished = _H2_FINISHED.search(output)
    requests = _H2_REQUESTS.search(output)
    status = _H2_STATUS.search(output)
    request_time = _H2_REQUEST_TIME.search(output)
    if finished is None or requests is None or status is None or request_time is None:
        raise H2loadOutputError(
            f"h2load output lacks 'finished in', 'requests:', 'status codes:'"
            f" or 'time for request:':\n{output}"
        )
    done = int(requests.group(3))
    succeeded = int(requests.group(4))
    # h2load's "failed" includes the errored, timed-out and 4xx/5xx requests; 3xx counts
    # as a success there, not here (every scenario answers 200).
    failed = int(requests.group(5))
    redirects = int(status.group(2))
    rate = float(finished.group(3))
    data = _H2_DATA.search(output)
    low, high, mean, sd = (_h2_duration_ms(request_time.group(i)) for i in (1, 2, 3, 4))
    percentiles: list[float | None] = [None, None, None]
    if request_times_us:
        ordered = sorted(request_times_us)
        percentiles = [_nearest_rank(ordered, p) / 1000 for p in (50, 90, 99)]
    return H2Sample(
        rate=rate,
        p50_ms=percentiles[0],
        p90_ms=percentiles[1],
        p99_ms=percentiles[2],
        count=succeeded,
        seconds=done / rate if rate else 0.0,
        errors=failed + redirects,
        protocol=protocol.group(1),
        min_ms=low if succeeded else None,
        max_ms=high if succeeded else None,
        mean_ms=mean if succeeded else None,
        sd_ms=sd if succeeded else None,
        data_bytes=int(data.group(1)) if data else 0,
    )


def _nearest_rank(ordered: Sequence[float], percent: int) -> float:
    """The nearest-rank percentile of sorted, non-empty ``ordered``."""
    rank = max(1, -(-percent * len(ordered) // 100))
    return ordered[rank - 1]


def parse_h2load_log(text: str) -> list[float]:
    """Per-request durations (microseconds) from an h2load ``--log-file``.

    Each line is ``start_us<TAB>status<TAB>duration_us``; requests with status -1 (failed)
    are left out.
    """
    times: list[float] = []
    for line in text.splitlines():
        fields = line.split("\t")
        if len(fields) < 3:
            continue
        if int(fields[1]) > 0:
            times.append(float(fields[2]))
    return times


def h2load_command(
    h2load: str,
    url: str,
    *,
    clients: int,
    streams: int,
    threads: int,
    log_file: str,
    duration: float | None = None,
    requests: int | None = None,
) -> list[str]:
    """The command line of ``h2load`` (its path): h2c with prior knowledge (no upgrade).

    Exactly one of ``duration`` (whole seconds, ``-D``) and ``requests`` (``-n``) is given.
    """
    if (duration is None) == (requests is None):
        raise ValueError("give exactly one of duration and requests")
    command = [h2load, f"-c{clients}", f"-m{streams}", f"-t{threads}"]
    command += ["--no-tls-proto=h2c", f"--log-file={log_file}", "-T5"]
    command += [f"-D{duration:g}"] if duration is not None else [f"-n{requests}"]
    return [*command, url]


def run_h2load(
    h2load: str,
    port: int,
    path: str,
    *,
    clients: int,
    streams: int,
    threads: int,
    duration: float | None = None,
    requests: int | None = None,
) -> H2Sample:
    """Run h2load against ``http://HOST:port{path}`` over h2c and parse its report and log."""
    with tempfile.TemporaryDirectory(prefix="h2load-") as tmp:
        log_file = f"{tmp}/requests.tsv"
        command = h2load_command(
            h2load,
            f"http://{HOST}:{port}{path}",
            clients=clients,
            streams=streams,
            threads=threads,
            log_file=log_file,
            duration=duration,
            requests=requests,
        )
        limit = (duration or 0) + 60
        result = subprocess.run(command, capture_output=True, text=True, timeout=limit, check=False)
        if result.returncode != 0:
            raise H2loadOutputError(
                f"h2load exited with {result.returncode}: "
                + (result.stderr or result.stdout).strip()
            )
        try:
            with open(log_file) as f:
                times = parse_h2load_log(f.read())
        except OSError:
            times = []
    return parse_h2load_output(result.stdout, times)


def probe_h2c(port: int, timeout: float = 5.0) -> str | None:
    """Send the HTTP/2 connection preface; return why the server does not speak h2c, or None.

    A server that speaks h2c with prior knowledge answers with a SETTINGS frame
    (RFC 9113 §3.4); an HTTP/1.1-only server answers with an HTTP/1.1 status line or closes.
    """
    try:
        with socket.create_connection((HOST, port), timeout=timeout) as s:
            s.sendall(H2_PREFACE)
            data = b""
            while len(data) < 9:
                chunk = s.recv(9 - len(data))
                if not chunk:
                    break
                data += chunk
            if data.startswith(b"HTTP/") and b"\r\n" not in data:
                data += s.recv(200)
    except OSError as exc:
        return f"no answer to the HTTP/2 preface ({type(exc).__name__}: {exc})"
    if len(data) == 9 and data[3] == _H2_SETTINGS:
        return None
    if data.startswith(b"HTTP/"):
        status = data.split(b"\r\n")[0].decode("latin-1")
        return f"answered the HTTP/2 preface with HTTP/1.x ({status!r}...)"
    if not data:
        return "closed the connection on the HTTP/2 preface"
    return f"answered the HTTP/2 preface with {data!r}, not a SETTINGS frame"
