"""The WebSocket connection object and the handshake denial response.

Both sides of an ASGI WebSocket connection are state machines (ASGI WebSocket
spec). The client side moves on the messages ``receive`` returns; the
application side moves on the messages it passes to ``send``. The moves are
data (:data:`CLIENT_TRANSITIONS`, :data:`APPLICATION_TRANSITIONS`); a message
with no entry for the current state is a bug in the caller and raises
``RuntimeError`` naming the side, the state and the message type.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Iterable, Mapping

from baize._headers import encode_header
from baize.asgi.requests import HTTPConnection
from baize.typing import ASGIApp, Message, Receive, Scope, Send


class WebSocketState(enum.Enum):
    """Where one side of the connection stands."""

    CONNECTING = 0
    CONNECTED = 1
    DISCONNECTED = 2
    RESPONSE = 3
    """The application is sending an HTTP denial (``websocket.http.response``)."""


CLIENT_TRANSITIONS: dict[tuple[WebSocketState, str], WebSocketState] = {
    (WebSocketState.CONNECTING, "websocket.connect"): WebSocketState.CONNECTED,
    (WebSocketState.CONNECTED, "websocket.receive"): WebSocketState.CONNECTED,
    (WebSocketState.CONNECTED, "websocket.disconnect"): WebSocketState.DISCONNECTED,
}
"""(client state, type of a received message) -> next client state."""

APPLICATION_TRANSITIONS: dict[tuple[WebSocketState, str], WebSocketState] = {
    (WebSocketState.CONNECTING, "websocket.accept"): WebSocketState.CONNECTED,
    (WebSocketState.CONNECTING, "websocket.close"): WebSocketState.DISCONNECTED,
    (WebSocketState.CONNECTING, "websocket.http.response.start"): WebSocketState.RESPONSE,
    (WebSocketState.RESPONSE, "websocket.http.response.body"): WebSocketState.RESPONSE,
    (WebSocketState.CONNECTED, "websocket.send"): WebSocketState.CONNECTED,
    (WebSocketState.CONNECTED, "websocket.close"): WebSocketState.DISCONNECTED,
}
"""(application state, type of a sent message) -> next application state.

