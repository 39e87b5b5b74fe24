"""How the server frames what the app sends (requirements/srv-http-response.toml)."""

from __future__ import annotations

import re
import uuid

import pytest

from conformance.harness import expect_equal, expect_true
from conformance.harness.rawhttp import RawResponse
from conformance.harness.server import Server
from conformance.srv_wire import CANARY, Exchange, expect_clean, request, roundtrip

# Every case reads or writes HTTP/1.1 (or WebSocket) bytes: none is generated for h2c/h2
# columns (harness/transport.py); HTTP/2 twins live in test_h2_twins.py.
pytestmark = pytest.mark.h1_only

STREAM_BODY = b"alpha;beta;gamma;"
HEAD_BODY_LENGTH = 29
IMF_FIXDATE = re.compile(
    r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"\d{4} \d\d:\d\d:\d\d GMT"
)


def one(server: Server, target: str, method: str = "GET", version: str = "1.1") -> Exchange:
    close = version == "1.1"
    exchange = roundtrip(server, request(method, target, version=version, close=close), (method,))
    expect_clean(exchange)
    expect_true(exchange.first is not None, "a response", "one response", exchange.summary())
    return exchange


def first(exchange: Exchange) -> RawResponse:
    response = exchange.first
    assert response is not None
    return response


def then_canary(server: Server, target: str, method: str = "GET") -> Exchange:
    """``target`` then the canary on one connection: both answered, cleanly framed."""
    exchange = roundtrip(server, request(method, target) + CANARY, (method, "GET"))
    expect_clean(exchange)
    expect_true(
        len(exchange.responses) == 2 and exchange.canary() and not exchange.leftover,
        "the response is framed so that the next one parses",
        "two clean responses, the second answering the canary",
        exchange.summary(),
    )
    return exchange


def wire_names(response: RawResponse) -> list[str]:
    return [name.lower() for name, _ in response.headers]


# -- Content-Length and Transfer-Encoding -------------------------------------------------------


@pytest.mark.requirement("SRV-RESP-CL-NO-TE")
def test_content_length_without_te(server: Server) -> None:
    response = first(one(server, "/srvhttp/stream?cl=1"))
    expect_equal(response.header_values("transfer-encoding"), [], "Transfer-Encoding")


@pytest.mark.requirement("SRV-RESP-CL-KEPT")
def test_content_length_kept(server: Server) -> None:
    response = first(one(server, "/srvhttp/stream?cl=1"))
    expect_equal(response.header_values("content-length"), [str(len(STREAM_BODY))], "CL")
    expect_equal(response.body, STREAM_BODY, "body")


@pytest.mark.requirement("SRV-RESP-STREAM-DELIMITED")
def test_stream_is_delimited(server: Server) -> None:
    exchange = then_canary(server, "/srvhttp/stream")
    expect_equal(first(exchange).body, STREAM_BODY, "body")


@pytest.mark.requirement("SRV-RESP-STREAM-HTTP10")
def test_stream_to_http10(server: Server) -> None:
    exchange = one(server, "/srvhttp/stream", version="1.0")
    response = first(exchange)
    expect_equal(response.header_values("transfer-encoding"), [], "Transfer-Encoding to HTTP/1.0")
    expect_equal(response.body, STREAM_BODY, "body")


@pytest.mark.requirement("SRV-RESP-EMPTY-BODY-MESSAGE")
def test_empty_body_messages(server: Server) -> None:
    exchange = then_canary(server, "/srvhttp/stream?empty=1")
    expect_equal(first(exchange).body, STREAM_BODY, "body")


# -- responses without content ------------------------------------------------------------------


@pytest.mark.requirement("SRV-RESP-HEAD-NO-BODY")
def test_head_without_body(server: Server) -> None:
    exchange = then_canary(server, "/srvhttp/status/200", "HEAD")
    expect_equal(first(exchange).body, b"", "HEAD body")


@pytest.mark.requirement("SRV-RESP-HEAD-STREAM-NO-BODY")
def test_head_stream_without_body(server: Server) -> None:
    exchange = then_canary(server, "/srvhttp/status/200?cl=0&stream=1", "HEAD")
    expect_equal(first(exchange).body, b"", "HEAD body")


@pytest.mark.requirement("SRV-RESP-HEAD-CL-VALUE")
def test_head_content_length_value(server: Server) -> None:
    response = first(one(server, "/srvhttp/status/200", "HEAD"))
    for value in response.header_values("content-length"):
        expect_equal(value, str(HEAD_BODY_LENGTH), "Content-Length of a HEAD response")


def no_content(server: Server, code: int, query: str) -> None:
    """No content after the head: the canary behind parses, or the server closes right after
    the head (parsed leniently: a Content-Length the app sent is another requirement's)."""
    target = f"/srvhttp/status/{code}{query}"
    exchange = roundtrip(server, request("GET", target) + CANARY, ("GET", "GET"), strict=False)
    expect_true(
        exchange.error is None
        and not exchange.leftover
        and exchange.statuses[:1] == [code]
        and (exchange.canary() or (exchange.closed and len(exchange.responses) == 1)),
        f"a {code} carries no content",
        "the head alone, then the next response or a close",
        exchange.summary(),
    )


