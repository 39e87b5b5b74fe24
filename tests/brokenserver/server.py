"""A small raw-socket asyncio HTTP/1.1 ASGI server that can be told to break rules.

``python server.py --fd N [--faults a,b] module:app`` serves on an inherited listening socket.
Without faults it keeps every ``SRV-*`` rule of the conformance catalogue; each fault name
(``--faults`` or ``BROKEN_FAULTS``) breaks one rule the way a careless server would, so that
``tests/test_brokenserver.py`` can show each server case failing. Standard library only.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import socket
import sys
from email.utils import formatdate
from http import HTTPStatus
from typing import Any

from http1 import MAX_HEAD, TOKEN, BadRequest, Request, chunk_size, parse_head, split_target

Message = dict[str, Any]
NO_CONTENT = (204, 304)


class ClientGone(OSError):
    """``send()`` after the client went away."""


class Stream:
    """A connection's bytes: a buffer in front of the reader."""

    def __init__(self, reader: asyncio.StreamReader, faults: frozenset[str]) -> None:
        self.reader = reader
        self.faults = faults
        self.buf = bytearray()
        self.eof = False

    async def fill(self) -> bool:
        if self.eof:
            return False
        try:
            data = await self.reader.read(65536)
        except ConnectionError:
            if "reset-crash" in self.faults:
                os._exit(4)
            data = b""
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    async def line(self, faults: frozenset[str]) -> bytes:
        while True:
            end = self.buf.find(b"\n" if "lf-lines" in faults else b"\r\n")
            if end >= 0:
                line = bytes(self.buf[:end])
                del self.buf[: end + (1 if "lf-lines" in faults else 2)]
                return line.rstrip(b"\r") if "lf-lines" in faults else line
            if len(self.buf) > 65536 or not await self.fill():
                raise BadRequest(400, "line")

    async def take(self, count: int) -> bytes:
        while len(self.buf) < count:
            if not await self.fill():
                raise EOFError
        data = bytes(self.buf[:count])
        del self.buf[:count]
        return data


