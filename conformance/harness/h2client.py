"""A strict HTTP/2 client for the cases, on the ``h2`` library's sans-IO state machine.

Over a plain socket with prior knowledge (h2c) or over TLS with ALPN ``h2``. Every read is
bounded by a per-call deadline and by :data:`MAX_BODY` bytes per stream, so nothing hangs a
run. What the server does wrong is never smoothed over:

* :class:`H2ProtocolError`: the server broke HTTP/2 framing or the protocol (a frame ``h2``
  refuses, a connection-specific or malformed header field, a missing ``:status``, a body
  over the bound, a GOAWAY with an error code, ALPN not ``h2``);
* :class:`H2ConnectionClosed`: the connection ended (EOF or GOAWAY) before the stream did;
* :class:`H2Timeout` (a :class:`TimeoutError`): no complete answer before the deadline.

A stream's end is reported, not raised: :attr:`H2Response.ended` is ``"end_stream"`` or
``"reset"`` with :attr:`H2Response.reset_code`.
"""

from __future__ import annotations

import socket
import ssl
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import h2.settings

#: Bytes of body (or of undelivered data) accepted on one stream before giving up.
MAX_BODY = 64 * 1024 * 1024
DEFAULT_TIMEOUT = 10.0
READ_SIZE = 65536

Header = tuple[bytes, bytes]


class H2Error(Exception):
    """Base of what this client raises about the server."""


class H2ProtocolError(H2Error):
    """The server broke HTTP/2 framing or the protocol."""


class H2ConnectionClosed(H2Error):
    """The connection ended (EOF or GOAWAY) before the awaited stream ended."""


class H2Timeout(H2Error, TimeoutError):
    """No complete answer before the deadline."""


@dataclass
class H2Response:
    """One stream's answer: pseudo-header fields apart from the regular ones."""

    stream_id: int
    status: int | None = None
    pseudo: dict[bytes, bytes] = field(default_factory=dict)
    headers: list[Header] = field(default_factory=list)
    informational: list[list[Header]] = field(default_factory=list)
    body: bytes = b""
    data_frames: int = 0
    trailers: list[Header] = field(default_factory=list)
    ended: Literal["end_stream", "reset"] | None = None
    reset_code: int | None = None

    def header(self, name: bytes) -> bytes | None:
        """The first value of ``name`` (lower case), or None."""
        for key, value in self.headers:
            if key == name:
                return value
        return None

    def header_names(self) -> set[bytes]:
        return {key for key, _ in self.headers}


