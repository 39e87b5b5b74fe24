"""The base :class:`Response` and the plumbing every streaming response shares:
disconnect watching, body sends that turn a gone client into a quiet stop, and bounded
iterator cleanup.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

import anyio
import anyio.lowlevel

from baize.datastructures import Cookie, MutableHeaders
from baize.typing import Message, Receive, Scope, Send

# RFC 9110 §6.4.1 and §8.6: these never carry content, nor (204, 1xx) a Content-Length.
_NO_BODY_STATUS = frozenset((*range(100, 200), 204, 304))


# Generator cleanup after a disconnect may not hold the connection longer than this.
_CLOSE_TIMEOUT = 5.0


class _ClientGone(Exception):
    """``send`` raised ``OSError``: the server says the client has gone."""


async def _cancel_on_disconnect(receive: Receive, scope: anyio.CancelScope) -> None:
    """Read ``receive`` until ``http.disconnect``, then cancel ``scope``.

    A checkpoint after every other message lets the response make progress even with
    a ``receive`` that never blocks (a server that keeps repeating request messages).
    """
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            scope.cancel()
            return
        await anyio.lowlevel.checkpoint()


async def _until_disconnect(receive: Receive, work: Callable[[], Awaitable[None]]) -> None:
    """Run ``work``, cancelling it when the client disconnects; return quietly when
    ``work`` finds the client gone (:class:`_ClientGone`).

    Another error of ``work`` propagates as itself, not wrapped in an exception group.
    """
    try:
        async with anyio.create_task_group() as task_group:
            task_group.start_soon(_cancel_on_disconnect, receive, task_group.cancel_scope)
            try:
                await work()
            finally:
                task_group.cancel_scope.cancel()
    except _ClientGone:
        pass
    except BaseExceptionGroup as group:
        if len(group.exceptions) == 1:
            if isinstance(group.exceptions[0], _ClientGone):
                return
            raise group.exceptions[0] from None
        raise


async def _send_body(send: Send, body: bytes, more_body: bool) -> None:
    """Send one body message; ``OSError`` (client gone) becomes :class:`_ClientGone`."""
    try:
        await send({"type": "http.response.body", "body": body, "more_body": more_body})
    except OSError:
        raise _ClientGone() from None


async def _close(iterator: AsyncIterator[Any]) -> None:
    """Close an async iterator (run a generator's ``finally``), shielded and bounded."""
    aclose = getattr(iterator, "aclose", None)
    if aclose is not None:
        with anyio.move_on_after(_CLOSE_TIMEOUT, shield=True):
            await aclose()


class Response:
    """The parent of all responses; an instance is an ASGI application.

    A bare ``Response`` sends its status and headers with an empty body
    (``content-length: 0`` unless the status forbids content).

    :param status_code: the HTTP status.
    :param headers: initial headers; ``self.headers`` is a :class:`MutableHeaders`.
    """

    def __init__(self, status_code: int = 200, headers: Mapping[str, str] | None = None) -> None:
        self.status_code = status_code
        if headers is None:
            self._headers: MutableHeaders | None = None
            self._raw: list[tuple[bytes, bytes]] = []
        else:
            self._headers = MutableHeaders(headers)
            self._raw = self._headers.raw

    @property
    def headers(self) -> MutableHeaders:
        """The response headers; their ``raw`` list is what ``http.response.start`` carries."""
        headers = self._headers
        if headers is None:  # built on first use: most small responses never need it
            headers = self._headers = MutableHeaders(raw=self._raw)
            self._raw = headers.raw
        return headers

    @headers.setter
    def headers(self, headers: MutableHeaders) -> None:
        self._headers = headers
        self._raw = headers.raw

    def set_cookie(
        self,
        key: str,
        value: str = "",
        max_age: int = -1,
        expires: datetime | int | float | str | None = None,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: str | None = "lax",
    ) -> None:
        """Add one ``Set-Cookie`` line (RFC 6265 §4.1).

        :raises ValueError: a name, value or attribute that would break the header.
        """
        cookie = Cookie(
            key,
            value,
            expires=expires,
            domain=domain,
            path=path,
            httponly=httponly,
            secure=secure,
            max_age=max_age,
            samesite=samesite,
        )
        self.headers.append("set-cookie", str(cookie))

    def delete_cookie(
        self,
        key: str,
        value: str = "",
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: str | None = "lax",
    ) -> None:
        """Add a ``Set-Cookie`` line that expires the cookie: ``Max-Age=0`` and an
        ``Expires`` in the past (``value`` is upstream's parameter; the value sent is empty).
        """
        self.set_cookie(
            key,
            "",
            max_age=0,
            expires="Thu, 01 Jan 1970 00:00:00 GMT",
            path=path,
            domain=domain,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
        )

    def _start(self) -> Message:
        return {
            "type": "http.response.start",
            "status": self.status_code,
            "headers": self._raw,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.status_code not in _NO_BODY_STATUS and "content-length" not in self.headers:
            self._raw.append((b"content-length", b"0"))
        await send(self._start())
        await send({"type": "http.response.body", "body": b""})


__all__ = ["Response"]
