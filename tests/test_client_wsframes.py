"""Tests of the raw-frame WebSocket client: the sans-IO decoder whole, byte by byte and with
trailing junk; the encoder; the handshake helpers; the blocking driver on a tiny socket server."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.harness.wsframes import (
    EOF,
    NEED_DATA,
    OP_BINARY,
    OP_CLOSE,
    OP_CONT,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    AfterCloseError,
    CloseFrameError,
    ControlFrameError,
    FragmentationError,
    Frame,
    FrameDecoder,
    HandshakeError,
    HandshakeResponse,
    InvalidUtf8Error,
    LengthError,
    MaskingError,
    PayloadTooLarge,
    ReservedBitsError,
    ReservedOpcodeError,
    TruncatedFrameError,
    WsTimeout,
    accept_key,
    check_accepted,
    close_code_problem,
    close_payload,
    connect,
    encode_frame,
    handshake_request,
    mask_payload,
    open_handshake,
    parse_handshake_response,
)


def server_frame(opcode: int, payload: bytes = b"", **options: object) -> bytes:
    """A frame as a server sends it: unmasked."""
    return encode_frame(opcode, payload, mask=None, **options)  # type: ignore[arg-type]


def decode(data: bytes, *, split: int | None = None, eof: bool = True, **kw: object) -> list[Frame]:
    """Every frame of ``data`` fed in pieces of ``split`` bytes (None: all at once)."""
    decoder = FrameDecoder(**kw)  # type: ignore[arg-type]
    step = split or max(len(data), 1)
    pieces = [data[i : i + step] for i in range(0, len(data), step)]
    frames: list[Frame] = []
    while True:
        event = decoder.next_frame()
        if event is NEED_DATA:
            if pieces:
                decoder.receive_data(pieces.pop(0))
                continue
            if not eof:
                return frames
            decoder.receive_eof()
            continue
        if event is EOF:
            return frames
        assert isinstance(event, Frame)
        frames.append(event)


def three_ways(data: bytes, **kw: object) -> list[Frame]:
    """Whole, byte by byte, and with trailing junk (an incomplete frame: NEED_DATA)."""
    whole = decode(data, **kw)
    assert decode(data, split=1, **kw) == whole
    if not whole or whole[-1].opcode != OP_CLOSE:
        assert decode(data + b"\x81", eof=False, **kw) == whole
        with pytest.raises(TruncatedFrameError):
            decode(data + b"\x81\x05ab", **kw)
    return whole


def test_text_binary_and_control_frames() -> None:
    data = (
        server_frame(OP_TEXT, "héllo".encode())
        + server_frame(OP_BINARY, b"\x00\xff")
        + server_frame(OP_PING, b"p")
        + server_frame(OP_PONG)
    )
    frames = three_ways(data)
    assert [(f.opcode, f.payload, f.fin, f.masked) for f in frames] == [
        (OP_TEXT, "héllo".encode(), True, False),
        (OP_BINARY, b"\x00\xff", True, False),
        (OP_PING, b"p", True, False),
        (OP_PONG, b"", True, False),
    ]


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536, 70000])
def test_length_forms(size: int) -> None:
    payload = bytes(range(256)) * (size // 256) + bytes(size % 256)
    (frame,) = decode(server_frame(OP_BINARY, payload))
    assert frame.payload == payload
    header = server_frame(OP_BINARY, payload)[:2]
    assert header[1] == (size if size < 126 else 126 if size < 65536 else 127)


def test_fragmented_text_split_inside_a_code_point() -> None:
    text = "€uro".encode()
    data = (
        server_frame(OP_TEXT, text[:1], fin=False)
        + server_frame(OP_PING, b"between")
        + server_frame(OP_CONT, text[1:4], fin=False)
        + server_frame(OP_CONT, text[4:])
    )
    frames = three_ways(data)
    assert [f.opcode for f in frames] == [OP_TEXT, OP_PING, OP_CONT, OP_CONT]
    assert b"".join(f.payload for f in frames if f.opcode != OP_PING) == text


def test_close_frame_then_trailing_junk_is_a_violation() -> None:
    data = server_frame(OP_CLOSE, close_payload(1000, "bye"))
    (frame,) = three_ways(data)
    assert (frame.close_code(), frame.close_reason()) == (1000, "bye")
    with pytest.raises(AfterCloseError):
        decode(data + server_frame(OP_TEXT, b"late"))
    with pytest.raises(AfterCloseError):
        decode(data + server_frame(OP_CLOSE), split=1)
    # a control frame after Close is no data frame (§5.5.1 forbids only those)
    assert decode(data + server_frame(OP_PONG, b"p"), split=1)[1].opcode == OP_PONG
    with pytest.raises(TruncatedFrameError):
        decode(data + b"\x81")


def test_empty_close_payload_has_no_code() -> None:
    (frame,) = decode(server_frame(OP_CLOSE))
    assert frame.close_code() is None
    assert frame.close_reason() == ""


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (encode_frame(OP_TEXT, b"masked", mask=b"abcd"), MaskingError),
        (server_frame(OP_TEXT, b"x", rsv=4), ReservedBitsError),
        (server_frame(OP_TEXT, b"x", rsv=1), ReservedBitsError),
        (server_frame(0x3), ReservedOpcodeError),
        (server_frame(0xB), ReservedOpcodeError),
        (server_frame(OP_PING, b"x" * 126), ControlFrameError),
        (server_frame(OP_PING, b"x", fin=False), ControlFrameError),
        (server_frame(OP_BINARY, b"x" * 10, length="16"), LengthError),
        (server_frame(OP_BINARY, b"x" * 200, length="64"), LengthError),
        (b"\x82\x7f" + struct.pack("!Q", 1 << 63), LengthError),
        (server_frame(OP_CONT, b"x"), FragmentationError),
        (server_frame(OP_TEXT, b"a", fin=False) + server_frame(OP_TEXT, b"b"), FragmentationError),
        (server_frame(OP_TEXT, b"\xc3\x28"), InvalidUtf8Error),
        (server_frame(OP_TEXT, b"\xed\xa0\x80"), InvalidUtf8Error),  # a surrogate
        (
            server_frame(OP_TEXT, b"\xe2\x82", fin=False) + server_frame(OP_CONT, b"A"),
            InvalidUtf8Error,
        ),
        (server_frame(OP_CLOSE, b"\x03"), CloseFrameError),
        (server_frame(OP_CLOSE, close_payload(1005)), CloseFrameError),
        (server_frame(OP_CLOSE, close_payload(999)), CloseFrameError),
        (server_frame(OP_CLOSE, close_payload(2000)), CloseFrameError),
        (server_frame(OP_CLOSE, close_payload(1000, b"\xff")), InvalidUtf8Error),
    ],
)
def test_violations_are_named_whole_and_byte_by_byte(data: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        decode(data)
    with pytest.raises(error):
        decode(data, split=1)


def test_unfinished_utf8_at_the_end_of_a_message_is_invalid() -> None:
    with pytest.raises(InvalidUtf8Error):
        decode(server_frame(OP_TEXT, "€".encode()[:2]))


def test_client_side_decoder_requires_masks() -> None:
    frames = decode(encode_frame(OP_TEXT, b"hi", mask=b"\x01\x02\x03\x04"), expect_masked=True)
    assert frames == [Frame(OP_TEXT, b"hi", True, 0, True)]
    with pytest.raises(MaskingError, match="client MUST mask"):
        decode(server_frame(OP_TEXT, b"hi"), expect_masked=True)


def test_payload_bound_is_a_named_error() -> None:
    with pytest.raises(PayloadTooLarge):
        decode(server_frame(OP_BINARY, b"x" * 200), max_payload=100)
    fragments = server_frame(OP_BINARY, b"x" * 80, fin=False) + server_frame(OP_CONT, b"x" * 80)
    with pytest.raises(PayloadTooLarge):
        decode(fragments, max_payload=100)


def test_truncated_frame_at_eof() -> None:
    with pytest.raises(TruncatedFrameError):
        decode(server_frame(OP_BINARY, b"abcdef")[:-1])


@given(st.binary(max_size=300), st.binary(min_size=4, max_size=4))
def test_masking_round_trips(payload: bytes, key: bytes) -> None:
    assert mask_payload(mask_payload(payload, key), key) == payload
    (frame,) = decode(encode_frame(OP_BINARY, payload, mask=key), expect_masked=True)
    assert frame.payload == payload


def test_encoder_rejects_impossible_frames() -> None:
    with pytest.raises(ValueError):
        encode_frame(0x10)
    with pytest.raises(ValueError):
        encode_frame(OP_TEXT, b"x", mask=b"abc")
    with pytest.raises(ValueError):
        encode_frame(OP_BINARY, b"x" * 70000, length="16")


def test_close_code_rules() -> None:
    assert close_code_problem(1000) is None
    assert close_code_problem(4999) is None
    assert close_code_problem(1012) is None
    assert close_code_problem(1006) is not None
    assert close_code_problem(1016) is not None
    assert close_code_problem(5000) is not None


# -- handshake ------------------------------------------------------------------------------------


def test_accept_key_of_the_rfc_example() -> None:
    assert accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_handshake_request_bytes() -> None:
    request = handshake_request("/a?b", [("Host", "h"), ("X", "1")], method="POST")
    assert request == b"POST /a?b HTTP/1.1\r\nHost: h\r\nX: 1\r\n\r\n"


def test_parse_handshake_response_whole_and_in_pieces() -> None:
    raw = (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
        b"Connection: keep-alive, Upgrade\r\n"
        b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
    )
    for cut in range(len(raw)):
        assert parse_handshake_response(raw[:cut]) is NEED_DATA
    response = parse_handshake_response(raw + b"\x81\x00")
    assert isinstance(response, HandshakeResponse)
    assert (response.status, response.rest) == (101, b"\x81\x00")
    assert response.tokens("connection") == ["keep-alive", "upgrade"]
    assert check_accepted(response, "dGhlIHNhbXBsZSBub25jZQ==") == []
    assert check_accepted(response, "AAAAAAAAAAAAAAAAAAAAAA==") != []


@pytest.mark.parametrize(
    "raw",
    [b"HTTX/1.1 101 X\r\n\r\n", b"HTTP/1.1 1O1 X\r\n\r\n", b"HTTP/1.1 101 X\r\nNoColon\r\n\r\n"],
)
def test_malformed_handshake_response(raw: bytes) -> None:
    with pytest.raises(HandshakeError):
        parse_handshake_response(raw)


# -- blocking driver ------------------------------------------------------------------------------


@contextmanager
def tiny_server(handler: Callable[[socket.socket], None]) -> Iterator[tuple[str, int]]:
    """One connection on 127.0.0.1, handled by ``handler`` in a thread."""
    listener = socket.create_server(("127.0.0.1", 0))
    address = listener.getsockname()

    def run() -> None:
        conn, _ = listener.accept()
        with conn:
            handler(conn)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield address
    finally:
        thread.join(5)
        listener.close()


def read_request(conn: socket.socket) -> dict[str, str]:
    data = b""
    while b"\r\n\r\n" not in data:
        data += conn.recv(4096)
    lines = data.split(b"\r\n\r\n")[0].decode().split("\r\n")[1:]
    return {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}


def accepting(then: Callable[[socket.socket], None]) -> Callable[[socket.socket], None]:
    def handler(conn: socket.socket) -> None:
        headers = read_request(conn)
        conn.sendall(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: "
            + accept_key(headers["sec-websocket-key"]).encode()
            + b"\r\n\r\n"
        )
        then(conn)

    return handler


def test_connect_echo_and_close() -> None:
    def echo(conn: socket.socket) -> None:
        decoder = FrameDecoder(expect_masked=True)
        while True:
            event = decoder.next_frame()
            if event is NEED_DATA:
                decoder.receive_data(conn.recv(4096))
                continue
            assert isinstance(event, Frame)
            conn.sendall(server_frame(OP_PING, b"k") + server_frame(event.opcode, event.payload))
            if event.opcode == OP_CLOSE:
                return

    with tiny_server(accepting(echo)) as address, connect(address, "/", timeout=2) as ws:
        ws.send_frame(OP_TEXT, b"hello")
        assert ws.recv_message() == (OP_TEXT, b"hello")
        ws.send_frame(OP_CLOSE, close_payload(1000))
        frame = ws.recv_message()
        assert isinstance(frame, Frame)
        assert frame.close_code() == 1000
        assert ws.recv_frame() is None


def test_driver_raises_on_a_masked_server_frame_and_times_out() -> None:
    with tiny_server(accepting(lambda c: c.sendall(encode_frame(OP_TEXT, b"m")))) as address:
        with connect(address, "/", timeout=2) as ws, pytest.raises(MaskingError):
            ws.recv_frame()
    release = threading.Event()
    with tiny_server(accepting(lambda c: release.wait(5))) as address:
        with connect(address, "/", timeout=2) as ws, pytest.raises(WsTimeout):
            ws.recv_frame(timeout=0.2)
        release.set()


def test_refused_handshake_is_returned_and_connect_raises() -> None:
    def refuse(conn: socket.socket) -> None:
        read_request(conn)
        conn.sendall(b"HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\n\r\n")

    with tiny_server(refuse) as address:
        sock, response = open_handshake(address, "/", headers=[("Host", "x")], timeout=2)
        sock.close()
    assert response.status == 426
    assert response.get("sec-websocket-version") == "13"
    with tiny_server(refuse) as address, pytest.raises(HandshakeError, match="status 426"):
        connect(address, "/", timeout=2)
