"""Tests of baize.routing (templates, convertors, matching) and baize.asgi.routing."""

from __future__ import annotations

import datetime
import decimal
import re
import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from baize.asgi import Hosts, HTTPConnection, Router, Subpaths
from baize.routing import (
    CONVERTOR_TYPES,
    Convertor,
    InvalidPathParam,
    MissingPathParam,
    RouteTable,
    UnknownRouteName,
    compile_path,
    compile_template,
    route_path,
    trie_segments,
)
from baize.typing import Message, Scope

pytestmark = pytest.mark.anyio


class Recorder:
    """An ASGI app that remembers the scope it was called with."""

    def __init__(self, label: str = "") -> None:
        self.label = label
        self.scopes: list[Scope] = []

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        self.scopes.append(scope)

    @property
    def scope(self) -> Scope:
        assert len(self.scopes) == 1, self.scopes
        return self.scopes[0]


def http_scope(path: str, root_path: str = "", host: bytes = b"example.com") -> Scope:
    return {
        "type": "http",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "root_path": root_path,
        "query_string": b"",
        "headers": [(b"host", host)],
    }


def websocket_scope(path: str, extensions: dict[str, Any] | None = None) -> Scope:
    scope = http_scope(path)
    del scope["method"]
    scope["type"] = "websocket"
    if extensions is not None:
        scope["extensions"] = extensions
    return scope


async def receive() -> Message:
    return {"type": "websocket.connect"}


async def run(app: Any, scope: Scope) -> list[Message]:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


def url_path(scope: Scope) -> str:
    """The URL path per API.md ``url``: ``path`` if it holds ``root_path``, else both."""
    path, root = scope["path"], scope.get("root_path", "")
    if path == root or path.startswith(root + "/"):
        return str(path)
    return str(root + path)


# compile_path and convertors


def test_compile_path_docstring_example() -> None:
    template, convertors = compile_path("/users/{id:int}/{name}")
    assert template == "/users/{id}/{name}"
    assert repr(convertors) == "{'id': <IntegerConvertor>, 'name': <StringConvertor>}"
    assert convertors["id"] is CONVERTOR_TYPES["int"]  # the registered instances, as upstream


def test_compile_template_docstring_example() -> None:
    regex, template, convertors = compile_template("/users/{id:int}/{name}")
    assert regex.pattern == "^/users/(?P<id>[0-9]+)/(?P<name>[^/]+)$"
    assert regex.flags & re.DOTALL
    assert template == "/users/{id}/{name}"
    assert repr(convertors) == "{'id': <IntegerConvertor>, 'name': <StringConvertor>}"


