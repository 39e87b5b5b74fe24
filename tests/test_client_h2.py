"""Tests of the strict HTTP/2 client against a tiny real h2c server (``h2``, server side) in a
thread, also over TLS with ALPN (a test certificate of the run's kind): every misbehaviour the
client must report is produced on a real socket."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import h2.config
import h2.connection
import h2.errors
import h2.events
import pytest

from conformance.harness.certificates import RunCertificates, generate
from conformance.harness.h2client import (
    H2Client,
    H2ConnectionClosed,
    H2ProtocolError,
    H2Timeout,
)

# A behaviour gets the server's connection, its socket and one request event, and answers it.
Behaviour = Callable[[h2.connection.H2Connection, socket.socket, h2.events.Event], None]


def _serve(
    listener: socket.socket,
    behaviour: Behaviour,
    raw_reply: bytes | None,
    tls: ssl.SSLContext | None,
) -> None:
    try:
        sock, _ = listener.accept()
        if tls is not None:
            sock.settimeout(5)
            sock = tls.wrap_socket(sock, server_side=True)
    except OSError:
        return
    with sock:
        sock.settimeout(5)
        if raw_reply is not None:  # not HTTP/2 at all
            sock.recv(65536)
            sock.sendall(raw_reply)
            return
        config = h2.config.H2Configuration(client_side=False, header_encoding=None)
        conn = h2.connection.H2Connection(config=config)
        conn.initiate_connection()
        try:
            sock.sendall(conn.data_to_send())
        except OSError:  # the client went away at once (a refused ALPN or certificate)
            return
        while True:
            try:
                data = sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            try:
                events = conn.receive_data(data)
            except h2.exceptions.ProtocolError:
                return
            for event in events:
                if isinstance(event, h2.events.DataReceived):
                    conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                behaviour(conn, sock, event)
            try:
                sock.sendall(conn.data_to_send())
            except OSError:
                return


@contextmanager
def h2_server(
    behaviour: Behaviour, raw_reply: bytes | None = None, tls: ssl.SSLContext | None = None
) -> Iterator[int]:
    """Serve one connection with ``behaviour`` (over TLS with ``tls``); yield the port."""
    listener = socket.create_server(("127.0.0.1", 0))
    args = (listener, behaviour, raw_reply, tls)
    thread = threading.Thread(target=_serve, args=args, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()
        thread.join(5)


def echo(conn: h2.connection.H2Connection, sock: socket.socket, event: h2.events.Event) -> None:
    """Answer each request on END_STREAM with its method, path and body length, and a trailer."""
    if isinstance(event, h2.events.RequestReceived):
        bodies[event.stream_id] = 0
        names[event.stream_id] = dict(event.headers)
    elif isinstance(event, h2.events.DataReceived):
        bodies[event.stream_id] += len(event.data)
    elif isinstance(event, h2.events.StreamEnded):
        head = names[event.stream_id]
        body = b"%s %s %d" % (head[b":method"], head[b":path"], bodies[event.stream_id])
        conn.send_headers(event.stream_id, [(b":status", b"200"), (b"x-a", b"1")])
        conn.send_data(event.stream_id, body)
        conn.send_headers(event.stream_id, [(b"x-trailer", b"t")], end_stream=True)


bodies: dict[int, int] = {}
names: dict[int, dict[bytes, bytes]] = {}


def connect(port: int, timeout: float = 3.0) -> H2Client:
    return H2Client.connect("127.0.0.1", port, timeout=timeout)


def test_request_gives_status_headers_body_trailers_and_end() -> None:
    with h2_server(echo) as port, connect(port) as client:
        client.handshake()
        response = client.request("GET", "/a?b")
    assert response.status == 200
    assert response.pseudo == {b":status": b"200"}
    assert response.headers == [(b"x-a", b"1")]
    assert response.body == b"GET /a?b 0"
    assert response.trailers == [(b"x-trailer", b"t")]
    assert response.ended == "end_stream" and response.reset_code is None


def test_large_body_is_sent_within_flow_control_windows() -> None:
    body = b"x" * 300_000  # well over the 65535-byte initial windows
    with h2_server(echo) as port, connect(port) as client:
        response = client.request("POST", "/big", body=body)
    assert response.body == b"POST /big 300000"


def test_concurrent_streams_on_one_connection() -> None:
    with h2_server(echo) as port, connect(port) as client:
        ids = [client.start_request("GET", f"/s{i}") for i in range(5)]
        answers = [client.read_response(i).body for i in reversed(ids)]
    assert answers == [f"GET /s{i} 0".encode() for i in reversed(range(5))]


def reset_it(conn: h2.connection.H2Connection, sock: socket.socket, event: h2.events.Event) -> None:
    if isinstance(event, h2.events.RequestReceived):
        conn.reset_stream(event.stream_id, h2.errors.ErrorCodes.REFUSED_STREAM)


def test_rst_stream_is_reported_with_its_code() -> None:
    with h2_server(reset_it) as port, connect(port) as client:
        response = client.request("GET", "/")
    assert response.ended == "reset"
    assert response.reset_code == h2.errors.ErrorCodes.REFUSED_STREAM


def goaway_error(conn: h2.connection.H2Connection, sock: socket.socket, event: object) -> None:
    if isinstance(event, h2.events.RequestReceived):
        conn.close_connection(h2.errors.ErrorCodes.PROTOCOL_ERROR, b"nope")


def test_goaway_with_an_error_code_raises() -> None:
    with h2_server(goaway_error) as port, connect(port) as client:
        with pytest.raises(H2ProtocolError, match="PROTOCOL_ERROR"):
            client.request("GET", "/")


def connection_header(conn: h2.connection.H2Connection, sock: socket.socket, event: object) -> None:
    """Hand-encode a response carrying ``connection: close``, which ``h2`` would refuse."""
    if isinstance(event, h2.events.RequestReceived):
        block = conn.encoder.encode([(b":status", b"200"), (b"connection", b"close")])
        frame = len(block).to_bytes(3, "big") + b"\x01\x05" + event.stream_id.to_bytes(4, "big")
        sock.sendall(conn.data_to_send() + frame + block)


def test_connection_specific_header_in_a_response_raises() -> None:
    with h2_server(connection_header) as port, connect(port) as client:
        with pytest.raises(H2ProtocolError, match="onnection"):
            client.request("GET", "/")


def garbage_frame(conn: h2.connection.H2Connection, sock: socket.socket, event: object) -> None:
    """A DATA frame on stream 0: a connection error (RFC 9113 §6.1)."""
    if isinstance(event, h2.events.RequestReceived):
        sock.sendall(conn.data_to_send() + b"\x00\x00\x01\x00\x00\x00\x00\x00\x00x")


def test_framing_error_from_the_server_raises() -> None:
    with h2_server(garbage_frame) as port, connect(port) as client:
        with pytest.raises(H2ProtocolError):
            client.request("GET", "/")


def no_status(conn: h2.connection.H2Connection, sock: socket.socket, event: object) -> None:
    if isinstance(event, h2.events.RequestReceived):
        block = conn.encoder.encode([(b"x-a", b"1")])
        frame = len(block).to_bytes(3, "big") + b"\x01\x05" + event.stream_id.to_bytes(4, "big")
        sock.sendall(conn.data_to_send() + frame + block)


def test_response_without_status_raises() -> None:
    with h2_server(no_status) as port, connect(port) as client:
        with pytest.raises(H2ProtocolError):
            client.request("GET", "/")


def silent(conn: h2.connection.H2Connection, sock: socket.socket, event: object) -> None:
    pass


def test_no_answer_times_out() -> None:
    with h2_server(silent) as port, connect(port, timeout=0.5) as client:
        with pytest.raises(H2Timeout):
            client.request("GET", "/")


def close_it(conn: h2.connection.H2Connection, sock: socket.socket, event: object) -> None:
    if isinstance(event, h2.events.RequestReceived):
        sock.shutdown(socket.SHUT_RDWR)


def test_eof_before_the_stream_ends_raises() -> None:
    with h2_server(close_it) as port, connect(port) as client:
        with pytest.raises(H2ConnectionClosed):
            client.request("GET", "/")


def test_a_server_not_speaking_http2_fails_the_preface() -> None:
    reply = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    with h2_server(silent, raw_reply=reply) as port, connect(port) as client:
        with pytest.raises((H2ProtocolError, H2ConnectionClosed)):
            client.handshake()


# -- TLS with ALPN ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> RunCertificates:
    return generate(tmp_path_factory.mktemp("certificates"))


def server_tls(files: RunCertificates, alpn: list[str] | None) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(files.certfile, files.keyfile)
    if alpn is not None:
        context.set_alpn_protocols(alpn)
    return context


def scheme_echo(conn: h2.connection.H2Connection, sock: socket.socket, event: object) -> None:
    """Answer each request with its ``:scheme``."""
    if isinstance(event, h2.events.RequestReceived):
        scheme = dict(event.headers)[b":scheme"]
        conn.send_headers(event.stream_id, [(b":status", b"200")])
        conn.send_data(event.stream_id, scheme, end_stream=True)


def test_tls_with_alpn_h2_verified_against_the_run_ca(certificates: RunCertificates) -> None:
    tls = server_tls(certificates, ["h2", "http/1.1"])
    with h2_server(scheme_echo, tls=tls) as port:
        context = certificates.client_context()
        with H2Client.connect("127.0.0.1", port, tls=True, timeout=3, context=context) as client:
            client.handshake()
            response = client.request("GET", "/")
    assert (response.status, response.body) == (200, b"https")


def test_h2c_requests_say_scheme_http() -> None:
    with h2_server(scheme_echo) as port, connect(port) as client:
        assert client.request("GET", "/").body == b"http"


@pytest.mark.parametrize("alpn", [["http/1.1"], None])
def test_a_tls_server_not_selecting_h2_fails_alpn(
    certificates: RunCertificates, alpn: list[str] | None
) -> None:
    with h2_server(silent, tls=server_tls(certificates, alpn)) as port:
        with pytest.raises(H2ProtocolError, match=r"ALPN selected .*, not 'h2'"):
            H2Client.connect(
                "127.0.0.1", port, tls=True, timeout=3, context=certificates.client_context()
            )


def test_a_certificate_the_context_does_not_trust_fails(
    certificates: RunCertificates, tmp_path: Path
) -> None:
    stranger = generate(tmp_path / "stranger")
    with h2_server(silent, tls=server_tls(stranger, ["h2"])) as port:
        with pytest.raises(ssl.SSLCertVerificationError):
            H2Client.connect(
                "127.0.0.1", port, tls=True, timeout=3, context=certificates.client_context()
            )


# -- reading a body as it comes; the client's own GOAWAY ----------------------------------------


def first_part_only(conn: h2.connection.H2Connection, sock: socket.socket, event: object) -> None:
    """Answer with a head and b'ab', and never end the stream."""
    if isinstance(event, h2.events.RequestReceived):
        conn.send_headers(event.stream_id, [(b":status", b"200")])
        conn.send_data(event.stream_id, b"ab")


def test_read_until_returns_while_the_stream_is_open() -> None:
    with h2_server(first_part_only) as port, connect(port) as client:
        stream = client.start_request("GET", "/")
        response = client.read_until(stream, lambda r: r.body == b"ab", "two bytes")
        assert (response.status, response.body, response.ended) == (200, b"ab", None)
        with pytest.raises(H2Timeout):
            client.timeout = 0.3
            client.read_response(stream)


terminations: list[h2.events.ConnectionTerminated] = []


def note_goaway(conn: h2.connection.H2Connection, sock: socket.socket, event: object) -> None:
    if isinstance(event, h2.events.ConnectionTerminated):
        terminations.append(event)


def test_send_goaway_is_a_no_error_goaway_and_reading_goes_on() -> None:
    terminations.clear()
    with h2_server(note_goaway) as port, connect(port) as client:
        client.handshake()
        client.send_goaway()
        client.timeout = 0.3
        with pytest.raises(H2Timeout):  # still reading: nothing refused by the state machine
            client.wait_closed()
    assert [(t.error_code, t.last_stream_id) for t in terminations] == [(0, 0)]
