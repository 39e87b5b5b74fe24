# Over 700 lines on purpose: one case per requirement of the Request area (108 ids), in catalogue
# order, sharing the scenario-app helpers at the top.
"""HTTPConnection and Request (conformance/requirements/request.toml) through real servers.

The scenario apps (conformance/apps/request.py) answer what the implementation computed;
most cases send exact bytes with the raw client so that no client default (httpx sends
``Accept: */*``) gets in the way.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from conformance.harness import ExpectationFailed, expect_equal, expect_true, not_applicable
from conformance.harness.polling import poll_result
from conformance.harness.rawhttp import RawResponse, build_request, exchange
from conformance.harness.server import Server

RAW_TIMEOUT = 5.0
RESULT_DEADLINE = 6.0
RESULT_POLL = 0.02
START_DEADLINE = 1.0
PEEKS = 30
KEEPS_BODY_ATTEMPTS = 3

Headers = Sequence[tuple[str, str]]


# -- helpers --------------------------------------------------------------------------------------


def send(
    server: Server,
    method: str,
    target: str,
    headers: Headers = (),
    body: bytes = b"",
    *,
    chunked: bool = False,
    chunk_size: int | None = None,
    host: str | None = "127.0.0.1",
    http_version: str = "HTTP/1.1",
) -> RawResponse:
    """One request on its own connection (``Connection: close``), exact bytes."""
    data = build_request(
        method,
        target,
        [*headers, ("Connection", "close")],
        body,
        chunked=chunked,
        chunk_size=chunk_size,
        host=host,
        http_version=http_version,
    )
    return exchange(
        server.host,
        server.port,
        data,
        method_hint=method,
        timeout=RAW_TIMEOUT,
        total_timeout=2 * RAW_TIMEOUT,
        strict=False,
    )


def answer(
    server: Server, target: str, headers: Headers = (), method: str = "GET", **kw: Any
) -> Any:
    """The JSON a scenario app answered with 200."""
    response = send(server, method, target, headers, **kw)
    detail = response.body[:500].decode("latin-1")
    expect_true(
        response.status == 200, "the scenario app answers 200", "200", f"{response.status} {detail}"
    )
    return json.loads(response.body)


def ok(result: dict[str, Any], what: str) -> Any:
    """The value of a ``_try`` result; fail when the implementation raised."""
    if "raised" in result:
        raise ExpectationFailed(what, ["a value, no exception"], f"raised {result['raised']}")
    return result["ok"]


def digest(data: bytes) -> dict[str, Any]:
    return {"length": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def expect_status(response: RawResponse, status: int, what: str) -> None:
    detail = response.body[:300].decode("latin-1")
    expect_true(response.status == status, what, str(status), f"{response.status} {detail}")


def expect_http_exception(response: RawResponse, status: int, name: str, what: str) -> None:
    """The app rendered an HTTPException of class ``name`` (or a subclass) with ``status``."""
    try:
        raised = json.loads(response.body)["http_exception"]
    except (ValueError, KeyError, TypeError):
        if response.status == status and 400 <= status < 500:
            # daphne (Twisted) parses multipart bodies itself and answers 400 first.
            not_applicable(f"the server answered {status} itself; the app was never called")
        raised = None
    expect_status(response, status, what)
    assert raised is not None
    expect_true(
        name in raised["mro"], f"{what}: exception class", name, f"{raised['type']} {raised}"
    )


# -- HTTPConnection: Mapping ----------------------------------------------------------------------


def mapping_record(server: Server) -> Any:
    return answer(server, "/request/mapping")


# One case per id: an implementation lacking one promise (say ``==``) must not fail the others.
@pytest.mark.requirement("REQ-MAPPING-GETITEM")
def test_mapping_getitem(server: Server) -> None:
    record = mapping_record(server)
    expect_equal(ok(record["getitem_path"], "conn['path']"), True, "conn['path'] == scope['path']")
    expect_true(
        "raised" in record["getitem_missing"] and "KeyError" in record["getitem_missing"]["raised"],
        "conn['no-such-key']",
        "KeyError",
        repr(record["getitem_missing"]),
    )


@pytest.mark.requirement("REQ-MAPPING-GET")
def test_mapping_get(server: Server) -> None:
    record = mapping_record(server)
    expect_equal(ok(record["get_path"], "conn.get('path')"), True, "conn.get('path')")
    expect_equal(ok(record["get_default"], "conn.get(missing, d)"), "fallback", "get default")


@pytest.mark.requirement("REQ-MAPPING-KEYS-LEN")
def test_mapping_keys_len(server: Server) -> None:
    record = mapping_record(server)
    expect_equal(record["is_mapping"], True, "isinstance(conn, collections.abc.Mapping)")
    expect_equal(ok(record["keys"], "conn.keys()"), True, "sorted(conn.keys()) == scope keys")
    expect_equal(ok(record["len"], "len(conn)"), True, "len(conn) == len(scope)")
    expect_equal(ok(record["items"], "conn.items()"), True, "dict(conn.items()) == scope")
    expect_equal(ok(record["values"], "conn.values()"), True, "len(conn.values())")
    expect_equal(ok(record["contains"], "in"), [True, False], "'headers' in, 'no-such-key' in")


@pytest.mark.requirement("REQ-MAPPING-EQ")
def test_mapping_eq(server: Server) -> None:
    record = mapping_record(server)
    same = ok(record["eq_same_scope"], "==")
    expect_equal(same, True, "two connections on one scope, receive and send are ==")
    expect_equal(ok(record["eq_other_scope"], "=="), False, "connections on other scopes differ")
    other_receive = ok(record["eq_other_receive"], "==")
    expect_equal(other_receive, False, "connections with another receive differ (upstream)")
    expect_equal(ok(record["eq_dict"], "=="), False, "a connection never equals a plain dict")


@pytest.mark.requirement("REQ-MAPPING-READONLY")
def test_mapping_read_only(server: Server) -> None:
    record = mapping_record(server)
    expect_equal(ok(record["assign"], "conn[k] = v"), "refused", "item assignment")


# -- client ---------------------------------------------------------------------------------------


@pytest.mark.requirement("REQ-CLIENT-ADDRESS")
def test_client_address(server: Server) -> None:
    record = answer(server, "/request/client")
    scope_client = record["scope_client"]
    if scope_client is None:
        not_applicable("the server gives no scope['client'] (optional in ASGI)")
    client = ok(record["client"], "conn.client")
    expect_equal(client["tuple"], list(scope_client), "tuple(conn.client) == scope['client']")
    expect_equal(client["host"], "127.0.0.1", "conn.client.host")
    expect_equal(client["port"], scope_client[1], "conn.client.port")


@pytest.mark.requirement("REQ-CLIENT-ABSENT")
def test_client_absent(server: Server) -> None:
    record = answer(server, "/request/client")
    for key in ("absent", "none"):
        address = ok(record[key], f"conn.client with client {key}")
        expect_equal(address["tuple"], [None, None], f"conn.client with client {key}")
        expect_equal([address["host"], address["port"]], [None, None], "host and port")


# -- url ------------------------------------------------------------------------------------------


def url_of(server: Server, target: str, headers: Headers = (), **kw: Any) -> dict[str, Any]:
    record = answer(server, target, headers, **kw)
    return {key: ok(value, f"url.{key}") for key, value in record.items() if key != "scope"}


@pytest.mark.requirement("REQ-URL-SCHEME", "REQ-URL-HOST-PORT")
def test_url_scheme_and_host_with_port(server: Server) -> None:
    host = f"127.0.0.1:{server.port}"
    url = url_of(server, "/request/url/x", host=host)
    expect_equal(url["scheme"], "http", "url.scheme over plain TCP")
    expect_equal(url["netloc"], host, "url.netloc from the Host header")
    expect_equal(url["str"], f"http://{host}/request/url/x", "str(url)")


@pytest.mark.requirement("REQ-URL-HOST-NO-PORT")
def test_url_host_without_port(server: Server) -> None:
    url = url_of(server, "/request/url", host="example.com")
    expect_equal(url["str"], "http://example.com/request/url", "str(url) for Host: example.com")


@pytest.mark.requirement("REQ-URL-DEFAULT-PORT")
def test_url_default_port_dropped(server: Server) -> None:
    url = url_of(server, "/request/url", host="example.com:80")
    expect_equal(url["str"], "http://example.com/request/url", "Host example.com:80, http")
    https = [("x-emulate-scheme", "https")]
    url = url_of(server, "/request/url", https, host="example.com:443")
    expect_equal(url["str"], "https://example.com/request/url", "Host example.com:443, https")
    url = url_of(server, "/request/url", host="[::1]:80")
    expect_equal(url["str"], "http://[::1]/request/url", "Host [::1]:80, http")


@pytest.mark.requirement("REQ-URL-OTHER-PORT-KEPT")
def test_url_non_default_port_kept(server: Server) -> None:
    url = url_of(server, "/request/url", host="example.com:443")
    expect_equal(url["str"], "http://example.com:443/request/url", "Host example.com:443, http")
    https = [("x-emulate-scheme", "https")]
    url = url_of(server, "/request/url", https, host="example.com:80")
    expect_equal(url["str"], "https://example.com:80/request/url", "Host example.com:80, https")
    # Ports whose digits end like the default one: only the whole ':80' / ':443' may go.
    for host, scheme in (("example.com:8080", []), ("example.com:1443", https)):
        url = url_of(server, "/request/url", scheme, host=host)
        prefix = "https" if scheme else "http"
        expect_equal(url["str"], f"{prefix}://{host}/request/url", f"Host {host}, {prefix}")


@pytest.mark.requirement("REQ-URL-IPV6-HOST")
def test_url_ipv6_host(server: Server) -> None:
    url = url_of(server, "/request/url", host=f"[::1]:{server.port}")
    expect_equal(url["netloc"], f"[::1]:{server.port}", "url.netloc for an IPv6 literal")
    expect_equal(url["str"], f"http://[::1]:{server.port}/request/url", "str(url)")
    url = url_of(server, "/request/url", host="[::1]")
    expect_equal(url["str"], "http://[::1]/request/url", "str(url) for Host [::1], no port")


@pytest.mark.requirement("REQ-URL-SERVER-FALLBACK")
def test_url_without_host_uses_server(server: Server) -> None:
    record = answer(server, "/request/url", host=None, http_version="HTTP/1.0")
    scope_server = record["scope"]["server"]
    if not scope_server:
        not_applicable("the server gives no scope['server'] (optional in ASGI)")
    expected = f"http://{scope_server[0]}:{scope_server[1]}/request/url"
    expect_equal(
        ok(record["str"], "str(url)"), expected, "str(url) of an HTTP/1.0 request without Host"
    )


@pytest.mark.requirement("REQ-URL-QUERY-EXACT")
def test_url_query_kept_exactly(server: Server) -> None:
    query = "b=%20c&a=1&a=2&e=&f&%7e=~&s=a+b&p=%2B&x=%C3%A9"
    url = url_of(server, "/request/url?" + query, host="example.com")
    expect_equal(url["query"], query, "url.query")
    expect_equal(url["str"], "http://example.com/request/url?" + query, "str(url)")


@pytest.mark.requirement("REQ-URL-NO-QUERY")
def test_url_without_query(server: Server) -> None:
    url = url_of(server, "/request/url/plain", host="example.com")
    expect_equal(url["query"], "", "url.query without a query")
    expect_equal(url["str"], "http://example.com/request/url/plain", "str(url), no '?'")


@pytest.mark.requirement("REQ-URL-PATH-ENCODED")
def test_url_percent_encoded_path(server: Server) -> None:
    path = "/request/url/caf%C3%A9%20x"
    url = url_of(server, path, host="example.com")
    expect_equal(url["path"], path, "url.path keeps the percent-encoding")
    expect_equal(url["str"], "http://example.com" + path, "str(url)")


def rooted(server: Server, rest: str, root_path: str) -> dict[str, Any]:
    headers = [("x-emulate-root-path", root_path)]
    return url_of(server, "/request/rooted" + rest, headers, host="example.com")


@pytest.mark.requirement("REQ-URL-ROOT-PATH-INCLUDED")
def test_url_root_path_already_in_path(server: Server) -> None:
    url = rooted(server, "/mount/page", "/mount")
    expect_equal(url["path"], "/mount/page", "url.path when path starts with root_path + '/'")
    expect_equal(url["str"], "http://example.com/mount/page", "str(url)")


@pytest.mark.requirement("REQ-URL-ROOT-PATH-PREPENDED")
def test_url_root_path_prepended(server: Server) -> None:
    url = rooted(server, "/page", "/mount")
    expect_equal(url["path"], "/mount/page", "url.path when path lacks root_path")


@pytest.mark.requirement("REQ-URL-ROOT-PATH-EQUAL")
def test_url_root_path_equal_to_path(server: Server) -> None:
    url = rooted(server, "/mount", "/mount")
    expect_equal(url["path"], "/mount", "url.path when path == root_path")


@pytest.mark.requirement("REQ-URL-ROOT-PATH-SEGMENT")
def test_url_root_path_segment_boundary(server: Server) -> None:
    url = rooted(server, "/mountain", "/mount")
    expect_equal(url["path"], "/mount/mountain", "url.path: '/mountain' is not under '/mount'")


# -- path_params, query_params --------------------------------------------------------------------


@pytest.mark.requirement("REQ-PATH-PARAMS-DEFAULT", "REQ-PATH-PARAMS-SCOPE")
def test_path_params(server: Server) -> None:
    record = answer(server, "/request/params")
    expect_equal(ok(record["default"], "path_params"), {}, "path_params without a router")
    expect_equal(
        ok(record["set"], "path_params"), {"name": "value", "number": 7}, "scope path_params"
    )


def query_pairs(server: Server, query: str) -> list[list[str]]:
    record = answer(server, "/request/query?" + query)
    return list(ok(record["pairs"], "query_params.multi_items()"))


@pytest.mark.requirement("REQ-QUERY-MULTI")
def test_query_multi_value(server: Server) -> None:
    record = answer(server, "/request/query?a=1&b=2&a=3")
    expect_equal(
        ok(record["pairs"], "multi_items"), [["a", "1"], ["b", "2"], ["a", "3"]], "pairs in order"
    )
    expect_equal(ok(record["getlist"], "getlist")["a"], ["1", "3"], "getlist('a')")


@pytest.mark.requirement("REQ-QUERY-BLANK")
def test_query_blank_values(server: Server) -> None:
    pairs = query_pairs(server, "e=&f&g=&h=1")
    expect_equal(pairs, [["e", ""], ["f", ""], ["g", ""], ["h", "1"]], "blank values kept")


@pytest.mark.requirement("REQ-QUERY-PLUS")
def test_query_plus_is_space(server: Server) -> None:
    pairs = query_pairs(server, "s=a+b&p=%2B&k+k=v")
    expect_equal(pairs, [["s", "a b"], ["p", "+"], ["k k", "v"]], "'+' and '%2B'")


@pytest.mark.requirement("REQ-QUERY-PERCENT-UTF8")
def test_query_percent_decoding(server: Server) -> None:
    pairs = query_pairs(server, "k%C3%A9=caf%C3%A9&sp=%20x%26y%3D")
    expect_equal(pairs, [["ké", "café"], ["sp", " x&y="]], "percent-decoded UTF-8")


@pytest.mark.requirement("REQ-QUERY-NON-UTF8")
def test_query_non_utf8(server: Server) -> None:
    pairs = query_pairs(server, "bad=%FF%FE&ok=caf%C3%A9&%C3=x")
    expect_equal(
        pairs,
        [["bad", "\ufffd\ufffd"], ["ok", "café"], ["\ufffd", "x"]],
        "invalid UTF-8 decoded with U+FFFD replacements",
    )


@pytest.mark.requirement("REQ-QUERY-ABSENT")
def test_query_absent(server: Server) -> None:
    expect_equal(query_pairs(server, ""), [], "query_params without a query")


@pytest.mark.requirement("REQ-QUERY-ROUNDTRIP")
def test_query_roundtrip_property(server: Server) -> None:
    pairs = st.lists(st.tuples(st.text(max_size=12), st.text(max_size=12)), max_size=6)
    with server.http() as client:

        @settings(max_examples=25, deadline=None, derandomize=True, database=None)
        @given(pairs)
        def roundtrip(items: list[tuple[str, str]]) -> None:
            query = urlencode(items)
            response = client.get("/request/query?" + query)
            expect_equal(response.status_code, 200, "status")
            got = ok(response.json()["pairs"], "multi_items")
            expect_equal([tuple(pair) for pair in got], items, f"pairs of ?{query}")

        roundtrip()


# -- headers --------------------------------------------------------------------------------------


def probe(server: Server, names: Sequence[str], headers: Headers) -> dict[str, Any]:
    target = "/request/headers?" + urlencode([("probe", name) for name in names])
    return dict(answer(server, target, headers))


@pytest.mark.requirement("REQ-HEADERS-CASE-INSENSITIVE")
def test_headers_case_insensitive(server: Server) -> None:
    names = ["x-mixed-case", "X-MIXED-CASE", "X-Mixed-Case"]
    record = probe(server, names, [("X-Mixed-Case", "value")])
    for name in names:
        entry = record["probes"][name]
        expect_equal(ok(entry["get"], f"headers.get({name!r})"), "value", f"get({name!r})")
        expect_equal(ok(entry["getitem"], f"headers[{name!r}]"), "value", f"[{name!r}]")
        expect_equal(ok(entry["in"], f"{name!r} in headers"), True, f"{name!r} in headers")


@pytest.mark.requirement("REQ-HEADERS-DUPLICATES-JOINED")
def test_headers_duplicates_joined(server: Server) -> None:
    record = probe(server, ["x-dup"], [("X-Dup", "first"), ("x-other", "o"), ("x-dup", "second")])
    entry = record["probes"]["x-dup"]
    expect_equal(ok(entry["get"], "headers.get"), "first, second", "get('x-dup')")
    expect_equal(ok(entry["getitem"], "headers[]"), "first, second", "headers['x-dup']")


@pytest.mark.requirement("REQ-HEADERS-GETLIST")
def test_headers_getlist(server: Server) -> None:
    record = probe(
        server, ["x-dup", "x-absent"], [("X-Dup", "a, b"), ("x-other", "o"), ("x-dup", "c")]
    )
    getlist = ok(record["probes"]["x-dup"]["getlist"], "headers.getlist")
    expect_equal(getlist, ["a, b", "c"], "getlist('x-dup'): one item per field line")
    absent = ok(record["probes"]["x-absent"]["getlist"], "headers.getlist")
    expect_equal(absent, [], "getlist('x-absent')")


@pytest.mark.requirement("REQ-HEADERS-ABSENT")
def test_headers_absent(server: Server) -> None:
    entry = probe(server, ["x-absent"], [])["probes"]["x-absent"]
    expect_equal(ok(entry["get"], "headers.get"), None, "get('x-absent')")
    expect_equal(ok(entry["in"], "in"), False, "'x-absent' in headers")
    expect_true(
        "KeyError" in entry["getitem"].get("raised", ""),
        "headers['x-absent']",
        "KeyError",
        repr(entry["getitem"]),
    )


@pytest.mark.requirement("REQ-HEADERS-READONLY")
def test_headers_read_only(server: Server) -> None:
    record = probe(server, [], [])
    expect_equal(ok(record["assign"], "headers[k] = v"), "refused", "headers item assignment")


# -- cookies --------------------------------------------------------------------------------------


def cookies(server: Server, headers: Headers) -> Any:
    return ok(answer(server, "/request/cookies", headers)["cookies"], "conn.cookies")


@pytest.mark.requirement("REQ-COOKIE-PAIRS")
def test_cookie_pairs(server: Server) -> None:
    got = cookies(server, [("Cookie", "a=1; b=two;c=3")])
    expect_equal(got, {"a": "1", "b": "two", "c": "3"}, "cookies of 'a=1; b=two;c=3'")


@pytest.mark.requirement("REQ-COOKIE-MULTIPLE-HEADERS")
def test_cookie_multiple_headers(server: Server) -> None:
    got = cookies(server, [("Cookie", "a=1; b=2"), ("Accept", "*/*"), ("Cookie", "c=3")])
    expect_equal(got, {"a": "1", "b": "2", "c": "3"}, "cookies of two Cookie lines")


@pytest.mark.requirement("REQ-COOKIE-BAD-PAIRS")
def test_cookie_bad_pairs_skipped(server: Server) -> None:
    got = cookies(server, [("Cookie", "good=1; junk; ;also=2")])
    expected = {"good": "1", "": "junk", "also": "2"}
    expect_equal(got, expected, "a chunk without '=' is kept under the name ''")
    got = cookies(server, [("Cookie", "good=1; junk; =novalue; ;also=2")])
    expected = {"good": "1", "": "novalue", "also": "2"}
    expect_equal(got, expected, "chunks without a name: the last one wins")
    got = cookies(server, [("Cookie", "a=1; b=2; a=3")])
    expect_equal(got, {"a": "3", "b": "2"}, "a repeated name: the last value wins")


@pytest.mark.requirement("REQ-COOKIE-QUOTED")
def test_cookie_quoted_value(server: Server) -> None:
    got = cookies(server, [("Cookie", 'q="abc"; r=plain')])
    expect_equal(got, {"q": "abc", "r": "plain"}, "a DQUOTE-wrapped cookie-value")


@pytest.mark.requirement("REQ-COOKIE-ABSENT")
def test_cookie_absent(server: Server) -> None:
    expect_equal(cookies(server, []), {}, "cookies without a Cookie header")


# -- Accept ---------------------------------------------------------------------------------------

ACCEPT = "text/*;q=0.5, */*;q=0.1, text/html, application/json;q=0.5, text/html;level=1"


def accept(server: Server, headers: Headers, checks: Sequence[str] = ()) -> dict[str, Any]:
    target = "/request/accept?" + urlencode([("check", name) for name in checks])
    return dict(answer(server, target, headers))


def ranges(types: list[dict[str, Any]]) -> list[tuple[str, dict[str, str]]]:
    """``(media type, parameters except q)`` of each ``str(MediaType)``, in list order.

    API.md promises the order of ``accepted_types``, not ``MediaType``'s attribute names,
    so the element is identified by its text form only.
    """
    got = []
    for media in types:
        head, *params = str(media["text"]).split(";")
        options = {}
        for param in params:
            name, _, value = param.strip().partition("=")
            if name.lower() != "q":
                options[name.lower()] = value.strip().strip('"')
        got.append((head.strip().lower(), options))
    return got


@pytest.mark.requirement("REQ-ACCEPT-ORDER-Q")
def test_accepted_types_order(server: Server) -> None:
    record = accept(server, [("Accept", ACCEPT)])
    types = ok(record["accepted_types"], "accepted_types")
    got = ranges(types)
    expected = [
        ("text/*", {}),
        ("*/*", {}),
        ("text/html", {}),
        ("application/json", {}),
        ("text/html", {"level": "1"}),
    ]
    expect_equal(got, expected, "accepted_types in header order (as upstream), q ignored")


@pytest.mark.requirement("REQ-ACCEPT-ORDER-SPECIFICITY")
def test_preferred_types_order(server: Server) -> None:
    record = accept(server, [("Accept", ACCEPT)])
    types = ok(record["preferred_types"], "preferred_types (the q-sorted extension)")
    got = ranges(types)
    expected = [
        ("text/html", {"level": "1"}),  # q=1
        ("text/html", {}),  # q=1
        ("application/json", {}),  # q=0.5
        ("text/*", {}),  # q=0.5
        ("*/*", {}),  # q=0.1
    ]
    expect_equal(got, expected, "preferred_types by q, then specificity")


@pytest.mark.requirement("REQ-ACCEPT-PARAMS-MORE-SPECIFIC")
def test_preferred_types_params_first(server: Server) -> None:
    for header in ("text/html, text/html;level=1", "text/html;level=1, text/html"):
        record = accept(server, [("Accept", header)])
        types = ok(record["preferred_types"], "preferred_types (the q-sorted extension)")
        got = ranges(types)
        expected = [("text/html", {"level": "1"}), ("text/html", {})]
        expect_equal(got, expected, f"preferred_types of {header!r}: parameters first")


@pytest.mark.requirement("REQ-ACCEPT-MULTI-LINE")
def test_accepted_types_several_lines(server: Server) -> None:
    """Two lines give what their combination into one line gives (the order itself is
    REQ-ACCEPT-ORDER-Q's), and both lines' ranges are in it."""
    lines = [("Accept", "text/plain;q=0.2"), ("Accept", "application/json")]
    two = ranges(ok(accept(server, lines)["accepted_types"], "accepted_types of two lines"))
    combined = [("Accept", "text/plain;q=0.2, application/json")]
    one = ranges(ok(accept(server, combined)["accepted_types"], "accepted_types of one line"))
    got = sorted(media for media, _ in two)
    expect_equal(got, ["application/json", "text/plain"], "ranges of two Accept lines")
    expect_equal(two, one, "two Accept lines == the same ranges on one line")


ACCEPT_HEADER = "text/html, application/*;q=0.2, image/png;q=0"


def accepts_of(server: Server, checks: list[str]) -> dict[str, Any]:
    """``accepts(name)`` for each name under :data:`ACCEPT_HEADER`."""
    record = accept(server, [("Accept", ACCEPT_HEADER)], checks)
    return {k: ok(v, f"accepts({k!r})") for k, v in record["accepts"].items()}


@pytest.mark.requirement("REQ-ACCEPTS-EXACT")
def test_accepts_exact(server: Server) -> None:
    got = accepts_of(server, ["text/html"])
    expect_equal(got["text/html"], True, "accepts('text/html'), listed")


@pytest.mark.requirement("REQ-ACCEPTS-WILDCARD-SUBTYPE")
def test_accepts_wildcard_subtype(server: Server) -> None:
    got = accepts_of(server, ["application/json"])
    expect_equal(got["application/json"], True, "accepts('application/json') via application/*")


@pytest.mark.requirement("REQ-ACCEPTS-Q-ZERO")
def test_accepts_q_zero(server: Server) -> None:
    got = accepts_of(server, ["image/png"])
    expect_equal(got["image/png"], False, "accepts('image/png') with q=0")


@pytest.mark.requirement("REQ-ACCEPTS-NONE")
def test_accepts_none(server: Server) -> None:
    got = accepts_of(server, ["text/plain", "image/gif"])
    expect_equal(got["text/plain"], False, "accepts('text/plain'), not listed")
    expect_equal(got["image/gif"], False, "accepts('image/gif'), not listed")


@pytest.mark.requirement("REQ-ACCEPTS-WILDCARD-ALL")
def test_accepts_star_star(server: Server) -> None:
    checks = ["image/webp", "application/x-anything"]
    record = accept(server, [("Accept", "*/*")], checks)
    for name in checks:
        expect_equal(ok(record["accepts"][name], "accepts"), True, f"*/* accepts {name}")


@pytest.mark.requirement("REQ-ACCEPTS-MOST-SPECIFIC")
def test_accepts_most_specific_range_wins(server: Server) -> None:
    checks = ["text/plain", "text/html"]
    record = accept(server, [("Accept", "text/*, text/plain;q=0")], checks)
    expect_equal(ok(record["accepts"]["text/plain"], "accepts"), False, "text/plain;q=0 wins")
    expect_equal(ok(record["accepts"]["text/html"], "accepts"), True, "text/* accepts text/html")


@pytest.mark.requirement("REQ-ACCEPTS-NO-HEADER")
def test_accepts_without_accept_header(server: Server) -> None:
    checks = ["text/html", "application/octet-stream"]
    record = accept(server, [], checks)
    for name in checks:
        expect_equal(ok(record["accepts"][name], "accepts"), True, f"no Accept accepts {name}")


# -- Content-Type, Content-Length, Date, Referer --------------------------------------------------


def head(server: Server, headers: Headers, equals: Sequence[str] = (), **kw: Any) -> Any:
    target = "/request/head?" + urlencode([("equals", name) for name in equals])
    return answer(server, target, headers, **kw)


@pytest.mark.requirement("REQ-CONTENT-TYPE-BARE-EQUAL", "REQ-CONTENT-TYPE-CHARSET")
def test_content_type_with_charset(server: Server) -> None:
    equals = ["application/json", "text/plain"]
    record = head(server, [("Content-Type", "application/json; charset=utf-8")], equals)
    expect_equal(ok(record["equals"]["application/json"], "=="), True, "== 'application/json'")
    expect_equal(ok(record["equals"]["text/plain"], "=="), False, "== 'text/plain'")
    expect_equal(ok(record["options"], "options")["charset"], "utf-8", "options['charset']")


@pytest.mark.requirement("REQ-CONTENT-TYPE-CASE")
def test_content_type_case_insensitive(server: Server) -> None:
    equals = ["application/json", "APPLICATION/Json"]
    record = head(server, [("Content-Type", "Application/JSON;Charset=UTF-8")], equals)
    for name in equals:
        expect_equal(ok(record["equals"][name], "=="), True, f"== {name!r}: type/subtype case")
    expect_equal(ok(record["options"], "options").get("charset", "").lower(), "utf-8", "charset")


@pytest.mark.requirement("REQ-CONTENT-TYPE-BOUNDARY")
def test_content_type_quoted_boundary(server: Server) -> None:
    header = 'multipart/form-data; boundary="simple boundary:1"'
    record = head(server, [("Content-Type", header)], ["multipart/form-data"])
    expect_equal(ok(record["equals"]["multipart/form-data"], "=="), True, "== bare media type")
    options = ok(record["options"], "options")
    expect_equal(options.get("boundary"), "simple boundary:1", "quoted boundary unquoted")


@pytest.mark.requirement("REQ-CONTENT-LENGTH")
def test_content_length(server: Server) -> None:
    record = head(server, [], method="POST", body=b"12345")
    expect_equal(ok(record["content_length"], "content_length"), 5, "Content-Length: 5")


@pytest.mark.requirement("REQ-CONTENT-LENGTH-ABSENT")
def test_content_length_absent(server: Server) -> None:
    record = head(server, [])
    expect_equal(ok(record["content_length"], "content_length"), None, "no Content-Length")


@pytest.mark.requirement("REQ-CONTENT-LENGTH-MALFORMED")
def test_content_length_malformed(server: Server) -> None:
    for value in ("abc", "-1", "1.5", "", "5, 6", "+5"):
        record = head(server, [("x-emulate-content-length", value)])
        got = ok(record["content_length"], f"content_length of {value!r}")
        expect_equal(got, None, f"content_length for Content-Length: {value!r}")


DATE_UTC = "1994-11-06T08:49:37+00:00"


def date_of(server: Server, value: str | None) -> Any:
    headers = [] if value is None else [("Date", value)]
    return ok(head(server, headers)["date"], "conn.date")


@pytest.mark.requirement("REQ-DATE-AWARE")
def test_date_imf_fixdate(server: Server) -> None:
    got = date_of(server, "Sun, 06 Nov 1994 08:49:37 GMT")
    expect_true(got is not None, "conn.date", "a datetime", "None")
    expect_equal(got["utcoffset"], 0.0, "conn.date is timezone-aware, UTC")
    expect_equal(got["iso"], DATE_UTC, "conn.date")


@pytest.mark.requirement("REQ-DATE-OBSOLETE-FORMATS")
def test_date_obsolete_formats(server: Server) -> None:
    for value in ("Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"):
        got = date_of(server, value)
        expect_true(got is not None, f"conn.date of {value!r}", "a datetime", "None")
        expect_equal(got["utcoffset"], 0.0, f"conn.date of {value!r} is aware, UTC")
        expect_equal(got["iso"], DATE_UTC, f"conn.date of {value!r}")


@pytest.mark.requirement("REQ-DATE-MALFORMED")
def test_date_malformed(server: Server) -> None:
    for value in ("not a date", "Sun, 99 Nov 1994 08:49:37 GMT", "1994-11-06"):
        expect_equal(date_of(server, value), None, f"conn.date of Date: {value!r}")
    expect_equal(date_of(server, None), None, "conn.date without Date")


@pytest.mark.requirement("REQ-REFERRER")
def test_referrer(server: Server) -> None:
    referer = "http://example.com/from/page?x=1"
    record = head(server, [("Referer", referer)])
    expect_equal(ok(record["referrer"], "conn.referrer"), referer, "str(conn.referrer)")
    expect_equal(ok(head(server, [])["referrer"], "conn.referrer"), None, "without Referer")


# -- Request: method, body, stream ----------------------------------------------------------------


@pytest.mark.requirement("REQ-METHOD")
def test_method(server: Server) -> None:
    for method in ("PATCH", "DELETE"):
        record = answer(server, "/request/method", method=method)
        expect_equal(ok(record["method"], "request.method"), method, "request.method")


BODY = bytes(range(256)) * 400


@pytest.mark.requirement("REQ-BODY-CONTENT-LENGTH", "REQ-BODY-ONCE", "REQ-BODY-THEN-STREAM")
def test_body_content_length(server: Server) -> None:
    record = answer(server, "/request/body?mode=body", method="POST", body=BODY)
    expect_equal(record["body"], digest(BODY), "await request.body")
    expect_equal(record["second_equal"], True, "await request.body twice gives the same bytes")
    expect_equal(record["stream"], digest(BODY), "stream() after body yields the cached body")
    # The same body handed to the implementation in 1000-byte messages (servers often deliver
    # a small body in one message, which would hide an implementation keeping one chunk).
    record = answer(server, "/request/body?mode=body&split=1000", method="POST", body=BODY)
    expect_equal(record["body"], digest(BODY), "await request.body from 1000-byte messages")


@pytest.mark.requirement("REQ-BODY-CHUNKED")
def test_body_chunked(server: Server) -> None:
    record = answer(
        server, "/request/body?mode=body", method="POST", body=BODY, chunked=True, chunk_size=7001
    )
    expect_equal(record["body"], digest(BODY), "await request.body of a chunked request")


@pytest.mark.requirement("REQ-BODY-EMPTY")
def test_body_empty(server: Server) -> None:
    record = answer(server, "/request/body?mode=body")
    expect_equal(record["body"], digest(b""), "await request.body of a GET without body")
    record = answer(server, "/request/body?mode=body", method="POST")
    expect_equal(record["body"], digest(b""), "await request.body with Content-Length: 0")


def stream_record(server: Server, content_type: str) -> Any:
    with server.http() as client:
        response = client.post(
            "/request/body?mode=stream",
            content=iter([b"first;", b"second;", b"third"]),
            headers={"content-type": content_type},
        )
    expect_equal(response.status_code, 200, "status")
    return response.json()


def expect_runtime_error(result: dict[str, Any], what: str) -> None:
    raised = result.get("raised")
    expect_true(
        raised is not None and "RuntimeError" in raised["mro"],
        what,
        "RuntimeError",
        repr(result),
    )


@pytest.mark.requirement("REQ-STREAM-ORDER")
def test_stream_chunks_in_order(server: Server) -> None:
    record = stream_record(server, "application/json")
    expect_equal(record["stream"], digest(b"first;second;third"), "chunks of stream(), in order")


@pytest.mark.requirement("REQ-STREAM-THEN-BODY", "REQ-STREAM-THEN-JSON", "REQ-STREAM-TWICE")
def test_stream_then_body_and_json_refused(server: Server) -> None:
    record = stream_record(server, "application/json")
    expect_runtime_error(record["body_after"], "await request.body after stream()")
    expect_runtime_error(record["json_after"], "await request.json after stream()")
    expect_runtime_error(record["stream_again"], "stream() a second time")


@pytest.mark.requirement("REQ-STREAM-THEN-FORM")
def test_stream_then_form_refused(server: Server) -> None:
    record = stream_record(server, "application/x-www-form-urlencoded")
    expect_runtime_error(record["form_after"], "await request.form after stream()")


# -- Request: json --------------------------------------------------------------------------------


def post(server: Server, target: str, body: bytes, content_type: str | None) -> RawResponse:
    headers = [] if content_type is None else [("Content-Type", content_type)]
    return send(server, "POST", target, headers, body)


@pytest.mark.requirement("REQ-JSON-PARSE", "REQ-JSON-ONCE")
def test_json_parse(server: Server) -> None:
    value = {"name": "café ☃", "list": [1, 2.5, None, True], "nested": {"k": "v"}}
    response = post(server, "/request/json", json.dumps(value).encode(), "application/json")
    expect_status(response, 200, "valid JSON")
    record = json.loads(response.body)
    expect_equal(record["json"], value, "await request.json")
    expect_equal(record["second_equal"], True, "await request.json twice")


@pytest.mark.requirement("REQ-JSON-CHARSET-PARAM")
def test_json_with_charset_parameter(server: Server) -> None:
    body = json.dumps({"a": "é"}, ensure_ascii=False).encode()
    response = post(server, "/request/json", body, "application/json; charset=utf-8")
    expect_status(response, 200, "application/json; charset=utf-8")
    expect_equal(json.loads(response.body)["json"], {"a": "é"}, "await request.json")


@pytest.mark.requirement("REQ-JSON-WRONG-TYPE")
def test_json_wrong_content_type(server: Server) -> None:
    for content_type in ("text/plain", None):
        response = post(server, "/request/json", b'{"a": 1}', content_type)
        expect_http_exception(
            response, 415, "UnsupportedMediaType", f"json with Content-Type {content_type!r}"
        )


@pytest.mark.requirement("REQ-JSON-INVALID")
def test_json_invalid(server: Server) -> None:
    for body in (b'{"a": ', b"", b"{'single': 1}", b"nan", b"[Infinity"):
        response = post(server, "/request/json", body, "application/json")
        expect_http_exception(response, 400, "MalformedJSON", f"json of {body!r}")
    # json.loads, as upstream: NaN and Infinity are accepted (RFC 8259 §9 lets a parser)
    response = post(server, "/request/json", b"[NaN, Infinity, -Infinity]", "application/json")
    expect_status(response, 200, "json of '[NaN, Infinity, -Infinity]'")
    values = json.loads(response.body)["json"]
    got = [repr(value) for value in values]
    expect_equal(got, ["nan", "inf", "-inf"], "NaN and Infinity parsed as floats")


@pytest.mark.requirement("REQ-JSON-NON-UTF8")
def test_json_non_utf8(server: Server) -> None:
    response = post(server, "/request/json", b'{"a": "\xff\xfe"}', "application/json")
    expect_http_exception(response, 400, "MalformedJSON", "json of a body that is not UTF-8")


# -- Request: urlencoded forms --------------------------------------------------------------------

URLENCODED = "application/x-www-form-urlencoded"


def form(server: Server, body: bytes, content_type: str | None, options: str = "") -> RawResponse:
    return post(server, "/request/form?" + options, body, content_type)


def form_record(server: Server, body: bytes, content_type: str, options: str = "") -> Any:
    response = form(server, body, content_type, options)
    expect_status(response, 200, "form parsed")
    record = json.loads(response.body)
    if "unsupported_limits" in record:
        not_applicable(f"the Request class has no {record['unsupported_limits']} setting")
    return record


def fields(record: dict[str, Any]) -> list[tuple[str, Any]]:
    return [
        (name, value["field"] if "field" in value else value["file"])
        for name, value in record["items"]
    ]


@pytest.mark.requirement("REQ-FORM-URLENCODED", "REQ-FORM-ONCE")
def test_form_urlencoded(server: Server) -> None:
    record = form_record(server, b"name=caf%C3%A9&x=1&city=Paris", URLENCODED)
    expect_equal(fields(record), [("name", "café"), ("x", "1"), ("city", "Paris")], "fields")
    expect_equal(record["same_twice"], True, "await request.form twice gives the same form")


# Any character, with the ones a form codec treats specially drawn far more often.
FORM_CHARACTERS = st.one_of(
    st.sampled_from("+&=%;# \r\n\u00e9\u20ac"), st.characters(codec="utf-8")
)


@pytest.mark.requirement("REQ-FORM-URLENCODED-ROUNDTRIP")
def test_form_urlencoded_roundtrip_property(server: Server) -> None:
    text = st.text(alphabet=FORM_CHARACTERS, max_size=12)
    pairs = st.lists(st.tuples(text, text), max_size=6)

    @settings(max_examples=25, deadline=None, derandomize=True, database=None)
    @given(pairs)
    @example([("a+b", "c&d=e"), ("", ""), ("%", "%25"), ("k", " +")])
    def roundtrip(items: list[tuple[str, str]]) -> None:
        body = urlencode(items).encode("ascii")
        record = form_record(server, body, URLENCODED)
        expect_equal(fields(record), items, f"fields of the urlencoded body {body!r}")

    roundtrip()


@pytest.mark.requirement("REQ-FORM-URLENCODED-BLANK")
def test_form_urlencoded_blank_values(server: Server) -> None:
    record = form_record(server, b"a=&b&c=3", URLENCODED)
    expect_equal(fields(record), [("a", ""), ("b", ""), ("c", "3")], "blank values kept")


@pytest.mark.requirement("REQ-FORM-URLENCODED-REPEATED")
def test_form_urlencoded_repeated_keys(server: Server) -> None:
    record = form_record(server, b"k=1&other=x&k=2&k=3", URLENCODED)
    expect_equal(record["getlist"]["k"], 3, "getlist('k') holds every value")
    expect_equal(
        [v for n, v in fields(record) if n == "k"], ["1", "2", "3"], "repeated values in order"
    )


@pytest.mark.requirement("REQ-FORM-URLENCODED-PLUS")
def test_form_urlencoded_plus(server: Server) -> None:
    record = form_record(server, b"s=a+b&p=%2B", URLENCODED)
    expect_equal(fields(record), [("s", "a b"), ("p", "+")], "'+' and '%2B'")


@pytest.mark.requirement("REQ-FORM-URLENCODED-NON-UTF8")
def test_form_urlencoded_non_utf8(server: Server) -> None:
    record = form_record(server, b"bad=%FF&raw=\xe9t\xe9&ok=caf%C3%A9", URLENCODED)
    got = dict(fields(record))
    expect_equal(got.get("ok"), "café", "a valid field next to invalid bytes")
    expect_equal(got.get("bad"), "\ufffd", "%FF decoded as U+FFFD")
    expect_equal(got.get("raw"), "\ufffdt\ufffd", "raw 0xE9 bytes decoded as U+FFFD")


@pytest.mark.requirement("REQ-FORM-WRONG-TYPE")
def test_form_wrong_content_type(server: Server) -> None:
    for content_type in ("text/plain", "application/json", None):
        response = form(server, b"a=1", content_type)
        expect_http_exception(
            response, 415, "UnsupportedMediaType", f"form with Content-Type {content_type!r}"
        )


@pytest.mark.requirement("REQ-FORM-URLENCODED-LIMIT")
def test_form_urlencoded_memory_limit(server: Server) -> None:
    response = form(server, b"a=" + b"x" * 2000, URLENCODED, "max_form_memory_size=1000")
    if response.status == 200 and "unsupported_limits" in json.loads(response.body):
        not_applicable("the Request class has no max_form_memory_size setting")
    expect_http_exception(
        response, 413, "RequestEntityTooLarge", "urlencoded body above max_form_memory_size"
    )


# -- Request: multipart forms ---------------------------------------------------------------------

BOUNDARY = "----conformance-boundary-7MA4YWxkTrZu0gW"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


def part(disposition: str, data: bytes, content_type: str | None = None) -> bytes:
    head = f"Content-Disposition: {disposition}\r\n"
    if content_type is not None:
        head += f"Content-Type: {content_type}\r\n"
    return head.encode() + b"\r\n" + data


def multipart(*parts: bytes, boundary: str = BOUNDARY, close: bool = True) -> bytes:
    delimiter = b"--" + boundary.encode()
    body = b"".join(delimiter + b"\r\n" + item + b"\r\n" for item in parts)
    return body + (delimiter + b"--\r\n" if close else b"")


def file_info(record: dict[str, Any], name: str) -> dict[str, Any]:
    for item_name, value in record["items"]:
        if item_name == name and "file" in value:
            return dict(value["file"])
    raise ExpectationFailed(f"file {name!r} in the form", ["an UploadFile"], repr(record["items"]))


@pytest.mark.requirement("REQ-MULTIPART-FIELDS")
def test_multipart_fields(server: Server) -> None:
    body = multipart(
        part('form-data; name="a"', b"1"),
        part('form-data; name="text"', "café\r\nline two".encode()),
        part('form-data; name="a"', b"2"),
        part('form-data; name="blank"', b""),
    )
    record = form_record(server, body, MULTIPART)
    expected = [("a", "1"), ("text", "café\r\nline two"), ("a", "2"), ("blank", "")]
    expect_equal(fields(record), expected, "multipart fields, in order, values exact")


# Field names are kept to what needs no escaping in a quoted-string (RFC 7578 §4.2 leaves
# the escaping of '"' and CR/LF in names to the HTML form encoder); values are any text.
FIELD_NAMES = st.text(alphabet=st.characters(categories=["L", "N"]), min_size=1, max_size=8)


@pytest.mark.requirement("REQ-MULTIPART-ROUNDTRIP")
def test_multipart_fields_roundtrip_property(server: Server) -> None:
    values = st.text(alphabet=FORM_CHARACTERS, max_size=40).filter(lambda v: BOUNDARY not in v)

    @settings(max_examples=25, deadline=None, derandomize=True, database=None)
    @given(st.lists(st.tuples(FIELD_NAMES, values), min_size=1, max_size=5))  # RFC 2046: 1+ parts
    @example([("a", "ends in CRLF\r\n"), ("b", "\r\n--x\r\n"), ("c", "")])
    @example([("a", "\r"), ("b", "\n\n")])
    def roundtrip(items: list[tuple[str, str]]) -> None:
        body = multipart(
            *(part(f'form-data; name="{name}"', value.encode()) for name, value in items)
        )
        response = form(server, body, MULTIPART)
        expect_status(response, 200, f"multipart body {body!r} parsed")
        record = json.loads(response.body)
        expect_equal(fields(record), items, "multipart text fields, in order, values exact")

    roundtrip()


@pytest.mark.requirement("REQ-MULTIPART-FILE")
def test_multipart_file(server: Server) -> None:
    data = bytes(range(256)) * 8 + b"\r\n--not-a-boundary\r\n"
    body = multipart(
        part('form-data; name="note"', b"hello"),
        part('form-data; name="upload"; filename="report.bin"', data, "application/x-custom"),
    )
    record = form_record(server, body, MULTIPART)
    info = file_info(record, "upload")
    expect_equal(info["filename"], "report.bin", "UploadFile.filename")
    expect_equal(info["content_type"], "application/x-custom", "UploadFile.content_type")
    expect_equal({k: info[k] for k in ("length", "sha256")}, digest(data), "UploadFile bytes")
    expect_equal(dict(fields(record))["note"], "hello", "the field next to the file")


@pytest.mark.requirement("REQ-MULTIPART-EMPTY-FILE")
def test_multipart_empty_file(server: Server) -> None:
    body = multipart(part('form-data; name="f"; filename="empty.txt"', b"", "text/plain"))
    info = file_info(form_record(server, body, MULTIPART), "f")
    expect_equal(info["filename"], "empty.txt", "filename of an empty file")
    expect_equal(info["length"], 0, "size of an empty file")


@pytest.mark.requirement("REQ-MULTIPART-SPILL", "REQ-MULTIPART-CLOSE-FILES")
def test_multipart_large_file_spills_to_disk(server: Server) -> None:
    data = hashlib.sha256(b"seed").digest() * (3 * 1024 * 1024 // 32)
    body = multipart(part('form-data; name="big"; filename="big.bin"', data, "image/png"))
    with server.http() as client:
        response = client.post("/request/form", content=body, headers={"content-type": MULTIPART})
    expect_equal(response.status_code, 200, "a 3 MB multipart upload is parsed")
    record = response.json()
    info = file_info(record, "big")
    expect_equal({k: info[k] for k in ("length", "sha256")}, digest(data), "UploadFile bytes")
    fds = record["fds"]
    if fds is None:
        if record["in_memory"] == [None]:
            not_applicable("no /proc in the server process and no UploadFile.in_memory")
        expect_equal(record["in_memory"], [False], "UploadFile.in_memory of a 3 MB file")
    else:
        expect_true(
            fds["opened"] >= 1, "a 3 MB file is on disk", "a new open regular file", repr(fds)
        )
        expect_equal(fds["left_open"], 0, "regular files left open after request.close()")
    expect_equal(record["closed_after_close"], [True], "the UploadFile is closed by close()")


@pytest.mark.requirement("REQ-MULTIPART-SMALL-IN-MEMORY")
def test_multipart_small_file_in_memory(server: Server) -> None:
    body = multipart(part('form-data; name="small"; filename="s.txt"', b"x" * 1000, "text/plain"))
    record = form_record(server, body, MULTIPART)
    if record["fds"] is None:
        not_applicable("no /proc in the server process")
    expect_equal(record["fds"]["opened"], 0, "files opened for a 1000-byte upload")
    expect_equal(record["closed_after_close"], [True], "the UploadFile is closed by close()")


@pytest.mark.requirement("REQ-CLOSE-AFTER-FORM-ERROR")
def test_close_after_form_error(server: Server) -> None:
    cases = {
        "text/plain": (b"a=1", "text/plain"),
        "multipart without boundary": (
            multipart(part('form-data; name="a"', b"1")),
            "multipart/form-data",
        ),
    }
    checked = 0
    for what, (body, content_type) in cases.items():
        response = form(server, body, content_type)
        try:
            closing = json.loads(response.body)["close_after_error"]
        except (ValueError, KeyError, TypeError):
            if 400 <= response.status < 500 and content_type.startswith("multipart/"):
                continue  # daphne (Twisted) parses multipart bodies itself and answers first
            closing = None
        checked += 1
        expect_true(
            closing is not None and "ok" in closing,
            f"close() after the form of {what} raised an HTTPException",
            "no exception",
            repr(closing) if closing is not None else f"{response.status} {response.body[:300]!r}",
        )
    if not checked:
        not_applicable("the server answered every case itself; the app was never called")


@pytest.mark.requirement("REQ-CLOSE-WITHOUT-FORM")
def test_close_without_form(server: Server) -> None:
    response = send(server, "POST", "/request/close", body=b"payload")
    expect_status(response, 200, "close() on a request without a form")
    record = json.loads(response.body)
    expect_true("ok" in record["first"], "close() without form", "no exception", repr(record))
    expect_true("ok" in record["second"], "close() twice", "no exception", repr(record))
    expect_equal(record["body"].get("ok"), digest(b"payload"), "body still readable after close()")


@pytest.mark.requirement("REQ-MULTIPART-LIMIT-PARTS")
def test_multipart_too_many_parts(server: Server) -> None:
    body = multipart(*(part(f'form-data; name="f{i}"', b"v") for i in range(6)))
    response = form(server, body, MULTIPART, "max_form_parts=5")
    if response.status == 200 and "unsupported_limits" in json.loads(response.body):
        not_applicable("the Request class has no max_form_parts setting")
    expect_http_exception(response, 413, "RequestEntityTooLarge", "6 parts with max_form_parts=5")
    body = multipart(*(part(f'form-data; name="f{i}"', b"v") for i in range(5)))
    expect_status(form(server, body, MULTIPART, "max_form_parts=5"), 200, "5 parts allowed")


@pytest.mark.requirement("REQ-MULTIPART-LIMIT-MEMORY")
def test_multipart_field_memory_limit(server: Server) -> None:
    body = multipart(part('form-data; name="big"', b"x" * 3000))
    response = form(server, body, MULTIPART, "max_form_memory_size=1000")
    if response.status == 200 and "unsupported_limits" in json.loads(response.body):
        not_applicable("the Request class has no max_form_memory_size setting")
    expect_http_exception(
        response, 413, "RequestEntityTooLarge", "a 3000-byte field with max_form_memory_size=1000"
    )


@pytest.mark.requirement("REQ-MULTIPART-NO-BOUNDARY")
def test_multipart_without_boundary(server: Server) -> None:
    body = multipart(part('form-data; name="a"', b"1"))
    response = form(server, body, "multipart/form-data")
    expect_http_exception(response, 400, "MalformedMultipart", "multipart without boundary")


@pytest.mark.requirement("REQ-MULTIPART-TRUNCATED")
def test_multipart_truncated(server: Server) -> None:
    cases = {
        "no close delimiter": multipart(part('form-data; name="a"', b"1"), close=False),
        "cut in a part": multipart(part('form-data; name="a"', b"1"))[:-20],
        "cut in the headers": (b"--" + BOUNDARY.encode() + b"\r\nContent-Disposition: form"),
    }
    for what, body in cases.items():
        response = form(server, body, MULTIPART)
        expect_http_exception(response, 400, "MalformedMultipart", f"multipart {what}")


@pytest.mark.requirement("REQ-MULTIPART-NO-NAME")
def test_multipart_part_without_name(server: Server) -> None:
    body = multipart(part("form-data", b"1"))
    response = form(server, body, MULTIPART)
    expect_http_exception(response, 400, "MalformedMultipart", "a part without name")


@pytest.mark.requirement("REQ-MULTIPART-GARBAGE")
def test_multipart_garbage(server: Server) -> None:
    response = form(server, b"this is not a multipart body at all", MULTIPART)
    expect_http_exception(response, 400, "MalformedMultipart", "a body without any delimiter")


# -- Request: disconnects -------------------------------------------------------------------------


def poll(server: Server, token: str, done: Callable[[Any], bool], deadline: float) -> Any:
    """Poll the app's record (the event happens in the server process: nothing to await)."""
    with server.http() as client:
        return poll_result(
            lambda: client.get(f"/request/result/{token}").json(),
            done,
            "",
            seconds=deadline,
            interval=RESULT_POLL,
            expect=False,
        )


@pytest.mark.requirement("REQ-IS-DISCONNECTED-FALSE", "REQ-IS-DISCONNECTED-TRUE")
def test_is_disconnected(server: Server) -> None:
    token = uuid.uuid4().hex
    request = build_request(
        "POST", f"/request/disconnect/watch/{token}", [("Content-Length", "5")], b"hello"
    )
    with server.connect() as sock:
        sock.sendall(request)
        record = poll(server, token, lambda r: r is not None and "connected" in r, RESULT_DEADLINE)
        expect_true(
            record is not None and "connected" in record,
            "app read the body, then asked is_disconnected()",
            "a record",
            repr(record),
        )
    expect_equal(record["connected"], False, "is_disconnected() while the client is connected")
    record = poll(server, token, lambda r: r["done"], RESULT_DEADLINE)
    expect_equal(record["done"], True, "the app's polling loop ended")
    expect_equal(record["after_close"], True, "is_disconnected() after the client closed")


@pytest.mark.requirement("REQ-IS-DISCONNECTED-KEEPS-BODY")
def test_is_disconnected_keeps_body(server: Server) -> None:
    # A lost message depends on timing (a poll cancelled while a chunk is delivered), so
    # several exchanges: every one must keep the whole body.
    for attempt in range(1, KEEPS_BODY_ATTEMPTS + 1):
        record = answer(
            server,
            f"/request/body?mode=peek&peeks={PEEKS}",
            method="POST",
            body=BODY,
            chunked=True,
            chunk_size=1024,
        )
        expect_equal(
            record["is_disconnected"],
            [False] * PEEKS,
            f"is_disconnected() while connected (#{attempt})",
        )
        expect_equal(
            record["body"],
            digest(BODY),
            f"body read after is_disconnected() is complete (#{attempt})",
        )


def half_body_then_close(server: Server, mode: str) -> Any:
    token = uuid.uuid4().hex
    head = (
        f"POST /request/disconnect/{mode}/{token} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/octet-stream\r\nContent-Length: 100\r\n\r\n"
    ).encode()
    with server.connect() as sock:
        sock.sendall(head + b"x" * 50)
        started = poll(server, token, lambda r: r is not None, START_DEADLINE)
    if started is None:
        record = poll(server, token, lambda r: r is not None, START_DEADLINE)
        if record is None:
            not_applicable("the server calls the app only once the whole body arrived")
    record = poll(server, token, lambda r: r is not None and r["done"], RESULT_DEADLINE)
    expect_true(record is not None and record["done"], "the app's read ended", "done", repr(record))
    return record


@pytest.mark.requirement("REQ-CLIENT-DISCONNECT-BODY")
def test_client_disconnect_in_body(server: Server) -> None:
    record = half_body_then_close(server, "body")
    expect_true(
        record["raised"] is not None and record["is_client_disconnect"],
        "await request.body when the client closes mid-body",
        "ClientDisconnect",
        repr(record["raised"]),
    )


@pytest.mark.requirement("REQ-CLIENT-DISCONNECT-STREAM")
def test_client_disconnect_in_stream(server: Server) -> None:
    record = half_body_then_close(server, "stream")
    expect_true(
        record["raised"] is not None and record["is_client_disconnect"],
        "stream() when the client closes mid-body",
        "ClientDisconnect",
        repr(record["raised"]),
    )
