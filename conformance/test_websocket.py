# Over 700 lines on purpose: one case per WebSocket requirement of the implementation, in
# catalogue order, sharing the result-polling helpers.
"""WebSocket requirements (conformance/requirements/websocket.toml) through real servers.

Clients: the ``websockets`` sync client (every ``recv`` bounded) and, where the bytes of a frame
matter, :class:`RawWebSocket` on a plain socket. Scenarios that end with the client closing
record what the app saw; the case polls ``/websocket/result/<token>`` (bounded).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import socket
import struct
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.http11 import Response
from websockets.sync.client import ClientConnection, connect

from conformance.answers import json_answer
from conformance.budget import BOUNDED, Budget, budget_fixture  # noqa: F401 (the fixture "budget")
from conformance.harness import (
    expect_equal,
    expect_in,
    expect_true,
    expect_type,
    not_applicable,
    polling,
    require_offer,
)
from conformance.harness.server import Server

TIMEOUT = 5.0
ECHO_TIMEOUT = 2.0  # a local echo takes milliseconds; a dropped one fails sooner
RESULT_POLL = 0.02
MiB = 1 << 20
DENIAL = "websocket.http.response"
HYPOTHESIS = BOUNDED

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


@pytest.fixture(autouse=True)
def _offers_websocket(server: Server) -> None:
    """Every case here needs WebSocket: not-applicable where the configuration lacks it."""
    require_offer(server, "websocket")


# -- clients --------------------------------------------------------------------------------------


@contextlib.contextmanager
def open_ws(
    server: Server,
    path: str,
    *,
    subprotocols: list[str] | None = None,
    headers: dict[str, str] | None = None,
    sock: socket.socket | None = None,
) -> Iterator[ClientConnection]:
    """A ``websockets`` client with open/close timeouts, no compression, 4 MiB messages."""
    with connect(
        server.ws_url + path,
        sock=sock,
        subprotocols=subprotocols,  # type: ignore[arg-type]
        additional_headers=headers,
        open_timeout=TIMEOUT,
        close_timeout=TIMEOUT,
        max_size=4 * MiB,
        compression=None,
        proxy=None,
    ) as ws:
        yield ws


def recv_json(ws: ClientConnection) -> Any:
    message = ws.recv(timeout=TIMEOUT)
    expect_type(message, str, "the app's report is a text message")
    return json.loads(message)


def handshake(ws: ClientConnection) -> Response:
    """The server's handshake response (set once the connection is open)."""
    assert ws.response is not None
    return ws.response


def final_report(ws: ClientConnection) -> Any:
    """The app's JSON report, then its close frame (the app closes after reporting)."""
    report = recv_json(ws)
    recv_close(ws)
    return report


def recv_close(ws: ClientConnection) -> tuple[int, str]:
    """Read until the server's close frame; answer its (code, reason)."""
    try:
        while True:
            ws.recv(timeout=TIMEOUT)
    except ConnectionClosed as closed:
        received = closed.rcvd
        expect_true(received is not None, "the server closes", "a close frame", "none")
        assert received is not None
        return received.code, received.reason


def rejected(server: Server, path: str) -> Response:
    """The HTTP response that refused the handshake."""
    try:
        with open_ws(server, path):
            pass
    except InvalidStatus as error:
        return error.response
    expect_true(
        False, "the handshake is refused", "an HTTP error status", "101 Switching Protocols"
    )
    raise AssertionError("unreachable")


def poll_result(server: Server, token: str) -> Any:
    """What the app recorded under ``token``, polled every 20 ms for at most 5 s."""
    with server.http() as client:
        return polling.poll_result(
            lambda: json_answer(client.get(f"/websocket/result/{token}"), "the result record"),
            lambda r: r is not None,
            "the app records the outcome",
            seconds=TIMEOUT,
        )


def spec_tuple(spec: str) -> tuple[int, ...]:
    return tuple(int(part) for part in spec.split("."))


def new_token() -> str:
    return uuid.uuid4().hex


def raised(outcome: dict[str, Any], what: str) -> dict[str, Any]:
    """The ``raised`` part of an app's outcome; fail when the call returned."""
    expect_true("raised" in outcome, what, "an exception", f"returned {outcome.get('ok')!r}")
    return outcome["raised"]  # type: ignore[no-any-return]


def expect_runtime_error(outcome: dict[str, Any], what: str) -> None:
    """API.md: a message not valid in the state is refused with RuntimeError (its wording is
    not part of the contract)."""
    error = raised(outcome, what)
    expect_true(
        "RuntimeError" in error["mro"],
        f"{what}: a RuntimeError",
        "RuntimeError or a subclass",
        f"{error['type']} (mro {error['mro']}): {error.get('message', '')}",
    )


