"""Upstream baize 0.23.1's public API of baize.datastructures, as this implementation spells it.

Query-parameter helpers and the masked repr of ``URL``, ``URL(environ=...)``, reprs,
``Headers`` from pairs, upstream's header error messages, ``UploadFile.spool_max_size``
and ``.file``.
"""

from __future__ import annotations

import pytest

from baize.datastructures import URL, Headers, MutableHeaders, QueryParams, UploadFile


@pytest.mark.parametrize(
    ("url", "params", "expected"),
    [
        ("https://h/p?page=3", {"page": 4}, "https://h/p?page=4"),
        ("https://h/p?page=4", {"q": "a b"}, "https://h/p?page=4&q=a+b"),
        ("https://h/p?a=1&a=2&b=3", {"a": 9}, "https://h/p?a=9&b=3"),
        ("https://h/p", {"x": ""}, "https://h/p?x="),
        ("/p?keep=&x=1#frag", {"x": 2}, "/p?keep=&x=2#frag"),
    ],
)
def test_url_include_query_params(url: str, params: dict[str, object], expected: str) -> None:
    assert str(URL(url).include_query_params(**params)) == expected


def test_url_replace_and_remove_query_params() -> None:
    url = URL("https://h/p?a=1&b=2&a=3")
    assert str(url.replace_query_params(order="name", n=2)) == "https://h/p?order=name&n=2"
    assert str(url.remove_query_params("a")) == "https://h/p?b=2"
    assert str(url.remove_query_params("a", "b", "missing")) == "https://h/p"
    assert str(url) == "https://h/p?a=1&b=2&a=3"  # the original is untouched


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://h/p", "https://h/p"),
        ("https://user@h/p", "https://user@h/p"),
        ("https://user:secret@h:8/p", "https://user:********@h:8/p"),
        ("https://user:@h/p", "https://user:********@h/p"),
        ("https://a:b:c@[::1]/p?q", "https://a:********@[::1]/p?q"),
    ],
)
def test_url_repr_masks_the_password(url: str, shown: str) -> None:
    assert repr(URL(url)) == f"URL({shown!r})"
    assert str(URL(url)) == url  # only the repr hides it


def test_url_from_a_wsgi_environ() -> None:
    environ = {
        "wsgi.url_scheme": "https",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8443",
        "SCRIPT_NAME": "/app",
        "PATH_INFO": "/caf\u00c3\u00a9",  # PEP 3333: UTF-8 bytes decoded as latin-1
        "QUERY_STRING": "a=1",
    }
    assert str(URL(environ=environ)) == "https://127.0.0.1:8443/app/caf%C3%A9?a=1"
    assert str(URL(environ={**environ, "HTTP_HOST": "example.org"})) == (
        "https://example.org/app/caf%C3%A9?a=1"
    )
    with pytest.raises(ValueError, match="not several"):
        URL(environ=environ, scope={"path": "/", "headers": []})


def test_query_params_repr_is_the_query_string() -> None:
    assert repr(QueryParams("a=1&a=2&b=x y")) == "QueryParams('a=1&a=2&b=x+y')"


def test_headers_from_pairs_join_duplicates() -> None:
    headers = Headers([("A", "1"), ("a", "2"), ("B", "3")])
    assert headers["a"] == "1, 2"
    assert headers.getlist("A") == ["1", "2"]
    assert dict(headers) == {"a": "1, 2", "b": "3"}
    mutable = MutableHeaders([("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")])
    assert mutable.getlist("set-cookie") == ["a=1", "b=2"]


@pytest.mark.parametrize("value", ["has\r", "has\n", "has\r\n", "nul\x00"])
def test_mutable_headers_refuse_controls_with_upstreams_message(value: str) -> None:
    with pytest.raises(ValueError, match="Header values must not contain control characters"):
        MutableHeaders()["x"] = value
    with pytest.raises(ValueError, match="Header names must not contain control characters"):
        MutableHeaders()[value] = "v"


def test_upload_file_spool_max_size_is_the_class_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert UploadFile.spool_max_size == 1024 * 1024
    monkeypatch.setattr(UploadFile, "spool_max_size", 8)
    small = UploadFile("f")
    small.write(b"12345678")
    assert small.in_memory
    small.write(b"9")
    assert not small.in_memory  # moved to disk past the class-wide size
    assert small.file.tell() == 9
    explicit = UploadFile("g", max_in_memory_size=100)
    explicit.write(b"x" * 50)
    assert explicit.in_memory
    small.close()
    explicit.close()


def test_upload_file_file_is_the_live_file_object() -> None:
    upload = UploadFile("f", max_in_memory_size=4)
    upload.write(b"ab")
    in_memory = upload.file
    upload.write(b"cdef")
    assert upload.file is not in_memory and in_memory.closed
    upload.seek(0)
    assert upload.file.read() == b"abcdef"
    upload.close()
