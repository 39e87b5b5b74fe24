"""HTTP/1.1 connection management (requirements/srv-connection.toml)."""

from __future__ import annotations

import json
import socket
import struct
import time

import pytest

from conformance.harness import expect_equal, expect_true
from conformance.harness.server import Server
from conformance.srv_wire import (
    CANARY,
    SMUGGLED,
    Exchange,
    expect_clean,
    expect_no_smuggling,
    parse_all,
    request,
    roundtrip,
)

# Every case reads or writes HTTP/1.1 (or WebSocket) bytes: none is generated for h2c/h2
# columns (harness/transport.py); HTTP/2 twins live in test_h2_twins.py.
pytestmark = pytest.mark.h1_only


def paths(exchange: Exchange) -> list[str]:
    found = []
    for response in exchange.responses:
        try:
            found.append(json.loads(response.body)["scope"]["dict"]["path"]["str"])
        except (ValueError, KeyError, TypeError):
            found.append(response.body.decode("latin-1"))
    return found


@pytest.mark.requirement("SRV-CONN-KEEP-ALIVE")
def test_keep_alive(server: Server) -> None:
    statuses = []
    with server.connect() as sock:
        for index in range(3):
            received = b""
            try:
                sock.sendall(request("GET", f"/srvhttp/status/200?n={index}"))
                sock.settimeout(3)
                while received.count(b"twenty-nine bytes of content.") < 1:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    received += chunk
            except OSError as error:  # the server closed the connection
                received = repr(error).encode()
            statuses.append(received[:12])
    expect_equal(statuses, [b"HTTP/1.1 200"] * 3, "three requests on one connection")


@pytest.mark.requirement("SRV-CONN-PIPELINE-ORDER")
def test_pipeline_order(server: Server) -> None:
    data = (
        request("GET", "/srvhttp/sleep/first?ms=100")
        + request("GET", "/srvhttp/sleep/second")
        + request("GET", "/srvhttp/sleep/third", close=True)
    )
    exchange = roundtrip(server, data, ("GET", "GET", "GET"))
    expect_clean(exchange)
    expect_equal(
        [r.body for r in exchange.responses],
        [b"/srvhttp/sleep/first", b"/srvhttp/sleep/second", b"/srvhttp/sleep/third"],
        "bodies in request order",
    )


@pytest.mark.requirement("SRV-CONN-PIPELINE-BODIES")
def test_pipeline_bodies(server: Server) -> None:
    data = (
        request("POST", "/srvhttp/echo/a", ["Content-Length: 3"], b"AAA")
        + request(
            "POST", "/srvhttp/echo/b", ["Transfer-Encoding: chunked"], b"2\r\nBB\r\n0\r\n\r\n"
        )
        + request("GET", "/srvhttp/echo/c", close=True)
    )
    exchange = roundtrip(server, data, ("POST", "POST", "GET"))
    expect_clean(exchange)
    expect_equal(
        paths(exchange),
        ["/srvhttp/echo/a", "/srvhttp/echo/b", "/srvhttp/echo/c"],
        "responses in order",
    )
    bodies = [json.loads(r.body)["body"] for r in exchange.responses]
    expect_equal(bodies, ["AAA", "BB", ""], "each app's own body")


@pytest.mark.requirement("SRV-CONN-CLIENT-CLOSE")
def test_client_close(server: Server) -> None:
    with server.connect() as sock:
        sock.sendall(request("GET", "/srvhttp/echo/first", close=True))
        received = b""
        sock.settimeout(1.5)
        try:
            while not parse_all(received, ("GET",), eof=False)[0]:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                received += chunk
            sock.sendall(CANARY)  # after the response: the server must not process it
            while chunk := sock.recv(65536):
                received += chunk
            closed = True
        except TimeoutError:
            closed = False
        except (BrokenPipeError, ConnectionResetError):
            closed = True
    responses, error, rest = parse_all(received, ("GET", "GET"), eof=closed)
    exchange = Exchange(received, responses, closed, False, not closed, error, rest)
    expect_true(
        exchange.statuses == [200] and exchange.closed and not exchange.canary(),
        "close after the response to a request with Connection: close",
        "one response, then the connection closes",
        exchange.summary(),
    )


@pytest.mark.requirement("SRV-CONN-CLIENT-CLOSE-ANNOUNCED")
def test_client_close_announced(server: Server) -> None:
    exchange = roundtrip(server, request("GET", "/srvhttp/status/200", close=True))
    response = exchange.first
    expect_true(response is not None, "a response", "200", exchange.summary())
    assert response is not None
    options = [
        v.strip().lower()
        for value in response.header_values("connection")
        for v in value.split(",")
    ]
    expect_true("close" in options, "Connection: close in the response", "close", repr(options))


@pytest.mark.requirement("SRV-CONN-APP-CLOSE")
def test_app_close(server: Server) -> None:
    exchange = roundtrip(server, request("GET", "/srvhttp/headers/close") + CANARY, ("GET", "GET"))
    expect_true(
        exchange.statuses == [200] and exchange.closed and not exchange.canary(),
        "close after a response carrying Connection: close",
        "one response, then the connection closes",
        exchange.summary(),
    )


def unread(server: Server, fields: list[str], body: bytes) -> Exchange:
    exchange = roundtrip(
        server, request("POST", "/srvhttp/noread", fields, body) + CANARY, ("POST", "GET")
    )
    expect_no_smuggling(exchange)
    expect_clean(exchange)
    expect_true(
        exchange.statuses[:1] == [200] and (exchange.canary() or exchange.closed),
        "the unread body is skipped or the connection closed",
        "200, then the canary's answer or a close",
        exchange.summary(),
    )
    return exchange


@pytest.mark.requirement("SRV-CONN-UNREAD-BODY")
def test_unread_body(server: Server) -> None:
    unread(server, [f"Content-Length: {len(SMUGGLED)}"], SMUGGLED)


@pytest.mark.requirement("SRV-CONN-UNREAD-CHUNKED-BODY")
def test_unread_chunked_body(server: Server) -> None:
    body = format(len(SMUGGLED), "x").encode() + b"\r\n" + SMUGGLED + b"\r\n0\r\n\r\n"
    unread(server, ["Transfer-Encoding: chunked"], body)


@pytest.mark.requirement("SRV-CONN-UNREAD-LARGE-BODY")
def test_unread_large_body(server: Server) -> None:
    body = (SMUGGLED * (256 * 1024 // len(SMUGGLED) + 1))[: 256 * 1024]
    unread(server, [f"Content-Length: {len(body)}"], body)


@pytest.mark.requirement("SRV-CONN-HALF-CLOSE")
def test_half_close(server: Server) -> None:
    exchange = roundtrip(server, request("GET", "/srvhttp/status/200"), half_close=True)
    expect_true(
        exchange.closed,
        "the server closes a half-closed connection",
        "a response then a close, or a close",
        exchange.summary(),
    )
    if exchange.responses:
        expect_equal(exchange.statuses, [200], "the answer before the close")


@pytest.mark.requirement("SRV-CONN-CLIENT-RESET")
def test_client_reset(server: Server) -> None:
    sock = server.connect()
    sock.sendall(request("GET", "/srvhttp/stream"))
    sock.settimeout(3)
    try:
        sock.recv(10)
    except TimeoutError:
        pass
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()
    time.sleep(0.05)
    exchange = roundtrip(server, request("GET", "/srvhttp/status/200", close=True))
    expect_equal(exchange.statuses, [200], "a new connection after a reset one")
