"""The ASGI extensions a server declares (requirements/srv-extensions.toml).

Each extension's rules are checked where the configuration declares it in ``[offers]
extensions`` (itself checked against the live scope by ASGI-EXTENSIONS-DECLARED) and are
``not-applicable`` elsewhere; a declared extension that misbehaves is a failure. The TLS rule
(never offered over plain TCP) applies to every server.
"""

from __future__ import annotations

import json

import pytest

from conformance.harness import expect_equal, expect_true, not_applicable, require_offer
from conformance.harness.rawhttp import Informational, parse_response
from conformance.harness.server import Server
from conformance.harness.transport import not_this_transport
from conformance.harness.wsframes import (
    OP_TEXT,
    HandshakeError,
    WsTimeout,
    connect,
    default_headers,
    handshake_request,
    new_key,
    read_handshake_response,
)

TIMEOUT = 5.0
CLOSE_BOUND = 2.0  # how long a server may take to close after its denial response
FILE_BODY = bytes(range(256)) * 40
ZEROCOPY_OFFSET, ZEROCOPY_COUNT = 100, 1000
LINKS = ["</style.css>; rel=preload; as=style", "</script.js>; rel=preload; as=script"]


def requires(server: Server, extension: str) -> None:
    if not server.offers(extension):
        not_applicable(f"servers/{server.name}.toml does not declare {extension}")


def get(server: Server, path: str, version: str = "HTTP/1.1") -> bytes:
    request = (
        f"GET {path} {version}\r\nHost: {server.host}:{server.port}\r\nConnection: close\r\n\r\n"
    )
    return server.raw(request.encode(), TIMEOUT)


@pytest.mark.requirement("SRV-EXT-TLS-NOT-ON-HTTP")
def test_no_tls_extension_over_plain_http(server: Server) -> None:
    if server.scheme == "https":  # the TLS instance of an NAME/h2 column: not plain TCP
        raise not_this_transport("a TLS connection")
    with server.http() as client:
        names = client.get("/srv_ext/scope").json()["extensions"]
    expect_true("tls" not in names, "no 'tls' extension over plain TCP", "absent", repr(names))


@pytest.mark.requirement("SRV-EXT-TLS-NOT-ON-WS")
def test_no_tls_extension_over_plain_websocket(server: Server) -> None:
    require_offer(server, "websocket")
    with connect((server.host, server.port), "/srv_ext/scope", timeout=TIMEOUT) as conn:
        message = conn.recv_message()
    expect_true(isinstance(message, tuple), "the app's report", "a text message", repr(message))
    assert isinstance(message, tuple)
    names = json.loads(message[1])["extensions"]
    expect_equal(message[0], OP_TEXT, "opcode")
    expect_true("tls" not in names, "no 'tls' extension over ws://", "absent", repr(names))


@pytest.mark.requirement("SRV-EXT-PATHSEND-BODY")
def test_pathsend_body_like_http_response_body(server: Server) -> None:
    requires(server, "http.response.pathsend")
    response = parse_response(get(server, "/srv_ext/pathsend"))
    expect_equal(response.status, 200, "status")
    expect_equal(response.body == FILE_BODY, True, "the body is the file's bytes, whole")


@pytest.mark.requirement("SRV-EXT-PATHSEND-KEEPALIVE")
def test_pathsend_keeps_the_connection_usable(server: Server) -> None:
    requires(server, "http.response.pathsend")
    host = f"{server.host}:{server.port}"
    first = f"GET /srv_ext/pathsend HTTP/1.1\r\nHost: {host}\r\n\r\n"
    second = f"GET /srv_ext/scope HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    raw = server.raw((first + second).encode(), TIMEOUT)
    response = parse_response(raw)
    expect_equal(response.body == FILE_BODY, True, "first body: the file")
    rest = raw[len(response.raw) :]
    expect_true(rest.startswith(b"HTTP/1.1 200"), "a second response", "200", repr(rest[:80]))


@pytest.mark.requirement("SRV-EXT-ZEROCOPY-BODY")
def test_zerocopysend_offset_and_count(server: Server) -> None:
    requires(server, "http.response.zerocopysend")
    response = parse_response(get(server, "/srv_ext/zerocopy"))
    expected = FILE_BODY[ZEROCOPY_OFFSET : ZEROCOPY_OFFSET + ZEROCOPY_COUNT]
    expect_equal(response.body == expected, True, "body: count bytes from offset")


@pytest.mark.requirement("SRV-EXT-EARLY-HINT-LINKS")
def test_early_hint_carries_the_links(server: Server) -> None:
    requires(server, "http.response.early_hint")
    response = parse_response(get(server, "/srv_ext/early-hint"))
    expect_equal(response.status, 200, "final status")
    expect_equal(response.body, b"final", "final body")
    for hint in response.informational:
        assert isinstance(hint, Informational)
        links = [v for k, v in hint.headers if k.lower() == "link"]
        expect_equal(sorted(links), sorted(LINKS), "Link fields of the 103")


@pytest.mark.requirement("SRV-EXT-EARLY-HINT-HTTP10")
def test_no_early_hint_to_http10(server: Server) -> None:
    requires(server, "http.response.early_hint")
    require_offer(server, "http10")
    raw = get(server, "/srv_ext/early-hint", "HTTP/1.0")
    expect_true(
        raw.startswith((b"HTTP/1.0 200", b"HTTP/1.1 200")),
        "no 1xx response to an HTTP/1.0 client",
        "the final 200 first",
        repr(raw[:80]),
    )


_DENIALS: dict[str, tuple[bytes, bool]] = {}


def denial(server: Server) -> tuple[bytes, bool]:
    """The raw answer to a handshake the app denies, and whether the server then closed
    (one exchange per report column, judged by both denial cases)."""
    require_offer(server, "websocket")
    requires(server, "websocket.http.response")
    if server.column not in _DENIALS:
        _DENIALS[server.column] = _deny(server)
    return _DENIALS[server.column]


def _deny(server: Server) -> tuple[bytes, bool]:
    headers = default_headers(f"{server.host}:{server.port}", new_key())
    with server.connect(TIMEOUT) as sock:
        sock.sendall(handshake_request("/srv_ext/deny", headers))
        try:
            head = read_handshake_response(sock, TIMEOUT)
        except HandshakeError as error:
            pytest.fail(f"protocol violation on the wire: {error}", pytrace=False)
        data = head.raw + head.rest
        closed = False
        sock.settimeout(CLOSE_BOUND)
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    closed = True
                    break
                data += chunk
        except (TimeoutError, WsTimeout):
            pass
        except ConnectionResetError:
            closed = True
    return data, closed


@pytest.mark.requirement("SRV-EXT-WS-DENIAL-CLOSES")
def test_denial_response_then_close(server: Server) -> None:
    data, closed = denial(server)
    response = parse_response(data)
    expect_equal((response.status, response.body), (401, b"denied"), "the denial response")
    expect_true(
        closed,
        "the server closes after the denial response",
        f"closed within {CLOSE_BOUND:g} s",
        "still open",
    )


@pytest.mark.requirement("SRV-EXT-WS-DENIAL-NO-UPGRADE")
def test_denial_response_is_no_upgrade(server: Server) -> None:
    data, _ = denial(server)
    head = data.split(b"\r\n\r\n", 1)[0].lower()
    expect_true(
        not head.startswith(b"http/1.1 101") and b"sec-websocket-accept" not in head,
        "a denial is an HTTP response, no WebSocket upgrade",
        "no 101, no Sec-WebSocket-Accept",
        repr(head[:200]),
    )
