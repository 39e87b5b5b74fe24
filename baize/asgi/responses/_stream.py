"""A response that streams the chunks of an async iterable as they come."""

from __future__ import annotations

from collections.abc import AsyncIterable, Mapping

from baize.asgi.responses._base import Response, _close, _send_body, _until_disconnect
from baize.typing import Receive, Scope, Send


class StreamResponse(Response):
    """Sends each chunk of an async iterable as it comes (``more_body=True``).

    When the client disconnects, the iteration is cancelled and the iterator closed
    (``aclose``), and nothing more is sent.
    """

    def __init__(
        self,
        iterable: AsyncIterable[bytes],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        content_type: str = "application/octet-stream",
    ) -> None:
        super().__init__(status_code, headers)
        self.iterable = iterable
        self.headers.setdefault("content-type", content_type)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(self._start())
        iterator = aiter(self.iterable)

        async def stream() -> None:
            async for chunk in iterator:
                await _send_body(send, chunk, True)
            await _send_body(send, b"", False)

        try:
            await _until_disconnect(receive, stream)
        finally:
            await _close(iterator)


__all__ = ["StreamResponse"]
