"""The ASGI side of baize: requests, responses, WebSocket, routing and static files."""

from baize.asgi.helpers import empty_receive, empty_send, send_http_body, send_http_start
from baize.asgi.middleware import NextRequest, NextResponse, PipeStream, middleware
from baize.asgi.requests import ClientDisconnect, HTTPConnection, Request
from baize.asgi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    SendEventResponse,
    SmallResponse,
    StreamResponse,
)
from baize.asgi.routing import Hosts, Router, Subpaths
from baize.asgi.shortcut import decorator, request_response, websocket_session
from baize.asgi.staticfiles import Files, Pages
from baize.asgi.websocket import (
    WebSocket,
    WebsocketDenialResponse,
    WebSocketDisconnect,
    WebSocketState,
)

__all__ = [
    "ClientDisconnect",
    "FileResponse",
    "Files",
    "HTMLResponse",
    "HTTPConnection",
    "Hosts",
    "JSONResponse",
    "NextRequest",
    "NextResponse",
    "Pages",
    "PipeStream",
    "PlainTextResponse",
    "RedirectResponse",
    "Request",
    "Response",
    "Router",
    "SendEventResponse",
    "SmallResponse",
    "StreamResponse",
    "Subpaths",
    "WebSocket",
    "WebSocketDisconnect",
    "WebSocketState",
    "WebsocketDenialResponse",
    "decorator",
    "empty_receive",
    "empty_send",
    "middleware",
    "request_response",
    "send_http_body",
    "send_http_start",
    "websocket_session",
]
