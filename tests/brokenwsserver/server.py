"""A small raw-socket WebSocket server that can be told to break one RFC 6455 rule.

Run as ``python server.py --fd FD --fault NAME`` (standard library only: the harness starts it
with the apps' PYTHONPATH). Without a fault (``--fault none``) it keeps every rule the
``SRV-WS-*`` cases check and serves the paths of ``conformance/apps/srv_ws.py`` itself; each
fault in :data:`FAULTS` breaks exactly one rule, the way a careless server would.
Plain HTTP requests get a small JSON answer (``/__ready__`` included).
"""

from __future__ import annotations

import argparse
import base64
import codecs
import hashlib
import json
import os
import socket
import struct
import threading
from typing import Any

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_MESSAGE = 16 << 20
FAULTS = {
    "none": "keeps every rule",
    "mask-frames": "masks the frames it sends (§5.1)",
    "accept-unmasked": "processes unmasked client frames (§5.1)",
    "ignore-rsv": "ignores reserved bits (§5.2)",
    "ignore-opcode": "ignores frames with reserved opcodes (§5.2)",
    "accept-any-version": "accepts any Sec-WebSocket-Version (§4.2.2)",
    "no-version-header": "refuses a version without Sec-WebSocket-Version (§4.4)",
    "accept-bad-key": "accepts any Sec-WebSocket-Key, even none (§4.2.1)",
    "wrong-accept": "computes Sec-WebSocket-Accept without the GUID (§4.2.2)",
    "no-close-reply": "never answers a Close frame (§5.5.1)",
    "ignore-utf8": "passes invalid UTF-8 text on (§8.1)",
    "close-1000-on-error": "closes with 1000 on protocol errors (§7.1.7)",
    "no-pong": "never answers a Ping (§5.5.2)",
    "pong-empty": "answers a Ping with an empty Pong (§5.5.3)",
    "keep-tcp-open": "keeps TCP open after the closing handshake (§5.5.1)",
    "long-length": "always uses the 64-bit length form (§5.2)",
    "send-after-close": "sends a data frame after its Close frame (§5.5.1)",
    "no-limit": "reads frames of any announced size (§10.4)",
    "ignore-control-size": "accepts control frames over 125 bytes (§5.5)",
    "subprotocol-always": "answers Sec-WebSocket-Protocol although none was agreed (§4.2.2)",
    "extension-always": "answers Sec-WebSocket-Extensions nobody requested (§9.1)",
    "upgrade-http10": "upgrades HTTP/1.0 requests (§4.2.1)",
    "no-host-check": "upgrades requests without Host (§4.2.1)",
    "disconnect-1000": "tells the app 1000 whatever the client's code (ASGI)",
    "app-raise-keep-open": "keeps the connection open when the app raises (ASGI)",
    "ignore-fragments": "accepts continuation frames out of place (§5.4)",
    "reverse-fragments": "assembles fragments in reverse order (§5.4)",
    "status-200": "answers an accepted handshake with 200 instead of 101 (§4.2.2)",
    "no-upgrade-field": "answers 101 without Upgrade: websocket (§4.2.2)",
    "no-connection-field": "answers 101 without Connection: Upgrade (§4.2.2)",
    "upgrade-anything": "upgrades whatever the Upgrade and Connection fields say (§4.2.1)",
    "invented-subprotocol": "answers a subprotocol the client never offered (§4.2.2)",
    "no-unmask": "passes client payloads on still masked (§6.2)",
    "first-fragment-only": "delivers only the first fragment of a message (§5.4)",
    "control-drops-message": "drops the open message when a control frame comes (§5.4)",
    "lenient-close": "answers any Close payload as a normal close (§5.5.1, §7.4)",
    "no-disconnect": "never tells the app about a disconnect (ASGI)",
    "accept-without-app": "completes the handshake although the app never accepted (ASGI)",
}
RESULTS: dict[str, dict[str, Any]] = {}


