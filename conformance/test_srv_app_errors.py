"""What the server does when the application misbehaves (requirements/srv-app-errors.toml).

Every failure must end in a 5xx or a clean close within the bound: never a hang, never a
response that looks complete while the app did not finish it.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import pytest

from conformance.harness import expect_equal, expect_in, expect_true, not_applicable
from conformance.harness.server import Server
from conformance.srv_wire import CANARY, Exchange, parse_all, request, roundtrip

# Every case reads or writes HTTP/1.1 (or WebSocket) bytes: none is generated for h2c/h2
# columns (harness/transport.py); HTTP/2 twins live in test_h2_twins.py.
pytestmark = pytest.mark.h1_only

BOUND = 1.0
STATUS_LINE = re.compile(rb"HTTP/1\.[01] \d{3}")


def fault(server: Server, name: str) -> Exchange:
    return roundtrip(server, request("GET", f"/srvhttp/fault/{name}", close=True), bound=BOUND)


def expect_error_or_close(exchange: Exchange) -> None:
    """A 5xx response, or a close without one; never a hang, never a 2xx."""
    expect_true(
        not exchange.timed_out, "no hang", f"an answer within {BOUND} s", exchange.summary()
    )
    first = exchange.first
    if first is None:
        expect_true(exchange.closed, "a close", "5xx or close", exchange.summary())
        return
    expect_true(500 <= first.status < 600, "an error status", "5xx", exchange.summary())


def expect_cut_off(exchange: Exchange) -> None:
    """A 5xx, or a started response that does not look complete and a close."""
    expect_true(not exchange.timed_out, "no hang", f"a close within {BOUND} s", exchange.summary())
    first = exchange.first
    if first is not None:
        expect_true(
            500 <= first.status < 600,
            "a failed response never looks complete",
            "a 5xx, or an incomplete response then a close",
            exchange.summary(),
        )
        return
    expect_true(exchange.closed, "the connection closes", "a close", exchange.summary())


@pytest.mark.requirement("SRV-APPERR-RAISE-BEFORE-START")
def test_raise_before_start(server: Server) -> None:
    expect_error_or_close(fault(server, "raise-before"))


@pytest.mark.requirement("SRV-APPERR-RAISE-AFTER-START")
def test_raise_after_start(server: Server) -> None:
    expect_cut_off(fault(server, "raise-after-start"))


@pytest.mark.requirement("SRV-APPERR-RAISE-MID-CL")
def test_raise_mid_content_length(server: Server) -> None:
    expect_cut_off(fault(server, "raise-mid-cl"))


@pytest.mark.requirement("SRV-APPERR-RAISE-MID-CHUNKED")
def test_raise_mid_chunked(server: Server) -> None:
    exchange = fault(server, "raise-mid-chunked")
    expect_cut_off(exchange)
    expect_true(
        not exchange.raw.endswith(b"0\r\n\r\n"),
        "no terminating chunk after a failure",
        "no zero-size chunk",
        exchange.summary(),
    )


@pytest.mark.requirement("SRV-APPERR-RETURN-WITHOUT-RESPONSE")
def test_return_without_response(server: Server) -> None:
    expect_error_or_close(fault(server, "return-without"))


@pytest.mark.requirement("SRV-APPERR-RETURN-AFTER-START")
def test_return_after_start(server: Server) -> None:
    expect_cut_off(fault(server, "return-after-start"))


@pytest.mark.requirement("SRV-APPERR-RETURN-MID-CL")
def test_return_mid_content_length(server: Server) -> None:
    expect_cut_off(fault(server, "return-mid-cl"))


@pytest.mark.requirement("SRV-APPERR-RETURN-MID-CHUNKED")
def test_return_mid_chunked(server: Server) -> None:
    exchange = fault(server, "return-mid-chunked")
    expect_cut_off(exchange)
    expect_true(
        not exchange.raw.endswith(b"0\r\n\r\n"),
        "no terminating chunk when the app returns mid-body",
        "no zero-size chunk",
        exchange.summary(),
    )


def then_canary(server: Server, name: str, token: str = "") -> Exchange:
    """Fault ``name``, the canary pipelined behind: clean responses; canary answered or close."""
    target = f"/srvhttp/fault/{name}" + (f"?token={token}" if token else "")
    exchange = roundtrip(server, request("GET", target) + CANARY, ("GET", "GET"), bound=BOUND)
    expect_true(not exchange.timed_out, "no hang", f"a close within {BOUND} s", exchange.summary())
    expect_true(
        (exchange.error is None and not exchange.leftover) or exchange.cut_off,
        "nothing but whole responses on the wire",
        "no stray bytes",
        exchange.summary(),
    )
    expect_true(
        exchange.canary() or len(exchange.responses) <= 1,
        "the next request is answered, or the connection closes",
        "canary answered or a close",
        exchange.summary(),
    )
    return exchange


@pytest.mark.requirement("SRV-APPERR-CONTENT-LENGTH-EXCEEDED")
def test_content_length_exceeded(server: Server) -> None:
    exchange = then_canary(server, "cl-long")
    first = exchange.first
    if first is not None and first.status == 200:
        # Cut to the declared 3 bytes, or all 10 under a Content-Length the server corrected:
        # either way no field value known to be incorrect is forwarded (then_canary has
        # checked that nothing strays past the response's own framing).
        expect_in(first.body, (b"abc", b"abcdefghij"), "the body as framed on the wire")


@pytest.mark.requirement("SRV-APPERR-RAISE-AFTER-COMPLETE")
def test_raise_after_complete(server: Server) -> None:
    exchange = then_canary(server, "raise-after-complete")
    expect_equal(exchange.statuses[:1], [200], "the complete response stays")
    expect_equal(exchange.responses[0].body, b"complete", "its body")
    expect_true(
        len(exchange.responses) == (2 if exchange.canary() else 1),
        "nothing is appended to a complete response",
        "the response, then only the canary's",
        exchange.summary(),
    )


@pytest.mark.requirement("SRV-APPERR-BODY-AFTER-COMPLETE")
def test_body_after_complete(server: Server) -> None:
    exchange = then_canary(server, "body-after-complete", uuid.uuid4().hex)
    expect_true(
        b"EXTRA-BYTES" not in exchange.raw, "late body dropped", "absent", exchange.summary()
    )


@pytest.mark.requirement("SRV-APPERR-START-AFTER-COMPLETE")
def test_start_after_complete(server: Server) -> None:
    exchange = then_canary(server, "start-after-complete", uuid.uuid4().hex)
    expect_true(
        exchange.statuses[:1] == [200] and 500 not in exchange.statuses,
        "a late response start never reaches the wire",
        "the first response only (and the canary)",
        exchange.summary(),
    )


def invalid(server: Server, name: str, token: str = "") -> Exchange:
    target = f"/srvhttp/invalid/{name}?token={token}"
    return roundtrip(server, request("GET", target) + CANARY, ("GET", "GET"), bound=BOUND, expect=1)


def recorded(server: Server, token: str) -> Any:
    """What the app recorded for ``token`` (polled: it is written in the server process)."""
    deadline = time.monotonic() + BOUND
    with server.http() as client:
        while True:
            record = client.get(f"/srvhttp/result/{token}").json()
            if record is not None or time.monotonic() > deadline:
                return record
            time.sleep(0.02)


@pytest.mark.requirement("SRV-APPERR-START-TWICE-WIRE")
def test_start_twice_wire(server: Server) -> None:
    target = f"/srvhttp/invalid/start-twice?token={uuid.uuid4().hex}"
    exchange = roundtrip(server, request("GET", target) + CANARY, ("GET", "GET"), bound=BOUND)
    expect_true(not exchange.timed_out, "no hang", "an answer or a close", exchange.summary())
    expect_true(
        exchange.error is None and not exchange.leftover,
        "one well framed response",
        "no second head, no stray bytes",
        exchange.summary(),
    )
    heads = len(STATUS_LINE.findall(exchange.raw)) - (1 if exchange.canary() else 0)
    expect_true(heads <= 1, "one response for the request", "at most one head", exchange.summary())


def expect_raised(server: Server, name: str) -> None:
    """The app records whether send() raised before it tries to answer (the server may have
    ended the request after refusing the message)."""
    token = uuid.uuid4().hex
    exchange = invalid(server, name, token)
    record = recorded(server, token)
    expect_true(record is not None, "the app's record", "raised or accepted", exchange.summary())
    expect_equal(record["outcome"], "raised", f"send() of an invalid message ({name})")


@pytest.mark.requirement("SRV-APPERR-START-TWICE-RAISES")
def test_start_twice_raises(server: Server) -> None:
    expect_raised(server, "start-twice")


@pytest.mark.requirement("SRV-APPERR-UNKNOWN-TYPE-RAISES")
def test_unknown_type_raises(server: Server) -> None:
    expect_raised(server, "unknown-type")


@pytest.mark.requirement("SRV-APPERR-STATUS-STR-RAISES")
def test_status_str_raises(server: Server) -> None:
    expect_raised(server, "status-str")


@pytest.mark.requirement("SRV-APPERR-HEADER-STR-RAISES")
def test_header_str_raises(server: Server) -> None:
    expect_raised(server, "header-str")


@pytest.mark.requirement("SRV-APPERR-MISSING-STATUS-RAISES")
def test_missing_status_raises(server: Server) -> None:
    expect_raised(server, "missing-status")


@pytest.mark.requirement("SRV-APPERR-EXTRA-KEY-ACCEPTED")
def test_extra_key_accepted(server: Server) -> None:
    exchange = invalid(server, "extra-key")
    first = exchange.first
    expect_true(first is not None, "a response", "200 'ok'", exchange.summary())
    assert first is not None
    expect_equal((first.status, first.body), (200, b"ok"), "response to messages with an extra key")


@pytest.mark.requirement("SRV-APPERR-SEND-AFTER-DISCONNECT")
def test_send_after_disconnect(server: Server) -> None:
    token = uuid.uuid4().hex
    with server.connect() as sock:
        sock.sendall(request("GET", f"/srvhttp/late-send/{token}"))
        time.sleep(0.1)
    deadline = time.monotonic() + 5
    with server.http() as client:
        while True:
            record = client.get(f"/srvhttp/result/{token}").json()
            if record and record["done"]:
                break
            expect_true(
                time.monotonic() < deadline, "the app's send returns", "within 5 s", repr(record)
            )
            time.sleep(0.02)
        spec = client.get("/__scope__").json()["asgi"].get("spec_version", "2.0")
    if record["raised"] is None:
        if tuple(int(p) for p in spec.split(".")[:2]) < (2, 4):
            not_applicable(f"spec_version {spec} < 2.4: send() may act as a no-op")
        expect_true(False, "send() after a disconnect raises", "an OSError subclass", "no error")
    expect_true(record["oserror"], "the error is an OSError subclass", "OSError", record["raised"])


@pytest.mark.requirement("SRV-APPERR-SERVER-SURVIVES")
def test_server_survives(server: Server) -> None:
    for name in ("raise-before", "return-mid-chunked"):
        roundtrip(server, request("GET", f"/srvhttp/fault/{name}", close=True), bound=0.5)
    exchange = roundtrip(server, request("GET", "/srvhttp/status/200", close=True))
    responses, _, _ = parse_all(exchange.raw, ("GET",), eof=True)
    expect_true(
        bool(responses) and responses[0].status == 200,
        "the server still serves after application failures",
        "200",
        exchange.summary(),
    )
