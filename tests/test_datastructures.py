# Over 700 lines on purpose: the unit tests of one module, baize/datastructures.py, mirrored one
# to one.
"""Tests of baize.datastructures: URL, headers, multi-value mappings, uploads, negotiation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from baize.datastructures import (
    URL,
    Address,
    ContentType,
    FormData,
    Headers,
    MediaType,
    MultiMapping,
    MutableHeaders,
    MutableMultiMapping,
    QueryParams,
    UploadFile,
)

pytestmark = pytest.mark.anyio  # parametrized async tests need the marker at collection


def http_scope(**overrides: Any) -> dict[str, Any]:
    scope: dict[str, Any] = {
        "type": "http",
        "scheme": "http",
        "server": ("testserver", 80),
        "path": "/",
        "root_path": "",
        "query_string": b"",
        "headers": [],
    }
    scope.update(overrides)
    return scope


# ----------------------------------------------------------------------- Address


def test_address_is_a_named_pair() -> None:
    address = Address("127.0.0.1", 5000)
    assert address.host == "127.0.0.1" and address.port == 5000
    host, port = address
    assert (host, port) == ("127.0.0.1", 5000)


# ---------------------------------------------------------------------------- URL


def test_url_components_from_string() -> None:
    url = URL("HTTPS://user:secret@Example.COM:8443/a/b?x=1&y=2#frag")
    assert url.scheme == "https"
    assert url.netloc == "user:secret@Example.COM:8443"
    assert url.path == "/a/b"
    assert url.query == "x=1&y=2"
    assert url.fragment == "frag"
    assert url.username == "user"
    assert url.password == "secret"
    assert url.hostname == "example.com"
    assert url.port == 8443
    assert url.is_secure


def test_url_without_userinfo_or_port() -> None:
    url = URL("http://example.com/")
    assert url.username is None and url.password is None
    assert url.port is None
    assert not url.is_secure
    assert URL("http://u@h/").password is None
    assert URL("http://u:@h/").password == ""


def test_url_ipv6_host() -> None:
    url = URL("http://[::1]:8000/x")
    assert url.hostname == "::1"
    assert url.port == 8000
    assert URL("http://[fe80::1]/").port is None


@pytest.mark.parametrize(
    "text", ["http://h:99999/", "http://h:abc/", "http://[::1/", "http://h:/", "://", "%%%"]
)
def test_url_odd_inputs_never_raise(text: str) -> None:
    url = URL(text)
    assert str(url) == text
    url.hostname, url.port, url.username, url.password, url.path  # noqa: B018


def test_url_out_of_range_port_is_none() -> None:
    assert URL("http://h:99999/").port is None
    assert URL("http://h:٣/").port is None  # a non-ASCII digit is not a port


def test_url_relative() -> None:
    url = URL("/path?q#f")
    assert (url.scheme, url.netloc, url.path, url.query, url.fragment) == (
        "",
        "",
        "/path",
        "q",
        "f",
    )
    assert url.hostname is None


def test_url_from_components() -> None:
    url = URL(scheme="https", netloc="example.com", path="/a", query="b=1", fragment="c")
    assert str(url) == "https://example.com/a?b=1#c"
    assert str(URL(scheme="http", netloc="h", path="nolead")) == "http://h/nolead"
    assert str(URL(path="/only")) == "/only"


def test_url_refuses_mixed_sources_and_unknown_components() -> None:
    with pytest.raises(ValueError, match="not several"):
        URL("http://h/", path="/x")
    with pytest.raises(ValueError, match="not several"):
        URL("http://h/", scope=http_scope())
    with pytest.raises(TypeError, match="unknown URL components: bogus"):
        URL(bogus="x")


def test_url_equality_and_hash() -> None:
    url = URL("http://h/p")
    assert url == "http://h/p"
    assert url == URL("http://h/p")
    assert url != "http://h/q"
    assert url != 3
    assert hash(url) == hash(URL("http://h/p"))
    assert repr(url) == "URL('http://h/p')"


def test_url_replace() -> None:
    url = URL("http://user:pw@example.com:8000/a?b=1#c")
    assert url.replace(scheme="https") == "https://user:pw@example.com:8000/a?b=1#c"
    assert url.replace(path="/z", query="") == "http://user:pw@example.com:8000/z#c"
    assert url.replace(port=None) == "http://user:pw@example.com/a?b=1#c"
    assert url.replace(hostname="::1") == "http://user:pw@[::1]:8000/a?b=1#c"
    assert url.replace(username=None) == "http://example.com:8000/a?b=1#c"
    assert url.replace(password=None) == "http://user@example.com:8000/a?b=1#c"


def test_url_replace_query() -> None:
    url = URL("http://h/p?old=1")
    assert url.replace_query({"a": "1 2", "b": "&"}) == "http://h/p?a=1+2&b=%26"
    assert url.replace_query(QueryParams([("x", "1"), ("x", "2")])) == "http://h/p?x=1&x=2"
    assert url.replace_query("raw=yes") == "http://h/p?raw=yes"


def test_url_from_scope_server_and_query() -> None:
    scope = http_scope(server=("10.0.0.1", 8080), path="/p", query_string=b"a=1")
    assert URL(scope=scope) == "http://10.0.0.1:8080/p?a=1"


def test_url_from_scope_prefers_host_header() -> None:
    scope = http_scope(headers=[(b"host", b"example.com:8000")], path="/p")
    assert URL(scope=scope) == "http://example.com:8000/p"


def test_url_from_scope_ignores_a_host_header_that_is_not_an_authority() -> None:
    scope = http_scope(headers=[(b"host", b"evil.com/x?")], path="/p")
    assert URL(scope=scope) == "http://testserver/p"


@pytest.mark.parametrize(
    ("scheme", "server", "expected"),
    [
        ("http", ("h", 80), "http://h/"),
        ("https", ("h", 443), "https://h/"),
        ("ws", ("h", 80), "ws://h/"),
        ("wss", ("h", 443), "wss://h/"),
        ("https", ("h", 80), "https://h:80/"),
        ("http", ("::1", 8000), "http://[::1]:8000/"),
        ("http", ("unix.sock", None), "http://unix.sock/"),
    ],
)
def test_url_from_scope_default_ports_and_ipv6(
    scheme: str, server: tuple[str, int | None], expected: str
) -> None:
    assert URL(scope=http_scope(scheme=scheme, server=server)) == expected


def test_url_from_scope_drops_default_port_of_host_header() -> None:
    scope = http_scope(scheme="https", headers=[(b"host", b"example.com:443")])
    assert URL(scope=scope) == "https://example.com/"


def test_url_from_scope_without_server_is_relative() -> None:
    scope = http_scope(server=None, path="/p", query_string=b"q=1")
    assert URL(scope=scope) == "/p?q=1"


@pytest.mark.parametrize(
    ("root_path", "path", "expected"),
    [
        ("/m", "/m/a", "/m/a"),  # uvicorn-style: path already includes root_path
        ("/m", "/m", "/m"),
        ("/m", "/a", "/m/a"),  # path without root_path: root_path is prepended
        ("/m", "/mall", "/m/mall"),  # a prefix must match a whole segment
        ("", "/a", "/a"),
    ],
)
def test_url_from_scope_root_path_rule(root_path: str, path: str, expected: str) -> None:
    url = URL(scope=http_scope(root_path=root_path, path=path))
    assert url.path == expected


def test_url_from_scope_percent_encodes_the_decoded_path() -> None:
    url = URL(scope=http_scope(path="/a b/%/é"))
    assert url.path == "/a%20b/%25/%C3%A9"


_component_text = st.text(
    alphabet=st.characters(blacklist_characters="?#/@[]:", blacklist_categories=["Cs"])
)


@given(
    scheme=st.from_regex(r"[a-z][a-z0-9+.\-]{0,8}", fullmatch=True),
    host=st.from_regex(r"[a-z0-9.\-]{1,20}", fullmatch=True),
    port=st.none() | st.integers(0, 65535),
    path=st.lists(_component_text, max_size=4).map(lambda parts: "/" + "/".join(parts)),
    query=st.text(alphabet=st.characters(blacklist_characters="#", blacklist_categories=["Cs"])),
    fragment=st.text(alphabet=st.characters(blacklist_categories=["Cs"])),
)
def test_url_components_round_trip(
    scheme: str, host: str, port: int | None, path: str, query: str, fragment: str
) -> None:
    netloc = host if port is None else f"{host}:{port}"
    url = URL(scheme=scheme, netloc=netloc, path=path, query=query, fragment=fragment)
    again = URL(str(url))
    assert (again.scheme, again.netloc, again.path, again.query, again.fragment) == (
        scheme,
        netloc,
        path,
        query,
        fragment,
    )
    assert again.hostname == host
    assert again.port == port
    assert again == url


@given(st.text())
def test_url_from_any_string_never_raises(text: str) -> None:
    url = URL(text)
    assert str(url) == text
    url.hostname, url.port, url.username, url.password, url.query  # noqa: B018


# ------------------------------------------------------------------------ Headers


def test_headers_lookup_is_case_insensitive_and_joins_duplicates() -> None:
    headers = Headers(raw=[(b"Accept", b"a"), (b"x-one", b"1"), (b"accept", b"b")])
    assert headers["accept"] == "a, b"
    assert headers["ACCEPT"] == "a, b"
    assert headers.get("Accept") == "a, b"
    assert headers.getlist("accept") == ["a", "b"]
    assert headers.getlist("missing") == []
    assert headers.get("missing") is None
    assert "X-One" in headers
    assert 3 not in headers  # type: ignore[comparison-overlap]
    assert list(headers) == ["accept", "x-one"]
    assert len(headers) == 2
    assert headers.raw == [(b"accept", b"a"), (b"x-one", b"1"), (b"accept", b"b")]
    with pytest.raises(KeyError):
        headers["missing"]


def test_headers_from_mapping_scope_and_empty() -> None:
    assert Headers({"Content-Type": "text/plain"}).raw == [(b"content-type", b"text/plain")]
    scope = http_scope(headers=[(b"host", b"h")])
    assert Headers(scope=scope)["host"] == "h"
    assert len(Headers()) == 0
    assert Headers(scope={"type": "http"}) == {}


def test_headers_decode_latin1() -> None:
    headers = Headers(raw=[(b"x", "café".encode("latin-1"))])
    assert headers["x"] == "café"


def test_headers_equality_and_repr() -> None:
    assert Headers({"a": "1"}) == {"a": "1"}
    assert Headers({"a": "1"}) == Headers(raw=[(b"A", b"1")])
    assert "raw=" in repr(Headers({"a": "1"}))


_token = st.from_regex(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,12}", fullmatch=True)
_value = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, blacklist_characters="\x7f"),
    max_size=20,
).map(lambda v: v.strip(" "))


@given(st.lists(st.tuples(_token, _value), max_size=10), st.data())
def test_headers_lookup_property(pairs: list[tuple[str, str]], data: st.DataObject) -> None:
    raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in pairs]
    headers = Headers(raw=raw)
    for key, _ in pairs:
        variant = data.draw(st.sampled_from([key, key.upper(), key.lower(), key.swapcase()]))
        expected = [v for k, v in pairs if k.lower() == key.lower()]
        assert headers.getlist(variant) == expected
        assert headers[variant] == ", ".join(expected)
        assert variant in headers
    mutable = MutableHeaders()
    for key, value in pairs:
        mutable.append(key, value)
    for key, _ in pairs:
        expected = [v for k, v in pairs if k.lower() == key.lower()]
        assert mutable.getlist(key.swapcase()) == expected
        assert mutable[key.upper()] == ", ".join(expected)


# ----------------------------------------------------------------- MutableHeaders


def test_mutable_headers_set_replaces_every_line() -> None:
    headers = MutableHeaders(raw=[(b"X", b"1"), (b"y", b"2"), (b"x", b"3")])
    assert headers.raw == [(b"x", b"1"), (b"y", b"2"), (b"x", b"3")]
    headers["X"] = "new"
    assert headers.raw == [(b"y", b"2"), (b"x", b"new")]
    assert headers["x"] == "new"


def test_mutable_headers_append_keeps_duplicates() -> None:
    headers = MutableHeaders({"content-type": "text/plain"})
    headers.append("Set-Cookie", "a=1")
    headers.append("set-cookie", "b=2")
    assert headers.getlist("set-cookie") == ["a=1", "b=2"]
    assert headers["Set-Cookie"] == "a=1, b=2"
    assert list(headers) == ["content-type", "set-cookie"]
    assert len(headers) == 2


def test_mutable_headers_delete_pop_setdefault_update() -> None:
    headers = MutableHeaders({"a": "1", "b": "2"})
    del headers["A"]
    assert "a" not in headers
    with pytest.raises(KeyError):
        del headers["a"]
    assert headers.setdefault("b", "other") == "2"
    assert headers.setdefault("c", "3") == "3"
    headers.update({"b": "20", "d": "4"})
    headers.update([("e", "5")])
    assert dict(headers) == {"b": "20", "c": "3", "d": "4", "e": "5"}
    assert headers.pop("b") == "20"
    assert headers.pop("b", "gone") == "gone"
    with pytest.raises(KeyError):
        headers["b"]


def test_mutable_headers_raw_is_live() -> None:
    headers = MutableHeaders()
    headers.raw.append((b"x-direct", b"yes"))
    assert headers["x-direct"] == "yes"
    headers["y"] = "1"
    assert headers.raw[-1] == (b"y", b"1")


def test_mutable_headers_strip_surrounding_whitespace() -> None:
    headers = MutableHeaders()
    headers["x"] = "  padded\t"
    assert headers.raw == [(b"x", b"padded")]


@pytest.mark.parametrize("value", ["a\r\nInjected: 1", "a\nb", "a\rb", "a\x00b", "a\x01b", "\x7f"])
def test_mutable_headers_refuse_control_characters_in_values(value: str) -> None:
    headers = MutableHeaders()
    with pytest.raises(ValueError, match="'x-name'"):
        headers["x-name"] = value
    with pytest.raises(ValueError, match="'x-name'"):
        headers.append("x-name", value)
    assert headers.raw == []


@pytest.mark.parametrize("name", ["", "bad name", "a:b", "x\r\ny", "é", "a\x00"])
def test_mutable_headers_refuse_names_that_are_not_tokens(name: str) -> None:
    with pytest.raises(ValueError, match="Invalid header name"):
        MutableHeaders({name: "v"})


def test_mutable_headers_refuse_non_latin1_and_non_str() -> None:
    headers = MutableHeaders()
    with pytest.raises(ValueError, match="latin-1"):
        headers["x"] = "snow ☃"
    with pytest.raises(ValueError, match="expected str"):
        headers["x"] = 5  # type: ignore[assignment]


def test_mutable_headers_tab_is_allowed() -> None:
    headers = MutableHeaders({"x": "a\tb"})
    assert headers["x"] == "a\tb"


# ------------------------------------------------------------------- MultiMapping


def test_multimapping_last_value_wins_and_getlist() -> None:
    mapping = MultiMapping([("a", 1), ("b", 2), ("a", 3)])
    assert mapping["a"] == 3
    assert mapping.get("a") == 3
    assert mapping.getlist("a") == [1, 3]
    assert mapping.getlist("z") == []
    assert mapping.multi_items() == [("a", 1), ("b", 2), ("a", 3)]
    assert list(mapping) == ["a", "b"]
    assert len(mapping) == 2
    assert "a" in mapping and "z" not in mapping
    assert dict(mapping.items()) == {"a": 3, "b": 2}
    assert repr(mapping) == "MultiMapping([('a', 1), ('b', 2), ('a', 3)])"


def test_multimapping_constructors_and_equality() -> None:
    assert MultiMapping({"a": 1}).multi_items() == [("a", 1)]
    source = MultiMapping([("a", 1), ("a", 2)])
    copy = MultiMapping(source)
    assert copy.multi_items() == [("a", 1), ("a", 2)]
    assert copy == source
    assert MultiMapping([("a", 2), ("a", 1)]) == source  # order-insensitive
    assert MultiMapping([("a", 1)]) != source
    assert MultiMapping() == {}
    assert MultiMapping({"a": 1}) == {"a": 1}
    with pytest.raises(TypeError):
        hash(source)


def test_multimapping_copy_is_independent() -> None:
    source = MutableMultiMapping([("a", 1)])
    copy = MultiMapping(source)
    source.append("a", 2)
    assert copy.getlist("a") == [1]


def test_mutable_multimapping_editing() -> None:
    mapping: MutableMultiMapping[str, int] = MutableMultiMapping([("a", 1), ("b", 2), ("a", 3)])
    mapping["a"] = 10
    assert mapping.multi_items() == [("b", 2), ("a", 10)]
    mapping.append("a", 11)
    assert mapping.getlist("a") == [10, 11] and mapping["a"] == 11
    mapping.setlist("b", [20, 21])
    assert mapping.getlist("b") == [20, 21] and mapping["b"] == 21
    mapping.setlist("b", [])
    assert "b" not in mapping
    del mapping["a"]
    assert len(mapping) == 0
    with pytest.raises(KeyError):
        del mapping["a"]


def test_mutable_multimapping_pops() -> None:
    mapping: MutableMultiMapping[str, int] = MutableMultiMapping([("a", 1), ("b", 2), ("a", 3)])
    assert mapping.pop("a") == 3
    assert "a" not in mapping and mapping.getlist("a") == []
    assert mapping.pop("a", None) is None
    with pytest.raises(KeyError):
        mapping.pop("a")
    mapping.append("c", 4)
    mapping.append("c", 5)
    assert mapping.poplist("c") == [4, 5]
    assert mapping.poplist("c") == []
    mapping.append("b", 6)
    assert mapping.popitem() == ("b", 6)
    assert mapping["b"] == 2
    assert mapping.popitem() == ("b", 2)
    assert "b" not in mapping
    with pytest.raises(KeyError):
        mapping.popitem()


def test_mutable_multimapping_setdefault_update_clear() -> None:
    mapping: MutableMultiMapping[str, int] = MutableMultiMapping([("a", 1)])
    assert mapping.setdefault("a", 9) == 1
    assert mapping.setdefault("b", 2) == 2
    mapping.update([("a", 5), ("a", 6), ("c", 7)])
    assert mapping.getlist("a") == [5, 6]
    assert mapping["c"] == 7
    mapping.update({"b": 3})
    assert mapping.getlist("b") == [3]
    mapping.clear()
    assert len(mapping) == 0 and mapping.multi_items() == []


# -------------------------------------------------------------------- QueryParams


def test_query_params_parse() -> None:
    params = QueryParams("a=1&a=2&b=&c&d=x+y%20z&&e=%zz&=v")
    assert params.multi_items() == [
        ("a", "1"),
        ("a", "2"),
        ("b", ""),
        ("c", ""),
        ("d", "x y z"),
        ("e", "%zz"),
        ("", "v"),
    ]
    assert params["a"] == "2"
    assert params.getlist("a") == ["1", "2"]


def test_query_params_bytes_and_utf8() -> None:
    assert QueryParams(b"name=%C3%A9t%C3%A9")["name"] == "été"
    assert QueryParams("name=été")["name"] == "été"
    assert QueryParams("name=été".encode())["name"] == "été"


def test_query_params_invalid_utf8_is_replaced() -> None:
    assert QueryParams(b"a=%ff%fe&b=\xff")["a"] == "\ufffd\ufffd"
    assert QueryParams(b"a=%ff%fe&b=\xff")["b"] == "\ufffd"
    assert QueryParams("a=\udcff")["a"] == "\ufffd"


def test_query_params_from_mapping_and_pairs_and_str() -> None:
    assert str(QueryParams({"a": "1", "b": "x y"})) == "a=1&b=x+y"
    assert str(QueryParams([("a", "1"), ("a", "&=")])) == "a=1&a=%26%3D"
    assert str(QueryParams()) == ""
    assert str(QueryParams([("k", "/?#")])) == "k=%2F%3F%23"


@given(st.lists(st.tuples(st.text(), st.text()), max_size=8))
def test_query_params_round_trip(pairs: list[tuple[str, str]]) -> None:
    params = QueryParams(pairs)
    assert QueryParams(str(params)).multi_items() == pairs
    assert QueryParams(str(params).encode("ascii")).multi_items() == pairs


@given(st.binary())
def test_query_params_never_raise_on_bytes(data: bytes) -> None:
    params = QueryParams(data)
    assert QueryParams(str(params)).multi_items() == params.multi_items()


# --------------------------------------------------------------------- UploadFile


async def test_upload_file_in_memory_then_on_disk() -> None:
    upload = UploadFile("a.txt", Headers({"content-type": "text/plain"}), max_in_memory_size=10)
    assert upload.filename == "a.txt"
    assert upload.content_type == "text/plain"
    assert upload.in_memory
    assert await upload.awrite(b"12345") == 5
    assert upload.in_memory
    await upload.awrite(b"678901")
    assert not upload.in_memory
    await upload.awrite(b"X")
    assert await upload.aseek(0) == 0
    assert await upload.aread() == b"12345678901X"
    await upload.aseek(2)
    assert await upload.aread(3) == b"345"
    await upload.aclose()
    assert upload.closed


def test_upload_file_sync_api_and_spill_keeps_position() -> None:
    upload = UploadFile("b.bin", max_in_memory_size=4)
    upload.write(b"abc")
    upload.seek(1)
    upload.write(b"ZZZZ")  # spills; the write lands at the current position
    assert not upload.in_memory
    upload.seek(0)
    assert upload.read() == b"aZZZZ"
    assert upload.tell() == 5
    upload.close()
    assert upload.closed


async def test_upload_file_in_memory_async_ops() -> None:
    upload = UploadFile("c")
    await upload.awrite(b"hello")
    await upload.aseek(0)
    assert await upload.aread() == b"hello"
    assert upload.in_memory
    assert upload.content_type == ""
    assert repr(upload) == "UploadFile(filename='c', content_type='')"
    await upload.aclose()
    assert upload.closed


async def test_upload_file_save(tmp_path: Path) -> None:
    upload = UploadFile("d", max_in_memory_size=2)
    upload.write(b"content")
    upload.save(tmp_path / "sync")
    assert (tmp_path / "sync").read_bytes() == b"content"
    assert upload.tell() == 7
    await upload.asave(tmp_path / "async")
    assert (tmp_path / "async").read_bytes() == b"content"
    upload.close()


async def test_form_data_close_closes_every_file() -> None:
    first, second = UploadFile("1"), UploadFile("2", max_in_memory_size=0)
    await second.awrite(b"on disk")
    form = FormData([("f", first), ("text", "value"), ("f", second)])
    assert form["text"] == "value"
    assert form.getlist("f") == [first, second]
    await form.aclose()
    assert first.closed and second.closed


def test_form_data_sync_close_closes_every_file() -> None:
    first, second = UploadFile("1"), UploadFile("2", max_in_memory_size=0)
    second.write(b"on disk")
    form = FormData([("f", first), ("f", second)])
    assert form.close() is None  # upstream's close() is synchronous
    assert first.closed and second.closed


# ----------------------------------------------------------------- ContentType


def test_content_type_parses_options() -> None:
    content_type = ContentType('Multipart/Form-Data; Boundary="a\\"b;c"; charset=UTF-8')
    assert content_type == "multipart/form-data"
    assert content_type == "MULTIPART/form-data"
    assert content_type != "text/plain"
    assert content_type.type == "multipart/form-data"
    assert str(content_type) == 'multipart/form-data; boundary="a\\"b;c"; charset=UTF-8'
    assert content_type.options == {"boundary": 'a"b;c', "charset": "UTF-8"}
    assert hash(content_type) == hash("multipart/form-data")
    assert repr(content_type) == f"<ContentType: {content_type}>"
    assert content_type != 5
    assert content_type in ("application/json", "multipart/form-data")
    assert ContentType(str(content_type)) == content_type


@pytest.mark.parametrize(
    ("value", "media_type", "options"),
    [
        ("", "", {}),
        ("text/plain", "text/plain", {}),
        ("text/plain;", "text/plain", {}),
        ("text/plain; charset", "text/plain", {}),
        ("text/plain; =x; a=", "text/plain", {"a": ""}),
        ('text/plain; a="unterminated', "text/plain", {"a": "unterminated"}),
        ("text/plain; a = 1 ; b=2", "text/plain", {"a": "1", "b": "2"}),
        ('a/b; x="q" junk; y=2', "a/b", {"x": "q", "y": "2"}),
    ],
)
def test_content_type_lenient(value: str, media_type: str, options: dict[str, str]) -> None:
    content_type = ContentType(value)
    assert content_type == media_type
    assert content_type.options == options


@given(st.text())
def test_content_type_never_raises(value: str) -> None:
    content_type = ContentType(value)
    assert isinstance(content_type.options, dict)
    assert content_type == content_type.type
    assert ContentType(str(content_type)).type == content_type.type


# ------------------------------------------------------------------- MediaType


def test_media_type_parse() -> None:
    media = MediaType("Text/HTML; level=1; q=0.7")
    assert (media.type, media.subtype) == ("text", "html")
    assert media.params == {"level": "1"}
    assert media.q == 0.7
    assert media.media_type == "text/html"
    assert (media.main_type, media.sub_type) == ("text", "html")
    assert media.options == {"level": "1", "q": "0.7"}
    assert str(media) == "text/html; level=1; q=0.7"
    assert repr(media) == "<MediaType: text/html; level=1; q=0.7>"
    assert str(MediaType("text")) == "text"
    assert MediaType("*/*").is_all_types and MediaType("*").is_all_types
    assert not MediaType("text/*").is_all_types
    assert media.specificity == 3
    assert MediaType("text/*").specificity == 1
    assert MediaType("*/*").specificity == 0
    assert MediaType("text/html").specificity == 2
    assert MediaType("text/html") == "text/html"
    assert MediaType("text/html") != MediaType("text/html;q=0.5")
    assert MediaType("text/html") != 5


@pytest.mark.parametrize(
    ("quality", "expected"),
    [("0", 0.0), ("1", 1.0), ("0.125", 0.125), ("2", 1.0), ("-1", 0.0), ("x", 1.0), ("nan", 1.0)],
)
def test_media_type_quality(quality: str, expected: float) -> None:
    assert MediaType(f"text/html;q={quality}").q == expected


@pytest.mark.parametrize(
    ("media_range", "candidate", "expected"),
    [
        ("*/*", "image/png", True),
        ("*", "image/png", True),
        ("image/*", "image/png", True),
        ("image/*", "text/png", False),
        ("image/png", "image/png", True),
        ("image/png", "IMAGE/PNG", True),
        ("image/png", "image/gif", False),
        ("image/png", "image/*", True),
        ("text/html", "application/json", False),
        ("garbage", "text/html", False),
    ],
)
def test_media_type_match(media_range: str, candidate: str, expected: bool) -> None:
    assert MediaType(media_range).match(candidate) is expected


@given(st.text(), st.text())
def test_media_type_never_raises(value: str, other: str) -> None:
    media = MediaType(value)
    assert 0.0 <= media.q <= 1.0
    media.match(other)
    str(media)


def test_url_of_websocket_scope_without_scheme_defaults_to_ws() -> None:
    scope = {
        "type": "websocket",
        "path": "/chat",
        "query_string": b"",
        "headers": [(b"host", b"example.com")],
    }
    assert str(URL(scope=scope)) == "ws://example.com/chat"
    assert str(URL(scope={**scope, "type": "http"})) == "http://example.com/chat"
