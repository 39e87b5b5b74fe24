"""Shortcuts and middleware (conformance/requirements/routing.toml, SHORTCUT-* and MW-*): the
implementation's request_response, websocket_session, decorator and middleware, served by
conformance/apps/routing.py."""

from __future__ import annotations

import uuid

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from conformance.harness import expect_contains, expect_equal, expect_true
from conformance.harness.rawhttp import (
    Connection,
    Data,
    EndOfMessage,
    ResponseTimeout,
    build_request,
)
from conformance.harness.server import Server
from conformance.harness.sse import read_events

STREAM_CHUNKS = 100
FIRST_CHUNK_TIMEOUT = 4.0  # below the app's 8 s gate: a buffering middleware cannot pass


def chunk(index: int) -> bytes:
    return b"chunk-%03d\n" % index


def release(server: Server, token: str) -> None:
    with server.http() as client:
        response = client.get(f"/routing/release/{token}")
    expect_equal(response.status_code, 200, "status of the release endpoint")


def result(server: Server, token: str) -> object:
    with server.http() as client:
        return client.get(f"/routing/result/{token}").json()


# -- shortcuts -----------------------------------------------------------------------------------


@pytest.mark.requirement("SHORTCUT-REQUEST-RESPONSE")
def test_request_response(server: Server) -> None:
    with server.http() as client:
        response = client.post("/routing/rr/x?who=me")
    expect_equal(response.status_code, 201, "status set by the view's response")
    expect_equal(response.headers.get("x-view"), "yes", "header set by the view's response")
    expect_equal(response.json(), {"method": "POST", "who": "me", "view": True}, "JSON body")


@pytest.mark.requirement("SHORTCUT-REQUEST-RESPONSE-WEBSOCKET")
def test_request_response_refuses_websocket(server: Server) -> None:
    try:
        with server.ws("/routing/rr/x") as ws:
            message = ws.recv(timeout=5)
    except InvalidStatus as error:
        expected = 404 if server.offers("websocket.http.response") else 403
        expect_equal(error.response.status_code, expected, "handshake status")
        return
    expect_true(False, "handshake refused", "404/403", f"accepted, got {message!r}")


@pytest.mark.requirement("SHORTCUT-WEBSOCKET-SESSION")
def test_websocket_session(server: Server) -> None:
    with server.ws("/routing/ws-session/x") as ws:
        ws.send("ping")
        reply = ws.recv(timeout=5)
    expect_equal(reply, "echo:ping", "message sent back by the session view")


@pytest.mark.requirement("SHORTCUT-WEBSOCKET-SESSION-HTTP")
def test_websocket_session_refuses_http(server: Server) -> None:
    with server.http() as client:
        response = client.get("/routing/ws-session/x")
    expect_equal(response.status_code, 404, "status of an http request to a websocket_session")


@pytest.mark.requirement("SHORTCUT-DECORATOR-WRAPS")
def test_decorator_wraps(server: Server) -> None:
    token = uuid.uuid4().hex
    with server.http() as client:
        response = client.get(f"/routing/decorated/x?token={token}")
    expect_equal(response.status_code, 202, "status from the view")
    expect_equal(response.text, "from the view", "body from the view")
    expect_equal(response.headers.get("x-decorated"), "yes", "header set by the handler")
    expect_equal(result(server, token), {"view_called": True}, "the view ran")


@pytest.mark.requirement("SHORTCUT-DECORATOR-SHORT-CIRCUIT")
def test_decorator_short_circuit(server: Server) -> None:
    token = uuid.uuid4().hex
    with server.http() as client:
        response = client.get(f"/routing/decorated/x?deny=1&token={token}")
    expect_equal(response.status_code, 403, "status from the handler")
    expect_equal(response.text, "short-circuit", "body from the handler")
    expect_equal(result(server, token), None, "record of the view (it must not run)")


# -- middleware ----------------------------------------------------------------------------------


@pytest.mark.requirement("MW-NEXT-REQUEST-EDIT")
def test_next_request_edits_scope(server: Server) -> None:
    with server.http() as client:
        data = client.get("/routing/mw-edit/x?original=1").json()
    expect_equal(data.get("edited"), "by-middleware", "scope key set through NextRequest")
    expect_equal(data.get("query_string"), "edited=1", "query_string set through NextRequest")


