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
``http.disconnect`` itself; for the same reason the handler's
:class:`NextRequest` refuses to read the body (``RuntimeError``, as upstream),
since a body read there would leave the app waiting for messages it never gets.

``NextResponse.from_app(app, request)`` (upstream's name) is what ``next_call``
does. Called with the :class:`NextRequest` a middleware handed out, it runs the
app in that middleware's task group as above; called anywhere else, there is no
task group to run it beside the caller, so it runs the app to its end and keeps
its messages in memory (fine for small responses, never for endless streams).
"""

from __future__ import annotations

import functools
import math
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from functools import cached_property
from typing import Any, NoReturn

import anyio
import anyio.abc
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from baize.asgi.requests import Request
from baize.asgi.responses import Response
from baize.datastructures import MutableHeaders
from baize.typing import ASGIApp, Message, Receive, Scope, Send

BODY_BUFFER = 1
"""Messages the wrapped app may send ahead of the client (backpressure beyond it)."""


class PipeStream(AsyncIterator[bytes]):
    """A one-slot pipe of byte chunks between two tasks (upstream's helper).

    :meth:`push` waits while a chunk is waiting to be read; iteration ends after
    :meth:`push_eof` once the pushed chunks are read.
    """

    def __init__(self) -> None:
        channel = anyio.create_memory_object_stream[bytes](1)
        self._in, self._out = channel
        self._pushed_eof = False

    async def push(self, chunk: bytes) -> None:
        """Hand one chunk to the reader (waits while the slot is full).

        :raises RuntimeError: after :meth:`push_eof`.
        """
        if self._pushed_eof:
            raise RuntimeError("Cannot push chunk after push EOF.")
        await self._in.send(chunk)

    async def push_eof(self) -> None:
        """End the stream: the reader stops once the slot is empty."""
        self._pushed_eof = True
        self._in.close()

    async def __anext__(self) -> bytes:
        try:
            return await self._out.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None


def _refuse_body() -> NoReturn:
    raise RuntimeError(
        "Cannot read the request body in a middleware handler: the wrapped application"
        " owns the receive channel"
    )


class NextRequest(Request, MutableMapping[str, Any]):
    """A :class:`Request` whose scope the handler may edit (``request["key"] = ...``).

    The wrapped app gets this scope (a shallow copy of the middleware's).
    An edit drops the cached properties, so ``url`` and ``headers`` follow it.
    ``stream()``, ``body``, ``json``, ``form`` and ``is_disconnected()`` raise
    ``RuntimeError``: the wrapped app reads ``receive``, and a message taken here
    would never reach it.
    """

    _runner: _Runner | None = None

    async def stream(self) -> AsyncIterator[bytes]:
        _refuse_body()
        yield b""  # pragma: no cover - makes this an async generator

    @property
    def body(self) -> Awaitable[bytes]:
        _refuse_body()

    @property
    def json(self) -> Awaitable[Any]:
        _refuse_body()

    @property
    def form(self) -> NoReturn:
        _refuse_body()

    async def is_disconnected(self) -> bool:
        _refuse_body()

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

    def __init__(self, app: ASGIApp, request: NextRequest, buffer: float = BODY_BUFFER) -> None:
        self.app = app
        self.request = request
        self.start_message: Message | None = None
        self.error: Exception | None = None
        self.error_raised = False
        self.consumed = False
        self.discarded = False
        self.ready = anyio.Event()
        channel: tuple[MemoryObjectSendStream[Message], MemoryObjectReceiveStream[Message]]
        channel = anyio.create_memory_object_stream[Message](buffer)
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


class _Runner:
    """Where one middleware call runs its wrapped apps: its task group and their runs."""

    def __init__(self, task_group: anyio.abc.TaskGroup) -> None:
        self.task_group = task_group
        self.runs: list[_Downstream] = []

    async def start(self, app: ASGIApp, request: NextRequest) -> NextResponse:
        """Start ``app`` beside the handler; return once it has sent its status and headers.

        :raises RuntimeError: the app returned without sending ``http.response.start``.
        """
        downstream = _Downstream(app, request)
        self.runs.append(downstream)
        self.task_group.start_soon(downstream.run)
        await downstream.ready.wait()
        return NextResponse._started(downstream)

    def finish(self) -> None:
        """The handler's response is sent: drop the bodies nobody forwarded."""
        for downstream in self.runs:
            downstream.discarded = not downstream.consumed
            downstream.body_out.close()

    def raise_errors(self) -> None:
        """Raise the first error of an app, unless it only saw its unread body refused."""
        for downstream in self.runs:
            if not (downstream.discarded and isinstance(downstream.error, OSError)):
                downstream.raise_error()


class NextResponse(Response):
    """The wrapped app's response: its status and editable headers, body streamed through.

    Built by ``next_call`` or :meth:`from_app`, never directly.
    """

    def __init__(self, downstream: _Downstream) -> None:
        start = downstream.start_message
        assert start is not None
        super().__init__(start["status"])
        self.headers = MutableHeaders(raw=[(bytes(k), bytes(v)) for k, v in start["headers"]])
        self._start_extra = {
            key: value for key, value in start.items() if key not in ("type", "status", "headers")
        }
        self._downstream = downstream

    @classmethod
    def _started(cls, downstream: _Downstream) -> NextResponse:
        if downstream.start_message is None:
            downstream.raise_error()
            raise RuntimeError("the application returned without sending http.response.start")
        return cls(downstream)

    @classmethod
    async def from_app(cls, app: ASGIApp, request: NextRequest) -> NextResponse:
        """Run ``app`` on ``request``'s scope and ``receive``; return its response.

        Inside a middleware handler (``request`` the one it was given) the body is
        streamed through later; elsewhere the app runs to its end first (see the
        module docstring).

        :raises RuntimeError: the app returned without sending ``http.response.start``.
        """
        runner = request._runner if isinstance(request, NextRequest) else None
        if runner is not None:
            return await runner.start(app, request)
        downstream = _Downstream(app, request, buffer=math.inf)
        await downstream.run()
        return cls._started(downstream)

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
            try:
                async with anyio.create_task_group() as task_group:
                    runner = request._runner = _Runner(task_group)
                    response = await handler(request, functools.partial(runner.start, app))
                    await response(request._scope, receive, send)
                    runner.finish()
            except BaseExceptionGroup as group:
                if len(group.exceptions) == 1:
                    raise group.exceptions[0] from None
                raise
            runner.raise_errors()

        return wrapped

    return wrap


__all__ = ["NextRequest", "NextResponse", "PipeStream", "middleware"]
