# Over 700 lines on purpose: one case per SRV-WS requirement (79 ids), grouped like RFC 6455's
# sections, sharing the raw-frame helpers at the top.
"""The server's RFC 6455 duties (requirements/srv-websocket.toml), on the wire.

Every case speaks through :mod:`conformance.harness.wsframes`, a raw-frame client whose decoder
refuses any frame a server may not send (masked, reserved bits or opcodes, bad lengths, invalid
UTF-8, data after Close): such a frame fails the case as a protocol violation on the wire. The
apps (``conformance/apps/srv_ws.py``) are plain ASGI: echo, length, and apps that misbehave in
one named way. Where RFC 6455 says "_Fail the WebSocket Connection_", the case accepts a Close
frame or none (the Close frame is a SHOULD, checked apart), and requires that the server stops
processing (no echo, no Pong for a later Ping) and closes TCP within :data:`TIMEOUT`.
"""

from __future__ import annotations

import select
import struct
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from conformance.harness import expect_equal, expect_in, expect_true, require_offer
from conformance.harness.facts import record_fact
from conformance.harness.server import Server, ServerPool
from conformance.harness.wsframes import (
    OP_BINARY,
    OP_CLOSE,
    OP_CONT,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    Frame,
    HandshakeError,
    HandshakeResponse,
    WsConnection,
    WsTimeout,
    accept_key,
    close_payload,
    connect,
    default_headers,
    encode_frame,
    handshake_request,
    new_key,
    open_handshake,
    read_handshake_response,
)

# Every case reads or writes HTTP/1.1 (or WebSocket) bytes: none is generated for h2c/h2
# columns (harness/transport.py); HTTP/2 twins live in test_h2_twins.py.
pytestmark = pytest.mark.h1_only

TIMEOUT = 5.0
#: How long a server may take to end a connection it must fail (a local one needs ms).
FAIL_BOUND = 2.0
PROBE = b"after-the-violation"


# -- helpers --------------------------------------------------------------------------------------


@contextmanager
def ws(
    server: Server, path: str = "/srv_ws/echo", headers: list[tuple[str, str]] | None = None
) -> Iterator[WsConnection]:
    """A checked handshake to ``path`` (``HandshakeError`` if the server gets it wrong)."""
    require_offer(server, "websocket")
    with connect((server.host, server.port), path, extra_headers=headers, timeout=TIMEOUT) as conn:
        yield conn


def handshake(server: Server, headers: list[tuple[str, str]], **request: Any) -> HandshakeResponse:
    """Send a handshake with exactly ``headers``; the server's answer (any status)."""
    require_offer(server, "websocket")
    with server.connect(TIMEOUT) as sock:
        sock.sendall(handshake_request("/srv_ws/echo", headers, **request))
        return read_handshake_response(sock, TIMEOUT)


def valid_headers(server: Server, key: str | None = None) -> list[tuple[str, str]]:
    return default_headers(f"{server.host}:{server.port}", key or new_key())


def replace_header(
    headers: list[tuple[str, str]], name: str, value: str | None
) -> list[tuple[str, str]]:
    """``headers`` with ``name`` set to ``value`` (None: removed)."""
    kept = [(k, v) for k, v in headers if k.lower() != name.lower()]
    return kept if value is None else [*kept, (name, value)]


def first_difference(got: bytes, sent: bytes) -> int | None:
    return next(
        (i for i, pair in enumerate(zip(got, sent, strict=False)) if pair[0] != pair[1]), None
    )


def expect_echo(conn: WsConnection, opcode: int, payload: bytes, what: str) -> None:
    message = conn.recv_message()
    expect_true(
        isinstance(message, tuple),
        what,
        f"the echo of a {len(payload)}-byte message",
        f"{message!r}"[:300],
    )
    assert isinstance(message, tuple)
    expect_equal(message[0], opcode, f"{what}: opcode of the echo")
    expect_true(
        message[1] == payload,
        f"{what}: payload of the echo",
        f"{len(payload)} bytes as sent",
        f"{len(message[1])} bytes, first difference at {first_difference(message[1], payload)}",
    )


def close_cleanly(conn: WsConnection) -> None:
    """Our Close, the server's reply, then its TCP close (the normal end of a case)."""
    conn.send_frame(OP_CLOSE, close_payload(1000))
    while True:
        frame = conn.recv_frame()
        if frame is None or frame.opcode == OP_CLOSE:
            break
    conn.wait_closed()


def try_send(conn: WsConnection, data: bytes, bound: float = 0.2) -> None:
    """Send ``data`` if the connection takes it within ``bound`` (a server that stopped
    reading, or closed, leaves it unsent: that is no failure of the case)."""
    conn.sock.settimeout(bound)
    try:
        conn.sock.sendall(data)
    except OSError:
        pass