@pytest.mark.requirement("SRV-RESP-204-NO-BODY")
def test_204_without_body(server: Server) -> None:
    no_content(server, 204, "")


@pytest.mark.requirement("SRV-RESP-204-STREAM-NO-BODY")
def test_204_stream_without_body(server: Server) -> None:
    no_content(server, 204, "?cl=0&stream=1")


@pytest.mark.requirement("SRV-RESP-204-NO-CONTENT-LENGTH")
def test_204_no_content_length_added(server: Server) -> None:
    response = first(one(server, "/srvhttp/status/204?cl=0&body=0"))
    expect_equal(response.header_values("content-length"), [], "Content-Length on a 204")


@pytest.mark.requirement("SRV-RESP-204-NO-TRANSFER-ENCODING")
def test_204_no_transfer_encoding(server: Server) -> None:
    # Parsed leniently: a Content-Length on the 204 is SRV-RESP-204-NO-CONTENT-LENGTH's fault.
    data = request("GET", "/srvhttp/status/204?cl=0&body=0", close=True)
    exchange = roundtrip(server, data, ("GET",), strict=False)
    expect_true(exchange.first is not None, "a response", "one response", exchange.summary())
    response = first(exchange)
    expect_equal(response.header_values("transfer-encoding"), [], "Transfer-Encoding on a 204")


@pytest.mark.requirement("SRV-RESP-304-NO-BODY")
def test_304_without_body(server: Server) -> None:
    no_content(server, 304, "")


@pytest.mark.requirement("SRV-RESP-304-STREAM-NO-BODY")
def test_304_stream_without_body(server: Server) -> None:
    no_content(server, 304, "?cl=0&stream=1")


# -- fields the server adds ---------------------------------------------------------------------


@pytest.mark.requirement("SRV-RESP-DATE-PRESENT")
def test_date_present(server: Server) -> None:
    response = first(one(server, "/srvhttp/status/200"))
    expect_equal(len(response.header_values("date")), 1, "Date fields on a 200")


@pytest.mark.requirement("SRV-RESP-DATE-4XX")
def test_date_on_404(server: Server) -> None:
    response = first(one(server, "/srvhttp/status/404"))
    expect_equal(len(response.header_values("date")), 1, "Date fields on a 404")


@pytest.mark.requirement("SRV-RESP-DATE-FORMAT")
def test_date_format(server: Server) -> None:
    for value in first(one(server, "/srvhttp/status/200")).header_values("date"):
        expect_true(
            IMF_FIXDATE.fullmatch(value) is not None, "Date is an IMF-fixdate", "IMF-fixdate", value
        )


@pytest.mark.requirement("SRV-RESP-DATE-NOT-DUPLICATED")
def test_date_not_duplicated(server: Server) -> None:
    response = first(one(server, "/srvhttp/headers/date"))
    expect_equal(len(response.header_values("date")), 1, "Date fields with the app's own Date")


@pytest.mark.requirement("SRV-RESP-SERVER-NOT-DUPLICATED")
def test_server_not_duplicated(server: Server) -> None:
    response = first(one(server, "/srvhttp/headers/server"))
    expect_equal(len(response.header_values("server")), 1, "Server fields with the app's own")


# -- fields the app supplies --------------------------------------------------------------------


@pytest.mark.requirement("SRV-RESP-APP-TE-IGNORED")
def test_app_transfer_encoding_ignored(server: Server) -> None:
    exchange = then_canary(server, "/srvhttp/headers/te")
    expect_equal(first(exchange).body, b"hello world", "body")


@pytest.mark.requirement("SRV-RESP-APP-TE-WITH-CL")
def test_app_transfer_encoding_with_content_length(server: Server) -> None:
    exchange = then_canary(server, "/srvhttp/headers/te-cl")
    response = first(exchange)
    names = wire_names(response)
    expect_true(
        not ("transfer-encoding" in names and "content-length" in names),
        "never both Transfer-Encoding and Content-Length",
        "one framing field",
        repr(response.headers),
    )
    expect_equal(response.body, b"hello world", "body")


@pytest.mark.requirement("SRV-RESP-APP-TE-HTTP10")
def test_app_transfer_encoding_to_http10(server: Server) -> None:
    response = first(one(server, "/srvhttp/headers/te", version="1.0"))
    expect_equal(response.header_values("transfer-encoding"), [], "Transfer-Encoding to HTTP/1.0")
    expect_equal(response.body, b"hello world", "body")