The last ``websocket.http.response.body`` (no ``more_body``) ends in DISCONNECTED.
"""


class WebSocketDisconnect(Exception):
    """Raised by the ``receive_*`` methods when the client has disconnected.

    :param code: the WebSocket close code (RFC 6455 §7.4).
    :param reason: the close reason; ``""`` when there is none (the ASGI spec's default).
    """

    def __init__(self, code: int = 1000, reason: str | None = None) -> None:
        reason = reason or ""
        super().__init__(code, reason)
        self.code = code
        self.reason = reason

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code}, reason={self.reason})"

    def __str__(self) -> str:
        return f"WebSocket disconnected with code {self.code}" + (
            f": {self.reason}" if self.reason else ""
        )


class WebSocket(HTTPConnection):
    """A WebSocket connection: the scope as a mapping plus validated messaging."""

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "websocket":
            raise ValueError(f"WebSocket needs a websocket scope, got {scope.get('type')!r}")
        super().__init__(scope, receive, send)
        self._asgi_receive = receive
        self._asgi_send = send
        self.client_state = WebSocketState.CONNECTING
        self.application_state = WebSocketState.CONNECTING

    async def receive(self) -> Message:
        """Receive one ASGI message, checking it is valid in the client's state.

        :raises RuntimeError: the client side already disconnected, or the
            message is not valid in its state.
        """
        if self.client_state is WebSocketState.DISCONNECTED:
            raise RuntimeError("Cannot receive: the client state is DISCONNECTED")
        message = await self._asgi_receive()
        message_type = message["type"]
        state = CLIENT_TRANSITIONS.get((self.client_state, message_type))
        if state is None:
            raise RuntimeError(
                f"Unexpected message {message_type!r} from the client "
                f"in client state {self.client_state.name}"
            )
        self.client_state = state
        return message

    async def send(self, message: Message) -> None:
        """Send one ASGI message, checking it is valid in the application's state.

        :raises RuntimeError: the client already disconnected, or the message
            is not valid in the application's state.
        """
        message_type = message["type"]
        if self.client_state is WebSocketState.DISCONNECTED:
            raise RuntimeError(f"Cannot send {message_type!r}: the client state is DISCONNECTED")
        state = APPLICATION_TRANSITIONS.get((self.application_state, message_type))
        if state is None:
            raise RuntimeError(
                f"Cannot send {message_type!r} in application state {self.application_state.name}"
            )
        if message_type == "websocket.http.response.body" and not message.get("more_body"):
            state = WebSocketState.DISCONNECTED
        await self._asgi_send(message)
        self.application_state = state

    async def accept(
        self,
        subprotocol: str | None = None,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
    ) -> None:
        """Accept the handshake, reading ``websocket.connect`` first if it is pending.

        :param subprotocol: the chosen subprotocol (``Sec-WebSocket-Protocol``).
        :param headers: extra response headers for the handshake.
        :raises ValueError: a header name that is not a token, or CR/LF/NUL in a value.
        """
        if self.client_state is WebSocketState.CONNECTING:
            await self.receive()
        message: Message = {"type": "websocket.accept", "subprotocol": subprotocol}
        if headers is not None:
            pairs = headers.items() if isinstance(headers, Mapping) else headers
            message["headers"] = [encode_header(name, value) for name, value in pairs]
        await self.send(message)

    async def _receive_frame(self, key: str, frame: str) -> str | bytes:
        """The ``key`` payload of the next ``websocket.receive`` message."""
        if self.application_state is not WebSocketState.CONNECTED:
            raise RuntimeError(
                f"Cannot receive a {frame} frame in application state "
                f"{self.application_state.name}; call accept() first"
            )
        message = await self.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1005), message.get("reason"))
        data: str | bytes | None = message.get(key)
        if data is None:
            other = "binary" if frame == "text" else "text"
            raise RuntimeError(f"Expected a {frame} frame, received a {other} frame")
        return data

    async def receive_text(self) -> str:
        """Receive one text frame.

        :raises WebSocketDisconnect: the client disconnected.
        :raises RuntimeError: the frame is binary, or the socket is not accepted.
        """
        data = await self._receive_frame("text", "text")
        assert isinstance(data, str)
        return data

    async def receive_bytes(self) -> bytes:
        """Receive one binary frame.

        :raises WebSocketDisconnect: the client disconnected.
        :raises RuntimeError: the frame is text, or the socket is not accepted.
        """
        data = await self._receive_frame("bytes", "binary")
        assert isinstance(data, bytes)
        return data

    async def iter_text(self) -> AsyncIterator[str]:
        """Yield text frames until the client disconnects."""
        while True:
            try:
                data = await self.receive_text()
            except WebSocketDisconnect:
                return
            yield data

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        """Yield binary frames until the client disconnects."""
        while True:
            try:
                data = await self.receive_bytes()
            except WebSocketDisconnect:
                return
            yield data

    async def send_text(self, data: str) -> None:
        """Send one text frame."""
        await self.send({"type": "websocket.send", "text": data})

    async def send_bytes(self, data: bytes) -> None:
        """Send one binary frame."""
        await self.send({"type": "websocket.send", "bytes": data})

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        """Close the connection, or deny the handshake when not yet accepted.

        Safe to call many times: once either side is disconnected it does nothing.
        """
        if (
            self.application_state is WebSocketState.DISCONNECTED
            or self.client_state is WebSocketState.DISCONNECTED
        ):
            return
        message: Message = {"type": "websocket.close", "code": code}
        if reason is not None:
            message["reason"] = reason
        await self.send(message)


HTTP_TO_WEBSOCKET = {
    "http.response.start": "websocket.http.response.start",
    "http.response.body": "websocket.http.response.body",
}


class WebsocketDenialResponse:
    """Reject a WebSocket handshake with an HTTP response.

    Sends ``response`` through the ``websocket.http.response`` extension when
    the server offers it; otherwise closes the handshake (the client sees 403).

    :param response: any ASGI app answering an http scope, usually a ``Response``.
    """

    def __init__(self, response: ASGIApp) -> None:
        self.response = response

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if "websocket.http.response" not in (scope.get("extensions") or {}):
            await send({"type": "websocket.close", "code": 1000})
            return

        async def http_receive() -> Message:
            while True:
                message = await receive()
                if message["type"] == "websocket.disconnect":
                    return {"type": "http.disconnect"}
                if message["type"] != "websocket.connect":
                    return message

        async def websocket_send(message: Message) -> None:
            message_type = HTTP_TO_WEBSOCKET.get(message["type"])
            if message_type is None:
                raise RuntimeError(
                    f"Cannot send {message['type']!r} as a WebSocket denial response"
                )
            await send({**message, "type": message_type})

        http_scope = {**scope, "method": scope.get("method", "GET")}
        await self.response(http_scope, http_receive, websocket_send)


__all__ = [
    "APPLICATION_TRANSITIONS",
    "CLIENT_TRANSITIONS",
    "WebSocket",
    "WebSocketDisconnect",
    "WebSocketState",
    "WebsocketDenialResponse",
]
