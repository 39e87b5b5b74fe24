"""Tests of ``await request.form`` on multipart/form-data bodies (RFC 7578), through ASGI calls."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from baize.asgi import Request
from baize.datastructures import UploadFile
from baize.typing import Message, Receive, Scope, Send

pytestmark = pytest.mark.anyio

BOUNDARY = "----baize-boundary-7MA4YWxk"


def make_scope(content_type: str) -> Scope:
    return {
        "type": "http",
        "method": "POST",
        "scheme": "http",
        "server": ("testserver", 80),
        "path": "/upload",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"content-type", content_type.encode("latin-1"))],
    }


def body_messages(*chunks: bytes) -> list[Message]:
    messages: list[Message] = [
        {"type": "http.request", "body": chunk, "more_body": True} for chunk in chunks
    ]
    messages.append({"type": "http.request", "body": b"", "more_body": False})
    return messages


def list_receive(messages: list[Message]) -> Receive:
    """Hand out ``messages``, then block as a live server would."""
    pending = list(messages)

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    return receive


def part(headers: str, data: bytes) -> bytes:
    return f"--{BOUNDARY}\r\n{headers}\r\n\r\n".encode() + data + b"\r\n"


def field(name: str, value: str) -> bytes:
    return part(f'Content-Disposition: form-data; name="{name}"', value.encode())


def file_part(name: str, filename: str, data: bytes, content_type: str = "text/plain") -> bytes:
    headers = (
        f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}"
    )
    return part(headers, data)


def multipart(*parts: bytes) -> bytes:
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def multipart_scope(content_type: str | None = None) -> Scope:
    value = content_type or f"multipart/form-data; boundary={BOUNDARY}"
    return make_scope(value)


def chunked(body: bytes, size: int) -> list[Message]:
    return body_messages(*[body[i : i + size] for i in range(0, len(body), size)])


async def post(
    body: bytes | list[Message],
    *,
    scope: Scope | None = None,
    request_class: type[Request] = Request,
) -> tuple[int, Any, list[UploadFile]]:
    """POST ``body`` to an ASGI app that parses the form; return (status, summary, files)."""
    messages = body if isinstance(body, list) else chunked(body, 7)
    files: list[UploadFile] = []
    outcome: dict[str, Any] = {}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        request = request_class(scope, receive, send)
        try:
            form = await request.form
            assert await request.form is form
            summary = []
            for name, value in form.multi_items():
                if isinstance(value, UploadFile):
                    files.append(value)
                    summary.append(
                        [
                            name,
                            value.filename,
                            str(value.content_type),
                            (await value.aread()).decode("latin-1"),
                        ]
                    )
                else:
                    summary.append([name, value])
            outcome["status"], outcome["content"] = 200, summary
        except Exception as error:
            outcome["status"] = getattr(error, "status_code", 500)
            outcome["content"] = str(getattr(error, "content", error))
        finally:
            await request.close()
        await send({"type": "http.response.start", "status": outcome["status"], "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def send(message: Message) -> None:
        pass

    with anyio.fail_after(10):
        await app(scope or multipart_scope(), list_receive(messages), send)
    return outcome["status"], outcome["content"], files


async def test_multipart_fields_and_files() -> None:
    body = multipart(
        field("title", "Hello"),
        file_part("upload", "a.txt", b"file one\r\nwith CRLF"),
        field("title", "Again é"),
        file_part("upload", "b.bin", b"\x00\xff", "application/octet-stream"),
    )
    status, content, files = await post(body)
    assert status == 200
    assert content[0] == ["title", "Hello"]
    assert content[1] == ["upload", "a.txt", "text/plain", "file one\r\nwith CRLF"]
    assert content[2] == ["title", "Again é"]
    assert content[3][:3] == ["upload", "b.bin", "application/octet-stream"]
    assert all(file.closed for file in files)  # request.close() closed them


@pytest.mark.parametrize("size", [1, 3, 64, 100_000])
async def test_multipart_any_chunking(size: int) -> None:
    body = multipart(field("a", "1"), file_part("f", "x.txt", b"abc" * 50))
    status, content, _ = await post(chunked(body, size))
    assert status == 200
    assert content == [["a", "1"], ["f", "x.txt", "text/plain", "abc" * 50]]


async def test_multipart_after_body_was_read() -> None:
    async def read_then_form(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, send)
        body = await request.body
        form = await request.form
        assert form["a"] == "1"
        assert len(body) > 0
        await request.close()

    body = multipart(field("a", "1"))
    with anyio.fail_after(5):
        await read_then_form(multipart_scope(), list_receive(chunked(body, 5)), _no_send)


async def _no_send(message: Message) -> None:
    pass


class SmallFiles(Request):
    upload_file_max_in_memory_size = 10


async def test_multipart_large_file_spills_to_disk() -> None:
    body = multipart(file_part("f", "big.txt", b"0123456789" * 10))
    status, content, files = await post(body, request_class=SmallFiles)
    assert status == 200
    assert content == [["f", "big.txt", "text/plain", "0123456789" * 10]]
    assert not files[0].in_memory
    assert files[0].closed


async def test_multipart_charset_option() -> None:
    body = multipart(part('Content-Disposition: form-data; name="n"', "café".encode("latin-1")))
    scope = multipart_scope(f"multipart/form-data; boundary={BOUNDARY}; charset=latin-1")
    assert await post(body, scope=scope) == (200, [["n", "café"]], [])


async def test_multipart_quoted_boundary() -> None:
    body = multipart(field("a", "1"))
    scope = multipart_scope(f'multipart/form-data; boundary="{BOUNDARY}"')
    assert (await post(body, scope=scope))[:2] == (200, [["a", "1"]])


@pytest.mark.parametrize(
    "content_type",
    ["multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; charset=x"],
)
async def test_multipart_without_boundary_is_400(content_type: str) -> None:
    status, content, _ = await post(multipart(field("a", "1")), scope=multipart_scope(content_type))
    assert status == 400
    assert "boundary" in content


async def test_multipart_overlong_boundary_is_400() -> None:
    scope = multipart_scope("multipart/form-data; boundary=" + "b" * 1000)
    status, content, _ = await post(multipart(field("a", "1")), scope=scope)
    assert status == 400
    assert "boundary" in content


async def test_multipart_truncated_is_400_and_closes_files() -> None:
    body = multipart(field("a", "1"), file_part("f", "x.txt", b"data" * 100))
    status, _, files = await post(body[: len(body) // 2])
    assert status == 400
    assert files == []  # nothing reached the form


async def test_multipart_part_without_name_is_400() -> None:
    body = multipart(part("Content-Disposition: form-data", b"nameless"))
    status, content, _ = await post(body)
    assert status == 400
    assert "name" in content


async def test_multipart_part_without_content_disposition_is_400() -> None:
    status, _, _ = await post(multipart(part("Content-Type: text/plain", b"x")))
    assert status == 400


async def test_multipart_ten_thousand_fields_hit_the_default_part_limit() -> None:
    body = multipart(*(field(f"f{index}", "") for index in range(10_000)))
    status, content, _ = await post(chunked(body, 65536))
    assert status == 413
    assert "1000" in content


class TinyForms(Request):
    max_form_parts = 2
    max_form_memory_size = 16


async def test_multipart_limits_from_a_subclass() -> None:
    status, content, _ = await post(
        multipart(field("a", "1"), field("b", "2"), field("c", "3")), request_class=TinyForms
    )
    assert (status, "Too many" in content) == (413, True)
    status, _, _ = await post(multipart(field("a", "x" * 17)), request_class=TinyForms)
    assert status == 413


async def test_multipart_disconnect_mid_body_is_client_disconnect() -> None:
    body = multipart(field("a", "1"), field("b", "2"))
    messages: list[Message] = [{"type": "http.request", "body": body[:20], "more_body": True}]
    messages.append({"type": "http.disconnect"})
    status, content, _ = await post(messages)
    assert status == 500
    assert "disconnected" in content
