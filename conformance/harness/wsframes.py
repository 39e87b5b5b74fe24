"""A raw-frame WebSocket client (RFC 6455) for the server-side cases.

Two layers, like :mod:`conformance.harness.rawhttp`:

* sans-IO: :func:`encode_frame` writes any frame, well-formed or not (unmasked, reserved bits,
  reserved opcodes, non-minimal lengths); :class:`FrameDecoder` is fed bytes and answers
  :class:`Frame` objects or :data:`NEED_DATA`, and raises a named :class:`WsProtocolError` the
  moment the peer breaks RFC 6455 (a masked frame from a server, reserved bits or opcodes,
  oversized or fragmented control frames, bad lengths, continuation out of place, invalid
  UTF-8 in a text message or close reason, bad close codes, anything after a Close frame).
  :func:`handshake_request`, :func:`parse_handshake_response` and :func:`accept_key` cover the
  opening handshake.
* blocking I/O: :func:`open_handshake` and :class:`WsConnection` on a socket with a timeout on
  every read and a total deadline, so nothing can hang a run (:class:`WsTimeout`).

The decoder decodes what a server sends (``expect_masked=False``, the default) or what a client
sends (``expect_masked=True``, for test servers); the rule on masking flips with it.
"""

from __future__ import annotations

import base64
import codecs
import hashlib
import os
import socket
import struct
import time
from dataclasses import dataclass, field
from typing import Final, Literal

GUID: Final = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
DATA_OPCODES: Final = frozenset({OP_CONT, OP_TEXT, OP_BINARY})
CONTROL_OPCODES: Final = frozenset({OP_CLOSE, OP_PING, OP_PONG})
MAX_CONTROL_PAYLOAD: Final = 125
DEFAULT_MAX_PAYLOAD: Final = 64 << 20
MAX_HEAD: Final = 64 << 10
#: Close codes an endpoint may put in a Close frame (RFC 6455 §7.4.1, §7.4.2, IANA registry).
SENDABLE_CLOSE_CODES: Final = frozenset({1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011})
REGISTERED_CLOSE_CODES: Final = frozenset({1012, 1013, 1014})
LengthForm = Literal["minimal", "16", "64"]


class _Sentinel:
    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name


NEED_DATA: Final = _Sentinel("NEED_DATA")
#: The peer closed the TCP connection at a frame boundary.
EOF: Final = _Sentinel("EOF")


class WsProtocolError(Exception):
    """The peer broke RFC 6455; the message names the rule and the section."""


class MaskingError(WsProtocolError):
    """A server masked a frame (§5.1), or a client sent one unmasked."""


class ReservedBitsError(WsProtocolError):
    """RSV1-3 set without a negotiated extension (§5.2)."""


class ReservedOpcodeError(WsProtocolError):
    """Opcode 0x3-0x7 or 0xB-0xF (§5.2)."""


class ControlFrameError(WsProtocolError):
    """A control frame longer than 125 bytes or fragmented (§5.5)."""


class LengthError(WsProtocolError):
    """A payload length not in minimal form, or with the 64-bit form's top bit set (§5.2)."""


class FragmentationError(WsProtocolError):
    """A continuation with no message open, or a new message inside a fragmented one (§5.4)."""


class InvalidUtf8Error(WsProtocolError):
    """A text message or a close reason that is not UTF-8 (§5.6, §8.1)."""


class CloseFrameError(WsProtocolError):
    """A Close payload of 1 byte or with a code no endpoint may send (§5.5.1, §7.4)."""


class AfterCloseError(WsProtocolError):
    """A data frame or a second Close after a Close frame (§5.5.1)."""


class TruncatedFrameError(WsProtocolError):
    """The connection ended inside a frame."""


class PayloadTooLarge(WsProtocolError):
    """A frame or message beyond this client's bound (a limit of ours, not a protocol rule)."""


class HandshakeError(WsProtocolError):
    """The opening handshake response is malformed (not a limit of the case's choosing)."""


class WsTimeout(TimeoutError):
    """Nothing (or not enough) arrived before the deadline."""


@dataclass(frozen=True)
class Frame:
    """One decoded frame; ``payload`` is unmasked."""

    opcode: int
    payload: bytes = b""
    fin: bool = True
    rsv: int = 0
    masked: bool = False

    @property
    def is_control(self) -> bool:
        return self.opcode >= 0x8

    def close_code(self) -> int | None:
        """The status code of a Close frame (None when its payload is empty)."""
        return parse_close(self.payload)[0]

    def close_reason(self) -> str:
        return parse_close(self.payload)[1]