@pytest.mark.requirement("MW-NEXT-RESPONSE-HEADERS")
def test_next_response_headers(server: Server) -> None:
    with server.http() as client:
        response = client.get("/routing/mw-headers/x")
    expect_equal(response.status_code, 201, "status of the inner app")
    expect_equal(response.headers.get("x-middleware"), "added", "header added by the handler")
    expect_equal(response.headers.get("x-inner"), "kept", "header of the inner app")
    expect_equal(response.content, b"inner body", "body of the inner app (two messages)")


@pytest.mark.requirement("MW-STREAM-CHUNKS")
def test_stream_chunks_through_middleware(server: Server) -> None:
    token = uuid.uuid4().hex
    release(server, token)  # the generator's gate is open from the start
    with server.http() as client:
        response = client.get(f"/routing/mw-stream/{token}")
    expect_equal(response.status_code, 200, "status")
    expected = b"".join(chunk(index) for index in range(STREAM_CHUNKS))
    expect_equal(response.content, expected, "the 100 chunks, whole and in order")


@pytest.mark.requirement("MW-STREAM-NOT-BUFFERED")
def test_stream_not_buffered(server: Server) -> None:
    token = uuid.uuid4().hex
    request = build_request("GET", f"/routing/mw-stream/{token}", {"Connection": "close"})
    body = b""
    released = False
    try:
        with Connection(
            server.host, server.port, timeout=FIRST_CHUNK_TIMEOUT, total_timeout=15.0
        ) as conn:
            conn.send(request)
            events = conn.events("GET")
            try:
                for event in events:
                    if isinstance(event, Data):
                        body += event.data
                        if body.startswith(chunk(0)):
                            break
                    if isinstance(event, EndOfMessage):
                        break
            except ResponseTimeout:
                expect_true(
                    False,
                    "the first chunk arrives while the inner generator waits",
                    "chunk-000 within 4 s",
                    f"nothing after {body!r}",
                )
            expect_true(
                body.startswith(chunk(0)),
                "the first chunk arrives before the last is produced",
                repr(chunk(0)),
                repr(body[:40]),
            )
            record = result(server, token)
            expect_true(
                isinstance(record, dict) and record.get("produced", STREAM_CHUNKS) < STREAM_CHUNKS,
                "the inner generator has not produced the last chunk when the first arrives",
                f"fewer than {STREAM_CHUNKS} chunks produced",
                repr(record),
            )
            release(server, token)
            released = True
            for event in events:
                if isinstance(event, Data):
                    body += event.data
    finally:
        if not released:
            release(server, token)
    expected = b"".join(chunk(index) for index in range(STREAM_CHUNKS))
    expect_equal(body, expected, "the whole body after the release")


@pytest.mark.requirement("MW-SSE-PASSTHROUGH")
def test_sse_through_middleware(server: Server) -> None:
    stream = read_events(server.host, server.port, "/routing/mw-sse/x", timeout=5, total_timeout=10)
    expect_equal(stream.status, 200, "status")
    media_type = (stream.header("content-type") or "").split(";")[0].strip().lower()
    expect_equal(media_type, "text/event-stream", "Content-Type media type")
    got = [(event.type, event.data, event.last_event_id) for event in stream.events]
    expected = [("first", "one", "1"), ("message", "two\nlines", "1"), ("last", "three", "3")]
    expect_equal(got, expected, "events (type, data, last event id)")
    expect_equal(stream.ended, "eof", "the stream ends with the response")


@pytest.mark.requirement("MW-NEXT-REQUEST-BODY-REFUSED")
def test_next_request_refuses_body_reads(server: Server) -> None:
    try:
        with server.http(timeout=10) as client:
            response = client.post("/routing/mw-body/x", content=b"hello body")
    except httpx.TimeoutException:
        expect_true(
            False,
            "POST through a handler that tries to read the body is answered",
            "an answer within 10 s",
            "no answer: the handler took the body and the app waits for it",
        )
    expect_equal(
        response.headers.get("x-body-read"), "RuntimeError", "await request.body in the handler"
    )
    expect_equal(response.status_code, 200, "status of the wrapped app")
    expect_equal(response.content, b"hello body", "the body the wrapped app read")


@pytest.mark.requirement("MW-EXCEPTION-TO-HANDLER")
def test_exception_reaches_handler(server: Server) -> None:
    with server.http() as client:
        response = client.get("/routing/mw-error/x")
    expect_equal(response.status_code, 500, "status of the handler's response")
    data = response.json()
    expect_contains(data.get("caught", []), "LookupError", "exception the handler caught")
    expect_equal(data.get("message"), "inner app failed on purpose", "its message")
