# mypy: disable-error-code="untyped-decorator, no-any-return"
# (the framework may be absent: the peers extra is optional, its decorators are then untyped)
"""Falcon's (ASGI) idiomatic apps for the peer scenarios: resources with ``on_get``, the
compiled router's ``{item_id:int}`` field converter, ``resp.stream`` and ``resp.sse``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import anyio
import falcon  # type: ignore[import-not-found, unused-ignore]
import falcon.asgi  # type: ignore[import-not-found, unused-ignore]

from benchmarks.apps.common import (
    FILE_SIZE,
    HELLO,
    ROUTE_COUNT,
    SSE_DATA,
    file_path,
    json_payload,
    timed_events,
    with_own_lifespan,
)

_CHUNK = 64 * 1024


class _Hello:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.content_type = falcon.MEDIA_TEXT
        resp.data = HELLO


class _Item:
    def __init__(self, route: int) -> None:
        self.route = route

    async def on_get(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, item_id: int
    ) -> None:
        resp.media = json_payload(self.route, item_id)


async def _chunks(path: str) -> AsyncIterator[bytes]:
    async with await anyio.open_file(path, "rb") as f:
        while chunk := await f.read(_CHUNK):
            yield chunk


class _File:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.content_type = "application/octet-stream"
        resp.content_length = FILE_SIZE
        resp.stream = _chunks(file_path())


async def _events() -> AsyncIterator[falcon.asgi.SSEvent]:
    async for event in timed_events(falcon.asgi.SSEvent(data=SSE_DATA.encode())):
        yield event


class _Sse:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.sse = _events()


def _app(routes: dict[str, object]) -> Callable[..., Awaitable[None]]:
    app = falcon.asgi.App()
    for template, resource in routes.items():
        app.add_route(template, resource)
    return app


hello = with_own_lifespan(_app({"/": _Hello()}))
json_router = with_own_lifespan(
    _app({f"/route{i}/{{item_id:int}}": _Item(i) for i in range(ROUTE_COUNT)})
)
file = with_own_lifespan(_app({"/": _File()}))
sse = with_own_lifespan(_app({"/": _Sse()}))
