"""Turn view functions into ASGI applications, and handlers into view decorators."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from baize.asgi.requests import Request
from baize.asgi.responses import PlainTextResponse, Response
from baize.asgi.websocket import WebSocket, WebsocketDenialResponse
from baize.typing import ASGIApp, Receive, Scope, Send

View = Callable[[Request], Awaitable[Response]]
WebSocketView = Callable[[WebSocket], Awaitable[None]]
Handler = Callable[[Request, View], Awaitable[Response]]


def request_response(view: View) -> ASGIApp:
    """Make ``async def view(request) -> Response`` an ASGI app.

    The request's temporary files are closed once the response is sent; a
    websocket scope is denied with 404.
    """

    @functools.wraps(view)
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            denial = WebsocketDenialResponse(PlainTextResponse("Not Found", 404))
            await denial(scope, receive, send)
            return
        request = Request(scope, receive, send)
        try:
            response = await view(request)
            await response(scope, receive, send)
        finally:
            await request.close()

    return app


def websocket_session(view: WebSocketView) -> ASGIApp:
    """Make ``async def view(websocket)`` an ASGI app; an http scope gets 404."""

    @functools.wraps(view)
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await PlainTextResponse("Not Found", 404)(scope, receive, send)
            return
        await view(WebSocket(scope, receive, send))

    return app


def decorator(handler: Handler) -> Callable[[View], View]:
    """Make ``async def handler(request, next_call) -> Response`` a decorator of views.

    ``next_call`` is the decorated view; the handler may edit what it returns.
    """

    @functools.wraps(handler)
    def decorate(view: View) -> View:
        @functools.wraps(view)
        async def decorated(request: Request) -> Response:
            return await handler(request, view)

        return decorated

    return decorate


__all__ = ["decorator", "request_response", "websocket_session"]
