"""Tests of conformance.harness.http1.connection.Connection beyond one
exchange: streamed events, keep-alive reuse, wait_closed, abort and the body
limit, each against a one-connection socket server scripted here."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from conformance.harness.rawhttp import (
    Connection,
    Data,
    EndOfMessage,
    FramingError,
    Head,
    build_request,
)

Script = Callable[[socket.socket], None]


@contextmanager
def one_connection(script: Script) -> Iterator[tuple[int, dict[str, object]]]:
    """Accept one connection and run ``script`` on it in a thread.

    Yields the port and a dict where the thread records an ``error``.
    """
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(5)
    record: dict[str, object] = {}

    def run() -> None:
        try:
            conn, _ = listener.accept()
            with conn:
                conn.settimeout(5)
                script(conn)
        except OSError as exc:
            record["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], record
    finally:
        thread.join(10)
        listener.close()
        assert not thread.is_alive()


def read_request(conn: socket.socket) -> bytes:
    """Read until the end of one request head (the tests send no bodies)."""
    data = b""
    while b"\r\n\r\n" not in data:
        piece = conn.recv(4096)
        if not piece:
            break
        data += piece
    return data


def test_events_arrive_before_the_response_is_complete() -> None:
    first_data_seen = threading.Event()

    def script(conn: socket.socket) -> None:
        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n")
        # the rest only goes out once the client has handled the first chunk
        assert first_data_seen.wait(5)
        conn.sendall(b"4\r\nlast\r\n0\r\n\r\n")

    with one_connection(script) as (port, record), Connection("127.0.0.1", port) as conn:
        conn.send(build_request("GET", "/"))
        seen: list[object] = []
        for event in conn.events("GET"):
            seen.append(event)
            if event == Data(b"first"):
                first_data_seen.set()
    assert "error" not in record
    assert isinstance(seen[0], Head)
    assert [e.data for e in seen if isinstance(e, Data)] == [b"first", b"last"]
    assert seen[-1] == EndOfMessage([])


def test_read_response_twice_on_one_connection_uses_each_method_hint() -> None:
    def script(conn: socket.socket) -> None:
        read_request(conn)
        # a HEAD response announces a length but carries no body
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")
        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")

    with one_connection(script) as (port, record), Connection("127.0.0.1", port) as conn:
        conn.send(build_request("HEAD", "/"))
        head = conn.read_response("HEAD")
        conn.send(build_request("GET", "/"))
        get = conn.read_response("GET")
    assert "error" not in record
    assert (head.body, head.framing, head.keep_alive) == (b"", "none", True)
    assert (get.body, get.framing) == (b"hello", "length")
    assert conn.received == head.raw + get.raw


def test_wait_closed_sees_a_close_and_a_connection_kept_open() -> None:
    release = threading.Event()

    def script(conn: socket.socket) -> None:
        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        assert release.wait(5)

    with one_connection(script) as (port, _), Connection("127.0.0.1", port) as conn:
        conn.send(build_request("GET", "/"))
        assert conn.read_response().status == 200
        assert conn.wait_closed(0.2) is False
        release.set()
        assert conn.wait_closed(5) is True
        assert conn.reset is False


@pytest.mark.parametrize(("abort", "seen"), [(True, "reset"), (False, "eof")])
def test_abort_resets_the_connection_and_close_does_not(abort: bool, seen: str) -> None:
    outcome: dict[str, object] = {}

    def script(conn: socket.socket) -> None:
        try:
            while conn.recv(4096):
                pass
            outcome["end"] = "eof"
        except ConnectionResetError:
            outcome["end"] = "reset"

    with one_connection(script) as (port, record):
        conn = Connection("127.0.0.1", port)
        conn.send(build_request("GET", "/"))
        if abort:
            conn.abort()
        else:
            conn.close()
    assert "error" not in record
    assert outcome["end"] == seen


def test_body_larger_than_max_body_raises() -> None:
    def script(conn: socket.socket) -> None:
        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789")

    with (
        one_connection(script) as (port, _),
        Connection("127.0.0.1", port, max_body=4) as conn,
    ):
        conn.send(build_request("GET", "/"))
        with pytest.raises(FramingError, match="response body exceeds 4 bytes"):
            conn.read_response()