def mask_payload(payload: bytes, key: bytes) -> bytes:
    """XOR ``payload`` with the 4-byte ``key`` (masking and unmasking are the same)."""
    if not payload:
        return b""
    repeated = (key * (len(payload) // 4 + 1))[: len(payload)]
    value = int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")
    return value.to_bytes(len(payload), "big")


def encode_frame(
    opcode: int,
    payload: bytes = b"",
    *,
    fin: bool = True,
    rsv: int = 0,
    mask: bytes | None = b"",
    length: LengthForm = "minimal",
) -> bytes:
    """One frame. ``mask=b""`` draws a random key, ``None`` sends the frame unmasked.

    ``length`` forces the 16- or 64-bit length form (a violation for short payloads).
    """
    if not 0 <= opcode <= 0xF or not 0 <= rsv <= 7:
        raise ValueError("opcode is 4 bits, rsv 3 bits")
    first = (0x80 if fin else 0) | (rsv << 4) | opcode
    size = len(payload)
    mask_bit = 0 if mask is None else 0x80
    if length == "minimal" and size < 126:
        head = struct.pack("!BB", first, mask_bit | size)
    elif length == "16" or (length == "minimal" and size < 1 << 16):
        if size >= 1 << 16:
            raise ValueError("payload too long for the 16-bit length form")
        head = struct.pack("!BBH", first, mask_bit | 126, size)
    else:
        head = struct.pack("!BBQ", first, mask_bit | 127, size)
    if mask is None:
        return head + payload
    key = mask or os.urandom(4)
    if len(key) != 4:
        raise ValueError("a masking key is 4 bytes")
    return head + key + mask_payload(payload, key)


def close_payload(code: int | None = None, reason: str | bytes = b"") -> bytes:
    """The payload of a Close frame: empty, or a 2-byte code then the reason."""
    if code is None:
        return b""
    raw = reason.encode() if isinstance(reason, str) else reason
    return struct.pack("!H", code) + raw


def parse_close(payload: bytes) -> tuple[int | None, str]:
    """``(code, reason)`` of a Close payload, without validation (reason decoded leniently)."""
    if len(payload) < 2:
        return None, ""
    return struct.unpack("!H", payload[:2])[0], payload[2:].decode("utf-8", "replace")


def close_code_problem(code: int) -> str | None:
    """Why ``code`` may not appear in a Close frame (§7.4), or None when it may."""
    if code in SENDABLE_CLOSE_CODES or code in REGISTERED_CLOSE_CODES:
        return None
    if 3000 <= code <= 4999:
        return None
    if code in (1005, 1006, 1015):
        return f"close code {code} MUST NOT be set in a Close frame (§7.4.1)"
    return f"close code {code} is not defined, registered nor in 3000-4999 (§7.4.2)"


@dataclass
class _Message:
    opcode: int
    utf8: codecs.IncrementalDecoder | None
    size: int = 0


@dataclass
class FrameDecoder:
    """Incremental RFC 6455 frame decoder that refuses every violation of the peer.

    :param expect_masked: the peer is a client (its frames must be masked); False for a server.
    :param max_payload: bound on one frame and on one message (:class:`PayloadTooLarge`).
    :param allowed_rsv: RSV bits a negotiated extension gives meaning to (none here).
    """

    expect_masked: bool = False
    max_payload: int = DEFAULT_MAX_PAYLOAD
    allowed_rsv: int = 0
    _buffer: bytearray = field(default_factory=bytearray)
    _eof: bool = False
    _message: _Message | None = None
    closed: Frame | None = None

    def receive_data(self, data: bytes) -> None:
        if self._eof:
            raise RuntimeError("receive_data after receive_eof")
        self._buffer += data

    def receive_eof(self) -> None:
        self._eof = True

    @property
    def buffered(self) -> bytes:
        """Bytes received and not yet decoded."""
        return bytes(self._buffer)

    def next_frame(self) -> Frame | _Sentinel:
        """The next complete frame, :data:`NEED_DATA`, or :data:`EOF` after a clean end.

        :raises WsProtocolError: (a named subclass) the peer broke RFC 6455.
        """
        frame = self._parse()
        if frame is NEED_DATA and self._eof:
            if self._buffer:
                raise TruncatedFrameError(
                    f"connection ended inside a frame ({len(self._buffer)} B)"
                )
            return EOF
        if isinstance(frame, Frame):
            self._check_sequence(frame)
        return frame

    def _parse(self) -> Frame | _Sentinel:
        buf = self._buffer
        if len(buf) < 2:
            return NEED_DATA
        first, second = buf[0], buf[1]
        fin, rsv, opcode = bool(first & 0x80), (first >> 4) & 0x7, first & 0xF
        masked, size = bool(second & 0x80), second & 0x7F
        if rsv & ~self.allowed_rsv:
            raise ReservedBitsError(f"RSV bits {rsv:03b} set with no extension negotiated (§5.2)")
        if opcode not in DATA_OPCODES and opcode not in CONTROL_OPCODES:
            raise ReservedOpcodeError(f"reserved opcode 0x{opcode:X} (§5.2)")
        if masked != self.expect_masked:
            who = "a client MUST mask" if self.expect_masked else "a server MUST NOT mask"
            raise MaskingError(f"{who} every frame it sends (§5.1)")
        at = 2
        if size == 126:
            if len(buf) < 4:
                return NEED_DATA
            size = struct.unpack_from("!H", buf, 2)[0]
            at = 4
            if size < 126:
                raise LengthError(f"length {size} in the 16-bit form: not minimal (§5.2)")
        elif size == 127:
            if len(buf) < 10:
                return NEED_DATA
            size = struct.unpack_from("!Q", buf, 2)[0]
            at = 10
            if size >> 63:
                raise LengthError("64-bit length with its most significant bit set (§5.2)")
            if size < 1 << 16:
                raise LengthError(f"length {size} in the 64-bit form: not minimal (§5.2)")
        if opcode in CONTROL_OPCODES:
            if size > MAX_CONTROL_PAYLOAD:
                raise ControlFrameError(f"control frame of {size} bytes (max 125, §5.5)")
            if not fin:
                raise ControlFrameError("fragmented control frame (§5.5)")
        if size > self.max_payload:
            raise PayloadTooLarge(f"frame of {size} bytes over this client's {self.max_payload}")
        key = b""
        if masked:
            if len(buf) < at + 4:
                return NEED_DATA
            key = bytes(buf[at : at + 4])
            at += 4
        if len(buf) < at + size:
            return NEED_DATA
        payload = bytes(buf[at : at + size])
        del buf[: at + size]
        if masked:
            payload = mask_payload(payload, key)
        return Frame(opcode, payload, fin, rsv, masked)

    def _check_sequence(self, frame: Frame) -> None:
        """Fragmentation order, UTF-8 of text messages, Close frame rules."""
        if self.closed is not None and not frame.is_control:
            raise AfterCloseError("a data frame after a Close frame (§5.5.1)")
        if frame.opcode == OP_CLOSE:
            if self.closed is not None:
                raise AfterCloseError("a second Close frame (§5.5.1)")
            self._check_close(frame.payload)
            self.closed = frame
            return
        if frame.is_control:
            return
        message = self._message
        if frame.opcode == OP_CONT:
            if message is None:
                raise FragmentationError("continuation frame with no message open (§5.4)")
        else:
            if message is not None:
                raise FragmentationError("new data frame inside a fragmented message (§5.4)")
            utf8 = codecs.getincrementaldecoder("utf-8")() if frame.opcode == OP_TEXT else None
            message = self._message = _Message(frame.opcode, utf8)
        message.size += len(frame.payload)
        if message.size > self.max_payload:
            raise PayloadTooLarge(f"message over this client's {self.max_payload} bytes")
        if message.utf8 is not None:
            try:
                message.utf8.decode(frame.payload, final=frame.fin)
            except UnicodeDecodeError as error:
                raise InvalidUtf8Error(f"text message is not UTF-8: {error} (§5.6)") from None
        if frame.fin:
            self._message = None

    @staticmethod
    def _check_close(payload: bytes) -> None:
        if len(payload) == 1:
            raise CloseFrameError("Close payload of 1 byte: a code is 2 bytes (§5.5.1)")
        if not payload:
            return
        code, _ = parse_close(payload)
        assert code is not None
        problem = close_code_problem(code)
        if problem is not None:
            raise CloseFrameError(problem)
        try:
            payload[2:].decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidUtf8Error("close reason is not UTF-8 (§5.5.1)") from None


# -- opening handshake --------------------------------------------------------------------------


def new_key() -> str:
    """A random Sec-WebSocket-Key: 16 random bytes, base64 (§4.1)."""
    return base64.b64encode(os.urandom(16)).decode()


def accept_key(key: str) -> str:
    """The Sec-WebSocket-Accept a server must answer for ``key`` (§4.2.2)."""
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()


def default_headers(host: str, key: str) -> list[tuple[str, str]]:
    """The header fields of a valid client handshake (§4.1), in order."""
    return [
        ("Host", host),
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", key),
        ("Sec-WebSocket-Version", "13"),
    ]


def handshake_request(
    path: str,
    headers: list[tuple[str, str]],
    *,
    method: str = "GET",
    version: str = "HTTP/1.1",
) -> bytes:
    """The bytes of a handshake request with exactly ``headers`` (valid or not)."""
    lines = [f"{method} {path} {version}"] + [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


@dataclass(frozen=True)
class HandshakeResponse:
    """The server's answer to a handshake request (head only; ``rest`` follows it)."""

    status: int
    reason: str
    headers: list[tuple[str, str]]
    raw: bytes
    rest: bytes = b""

    def get_all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def get(self, name: str) -> str | None:
        values = self.get_all(name)
        return ", ".join(values) if values else None

    def tokens(self, name: str) -> list[str]:
        """The comma-separated tokens of every ``name`` field, lower-cased."""
        return [t.strip().lower() for v in self.get_all(name) for t in v.split(",") if t.strip()]


def parse_handshake_response(data: bytes) -> HandshakeResponse | _Sentinel:
    """The response head in ``data``, or :data:`NEED_DATA` before its blank line.

    :raises HandshakeError: a malformed status line or field line.
    """
    end = data.find(b"\r\n\r\n")
    if end < 0:
        if len(data) > MAX_HEAD:
            raise HandshakeError(f"response head longer than {MAX_HEAD} bytes")
        return NEED_DATA
    head, rest = data[:end], data[end + 4 :]
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise HandshakeError(f"bad status line {lines[0]!r}")
    if len(parts[1]) != 3:
        raise HandshakeError(f"bad status code {parts[1]!r}")
    headers = []
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip() or b"\n" in line or b"\r" in line:
            raise HandshakeError(f"bad field line {line!r}")
        headers.append((name.decode("latin-1"), value.strip(b" \t").decode("latin-1")))
    reason = parts[2].decode("latin-1") if len(parts) > 2 else ""
    return HandshakeResponse(int(parts[1]), reason, headers, data[: end + 4], rest)


def _deadline_recv(sock: socket.socket, deadline: float, size: int = 65536) -> bytes:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise WsTimeout("deadline passed")
    sock.settimeout(remaining)
    try:
        return sock.recv(size)
    except TimeoutError:
        raise WsTimeout("nothing arrived before the deadline") from None


def read_handshake_response(sock: socket.socket, timeout: float) -> HandshakeResponse:
    """Read the response head (bounded).

    :raises WsTimeout: no complete head in time.
    :raises HandshakeError: malformed, or the connection closed before the head ended.
    """
    deadline = time.monotonic() + timeout
    data = b""
    while True:
        parsed = parse_handshake_response(data)
        if isinstance(parsed, HandshakeResponse):
            return parsed
        chunk = _deadline_recv(sock, deadline)
        if not chunk:
            raise HandshakeError(f"connection closed before the response head ended: {data!r}")
        data += chunk


def check_accepted(response: HandshakeResponse, key: str) -> list[str]:
    """What a 101 answer to ``key`` gets wrong (§4.2.2, §4.1 steps 1-4); empty when valid."""
    problems = []
    if response.status != 101:
        problems.append(f"status {response.status}, not 101")
    if response.tokens("upgrade") != ["websocket"]:
        problems.append(f"Upgrade is {response.get('upgrade')!r}, not 'websocket'")
    if "upgrade" not in response.tokens("connection"):
        problems.append(f"Connection is {response.get('connection')!r}, without 'Upgrade'")
    if response.get_all("sec-websocket-accept") != [accept_key(key)]:
        problems.append(
            f"Sec-WebSocket-Accept is {response.get('sec-websocket-accept')!r}, "
            f"not {accept_key(key)!r}"
        )
    return problems


# -- blocking driver ----------------------------------------------------------------------------


class WsConnection:
    """A socket after a handshake: send raw frames, read decoded frames (bounded)."""

    def __init__(
        self, sock: socket.socket, response: HandshakeResponse, *, timeout: float = 5.0
    ) -> None:
        self.sock = sock
        self.response = response
        self.timeout = timeout
        self.decoder = FrameDecoder()
        self.eof = False
        if response.rest:
            self.decoder.receive_data(response.rest)

    def send(self, data: bytes) -> None:
        """Send raw bytes (frames from :func:`encode_frame`, or anything else)."""
        self.sock.sendall(data)

    def send_frame(self, opcode: int, payload: bytes = b"", **options: object) -> None:
        self.send(encode_frame(opcode, payload, **options))  # type: ignore[arg-type]

    def recv_frame(self, timeout: float | None = None) -> Frame | None:
        """The next frame, or None when the server closed the TCP connection.

        :raises WsTimeout: nothing complete within ``timeout``.
        :raises WsProtocolError: the server broke RFC 6455.
        """
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            event = self.decoder.next_frame()
            if isinstance(event, Frame):
                return event
            if event is EOF:
                return None
            try:
                chunk = _deadline_recv(self.sock, deadline)
            except ConnectionResetError:
                chunk = b""
            if chunk:
                self.decoder.receive_data(chunk)
            else:
                self.eof = True
                self.decoder.receive_eof()

    def recv_message(self, timeout: float | None = None) -> tuple[int, bytes] | Frame | None:
        """The next data message ``(opcode, payload)``, answering pings on the way.

        A Close frame is answered as the :class:`Frame`; None when the TCP connection ended.
        """
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        parts: list[bytes] = []
        opcode = None
        while True:
            frame = self.recv_frame(max(deadline - time.monotonic(), 0.001))
            if frame is None or frame.opcode == OP_CLOSE:
                return frame
            if frame.opcode == OP_PING:
                try:
                    self.send_frame(OP_PONG, frame.payload)
                except OSError:  # the server may already have gone; its frames are still read
                    pass
                continue
            if frame.opcode == OP_PONG:
                continue
            opcode = frame.opcode if opcode is None else opcode
            parts.append(frame.payload)
            if frame.fin:
                return opcode, b"".join(parts)

    def wait_closed(self, timeout: float | None = None) -> bytes:
        """Read until the server closes TCP, ignoring what comes; the bytes received.

        :raises WsTimeout: the connection stayed open past ``timeout``.
        """
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        data = self.decoder.buffered
        while True:
            try:
                chunk = _deadline_recv(self.sock, deadline)
            except ConnectionResetError:
                return data
            if not chunk:
                return data
            data += chunk

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> WsConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_handshake(
    address: tuple[str, int],
    path: str,
    *,
    headers: list[tuple[str, str]] | None = None,
    key: str | None = None,
    timeout: float = 5.0,
) -> tuple[socket.socket, HandshakeResponse]:
    """Connect, send a handshake (``headers`` replace the default set whole), read the head.

    The socket stays open whatever the status; the caller closes it.
    """
    key = key or new_key()
    host = f"{address[0]}:{address[1]}"
    request = handshake_request(path, default_headers(host, key) if headers is None else headers)
    sock = socket.create_connection(address, timeout=timeout)
    try:
        sock.sendall(request)
        return sock, read_handshake_response(sock, timeout)
    except BaseException:
        sock.close()
        raise


def connect(
    address: tuple[str, int],
    path: str,
    *,
    extra_headers: list[tuple[str, str]] | None = None,
    timeout: float = 5.0,
) -> WsConnection:
    """A valid handshake, checked (:class:`HandshakeError` when the server gets it wrong)."""
    key = new_key()
    host = f"{address[0]}:{address[1]}"
    headers = default_headers(host, key) + list(extra_headers or [])
    sock, response = open_handshake(address, path, headers=headers, key=key, timeout=timeout)
    problems = check_accepted(response, key)
    if problems:
        sock.close()
        raise HandshakeError("; ".join(problems) + f"\n{response.raw!r}")
    return WsConnection(sock, response, timeout=timeout)
