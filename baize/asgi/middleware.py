"""Middleware written as ``async def handler(request, next_call) -> Response``.

Theory of operation: ``next_call(request)`` starts the wrapped app in a task
of the middleware's task group and returns as soon as the app has sent
``http.response.start``; the status and headers become a :class:`NextResponse`.
The app's later messages go through a small memory channel that the
:class:`NextResponse` drains into the real ``send`` when it is called, so a
body is streamed chunk by chunk (never buffered whole) and a slow client
slows the app down. An exception of the app before ``http.response.start``
is raised from ``next_call``; one after it is raised once the body forwarded
so far has been sent. When the real ``send`` fails (client gone), its error
propagates and the app is cancelled; when the handler returns another
response, the app's next ``send`` raises ``OSError``, as an ASGI server does
for a gone client. The app reads the real ``receive``, so it sees
``http.disconnect`` itself.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from functools import cached_property
from typing import Any

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from baize.asgi.requests import Request
from baize.asgi.responses import Response
from baize.datastructures import MutableHeaders
from baize.typing import ASGIApp, Message, Receive, Scope, Send

BODY_BUFFER = 1
"""Messages the wrapped app may send ahead of the client (backpressure beyond it)."""


class NextRequest(Request):
    """A :class:`Request` whose scope the handler may edit (``request["key"] = ...``).

    The wrapped app gets this scope (a shallow copy of the middleware's).
    An edit drops the cached properties, so ``url`` and ``headers`` follow it.
    """

    def __setitem__(self, key: str, value: Any) -> None:
        self._scope[key] = value
        self._forget_cached()

    def __delitem__(self, key: str) -> None:
        del self._scope[key]
        self._forget_cached()

    def _forget_cached(self) -> None:
        for cls in type(self).__mro__:
            for name, attribute in vars(cls).items():
                if isinstance(attribute, cached_property):
                    self.__dict__.pop(name, None)


class _Downstream:
    """One run of the wrapped app: its start message, its body channel, its error."""

    def __init__(self, app: ASGIApp, request: NextRequest) -> None:
        self.app = app
        self.request = request
        self.start_message: Message | None = None
        self.error: Exception | None = None
        self.error_raised = False
        self.consumed = False
        self.discarded = False
        self.ready = anyio.Event()
        channel: tuple[MemoryObjectSendStream[Message], MemoryObjectReceiveStream[Message]]
        channel = anyio.create_memory_object_stream[Message](BODY_BUFFER)
        self.body_in, self.body_out = channel

    async def run(self) -> None:
        try:
            async with self.body_in:
                await self.app(self.request._scope, self.request._receive, self.send)
        except Exception as exc:
            self.error = exc
        finally:
            self.ready.set()

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            if self.start_message is not None:
                raise RuntimeError("http.response.start was sent twice")
            self.start_message = message
            self.ready.set()
            return
        if self.start_message is None:
            raise RuntimeError(f"{message['type']!r} was sent before http.response.start")
        try:
            await self.body_in.send(message)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            raise OSError("the response is no longer read: the client has gone") from None

    def raise_error(self) -> None:
        if self.error is not None and not self.error_raised:
            self.error_raised = True
            raise self.error


class NextResponse(Response):
    """The wrapped app's response: its status and editable headers, body streamed through."""

    def __init__(self, downstream: _Downstream) -> None:
        start = downstream.start_message
        assert start is not None
        super().__init__(start["status"])
        self.headers = MutableHeaders(raw=[(bytes(k), bytes(v)) for k, v in start["headers"]])
        self._start_extra = {
            key: value for key, value in start.items() if key not in ("type", "status", "headers")
        }
        self._downstream = downstream

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._downstream.consumed:
            raise RuntimeError("a NextResponse streams its body once; it was already sent")
        self._downstream.consumed = True
        await send({**self._start(), **self._start_extra})
        async with self._downstream.body_out as messages:
            async for message in messages:
                await send(message)
        await self._downstream.ready.wait()
        self._downstream.raise_error()


NextCall = Callable[[NextRequest], Awaitable[NextResponse]]
MiddlewareHandler = Callable[[NextRequest, NextCall], Awaitable[Response]]


def middleware(handler: MiddlewareHandler) -> Callable[[ASGIApp], ASGIApp]:
    """Make ``async def handler(request, next_call) -> Response`` wrap ASGI apps.

    Only http scopes go through the handler; other scopes reach the app as is.

    :raises RuntimeError: from ``next_call``, when the app returns without
        sending ``http.response.start``.
    """

    @functools.wraps(handler)
    def wrap(app: ASGIApp) -> ASGIApp:
        async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            request = NextRequest(dict(scope), receive, send)
            runs: list[_Downstream] = []

            async def next_call(next_request: NextRequest) -> NextResponse:
                downstream = _Downstream(app, next_request)
                runs.append(downstream)
                task_group.start_soon(downstream.run)
                await downstream.ready.wait()
                if downstream.start_message is None:
                    downstream.raise_error()
                    raise RuntimeError(
                        "the application returned without sending http.response.start"
                    )
                return NextResponse(downstream)

            try:
                async with anyio.create_task_group() as task_group:
                    response = await handler(request, next_call)
                    await response(request._scope, receive, send)
                    for downstream in runs:
                        downstream.discarded = not downstream.consumed
                        downstream.body_out.close()
            except BaseExceptionGroup as group:
                if len(group.exceptions) == 1:
                    raise group.exceptions[0] from None
                raise
            for downstream in runs:
                if not (downstream.discarded and isinstance(downstream.error, OSError)):
                    downstream.raise_error()

        return wrapped

    return wrap


__all__ = ["NextRequest", "NextResponse", "middleware"]
