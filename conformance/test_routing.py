"""Routing (conformance/requirements/routing.toml): Router, convertors, build_url, Subpaths and
Hosts of the implementation, mounted by conformance/apps/routing.py under ``/routing``."""

from __future__ import annotations

import contextlib
import datetime
import decimal
import json
import uuid
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed, InvalidStatus

from conformance.harness import expect_equal, expect_true
from conformance.harness.server import Server

ROUTER = "/routing/router"  # mounted with root_path included in path (ASGI spec)
BARE = "/routing/router-bare"  # the same Router with no mount root_path: matching cases
NAMED = "/routing/named"  # the same routes, with names, and a /build endpoint (build_url)
STRIPPED = "/routing/router-stripped"
SUBPATHS = "/routing/subpaths"
SUBPATHS_STRIPPED = "/routing/subpaths-stripped"
SUBPATHS_BARE = "/routing/subpaths-bare"


# -- helpers -------------------------------------------------------------------------------------


def get(server: Server, target: str, **kw: Any) -> httpx.Response:
    with server.http() as client:
        return client.get(target, **kw)


def reached(server: Server, target: str, **kw: Any) -> dict[str, Any]:
    """GET ``target``; the endpoint's report (fails unless a scenario endpoint answered 200)."""
    response = get(server, target, **kw)
    expect_equal(response.status_code, 200, f"status of GET {target}")
    data: dict[str, Any] = response.json()
    expect_true("endpoint" in data, f"an endpoint answered GET {target}", "a report", repr(data))
    return data


def expect_endpoint(server: Server, target: str, endpoint: str, **kw: Any) -> dict[str, Any]:
    data = reached(server, target, **kw)
    expect_equal(data["endpoint"], endpoint, f"endpoint reached by GET {target}")
    return data


def params(data: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """The reported path_params as ``{name: (type name, str(value))}``."""
    reported = data.get("path_params")
    expect_true(isinstance(reported, dict), "scope['path_params']", "a dict", repr(reported))
    assert isinstance(reported, dict)
    return {key: (value["type"], value["value"]) for key, value in reported.items()}


def expect_param(server: Server, target: str, endpoint: str, expected: tuple[str, str]) -> None:
    data = expect_endpoint(server, target, endpoint)
    expect_equal(params(data), {"value": expected}, f"path_params of GET {target}")


def expect_refused(server: Server, target: str, **kw: Any) -> None:
    """No endpoint answered and the status is 404 (however the dispatcher said so)."""
    response = get(server, target, **kw)
    try:
        data = response.json()
    except ValueError:
        data = None
    reached = isinstance(data, dict) and "endpoint" in data
    expect_true(not reached, f"GET {target} reaches no endpoint", "no endpoint", repr(data))
    expect_equal(response.status_code, 404, f"status of GET {target}")


def expect_answered_404(server: Server, target: str, body: bytes, **kw: Any) -> None:
    """The dispatcher itself answered 404 with ``body``: nothing raised, no endpoint reached.

    A raised HTTPException reaches the scenario wrapper, which renders it as JSON with an
    "error" key; under a bare server the same raise is a 500.
    """
    response = get(server, target, **kw)
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict):
        expect_true(
            "error" not in data,
            f"GET {target}: a 404 answered, not raised",
            "no exception",
            repr(data),
        )
        expect_true(
            "endpoint" not in data, f"GET {target} reaches no endpoint", "no endpoint", repr(data)
        )
    expect_equal(response.status_code, 404, f"status of GET {target}")
    expect_equal(response.content, body, f"body of the 404 for GET {target}")


def expect_ws_refused(server: Server, path: str) -> None:
    """A handshake denied with 404 (denial extension) or closed before accept (403)."""
    try:
        with server.ws(path) as ws:
            message = ws.recv(timeout=5)
    except InvalidStatus as error:
        expected = 404 if server.offers("websocket.http.response") else 403
        expect_equal(error.response.status_code, expected, f"handshake status for {path}")
        return
    expect_true(False, f"handshake on {path} refused", "404/403", f"accepted, got {message!r}")


