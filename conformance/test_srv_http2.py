"""HTTP/2 duties of a server (``SRV-H2-*``), over h2c with the strict client.

Marked ``h2_only``: they run on the ``NAME/h2c`` columns and are not-applicable on servers
without ``[offers] http2``. Every exchange goes through :mod:`conformance.harness.h2client`,
which raises on a frame or header field HTTP/2 forbids.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import h2.errors
import pytest

from conformance.harness import expect_equal, expect_true
from conformance.harness.h2client import H2Client, H2Response
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


@pytest.mark.requirement("SRV-H2-FLOW-CONTROL")
def test_large_bodies_within_flow_control(server: Server) -> None:
    with server.h2(timeout=20) as client:
        client.handshake()
        facts = (
            f"server SETTINGS: initial window {client.remote_settings.initial_window_size}, "
            f"max concurrent streams {client.remote_settings.max_concurrent_streams}"
        )
        size = answered(client.request("POST", PREFIX + "/size", body=b"z" * BIG), "upload")
        download = client.request("GET", f"{PREFIX}/bytes/{BIG}")
    expect_equal(size, {"size": BIG, "distinct": ["z"]}, f"request body the app read ({facts})")
    expect_equal(download.ended, "end_stream", f"how the download ended ({facts})")
    expected = (bytes(range(256)) * 4096)[:BIG]
    expect_true(
        download.body == expected,
        "the 1 MiB response body arrives whole",
        f"{BIG} bytes",
        f"{len(download.body)} bytes ({facts})",
    )


@pytest.mark.requirement("SRV-H2-HEAD-NO-DATA")
def test_head_has_no_data(server: Server) -> None:
    with server.h2() as client:
        response = client.request("HEAD", PREFIX + "/head")
    expect_equal(response.status, 200, "status")
    expect_equal(response.ended, "end_stream", "how the stream ended")
    expect_equal(response.body, b"", "DATA payload of a HEAD response")
