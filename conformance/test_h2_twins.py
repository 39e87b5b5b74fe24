"""HTTP/2 twins of HTTP/1.1 cases that read raw bytes: the same requirement ids, checked with the
strict HTTP/2 client (``server.h2()``) on the ``NAME/h2c`` and ``NAME/h2`` columns.

The HTTP/1.1 cases of these ids read the wire with the raw client, so they never run over
HTTP/2; a twin gives the id's HTTP/2 columns a real verdict. Marked ``h2_twin``: nothing is
generated for a configuration without HTTP/2 (its HTTP/1.1 case judges it there). What is
the same on both versions is checked the same way (the helpers of the HTTP/1.1 cases); what
HTTP/2 changes (no chunked framing, DATA frames, END_STREAM) is checked on the frames.
"""

from __future__ import annotations

import uuid

import pytest

from conformance.harness import expect_equal, expect_in, expect_true
from conformance.harness.h2client import H2Client, H2Response
from conformance.harness.rawhttp import RawResponse
from conformance.harness.server import Server
from conformance.harness.sse import EventStreamParser
from conformance.test_file import target
from conformance.test_file_ranges import MULTI, SMALL, expect_single, multipart, partial_only

pytestmark = pytest.mark.h2_twin

#: A bound on what a gated stream may wait for its release (as the HTTP/1.1 cases).
GATED_TIMEOUT = 6.0


def as_raw(response: H2Response) -> RawResponse:
    """The stream's answer in the form the HTTP/1.1 cases' helpers check (no framing bytes)."""
    expect_equal(response.ended, "end_stream", "how the stream ended")
    assert response.status is not None
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers]
    trailers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.trailers]
    return RawResponse(
        status=response.status,
        reason="",
        http_version="2",
        headers=headers,
        body=response.body,
        chunks=None,
        trailers=trailers,
        raw=b"",
    )


def get(server: Server, path: str, headers: list[tuple[str, str]] | None = None) -> H2Response:
    with server.h2() as client:
        return client.request("GET", path, headers)


# -- ranges (RFC 9110 §14, §15.3.7) -------------------------------------------------------------


def ranged(server: Server, spec: str) -> RawResponse:
    return as_raw(get(server, target("f", SMALL), [("range", spec)]))


@pytest.mark.requirement("RANGE-SINGLE-206")
def test_single_range_over_h2(server: Server) -> None:
    expect_single(ranged(server, "bytes=10-19"), SMALL, 10, 19, "bytes=10-19 over HTTP/2")


@pytest.mark.requirement("RANGE-SINGLE-CONTENT-RANGE")
def test_single_range_content_range_over_h2(server: Server) -> None:
    response = ranged(server, "bytes=10-19")
    partial_only(response, SMALL, "bytes=10-19 over HTTP/2")
    expect_equal(response.header("content-range"), "bytes 10-19/1000", "Content-Range")


@pytest.mark.requirement("RANGE-MULTI-CONTENT-TYPE", "RANGE-MULTI-DATA")
def test_multipart_byteranges_over_h2(server: Server) -> None:
    response = ranged(server, MULTI)
    partial_only(response, SMALL, f"{MULTI} over HTTP/2")
    parts = multipart(response, SMALL, f"{MULTI} over HTTP/2")
    expect_equal(
        [(first, last) for first, last, _ in parts],
        [(0, 9), (100, 149), (980, 999)],
        "one part per range, with the file's bytes",
    )


# -- bodies that arrive while the app still works -----------------------------------------------


def release_on(client: H2Client, path: str) -> None:
    """Release a gated app through another stream of the same connection."""
    answer = client.request("GET", path)
    expect_equal(answer.status, 200, f"the release {path}")


@pytest.mark.requirement("RESP-STREAM-INCREMENTAL")
def test_stream_first_chunk_before_second_over_h2(server: Server) -> None:
    token = uuid.uuid4().hex
    with server.h2(timeout=GATED_TIMEOUT) as client:
        stream = client.start_request("GET", f"/responses/stream-gated/{token}")
        early = client.read_until(stream, lambda r: len(r.body) >= 6, "the first chunk")
        first = early.body
        release_on(client, f"/responses/release/{token}")
        response = client.read_response(stream)
    expect_equal(first, b"first;", "DATA received while the app holds its second chunk")
    expect_equal(response.ended, "end_stream", "how the stream ended")
    expect_equal(response.body, b"first;second;", "the whole body after the release")


def events_in(body: bytes) -> list[str]:
    parser = EventStreamParser(strict=True)
    parser.feed(body)
    return [event.data for event in parser.events]


@pytest.mark.requirement("SSE-BODY-STREAMED")
def test_event_stream_arrives_in_data_frames_over_h2(server: Server) -> None:
    key = uuid.uuid4().hex
    with server.h2(timeout=GATED_TIMEOUT) as client:
        stream = client.start_request("GET", f"/sse/gated/{key}", [("accept", "text/event-stream")])
        early = client.read_until(stream, lambda r: bool(events_in(r.body)), "the first event")
        before = events_in(early.body)
        ended_early = early.ended
        release_on(client, f"/sse/release/{key}")
        response = client.read_response(stream)
    expect_equal(ended_early, None, "the stream is still open when the first event arrives")
    expect_equal(before, ["start"], "events received before the release")
    expect_equal(response.status, 200, "status")
    parser = EventStreamParser(strict=True)
    parser.feed(response.body)
    parser.close()
    expect_equal(parser.violations, [], "the event stream's syntax")
    expect_equal([e.data for e in parser.events], ["start", "end"], "data of the events")


# -- no content: 204 and 304 (RFC 9110 §15.3.5, §15.4.5) ------------------------------------------


def no_content(server: Server, name: str, status: int) -> H2Response:
    """A ``/responses/NAME`` answer that must carry no content: ``status``, no DATA payload,
    END_STREAM (on the HEADERS or an empty DATA frame), no Transfer-Encoding."""
    response = get(server, f"/responses/{name}")
    expect_equal(response.status, status, "status code")
    expect_equal(response.ended, "end_stream", "how the stream ended")
    expect_equal(response.body, b"", f"DATA payload of a {status} response")
    expect_equal(response.header(b"transfer-encoding"), None, f"Transfer-Encoding on {status}")
    return response


@pytest.mark.requirement("RESP-NO-BODY-204")
def test_bare_204_over_h2(server: Server) -> None:
    response = no_content(server, "empty-204", 204)
    expect_equal(response.header(b"content-length"), None, "Content-Length on a 204")


@pytest.mark.requirement("RESP-NO-BODY-204-SMALL")
def test_small_response_204_over_h2(server: Server) -> None:
    response = no_content(server, "small-204", 204)
    expect_equal(response.header(b"content-length"), None, "Content-Length on a 204")


@pytest.mark.requirement("RESP-NO-BODY-304")
def test_bare_304_over_h2(server: Server) -> None:
    response = no_content(server, "empty-304", 304)
    expect_equal(response.header(b"etag"), b'"v1"', "ETag given to the 304")


@pytest.mark.requirement("RESP-NO-BODY-304-SMALL")
def test_small_response_304_over_h2(server: Server) -> None:
    response = no_content(server, "small-304", 304)
    lengths = [v for k, v in response.headers if k == b"content-length"]
    expect_in(lengths, ([], [b"7"]), "Content-Length on a 304: absent or the 200's length")
    expect_true(
        response.data_frames <= 1,
        "no content frames on a 304",
        "at most one (empty) DATA frame carrying END_STREAM",
        f"{response.data_frames} DATA frames",
    )
