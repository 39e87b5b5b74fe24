"""HTTP/2 duties of a server (``SRV-H2-*``), over h2c with the strict client.

Marked ``h2_only``: they run on the ``NAME/h2c`` and ``NAME/h2`` (TLS) columns and are
not-applicable on servers without ``[offers] http2``. Every exchange goes through
:mod:`conformance.harness.h2client`, which raises on a frame or header field HTTP/2 forbids.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import h2.errors
import pytest

from conformance.harness import expect_equal, expect_true, not_applicable
from conformance.harness.facts import record_fact
from conformance.harness.h2client import H2Client, H2ConnectionClosed, H2Response
from conformance.harness.polling import poll_result
from conformance.harness.server import Server

pytestmark = pytest.mark.h2_only

PREFIX = "/srv_h2"
BIG = 1024 * 1024


def answered(response: H2Response, what: str) -> Any:
    """The JSON of a 200 answer that ended with END_STREAM."""
    expect_equal(response.ended, "end_stream", f"{what}: how the stream ended")
    expect_equal(response.status, 200, f"{what}: status")
    return json.loads(response.body)


def scope_of(client: H2Client, headers: list[tuple[str, str]], **kw: Any) -> Any:
    return answered(client.request("GET", PREFIX + "/scope", headers, **kw), "scope")


@pytest.mark.requirement("SRV-H2-HTTP-VERSION")
def test_http_version_is_2(server: Server) -> None:
    with server.h2() as client:
        scope = scope_of(client, [])
    expect_equal(scope["http_version"], "2", "scope['http_version'] over h2c")


@pytest.mark.requirement("SRV-H2-PSEUDO-HEADERS")
def test_no_pseudo_header_and_authority_as_host(server: Server) -> None:
    with server.h2() as client:
        scope = scope_of(client, [("x-probe", "1")], authority="example.test:8443")
    headers = [tuple(pair) for pair in scope["headers"]]
    pseudo = [name for name, _ in headers if name.startswith(":")]
    expect_equal(pseudo, [], "pseudo-header fields in scope['headers']")
    hosts = [value for name, value in headers if name.lower() == "host"]
    expect_equal(hosts, ["example.test:8443"], "host fields (from :authority)")
    expect_true(
        headers[0][0].lower() == "host" or len(hosts) == 1,
        "host is added at the start of the headers",
        "host first",
        repr(headers),
    )


@pytest.mark.requirement("SRV-H2-COOKIE-CRUMBS")
def test_cookie_crumbs(server: Server) -> None:
    crumbs = [("cookie", "a=1"), ("cookie", "b=2"), ("cookie", "c=3")]
    with server.h2() as client:
        scope = scope_of(client, crumbs)
    cookies = [value for name, value in scope["headers"] if name.lower() == "cookie"]
    accepted = (["a=1; b=2; c=3"], ["a=1", "b=2", "c=3"])
    expect_true(
        cookies in accepted,
        "cookie crumbs joined with '; ' or kept apart in order",
        " or ".join(map(repr, accepted)),
        repr(cookies),
    )


@pytest.mark.requirement("SRV-H2-CONNECTION-FIELDS")
def test_no_connection_specific_fields(server: Server) -> None:
    with server.h2() as client:  # the client raises H2ProtocolError on such a field
        response = client.request("GET", PREFIX + "/connection-fields")
    expect_equal(response.status, 200, "status")
    forbidden = {b"connection", b"keep-alive", b"transfer-encoding", b"upgrade"}
    expect_equal(sorted(response.header_names() & forbidden), [], "connection-specific fields")
    expect_equal(response.body, b"fields", "body")


@pytest.mark.requirement("SRV-H2-RST-DISCONNECT")
def test_rst_stream_reaches_the_app_as_disconnect(server: Server) -> None:
    token = uuid.uuid4().hex
    with server.h2() as client:
        waiting = client.start_request("GET", f"{PREFIX}/wait/{token}")

        def read() -> Any:
            return answered(client.request("GET", f"{PREFIX}/result/{token}"), "result")

        poll_result(read, lambda r: r is not None and r["waiting"], "the app waiting")
        client.reset(waiting, h2.errors.ErrorCodes.CANCEL)
        record = poll_result(read, lambda r: not r["waiting"], "the app's receive() after RST")
        other = client.request("GET", PREFIX + "/bytes/10")
    expect_equal(record["after_body"], "http.disconnect", "what receive() gave after RST_STREAM")
    expect_equal((other.status, len(other.body)), (200, 10), "another stream after the reset")


@pytest.mark.requirement("SRV-H2-CONCURRENT-STREAMS")
def test_concurrent_streams_get_their_own_scope(server: Server) -> None:
    paths = [f"{PREFIX}/scope/n{i}" for i in range(8)]
    with server.h2() as client:
        ids = [client.start_request("GET", path) for path in paths]
        seen = [answered(client.read_response(i), f"stream {i}")["path"] for i in ids]
    expect_equal(seen, paths, "the path each stream's answer names")


SETTINGS_QUESTION = (
    "The SETTINGS a server announces on a new HTTP/2 connection (RFC 9113 §6.5.2 leaves each "
    "open): max concurrent streams (None: unlimited), initial stream window, max frame size, "
    "max header list size (None: unlimited)."
)


@pytest.mark.requirement("SRV-H2-FLOW-CONTROL")
def test_large_bodies_within_flow_control(server: Server, request: pytest.FixtureRequest) -> None:
    with server.h2(timeout=20) as client:
        client.handshake()
        announced = client.remote_settings
        record_fact(
            request,
            "http2_settings",
            SETTINGS_QUESTION,
            server.column,
            {
                "max_concurrent_streams": _announced(announced, 0x3),
                "initial_window_size": announced.initial_window_size,
                "max_frame_size": announced.max_frame_size,
                "max_header_list_size": _announced(announced, 0x6),
            },
        )
        facts = (
            f"server SETTINGS: initial window {client.remote_settings.initial_window_size}, "
            f"max concurrent streams {client.remote_settings.max_concurrent_streams}"
        )
        size = answered(client.request("POST", PREFIX + "/size", body=b"z" * BIG), "upload")
        download = client.request("GET", f"{PREFIX}/bytes/{BIG}")
        at_once = client.request("GET", f"{PREFIX}/bytes/{BIG}?once")
    expect_equal(size, {"size": BIG, "distinct": ["z"]}, f"request body the app read ({facts})")
    expected = (bytes(range(256)) * 4096)[:BIG]
    for answer, how in ((download, "in 64 KiB messages"), (at_once, "in one message")):
        expect_equal(answer.ended, "end_stream", f"how the download {how} ended ({facts})")
        expect_true(
            answer.body == expected,
            f"the 1 MiB response body sent {how} arrives whole",
            f"{BIG} bytes",
            f"{len(answer.body)} bytes ({facts})",
        )


@pytest.mark.requirement("SRV-H2-HEAD-NO-DATA")
def test_head_has_no_data(server: Server) -> None:
    with server.h2() as client:
        response = client.request("HEAD", PREFIX + "/head")
    expect_equal(response.status, 200, "status")
    expect_equal(response.ended, "end_stream", "how the stream ended")
    expect_equal(response.body, b"", "DATA payload of a HEAD response")


def _announced(settings: Any, code: int) -> int | None:
    """The value the peer sent for ``code``, None when it sent none (no default applies)."""
    value = settings.get(code)
    return None if value is None else int(value)


@pytest.mark.requirement("SRV-H2-TRAILERS")
def test_trailers_after_the_body(server: Server) -> None:
    with server.h2() as client:
        response = client.request("GET", PREFIX + "/trailers", [("te", "trailers")])
    expect_equal(response.status, 200, "status")
    if response.header(b"x-trailers-offered") != b"yes":
        not_applicable("the scope does not offer http.response.trailers over HTTP/2")
    expect_equal(response.body, b"body-end", "the body before the trailers")
    expect_equal(response.ended, "end_stream", "how the stream ended")
    expect_equal(
        response.trailers,
        [(b"x-checksum", b"c0ffee"), (b"x-count", b"2")],
        "trailer fields (a HEADERS frame after the DATA, ending the stream)",
    )


GOAWAY_CLOSE_WAIT = 2.0


@pytest.mark.requirement("SRV-H2-GOAWAY-CLEAN")
def test_client_goaway_then_clean_end(server: Server, request: pytest.FixtureRequest) -> None:
    with server.h2() as client:
        client.handshake()
        stream = client.start_request("GET", PREFIX + "/bytes/70000")
        client.send_goaway(h2.errors.ErrorCodes.NO_ERROR, last_stream_id=0)
        try:
            response: H2Response | None = client.read_response(stream)  # GOAWAY(error) raises
        except H2ConnectionClosed:
            response = None  # closed before the answer: recorded, then judged below
        client.timeout = GOAWAY_CLOSE_WAIT
        try:
            client.wait_closed()
        except TimeoutError:
            pass  # still open: allowed
        closed, goaway = client.closed, client.goaway is not None
    record_fact(
        request,
        "http2_after_client_goaway",
        "After the client's GOAWAY(NO_ERROR): is the stream opened before it answered, does "
        f"the server close the connection within {GOAWAY_CLOSE_WAIT:g} s, with a GOAWAY first?",
        server.column,
        {"answered": response is not None, "closed": closed, "goaway_first": goaway},
    )
    expect_true(
        response is not None,
        "the stream opened before the client's GOAWAY is answered",
        "its response",
        f"the connection ended first ({'GOAWAY' if goaway else 'no GOAWAY'})",
    )
    assert response is not None
    expect_equal(response.ended, "end_stream", "how the open stream ended")
    expected = (bytes(range(256)) * 256 * 2)[:70000]
    expect_true(
        response.body == expected,
        "the stream opened before the GOAWAY gets its whole answer",
        "70000 bytes of the pattern",
        f"{len(response.body)} bytes",
    )
    expect_true(
        goaway or not closed,
        "a GOAWAY before the server closes the connection",
        "GOAWAY(NO_ERROR) then close, or the connection left open",
        "closed without a GOAWAY",
    )
