"""The idle keep-alive watch (``conformance/harness/idle.py``) against tiny real servers on
loopback sockets: one that closes an idle connection, one that never does, one that closes
after every response, one that sends 408 first."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from conformance.harness.idle import IdleWatcher, describe, longest_idle

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
OK_CLOSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
LATE_408 = b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
Serve = Callable[..., int]


@pytest.fixture
def serve() -> Iterator[Serve]:
    """``serve(answer, idle)``: a one-connection server on a free port; answers one request
    with ``answer``, then after ``idle`` seconds (None: never) sends ``then`` and closes."""
    sockets: list[socket.socket] = []

    def start(answer: bytes, idle: float | None, then: bytes = b"") -> int:
        listener = socket.create_server(("127.0.0.1", 0))
        sockets.append(listener)

        def run() -> None:
            conn, _ = listener.accept()
            sockets.append(conn)
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(4096)
            conn.sendall(answer)
            if b"close" in answer:
                conn.close()
                return
            if idle is not None:
                time.sleep(idle)
                conn.sendall(then)
                conn.close()

        threading.Thread(target=run, daemon=True).start()
        return int(listener.getsockname()[1])

    yield start
    for sock in sockets:
        sock.close()


def wait_closed(watcher: IdleWatcher, bound: float = 5.0) -> dict[str, object]:
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline and watcher._closed_after is None:
        time.sleep(0.02)
    return watcher.finish()


def test_a_server_closing_the_idle_connection_is_timed(serve: Serve) -> None:
    port = serve(OK, 0.3)
    watcher = IdleWatcher("127.0.0.1", port)
    watcher.start()
    fact = wait_closed(watcher)
    assert fact["closed"] is True
    assert 0.2 <= float(str(fact["seconds"])) < 3
    assert str(fact["text"]).startswith("closed the idle connection after ")


def test_a_connection_still_open_says_for_how_long(serve: Serve) -> None:
    port = serve(OK, None)
    watcher = IdleWatcher("127.0.0.1", port)
    watcher.start()
    time.sleep(0.2)
    fact = watcher.finish()
    assert fact["closed"] is False and float(str(fact["seconds"])) >= 0.1
    assert "still open after" in str(fact["text"])


def test_closing_after_every_response_is_said_so(serve: Serve) -> None:
    port = serve(OK_CLOSE, None)
    watcher = IdleWatcher("127.0.0.1", port)
    watcher.start()
    fact = watcher.finish()
    assert (fact["closed"], fact["seconds"]) == (True, 0.0)
    assert fact["text"] == "the server closed the connection after the first response"


def test_what_the_server_sent_before_closing_is_kept(serve: Serve) -> None:
    port = serve(OK, 0.1, LATE_408)
    watcher = IdleWatcher("127.0.0.1", port)
    watcher.start()
    fact = wait_closed(watcher)
    assert fact["sent_before_closing"] == "HTTP/1.1 408 Request Timeout"
    assert "408" in str(fact["text"])


def test_nothing_listening_is_not_measured_and_never_raises() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    watcher = IdleWatcher("127.0.0.1", port)
    watcher.start()
    fact = watcher.finish()
    assert fact["closed"] is None and str(fact["text"]).startswith("not measured: ")


def test_the_kept_fact_is_the_first_close_else_the_longest_watch() -> None:
    open_2 = describe(None, 2.0, b"", "")
    open_9 = describe(None, 9.0, b"", "")
    closed_5 = describe(5.0, 0.0, b"", "")
    unknown = describe(None, 0.0, b"", "refused")
    assert longest_idle(None, open_2) == open_2
    assert longest_idle(open_2, open_9) == open_9
    assert longest_idle(open_9, open_2) == open_9
    assert longest_idle(open_9, closed_5) == closed_5
    assert longest_idle(closed_5, open_9) == closed_5
    assert longest_idle(unknown, open_2) == open_2
    assert longest_idle(open_2, unknown) == open_2


def test_a_close_by_the_exiting_process_is_no_idle_timeout(serve: Serve) -> None:
    port = serve(OK, 0.2)
    watcher = IdleWatcher("127.0.0.1", port, alive=lambda: False)  # the process has ended
    watcher.start()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and watcher._exited_after is None:
        time.sleep(0.02)
    fact = watcher.finish()
    assert fact["closed"] is False
    assert str(fact["text"]).endswith("(until the server exited)")