def expect_failed(conn: WsConnection, what: str, *, probe: bool = True) -> Frame | None:
    """After a violation: no data and no Pong, TCP closed within TIMEOUT; the Close frame sent.

    With ``probe``, a Ping carrying :data:`PROBE` goes out right after the violation; a server
    that still processes input answers it. Cases judging the Close frame send no probe: a
    server closing with unread input resets the connection, which can drop its Close frame.
    """
    if probe:
        try_send(conn, encode_frame(OP_PING, PROBE))
    close: Frame | None = None
    deadline = time.monotonic() + FAIL_BOUND
    while True:
        frame = conn.recv_frame(max(deadline - time.monotonic(), 0.001))
        if frame is None:
            return close
        if frame.opcode == OP_CLOSE:
            close = frame
            try_send(conn, encode_frame(OP_CLOSE, frame.payload[:2]))
            try:
                conn.wait_closed(max(deadline - time.monotonic(), 0.001))
            except WsTimeout:
                expect_true(
                    False,
                    f"{what}: the server closes TCP after failing the connection (§7.1.7)",
                    f"the TCP connection closed within {FAIL_BOUND:g} s",
                    f"a Close frame {close.close_code()} and the connection left open",
                )
            return close
        expect_true(
            frame.opcode != OP_PONG,
            f"{what}: the server stops processing input (RFC 6455 §7.1.7)",
            "no Pong for the Ping sent after the violation",
            f"a Pong {frame.payload!r}",
        )
        expect_true(
            frame.opcode in (OP_PING,),
            f"{what}: the server fails the connection",
            "a Close frame or the TCP connection closed",
            f"a data frame (opcode {frame.opcode}, {frame.payload[:60]!r})",
        )


def violation_case(
    send_violation: Callable[[WsConnection], None], *, warm_up: bool = True
) -> Callable[[Server], Frame | None]:
    """Echo one message (the connection works), send the violation, expect a failed connection."""

    def run(server: Server) -> Frame | None:
        with ws(server) as conn:
            if warm_up:
                conn.send_frame(OP_TEXT, b"before")
                expect_echo(conn, OP_TEXT, b"before", "a message before the violation")
            send_violation(conn)
            return expect_failed(conn, "after a frame that breaks RFC 6455")

    return run


def define(name: str, requirement: str, body: Callable[[Server], object]) -> None:
    """One case function per requirement (the catalogue test reads ``pytestmark``)."""

    def case(server: Server) -> None:
        body(server)

    case.__name__ = case.__qualname__ = name
    case.__doc__ = body.__doc__
    globals()[name] = pytest.mark.requirement(requirement)(case)


# -- opening handshake ----------------------------------------------------------------------------


def accepted(server: Server, headers: list[tuple[str, str]] | None = None) -> HandshakeResponse:
    key = new_key()
    sock, response = open_handshake(
        (server.host, server.port),
        "/srv_ws/echo",
        headers=valid_headers(server, key) + (headers or []),
        key=key,
        timeout=TIMEOUT,
    )
    sock.close()
    return response


def _key_response(server: Server) -> tuple[str, HandshakeResponse]:
    require_offer(server, "websocket")
    key = new_key()
    sock, response = open_handshake(
        (server.host, server.port),
        "/srv_ws/echo",
        headers=valid_headers(server, key),
        timeout=TIMEOUT,
    )
    sock.close()
    return key, response


@pytest.mark.requirement("SRV-WS-HS-101")
def test_handshake_status_101(server: Server) -> None:
    _, response = _key_response(server)
    expect_equal(response.status, 101, "status of an accepted handshake")


@pytest.mark.requirement("SRV-WS-HS-UPGRADE")
def test_handshake_upgrade_field(server: Server) -> None:
    _, response = _key_response(server)
    expect_equal(response.tokens("upgrade"), ["websocket"], "Upgrade of the 101 response")


@pytest.mark.requirement("SRV-WS-HS-CONNECTION")
def test_handshake_connection_field(server: Server) -> None:
    _, response = _key_response(server)
    expect_true(
        "upgrade" in response.tokens("connection"),
        "Connection of the 101 response",
        "a Connection field with the token Upgrade",
        repr(response.get("connection")),
    )


@pytest.mark.requirement("SRV-WS-HS-ACCEPT")
def test_handshake_accept_key(server: Server) -> None:
    key, response = _key_response(server)
    expect_equal(
        response.get_all("sec-websocket-accept"), [accept_key(key)], "Sec-WebSocket-Accept"
    )


@pytest.mark.requirement("SRV-WS-HS-NO-PROTOCOL")
def test_handshake_no_subprotocol_unless_offered(server: Server) -> None:
    require_offer(server, "websocket")
    response = handshake(server, valid_headers(server))
    expect_equal(response.status, 101, "status")
    expect_equal(response.get("sec-websocket-protocol"), None, "Sec-WebSocket-Protocol")


@pytest.mark.requirement("SRV-WS-HS-PROTOCOL-DECLINED")
def test_handshake_no_subprotocol_when_app_declines(server: Server) -> None:
    require_offer(server, "websocket")
    offered = [("Sec-WebSocket-Protocol", "chat.v1, chat.v2")]
    response = handshake(server, valid_headers(server) + offered)
    expect_equal(response.status, 101, "status")
    expect_equal(response.get("sec-websocket-protocol"), None, "Sec-WebSocket-Protocol")


@pytest.mark.requirement("SRV-WS-HS-PROTOCOL-CHOSEN")
def test_handshake_subprotocol_is_one_offered(server: Server) -> None:
    require_offer(server, "websocket")
    offered = [("Sec-WebSocket-Protocol", "chat.v1, chat.v2")]
    with server.connect(TIMEOUT) as sock:
        sock.sendall(handshake_request("/srv_ws/subprotocol", valid_headers(server) + offered))
        response = read_handshake_response(sock, TIMEOUT)
    expect_equal(response.status, 101, "status")
    expect_equal(response.get_all("sec-websocket-protocol"), ["chat.v1"], "Sec-WebSocket-Protocol")


@pytest.mark.requirement("SRV-WS-HS-NO-EXTENSIONS")
def test_handshake_no_extension_unless_requested(server: Server) -> None:
    response = handshake(server, valid_headers(server))
    expect_equal(response.status, 101, "status")
    expect_equal(response.get("sec-websocket-extensions"), None, "Sec-WebSocket-Extensions")