def expect_refused(outcome: dict[str, Any], what: str) -> None:
    """A message not valid in the state is refused by an exception of the implementation.

    The reference page names no class: upstream 0.23.1 asserts (``AssertionError``), this
    implementation raises ``RuntimeError``; either prevents the message (the app's guard drops
    any message that reaches it, so a call that returns is the failure).
    """
    error = raised(outcome, what)
    expect_true(
        "Exception" in error["mro"],
        f"{what}: refused with an exception",
        "an Exception subclass (RuntimeError here, AssertionError upstream)",
        f"{error['type']} (mro {error['mro']}): {error.get('message', '')}",
    )


def expect_clear_error(outcome: dict[str, Any], what: str) -> None:
    """An exception (any ``Exception``), never a value of the wrong type."""
    error = raised(outcome, what)
    expect_true(
        "Exception" in error["mro"],
        f"{what}: an Exception",
        "an Exception subclass",
        f"{error['type']} (mro {error['mro']})",
    )


class RawWebSocket:
    """A minimal RFC 6455 client on a plain socket: masked frames out, frames in, bounded."""

    def __init__(self, server: Server, path: str) -> None:
        self.sock = server.connect(TIMEOUT)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {server.host}:{server.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            expect_true(bool(chunk), "handshake", "a 101 response", repr(self.buffer))
            self.buffer += chunk
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        self.status = int(head.split(b" ", 2)[1])

    def close(self) -> None:
        self.sock.close()

    def send_frame(self, opcode: int, payload: bytes, *, fin: bool = True) -> None:
        mask = os.urandom(4)
        first = (0x80 if fin else 0) | opcode
        size = len(payload)
        if size < 126:
            header = struct.pack("!BB", first, 0x80 | size)
        elif size < 1 << 16:
            header = struct.pack("!BBH", first, 0x80 | 126, size)
        else:
            header = struct.pack("!BBQ", first, 0x80 | 127, size)
        masked = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def _read(self, count: int) -> bytes | None:
        while len(self.buffer) < count:
            try:
                chunk = self.sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                return None
            if not chunk:
                return None
            self.buffer += chunk
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def read_frame(self) -> tuple[bool, int, bytes] | None:
        """``(fin, opcode, payload)`` of the next frame; ``None`` at EOF, reset or timeout."""
        head = self._read(2)
        if head is None:
            return None
        fin, opcode, size = bool(head[0] & 0x80), head[0] & 0x0F, head[1] & 0x7F
        if size == 126:
            extended = self._read(2)
            size = struct.unpack("!H", extended)[0] if extended else 0
        elif size == 127:
            extended = self._read(8)
            size = struct.unpack("!Q", extended)[0] if extended else 0
        payload = self._read(size)
        return None if payload is None else (fin, opcode, payload)

    def read_message(self) -> tuple[int, bytes] | None:
        """The next data or close message (pings answered, fragments joined); ``None`` at EOF."""
        parts: list[bytes] = []
        kind = None
        while True:
            frame = self.read_frame()
            if frame is None:
                return None
            fin, opcode, payload = frame
            if opcode == OP_PING:
                self.send_frame(OP_PONG, payload)
                continue
            if opcode == OP_CLOSE:
                return opcode, payload
            kind = opcode if kind is None else kind
            parts.append(payload)
            if fin:
                return kind, b"".join(parts)


# -- handshake ------------------------------------------------------------------------------------


@pytest.mark.requirement("WS-ACCEPT-HANDSHAKE")
def test_accept_handshake(server: Server) -> None:
    with open_ws(server, "/websocket/ws/accept") as ws:
        expect_equal(handshake(ws).status_code, 101, "handshake status")
        expect_equal(final_report(ws).get("accepted"), True, "text after accept()")


@pytest.mark.requirement("WS-ACCEPT-AFTER-CONNECT")
def test_accept_after_receiving_connect(server: Server) -> None:
    with open_ws(server, "/websocket/ws/accept-after-connect") as ws:
        expect_equal(final_report(ws), {"first": "websocket.connect"}, "what receive() answered")


@pytest.mark.requirement("WS-ACCEPT-NO-PROTOCOL-HEADER")
def test_no_subprotocol_offered_no_header(server: Server) -> None:
    with open_ws(server, "/websocket/ws/subprotocol") as ws:
        final_report(ws)
        header = handshake(ws).headers.get_all("Sec-WebSocket-Protocol")
    expect_equal(header, [], "Sec-WebSocket-Protocol in the 101 response")


@pytest.mark.requirement("WS-ACCEPT-DECLINE-SUBPROTOCOL")
def test_declined_subprotocol_no_header(server: Server) -> None:
    with open_ws(server, "/websocket/ws/subprotocol", subprotocols=["chat.v1", "chat.v2"]) as ws:
        final_report(ws)
        header = handshake(ws).headers.get_all("Sec-WebSocket-Protocol")
    expect_equal(header, [], "Sec-WebSocket-Protocol when accept() chose none")


@pytest.mark.requirement("WS-ACCEPT-SUBPROTOCOL")
def test_chosen_subprotocol_echoed(server: Server) -> None:
    path = "/websocket/ws/subprotocol?choose=chat.v2"
    with open_ws(server, path, subprotocols=["chat.v1", "chat.v2"]) as ws:
        final_report(ws)
        header = handshake(ws).headers.get_all("Sec-WebSocket-Protocol")
    expect_equal(header, ["chat.v2"], "Sec-WebSocket-Protocol of the 101 response")


@pytest.mark.requirement("WS-CONN-SUBPROTOCOLS")
def test_offered_subprotocols_in_order(server: Server) -> None:
    with open_ws(server, "/websocket/ws/subprotocol", subprotocols=["chat.v1", "chat.v2"]) as ws:
        report = final_report(ws)
    expect_equal(report["offered"], ["chat.v1", "chat.v2"], "websocket['subprotocols']")


@pytest.mark.requirement("WS-ACCEPT-HEADERS")
def test_accept_with_headers(server: Server) -> None:
    with open_ws(server, "/websocket/ws/accept-headers") as ws:
        report = final_report(ws)
        value = handshake(ws).headers.get("x-accept-extra")
    if spec_tuple(report["spec_version"]) < (2, 1):
        not_applicable(f"the server declares spec_version {report['spec_version']} (< 2.1)")
    # An extension (upstream's accept() takes only subprotocol): its absence is a failure of
    # this EXT requirement, reported apart from the API.
    expect_true(report["supported"], "accept() takes headers", "accept(headers=...)", "no")
    expect_equal(value, "yes", "x-accept-extra in the 101 response")


# -- messages -------------------------------------------------------------------------------------


@pytest.mark.requirement("WS-TEXT-ROUNDTRIP")
@HYPOTHESIS
@given(messages=st.lists(st.text(min_size=1, max_size=200), min_size=1, max_size=4))
@example(messages=["héllo wörld", "\U0001f600 astral", "nul\x00 and \u2028"])
def test_text_round_trip(server: Server, budget: Budget, messages: list[str]) -> None:
    budget.check()
    with open_ws(server, "/websocket/ws/echo-text") as ws:
        for message in messages:
            ws.send(message)
            expect_equal(ws.recv(timeout=TIMEOUT), message, "echoed text")


@pytest.mark.requirement("WS-TEXT-IS-TEXT-FRAME")
def test_text_and_binary_frame_kinds(server: Server) -> None:
    with open_ws(server, "/websocket/ws/kinds") as ws:
        expect_equal(ws.recv(timeout=TIMEOUT), "héllo", "send_text arrives as a text message")
        expect_equal(ws.recv(timeout=TIMEOUT), b"\x00h\xff", "send_bytes arrives as binary")


@pytest.mark.requirement("WS-BYTES-ROUNDTRIP")
def test_bytes_round_trip(server: Server) -> None:
    with open_ws(server, "/websocket/ws/echo-bytes") as ws:
        for message in (bytes(range(256)), b"\xff" * 3):
            ws.send(message)
            expect_equal(ws.recv(timeout=TIMEOUT), message, "echoed bytes")


@pytest.mark.requirement("WS-EMPTY-MESSAGE")
def test_empty_messages(server: Server) -> None:
    with open_ws(server, "/websocket/ws/echo-text") as ws:
        ws.send("")
        expect_equal(ws.recv(timeout=ECHO_TIMEOUT), "", "echoed empty text")
    with open_ws(server, "/websocket/ws/echo-bytes") as ws:
        ws.send(b"")
        expect_equal(ws.recv(timeout=ECHO_TIMEOUT), b"", "echoed empty bytes")


@pytest.mark.requirement("WS-RECEIVE-SEND-RAW")
def test_receive_and_send_asgi_messages(server: Server) -> None:
    with open_ws(server, "/websocket/ws/raw") as ws:
        ws.send("raw text")
        message = recv_json(ws)
        expect_equal(message.get("type"), "websocket.receive", "receive()['type']")
        expect_equal(message.get("text"), "raw text", "receive()['text']")
        expect_equal(ws.recv(timeout=TIMEOUT), b"raw\x00\xff", "send() of a bytes message")
        recv_close(ws)


def large_text() -> str:
    """Exactly 1 MiB of UTF-8: 64 ASCII bytes and 'é€' (5 bytes) repeated, padded with 'x'."""
    unit = "0123456789abcdef" * 4 + "é€"
    count = MiB // len(unit.encode())
    return unit * count + "x" * (MiB - count * len(unit.encode()))


@pytest.mark.requirement("WS-LARGE-TEXT")
def test_large_text(server: Server) -> None:
    text = large_text()
    assert len(text.encode()) == MiB
    with open_ws(server, "/websocket/ws/echo-text") as ws:
        ws.send(text)
        echoed = ws.recv(timeout=TIMEOUT)
    expect_equal(len(echoed), len(text), "length of the echoed 1 MiB text")
    expect_true(echoed == text, "1 MiB text echoed unchanged", "the same text", "different text")


@pytest.mark.requirement("WS-LARGE-BYTES")
def test_large_bytes(server: Server) -> None:
    data = bytes(range(251)) * (MiB // 251) + b"\xfe" * (MiB % 251)
    with open_ws(server, "/websocket/ws/echo-bytes") as ws:
        ws.send(data)
        echoed = ws.recv(timeout=TIMEOUT)
    expect_equal(len(echoed), MiB, "length of the echoed 1 MiB message")
    expect_true(echoed == data, "1 MiB bytes echoed unchanged", "the same bytes", "different bytes")


@pytest.mark.requirement("WS-FRAGMENTED-TEXT")
def test_fragmented_text(server: Server) -> None:
    with open_ws(server, "/websocket/ws/echo-text") as ws:
        ws.send(["frag", "mented ", "tëxt"])
        expect_equal(ws.recv(timeout=TIMEOUT), "fragmented tëxt", "one whole text message")


@pytest.mark.requirement("WS-FRAGMENTED-BYTES")
def test_fragmented_bytes(server: Server) -> None:
    with open_ws(server, "/websocket/ws/echo-bytes") as ws:
        ws.send([b"\x00\x01", b"\x02", b"\xff" * 10])
        expected = b"\x00\x01\x02" + b"\xff" * 10
        expect_equal(ws.recv(timeout=TIMEOUT), expected, "one whole binary message")


@pytest.mark.requirement("WS-FRAGMENTED-SPLIT-UTF8")
def test_fragments_split_inside_utf8(server: Server) -> None:
    raw = RawWebSocket(server, "/websocket/ws/echo-text")
    try:
        expect_equal(raw.status, 101, "handshake status")
        raw.send_frame(OP_TEXT, b"x\xe2\x82", fin=False)
        raw.send_frame(OP_CONT, b"\xac", fin=False)
        raw.send_frame(OP_CONT, b"y")
        message = raw.read_message()
        expect_equal(message, (OP_TEXT, "x€y".encode()), "the echoed whole message")
        raw.send_frame(OP_CLOSE, struct.pack("!H", 1000))
    finally:
        raw.close()


@pytest.mark.requirement("WS-INVALID-UTF8-FAILS")
def test_invalid_utf8_fails_connection(server: Server) -> None:
    raw = RawWebSocket(server, "/websocket/ws/echo-text")
    try:
        expect_equal(raw.status, 101, "handshake status")
        raw.send_frame(OP_TEXT, b"ok\xff\xfe")
        message = raw.read_message()
    finally:
        raw.close()
    expect_true(
        message is None or message[0] == OP_CLOSE,
        "invalid UTF-8 fails the connection",
        "a close frame or the TCP connection closed",
        repr(message),
    )
    if message is not None and len(message[1]) >= 2:
        code = struct.unpack("!H", message[1][:2])[0]
        expect_equal(code, 1007, "close code for invalid UTF-8 (RFC 6455 §7.4.1)")


@pytest.mark.requirement("WS-RECEIVE-TEXT-GOT-BINARY")
def test_receive_text_of_binary(server: Server) -> None:
    with open_ws(server, "/websocket/ws/wrong-type?want=text") as ws:
        ws.send(b"binary")
        outcome = final_report(ws)
    expect_clear_error(outcome, "receive_text() of a binary message")


@pytest.mark.requirement("WS-RECEIVE-BYTES-GOT-TEXT")
def test_receive_bytes_of_text(server: Server) -> None:
    with open_ws(server, "/websocket/ws/wrong-type?want=bytes") as ws:
        ws.send("text")
        outcome = final_report(ws)
    expect_clear_error(outcome, "receive_bytes() of a text message")


def iterate(server: Server, kind: str, messages: list[Any]) -> Any:
    token = new_token()
    with open_ws(server, f"/websocket/ws/iter/{kind}/{token}") as ws:
        expect_equal(ws.recv(timeout=TIMEOUT), "ready", "the app is iterating")
        for message in messages:
            ws.send(message)
    return poll_result(server, token)


@pytest.mark.requirement("WS-ITER-TEXT-ENDS")
def test_iter_text_ends_on_close(server: Server) -> None:
    record = iterate(server, "text", ["one", "two", "thrée"])
    expect_equal(record.get("raised"), None, "exception out of iter_text()")
    expect_equal(record["items"], ["one", "two", "thrée"], "messages yielded in order")
    expect_equal(record["ended"], True, "iter_text() ended")


@pytest.mark.requirement("WS-ITER-BYTES-ENDS")
def test_iter_bytes_ends_on_close(server: Server) -> None:
    record = iterate(server, "bytes", [b"\x01", b"", b"\xff\x00"])
    expect_equal(record.get("raised"), None, "exception out of iter_bytes()")
    items = [{"bytes": "\x01"}, {"bytes": ""}, {"bytes": "\xff\x00"}]
    expect_equal(record["items"], items, "messages yielded in order")
    expect_equal(record["ended"], True, "iter_bytes() ended")


# -- closing --------------------------------------------------------------------------------------


@pytest.mark.requirement("WS-CLOSE-DEFAULT-CODE")
def test_close_default_code(server: Server) -> None:
    with open_ws(server, "/websocket/ws/close") as ws:
        code, _ = recv_close(ws)
    expect_equal(code, 1000, "close code of close()")


@pytest.mark.requirement("WS-CLOSE-DEFAULT-NO-REASON")
def test_close_default_payload_bytes(server: Server) -> None:
    raw = RawWebSocket(server, "/websocket/ws/close")
    try:
        expect_equal(raw.status, 101, "handshake status")
        message = raw.read_message()
        if message is not None and message[0] == OP_CLOSE:
            raw.send_frame(OP_CLOSE, message[1])
    finally:
        raw.close()
    expect_equal(message, (OP_CLOSE, b"\x03\xe8"), "close frame payload of close()")


@pytest.mark.requirement("WS-CLOSE-CUSTOM-CODE")
@HYPOTHESIS
@given(code=st.integers(3000, 4999))
@example(code=4000)
def test_close_custom_code(server: Server, budget: Budget, code: int) -> None:
    budget.check()
    with open_ws(server, f"/websocket/ws/close?code={code}") as ws:
        received, _ = recv_close(ws)
    expect_equal(received, code, "close code")


@pytest.mark.requirement("WS-CLOSE-CUSTOM-REASON")
def test_close_custom_reason(server: Server) -> None:
    with open_ws(server, "/websocket/ws/accept") as ws:
        spec = final_report(ws)["spec_version"]
    if spec_tuple(spec) < (2, 3):
        not_applicable(f"the server declares spec_version {spec} (< 2.3)")
    with open_ws(server, "/websocket/ws/close?code=4000&reason=custom%20reason%20%C3%A9") as ws:
        code, reason = recv_close(ws)
    expect_equal(code, 4000, "close code")
    expect_equal(reason, "custom reason é", "close reason")


@pytest.mark.requirement("WS-CLOSE-TWICE")
def test_close_twice(server: Server) -> None:
    token = new_token()
    with open_ws(server, f"/websocket/ws/close-twice/{token}") as ws:
        code, _ = recv_close(ws)
    record = poll_result(server, token)
    expect_equal(record["first"].get("raised"), None, "first close() raised")
    expect_equal(record["second"].get("raised"), None, "second close() raised")
    expect_equal(code, 4001, "the client sees the first close code")


def disconnect_record(server: Server, code: int | None, reason: str = "") -> Any:
    token = new_token()
    with open_ws(server, f"/websocket/ws/disconnect/{token}") as ws:
        expect_equal(ws.recv(timeout=TIMEOUT), "ready", "the app is receiving")
        ws.close(code=code, reason=reason)  # type: ignore[arg-type]  # None: no status code
    return poll_result(server, token)


@pytest.mark.requirement("WS-DISCONNECT-CODE")
def test_disconnect_code(server: Server) -> None:
    record = disconnect_record(server, 4001, "client bye")
    outcome = record["disconnect"]
    expect_true("raised" in outcome, "receive_text() raises", "an exception", repr(outcome))
    expect_equal(outcome["is_disconnect"], True, f"a WebSocketDisconnect ({outcome['raised']})")
    expect_in("Exception", outcome["raised"]["mro"], "WebSocketDisconnect is an Exception")
    raw_code = (record["raw"] or {}).get("code")
    expect_equal(raw_code, 4001, "code the server put in websocket.disconnect")
    expect_equal(outcome["code"], 4001, "WebSocketDisconnect.code")


@pytest.mark.requirement("WS-DISCONNECT-CODE-FROM-SERVER")
def test_disconnect_code_passed_through(server: Server) -> None:
    record = disconnect_record(server, 4001, "client bye")
    expect_true(record["raw"] is not None, "a disconnect", "websocket.disconnect", "none")
    expect_equal(
        record["disconnect"].get("code"), record["raw"]["code"], "WebSocketDisconnect.code"
    )


@pytest.mark.requirement("WS-DISCONNECT-REASON")
def test_disconnect_reason(server: Server) -> None:
    record = disconnect_record(server, 4001, "client bye")
    given_reason = (record["raw"] or {}).get("reason")
    if not given_reason:
        not_applicable("the server puts no reason in websocket.disconnect")
    outcome = record["disconnect"]
    expect_equal(outcome.get("reason"), given_reason, "WebSocketDisconnect.reason")


@pytest.mark.requirement("WS-DISCONNECT-NO-STATUS")
def test_disconnect_without_status(server: Server) -> None:
    record = disconnect_record(server, None)
    raw_code = (record["raw"] or {}).get("code")
    expect_equal(raw_code, 1005, "code the server put in websocket.disconnect")
    expect_equal(record["disconnect"].get("code"), 1005, "WebSocketDisconnect.code")


@pytest.mark.requirement("WS-CLOSE-AFTER-DISCONNECT")
def test_close_after_disconnect(server: Server) -> None:
    record = disconnect_record(server, 1000)
    expect_equal(record["close_after"].get("raised"), None, "close() after the disconnect raised")


@pytest.mark.requirement("WS-STATE-SEND-AFTER-DISCONNECT")
def test_send_after_disconnect(server: Server) -> None:
    record = disconnect_record(server, 1000)
    expect_runtime_error(record["send_after"], "send_text() after the disconnect")


@pytest.mark.requirement("WS-STATE-RECEIVE-AFTER-DISCONNECT")
def test_receive_after_disconnect(server: Server) -> None:
    record = disconnect_record(server, 1000)
    expect_runtime_error(record["receive_after"], "receive_text() after the disconnect")


def names(server: Server) -> Any:
    with server.http() as client:
        response = client.get("/websocket/names")
    return json_answer(response, "the names endpoint")


@pytest.mark.requirement("WS-DISCONNECT-CLASS")
def test_disconnect_class(server: Server) -> None:
    outcome = names(server)["disconnect"]
    expect_equal(outcome.get("raised"), None, "WebSocketDisconnect(4002, 'why') raised")
    expected = {"is_exception": True, "code": 4002, "reason": "why"}
    expect_equal(outcome["ok"], expected, "WebSocketDisconnect(4002, 'why')")


# -- denial ---------------------------------------------------------------------------------------


@pytest.mark.requirement("WS-CLOSE-BEFORE-ACCEPT")
def test_close_before_accept(server: Server) -> None:
    expect_equal(rejected(server, "/websocket/ws/reject").status_code, 403, "handshake status")


@pytest.mark.requirement("WS-DENIAL-STATUS")
def test_denial_status(server: Server) -> None:
    expected = 401 if server.offers(DENIAL) else 403
    expect_equal(rejected(server, "/websocket/ws/deny").status_code, expected, "denial status")


@pytest.mark.requirement("WS-DENIAL-HEADERS")
def test_denial_headers(server: Server) -> None:
    if not server.offers(DENIAL):
        not_applicable("no websocket.http.response extension")
    response = rejected(server, "/websocket/ws/deny")
    expect_equal(response.headers.get("x-denied"), "yes", "x-denied")
    expect_equal(response.headers.get("content-type"), "text/plain; charset=utf-8", "content-type")


@pytest.mark.requirement("WS-DENIAL-BODY")
def test_denial_body(server: Server) -> None:
    if not server.offers(DENIAL):
        not_applicable("no websocket.http.response extension")
    response = rejected(server, "/websocket/ws/deny")
    expect_equal(response.body, b"denied: no token", "denial body")


@pytest.mark.requirement("WS-DENIAL-FALLBACK")
def test_denial_fallback(server: Server) -> None:
    status = rejected(server, "/websocket/ws/deny-fallback").status_code
    expect_equal(status, 403, "handshake status without the extension")


# -- state machine --------------------------------------------------------------------------------


@pytest.mark.requirement("WS-STATE-SEND-BEFORE-ACCEPT")
def test_send_before_accept(server: Server) -> None:
    with open_ws(server, "/websocket/ws/send-before-accept") as ws:
        outcome = final_report(ws)
    expect_refused(outcome, "send_text() before accept()")


@pytest.mark.requirement("WS-STATE-RECEIVE-BEFORE-ACCEPT")
def test_receive_before_accept(server: Server) -> None:
    with open_ws(server, "/websocket/ws/receive-before-accept") as ws:
        outcome = final_report(ws)
    expect_refused(outcome, "receive_text() before accept()")
    expect_equal(
        outcome.get("read_during_call"), [], "messages receive_text() read before refusing"
    )


@pytest.mark.requirement("WS-STATE-ACCEPT-TWICE")
def test_accept_twice(server: Server) -> None:
    with open_ws(server, "/websocket/ws/accept-twice") as ws:
        outcome = final_report(ws)
    expect_refused(outcome, "a second accept()")


@pytest.mark.requirement("WS-STATE-SEND-AFTER-CLOSE")
def test_send_after_close(server: Server) -> None:
    token = new_token()
    with open_ws(server, f"/websocket/ws/send-after-close/{token}") as ws:
        try:
            extra = ws.recv(timeout=TIMEOUT)
        except ConnectionClosed:
            extra = None
    expect_equal(extra, None, "a message after close()")
    expect_runtime_error(poll_result(server, token), "send_text() after close()")


@pytest.mark.requirement("WS-STATE-ENUM")
def test_state_enum(server: Server) -> None:
    states = names(server)["states"]
    expect_equal(states.get("raised"), None, "iterating WebSocketState raised")
    for name in ("CONNECTING", "CONNECTED", "DISCONNECTED"):
        expect_in(name, states["ok"], "WebSocketState members")


@pytest.mark.requirement("WS-STATE-ATTRIBUTES")
def test_state_attributes(server: Server) -> None:
    token = new_token()
    with open_ws(server, f"/websocket/ws/states/{token}") as ws:
        recv_close(ws)
    record = poll_result(server, token)
    both = {"client_state": "CONNECTING", "application_state": "CONNECTING"}
    expect_equal(record["initial"], both, "states before accept()")
    both = {"client_state": "CONNECTED", "application_state": "CONNECTED"}
    expect_equal(record["accepted"], both, "states after accept()")
    expect_equal(record["closed"]["application_state"], "DISCONNECTED", "after close()")
    expect_equal(record.get("receive", {}).get("ok", {}).get("type"), "websocket.disconnect", "")
    expect_equal(record["disconnected"]["client_state"], "DISCONNECTED", "after the disconnect")


# -- connection properties ------------------------------------------------------------------------

CONN_QUERY = "a=1&a=2&b=&c=caf%C3%A9"


def conn_report(server: Server) -> tuple[Any, int]:
    headers = {"X-Token": "abc", "Cookie": "session=s1; theme=dark"}
    sock = server.connect(TIMEOUT)
    local_port = sock.getsockname()[1]
    with open_ws(server, f"/websocket/ws/conn?{CONN_QUERY}", headers=headers, sock=sock) as ws:
        report = final_report(ws)
    return report, local_port


def ok(report: Any, key: str) -> Any:
    value = report[key]
    expect_true("ok" in value, f"websocket {key}", "a value", f"raised {value.get('raised')}")
    return value["ok"]


@pytest.mark.requirement("WS-CONN-MAPPING")
def test_conn_mapping(server: Server) -> None:
    report, _ = conn_report(server)
    expect_equal(ok(report, "type"), "websocket", "websocket['type']")
    expect_equal(ok(report, "path"), "/websocket/ws/conn", "websocket['path']")
    lengths = ok(report, "len")
    expect_equal(lengths[0], lengths[1], "len(websocket) vs len(scope)")
    expect_equal(ok(report, "keys"), True, "keys() equal the scope's")
    expect_equal(ok(report, "read_only"), True, "no __setitem__")


@pytest.mark.requirement("WS-CONN-URL")
def test_conn_url(server: Server) -> None:
    report, _ = conn_report(server)
    expected = f"ws://{server.host}:{server.port}/websocket/ws/conn?{CONN_QUERY}"
    expect_equal(ok(report, "url"), expected, "str(websocket.url)")


@pytest.mark.requirement("WS-CONN-URL-DEFAULT-SCHEME")
def test_conn_url_default_scheme(server: Server) -> None:
    report, _ = conn_report(server)
    expected = f"ws://{server.host}:{server.port}/websocket/ws/conn?{CONN_QUERY}"
    expect_equal(ok(report, "url_no_scheme"), expected, "url without scope['scheme']")


@pytest.mark.requirement("WS-CONN-URL-WSS")
def test_conn_url_wss(server: Server) -> None:
    report, _ = conn_report(server)
    url = ok(report, "url_wss")
    prefix = f"wss://{server.host}:{server.port}/"
    expect_true(url.startswith(prefix), "url with scheme wss", f"{prefix}...", repr(url))


@pytest.mark.requirement("WS-CONN-HEADERS")
def test_conn_headers(server: Server) -> None:
    report, _ = conn_report(server)
    expect_equal(ok(report, "header"), "abc", "headers['x-token']")
    expect_equal(ok(report, "header_upper"), "abc", "headers['X-TOKEN']")


@pytest.mark.requirement("WS-CONN-QUERY-PARAMS")
def test_conn_query_params(server: Server) -> None:
    report, _ = conn_report(server)
    expect_equal(ok(report, "query_a"), ["1", "2"], "query_params.getlist('a')")
    expect_equal(ok(report, "query_b"), "", "query_params['b'] (blank kept)")
    expect_equal(ok(report, "query_c"), "café", "query_params['c'] (decoded)")


@pytest.mark.requirement("WS-CONN-COOKIES")
def test_conn_cookies(server: Server) -> None:
    report, _ = conn_report(server)
    expect_equal(ok(report, "cookies"), {"session": "s1", "theme": "dark"}, "cookies")


@pytest.mark.requirement("WS-CONN-PATH-PARAMS")
def test_conn_path_params(server: Server) -> None:
    report, _ = conn_report(server)
    expect_equal(ok(report, "path_params"), {}, "path_params without the scope key")
    expect_equal(ok(report, "path_params_set"), {"room": "lobby"}, "path_params from the scope")


@pytest.mark.requirement("WS-CONN-CLIENT")
def test_conn_client(server: Server) -> None:
    report, local_port = conn_report(server)
    host, port = ok(report, "client")
    expect_equal(host, "127.0.0.1", "client host")
    expect_equal(str(port), str(local_port), "client port (the client's local port)")


# -- routing and shortcuts ------------------------------------------------------------------------


@pytest.mark.requirement("WS-SHORTCUT-SESSION")
def test_websocket_session(server: Server) -> None:
    with open_ws(server, "/websocket/session") as ws:
        ws.send("hi")
        report = final_report(ws)
    expect_equal(report["echo"], "hi", "echo through the view")
    expect_equal(report["class"], "WebSocket", "the view's argument")


@pytest.mark.requirement("WS-SHORTCUT-SESSION-HTTP-404")
def test_websocket_session_http(server: Server) -> None:
    with server.http() as client:
        status = client.get("/websocket/session").status_code
    expect_equal(status, 404, "HTTP GET to a websocket_session app")


@pytest.mark.requirement("WS-SHORTCUT-REQUEST-RESPONSE-DENIAL")
def test_request_response_denies_websocket(server: Server) -> None:
    expected = 404 if server.offers(DENIAL) else 403
    status = rejected(server, "/websocket/request-response").status_code
    expect_equal(status, expected, "handshake status")


@pytest.mark.requirement("WS-ROUTER-MATCH")
def test_router_match(server: Server) -> None:
    with open_ws(server, "/websocket/router/lobby") as ws:
        ws.send("routed")
        report = final_report(ws)
    expect_equal(report["echo"], "routed", "echo through the routed view")
    expect_equal(report["path_params"], {"room": "lobby"}, "path_params")


@pytest.mark.requirement("WS-ROUTER-NO-MATCH")
def test_router_no_match(server: Server) -> None:
    expected = 404 if server.offers(DENIAL) else 403
    status = rejected(server, "/websocket/router/a/b").status_code
    expect_equal(status, expected, "handshake status")
