"""Starlette's event stream written with ``sse-starlette`` (``EventSourceResponse``): the
Starlette peer of the ``sse`` scenario (the ``starlette`` implementation streams preformatted
events with ``StreamingResponse``)."""

from __future__ import annotations

from sse_starlette import EventSourceResponse, ServerSentEvent  # type: ignore[import-not-found, unused-ignore]

from benchmarks.apps.common import SSE_DATA, Receive, Scope, Send, timed_events, with_lifespan


async def _sse(scope: Scope, receive: Receive, send: Send) -> None:
    response = EventSourceResponse(timed_events(ServerSentEvent(data=SSE_DATA)), ping=3600)
    await response(scope, receive, send)


sse = with_lifespan(_sse)
