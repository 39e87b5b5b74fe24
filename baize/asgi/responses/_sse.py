"""Server-sent events: the response and the sender that interleaves events and pings."""

from __future__ import annotations

import codecs
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from time import monotonic

import anyio

from baize.asgi.responses._base import (
    Response,
    _cancel_on_disconnect,
    _ClientGone,
    _close,
    _send_body,
)
from baize.sse import PING, encode_event
from baize.typing import Receive, Scope, Send, ServerSentEvent


class SendEventResponse(Response):
    """Server-sent events (``text/event-stream``), encoded by :mod:`baize.sse`.

    A ``: ping`` comment goes out whenever nothing was sent for ``ping_interval`` seconds.
    On disconnect the iterable is closed and nothing more is sent. An exception from the
    iterable (or a ``ValueError`` from a bad event) ends the stream, then is re-raised.

    :raises ValueError: ``charset`` is not UTF-8: event streams "must always be encoded as
        UTF-8" (WHATWG HTML §9.2.5), and browsers decode them so whatever the label says;
        or ``ping_interval`` is not positive.
    """

    def __init__(
        self,
        iterable: AsyncIterable[ServerSentEvent],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        *,
        ping_interval: float = 3,
        charset: str = "utf-8",
    ) -> None:
        if not ping_interval > 0:  # also refuses NaN; zero would flood the client with pings
            raise ValueError(
                f"ping_interval must be a positive number of seconds: {ping_interval!r}"
            )
        if codecs.lookup(charset).name != "utf-8":
            raise ValueError(
                f"event streams must be UTF-8 (WHATWG HTML §9.2.5), got charset={charset!r}"
            )
        super().__init__(status_code, headers)
        self.iterable = iterable
        self.ping_interval = ping_interval
        self.charset = charset
        self.headers.setdefault("content-type", f"text/event-stream; charset={charset}")
        self.headers.setdefault("cache-control", "no-cache")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(self._start())
        stream = _EventSender(send)
        iterator = aiter(self.iterable)
        error: Exception | None = None
        try:
            async with anyio.create_task_group() as task_group:
                task_group.start_soon(stream.watch, receive, task_group.cancel_scope)
                task_group.start_soon(
                    stream.keep_alive, self.ping_interval, task_group.cancel_scope
                )
                try:
                    await stream.send_events(iterator)
                except _ClientGone:
                    stream.gone = True
                except Exception as exc:
                    error = exc
                task_group.cancel_scope.cancel()
        finally:
            await _close(iterator)
        if not stream.gone:
            try:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            except OSError:
                pass
        if error is not None:
            raise error


class _EventSender:
    """One event stream's sending side: keeps events and pings from overlapping, and
    tracks idleness for pings.

    No lock: events come from one loop and pings from one task, so a flag and an event
    suffice, and sending an event costs no extra trip through the event loop.
    """

    def __init__(self, send: Send) -> None:
        self._send = send
        self._sending = False  # an event is being sent
        self._ping: anyio.Event | None = None  # set once the ping being sent is out
        self.last_sent = monotonic()  # cheaper than anyio.current_time(), once per event
        self.gone = False

    async def send_events(self, events: AsyncIterator[ServerSentEvent]) -> None:
        """Encode and send each event as it comes, one message each (the hot loop).

        A data-only event whose ``data`` is the very string object of the previous
        data-only event reuses that event's bytes (strings are immutable, so the bytes
        are the same): a stream repeating one payload encodes it once.
        """
        send = self._send
        last_data: str | None = None
        last_body = b""
        async for event in events:
            data = event.get("data")
            if data is last_data and data is not None and len(event) == 1:
                body = last_body
            else:
                body = encode_event(event).encode()
                if data is not None and len(event) == 1:
                    last_data, last_body = data, body
            while self._ping is not None:
                await self._ping.wait()
            self._sending = True
            try:
                await send({"type": "http.response.body", "body": body, "more_body": True})
            except OSError:
                raise _ClientGone() from None
            finally:
                self._sending = False
            self.last_sent = monotonic()

    async def keep_alive(self, interval: float, scope: anyio.CancelScope) -> None:
        """Ping once nothing was sent for ``interval`` seconds.

        Idleness is the larger of the wall-clock time since the last send and the time
        slept (event-loop clock) since this task saw ``last_sent`` change: the first is
        exact, the second keeps pings going under a virtual clock (trio's ``MockClock``).
        """
        ping = PING.encode()
        seen = self.last_sent
        slept = 0.0
        while True:
            if self.last_sent != seen:
                seen = self.last_sent
                slept = 0.0
            wait = interval - max(monotonic() - seen, slept)
            if wait > 0 or self._sending:
                wait = wait if wait > 0 else interval
                await anyio.sleep(wait)
                slept += wait
                continue
            done = self._ping = anyio.Event()
            try:
                await _send_body(self._send, ping, True)
            except _ClientGone:
                self.gone = True
                scope.cancel()
                return
            finally:
                self._ping = None
                done.set()
            self.last_sent = monotonic()

    async def watch(self, receive: Receive, scope: anyio.CancelScope) -> None:
        await _cancel_on_disconnect(receive, scope)
        self.gone = True


__all__ = ["SendEventResponse"]