class H2Client:
    """One HTTP/2 connection; use as a context manager (closes the socket)."""

    def __init__(
        self, sock: socket.socket, authority: str, timeout: float, scheme: str = "http"
    ) -> None:
        self.sock = sock
        self.authority = authority
        self.timeout = timeout
        #: ``:scheme`` of every request: ``https`` over TLS
        self.scheme = scheme
        config = h2.config.H2Configuration(client_side=True, header_encoding=None)
        self.conn = h2.connection.H2Connection(config=config)
        self.responses: dict[int, H2Response] = {}
        self.goaway: h2.events.ConnectionTerminated | None = None
        self.closed = False
        self.settings_acked = False
        self.remote_settings_seen = False
        self.conn.initiate_connection()
        self._flush()

    # -- connection -------------------------------------------------------------------------

    @classmethod
    def connect(
        cls,
        host: str,
        port: int,
        *,
        tls: bool = False,
        timeout: float = DEFAULT_TIMEOUT,
        context: ssl.SSLContext | None = None,
    ) -> H2Client:
        """Open a connection: h2c with prior knowledge, or TLS with ALPN ``h2``: verified by
        ``context`` (ALPN set to ``h2`` on it), unverified without one.

        :raises H2ProtocolError: TLS negotiated something other than ``h2`` (or nothing).
        :raises ssl.SSLError: the handshake failed (a certificate ``context`` refuses).
        """
        sock = socket.create_connection((host, port), timeout=timeout)
        try:
            if tls:
                if context is None:
                    context = ssl.create_default_context()
                    context.check_hostname = False
                    context.verify_mode = ssl.CERT_NONE
                context.set_alpn_protocols(["h2"])
                sock = context.wrap_socket(sock, server_hostname=host)
                if sock.selected_alpn_protocol() != "h2":
                    raise H2ProtocolError(
                        f"ALPN selected {sock.selected_alpn_protocol()!r}, not 'h2'"
                    )
            return cls(sock, f"{host}:{port}", timeout, "https" if tls else "http")
        except BaseException:
            sock.close()
            raise

    def __enter__(self) -> H2Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self.sock.close()

    def _flush(self) -> None:
        data = self.conn.data_to_send()
        if data:
            try:
                self.sock.sendall(data)
            except OSError as error:
                raise H2ConnectionClosed(f"sending failed: {error}") from error

    def handshake(self) -> None:
        """Wait for the server's SETTINGS (the preface) and the ACK of ours."""
        self._pump_until(lambda: self.remote_settings_seen and self.settings_acked, "preface")

    @property
    def remote_settings(self) -> h2.settings.Settings:
        return self.conn.remote_settings

    # -- requests -----------------------------------------------------------------------------

    def start_request(
        self,
        method: str,
        path: str,
        headers: list[tuple[str, str]] | None = None,
        *,
        end_stream: bool = True,
        authority: str | None = None,
    ) -> int:
        """Send a HEADERS frame; answer the stream id."""
        stream_id = self.conn.get_next_available_stream_id()
        fields: list[tuple[str, str]] = [
            (":method", method),
            (":scheme", self.scheme),
            (":authority", authority if authority is not None else self.authority),
            (":path", path),
        ]
        fields.extend(headers or [])
        self.conn.send_headers(stream_id, fields, end_stream=end_stream)
        self.responses[stream_id] = H2Response(stream_id)
        self._flush()
        return stream_id

    def send_body(self, stream_id: int, data: bytes, *, end_stream: bool = True) -> None:
        """Send ``data`` in DATA frames within the flow-control windows, waiting for
        WINDOW_UPDATE frames as needed (bounded by the timeout)."""
        view = memoryview(data)
        while view:
            window = min(
                self.conn.local_flow_control_window(stream_id), self.conn.max_outbound_frame_size
            )
            if window <= 0:
                self._pump_once(time.monotonic() + self.timeout, "a WINDOW_UPDATE")
                if self.responses[stream_id].ended is not None:
                    return  # the server answered or reset the stream early
                continue
            self.conn.send_data(stream_id, bytes(view[:window]))
            view = view[window:]
            self._flush()
        if end_stream:
            self.conn.end_stream(stream_id)
            self._flush()

    def reset(self, stream_id: int, code: int = h2.errors.ErrorCodes.CANCEL) -> None:
        """Send RST_STREAM on ``stream_id``."""
        self.conn.reset_stream(stream_id, error_code=code)
        self._flush()

    def send_goaway(
        self, code: int = h2.errors.ErrorCodes.NO_ERROR, last_stream_id: int = 0
    ) -> None:
        """Send GOAWAY, written by hand so that ``h2`` keeps reading the streams already open
        (its own ``close_connection`` ends the state machine: later frames would be refused).

        A client's GOAWAY names the last *server*-initiated stream it processed (0: none); the
        streams the client opened are not affected by it.
        """
        payload = struct.pack(">II", last_stream_id & 0x7FFFFFFF, int(code))
        frame = struct.pack(">I", len(payload))[1:] + bytes([0x7, 0]) + b"\0\0\0\0" + payload
        self._flush()
        try:
            self.sock.sendall(frame)
        except OSError as error:
            raise H2ConnectionClosed(f"sending GOAWAY failed: {error}") from error

    def read_response(self, stream_id: int) -> H2Response:
        """Read until ``stream_id`` ends (END_STREAM or RST_STREAM)."""
        response = self.responses[stream_id]
        self._pump_until(lambda: response.ended is not None, f"stream {stream_id}")
        return response

    def read_head(self, stream_id: int) -> H2Response:
        """Read until the final response HEADERS of ``stream_id`` (or its end)."""
        response = self.responses[stream_id]
        self._pump_until(
            lambda: response.status is not None or response.ended is not None,
            f"the head of stream {stream_id}",
        )
        return response

    def read_until(
        self, stream_id: int, done: Callable[[H2Response], bool], what: str
    ) -> H2Response:
        """Read until ``done(response)`` holds or ``stream_id`` ends, whichever comes first
        (to watch a body arrive piece by piece)."""
        response = self.responses[stream_id]
        self._pump_until(lambda: done(response) or response.ended is not None, what)
        return response

    def request(
        self,
        method: str,
        path: str,
        headers: list[tuple[str, str]] | None = None,
        body: bytes = b"",
        *,
        authority: str | None = None,
    ) -> H2Response:
        """One complete exchange on a new stream."""
        stream_id = self.start_request(
            method, path, headers, end_stream=not body, authority=authority
        )
        if body:
            self.send_body(stream_id, body)
        return self.read_response(stream_id)

    def wait_closed(self) -> bytes:
        """Read until the server closes the connection; answer any bytes after a GOAWAY."""
        deadline = time.monotonic() + self.timeout
        while not self.closed:
            self._pump_once(deadline, "the connection's close")
        return b""

    # -- reading ------------------------------------------------------------------------------

    def _pump_until(self, done: object, what: str) -> None:
        assert callable(done)
        deadline = time.monotonic() + self.timeout
        while not done():
            if self.closed:
                why = "GOAWAY" if self.goaway is not None else "EOF"
                raise H2ConnectionClosed(f"the connection ended ({why}) before {what}")
            self._pump_once(deadline, what)

    def _pump_once(self, deadline: float, what: str) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise H2Timeout(f"no {what} within {self.timeout} s")
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(READ_SIZE)
        except TimeoutError as error:
            raise H2Timeout(f"no {what} within {self.timeout} s") from error
        except (ConnectionResetError, ssl.SSLError) as error:
            self.closed = True
            raise H2ConnectionClosed(f"the connection broke before {what}: {error}") from error
        if not data:
            self.closed = True
            return
        try:
            events = self.conn.receive_data(data)
        except h2.exceptions.ProtocolError as error:
            self._flush_quietly()
            raise H2ProtocolError(f"{type(error).__name__}: {error}") from error
        for event in events:
            self._handle(event)
        self._flush()

    def _flush_quietly(self) -> None:
        try:
            self._flush()
        except H2Error:
            pass

    def _handle(self, event: h2.events.Event) -> None:
        if isinstance(event, h2.events.RemoteSettingsChanged):
            self.remote_settings_seen = True
        elif isinstance(event, h2.events.SettingsAcknowledged):
            self.settings_acked = True
        elif isinstance(event, h2.events.InformationalResponseReceived):
            self._response(event.stream_id).informational.append(list(event.headers))
        elif isinstance(event, h2.events.ResponseReceived):
            self._head(self._response(event.stream_id), event.headers)
        elif isinstance(event, h2.events.TrailersReceived):
            self._response(event.stream_id).trailers = list(event.headers)
        elif isinstance(event, h2.events.DataReceived):
            self._data(event)
        elif isinstance(event, h2.events.StreamEnded):
            self._response(event.stream_id).ended = "end_stream"
        elif isinstance(event, h2.events.StreamReset):
            response = self._response(event.stream_id)
            response.ended = "reset"
            response.reset_code = int(event.error_code)
        elif isinstance(event, h2.events.ConnectionTerminated):
            self.goaway = event
            self.closed = True
            if event.error_code != h2.errors.ErrorCodes.NO_ERROR:
                raise H2ProtocolError(
                    f"the server sent GOAWAY with {event.error_code!r}"
                    f" (last stream {event.last_stream_id}, debug {event.additional_data!r})"
                )

    def _response(self, stream_id: int) -> H2Response:
        return self.responses.setdefault(stream_id, H2Response(stream_id))

    def _head(self, response: H2Response, headers: list[Header]) -> None:
        for name, value in headers:
            if name.startswith(b":"):
                response.pseudo[name] = value
            else:
                response.headers.append((name, value))
        status = response.pseudo.get(b":status", b"")
        if not status.isdigit():
            raise H2ProtocolError(f"response HEADERS without a valid :status: {status!r}")
        response.status = int(status)

    def _data(self, event: h2.events.DataReceived) -> None:
        response = self._response(event.stream_id)
        data = event.data or b""
        if len(response.body) + len(data) > MAX_BODY:
            raise H2ProtocolError(f"stream {event.stream_id} sent more than {MAX_BODY} bytes")
        response.body += data
        response.data_frames += 1
        if event.flow_controlled_length:
            self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