class Exchange:
    """One request on a connection: its body reader, the app's receive and send."""

    def __init__(self, conn: Connection, request: Request, scope: Message) -> None:
        self.conn = conn
        self.faults = conn.faults
        self.request = request
        self.scope = scope
        self.remaining = request.length if request.framing == "length" else 0
        self.body_done = request.framing == "none" or (
            request.framing == "length" and self.remaining == 0
        )
        self.continue_sent = False
        self.disconnected = False
        self.started: Message | None = None
        self.flushed = False
        self.complete = False
        self.failed = False
        self.framing = "none"
        self.left = 0
        self.close_after = request.close
        self.gone = asyncio.Event()
        self.finished = asyncio.Event()
        self.delivered_empty = False
        self.refused = False
        self.final_delivered = False
        self.disconnect_sent = False

    # -- receive --------------------------------------------------------------------------------

    async def next_body(self) -> bytes:
        """The next piece of the body; sets ``body_done`` at its end.

        :raises EOFError: the client went away mid-body.
        """
        stream = self.conn.stream
        if self.request.framing == "length":
            if not stream.buf and not await stream.fill():
                raise EOFError
            data = bytes(stream.buf[: self.remaining])
            del stream.buf[: len(data)]
            self.remaining -= len(data)
            self.body_done = self.remaining == 0
            return data
        line = await stream.line(self.faults)
        try:
            size = chunk_size(line, self.faults)
        except BadRequest:
            if "chunk-stop-on-garbage" not in self.faults:
                raise
            stream.buf[:0] = line + b"\r\n"
            size = -1
        if size <= 0:
            if size == 0 and "no-trailers" in self.faults:
                if await stream.line(self.faults):
                    raise BadRequest(400, "trailers")
            elif size == 0:
                while await stream.line(self.faults):
                    pass  # trailer fields: read, never merged into the headers
            self.body_done = True
            return b""
        data = await stream.take(size)
        if "chunk-overrun" in self.faults or "lf-lines" in self.faults:
            await stream.line(self.faults)
        elif await stream.take(2) != b"\r\n":
            raise BadRequest(400, "chunk data")
        return data

    async def receive(self) -> Message:
        if self.complete or self.disconnected:
            if self.complete and "no-disconnect-after-response" in self.faults:
                await self.gone.wait()
            if self.disconnect_sent and "disconnect-once" in self.faults:
                await asyncio.Event().wait()
            self.disconnect_sent = True
            return {"type": "http.disconnect"}
        if self.body_done and not self.final_delivered:
            if "split-empty-body" in self.faults and not self.delivered_empty:
                self.delivered_empty = True
                return {"type": "http.request", "body": b"", "more_body": True}
            self.final_delivered = True
            return {"type": "http.request", "body": b"", "more_body": False}
        if self.body_done:
            if "extra-message" in self.faults and not self.delivered_empty:
                self.delivered_empty = True
                return {"type": "http.request", "body": b"", "more_body": False}
            if "no-disconnect" not in self.faults:
                self.conn.watch()
            await self.gone.wait()
            self.disconnected = self.disconnect_sent = True
            return {"type": "http.disconnect"}
        if self.request.expect_continue and not self.continue_sent:
            self.continue_sent = True
            if "expect-ignore" not in self.faults:
                await self.conn.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        try:
            data = await self.next_body()
        except BadRequest as error:  # a malformed body: refuse it, the app sees a disconnect
            if not self.flushed:
                await self.conn.refuse(error.status)
            self.refused = self.disconnected = self.failed = True
            self.gone.set()
            return {"type": "http.disconnect"}
        except EOFError:
            if "truncated-body-complete" in self.faults:
                self.body_done = True
                return {"type": "http.request", "body": b"", "more_body": False}
            self.disconnected = True
            self.gone.set()
            return {"type": "http.disconnect"}
        more = not self.body_done
        self.final_delivered = self.body_done
        if "body-flags-false" in self.faults:
            more = False
        if "trailers-merge" in self.faults and self.body_done:
            self.scope["headers"].append((b"x-trailer", b"t"))
        return {"type": "http.request", "body": data, "more_body": more}

    # -- send -----------------------------------------------------------------------------------

    def check_start(self, message: Message) -> None:
        if "no-validate" in self.faults:
            return
        status = message.get("status")
        if type(status) is not int or not 100 <= status <= 599:
            raise TypeError(f"status must be an int in 100..599, not {status!r}")
        for name, value in message.get("headers", []):
            if not isinstance(name, bytes) or not isinstance(value, bytes):
                raise TypeError("header names and values must be bytes")
            if "header-injection" in self.faults:
                continue
            if not TOKEN.fullmatch(name) or any(c in value for c in b"\r\n\x00"):
                raise ValueError(f"invalid header {name!r}: {value!r}")

    async def send(self, message: Message) -> None:
        kind = message.get("type")
        if self.disconnected or self.conn.closed:
            if "send-after-disconnect-noop" in self.faults:
                return
            raise ClientGone("the client went away")
        if self.complete:
            if "late-send" in self.faults:
                await self.conn.write(message.get("body", b"") or b"HTTP/1.1 500 \r\n\r\n")
            return
        if kind == "http.response.start":
            if self.started is not None:
                if "start-twice-writes" in self.faults:
                    await self.conn.write(b"HTTP/1.1 201 Created\r\n\r\n")
                if "no-validate" in self.faults:
                    return
                raise RuntimeError("http.response.start sent twice")
            if "extra-key-reject" in self.faults and set(message) - {"type", "status", "headers"}:
                raise ValueError("unknown key")
            self.check_start(message)
            self.started = message
            if "flush-start" in self.faults:
                await self.write_head(True, b"")
            return
        if kind != "http.response.body" or self.started is None:
            if "no-validate" in self.faults:
                return
            raise ValueError(f"unexpected message {kind!r}")
        body = bytes(message.get("body", b""))
        more = bool(message.get("more_body", False))
        if not self.flushed:
            await self.write_head(more, body)
        await self.write_body(body, more)

    def response_fields(self, more: bool, body: bytes) -> tuple[int, list[tuple[bytes, bytes]]]:
        assert self.started is not None
        status = int(self.started["status"])
        fields: list[tuple[bytes, bytes]] = []
        length: int | None = None
        for name, value in self.started.get("headers", []):
            lower = bytes(name).lower()
            if lower == b"content-length" and "cl-rewrite" not in self.faults:
                length = int(value)
            if lower == b"connection":
                if b"close" in value.lower() and "ignore-app-close" not in self.faults:
                    self.close_after = True
                continue
            if lower == b"transfer-encoding":
                if "app-te-passthrough" not in self.faults:
                    continue
                self.passthrough = True
            if lower == b"content-length" and (status == 204 or "cl-rewrite" in self.faults):
                continue
            fields.append((bytes(name), bytes(value)))
        names = {name.lower() for name, _ in fields}
        head = self.request.method == "HEAD" or status in NO_CONTENT
        keep_body = ("head-body" in self.faults and self.request.method == "HEAD") or (
            "nocontent-body" in self.faults and status in NO_CONTENT
        )
        if head and not keep_body:
            self.framing = "none"
        elif length is not None:
            self.framing, self.left = "length", length
            if "te-with-cl" in self.faults:
                fields.append((b"transfer-encoding", b"chunked"))
                self.framing = "chunked"
        elif self.request.version == "1.1" and "close-delimited" not in self.faults:
            self.framing = "chunked"
        elif "chunked-to-http10" in self.faults:
            self.framing = "chunked"
        else:
            self.framing, self.close_after = "close", True
        if self.framing == "chunked" and b"transfer-encoding" not in names:
            if status != 204:
                fields.append((b"transfer-encoding", b"chunked"))
        if getattr(self, "passthrough", False):
            self.framing = "close" if length is None else "length"
        if status == 204 and "204-chunked" in self.faults:
            fields.append((b"transfer-encoding", b"chunked"))
        if status == 204 and "204-cl" in self.faults:
            fields.append((b"content-length", b"0"))
        if self.request.method == "HEAD" and "head-cl-zero" in self.faults:
            fields = [f for f in fields if f[0].lower() != b"content-length"]
            fields.append((b"content-length", b"0"))
        if b"date" not in names or "dup-date" in self.faults:
            if "no-date" not in self.faults:
                date = formatdate(usegmt=True).encode()
                fields.append(
                    (b"date", b"2026-12-01T00:00:00Z" if "bad-date" in self.faults else date)
                )
        if b"server" not in names or "dup-server" in self.faults:
            fields.append((b"server", b"brokenserver"))
        if self.close_after and "no-close-header" not in self.faults:
            fields.append((b"connection", b"close"))
        if "header-reorder" in self.faults:
            fields.reverse()
        return status, fields

    async def write_head(self, more: bool, body: bytes) -> None:
        status, fields = self.response_fields(more, body)
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = ""
        version = (
            "HTTP/1.0"
            if self.request.version == "1.0" and "version-10" in self.faults
            else "HTTP/1.1"
        )
        line = f"{version} {status}" + (
            "" if not reason and "no-reason-space" in self.faults else f" {reason}"
        )
        head = line.encode() + b"\r\n" + b"".join(n + b": " + v + b"\r\n" for n, v in fields)
        self.flushed = True
        await self.conn.write(head + b"\r\n")

    async def write_body(self, body: bytes, more: bool) -> None:
        if "buffer-body" in self.faults:
            self.held = getattr(self, "held", b"") + body
            if more:
                return
            body = self.held
        if self.framing == "length":
            if len(body) > self.left and "cl-overrun" not in self.faults:
                await self.conn.write(body[: self.left])
                self.left = 0
                self.failed = True
                raise RuntimeError("response body longer than Content-Length")
            self.left -= len(body)
            await self.conn.write(body)
        elif self.framing == "chunked":
            if body or "empty-chunk" in self.faults:
                await self.conn.write(b"%x\r\n%s\r\n" % (len(body), body))
            if not more:
                await self.conn.write(b"0\r\n\r\n")
        elif self.framing == "close":
            await self.conn.write(body)
        await self.conn.drain()
        if not more:
            if self.framing == "length" and self.left > 0 and "error-keepalive" not in self.faults:
                self.failed = True
                return
            self.complete = True

    async def run(self, app: Any) -> None:
        try:
            await app(self.scope, self.receive, self.send)
        except Exception as error:
            self.app_error(error)
            if self.complete and "error-after-complete-500" in self.faults:
                await self.conn.write(
                    b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\n\r\n"
                )
        if not self.complete:
            await self.unfinished()
        self.finished.set()

    def app_error(self, error: Exception) -> None:
        if "crash-on-error" in self.faults:
            os._exit(3)
        print(f"application error: {error!r}", file=sys.stderr, flush=True)

    async def unfinished(self) -> None:
        """The app ended without completing its response."""
        if self.refused:
            return
        if not self.flushed:
            if "error-200" in self.faults:
                await self.conn.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                self.complete = True
                return
            body = b"Internal Server Error"
            await self.conn.write(
                b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: %d\r\n"
                b"connection: close\r\n\r\n%s" % (len(body), body)
            )
        elif "error-complete" in self.faults and self.framing == "chunked":
            await self.conn.write(b"0\r\n\r\n")
            self.complete = True
            return
        elif "error-keepalive" in self.faults:
            self.complete = True
            return
        self.close_after = True
        self.failed = True