def build(server: Server, name: str, values: dict[str, Any]) -> dict[str, Any]:
    """Ask the Router's build_url over HTTP; ``{"path": ...}`` or ``{"error": [...]}``."""
    body = {"name": name, "params": {key: typed(value) for key, value in values.items()}}
    with server.http() as client:
        response = client.post(NAMED + "/build", json=body)
    expect_equal(
        response.status_code, 200, f"status of the build endpoint ({response.text[:300]!r})"
    )
    data: dict[str, Any] = response.json()
    return data


def typed(value: Any) -> dict[str, str]:
    if value is None:
        return {"type": "none", "value": ""}
    return {"type": type(value).__name__, "value": str(value)}


def built_path(server: Server, name: str, values: dict[str, Any]) -> str:
    data = build(server, name, values)
    expect_true("path" in data, f"build_url({name!r}, {values!r}) returns", "a path", repr(data))
    expect_equal(data["type"], "str", "type of what build_url returns")
    path: str = data["path"]
    return path


def expect_build_error(server: Server, name: str, values: dict[str, Any]) -> None:
    data = build(server, name, values)
    expect_true(
        "error" in data and "Exception" in data["error"],
        f"build_url({name!r}, {values!r}) raises",
        "an exception",
        repr(data),
    )


def encode(path: str) -> str:
    return quote(path, safe="/")


# -- Router --------------------------------------------------------------------------------------


@pytest.mark.requirement("ROUTE-STATIC")
def test_static_route(server: Server) -> None:
    data = expect_endpoint(server, BARE + "/static", "static")
    expect_equal(data["path_params"] or {}, {}, "path_params of a static route")


@pytest.mark.requirement("ROUTE-NAMED-ROUTE")
def test_named_route(server: Server) -> None:
    expect_param(server, NAMED + "/int/7", "int", ("int", "7"))
    expect_equal(built_path(server, "static", {}), "/static", "build_url('static', {})")


@pytest.mark.requirement("ROUTE-FIRST-MATCH-STATIC-FIRST")
def test_first_match_static_first(server: Server) -> None:
    expect_endpoint(server, BARE + "/first/fixed", "first-static")
    expect_endpoint(server, BARE + "/first/other", "first-param")


@pytest.mark.requirement("ROUTE-FIRST-MATCH-PARAM-FIRST")
def test_first_match_param_first(server: Server) -> None:
    data = expect_endpoint(server, BARE + "/second/fixed", "second-param")
    expect_equal(params(data), {"name": ("str", "fixed")}, "path_params")


@pytest.mark.requirement("ROUTE-FIRST-MATCH-FALLTHROUGH")
def test_first_match_fallthrough(server: Server) -> None:
    data = expect_endpoint(server, BARE + "/items/12", "items-int")
    expect_equal(params(data), {"id": ("int", "12")}, "path_params of /items/12")
    data = expect_endpoint(server, BARE + "/items/abc", "items-str")
    expect_equal(params(data), {"name": ("str", "abc")}, "path_params of /items/abc")
    # The date regex takes 2023-02-30 but the convertor refuses it: the next route answers.
    expect_endpoint(server, BARE + "/when/2024-02-29", "when-date")
    data = expect_endpoint(server, BARE + "/when/2023-02-30", "when-str")
    expect_equal(params(data), {"text": ("str", "2023-02-30")}, "path_params of /when/2023-02-30")


@pytest.mark.requirement("ROUTE-CONV-STR")
def test_convertor_str(server: Server) -> None:
    expect_param(server, BARE + "/str/hello", "str", ("str", "hello"))
    expect_param(server, BARE + "/strx/hello", "str-explicit", ("str", "hello"))


