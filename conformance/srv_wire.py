"""Raw-socket exchanges for the server cases (``test_srv_*.py``): send bytes, read what comes.

:func:`roundtrip` sends exact bytes on one connection and reads until the server closes, until
every expected response is complete, or until nothing arrives for the bound; it then parses
what came, strictly, as a sequence of responses (:class:`Exchange`). Requests built with
:func:`request` and the pipelined :data:`CANARY` (``Connection: close``) let a case see whether
a malformed request smuggled a second one through (:meth:`Exchange.smuggled`) and whether the
server went on reading the connection (:meth:`Exchange.canary`).
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from conformance.harness import expect_true
from conformance.harness.http1.events import Sentinel
from conformance.harness.http1.response import Collector
from conformance.harness.rawhttp import (
    ConnectionClosed,
    EndOfMessage,
    FramingError,
    RawResponse,
    ResponseParser,
)
from conformance.harness.server import Server

BOUND = 1.0
HOST = b"127.0.0.1"
CANARY_PATH = b"/srvhttp/echo/canary"
SMUGGLED_PATH = b"/srvhttp/echo/smuggled"
CANARY = b"GET " + CANARY_PATH + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
SMUGGLED = b"GET " + SMUGGLED_PATH + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def _answered(path: bytes) -> bytes:
    """How the echo app's JSON names the path of the request it answered."""
    return b'"path": {"str": "' + path + b'"}'


def request(
    method: str = "GET",
    target: str | bytes = "/srvhttp/echo",
    fields: Sequence[str | bytes] = (),
    body: bytes = b"",
    *,
    version: str = "1.1",
    host: bool = True,
    close: bool = False,
) -> bytes:
    """One request's exact bytes: request line, Host (unless ``host=False``), ``fields``
    (each a whole line without CRLF), ``Connection: close`` if asked, the body as given."""
    raw_target = target.encode("latin-1") if isinstance(target, str) else target
    lines = [method.encode() + b" " + raw_target + b" HTTP/" + version.encode()]
    if host:
        lines.append(b"Host: " + HOST)
    lines += [line.encode("latin-1") if isinstance(line, str) else line for line in fields]
    if close:
        lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


@dataclass
class Exchange:
    """What came back on one connection."""

    raw: bytes
    responses: list[RawResponse]
    closed: bool
    reset: bool
    timed_out: bool
    error: str | None = None
    leftover: bytes = b""
    elapsed: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def first(self) -> RawResponse | None:
        return self.responses[0] if self.responses else None

    @property
    def statuses(self) -> list[int]:
        return [response.status for response in self.responses]

    @property
    def cut_off(self) -> bool:
        """The server closed the connection in the middle of a response."""
        return (
            self.closed
            and self.error is not None
            and ("connection closed" in self.error or self.error.startswith("incomplete"))
        )

    def smuggled(self) -> bool:
        """A response answers the request hidden in a body (``/srvhttp/echo/smuggled``)."""
        return any(_answered(SMUGGLED_PATH) in response.body for response in self.responses)

    def canary(self) -> bool:
        """The pipelined canary request was answered."""
        return any(_answered(CANARY_PATH) in response.body for response in self.responses)

    def summary(self) -> str:
        state = "closed" if self.closed else ("open (timed out)" if self.timed_out else "open")
        if self.reset:
            state += " by RST"
        text = f"statuses {self.statuses}, connection {state}, {len(self.raw)} bytes"
        if self.error:
            text += f", framing error: {self.error}"
        shown = self.raw[:600]
        return f"{text}; raw {shown!r}{'...' if len(self.raw) > 600 else ''}"

    def echo(self, index: int = 0) -> dict[str, Any]:
        """The JSON answer of the echo app in response ``index``."""
        expect_true(
            len(self.responses) > index,
            "the echo app answers",
            f"response #{index + 1}",
            self.summary(),
        )
        response = self.responses[index]
        try:
            data: dict[str, Any] = json.loads(response.body)
        except ValueError:
            expect_true(False, "the echo app answered", "its JSON answer", self.summary())
        return data