@pytest.mark.requirement("SRV-WS-HS-UNKNOWN-EXTENSION")
def test_handshake_unknown_extension_not_accepted(server: Server) -> None:
    offered = [("Sec-WebSocket-Extensions", "x-conformance-unknown; level=3")]
    response = handshake(server, valid_headers(server) + offered)
    expect_equal(response.status, 101, "status")
    expect_equal(response.get("sec-websocket-extensions"), None, "Sec-WebSocket-Extensions")


def refused(response: HandshakeResponse, what: str, *, plain_http_ok: bool = False) -> None:
    """Not a WebSocket; a 4xx, or (``plain_http_ok``) the app's plain HTTP answer."""
    other_protocol = response.status == 101 and response.tokens("upgrade") not in (
        [],
        ["websocket"],
    )
    if plain_http_ok and other_protocol and not response.get_all("sec-websocket-accept"):
        return  # switched to the protocol the Upgrade field asked for (h2c): no WebSocket
    expect_true(
        response.status != 101,
        f"{what}: the handshake is not completed",
        "an HTTP error status, never 101",
        f"{response.status} {response.reason}",
    )
    if plain_http_ok and response.status == 200:
        return
    expect_true(
        400 <= response.status < 500,
        f"{what}: answered with an appropriate error code",
        "a 4xx status (such as 400 Bad Request)" + (" or the app's 200" if plain_http_ok else ""),
        f"{response.status} {response.reason}",
    )


@pytest.mark.requirement("SRV-WS-HS-VERSION-REFUSED")
def test_handshake_unknown_version_refused(server: Server) -> None:
    headers = replace_header(valid_headers(server), "Sec-WebSocket-Version", "99")
    refused(handshake(server, headers), "Sec-WebSocket-Version: 99")


@pytest.mark.requirement("SRV-WS-HS-VERSION-ADVERTISED")
def test_handshake_refusal_lists_version_13(server: Server) -> None:
    headers = replace_header(valid_headers(server), "Sec-WebSocket-Version", "99")
    response = handshake(server, headers)
    expect_true(response.status != 101, "version 99 refused", "not 101", str(response.status))
    versions = response.tokens("sec-websocket-version")
    expect_true(
        "13" in versions,
        "the refusal names the versions the server understands",
        "a Sec-WebSocket-Version field listing 13",
        repr(response.get_all("sec-websocket-version")),
    )


@pytest.mark.requirement("SRV-WS-HS-VERSION-MISSING")
def test_handshake_without_version_refused(server: Server) -> None:
    headers = replace_header(valid_headers(server), "Sec-WebSocket-Version", None)
    refused(handshake(server, headers), "no Sec-WebSocket-Version")


@pytest.mark.requirement("SRV-WS-HS-KEY-MISSING")
def test_handshake_without_key_refused(server: Server) -> None:
    headers = replace_header(valid_headers(server), "Sec-WebSocket-Key", None)
    refused(handshake(server, headers), "no Sec-WebSocket-Key")


@pytest.mark.requirement("SRV-WS-HS-KEY-SHORT")
def test_handshake_key_of_8_bytes_refused(server: Server) -> None:
    headers = replace_header(valid_headers(server), "Sec-WebSocket-Key", "AAAAAAAAAAA=")
    refused(handshake(server, headers), "a Sec-WebSocket-Key decoding to 8 bytes")


@pytest.mark.requirement("SRV-WS-HS-KEY-NOT-BASE64")
def test_handshake_key_not_base64_refused(server: Server) -> None:
    headers = replace_header(valid_headers(server), "Sec-WebSocket-Key", "not*base64*at*all*!!")
    refused(handshake(server, headers), "a Sec-WebSocket-Key that is not base64")


@pytest.mark.requirement("SRV-WS-HS-HOST-MISSING")
def test_handshake_without_host_refused(server: Server) -> None:
    headers = replace_header(valid_headers(server), "Host", None)
    refused(handshake(server, headers), "no Host field")


@pytest.mark.requirement("SRV-WS-HS-METHOD")
def test_handshake_with_post_not_upgraded(server: Server) -> None:
    headers = [*valid_headers(server), ("Content-Length", "0")]
    refused(handshake(server, headers, method="POST"), "POST", plain_http_ok=True)


@pytest.mark.requirement("SRV-WS-HS-HTTP10")
def test_handshake_over_http10_not_upgraded(server: Server) -> None:
    response = handshake(server, valid_headers(server), version="HTTP/1.0")
    refused(response, "an HTTP/1.0 request line", plain_http_ok=True)


@pytest.mark.requirement("SRV-WS-HS-UPGRADE-WRONG")
def test_handshake_with_other_upgrade_not_upgraded(server: Server) -> None:
    headers = replace_header(valid_headers(server), "Upgrade", "h2c")
    refused(handshake(server, headers), "Upgrade: h2c", plain_http_ok=True)


@pytest.mark.requirement("SRV-WS-HS-CONNECTION-MISSING")
def test_handshake_without_connection_upgrade_not_upgraded(server: Server) -> None:
    headers = replace_header(valid_headers(server), "Connection", "keep-alive")
    refused(handshake(server, headers), "Connection without Upgrade", plain_http_ok=True)


# -- framing and masking --------------------------------------------------------------------------


@pytest.mark.requirement("SRV-WS-UNMASKED-FAILS")
def test_unmasked_client_frame_fails_the_connection(server: Server) -> None:
    violation_case(lambda conn: conn.send(encode_frame(OP_TEXT, b"unmasked", mask=None)))(server)