@pytest.mark.requirement("ROUTE-CONV-STR-NO-SLASH")
def test_convertor_str_takes_no_slash(server: Server) -> None:
    expect_refused(server, BARE + "/str/a/b")


@pytest.mark.requirement("ROUTE-CONV-INT")
def test_convertor_int(server: Server) -> None:
    expect_param(server, BARE + "/int/42", "int", ("int", "42"))
    expect_param(server, BARE + "/int/007", "int", ("int", "7"))


@pytest.mark.requirement("ROUTE-CONV-INT-REFUSE")
def test_convertor_int_refuses(server: Server) -> None:
    for value in ("abc", "4.2", "-1"):
        expect_refused(server, BARE + "/int/" + value)


@pytest.mark.requirement("ROUTE-CONV-DECIMAL")
def test_convertor_decimal(server: Server) -> None:
    expect_param(server, BARE + "/decimal/3.14", "decimal", ("Decimal", "3.14"))
    expect_param(server, BARE + "/decimal/7", "decimal", ("Decimal", "7"))


@pytest.mark.requirement("ROUTE-CONV-DECIMAL-REFUSE")
def test_convertor_decimal_refuses(server: Server) -> None:
    for value in ("abc", "1.2.3"):
        expect_refused(server, BARE + "/decimal/" + value)


@pytest.mark.requirement("ROUTE-CONV-UUID")
def test_convertor_uuid(server: Server) -> None:
    value = uuid.UUID("0b9e6a52-3c4d-4f5e-9a8b-7c6d5e4f3a2b")
    expect_param(server, BARE + "/uuid/" + str(value).upper(), "uuid", ("UUID", str(value)))


@pytest.mark.requirement("ROUTE-CONV-UUID-REFUSE")
def test_convertor_uuid_refuses(server: Server) -> None:
    for value in ("0b9e6a52-3c4d-4f5e-9a8b", "zb9e6a52-3c4d-4f5e-9a8b-7c6d5e4f3a2b"):
        expect_refused(server, BARE + "/uuid/" + value)


@pytest.mark.requirement("ROUTE-CONV-DATE")
def test_convertor_date(server: Server) -> None:
    expect_param(server, BARE + "/date/2024-02-29", "date", ("date", "2024-02-29"))


@pytest.mark.requirement("ROUTE-CONV-DATE-REFUSE")
def test_convertor_date_refuses(server: Server) -> None:
    for value in ("2023-02-30", "2024-1-5"):
        expect_refused(server, BARE + "/date/" + value)


@pytest.mark.requirement("ROUTE-CONV-ANY")
def test_convertor_any(server: Server) -> None:
    expect_param(server, BARE + "/any/a/b/c.txt", "any", ("str", "a/b/c.txt"))


@pytest.mark.requirement("ROUTE-CONV-CUSTOM")
def test_convertor_custom(server: Server) -> None:
    expect_param(server, BARE + "/hex/ff", "custom", ("int", "255"))
    expect_refused(server, BARE + "/hex/xyz")


@pytest.mark.requirement("ROUTE-PATH-PARAMS-SCOPE")
def test_path_params_in_scope(server: Server) -> None:
    data = expect_endpoint(server, BARE + "/multi/5/x/2024-01-02", "multi")
    expected = {"a": ("int", "5"), "b": ("str", "x"), "c": ("date", "2024-01-02")}
    expect_equal(params(data), expected, "path_params")


@pytest.mark.requirement("ROUTE-SCOPE-NOT-MUTATED")
def test_router_copies_scope(server: Server) -> None:
    with server.http() as client:
        data = client.get("/routing/probe-router-bare/users/3").json()
    inner = data["inner"]
    answered = data["dispatcher_answered"]
    expect_equal(len(inner), 1, f"the matched app ran once (the Router answered {answered})")
    expect_equal(inner[0]["path_params"], {"id": {"type": "int", "value": "3"}}, "path_params")
    expect_equal(data["changed"], [], "keys of the caller's scope changed by the Router")


