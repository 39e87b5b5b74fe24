"""One blocking client connection: sockets with a timeout on the connect and
on every read plus a total deadline per response, so nothing can hang a run.

:class:`Connection` feeds what it receives to a
:class:`~conformance.harness.http1.parser.ResponseParser`; :func:`exchange` is
the one-request, one-response shortcut.
"""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Iterator

from conformance.harness.http1.errors import (
    FramingError,
    ResponseTimeout,
    ServerClosedConnection,
)
from conformance.harness.http1.events import (
    NEED_DATA,
    ConnectionClosed,
    EndOfMessage,
    Event,
    Sentinel,
)
from conformance.harness.http1.parser import ResponseParser
from conformance.harness.http1.response import Collector, RawResponse

__all__ = ["Connection", "abort_socket", "connect_socket", "exchange"]


def connect_socket(host: str, port: int, timeout: float) -> socket.socket:
    """Open a TCP connection with Nagle off.

    :raises ResponseTimeout: when the connect takes longer than ``timeout``.
    """
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except TimeoutError:
        raise ResponseTimeout(f"connect to {host}:{port} took longer than {timeout}s") from None
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def abort_socket(sock: socket.socket) -> None:
    """Close with a TCP RST (SO_LINGER 0) instead of a FIN."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


class Connection:
    """One client connection; reads responses with :class:`ResponseParser`.

    :param timeout: seconds allowed for the connect and for every read.
    :param total_timeout: seconds allowed for one :meth:`read_response`.
    :param max_body: largest body :meth:`read_response` accepts.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        timeout: float = 10.0,
        total_timeout: float = 30.0,
        strict: bool = True,
        max_body: int = 64 * 1024 * 1024,
    ) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self.total_timeout = total_timeout
        self.max_body = max_body
        self.sock = connect_socket(host, port, timeout)
        self.parser = ResponseParser(strict=strict)
        self.strict = strict
        self.received = bytearray()
        self.reset = False
        self._started = False

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (FIN)."""
        self.sock.close()

    def abort(self) -> None:
        """Close the connection with a TCP RST."""
        abort_socket(self.sock)

    def send(self, data: bytes) -> None:
        """Send bytes (with the per-operation timeout)."""
        self.sock.settimeout(self.timeout)
        try:
            self.sock.sendall(data)
        except TimeoutError:
            raise ResponseTimeout(f"send to {self.host}:{self.port} timed out") from None

    def _recv(self, deadline: float) -> bytes:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ResponseTimeout(
                f"{self.host}:{self.port}: response not complete within {self.total_timeout}s",
                raw=bytes(self.received),
            )
        self.sock.settimeout(min(self.timeout, remaining))
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            if remaining < self.timeout:
                message = f"response not complete within {self.total_timeout}s"
            else:
                message = f"no data for {self.timeout:.2f}s after {len(self.received)} bytes"
            raise ResponseTimeout(
                f"{self.host}:{self.port}: {message}", raw=bytes(self.received)
            ) from None
        except ConnectionResetError:
            self.reset = True
            data = b""
        self.received += data
        return data

    def events(self, method_hint: str = "GET") -> Iterator[Event]:
        """Yield the next response's events as they arrive, up to EndOfMessage
        (or ConnectionClosed when the server closes before a response)."""
        if self._started:
            self.parser.start_next(method_hint)
        else:
            self.parser = ResponseParser(method_hint, strict=self.strict)
            self.parser.receive_data(bytes(self.received))
        self._started = True
        deadline = time.monotonic() + self.total_timeout
        while True:
            try:
                event = self.parser.next_event()
            except FramingError as exc:
                exc.raw = bytes(self.received)
                raise
            if event is NEED_DATA:
                data = self._recv(deadline)
                if data:
                    self.parser.receive_data(data)
                else:
                    self.parser.receive_eof()
                continue
            if isinstance(event, Sentinel):
                raise RuntimeError(f"parser is {event.value} in the middle of a response")
            yield event
            if isinstance(event, EndOfMessage | ConnectionClosed):
                return

    def read_response(self, method_hint: str = "GET") -> RawResponse:
        """Read one complete response.

        :raises ServerClosedConnection: when the server closes first.
        :raises FramingError: on a framing error.
        :raises ResponseTimeout: when a read or the whole response is too slow.
        """
        collector = Collector()
        for event in self.events(method_hint):
            if isinstance(event, ConnectionClosed):
                raise ServerClosedConnection(
                    f"{self.host}:{self.port} closed the connection before a response"
                )
            if isinstance(event, EndOfMessage):
                return collector.finish(self.parser, event)
            collector.add(event, self.max_body)
        raise AssertionError("unreachable: events() ends with EndOfMessage")

    def wait_closed(self, timeout: float = 1.0) -> bool:
        """Whether the server closes the connection within ``timeout`` seconds
        (bytes received meanwhile go to the parser's buffer)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(deadline - time.monotonic(), 0.001))
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                return False
            except ConnectionResetError:
                self.reset = True
                return True
            if not data:
                return True
            self.received += data
            self.parser.receive_data(data)
        return False


def exchange(
    host: str,
    port: int,
    request_bytes: bytes,
    *,
    method_hint: str = "GET",
    timeout: float = 10.0,
    total_timeout: float = 30.0,
    strict: bool = True,
) -> RawResponse:
    """Send one request on a new connection and read one response.

    :param method_hint: the request's method, for framing (HEAD has no body).
    :raises FramingError: on a framing error (``.raw`` holds the bytes).
    :raises ResponseTimeout: when the connect, a read or the total is too slow.
    :raises ServerClosedConnection: when the server closes without answering.
    """
    with Connection(
        host, port, timeout=timeout, total_timeout=total_timeout, strict=strict
    ) as conn:
        conn.send(request_bytes)
        return conn.read_response(method_hint)