@pytest.mark.requirement("SRV-WS-SERVER-UNMASKED")
def test_server_frames_are_unmasked(server: Server) -> None:
    with ws(server, "/srv_ws/prefixed") as conn:  # MaskingError on any masked frame
        for size in (0, 5, 200):
            conn.send_frame(OP_BINARY, b"m" * size)
            expect_echo(conn, OP_BINARY, b"=" + b"m" * size, "echo")
        close_cleanly(conn)


@pytest.mark.requirement("SRV-WS-LENGTH-MINIMAL")
def test_server_uses_minimal_length_encoding(server: Server) -> None:
    for size in (125, 126, 65535, 65536):
        with ws(server, f"/srv_ws/send/{size}") as conn:  # LengthError on a non-minimal form
            message = conn.recv_message()
            expect_true(isinstance(message, tuple), "a message", f"{size} bytes", repr(message))
            assert isinstance(message, tuple)
            expect_equal(len(message[1]), size, "length of the server's message")
            close_cleanly(conn)


def _lengths(opcode: int, fill: bytes) -> Callable[[Server], None]:
    """Each length form; the app answers ``=`` + the message (never an empty message)."""

    def run(server: Server) -> None:
        with ws(server, "/srv_ws/prefixed") as conn:
            for size in (0, 125, 126, 127, 128, 65535, 65536):
                conn.send_frame(opcode, fill * size)
                expect_echo(conn, opcode, b"=" + fill * size, f"a {size}-byte message")
            close_cleanly(conn)

    return run


define("test_text_message_lengths", "SRV-WS-TEXT-LENGTHS", _lengths(OP_TEXT, b"*"))
define("test_binary_message_lengths", "SRV-WS-BINARY-LENGTHS", _lengths(OP_BINARY, b"\xfe"))


def frames_until(conn: WsConnection, done: Callable[[list[Frame]], bool]) -> list[Frame]:
    """Frames in arrival order until ``done`` says enough (at most 20; TCP close fails)."""
    frames: list[Frame] = []
    while not done(frames) and len(frames) < 20:
        frame = conn.recv_frame()
        expect_true(frame is not None, "more frames", "frames", f"TCP closed after {frames!r}")
        assert frame is not None
        frames.append(frame)
    return frames


def pongs_and_data(frames: list[Frame]) -> tuple[list[bytes], bytes]:
    pongs = [f.payload for f in frames if f.opcode == OP_PONG]
    return pongs, b"".join(f.payload for f in frames if f.opcode in (OP_TEXT, OP_BINARY, OP_CONT))


def one_pong_one_message(frames: list[Frame]) -> bool:
    """A Pong and a complete message arrived (in either order: the Pong may come first)."""
    data = [f for f in frames if f.opcode in (OP_TEXT, OP_BINARY, OP_CONT)]
    return any(f.opcode == OP_PONG for f in frames) and bool(data) and data[-1].fin


@pytest.mark.requirement("SRV-WS-BYTEWISE")
def test_frames_sent_one_byte_at_a_time(server: Server) -> None:
    with ws(server) as conn:
        data = encode_frame(OP_TEXT, b"chopped into single bytes")
        data += encode_frame(OP_PING, b"chopped ping")
        for index in range(len(data)):
            conn.send(data[index : index + 1])
        pongs, message = pongs_and_data(frames_until(conn, one_pong_one_message))
        expect_equal(pongs, [b"chopped ping"], "Pong for a Ping sent byte by byte")
        expect_equal(message, b"chopped into single bytes", "a message sent byte by byte")
        close_cleanly(conn)


@pytest.mark.requirement("SRV-WS-UNMASK")
def test_masking_removed_for_every_byte_value(server: Server) -> None:
    payload = bytes(range(256)) * 4
    with ws(server) as conn:
        for key in (b"\x00\x00\x00\x00", b"\xff\xff\xff\xff", b"\x12\x34\x56\x78"):
            conn.send(encode_frame(OP_BINARY, payload, mask=key or None))
            expect_echo(conn, OP_BINARY, payload, f"a message masked with {key.hex()}")
        close_cleanly(conn)


# -- reserved bits and opcodes ----------------------------------------------------------------


#: What a Close frame failing the connection may carry: no code, or an error code; never the
#: normal 1000 (or an echo of the client's code) of a closing handshake.
FAILURE_CODES = (None, 1002, 1003, 1007, 1008, 1009, 1011)


def _bad_frame(frame: bytes) -> Callable[[Server], None]:
    """The violation ``frame`` fails the connection; a bad Close frame is not answered as a
    normal close (a Close frame, if any, carries an error code)."""

    def run(server: Server) -> None:
        close = violation_case(lambda conn: conn.send(frame))(server)
        if frame[0] & 0x0F == OP_CLOSE and close is not None:
            expect_in(close.close_code(), FAILURE_CODES, "the answer to a malformed Close frame")

    return run


define("test_rsv1_fails", "SRV-WS-RSV1-FAILS", _bad_frame(encode_frame(OP_TEXT, b"x", rsv=4)))
define("test_rsv2_fails", "SRV-WS-RSV2-FAILS", _bad_frame(encode_frame(OP_BINARY, b"x", rsv=2)))
define("test_rsv3_fails", "SRV-WS-RSV3-FAILS", _bad_frame(encode_frame(OP_PING, b"x", rsv=1)))
define(
    "test_rsv_on_close_fails",
    "SRV-WS-RSV-CLOSE-FAILS",
    _bad_frame(encode_frame(OP_CLOSE, close_payload(1000), rsv=7)),
)
define("test_opcode_3_fails", "SRV-WS-OPCODE-3-FAILS", _bad_frame(encode_frame(0x3, b"")))
define("test_opcode_7_fails", "SRV-WS-OPCODE-7-FAILS", _bad_frame(encode_frame(0x7, b"data")))
define("test_opcode_b_fails", "SRV-WS-OPCODE-B-FAILS", _bad_frame(encode_frame(0xB, b"")))
define("test_opcode_f_fails", "SRV-WS-OPCODE-F-FAILS", _bad_frame(encode_frame(0xF, b"data")))