def parse_all(
    data: bytes, hints: Sequence[str], eof: bool, strict: bool = True
) -> tuple[list[RawResponse], str | None, bytes]:
    """Complete responses in ``data``, a framing error (text) if any, the unparsed rest."""
    responses: list[RawResponse] = []
    parser = ResponseParser(hints[0] if hints else "GET", strict=strict)
    parser.receive_data(data)
    if eof:
        parser.receive_eof()
    collector = Collector()
    while True:
        try:
            event = parser.next_event()
        except FramingError as error:
            return responses, str(error), parser.trailing_data
        if isinstance(event, Sentinel | ConnectionClosed):
            rest = parser.trailing_data
            if isinstance(event, ConnectionClosed) or not eof:
                return responses, None, rest
            return responses, "incomplete response at end of data", rest
        if isinstance(event, EndOfMessage):
            responses.append(collector.finish(parser, event))
            collector = Collector()
            hint = hints[len(responses)] if len(responses) < len(hints) else "GET"
            parser.start_next(hint)
            continue
        collector.add(event, max_body=len(data) + 1)


def roundtrip(
    server: Server,
    data: bytes | Sequence[bytes],
    hints: Sequence[str] = ("GET",),
    *,
    bound: float = BOUND,
    expect: int | None = None,
    half_close: bool = False,
    gap: float = 0.0,
    strict: bool = True,
) -> Exchange:
    """Send ``data`` (several parts with ``gap`` seconds between them), read until the server
    closes, ``expect`` responses are complete, or nothing new arrives for ``bound`` seconds."""
    parts = [data] if isinstance(data, bytes) else list(data)
    received = bytearray()
    closed = reset = timed_out = False
    started = time.monotonic()
    with server.connect(bound) as sock:
        try:
            for index, part in enumerate(parts):
                if index and gap:
                    time.sleep(gap)
                sock.sendall(part)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass
        while True:
            sock.settimeout(bound)
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                timed_out = True
                break
            except ConnectionResetError:
                closed = reset = True
                break
            if not chunk:
                closed = True
                break
            received += chunk
            if expect is not None:
                done, error, _ = parse_all(bytes(received), hints, eof=False, strict=strict)
                if len(done) >= expect or error:
                    break
    responses, error, rest = parse_all(bytes(received), hints, eof=closed, strict=strict)
    return Exchange(
        bytes(received),
        responses,
        closed,
        reset,
        timed_out,
        error,
        rest,
        time.monotonic() - started,
    )


def expect_no_smuggling(exchange: Exchange) -> None:
    expect_true(
        not exchange.smuggled(),
        "bytes inside the request were never handled as a request of their own",
        "no response for /srvhttp/echo/smuggled",
        exchange.summary(),
    )


def expect_clean(exchange: Exchange) -> None:
    """Whatever arrived parses as whole responses (or stops at a close)."""
    expect_true(
        exchange.error is None or exchange.cut_off,
        "the bytes on the wire are well-framed responses",
        "no framing error",
        exchange.summary(),
    )


def expect_rejected(
    exchange: Exchange,
    statuses: Sequence[int] = (400,),
    *,
    close: bool = True,
    silent_close: bool = False,
) -> None:
    """The malformed request got one of ``statuses`` (or, with ``silent_close``, a close with
    no response), no smuggled request, and with ``close`` the connection was then closed
    (the canary was not answered)."""
    expect_no_smuggling(exchange)
    first = exchange.first
    if first is None:
        expect_true(
            silent_close and exchange.closed,
            "the malformed request is refused",
            f"a {'/'.join(map(str, statuses))} response" + (" or a close" if silent_close else ""),
            exchange.summary(),
        )
        return
    expect_true(
        first.status in statuses,
        "the malformed request is refused",
        f"status {' or '.join(map(str, statuses))}",
        exchange.summary(),
    )
    if close:
        expect_true(
            not exchange.canary() and not exchange.timed_out,
            "the server closes the connection after refusing the request",
            "a close after the response; the pipelined request is not processed",
            exchange.summary(),
        )