@pytest.mark.requirement("ROUTE-NOT-FOUND-HTTP")
def test_router_not_found(server: Server) -> None:
    expect_answered_404(server, BARE + "/no/such/route", b"")


@pytest.mark.requirement("ROUTE-NOT-FOUND-WEBSOCKET")
def test_router_not_found_websocket(server: Server) -> None:
    expect_ws_refused(server, BARE + "/no/such/route")


@pytest.mark.requirement("ROUTE-WEBSOCKET-MATCH")
def test_router_websocket(server: Server) -> None:
    with server.ws(BARE + "/int/9") as ws:
        data = json.loads(ws.recv(timeout=5))
        with contextlib.suppress(ConnectionClosed):  # the endpoint closes: wait for it
            ws.recv(timeout=5)
    expect_equal(data["endpoint"], "int", "endpoint reached by the handshake")
    expect_equal(params(data), {"value": ("int", "9")}, "path_params")


@pytest.mark.requirement("ROUTE-PERCENT-DECODED")
def test_percent_decoded(server: Server) -> None:
    expect_param(server, BARE + "/str/caf%C3%A9%20x", "str", ("str", "caf\u00e9 x"))
    expect_endpoint(server, BARE + "/hello%20world", "space")
    expect_endpoint(server, BARE + "/caf%C3%A9", "cafe")


@pytest.mark.requirement("ROUTE-ROOT-PATH-INCLUDED")
def test_root_path_included(server: Server) -> None:
    data = expect_endpoint(server, ROUTER + "/int/5", "int")
    expect_equal((data["root_path"], data["path"]), (ROUTER, ROUTER + "/int/5"), "scenario scope")


@pytest.mark.requirement("ROUTE-ROOT-PATH-STRIPPED")
def test_root_path_stripped(server: Server) -> None:
    data = expect_endpoint(server, STRIPPED + "/int/5", "int")
    expect_equal((data["root_path"], data["path"]), (STRIPPED, "/int/5"), "scenario scope")
    expect_refused(server, STRIPPED + STRIPPED + "/no-route")


@pytest.mark.requirement("ROUTE-ROOT-PATH-SEGMENT")
def test_root_path_whole_segments(server: Server) -> None:
    expect_endpoint(server, "/routing/rpx/static", "full-path")


# -- build_url -----------------------------------------------------------------------------------


@pytest.mark.requirement("ROUTE-BUILD-URL")
def test_build_url(server: Server) -> None:
    values = {"a": 5, "b": "x", "c": datetime.date(2024, 1, 2)}
    expect_equal(built_path(server, "multi", values), "/multi/5/x/2024-01-02", "build_url")


ROUNDTRIP: list[tuple[str, Any, str]] = [
    ("str", "hello", "str"),
    ("str-explicit", "w\u00f6rld", "str"),
    ("int", 123, "int"),
    ("decimal", decimal.Decimal("2.50"), "Decimal"),
    ("uuid", uuid.UUID("0b9e6a52-3c4d-4f5e-9a8b-7c6d5e4f3a2b"), "UUID"),
    ("date", datetime.date(1999, 12, 31), "date"),
    ("any", "deep/er/file.txt", "str"),
]


def expect_roundtrip(server: Server, name: str, value: Any, type_name: str) -> None:
    path = built_path(server, name, {"value": value})
    data = expect_endpoint(server, NAMED + encode(path), name)
    ((kind, text),) = params(data).values()
    expect_equal(kind, type_name, f"type of the value routed back from {path!r}")
    back: Any = decimal.Decimal(text) if kind == "Decimal" else text
    expect_equal(back, value if kind == "Decimal" else str(value), f"value from {path!r}")


@pytest.mark.requirement("ROUTE-BUILD-URL-ROUNDTRIP")
def test_build_url_roundtrip(server: Server) -> None:
    for name, value, type_name in ROUNDTRIP:
        expect_roundtrip(server, name, value, type_name)


