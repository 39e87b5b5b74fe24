# Over 700 lines on purpose: the unit tests of one module, baize/asgi/requests.py, mirrored one to
# one.
"""Tests of baize.asgi.requests: HTTPConnection, Request and ClientDisconnect through ASGI calls."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import anyio
import pytest
from hypothesis import given
from hypothesis import strategies as st

from baize.asgi import ClientDisconnect, HTTPConnection, Request
from baize.datastructures import URL, Address
from baize.exceptions import HTTPException, MalformedJSON, UnsupportedMediaType
from baize.typing import Message, Receive, Scope, Send

pytestmark = pytest.mark.anyio  # parametrized async tests need the marker at collection


def make_scope(
    method: str = "GET",
    path: str = "/",
    query_string: bytes = b"",
    headers: Iterable[tuple[str, str]] = (),
    **extra: Any,
) -> Scope:
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 51000),
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query_string,
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers],
    }
    scope.update(extra)
    return scope


def body_messages(*chunks: bytes) -> list[Message]:
    """``http.request`` messages carrying ``chunks``, the last one with more_body False."""
    if not chunks:
        return [{"type": "http.request", "body": b"", "more_body": False}]
    return [
        {"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1}
        for index, chunk in enumerate(chunks)
    ]


def list_receive(messages: Iterable[Message]) -> Receive:
    """A receive that hands out ``messages`` and then blocks as a live server would."""
    pending = list(messages)

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    return receive


def channel_receive(messages: Iterable[Message]) -> Receive:
    """A receive over an anyio memory stream: checkpoints before each message (like trio)."""
    items = list(messages)
    sender, receiver = anyio.create_memory_object_stream[Message](len(items) + 1)
    for item in items:
        sender.send_nowait(item)

    async def receive() -> Message:
        return await receiver.receive()

    receive.sender = sender  # type: ignore[attr-defined]
    return receive


Handler = Callable[[Request], Awaitable[Any]]


async def call(
    handler: Handler, scope: Scope, receive: Receive, *, request_class: type[Request] = Request
) -> tuple[int, Any]:
    """Run ``handler`` inside a real ASGI app and return (status, JSON body) it sent.

    HTTPExceptions become their status code and content, ClientDisconnect becomes 499.
    """
    sent: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        request = request_class(scope, receive, send)
        try:
            status, result = 200, await handler(request)
        except HTTPException as error:
            status, result = error.status_code, error.content
        except ClientDisconnect:
            status, result = 499, None
        finally:
            await request.close()
        body = json.dumps(result).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def send(message: Message) -> None:
        sent.append(message)

    with anyio.fail_after(10):
        await app(scope, receive, send)
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    return sent[0]["status"], json.loads(sent[1]["body"])


# ------------------------------------------------------------------ HTTPConnection


def test_connection_is_a_read_only_mapping_over_the_scope() -> None:
    scope = make_scope(path="/p")
    conn = HTTPConnection(scope)
    assert conn["path"] == "/p"
    assert conn.get("missing") is None
    assert set(conn.keys()) == set(scope)
    assert len(conn) == len(scope)
    assert dict(conn.items()) == scope
    assert conn == HTTPConnection(dict(scope))
    assert conn != HTTPConnection(make_scope(path="/other"))
    assert conn != scope  # never equal to a plain dict (upstream)
    with pytest.raises(TypeError):
        conn["path"] = "/x"  # type: ignore[index]
    with pytest.raises(TypeError):
        hash(conn)


def test_connection_client() -> None:
    assert HTTPConnection(make_scope()).client == Address("127.0.0.1", 51000)
    assert HTTPConnection(make_scope(client=None)).client == Address(None, None)
    scope = make_scope()
    del scope["client"]
    assert HTTPConnection(scope).client == (None, None)


def test_connection_url() -> None:
    scope = make_scope(
        path="/api/items",
        root_path="/api",
        query_string=b"a=1",
        headers=[("host", "example.com:8080")],
    )
    conn = HTTPConnection(scope)
    assert conn.url == "http://example.com:8080/api/items?a=1"
    assert isinstance(conn.url, URL)
    assert conn.url is conn.url
    scope = make_scope(path="/items", root_path="/api", scheme="https", server=("::1", 443))
    assert HTTPConnection(scope).url == "https://[::1]/api/items"


def test_connection_path_params() -> None:
    assert HTTPConnection(make_scope()).path_params == {}
    assert HTTPConnection(make_scope(path_params={"id": 3})).path_params == {"id": 3}


def test_connection_query_params() -> None:
    conn = HTTPConnection(make_scope(query_string=b"a=1&a=2&b=&c=%E2%82%AC&d=%ff"))
    assert conn.query_params.getlist("a") == ["1", "2"]
    assert conn.query_params["b"] == ""
    assert conn.query_params["c"] == "€"
    assert conn.query_params["d"] == "\ufffd"
    assert conn.query_params is conn.query_params


def test_connection_headers() -> None:
    conn = HTTPConnection(make_scope(headers=[("X-A", "1"), ("x-a", "2"), ("Host", "h")]))
    assert conn.headers["x-a"] == "1, 2"
    assert conn.headers.getlist("X-A") == ["1", "2"]
    assert conn.headers is conn.headers


def test_connection_equality_needs_the_same_class_receive_and_send() -> None:
    scope = make_scope()

    async def other_receive() -> Message:
        return {"type": "http.disconnect"}

    assert HTTPConnection(scope) == HTTPConnection(dict(scope))
    assert HTTPConnection(scope) != HTTPConnection(scope, other_receive)
    assert Request(scope) == Request(scope)
    assert HTTPConnection(scope) != Request(scope)


def test_connection_accepted_types_in_header_order() -> None:
    accept = "*/*;q=0.1, text/*;q=0.5, text/html, application/json;q=0.5, text/html;level=1"
    conn = HTTPConnection(make_scope(headers=[("accept", accept)]))
    assert [str(media) for media in conn.accepted_types] == [
        "*/*; q=0.1",
        "text/*; q=0.5",
        "text/html",
        "application/json; q=0.5",
        "text/html; level=1",
    ]
    assert conn.accepted_types is conn.accepted_types
    assert [str(media) for media in HTTPConnection(make_scope()).accepted_types] == ["*/*"]


def test_connection_preferred_types_by_q_then_specificity() -> None:
    accept = "*/*;q=0.1, text/*;q=0.5, text/html, application/json;q=0.5, text/html;level=1"
    conn = HTTPConnection(make_scope(headers=[("accept", accept)]))
    assert [media.media_type for media in conn.preferred_types] == [
        "text/html",
        "text/html",
        "application/json",
        "text/*",
        "*/*",
    ]
    assert conn.preferred_types[0].params == {"level": "1"}


def test_connection_accepted_types_from_several_lines_and_junk() -> None:
    conn = HTTPConnection(
        make_scope(headers=[("accept", "text/plain, ,"), ("accept", 'a/b; x="1,2"; q=oops')])
    )
    assert [media.media_type for media in conn.accepted_types] == ["text/plain", "a/b"]
    assert conn.accepted_types[1].params == {"x": "1,2"}
    # a bad q counts as 1; a range with parameters is more specific
    assert [media.media_type for media in conn.preferred_types] == ["a/b", "text/plain"]


@pytest.mark.parametrize(
    ("accept", "media_type", "expected"),
    [
        (None, "anything/at-all", True),
        ("*/*", "application/json", True),
        ("text/*", "text/html", True),
        ("text/*", "application/json", False),
        ("application/json", "application/json", True),
        ("Application/JSON", "application/json", True),
        ("text/html", "application/json", False),
        ("text/*;q=0, text/html", "text/html", True),
        ("text/*;q=0, text/html", "text/plain", False),
        ("*/*;q=0", "text/plain", False),
        ("text/html;level=1", "text/html", False),
        ("text/html;level=1", "text/html;level=1", True),
        ("", "text/html", False),
    ],
)
def test_connection_accepts(accept: str | None, media_type: str, expected: bool) -> None:
    headers = [] if accept is None else [("accept", accept)]
    assert HTTPConnection(make_scope(headers=headers)).accepts(media_type) is expected


def test_connection_content_type() -> None:
    conn = HTTPConnection(make_scope(headers=[("content-type", "Text/HTML; Charset=UTF-8")]))
    assert conn.content_type == "text/html"
    assert conn.content_type.options == {"charset": "UTF-8"}
    assert HTTPConnection(make_scope()).content_type == ""


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], None),
        (["42"], 42),
        (["0"], 0),
        ([" 7 "], 7),
        (["5, 5"], 5),
        (["5", "5"], 5),
        (["5, 6"], None),
        (["-1"], None),
        (["1e3"], None),
        (["abc"], None),
        (["³"], None),
        ([""], None),
    ],
)
def test_connection_content_length(values: list[str], expected: int | None) -> None:
    conn = HTTPConnection(make_scope(headers=[("content-length", v) for v in values]))
    assert conn.content_length == expected


def test_connection_cookies_from_every_cookie_header() -> None:
    conn = HTTPConnection(
        make_scope(headers=[("cookie", "a=1; junk; b=2"), ("cookie", "c=3; a=other")])
    )
    # upstream's rules: a chunk without "=" is kept under "", the last value wins
    assert conn.cookies == {"a": "other", "": "junk", "b": "2", "c": "3"}
    assert conn.cookies is conn.cookies
    assert HTTPConnection(make_scope()).cookies == {}


@given(st.lists(st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=255)), max_size=3))
def test_connection_cookies_never_raise(lines: list[str]) -> None:
    conn = HTTPConnection(make_scope(headers=[("cookie", line) for line in lines]))
    assert isinstance(conn.cookies, dict)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Sun, 06 Nov 1994 08:49:37 GMT", datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)),
        (
            "Sun, 06 Nov 1994 10:49:37 +0200",
            datetime(1994, 11, 6, 10, 49, 37, tzinfo=timezone(timedelta(hours=2))),
        ),
        ("Sun, 06 Nov 1994 08:49:37 -0000", datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)),
        ("not a date", None),
        ("", None),
    ],
)
def test_connection_date(value: str, expected: datetime | None) -> None:
    date = HTTPConnection(make_scope(headers=[("date", value)])).date
    assert date == expected
    if date is not None:
        assert date.tzinfo is not None
    assert HTTPConnection(make_scope()).date is None


def test_connection_referrer() -> None:
    conn = HTTPConnection(make_scope(headers=[("referer", "https://example.com/from?x=1")]))
    assert conn.referrer == "https://example.com/from?x=1"
    assert conn.referrer is not None and conn.referrer.hostname == "example.com"
    assert HTTPConnection(make_scope()).referrer is None


# ------------------------------------------------------------------------ Request


async def test_request_method_is_upper_case() -> None:
    async def handler(request: Request) -> Any:
        return request.method

    assert await call(handler, make_scope(method="patch"), list_receive([])) == (200, "PATCH")


async def test_request_body_joins_chunks_and_is_cached() -> None:
    async def handler(request: Request) -> Any:
        first = await request.body
        second = await request.body
        assert first is second
        chunks = [chunk async for chunk in request.stream()]
        assert chunks == [first]
        return first.decode()

    receive = list_receive(body_messages(b"hello", b"", b" ", b"world"))
    assert await call(handler, make_scope("POST"), receive) == (200, "hello world")


async def test_request_empty_body() -> None:
    async def handler(request: Request) -> Any:
        return [(await request.body).decode(), [c.decode() async for c in request.stream()]]

    assert await call(handler, make_scope("POST"), list_receive(body_messages())) == (
        200,
        ["", [""]],
    )


async def test_request_body_message_without_body_key() -> None:
    async def handler(request: Request) -> Any:
        return (await request.body).decode()

    receive = list_receive([{"type": "http.request"}])
    assert await call(handler, make_scope("POST"), receive) == (200, "")


async def test_request_stream_yields_each_chunk() -> None:
    async def handler(request: Request) -> Any:
        return [chunk.decode() async for chunk in request.stream()]

    receive = list_receive(body_messages(b"a", b"", b"bc", b"d"))
    assert await call(handler, make_scope("POST"), receive) == (200, ["a", "bc", "d"])


@pytest.mark.parametrize("reader", ["body", "json", "form"])
async def test_request_body_after_stream_consumed_raises_runtime_error(reader: str) -> None:
    async def handler(request: Request) -> Any:
        async for _ in request.stream():
            pass
        with pytest.raises(RuntimeError, match="consumed"):
            await getattr(request, reader)
        with pytest.raises(RuntimeError, match="consumed"):
            async for _ in request.stream():
                pass
        return "ok"

    scope = make_scope("POST", headers=[("content-type", "application/json")])
    if reader == "form":
        scope = make_scope("POST", headers=[("content-type", "application/x-www-form-urlencoded")])
    receive = list_receive(body_messages(b"{}"))
    assert await call(handler, scope, receive) == (200, "ok")


async def test_request_partly_read_stream_also_counts_as_consumed() -> None:
    async def handler(request: Request) -> Any:
        async for _ in request.stream():
            break
        with pytest.raises(RuntimeError, match="consumed"):
            await request.body
        return "ok"

    receive = list_receive(body_messages(b"a", b"b"))
    assert await call(handler, make_scope("POST"), receive) == (200, "ok")


async def test_request_disconnect_mid_body_raises_client_disconnect() -> None:
    async def handler(request: Request) -> Any:
        try:
            await request.body
        except ClientDisconnect as error:
            assert "disconnected" in str(error)
            with pytest.raises(ClientDisconnect):
                await request.body
            assert await request.is_disconnected()
            raise
        return "unreachable"

    messages = [*body_messages(b"a", b"b")[:1], {"type": "http.disconnect"}]
    assert await call(handler, make_scope("POST"), list_receive(messages)) == (499, None)


async def test_request_disconnect_while_streaming() -> None:
    seen: list[bytes] = []

    async def handler(request: Request) -> Any:
        async for chunk in request.stream():
            seen.append(chunk)
        return "unreachable"

    messages = [{"type": "http.request", "body": b"x", "more_body": True}]
    messages.append({"type": "http.disconnect"})
    assert await call(handler, make_scope("POST"), list_receive(messages)) == (499, None)
    assert seen == [b"x"]


async def test_request_ignores_unknown_message_types_in_body() -> None:
    async def handler(request: Request) -> Any:
        return (await request.body).decode()

    messages = [{"type": "http.future"}, *body_messages(b"ok")]
    assert await call(handler, make_scope("POST"), list_receive(messages)) == (200, "ok")


# ------------------------------------------------------------- is_disconnected


async def test_is_disconnected_false_while_the_client_is_there() -> None:
    async def handler(request: Request) -> Any:
        with anyio.fail_after(1):
            return await request.is_disconnected()

    assert await call(handler, make_scope(), list_receive([])) == (200, False)
    assert await call(handler, make_scope(), channel_receive([])) == (200, False)


@pytest.mark.parametrize("make_receive", [list_receive, channel_receive])
async def test_is_disconnected_keeps_body_messages_for_stream(
    make_receive: Callable[[Iterable[Message]], Receive],
) -> None:
    async def handler(request: Request) -> Any:
        flags = [await request.is_disconnected() for _ in range(3)]
        chunks = [chunk.decode() async for chunk in request.stream()]
        return [flags, chunks]

    receive = make_receive(body_messages(b"one", b"two", b"three", b"four"))
    assert await call(handler, make_scope("POST"), receive) == (
        200,
        [[False, False, False], ["one", "two", "three", "four"]],
    )


@pytest.mark.parametrize("make_receive", [list_receive, channel_receive])
async def test_is_disconnected_sees_the_disconnect(
    make_receive: Callable[[Iterable[Message]], Receive],
) -> None:
    calls = 0

    def counting(receive: Receive) -> Receive:
        async def wrapper() -> Message:
            nonlocal calls
            calls += 1
            return await receive()

        return wrapper

    async def handler(request: Request) -> Any:
        await request.body
        first = await request.is_disconnected()
        before = calls
        second = await request.is_disconnected()
        assert calls == before  # known: no more receive calls
        return [first, second]

    receive = counting(make_receive([*body_messages(b"x"), {"type": "http.disconnect"}]))
    assert await call(handler, make_scope("POST"), receive) == (200, [True, True])


async def test_is_disconnected_before_body_then_stream_raises() -> None:
    async def handler(request: Request) -> Any:
        assert not await request.is_disconnected()  # buffers b"a"
        assert await request.is_disconnected()  # sees the disconnect
        seen = []
        with pytest.raises(ClientDisconnect):
            async for chunk in request.stream():
                seen.append(chunk.decode())
        return seen

    messages = [body_messages(b"a", b"b")[0], {"type": "http.disconnect"}]
    assert await call(handler, make_scope("POST"), channel_receive(messages)) == (200, ["a"])


async def test_is_disconnected_with_late_chunks_on_a_channel() -> None:
    """Chunks that arrive while is_disconnected waits are buffered, none is lost."""
    sender, receiver = anyio.create_memory_object_stream[Message](10)

    async def handler(request: Request) -> Any:
        async with anyio.create_task_group() as group:

            async def produce() -> None:
                for index in range(20):
                    await sender.send(
                        {"type": "http.request", "body": b"%d," % index, "more_body": True}
                    )
                    await anyio.sleep(0)
                await sender.send({"type": "http.request", "body": b"end", "more_body": False})

            group.start_soon(produce)
            for _ in range(30):
                assert not await request.is_disconnected()
        return (await request.body).decode()

    expected = "".join(f"{index}," for index in range(20)) + "end"
    assert await call(handler, make_scope("POST"), receiver.receive) == (200, expected)


# --------------------------------------------------------------------------- json


def json_scope(content_type: str = "application/json") -> Scope:
    return make_scope("POST", headers=[("content-type", content_type)])


async def read_json(request: Request) -> Any:
    first = await request.json
    assert await request.json is first
    return first


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        ("application/json", b'{"a": [1, 2.5, null, "\xc3\xa9"]}', {"a": [1, 2.5, None, "é"]}),
        ("Application/JSON; charset=utf-8", b"[]", []),
        ("application/json", b'\xef\xbb\xbf{"bom": true}', {"bom": True}),
        ("application/json", b"  3  ", 3),
    ],
)
async def test_request_json(content_type: str, body: bytes, expected: Any) -> None:
    receive = list_receive(body_messages(body[:3], body[3:]))
    assert await call(read_json, json_scope(content_type), receive) == (200, expected)


@pytest.mark.parametrize(
    "content_type", ["text/plain", "", "application/jsonx", "application/vnd.api+json"]
)
async def test_request_json_wrong_content_type_is_415(content_type: str) -> None:
    status, content = await call(
        read_json, json_scope(content_type), list_receive(body_messages(b"{}"))
    )
    assert status == 415
    assert "application/json" in content


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{", "Invalid JSON"),
        (b"", "Invalid JSON"),
        (b"{'a': 1}", "Invalid JSON"),
        (b'"\xff"', "not valid UTF-8"),
        (b"\xff\xfe[\x00]\x00", "not valid UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ],
)
async def test_request_malformed_json_is_400(body: bytes, message: str) -> None:
    status, content = await call(read_json, json_scope(), list_receive(body_messages(body)))
    assert status == 400
    assert message in content


async def test_request_json_accepts_nan_and_infinity() -> None:
    # json.loads as upstream: RFC 8259 §9 lets a parser accept non-JSON extensions
    body = b"[NaN, Infinity, -Infinity]"
    value = await Request(json_scope(), list_receive(body_messages(body))).json
    assert value[0] != value[0] and value[1:] == [float("inf"), float("-inf")]


async def test_request_malformed_json_is_a_malformed_json_exception() -> None:
    request = Request(json_scope(), list_receive(body_messages(b"nope")))
    with pytest.raises(MalformedJSON):
        await request.json
    with pytest.raises(MalformedJSON):  # the failure is not cached as a success
        await request.json
    with pytest.raises(UnsupportedMediaType):
        await Request(json_scope("text/plain"), list_receive([])).json


# -------------------------------------------------------------- urlencoded forms


def form_scope(content_type: str = "application/x-www-form-urlencoded") -> Scope:
    return make_scope("POST", headers=[("content-type", content_type)])


async def read_form(request: Request) -> Any:
    form = await request.form
    assert await request.form is form
    return [
        [name, value if isinstance(value, str) else f"file:{value.filename}"]
        for name, value in form.multi_items()
    ]


async def test_request_urlencoded_form() -> None:
    body = b"a=1&a=2&b=&c&name=J%C3%A9r%C3%B4me+D&bad=%ff\xfe"
    receive = list_receive(body_messages(body[:10], body[10:]))
    assert await call(read_form, form_scope(), receive) == (
        200,
        [
            ["a", "1"],
            ["a", "2"],
            ["b", ""],
            ["c", ""],
            ["name", "Jérôme D"],
            ["bad", "\ufffd\ufffd"],
        ],
    )


async def test_request_urlencoded_form_after_body_was_read() -> None:
    async def handler(request: Request) -> Any:
        assert await request.body == b"x=1"
        return await read_form(request)

    receive = list_receive(body_messages(b"x=1"))
    assert await call(handler, form_scope(), receive) == (200, [["x", "1"]])


async def test_request_form_unsupported_content_type_is_415() -> None:
    status, content = await call(
        read_form, form_scope("text/plain"), list_receive(body_messages(b"a=1"))
    )
    assert status == 415
    assert "multipart/form-data" in content


class SmallLimits(Request):
    max_form_parts = 3
    max_form_memory_size = 64


async def test_request_urlencoded_too_many_fields_is_413() -> None:
    receive = list_receive(body_messages(b"a=1&b=2&c=3&d=4"))
    status, content = await call(read_form, form_scope(), receive, request_class=SmallLimits)
    assert status == 413
    assert "Too many" in content


async def test_request_urlencoded_too_large_is_413_while_streaming() -> None:
    chunks = [b"a=" + b"x" * 40, b"&b=" + b"y" * 40, b"never read"]
    messages = [*body_messages(*chunks[:2]), {"type": "http.disconnect"}]
    messages[1]["more_body"] = True
    status, content = await call(
        read_form, form_scope(), list_receive(messages), request_class=SmallLimits
    )
    assert status == 413
    assert "64 bytes" in content


async def test_request_urlencoded_too_large_after_body_was_read() -> None:
    async def handler(request: Request) -> Any:
        await request.body
        return await read_form(request)

    receive = list_receive(body_messages(b"a=" + b"x" * 100))
    status, _ = await call(handler, form_scope(), receive, request_class=SmallLimits)
    assert status == 413


async def test_request_close_without_form_is_safe() -> None:
    request = Request(make_scope())
    await request.close()
    await request.close()