class Connection:
    def __init__(self, app: Any, faults: frozenset[str], reader: Any, writer: Any) -> None:
        self.app = app
        self.faults = faults
        self.stream = Stream(reader, faults)
        self.writer = writer
        self.closed = False
        self.current: Exchange | None = None
        self._watcher: asyncio.Task[None] | None = None

    async def write(self, data: bytes) -> None:
        if self.closed:
            raise ClientGone("connection closed")
        self.writer.write(data)

    async def drain(self) -> None:
        try:
            await self.writer.drain()
        except ConnectionError:
            if "reset-crash" in self.faults:
                os._exit(4)
            self.closed = True
            if self.current is not None:
                self.current.disconnected = True

    def watch(self) -> None:
        """Read ahead after the body so that a close is seen while the app waits."""
        if self._watcher is None:
            self._watcher = asyncio.get_running_loop().create_task(self._watch())

    async def _watch(self) -> None:
        exchange = self.current
        while exchange is not None and await self.stream.fill():
            if exchange.complete:
                return
        if exchange is not None:
            exchange.gone.set()

    async def stop_watch(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            try:
                await self._watcher
            except asyncio.CancelledError:
                pass
            self._watcher = None

    async def read_head(self) -> bytes | None:
        stream = self.stream
        while True:
            if "no-leading-crlf" not in self.faults:
                while stream.buf.startswith(b"\r\n"):
                    del stream.buf[:2]
            end = stream.buf.find(b"\r\n\r\n")
            if end >= 0:
                head = bytes(stream.buf[:end])
                del stream.buf[: end + 4]
                return head
            if len(stream.buf) > MAX_HEAD:
                raise BadRequest(431, "head too large")
            if "head-timeout" in self.faults and stream.buf:
                try:
                    filled = await asyncio.wait_for(stream.fill(), 0.05)
                except TimeoutError:
                    raise BadRequest(408, "slow head") from None
            else:
                filled = await stream.fill()
            if not filled:
                if stream.buf and "half-close-hang" not in self.faults:
                    raise BadRequest(400, "incomplete head")
                return None

    async def serve(self) -> None:
        try:
            while not self.closed:
                try:
                    head = await self.read_head()
                    if head is None:
                        if "half-close-hang" in self.faults:
                            await asyncio.sleep(30)
                        break
                    request = parse_head(head, self.faults)
                except BadRequest as error:
                    await self.refuse(error.status)
                    break
                if not await self.handle(request):
                    break
        except ConnectionResetError:
            if "reset-crash" in self.faults:
                os._exit(4)
        finally:
            await self.stop_watch()
            self.closed = True
            self.writer.close()

    async def refuse(self, status: int) -> None:
        reason = HTTPStatus(status).phrase.encode()
        body = reason
        await self.write(
            b"HTTP/1.1 %d %s\r\ncontent-length: %d\r\nconnection: close\r\n\r\n%s"
            % (status, reason, len(body), body)
        )
        await self.drain()

    async def handle(self, request: Request) -> bool:
        """Serve one request; whether the connection goes on."""
        path, raw_path, query = split_target(request.target, self.faults)
        peer = self.writer.get_extra_info("peername") or ("", 0)
        local = self.writer.get_extra_info("sockname") or ("", 0)
        headers: list[Any] = [[name, value] for name, value in request.headers]
        if "headers-str" in self.faults:
            headers = [[n.decode("latin-1"), v.decode("latin-1")] for n, v in request.headers]
        if "latin-decode" in self.faults:
            headers = [[n, v.decode("latin-1").encode("utf-8")] for n, v in request.headers]
        if "dedupe-headers" in self.faults:
            headers = [[n, v] for n, v in dict((n, v) for n, v in request.headers).items()]
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": request.version,
            "method": request.method.upper(),
            "scheme": "http",
            "path": path,
            "raw_path": raw_path,
            "query_string": query,
            "root_path": "",
            "headers": headers,
            "client": [peer[0], local[1] if "client-port-wrong" in self.faults else peer[1]],
            "server": [local[0], local[1]],
        }
        exchange = Exchange(self, request, scope)
        self.current = exchange
        if request.expect_continue and "expect-wait-body" in self.faults:
            try:
                self.stream.buf[:0] = await self.stream.take(request.length)
            except EOFError:
                return False
        try:
            await exchange.run(self.app)
        except BadRequest as error:
            if not exchange.flushed:
                await self.refuse(error.status)
            return False
        await self.drain()
        await self.stop_watch()
        if exchange.failed or exchange.close_after or self.closed or "no-keepalive" in self.faults:
            return False
        if "unread-body-keep" in self.faults and exchange.request.framing == "chunked":
            if not exchange.body_done:
                await self.stream.line(self.faults)  # skips the chunk-size line only
        elif "unread-body-keep" not in self.faults:
            try:
                while not exchange.body_done:
                    await exchange.next_body()
            except (BadRequest, EOFError):
                return False
        return True


def load_app(spec: str) -> Any:
    module, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module), attr or "app")


async def main(fd: int, app_spec: str, faults: frozenset[str]) -> None:
    app = load_app(app_spec)

    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await Connection(app, faults, reader, writer).serve()

    sock = socket.socket(fileno=fd)
    server = await asyncio.start_server(client, sock=sock)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--faults", default=os.environ.get("BROKEN_FAULTS", ""))
    parser.add_argument("app")
    options = parser.parse_args()
    chosen = frozenset(name for name in options.faults.split(",") if name)
    try:
        asyncio.run(main(options.fd, options.app, chosen))
    except KeyboardInterrupt:
        pass