@pytest.mark.requirement("ROUTE-BUILD-URL-CUSTOM")
def test_build_url_custom(server: Server) -> None:
    expect_equal(built_path(server, "custom", {"value": 255}), "/hex/ff", "build_url('custom')")


@pytest.mark.requirement("ROUTE-BUILD-URL-UNKNOWN-NAME")
def test_build_url_unknown_name(server: Server) -> None:
    expect_build_error(server, "no-such-name", {"value": 1})


@pytest.mark.requirement("ROUTE-BUILD-URL-MISSING-PARAM")
def test_build_url_missing_param(server: Server) -> None:
    expect_build_error(server, "multi", {"a": 5, "c": datetime.date(2024, 1, 2)})
    expect_build_error(server, "int", {})


@pytest.mark.requirement("ROUTE-BUILD-URL-REFUSED-VALUE")
def test_build_url_refused_values(server: Server) -> None:
    for name, value in [
        ("int", -1),
        ("int", "abc"),
        ("str", "a/b"),
        ("str", ""),
        ("uuid", "not-a-uuid"),
        ("date", "yesterday"),
    ]:
        expect_build_error(server, name, {"value": value})


def _no_dot_segment(value: str) -> bool:
    return all(segment not in (".", "..") for segment in value.split("/"))


SEGMENT_TEXT = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/"),
    min_size=1,
    max_size=12,
).filter(_no_dot_segment)
ANY_TEXT = st.text(
    st.characters(blacklist_categories=("Cs", "Cc")), min_size=0, max_size=16
).filter(_no_dot_segment)
DECIMALS = st.decimals(
    min_value=0, max_value=10**6, places=3, allow_nan=False, allow_infinity=False
).filter(lambda value: not value.is_signed())
CONVERTOR_VALUES = st.one_of(
    st.tuples(st.just("str"), SEGMENT_TEXT, st.just("str")),
    st.tuples(st.just("int"), st.integers(0, 10**15), st.just("int")),
    st.tuples(st.just("decimal"), DECIMALS, st.just("Decimal")),
    st.tuples(st.just("uuid"), st.uuids(), st.just("UUID")),
    st.tuples(st.just("date"), st.dates(), st.just("date")),
    st.tuples(st.just("any"), ANY_TEXT, st.just("str")),
    st.tuples(st.just("custom"), st.integers(0, 2**64), st.just("int")),
)


@pytest.mark.requirement("ROUTE-BUILD-URL-ANY-VALUE")
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(case=CONVERTOR_VALUES)
def test_build_url_any_value_roundtrips(server: Server, case: tuple[str, Any, str]) -> None:
    name, value, type_name = case
    expect_roundtrip(server, name, value, type_name)


# -- Subpaths ------------------------------------------------------------------------------------


@pytest.mark.requirement("ROUTE-SUBPATHS-EXACT")
def test_subpaths_exact(server: Server) -> None:
    data = expect_endpoint(server, SUBPATHS_BARE + "/api", "api")
    expect_equal(data["root_path"], "/api", "root_path of the chosen app")


@pytest.mark.requirement("ROUTE-SUBPATHS-BELOW")
def test_subpaths_below(server: Server) -> None:
    data = expect_endpoint(server, SUBPATHS_BARE + "/api/x/y", "api")
    root, path = data["root_path"], data["path"]
    rest = path[len(root) :] if path.startswith(root + "/") else path
    expect_equal(rest, "/x/y", f"route path of the chosen app (root_path {root!r}, path {path!r})")


@pytest.mark.requirement("ROUTE-SUBPATHS-WHOLE-SEGMENT")
def test_subpaths_whole_segment(server: Server) -> None:
    expect_endpoint(server, SUBPATHS_BARE + "/apix", "default")
    expect_endpoint(server, SUBPATHS_BARE + "/apix/y", "default")


