"""Load generators: wrk for HTTP, small socket clients for SSE, WebSocket and big downloads.

Every function returns a :class:`Sample`; the parsing of wrk's output is pure and unit-tested.
"""

from __future__ import annotations

import asyncio
import re
import selectors
import shutil
import socket
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

HOST = "127.0.0.1"
WRK_INSTALL_HINT = (
    "wrk is not installed. Install it from Debian with\n"
    "    sudo apt-get update && sudo apt-get install -y wrk\n"
    "or run benchmarks/install-tools.sh (it also installs h2load from nghttp2-client)."
)


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

    def to_json(self) -> dict[str, float | int | None]:
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


def wrk_path() -> str | None:
    return shutil.which("wrk")


def wrk_version() -> str:
    """``wrk debian/4.1.0-3+b2 [epoll]``: the first line of ``wrk -v`` without the copyright."""
    path = wrk_path()
    if path is None:
        return "missing"
    result = subprocess.run([path, "-v"], capture_output=True, text=True, check=False)
    lines = (result.stdout + result.stderr).strip().splitlines()
    return lines[0].split(" Copyright")[0] if lines else "wrk (unknown version)"


def wrk_command(
    url: str, duration: float, *, connections: int, threads: int, headers: Sequence[str] = ()
) -> list[str]:
    """The wrk command line for one measurement (``--latency`` always on)."""
    command = [wrk_path() or "wrk", f"-t{threads}", f"-c{connections}", f"-d{duration:g}s"]
    command += ["--latency", "--timeout", "5s"]
    for header in headers:
        command += ["-H", header]
    return [*command, url]


def run_wrk(
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

    The body ends at ``Content-Length``, at the last chunk, or at EOF, whichever the response
    declares (a server that keeps the connection open anyway does not stall the check).
    """
    extra = "".join(f"{h}\r\n" for h in headers)
    request = f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{extra}\r\n"
    with socket.create_connection((HOST, port), timeout=timeout) as s:
        s.sendall(request.encode())
        raw = b""
        while b"\r\n\r\n" not in raw:
            data = s.recv(65536)
            if not data:
                raise ConnectionError(f"connection closed after {len(raw)} header bytes")
            raw += data
        head, _, body = raw.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        fields = {
            k.strip().lower(): v.strip() for k, _, v in (ln.partition(b":") for ln in lines[1:])
        }
        chunked = fields.get(b"transfer-encoding", b"").lower() == b"chunked"
        length = None if chunked else int(fields.get(b"content-length", b"-1"))
        chunks = [body]
        received = len(body)
        while not _complete(chunks, received, length, chunked):
            data = s.recv(65536)
            if not data:
                break
            chunks.append(data)
            received += len(data)
    body = b"".join(chunks)
    return status, dechunk(body) if chunked else body


def _complete(chunks: list[bytes], received: int, length: int | None, chunked: bool) -> bool:
    if chunked:
        return b"".join(chunks[-2:]).endswith(b"0\r\n\r\n")
    return length is not None and 0 <= length <= received


def dechunk(data: bytes) -> bytes:
    """Decode a complete ``Transfer-Encoding: chunked`` body (trailers ignored)."""
    out: list[bytes] = []
    position = 0
    while True:
        end = data.index(b"\r\n", position)
        size = int(data[position:end].split(b";")[0], 16)
        if size == 0:
            return b"".join(out)
        out.append(data[end + 2 : end + 2 + size])
        position = end + 2 + size + 2


def count_sse_events(port: int, path: str, duration: float, connections: int) -> Sample:
    """Open ``connections`` event streams and count complete events for ``duration`` seconds.

    An event ends with a blank line; the counter looks for ``\\n\\n`` across reads.
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
                events += buffer.count(b"\n\n")
                state[0] = buffer[-1:]
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