@pytest.mark.requirement("SRV-WS-PROTOCOL-ERROR-1002")
def test_protocol_error_close_code_1002(server: Server) -> None:
    with ws(server) as conn:
        conn.send(encode_frame(0x3, b""))
        close = expect_failed(conn, "a reserved opcode", probe=False)
    expect_true(close is not None, "a Close frame before closing", "Close 1002", "none")
    assert close is not None
    expect_equal(close.close_code(), 1002, "close code for a protocol error")


@pytest.mark.requirement("SRV-WS-FAIL-STOPS-PROCESSING")
def test_nothing_processed_after_a_violation(server: Server) -> None:
    with ws(server) as conn:
        conn.send(encode_frame(0x3, b"") + encode_frame(OP_TEXT, b"must not be echoed"))
        expect_failed(conn, "a text message behind a reserved opcode")


# -- fragmentation ------------------------------------------------------------------------------


def _fragments(frames: list[bytes], opcode: int, expected: bytes) -> Callable[[Server], None]:
    def run(server: Server) -> None:
        with ws(server) as conn:
            conn.send(b"".join(frames))
            expect_echo(conn, opcode, expected, "a fragmented message")
            close_cleanly(conn)

    return run


define(
    "test_fragmented_text",
    "SRV-WS-FRAG-TEXT",
    _fragments(
        [
            encode_frame(OP_TEXT, b"frag", fin=False),
            encode_frame(OP_CONT, b"men", fin=False),
            encode_frame(OP_CONT, b"ted"),
        ],
        OP_TEXT,
        b"fragmented",
    ),
)
define(
    "test_fragmented_binary",
    "SRV-WS-FRAG-BINARY",
    _fragments(
        [encode_frame(OP_BINARY, b"\x00\x01", fin=False), encode_frame(OP_CONT, b"\xff")],
        OP_BINARY,
        b"\x00\x01\xff",
    ),
)
define(
    "test_fragmented_with_empty_fragments",
    "SRV-WS-FRAG-EMPTY",
    _fragments(
        [
            encode_frame(OP_TEXT, b"", fin=False),
            encode_frame(OP_CONT, b"", fin=False),
            encode_frame(OP_CONT, b"x", fin=False),
            encode_frame(OP_CONT, b""),
        ],
        OP_TEXT,
        b"x",
    ),
)
define(
    "test_fragments_in_order",
    "SRV-WS-FRAG-ORDER",
    _fragments(
        [encode_frame(OP_BINARY, b"%03d" % 0, fin=False)]
        + [encode_frame(OP_CONT, b"%03d" % i, fin=False) for i in range(1, 99)]
        + [encode_frame(OP_CONT, b"%03d" % 99)],
        OP_BINARY,
        b"".join(b"%03d" % i for i in range(100)),
    ),
)
define(
    "test_valid_utf8_split_inside_a_code_point",
    "SRV-WS-FRAG-UTF8-SPLIT",
    _fragments(
        [
            encode_frame(OP_TEXT, "κό".encode()[:1], fin=False),
            encode_frame(OP_CONT, "κό".encode()[1:3], fin=False),
            encode_frame(OP_CONT, "κό".encode()[3:] + "σμε €".encode()),
        ],
        OP_TEXT,
        "κόσμε €".encode(),
    ),
)


@pytest.mark.requirement("SRV-WS-FRAG-PING-BETWEEN")
def test_ping_between_fragments(server: Server) -> None:
    with ws(server) as conn:
        conn.send(
            encode_frame(OP_TEXT, b"one ", fin=False)
            + encode_frame(OP_PING, b"in between")
            + encode_frame(OP_CONT, b"message")
        )
        pongs, message = pongs_and_data(frames_until(conn, one_pong_one_message))
        expect_equal(pongs, [b"in between"], "Pong for the Ping inside the fragmented message")
        expect_equal(message, b"one message", "the fragmented message around the Ping")
        close_cleanly(conn)


@pytest.mark.requirement("SRV-WS-FRAG-PONG-BETWEEN")
def test_unsolicited_pong_between_fragments(server: Server) -> None:
    _fragments(
        [
            encode_frame(OP_BINARY, b"a", fin=False),
            encode_frame(OP_PONG, b"unsolicited"),
            encode_frame(OP_CONT, b"b"),
        ],
        OP_BINARY,
        b"ab",
    )(server)


define(
    "test_fragmented_control_frame_fails",
    "SRV-WS-FRAG-CONTROL-FAILS",
    _bad_frame(encode_frame(OP_PING, b"a", fin=False) + encode_frame(OP_CONT, b"b")),
)
define(
    "test_continuation_without_start_fails",
    "SRV-WS-FRAG-CONT-FIRST-FAILS",
    _bad_frame(encode_frame(OP_CONT, b"no message open")),
)
define(
    "test_new_message_inside_fragmented_fails",
    "SRV-WS-FRAG-INTERLEAVED-FAILS",
    _bad_frame(encode_frame(OP_TEXT, b"open ", fin=False) + encode_frame(OP_TEXT, b"again")),
)


# -- control frames -------------------------------------------------------------------------------