@pytest.mark.requirement("ROUTE-SUBPATHS-DEFAULT")
def test_subpaths_default(server: Server) -> None:
    data = expect_endpoint(server, SUBPATHS_BARE + "/elsewhere/z", "default")
    expect_equal(data["root_path"], "", "root_path under the '' prefix")
    expect_endpoint(server, SUBPATHS_BARE + "/static/file", "static")


@pytest.mark.requirement("ROUTE-SUBPATHS-NOT-FOUND")
def test_subpaths_not_found(server: Server) -> None:
    expect_answered_404(server, "/routing/subpaths-nodefault/other", b"")
    expect_refused(server, "/routing/subpaths-nodefault/apix")


@pytest.mark.requirement("ROUTE-SUBPATHS-ROOT-PATH")
def test_subpaths_root_path(server: Server) -> None:
    for mount in (SUBPATHS, SUBPATHS_STRIPPED):
        data = expect_endpoint(server, mount + "/api/x", "api")
        expect_equal(data["root_path"], mount + "/api", f"root_path below {mount}")


@pytest.mark.requirement("ROUTE-SUBPATHS-URL")
def test_subpaths_url(server: Server) -> None:
    for mount in (SUBPATHS, SUBPATHS_STRIPPED):
        target = mount + "/api/x%20y?q=1"
        data = expect_endpoint(server, target, "api")
        expect_equal(data["url"], server.base_url + target, f"HTTPConnection.url below {mount}")


@pytest.mark.requirement("ROUTE-SUBPATHS-SCOPE-NOT-MUTATED")
def test_subpaths_copies_scope(server: Server) -> None:
    with server.http() as client:
        data = client.get("/routing/probe-subpaths-bare/api/x").json()
    expect_equal(len(data["inner"]), 1, "the chosen app ran once")
    expect_equal(data["inner"][0]["root_path"], "/api", "its root_path")
    expect_equal(data["changed"], [], "keys of the caller's scope changed by Subpaths")


@pytest.mark.requirement("ROUTE-SUBPATHS-ROUTER")
def test_subpaths_router(server: Server) -> None:
    data = expect_endpoint(server, SUBPATHS_BARE + "/nested/users/5", "nested-user")
    expect_equal(params(data), {"id": ("int", "5")}, "path_params below Subpaths")


# -- Hosts ---------------------------------------------------------------------------------------


@pytest.mark.requirement("ROUTE-HOSTS-MATCH")
def test_hosts_match(server: Server) -> None:
    for host, endpoint in [
        ("api.example.com", "api"),
        ("www.example.com", "www"),
        ("bob.users.example.com", "users"),
    ]:
        expect_endpoint(server, "/routing/hosts/x", endpoint, headers={"Host": host})


@pytest.mark.requirement("ROUTE-HOSTS-FULL-MATCH")
def test_hosts_full_match(server: Server) -> None:
    for host in ("xapi.example.com", "api.example.com.evil.test"):
        expect_refused(server, "/routing/hosts/x", headers={"Host": host})


@pytest.mark.requirement("ROUTE-HOSTS-PORT-IGNORED")
def test_hosts_port_ignored(server: Server) -> None:
    expect_endpoint(server, "/routing/hosts/x", "api", headers={"Host": "api.example.com:8443"})


@pytest.mark.requirement("ROUTE-HOSTS-CASE-INSENSITIVE")
def test_hosts_case_insensitive(server: Server) -> None:
    expect_endpoint(server, "/routing/hosts/x", "api", headers={"Host": "API.Example.COM"})
    expect_endpoint(server, "/routing/hosts/x", "mixed", headers={"Host": "mixed.example.COM"})


@pytest.mark.requirement("ROUTE-HOSTS-NOT-FOUND")
def test_hosts_not_found(server: Server) -> None:
    expect_answered_404(
        server, "/routing/hosts/x", b"Invalid host", headers={"Host": "unknown.test"}
    )