def injected(server: Server, scenario: str) -> Exchange:
    """The app sends a header holding CR/LF/NUL: no injected field, clean framing or a close."""
    exchange = roundtrip(
        server, request("GET", f"/srvhttp/headers/{scenario}") + CANARY, ("GET", "GET"), expect=2
    )
    head = exchange.raw.split(b"\r\n\r\n", 1)[0]
    expect_true(
        b"\nx-injected" not in exchange.raw.lower(),
        "no field injected through an app header",
        "no x-injected line",
        exchange.summary(),
    )
    expect_true(
        exchange.error is None or (exchange.closed and not exchange.responses),
        "the response stays well framed",
        "clean responses, or a close",
        exchange.summary(),
    )
    del head
    return exchange


@pytest.mark.requirement("SRV-RESP-APP-HEADER-VALUE-CRLF")
def test_app_header_value_crlf(server: Server) -> None:
    injected(server, "value-crlf")


@pytest.mark.requirement("SRV-RESP-APP-HEADER-VALUE-LF")
def test_app_header_value_lf(server: Server) -> None:
    injected(server, "value-lf")


@pytest.mark.requirement("SRV-RESP-APP-HEADER-VALUE-CR")
def test_app_header_value_cr(server: Server) -> None:
    exchange = injected(server, "value-cr")
    head = exchange.raw.split(b"\r\n\r\n", 1)[0]
    expect_true(
        re.search(rb"\r(?!\n)", head) is None,
        "no bare CR in the response head",
        "CR only before LF",
        repr(head[:300]),
    )


@pytest.mark.requirement("SRV-RESP-APP-HEADER-VALUE-NUL")
def test_app_header_value_nul(server: Server) -> None:
    exchange = injected(server, "value-nul")
    head = exchange.raw.split(b"\r\n\r\n", 1)[0]
    expect_true(b"\x00" not in head, "no NUL in the response head", "no NUL", repr(head[:300]))


@pytest.mark.requirement("SRV-RESP-APP-HEADER-NAME-CRLF")
def test_app_header_name_crlf(server: Server) -> None:
    injected(server, "name-crlf")


@pytest.mark.requirement("SRV-RESP-APP-HEADER-NAME-COLON")
def test_app_header_name_colon(server: Server) -> None:
    injected(server, "name-colon")


@pytest.mark.requirement("SRV-RESP-APP-HEADER-NAME-SPACE")
def test_app_header_name_space(server: Server) -> None:
    exchange = injected(server, "name-space")
    expect_true(
        b"\r\nx bad:" not in exchange.raw.lower(),
        "a field name with a space never goes out",
        "no 'x bad:' line",
        exchange.summary(),
    )


@pytest.mark.requirement("SRV-RESP-HEADER-ORDER")
def test_header_order(server: Server) -> None:
    response = first(one(server, "/srvhttp/headers/order"))
    expect_equal(response.header_values("x-order"), ["1", "2", "3"], "x-order values")
    expect_equal(response.header_values("set-cookie"), ["a=1", "b=2"], "set-cookie lines")


# -- status line and version --------------------------------------------------------------------


@pytest.mark.requirement("SRV-RESP-STATUS-LINE-SPACE")
def test_status_line_space(server: Server) -> None:
    exchange = one(server, "/srvhttp/status-line")
    line = exchange.raw.split(b"\r\n", 1)[0]
    expect_true(line.startswith(b"HTTP/1.1 299 "), "status line", "'HTTP/1.1 299 ...'", repr(line))


@pytest.mark.requirement("SRV-RESP-VERSION-TO-HTTP10")
def test_version_to_http10(server: Server) -> None:
    response = first(one(server, "/srvhttp/status/200", version="1.0"))
    expect_equal(response.http_version, "HTTP/1.1", "response version to an HTTP/1.0 request")


@pytest.mark.requirement("SRV-RESP-NO-1XX-TO-HTTP10")
def test_no_1xx_to_http10(server: Server) -> None:
    fields = ["Expect: 100-continue", "Content-Length: 5"]
    data = request("POST", "/srvhttp/echo", fields, b"hello", version="1.0")
    exchange = roundtrip(server, data, ("POST",))
    expect_true(
        not exchange.raw.startswith(b"HTTP/1.1 1") and not exchange.raw.startswith(b"HTTP/1.0 1"),
        "no 1xx to an HTTP/1.0 client",
        "a final response first",
        exchange.summary(),
    )


@pytest.mark.requirement("SRV-RESP-FLUSH-BEFORE-RETURN")
def test_flush_before_return(server: Server) -> None:
    token = uuid.uuid4().hex
    with server.connect() as sock:
        sock.sendall(request("GET", f"/srvhttp/slow/{token}", close=True))
        sock.settimeout(1.0)  # below the app's own wait (2 s): a held body is not seen in time
        received = b""
        try:
            while b"first;" not in received:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                received += chunk
        except TimeoutError:
            pass
        with server.http() as client:
            client.get(f"/srvhttp/release/{token}")
    expect_true(
        b"first;" in received,
        "a body message reaches the client while the app waits",
        "'first;' before the app is released",
        repr(received[:300]),
    )
