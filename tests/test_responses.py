"""Response, the small responses, RedirectResponse and StreamResponse, through ASGI calls."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest
from hypothesis import given
from hypothesis import strategies as st

from baize.asgi import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    SmallResponse,
    StreamResponse,
)
from baize.datastructures import URL, MutableHeaders
from baize.typing import Message


def scope(method: str = "GET") -> dict[str, Any]:
    return {"type": "http", "method": method, "path": "/", "headers": []}


async def never_disconnects() -> Message:
    await anyio.sleep_forever()
    raise AssertionError("unreachable")


async def call(app: Any, method: str = "GET") -> list[Message]:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    with anyio.fail_after(10):
        await app(scope(method), never_disconnects, send)
    return sent


def header_list(start: Message) -> list[tuple[bytes, bytes]]:
    return [(bytes(name), bytes(value)) for name, value in start["headers"]]


def body_of(sent: list[Message]) -> bytes:
    assert sent[-1].get("more_body", False) is False
    return b"".join(m.get("body", b"") for m in sent[1:])


# -------------------------------------------------------------------- Response


async def test_bare_response_has_empty_body_and_zero_length() -> None:
    sent = await call(Response())
    assert sent[0]["type"] == "http.response.start"
    assert sent[0]["status"] == 200
    assert header_list(sent[0]) == [(b"content-length", b"0")]
    assert body_of(sent) == b""


@pytest.mark.anyio  # the conftest marks too late for parametrized tests
@pytest.mark.parametrize("status", [204, 304])
async def test_bare_response_without_content_status(status: int) -> None:
    sent = await call(Response(status))
    assert sent[0]["status"] == status
    assert header_list(sent[0]) == []
    assert body_of(sent) == b""


async def test_response_headers_are_mutable_headers() -> None:
    response = Response(200, {"X-One": "1"})
    response.headers["x-two"] = "2"
    response.headers.append("x-two", "3")
    sent = await call(response)
    assert header_list(sent[0]) == [
        (b"x-one", b"1"),
        (b"x-two", b"2"),
        (b"x-two", b"3"),
        (b"content-length", b"0"),
    ]


@pytest.mark.parametrize("value", ["a\r\nb", "a\nb", "a\rb", "a\x00b"])
def test_header_injection_refused(value: str) -> None:
    with pytest.raises(ValueError):
        Response(200, {"x-test": value})
    with pytest.raises(ValueError):
        PlainTextResponse("x", headers={"x-test": value})
    response = Response()
    with pytest.raises(ValueError):
        response.headers["x-test"] = value


async def test_set_cookie_one_line_each() -> None:
    response = Response()
    response.set_cookie("a", "1")
    response.set_cookie(
        "b", "2", max_age=60, path="/p", domain="example.org", secure=True, httponly=True,
        samesite="strict",
    )  # fmt: skip
    sent = await call(response)
    cookies = [value for name, value in header_list(sent[0]) if name == b"set-cookie"]
    assert cookies == [
        b"a=1; path=/; samesite=lax",
        b"b=2; max-age=60; domain=example.org; path=/p; httponly; secure; samesite=strict",
    ]


async def test_delete_cookie() -> None:
    response = Response()
    response.delete_cookie("session", path="/app")
    sent = await call(response)
    (cookie,) = [value for name, value in header_list(sent[0]) if name == b"set-cookie"]
    parts = cookie.decode().split("; ")
    assert parts[0] == "session="
    assert "max-age=0" in parts
    assert "expires=Thu, 01 Jan 1970 00:00:00 GMT" in parts
    assert "path=/app" in parts


async def test_delete_cookie_takes_upstreams_value_parameter() -> None:
    response = Response()
    response.delete_cookie("session", "ignored", "/app")  # (key, value, path), as upstream
    sent = await call(response)
    (cookie,) = [value for name, value in header_list(sent[0]) if name == b"set-cookie"]
    assert cookie.startswith(b"session=; ") and b"; path=/app;" in cookie


def test_cookie_injection_refused() -> None:
    with pytest.raises(ValueError):
        Response().set_cookie("a", "x\r\nSet-Cookie: evil=1")
    with pytest.raises(ValueError):
        Response().set_cookie("a", "1", path="/\n")


# ------------------------------------------------------------- small responses


async def test_plain_text_response() -> None:
    sent = await call(PlainTextResponse("héllo"))
    assert sent[0]["status"] == 200
    assert header_list(sent[0]) == [
        (b"content-length", b"6"),
        (b"content-type", b"text/plain; charset=utf-8"),
    ]
    assert body_of(sent) == "héllo".encode()


async def test_html_response_bytes_and_charset() -> None:
    sent = await call(HTMLResponse("é", charset="latin-1"))
    headers = dict(header_list(sent[0]))
    assert headers[b"content-type"] == b"text/html; charset=latin-1"
    assert body_of(sent) == b"\xe9"
    sent = await call(HTMLResponse(b"<p>x</p>", status_code=404))
    assert sent[0]["status"] == 404
    assert dict(header_list(sent[0]))[b"content-length"] == b"8"
    assert body_of(sent) == b"<p>x</p>"


async def test_small_response_custom_media_type_and_user_headers() -> None:
    response = PlainTextResponse(
        "x", headers={"Content-Type": "text/csv", "Content-Length": "99"}, media_type="text/x"
    )
    sent = await call(response)
    headers = header_list(sent[0])
    assert (b"content-type", b"text/csv") in headers
    assert [v for k, v in headers if k == b"content-length"] == [b"1"]
    sent = await call(PlainTextResponse("x", media_type="application/x-thing"))
    assert dict(header_list(sent[0]))[b"content-type"] == b"application/x-thing"


def test_small_response_is_abstract() -> None:
    with pytest.raises(TypeError):
        SmallResponse("x")  # type: ignore[abstract]


def test_media_type_injection_refused() -> None:
    with pytest.raises(ValueError):
        PlainTextResponse("x", media_type="text/plain\r\nx-evil: 1")


async def test_json_response_compact_utf8() -> None:
    content = {"name": "café", "list": [1, 2.5, None, True]}
    sent = await call(JSONResponse(content))
    headers = dict(header_list(sent[0]))
    assert headers[b"content-type"] == b"application/json"
    body = body_of(sent)
    assert body == '{"name":"café","list":[1,2.5,null,true]}'.encode()
    assert headers[b"content-length"] == str(len(body)).encode()
    assert json.loads(body) == content


async def test_json_response_kwargs_override_defaults() -> None:
    sent = await call(JSONResponse({"b": 1, "a": "é"}, sort_keys=True, ensure_ascii=True))
    assert body_of(sent) == b'{"a":"\\u00e9","b":1}'
    sent = await call(JSONResponse([1], 201, {"x-a": "b"}, indent=1))
    assert sent[0]["status"] == 201
    assert body_of(sent) == b"[\n 1\n]"


def test_json_response_refuses_nan() -> None:
    with pytest.raises(ValueError):
        JSONResponse(float("nan"))


_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(_json_values)
def test_json_response_body_is_json_dumps_with_the_defaults(value: Any) -> None:
    expected = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    assert JSONResponse(value).body == expected.encode()


def test_json_response_errors_are_json_dumps_errors() -> None:
    circular: list[Any] = []
    circular.append(circular)
    with pytest.raises(ValueError, match="Circular reference detected"):
        JSONResponse(circular)
    with pytest.raises(TypeError, match="Object of type object is not JSON serializable"):
        JSONResponse({"a": object()})
    with pytest.raises(TypeError, match="keys must be str"):
        JSONResponse({(1, 2): 3})
    with pytest.raises(ValueError, match="Out of range float"):
        JSONResponse([1, float("inf")])
    shared = [1]
    assert JSONResponse([shared, shared]).body == b"[[1],[1]]"  # not a circle
    assert JSONResponse({"a": 1}).body == b'{"a":1}'  # nothing left over from the errors


@pytest.mark.anyio  # the conftest marks too late for parametrized tests
@pytest.mark.parametrize(
    "response",
    [
        PlainTextResponse("hello"),
        HTMLResponse("<p>"),
        JSONResponse({"a": 1}),
        RedirectResponse("/x"),
        Response(),
    ],
    ids=lambda r: type(r).__name__,
)
async def test_head_gets_headers_and_no_body(response: Response) -> None:
    get = await call(response, "GET")
    head = await call(response, "HEAD")
    assert header_list(head[0]) == header_list(get[0])
    assert body_of(head) == b""


@pytest.mark.anyio  # the conftest marks too late for parametrized tests
@pytest.mark.parametrize("status", [204, 304])
async def test_small_response_no_content_statuses(status: int) -> None:
    for response in (PlainTextResponse("ignored", status), JSONResponse({"a": 1}, status)):
        sent = await call(response)
        assert sent[0]["status"] == status
        assert b"content-length" not in dict(header_list(sent[0]))
        assert body_of(sent) == b""


# --------------------------------------------------------------------- redirect


@pytest.mark.anyio  # the conftest marks too late for parametrized tests
@pytest.mark.parametrize(
    ("url", "location"),
    [
        ("/x", b"/x"),
        ("https://example.org/a?b=c#d", b"https://example.org/a?b=c#d"),
        ("/café", b"/caf%C3%A9"),
        ("/a b", b"/a%20b"),
        ("/already%20encoded/%E2%82%AC", b"/already%20encoded/%E2%82%AC"),
        ("/r?q=日本&x=[1]@!$'()*+,;=:", b"/r?q=%E6%97%A5%E6%9C%AC&x=[1]@!$'()*+,;=:"),
        (URL("http://example.org/ü"), b"http://example.org/%C3%BC"),
    ],
)
async def test_redirect_location(url: Any, location: bytes) -> None:
    sent = await call(RedirectResponse(url))
    assert sent[0]["status"] == 307
    headers = dict(header_list(sent[0]))
    assert headers[b"location"] == location
    assert headers[b"content-length"] == b"0"
    assert body_of(sent) == b""


async def test_redirect_status_and_headers() -> None:
    sent = await call(RedirectResponse("/y", 301, {"x-a": "1"}))
    assert sent[0]["status"] == 301
    assert (b"x-a", b"1") in header_list(sent[0])


@pytest.mark.parametrize(
    ("url", "location"),
    [
        ("/a\r\nSet-Cookie: x=1", "/a%0D%0ASet-Cookie:%20x=1"),
        ("/a\nb", "/a%0Ab"),
        ("/a\rb", "/a%0Db"),
        ("/a\x00b", "/a%00b"),
    ],
)
def test_redirect_percent_encodes_cr_lf_nul(url: str, location: str) -> None:
    # as upstream's iri_to_uri: the controls never reach the field
    assert RedirectResponse(url).headers["location"] == location


# ---------------------------------------------------------------------- stream


async def test_stream_response_sends_chunks_as_they_come() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"one"
        yield b"two"

    sent = await call(StreamResponse(chunks(), headers={"x-a": "b"}))
    assert sent[0]["status"] == 200
    headers = dict(header_list(sent[0]))
    assert headers[b"content-type"] == b"application/octet-stream"
    assert b"content-length" not in headers
    assert [(m["body"], m.get("more_body", False)) for m in sent[1:]] == [
        (b"one", True),
        (b"two", True),
        (b"", False),
    ]


async def test_stream_response_content_type_and_status() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"a,b\n"

    sent = await call(StreamResponse(chunks(), 201, content_type="text/csv"))
    assert sent[0]["status"] == 201
    assert dict(header_list(sent[0]))[b"content-type"] == b"text/csv"


async def test_stream_response_accepts_any_async_iterable() -> None:
    class Chunks:
        def __aiter__(self) -> AsyncIterator[bytes]:
            return self._gen()

        async def _gen(self) -> AsyncIterator[bytes]:
            yield b"x"

    assert body_of(await call(StreamResponse(Chunks()))) == b"x"


async def test_stream_response_disconnect_closes_iterator() -> None:
    cleaned_up = False
    first_sent = anyio.Event()

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal cleaned_up
        try:
            yield b"first"
            await anyio.sleep_forever()
        finally:
            cleaned_up = True

    async def receive() -> Message:
        await first_sent.wait()
        return {"type": "http.disconnect"}

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)
        if message.get("body"):
            first_sent.set()

    with anyio.fail_after(10):
        await StreamResponse(chunks())(scope(), receive, send)
    assert cleaned_up
    assert [m.get("body") for m in sent[1:]] == [b"first"]


async def test_stream_response_disconnect_while_send_blocks() -> None:
    cleaned_up = False
    disconnected = anyio.Event()

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal cleaned_up
        try:
            while True:
                yield b"x"
        finally:
            cleaned_up = True

    async def receive() -> Message:
        await disconnected.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message.get("body"):
            disconnected.set()
            await anyio.sleep_forever()

    with anyio.fail_after(10):
        await StreamResponse(chunks())(scope(), receive, send)
    assert cleaned_up


async def test_stream_response_ignores_request_messages_before_disconnect() -> None:
    messages = iter(
        [
            {"type": "http.request", "body": b"ignored", "more_body": True},
            {"type": "http.request", "body": b"", "more_body": False},
        ]
    )
    done = anyio.Event()

    async def receive() -> Message:
        for message in messages:
            return message
        await done.wait()
        return {"type": "http.disconnect"}

    async def chunks() -> AsyncIterator[bytes]:
        yield b"a"
        yield b"b"

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await StreamResponse(chunks())(scope(), receive, send)
    assert body_of(sent) == b"ab"


async def test_stream_response_finishes_with_a_receive_that_never_blocks() -> None:
    """A server repeating request messages forever must not starve the body."""
    received = 0

    async def receive() -> Message:
        nonlocal received
        received += 1
        return {"type": "http.request", "body": b"", "more_body": False}

    async def chunks() -> AsyncIterator[bytes]:
        for chunk in (b"a", b"b", b"c"):
            await anyio.sleep(0)
            yield chunk

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    with anyio.fail_after(5):
        await StreamResponse(chunks())(scope(), receive, send)
    assert body_of(sent) == b"abc"
    assert sent[-1]["more_body"] is False


async def test_stream_response_send_oserror_stops_quietly() -> None:
    cleaned_up = False

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal cleaned_up
        try:
            while True:
                yield b"x"
        finally:
            cleaned_up = True

    calls = 0

    async def send(message: Message) -> None:
        nonlocal calls
        calls += 1
        if calls > 3:
            raise OSError("client gone")

    with anyio.fail_after(10):
        await StreamResponse(chunks())(scope(), never_disconnects, send)
    assert cleaned_up
    assert calls == 4


async def test_stream_response_iterator_error_propagates_unended() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"partial"
        raise KeyError("boom")

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    with pytest.raises(KeyError, match="boom"):
        await StreamResponse(chunks())(scope(), never_disconnects, send)
    # the body is not ended: the server aborts and the client sees a truncated transfer
    assert all(m.get("more_body") for m in sent[1:])


async def test_headers_edited_after_construction_are_sent() -> None:
    response = PlainTextResponse("x")
    response.headers["x-late"] = "1"
    response.set_cookie("c", "v")
    del response.headers["content-type"]
    sent = await call(response)
    assert header_list(sent[0]) == [
        (b"content-length", b"1"),
        (b"x-late", b"1"),
        (b"set-cookie", b"c=v; path=/; samesite=lax"),
    ]


async def test_headers_can_be_replaced() -> None:
    response = Response()
    response.headers = MutableHeaders({"x-new": "1"})
    response.headers["x-more"] = "2"
    sent = await call(response)
    assert header_list(sent[0]) == [(b"x-new", b"1"), (b"x-more", b"2"), (b"content-length", b"0")]


def test_json_response_without_the_c_encoder(monkeypatch: pytest.MonkeyPatch) -> None:
    import baize.asgi.responses._small as responses

    monkeypatch.setattr(responses, "_C_MAKE_ENCODER", None)
    assert JSONResponse({"a": ["é", 1.5, None]}).body == '{"a":["é",1.5,null]}'.encode()
    with pytest.raises(ValueError):
        JSONResponse(float("inf"))