def unmask(data: bytes, key: bytes) -> bytes:
    repeated = (key * (len(data) // 4 + 1))[: len(data)]
    value = int.from_bytes(data, "big") ^ int.from_bytes(repeated, "big")
    return value.to_bytes(len(data), "big")


class Violation(Exception):
    """The client broke a rule: fail the connection with ``code``."""

    def __init__(self, code: int, why: str) -> None:
        super().__init__(why)
        self.code = code


class Connection:
    """One client connection, served in its own thread."""

    def __init__(self, sock: socket.socket, fault: str) -> None:
        self.sock = sock
        self.fault = fault
        self.buffer = b""
        self.sent_close = False

    # -- I/O --------------------------------------------------------------------------------

    def read(self, size: int) -> bytes:
        while len(self.buffer) < size:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("client closed")
            self.buffer += chunk
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def read_head(self) -> bytes:
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("client closed")
            self.buffer += chunk
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        return head

    def send_frame(self, opcode: int, payload: bytes = b"") -> None:
        size = len(payload)
        mask_bit = 0x80 if self.fault == "mask-frames" else 0
        if self.fault == "long-length" or size >= 1 << 16:
            head = struct.pack("!BBQ", 0x80 | opcode, mask_bit | 127, size)
        elif size >= 126:
            head = struct.pack("!BBH", 0x80 | opcode, mask_bit | 126, size)
        else:
            head = struct.pack("!BB", 0x80 | opcode, mask_bit | size)
        if mask_bit:
            key = os.urandom(4)
            payload = unmask(payload, key)
            head += key
        self.sock.sendall(head + payload)

    def http(self, status: str, headers: list[tuple[str, str]], body: bytes = b"") -> None:
        lines = [f"HTTP/1.1 {status}"] + [f"{k}: {v}" for k, v in headers]
        lines.append(f"Content-Length: {len(body)}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)

    # -- handshake --------------------------------------------------------------------------

    def serve(self) -> None:
        try:
            head = self.read_head().decode("latin-1")
            lines = head.split("\r\n")
            method, target, version = [*lines[0].split(" "), "", "", ""][:3]
            fields: dict[str, str] = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                fields[name.strip().lower()] = value.strip()
            upgrade = "websocket" in fields.get("upgrade", "").lower()
            if self.fault == "upgrade-anything" and "sec-websocket-key" in fields:
                upgrade = True
            if not upgrade:
                self.plain(target, fields)
                return
            self.handshake(method, target, version, fields)
        except (ConnectionError, OSError):
            pass
        finally:
            self.sock.close()

    def plain(self, target: str, fields: dict[str, str]) -> None:
        parts = target.split("/")
        if len(parts) > 3 and parts[2] == "result":
            record = RESULTS.get(parts[3])
            if record is None or record["disconnect"] is None:
                self.http("404 Not Found", [], b"{}")
            else:
                self.http(
                    "200 OK", [("Content-Type", "application/json")], json.dumps(record).encode()
                )
            return
        self.http("200 OK", [("Content-Type", "application/json")], b'{"http": true}')

    def handshake(self, method: str, target: str, version: str, fields: dict[str, str]) -> None:
        key = fields.get("sec-websocket-key", "")
        try:
            key_ok = len(base64.b64decode(key, validate=True)) == 16
        except ValueError:
            key_ok = False
        if self.fault == "accept-bad-key":
            key_ok = True
        connection = [t.strip().lower() for t in fields.get("connection", "").split(",")]
        host_ok = "host" in fields or self.fault == "no-host-check"
        version_ok = version == "HTTP/1.1" or self.fault == "upgrade-http10"
        connection_ok = "upgrade" in connection or self.fault == "upgrade-anything"
        if method != "GET" or not version_ok or not host_ok or not connection_ok:
            self.http("400 Bad Request", [])
            return
        if fields.get("sec-websocket-version") != "13" and self.fault != "accept-any-version":
            headers = [] if self.fault == "no-version-header" else [("Sec-WebSocket-Version", "13")]
            self.http("426 Upgrade Required", headers)
            return
        if not key_ok:
            self.http("400 Bad Request", [])
            return
        parts = target.split("/")
        action = parts[2] if len(parts) > 2 else ""
        argument = parts[3] if len(parts) > 3 else ""
        if action == "raise-before-accept" and self.fault != "accept-without-app":
            self.http("500 Internal Server Error", [])
            return
        if action == "return-before-accept" and self.fault != "accept-without-app":
            self.http("403 Forbidden", [])
            return
        guid = b"" if self.fault == "wrong-accept" else GUID
        accept = base64.b64encode(hashlib.sha1(key.encode() + guid).digest()).decode()
        lines = [
            "HTTP/1.1 200 OK" if self.fault == "status-200" else "HTTP/1.1 101 Switching Protocols"
        ]
        if self.fault != "no-upgrade-field":
            lines.append("Upgrade: websocket")
        if self.fault != "no-connection-field":
            lines.append("Connection: Upgrade")
        lines.append(f"Sec-WebSocket-Accept: {accept}")
        offered = [p.strip() for p in fields.get("sec-websocket-protocol", "").split(",") if p]
        if action == "subprotocol" and offered:
            chosen = "invented.v0" if self.fault == "invented-subprotocol" else offered[0]
            lines.append(f"Sec-WebSocket-Protocol: {chosen}")
        elif self.fault == "subprotocol-always":
            lines.append("Sec-WebSocket-Protocol: chat.v1")
        if self.fault == "extension-always":
            lines.append("Sec-WebSocket-Extensions: x-conformance-unknown")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.session(action, argument)

    # -- after the handshake ----------------------------------------------------------------

    def session(self, action: str, argument: str) -> None:
        record: dict[str, Any] = {"messages": 0, "disconnect": None}
        if action == "echo" and argument and self.fault != "no-disconnect":
            RESULTS[argument] = record
        if action == "subprotocol":
            self.send_frame(0x1, b"ok")
        elif action == "send":
            size = int(argument)
            self.send_frame(0x2, (bytes(range(256)) * (size // 256 + 1))[:size])
            self.send_frame(0x1, b"done")
        elif action == "close-then-send":
            self.send_frame(0x8, struct.pack("!H", 4001) + b"closing")
            self.sent_close = True
            if self.fault == "send-after-close":
                self.send_frame(0x1, b"after close")
        try:
            self.frames(action, record)
        except Violation as violation:
            code = 1000 if self.fault == "close-1000-on-error" else violation.code
            self.send_frame(0x8, struct.pack("!H", code))
            record["disconnect"] = {"code": 1006, "reason": ""}
        except ConnectionError:
            record["disconnect"] = {"code": 1006, "reason": ""}

    def frames(self, action: str, record: dict[str, Any]) -> None:
        message: list[bytes] | None = None
        opcode_open = 0
        utf8: Any = None
        while True:
            first, second = self.read(2)
            fin, rsv, opcode = bool(first & 0x80), (first >> 4) & 7, first & 0xF
            masked, size = bool(second & 0x80), second & 0x7F
            if size == 126:
                size = struct.unpack("!H", self.read(2))[0]
            elif size == 127:
                size = struct.unpack("!Q", self.read(8))[0]
            if rsv and self.fault != "ignore-rsv":
                raise Violation(1002, "reserved bits")
            known = opcode in (0, 1, 2, 8, 9, 10)
            if not known and self.fault != "ignore-opcode":
                raise Violation(1002, "reserved opcode")
            if not masked and self.fault != "accept-unmasked":
                raise Violation(1002, "unmasked")
            if opcode >= 8 and (size > 125 or not fin) and self.fault != "ignore-control-size":
                raise Violation(1002, "control frame")
            if size > MAX_MESSAGE and self.fault != "no-limit":
                raise Violation(1009, "too big")
            key = self.read(4) if masked else b"\0\0\0\0"
            payload = self.read(size)
            if self.fault != "no-unmask":
                payload = unmask(payload, key)
            if not known:
                continue
            if opcode >= 8 and self.fault == "control-drops-message":
                message, utf8 = None, None
                if opcode != 0x8:
                    if opcode == 0x9:
                        self.send_frame(0xA, payload)
                    continue
            if opcode == 0x9:
                if self.fault != "no-pong":
                    self.send_frame(0xA, b"" if self.fault == "pong-empty" else payload)
                continue
            if opcode == 0xA:
                continue
            if opcode == 0x8:
                self.close(payload, record)
                return
            if opcode == 0 and message is None:
                if self.fault != "ignore-fragments":
                    raise Violation(1002, "continuation first")
                message, opcode_open = [], 1
            if opcode in (1, 2) and message is not None:
                if self.fault != "ignore-fragments":
                    raise Violation(1002, "interleaved")
            if opcode in (1, 2):
                message, opcode_open = [], opcode
                utf8 = codecs.getincrementaldecoder("utf-8")() if opcode == 1 else None
            if message is None:  # control-drops-message lost the start: resync quietly
                message, opcode_open = [], 1
            if not (self.fault == "first-fragment-only" and opcode == 0):
                message.append(payload)
            if utf8 is not None and self.fault != "ignore-utf8":
                try:
                    utf8.decode(payload, final=fin)
                except UnicodeDecodeError:
                    raise Violation(1007, "invalid utf-8") from None
            if fin:
                parts = message[::-1] if self.fault == "reverse-fragments" else message
                self.deliver(action, opcode_open, b"".join(parts), record)
                message, utf8 = None, None

    def deliver(self, action: str, opcode: int, data: bytes, record: dict[str, Any]) -> None:
        record["messages"] += 1
        if action == "raise":
            if self.fault == "app-raise-keep-open":
                return
            raise Violation(1011, "the app raised")
        if action == "return":
            raise Violation(1000, "the app returned")
        if action == "length":
            self.send_frame(0x1, str(len(data)).encode())
        elif action == "echo":
            self.send_frame(opcode, data)
        elif action == "prefixed":
            self.send_frame(opcode, b"=" + data)

    def close(self, payload: bytes, record: dict[str, Any]) -> None:
        if self.fault == "lenient-close":
            record["disconnect"] = {"code": 1000, "reason": ""}
            self.send_frame(0x8, struct.pack("!H", 1000))
            return
        if len(payload) == 1:
            raise Violation(1002, "one-byte close")
        code = struct.unpack("!H", payload[:2])[0] if payload else None
        valid = code is None or code in (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011)
        valid = valid or (code is not None and 3000 <= code <= 4999)
        if not valid:
            raise Violation(1002, "bad close code")
        try:
            payload[2:].decode("utf-8")
        except UnicodeDecodeError:
            if self.fault != "ignore-utf8":
                raise Violation(1007, "close reason") from None
        told = 1000 if self.fault == "disconnect-1000" else (1005 if code is None else code)
        record["disconnect"] = {"code": told, "reason": ""}
        if self.fault != "no-close-reply" and not self.sent_close:
            self.send_frame(0x8, payload[:2])
        if self.fault == "keep-tcp-open":
            while self.sock.recv(65536):
                pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--fault", choices=sorted(FAULTS), default="none")
    args = parser.parse_args()
    listener = socket.socket(fileno=args.fd)
    while True:
        sock, _ = listener.accept()
        sock.settimeout(30)
        threading.Thread(target=Connection(sock, args.fault).serve, daemon=True).start()


if __name__ == "__main__":
    main()
