"""The idle keep-alive timeout of a server, measured at no cost to the run's wall time.

When a configuration's first instance of a pytest process is ready, :class:`IdleWatcher`
opens one HTTP/1.1 connection, completes one request/response on it (``GET /__ready__``), and
then leaves it idle; a daemon thread waits for the server to close it. When the server is
stopped (or the run ends), :meth:`IdleWatcher.finish` says what happened: the server closed
the idle connection after X s, or it was still open after Y s (as long as the server ran).
A case that stops the server (a fresh instance) ends one watch; the next instance gets a new
one, and the fact is the first close seen, else the longest watch (:func:`longest_idle`).
RFC 9112 §9.8 lets a server close an idle connection whenever it likes, so this is a fact
(``open_behaviours``), never a verdict.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

TOPIC = "idle_keep_alive"
QUESTION = (
    "One HTTP/1.1 connection, left idle after one complete request and response (GET "
    "/__ready__, the server's first minutes of the run): whether and when the server closes "
    "it (RFC 9112 §9.8 leaves the idle timeout to the server). Measured beside the cases, "
    "so 'still open' is bounded by how long the server ran."
)
CONNECT_TIMEOUT = 5.0
READ_CHUNK = 4096
EXIT_GRACE = 0.5  # after a close, how long to wait before asking whether the process exited


class IdleWatcher:
    """One idle keep-alive connection to a server, watched by a daemon thread."""

    def __init__(
        self,
        host: str,
        port: int,
        path: str = "/__ready__",
        alive: Callable[[], bool] | None = None,
    ) -> None:
        """:param alive: whether the server process still runs; a close followed by its exit
        is the process ending, not an idle timeout."""
        self._host = host
        self._port = port
        self._path = path
        self._alive = alive
        self._exited_after: float | None = None
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._idle_since = 0.0
        self._closed_after: float | None = None
        self._extra = b""  # what the server sent on the idle connection (e.g. a 408)
        self._problem = ""  # why nothing could be measured
        self._finished = False

    def start(self) -> None:
        """One request/response, then watch the connection in a daemon thread.

        Never raises: a failure to set up the connection is recorded as the fact's problem.
        """
        connection = http.client.HTTPConnection(self._host, self._port, timeout=CONNECT_TIMEOUT)
        try:
            connection.request("GET", self._path)
            response = connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException) as error:
            self._problem = f"the first request failed: {type(error).__name__}: {error}"
            connection.close()
            return
        self._idle_since = time.monotonic()
        if response.will_close or connection.sock is None:
            self._closed_after = 0.0
            self._problem = "the server closed the connection after the first response"
            connection.close()
            return
        sock = connection.sock
        sock.settimeout(None)
        self._sock = sock
        threading.Thread(target=self._watch, args=(sock,), name="idle-watcher", daemon=True).start()

    def _watch(self, sock: socket.socket) -> None:
        while True:
            try:
                data = sock.recv(READ_CHUNK)
            except OSError:
                data = b""  # reset by the server, or closed by finish()
            closed_after = time.monotonic() - self._idle_since
            if not data and self._alive is not None:
                time.sleep(EXIT_GRACE)
                if not self._alive():
                    with self._lock:
                        self._exited_after = closed_after
                    return
            with self._lock:
                if self._finished:
                    return
                if data:
                    self._extra = (self._extra + data)[:200]
                    continue
                self._closed_after = closed_after
                return

    def finish(self) -> dict[str, Any]:
        """Stop watching (before the server is stopped) and describe what was seen."""
        with self._lock:
            self._finished = True
            ran = time.monotonic() - self._idle_since if self._idle_since else 0.0
            closed_after = self._closed_after
            if self._exited_after is not None:  # open until the process ended
                return describe(None, self._exited_after, b"", "", "until the server exited")
        if self._sock is not None:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._sock.close()
        return describe(closed_after, ran, self._extra, self._problem)


def describe(
    closed_after: float | None,
    ran: float,
    extra: bytes,
    problem: str,
    until: str = "as long as the server ran",
) -> dict[str, Any]:
    """The fact: ``closed`` with ``seconds`` (and what the server sent first, if anything), or
    still ``open`` after ``seconds``; ``text`` says it in words."""
    if problem and closed_after is None:
        return {"closed": None, "seconds": None, "text": f"not measured: {problem}"}
    if closed_after is None:
        return {
            "closed": False,
            "seconds": round(ran, 1),
            "text": f"still open after {ran:.1f} s ({until})",
        }
    fact: dict[str, Any] = {
        "closed": True,
        "seconds": round(closed_after, 1),
        "text": f"closed the idle connection after {closed_after:.1f} s",
    }
    if problem:
        fact["text"] = problem
    if extra:
        first = extra.split(b"\r\n", 1)[0].decode("latin-1")
        fact["sent_before_closing"] = first
        fact["text"] += f" (after sending {first!r})"
    return fact


def longest_idle(held: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """The fact to keep of two watches of one configuration: a close (the first one seen),
    else the longer time still open, else whichever was measured."""
    if held is None or held.get("closed") is None:
        return new
    if held["closed"] or new.get("closed") is None:
        return held
    if new["closed"]:
        return new
    return new if new["seconds"] > held["seconds"] else held