def test_compile_path_escapes_literals() -> None:
    regex, template, _ = compile_template("/a.b+c/{x}")
    assert regex.fullmatch("/a.b+c/1")
    assert not regex.fullmatch("/aXb+c/1")
    assert template == "/a.b+c/{x}"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/{x:nope}", "unknown convertor type 'nope'"),
        ("/{x}/{x}", "duplicated parameter name 'x'"),
        ("/{1x}", "invalid parameter name '1x'"),
        ("/{}", "invalid parameter name ''"),
    ],
)
def test_compile_path_rejects_bad_templates(path: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        compile_path(path)


@pytest.mark.parametrize(
    ("template", "path", "expected"),
    [
        ("/{v}", "/hello", "hello"),
        ("/{v:str}", "/a b%", "a b%"),
        ("/{v:int}", "/0042", 42),
        ("/{v:decimal}", "/3.25", decimal.Decimal("3.25")),
        ("/{v:decimal}", "/7", decimal.Decimal(7)),
        (
            "/{v:uuid}",
            "/12345678-1234-5678-1234-56781234ABCD",
            uuid.UUID("12345678-1234-5678-1234-56781234abcd"),
        ),
        ("/{v:date}", "/2024-02-29", datetime.date(2024, 2, 29)),
        ("/{v:any}", "/a/b/c", "a/b/c"),
        ("/{v:any}", "/", ""),
        ("/{v:any}", "/line\nbreak", "line\nbreak"),
    ],
)
def test_builtin_convertors_match(template: str, path: str, expected: Any) -> None:
    matched = RouteTable([(template, None)]).match(path)
    assert matched is not None
    assert matched[1] == {"v": expected}
    assert type(matched[1]["v"]) is type(expected)


@pytest.mark.parametrize(
    ("template", "path"),
    [
        ("/{v}", "/a/b"),
        ("/{v}", "/"),
        ("/{v}", "/x\n/y"),
        ("/{v:int}", "/-1"),
        ("/{v:int}", "/1.5"),
        ("/{v:int}", "/12\n"),
        ("/{v:decimal}", "/1."),
        ("/{v:decimal}", "/NaN"),
        ("/{v:uuid}", "/12345678123456781234567812345678"),
        ("/{v:date}", "/2023-02-29"),
        ("/{v:date}", "/20230101"),
    ],
)
def test_builtin_convertors_refuse(template: str, path: str) -> None:
    assert RouteTable([(template, None)]).match(path) is None


def test_refused_conversion_falls_through_to_later_routes() -> None:
    table = RouteTable([("/d/{v:date}", "date"), ("/d/{v}", "str")])
    assert table.match("/d/2023-02-30") == (table.routes[1], {"v": "2023-02-30"})
    assert table.match("/d/2023-02-28") == (table.routes[0], {"v": datetime.date(2023, 2, 28)})


class HexConvertor(Convertor):
    regex = "[0-9a-f]+"

    def to_python(self, value: str) -> int:
        return int(value, 16)

    def to_string(self, value: Any) -> str:
        if not isinstance(value, int) or value < 0:
            raise ValueError("needs a non-negative int")
        return format(value, "x")


@pytest.mark.parametrize("registered", [HexConvertor(), HexConvertor], ids=["instance", "class"])
def test_custom_convertor(monkeypatch: pytest.MonkeyPatch, registered: Any) -> None:
    monkeypatch.setitem(CONVERTOR_TYPES, "hex", registered)
    table = RouteTable([("/color/{c:hex}", None, "color")])
    assert table.match("/color/ff")[1] == {"c": 255}  # type: ignore[index]
    assert table.match("/color/zz") is None
    assert table.build_url("color", {"c": 4095}) == "/color/fff"
    with pytest.raises(InvalidPathParam, match="needs a non-negative int"):
        table.build_url("color", {"c": -1})


# build_url


def test_build_url_errors_are_clear() -> None:
    table = RouteTable(
        [
            ("/u/{id:int}/{name}", None, "user"),
            ("/files/{p:any}", None, "file"),
            ("/", None, "home"),
        ]
    )
    assert table.build_url("home", {}) == "/"
    assert table.build_url("user", {"id": 7, "name": "bob", "extra": 1}) == "/u/7/bob"
    assert table.build_url("file", {"p": "a/b.txt"}) == "/files/a/b.txt"
    with pytest.raises(UnknownRouteName) as unknown:
        table.build_url("nobody", {})
    assert isinstance(unknown.value, KeyError)
    assert str(unknown.value) == "no route is named 'nobody'"
    with pytest.raises(MissingPathParam, match="'user' needs the path parameter 'name'"):
        table.build_url("user", {"id": 7})
    with pytest.raises(InvalidPathParam, match="'name'"):
        table.build_url("user", {"id": 7, "name": "a/b"})
    with pytest.raises(InvalidPathParam, match="'name'"):
        table.build_url("user", {"id": 7, "name": ""})
    with pytest.raises(InvalidPathParam, match="'id'"):
        table.build_url("user", {"id": "7", "name": "x"})
    with pytest.raises(InvalidPathParam, match="'id'"):
        table.build_url("user", {"id": True, "name": "x"})
    with pytest.raises(ValueError):
        table.build_url("user", {"id": -3, "name": "x"})


def test_duplicated_route_name_is_refused() -> None:
    with pytest.raises(ValueError, match="duplicated route name 'a'"):
        RouteTable([("/a", None, "a"), ("/b", None, "a")])


VALUES: dict[str, st.SearchStrategy[Any]] = {
    "str": st.text(min_size=1).filter(lambda s: "/" not in s),
    "int": st.integers(min_value=0),
    "decimal": st.decimals(min_value=0, allow_nan=False, allow_infinity=False).filter(
        lambda d: not d.is_signed()
    ),
    "uuid": st.uuids(),
    "date": st.dates(),
    "any": st.text(),
}


@pytest.mark.parametrize("kind", sorted(VALUES))
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_value_round_trips_through_build_url_and_match(kind: str, data: st.DataObject) -> None:
    value = data.draw(VALUES[kind])
    table = RouteTable([(f"/x/{{v:{kind}}}/end", None, "r")])
    path = table.build_url("r", {"v": value})
    matched = table.match(path)
    assert matched is not None
    assert matched[1]["v"] == value


@pytest.mark.parametrize("kind", sorted(VALUES))
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_text_accepted_by_a_convertor_round_trips(kind: str, data: st.DataObject) -> None:
    convertor = CONVERTOR_TYPES[kind]
    assert isinstance(convertor, Convertor)
    text = data.draw(st.from_regex(re.compile(convertor.regex, re.DOTALL), fullmatch=True))
    try:
        value = convertor.to_python(text)
    except ValueError:
        return  # the regex admits it but the type does not (a date like 2023-02-30)
    table = RouteTable([(f"/{{v:{kind}}}", None, "r")])
    matched = table.match(table.build_url("r", {"v": value}))
    assert matched is not None
    assert matched[1]["v"] == value


# first match wins, compared with a plain linear scan

SEGMENTS = st.sampled_from(["a", "b", "api", "v1", "1", "2024-01-02", "x.y"])
TEMPLATE_SEGMENTS = st.one_of(
    SEGMENTS, st.sampled_from(["{p}", "{q:int}", "{r:any}", "{s:date}", "a{t}", "{u:decimal}"])
)


def template_strategy() -> st.SearchStrategy[str]:
    def join(parts: list[str]) -> str:
        seen: set[str] = set()
        fixed = []
        for part in parts:
            name = re.search(r"\{(\w+)", part)
            if name is not None and name.group(1) in seen:
                part = part.replace(name.group(1), name.group(1) + str(len(seen)))
            if name is not None:
                seen.add(re.search(r"\{(\w+)", part).group(1))  # type: ignore[union-attr]
            fixed.append(part)
        return "/" + "/".join(fixed)

    return st.lists(TEMPLATE_SEGMENTS, max_size=4).map(join)


@settings(max_examples=300, deadline=None)
@given(
    templates=st.lists(template_strategy(), min_size=1, max_size=12),
    paths=st.lists(st.lists(SEGMENTS, max_size=5).map(lambda s: "/" + "/".join(s)), max_size=10),
)
def test_first_match_wins_like_a_linear_scan(templates: list[str], paths: list[str]) -> None:
    table = RouteTable([(t, i) for i, t in enumerate(templates)])
    for path in paths:
        expected = next(
            (
                (route, params)
                for route in table.routes
                if (params := route.match(path)) is not None
            ),
            None,
        )
        assert table.match(path) == expected, (templates, path)


def test_routes_starting_with_a_parameter_are_filed_under_their_literal_segments() -> None:
    templates = [f"/{{lang}}/page{i}/{{id:int}}" for i in range(100)] + ["/{rest:any}"]
    table = RouteTable([(template, i) for i, template in enumerate(templates)])
    candidates = table._candidates("/en/page57/3")
    # the one route with the literal "page57", then the catch-all that cannot be filed
    assert [route.index for route in candidates] == [57, 100]
    matched = table.match("/en/page57/3")
    assert matched is not None
    assert matched[0].index == 57
    assert matched[1] == {"lang": "en", "id": 3}


def test_trie_segments_stop_at_a_parameter_that_may_span_segments() -> None:
    assert trie_segments("/users/{id}", compile_template("/users/{id}")[2]) == ["users"]
    assert trie_segments("/{a}/{b:int}/x/{c}", compile_template("/{a}/{b:int}/x/{c}")[2]) == [
        None,
        None,
        "x",
    ]
    assert trie_segments("/{lang}/about", compile_template("/{lang}/about")[2]) == [None, "about"]
    assert trie_segments("/files/{p:any}/x", compile_template("/files/{p:any}/x")[2]) == ["files"]
    assert trie_segments("/api{v}/x", compile_template("/api{v}/x")[2]) == []


def test_mixed_static_and_dynamic_precedence() -> None:
    table = RouteTable(
        [
            ("/users/me", "static-first"),
            ("/users/{name}", "dynamic"),
            ("/users/you", "static-after"),
            ("/{p:any}", "catch-all"),
            ("/late", "shadowed"),
        ]
    )
    assert table.match("/users/me")[0].endpoint == "static-first"  # type: ignore[index]
    assert table.match("/users/you")[0].endpoint == "dynamic"  # type: ignore[index]
    assert table.match("/late")[0].endpoint == "catch-all"  # type: ignore[index]
    assert table.match("/users/a/b")[0].endpoint == "catch-all"  # type: ignore[index]


def test_route_path_strips_root_path_on_segment_boundary() -> None:
    assert route_path({"path": "/m/a", "root_path": "/m"}) == "/a"
    assert route_path({"path": "/m", "root_path": "/m"}) == ""
    assert route_path({"path": "/mx/a", "root_path": "/m"}) == "/mx/a"
    assert route_path({"path": "/a", "root_path": "/m"}) == "/a"
    assert route_path({"path": "/a"}) == "/a"


# Router through ASGI


async def test_router_sets_path_params_on_a_copy() -> None:
    user, home = Recorder(), Recorder()
    router = Router(("/", home, "home"), ("/u/{id:int}", user, "user"))
    scope = http_scope("/u/12")
    scope["path_params"] = {"outer": "kept"}
    assert await run(router, scope) == []
    assert user.scope["path_params"] == {"outer": "kept", "id": 12}
    assert scope["path_params"] == {"outer": "kept"}
    assert user.scope is not scope
    await run(router, http_scope("/"))
    assert home.scope["path_params"] == {}
    assert router.build_url("user", {"id": 5}) == "/u/5"


@pytest.mark.parametrize(("path", "root_path"), [("/m/u/3", "/m"), ("/u/3", "/m"), ("/u/3", "")])
async def test_router_matches_the_route_path_for_both_server_styles(
    path: str, root_path: str
) -> None:
    user = Recorder()
    await run(Router(("/u/{id:int}", user)), http_scope(path, root_path))
    assert user.scope["path_params"] == {"id": 3}


def assert_empty_404(sent: list[Message]) -> None:
    assert sent[0]["type"] == "http.response.start"
    assert sent[0]["status"] == 404
    assert b"".join(m.get("body", b"") for m in sent[1:]) == b""


async def test_router_unmatched_http_answers_an_empty_404() -> None:
    # answered, not raised: a bare Router under a server gives 404, never 500
    assert_empty_404(await run(Router(("/a", Recorder())), http_scope("/b")))


async def test_router_unmatched_websocket_denies_with_404_through_the_extension() -> None:
    sent = await run(
        Router(("/a", Recorder())), websocket_scope("/b", {"websocket.http.response": {}})
    )
    assert sent[0]["type"] == "websocket.http.response.start"
    assert sent[0]["status"] == 404
    assert b"".join(m.get("body", b"") for m in sent[1:]) == b"Not Found"
    assert sent[-1]["type"] == "websocket.http.response.body"
    assert not sent[-1].get("more_body", False)


async def test_router_unmatched_websocket_closes_without_the_extension() -> None:
    sent = await run(Router(("/a", Recorder())), websocket_scope("/b"))
    assert [m["type"] for m in sent] == ["websocket.close"]


# Subpaths


@pytest.mark.parametrize(
    ("path", "root_path"),
    [
        ("/m/api/x/y", "/m"),  # uvicorn style: path includes root_path
        ("/api/x/y", "/m"),  # hypercorn style: path is the request path as is
        ("/api/x/y", ""),
    ],
)
async def test_subpaths_extends_root_path_on_a_copy(path: str, root_path: str) -> None:
    api, default = Recorder(), Recorder()
    app = Subpaths(("/api", api), ("", default))
    scope = http_scope(path, root_path)
    original = dict(scope)
    await run(app, scope)
    assert scope == original
    child = api.scope
    assert child["root_path"] == root_path + "/api"
    assert route_path(child) == "/x/y"
    assert url_path(child) == url_path(scope)
    assert str(HTTPConnection(child).url) == str(HTTPConnection(scope).url)
    assert HTTPConnection(child).url.path == url_path(scope)
    assert default.scopes == []


async def test_subpaths_nested_keeps_url_and_route_path() -> None:
    inner = Recorder()
    app = Subpaths(("/a", Subpaths(("/b", Router(("/c/{n:int}", inner))))))
    scope = http_scope("/a/b/c/1", "/root")
    await run(app, scope)
    assert inner.scope["root_path"] == "/root/a/b"
    assert inner.scope["path_params"] == {"n": 1}
    assert url_path(inner.scope) == "/root/a/b/c/1"


@pytest.mark.parametrize(
    ("path", "chosen"),
    [("/api", "api"), ("/api/", "api"), ("/api/x", "api"), ("/apix", "default"), ("/", "default")],
)
async def test_subpaths_prefix_matches_whole_segments(path: str, chosen: str) -> None:
    api, default = Recorder("api"), Recorder("default")
    await run(Subpaths(("/api/", api), ("", default)), http_scope(path))
    assert [r.label for r in (api, default) if r.scopes] == [chosen]


async def test_subpaths_prefix_equal_path_gives_empty_route_path() -> None:
    api = Recorder()
    await run(Subpaths(("/api", api)), http_scope("/api"))
    assert route_path(api.scope) == ""
    assert api.scope["path"] == "/api"


async def test_subpaths_unmatched_answers_an_empty_404() -> None:
    assert_empty_404(await run(Subpaths(("/api", Recorder())), http_scope("/other")))


async def test_subpaths_unmatched_websocket_is_denied_with_404() -> None:
    sent = await run(
        Subpaths(("/api", Recorder())), websocket_scope("/b", {"websocket.http.response": {}})
    )
    assert sent[0]["type"] == "websocket.http.response.start"
    assert sent[0]["status"] == 404


def test_subpaths_rejects_relative_prefix() -> None:
    with pytest.raises(ValueError, match="must be empty or start with '/'"):
        Subpaths(("api", Recorder()))


# Hosts


@pytest.mark.parametrize(
    ("host", "chosen"),
    [
        (b"api.example.com", "api"),
        (b"api.example.com:8443", "api"),
        (b"API.Example.COM", "api"),
        (b"www.example.com", "default"),
        (b"example.com:80", "default"),
        (b"[::1]:8000", "local"),
        (b"[::1]", "local"),
    ],
)
async def test_hosts_full_match_without_port(host: bytes, chosen: str) -> None:
    apps = {name: Recorder(name) for name in ("api", "default", "local")}
    app = Hosts(
        (r"api\.example\.com", apps["api"]),
        (r"(www\.)?example\.com", apps["default"]),
        (r"\[::1\]", apps["local"]),
    )
    await run(app, http_scope("/", host=host))
    assert [name for name, r in apps.items() if r.scopes] == [chosen]


async def test_hosts_unmatched_answers_invalid_host_404() -> None:
    app = Hosts((r"example\.com", Recorder()))
    for host in (b"example.com.evil.org", b"xexample.com", b"qwe\ndsf"):
        sent = await run(app, http_scope("/", host=host))
        assert sent[0]["status"] == 404
        assert b"".join(m.get("body", b"") for m in sent[1:]) == b"Invalid host"


async def test_hosts_pattern_may_name_the_port() -> None:
    with_port, without = Recorder("with"), Recorder("without")
    app = Hosts((r"example\.com:8443", with_port), (r"example\.com", without))
    await run(app, http_scope("/", host=b"example.com:8443"))
    await run(app, http_scope("/", host=b"example.com:80"))
    assert len(with_port.scopes) == 1 and len(without.scopes) == 1


async def test_hosts_falls_back_to_server_address() -> None:
    local = Recorder()
    scope = http_scope("/")
    scope["headers"] = []
    scope["server"] = ("127.0.0.1", 8000)
    await run(Hosts((r"127\.0\.0\.1", local)), scope)
    assert local.scopes
