"""A client that misbehaves on purpose, to see how a server copes.

:func:`send_partial_then_close` stops mid-request, :func:`read_then_close`
goes away mid-response and :func:`send_malformed` sends arbitrary bytes and
reports whatever comes back as a :class:`MalformedReply`.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass

from conformance.harness.http1.connection import abort_socket, connect_socket
from conformance.harness.http1.errors import FramingError, ResponseTimeout
from conformance.harness.http1.response import RawResponse, parse_response

__all__ = ["MalformedReply", "read_then_close", "send_malformed", "send_partial_then_close"]


def _drain(sock: socket.socket, seconds: float) -> bytes:
    """Whatever arrives within ``seconds`` (until EOF or reset)."""
    received = bytearray()
    deadline = time.monotonic() + seconds
    while (remaining := deadline - time.monotonic()) > 0:
        sock.settimeout(remaining)
        try:
            data = sock.recv(65536)
        except (TimeoutError, ConnectionResetError):
            break
        if not data:
            break
        received += data
    return bytes(received)


def send_partial_then_close(
    host: str,
    port: int,
    request_bytes: bytes,
    nbytes: int | None = None,
    *,
    wait: float = 0.0,
    abort: bool = False,
    timeout: float = 10.0,
) -> bytes:
    """Send the first ``nbytes`` of a request (all by default), then close.

    :param wait: seconds to read whatever the server sends before closing.
    :param abort: close with a TCP RST instead of a FIN.
    :returns: the bytes received before the close.
    """
    sock = connect_socket(host, port, timeout)
    try:
        sock.settimeout(timeout)
        sock.sendall(request_bytes if nbytes is None else request_bytes[:nbytes])
        return _drain(sock, wait) if wait > 0 else b""
    finally:
        if abort:
            abort_socket(sock)
        else:
            sock.close()


def read_then_close(
    host: str,
    port: int,
    request_bytes: bytes,
    nbytes: int,
    *,
    abort: bool = False,
    timeout: float = 10.0,
) -> bytes:
    """Send a request, read until at least ``nbytes`` arrived (or EOF), then close.

    For disconnect tests: the server sees the client go away mid-response.

    :param abort: close with a TCP RST instead of a FIN.
    :returns: everything read (possibly more than ``nbytes``, or less at EOF).
    :raises ResponseTimeout: when a read takes longer than ``timeout``.
    """
    sock = connect_socket(host, port, timeout)
    received = bytearray()
    try:
        sock.settimeout(timeout)
        sock.sendall(request_bytes)
        while len(received) < nbytes:
            try:
                data = sock.recv(min(65536, max(nbytes - len(received), 1)))
            except TimeoutError:
                raise ResponseTimeout(
                    f"{host}:{port}: no data for {timeout}s after {len(received)} bytes",
                    raw=bytes(received),
                ) from None
            except ConnectionResetError:
                break
            if not data:
                break
            received += data
        return bytes(received)
    finally:
        if abort:
            abort_socket(sock)
        else:
            sock.close()


@dataclass(frozen=True, slots=True)
class MalformedReply:
    """What came back for arbitrary bytes sent by :func:`send_malformed`.

    :param raw: every byte received.
    :param closed: the server closed the connection (FIN or RST).
    :param reset: the close was a TCP RST.
    :param timed_out: nothing more came for ``timeout`` seconds and the
        connection was still open.
    :param response: the first response parsed leniently, if one is complete.
    """

    raw: bytes
    closed: bool
    reset: bool
    timed_out: bool
    response: RawResponse | None

    @property
    def closed_without_reply(self) -> bool:
        """The server closed the connection and sent nothing."""
        return self.closed and not self.raw


def send_malformed(
    host: str,
    port: int,
    data: bytes,
    *,
    method_hint: str = "GET",
    timeout: float = 10.0,
    wait_close: float = 1.0,
) -> MalformedReply:
    """Send arbitrary bytes and report whatever comes back.

    Reads until the server closes, or until a complete response arrived and
    the server then kept the connection open for ``wait_close`` seconds, or
    until nothing arrives for ``timeout`` seconds.
    """
    sock = connect_socket(host, port, timeout)
    received = bytearray()
    closed = reset = timed_out = False
    response: RawResponse | None = None
    deadline = time.monotonic() + 3 * timeout
    try:
        try:
            sock.settimeout(timeout)
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        while True:
            limit = wait_close if response is not None else timeout
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            sock.settimeout(min(limit, remaining))
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                timed_out = response is None
                break
            except ConnectionResetError:
                closed = reset = True
                break
            if not chunk:
                closed = True
                break
            received += chunk
            if response is None:
                response = _try_parse(bytes(received), method_hint)
    finally:
        sock.close()
    if response is None and closed:
        response = _try_parse(bytes(received), method_hint, eof=True)
    return MalformedReply(bytes(received), closed, reset, timed_out, response)


def _try_parse(data: bytes, method: str, *, eof: bool = False) -> RawResponse | None:
    try:
        return parse_response(data, method, strict=False, eof=eof)
    except FramingError:
        return None