def _ping(payload: bytes) -> Callable[[Server], None]:
    def run(server: Server) -> None:
        with ws(server) as conn:
            conn.send_frame(OP_PING, payload)
            frame = conn.recv_frame()
            expect_true(frame is not None, "a Pong", "a Pong frame", "TCP closed")
            assert frame is not None
            expect_equal(frame.opcode, OP_PONG, "opcode of the answer to a Ping")
            expect_equal(frame.payload, payload, "Pong application data (identical to the Ping)")
            close_cleanly(conn)

    return run


define("test_ping_without_payload", "SRV-WS-PING-EMPTY", _ping(b""))
define("test_ping_with_125_bytes", "SRV-WS-PING-PAYLOAD", _ping(bytes(range(125))))
define(
    "test_ping_of_126_bytes_fails",
    "SRV-WS-PING-OVERSIZE-FAILS",
    _bad_frame(encode_frame(OP_PING, b"\xfe" * 126)),
)
define(
    "test_close_of_126_bytes_fails",
    "SRV-WS-CLOSE-OVERSIZE-FAILS",
    _bad_frame(encode_frame(OP_CLOSE, close_payload(1000, b"r" * 124))),
)


# -- UTF-8 ----------------------------------------------------------------------------------------


define(
    "test_invalid_utf8_text_fails",
    "SRV-WS-UTF8-INVALID-FAILS",
    _bad_frame(encode_frame(OP_TEXT, b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80")),
)
define(
    "test_invalid_utf8_in_fragments_fails",
    "SRV-WS-UTF8-FRAGMENTED-FAILS",
    _bad_frame(encode_frame(OP_TEXT, b"valid ", fin=False) + encode_frame(OP_CONT, b"\xff\xfe")),
)
define(
    "test_overlong_utf8_fails",
    "SRV-WS-UTF8-OVERLONG-FAILS",
    _bad_frame(encode_frame(OP_TEXT, b"\xc0\xaf")),
)
define(
    "test_truncated_utf8_fails",
    "SRV-WS-UTF8-TRUNCATED-FAILS",
    _bad_frame(encode_frame(OP_TEXT, "ends inside €".encode()[:-1])),
)
define(
    "test_invalid_utf8_close_reason_fails",
    "SRV-WS-UTF8-CLOSE-REASON-FAILS",
    _bad_frame(encode_frame(OP_CLOSE, close_payload(1000, b"\xce\xba\xed\xa0\x80"))),
)


@pytest.mark.requirement("SRV-WS-UTF8-1007")
def test_invalid_utf8_close_code_1007(server: Server) -> None:
    with ws(server) as conn:
        conn.send(encode_frame(OP_TEXT, b"\xff"))
        close = expect_failed(conn, "a text message that is not UTF-8", probe=False)
    expect_true(close is not None, "a Close frame before closing", "Close 1007", "none")
    assert close is not None
    expect_equal(close.close_code(), 1007, "close code for a text message that is not UTF-8")


# -- closing ------------------------------------------------------------------------------------


def _close_reply(
    payload: bytes, accepted_codes: tuple[int | None, ...]
) -> Callable[[Server], None]:
    def run(server: Server) -> None:
        with ws(server) as conn:
            conn.send_frame(OP_CLOSE, payload)
            frame = conn.recv_frame()
            expect_true(
                frame is not None and frame.opcode == OP_CLOSE,
                "the server answers a Close frame with a Close frame",
                "a Close frame",
                repr(frame),
            )
            assert frame is not None
            expect_in(frame.close_code(), accepted_codes, "code of the server's Close")
            conn.wait_closed()

    return run


define("test_close_is_answered", "SRV-WS-CLOSE-REPLY", _close_reply(close_payload(1000), (1000,)))
define("test_empty_close_is_answered", "SRV-WS-CLOSE-REPLY-EMPTY", _close_reply(b"", (None, 1000)))
define(
    "test_close_with_123_byte_reason_is_answered",
    "SRV-WS-CLOSE-REASON-123",
    _close_reply(close_payload(1000, b"r" * 123), (1000,)),
)


@pytest.mark.requirement("SRV-WS-CLOSE-VALID-CODES")
def test_every_valid_close_code_is_answered(server: Server) -> None:
    for code in (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999):
        with ws(server) as conn:
            conn.send_frame(OP_CLOSE, close_payload(code))
            frame = conn.recv_frame()
            expect_true(
                frame is not None and frame.opcode == OP_CLOSE,
                f"a Close frame answers Close {code}",
                "a Close frame",
                repr(frame),
            )
            conn.wait_closed()


def _bad_close_codes(codes: tuple[int, ...]) -> Callable[[Server], None]:
    def run(server: Server) -> None:
        for code in codes:
            with ws(server) as conn:
                conn.send_frame(OP_CLOSE, close_payload(code))
                close = expect_failed(conn, f"Close with code {code}")
                if close is not None:
                    expect_in(close.close_code(), FAILURE_CODES, f"the answer to Close {code}")

    return run


define(
    "test_reserved_close_codes_fail",
    "SRV-WS-CLOSE-CODE-RESERVED-FAILS",
    _bad_close_codes((1005, 1006, 1015)),
)
define(
    "test_undefined_close_codes_fail",
    "SRV-WS-CLOSE-CODE-UNDEFINED-FAILS",
    _bad_close_codes((0, 999, 1004, 1016, 2000, 2999)),
)
define(
    "test_close_codes_out_of_range_fail",
    "SRV-WS-CLOSE-CODE-RANGE-FAILS",
    _bad_close_codes((5000, 65535)),
)
define(
    "test_one_byte_close_payload_fails",
    "SRV-WS-CLOSE-ONE-BYTE-FAILS",
    _bad_frame(encode_frame(OP_CLOSE, b"\x03")),
)


@pytest.mark.requirement("SRV-WS-CLOSE-TCP")
def test_server_closes_tcp_after_close_handshake(server: Server) -> None:
    with ws(server) as conn:
        conn.send_frame(OP_CLOSE, close_payload(1000))
        frame = conn.recv_frame()
        expect_true(frame is not None, "the server's Close", "a Close frame", "TCP closed")
        start = time.monotonic()
        conn.wait_closed()  # WsTimeout: TCP still open after TIMEOUT
        expect_true(time.monotonic() - start < TIMEOUT, "TCP closed", "closed", "still open")


@pytest.mark.requirement("SRV-WS-SERVER-CLOSE-TCP")
def test_server_initiated_close_then_tcp_close(server: Server) -> None:
    with ws(server, "/srv_ws/close-then-send") as conn:
        frame = conn.recv_frame()  # AfterCloseError: a data frame after the Close
        expect_true(
            frame is not None and frame.opcode == OP_CLOSE,
            "the app's websocket.close reaches the wire",
            "a Close frame 4001",
            repr(frame),
        )
        assert frame is not None
        expect_equal(frame.close_code(), 4001, "close code")
        conn.send_frame(OP_CLOSE, close_payload(4001))
        conn.wait_closed()


@pytest.mark.requirement("SRV-WS-CLOSE-NOTHING-AFTER")
def test_no_data_frame_after_the_servers_close(server: Server) -> None:
    with ws(server, "/srv_ws/close-then-send") as conn:
        frame = conn.recv_frame()
        expect_true(frame is not None, "a Close frame", "Close 4001", "TCP closed")
        conn.send_frame(OP_CLOSE, close_payload(4001))
        late = conn.wait_closed()  # what came after the Close frame, up to the TCP close
        expect_equal(late, b"", "bytes after the server's Close frame")


# -- limits ----------------------------------------------------------------------------------------


LIMIT_PROBE = 20 << 20  # bytes streamed into a frame announcing 2**62 before giving up
LIMIT_CHUNK = 1 << 20
_HUGE: dict[str, tuple[Frame | None, BaseException | None, int]] = {}


def send_huge_frame(conn: WsConnection) -> int:
    """A binary frame announcing 2**62 bytes, then up to :data:`LIMIT_PROBE` of its payload,
    stopping as soon as the server says something, closes, or stops reading for
    :data:`FAIL_BOUND`; the bytes written."""
    key = b"\x00\x00\x00\x00"  # the zero key: the payload goes out as is
    conn.send(b"\x82\xff" + struct.pack("!Q", 1 << 62) + key)
    chunk = memoryview(bytes(LIMIT_CHUNK))
    sent = 0
    conn.sock.setblocking(False)
    try:
        while sent < LIMIT_PROBE:
            readable, writable, _ = select.select([conn.sock], [conn.sock], [], FAIL_BOUND)
            if readable or not writable:
                break  # the server answered (a Close frame), closed, or stopped reading
            sent += conn.sock.send(chunk[sent % LIMIT_CHUNK :])
    except OSError:  # reset: the server stopped reading
        pass
    finally:
        conn.sock.settimeout(TIMEOUT)
    return sent


def huge_frame_outcome(server: Server) -> tuple[Frame | None, BaseException | None, int]:
    """One huge-frame exchange per report column, judged by the two cases that need it."""
    if server.column not in _HUGE:
        with ws(server) as conn:
            sent = send_huge_frame(conn)
            try:
                close = expect_failed(
                    conn, f"a frame announcing 2**62 bytes ({sent >> 20} MiB sent)"
                )
                _HUGE[server.column] = (close, None, sent)
            except (AssertionError, WsTimeout) as error:
                _HUGE[server.column] = (None, error, sent)
    return _HUGE[server.column]


@pytest.mark.requirement("SRV-WS-LIMIT-HUGE-FRAME")
def test_frame_announcing_2_to_62_bytes_is_cut(
    server: Server, request: pytest.FixtureRequest
) -> None:
    close, error, sent = huge_frame_outcome(server)
    record_fact(
        request,
        "websocket_frame_limit",
        "A binary frame announcing 2**62 bytes, then its payload: the MiB written before the "
        "server answered, closed or stopped reading (kernel buffers hold a few MiB, so an "
        "upper bound of what it read; RFC 6455 §10.4 leaves the limit open; probing stops at "
        "20 MiB), whether it cut the connection, and the code of its Close frame, if any.",
        server.name,
        {
            "mib_written": sent >> 20,
            "cut": error is None,
            "close_code": None if close is None else close.close_code(),
            "close_frame": close is not None,
        },
    )
    if error is not None:
        raise error


@pytest.mark.requirement("SRV-WS-LIMIT-1009")
def test_huge_frame_close_code_1009(server: Server) -> None:
    close, error, _ = huge_frame_outcome(server)
    if error is not None:
        raise error
    expect_true(close is not None, "a Close frame before closing", "Close 1009", "none")
    assert close is not None
    expect_equal(close.close_code(), 1009, "close code for a message too big to process")


# -- the application ----------------------------------------------------------------------------


def fresh_instance(server: Server, server_pool: ServerPool) -> Server:
    """A new process of ``server``'s configuration, so the verdict does not depend on what
    earlier cases did to the shared one (daphne's application checker stops for good once an
    app raised after ``http.response.start``, which SRV-APPERR cases provoke)."""
    server_pool.stop(server.name)
    return server_pool.get(server.name)


@pytest.mark.requirement("SRV-WS-APP-RAISES-CLOSES")
def test_app_raising_after_accept_closes(server: Server, server_pool: ServerPool) -> None:
    server = fresh_instance(server, server_pool)
    with ws(server, "/srv_ws/raise") as conn:
        conn.send_frame(OP_TEXT, b"make it raise")
        expect_failed(conn, "the application raised", probe=False)


@pytest.mark.requirement("SRV-WS-APP-RAISES-1011")
def test_app_raising_after_accept_close_code(
    server: Server, server_pool: ServerPool, request: pytest.FixtureRequest
) -> None:
    server = fresh_instance(server, server_pool)
    with ws(server, "/srv_ws/raise") as conn:
        conn.send_frame(OP_TEXT, b"make it raise")
        close = expect_failed(conn, "the application raised", probe=False)
    record_fact(
        request,
        "websocket_app_raises",
        "The app raises after accepting: how the server ends the connection (a Close frame "
        "with its code, an empty Close frame, or TCP closed without one: 1006 for the client).",
        server.name,
        "no Close frame" if close is None else f"Close {close.close_code()}",
    )
    if close is not None:  # no Close frame (1006 for the client) is the other accepted end
        expect_equal(close.close_code(), 1011, "close code after an unexpected condition")


@pytest.mark.requirement("SRV-WS-APP-RAISES-BEFORE-ACCEPT")
def test_app_raising_before_accept_refuses(server: Server) -> None:
    outcome = handshake_outcome(server, "/srv_ws/raise-before-accept")
    expect_not_upgraded(outcome, "an app that raised before accepting gets no WebSocket")


@pytest.mark.requirement("SRV-WS-APP-RETURNS-CLOSES")
def test_app_returning_closes(server: Server) -> None:
    with ws(server, "/srv_ws/return") as conn:
        conn.send_frame(OP_TEXT, b"make it return")
        expect_failed(conn, "the application returned without closing", probe=False)


@pytest.mark.requirement("SRV-WS-APP-RETURNS-BEFORE-ACCEPT")
def test_app_returning_before_accept_refuses(server: Server) -> None:
    outcome = handshake_outcome(server, "/srv_ws/return-before-accept")
    expect_not_upgraded(outcome, "an app that returned without accepting gets no WebSocket")


def handshake_outcome(server: Server, path: str) -> str:
    """``"status N"`` of the answer to a valid handshake, or ``"closed"`` without one."""
    require_offer(server, "websocket")
    with server.connect(TIMEOUT) as sock:
        sock.sendall(handshake_request(path, valid_headers(server)))
        try:
            response = read_handshake_response(sock, TIMEOUT)
        except (ConnectionResetError, HandshakeError):
            return "closed"
    return f"status {response.status}"


def expect_not_upgraded(outcome: str, what: str) -> None:
    status = int(outcome.split()[1]) if outcome.startswith("status") else None
    expect_true(
        status is None or status >= 400,
        what,
        "an HTTP error status (403 or 500), or the connection closed; never 101",
        outcome,
    )


def poll_disconnect(server: Server, token: str) -> dict[str, Any]:
    deadline = time.monotonic() + TIMEOUT
    with server.http() as client:
        while True:
            response = client.get(f"/srv_ws/result/{token}")
            if response.status_code == 200:
                return dict(response.json()["disconnect"])
            expect_true(
                time.monotonic() < deadline,
                "the app receives websocket.disconnect",
                "a disconnect within 5 s",
                "none",
            )
            time.sleep(0.02)


@pytest.mark.requirement("SRV-WS-DISCONNECT-CODE")
def test_app_gets_the_clients_close_code(server: Server) -> None:
    token = uuid.uuid4().hex
    with ws(server, f"/srv_ws/echo/{token}") as conn:
        conn.send_frame(OP_CLOSE, close_payload(4321, "client says bye"))
        conn.recv_frame()
        conn.wait_closed()  # the client waits for the server's TCP close (§7.1.1)
    disconnect = poll_disconnect(server, token)
    expect_equal(disconnect["code"], 4321, "websocket.disconnect code")


@pytest.mark.requirement("SRV-WS-DISCONNECT-1005")
def test_app_gets_1005_for_a_close_without_code(server: Server) -> None:
    token = uuid.uuid4().hex
    with ws(server, f"/srv_ws/echo/{token}") as conn:
        conn.send_frame(OP_CLOSE, b"")
        conn.recv_frame()
        conn.wait_closed()
    disconnect = poll_disconnect(server, token)
    expect_equal(disconnect["code"], 1005, "websocket.disconnect code for a Close without code")


@pytest.mark.requirement("SRV-WS-DISCONNECT-ON-DROP")
def test_app_told_when_tcp_drops(server: Server) -> None:
    token = uuid.uuid4().hex
    with ws(server, f"/srv_ws/echo/{token}") as conn:
        conn.send_frame(OP_TEXT, b"then gone")
        expect_echo(conn, OP_TEXT, b"then gone", "echo")
    disconnect = poll_disconnect(server, token)
    expect_true(
        isinstance(disconnect["code"], int),
        "websocket.disconnect after the TCP connection dropped",
        "a disconnect with an int code",
        repr(disconnect),
    )


@pytest.mark.requirement("SRV-WS-DISCONNECT-AFTER-FAILURE")
def test_app_told_after_a_protocol_failure(server: Server) -> None:
    token = uuid.uuid4().hex
    with ws(server, f"/srv_ws/echo/{token}") as conn:
        conn.send(encode_frame(0x3, b""))
        expect_failed(conn, "a reserved opcode")
    poll_disconnect(server, token)
