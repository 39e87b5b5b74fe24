# Over 700 lines on purpose: the unit tests of one module, baize/asgi/responses/_file.py, mirrored
# one to one.
"""FileResponse through ASGI calls: headers, RFC 9110 ranges, If-Range, I/O paths, errors."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from baize.asgi import FileResponse
from baize.exceptions import MalformedRangeHeader, RangeNotSatisfiable
from baize.responses import FileResponseMixin, NotAFileError
from baize.typing import Message

DATA = bytes(range(256)) * 4  # 1024 bytes


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "data.bin"
    path.write_bytes(DATA)
    return path


async def never_disconnects() -> Message:
    await anyio.sleep_forever()
    raise AssertionError("unreachable")


async def call(
    response: FileResponse,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    extensions: dict[str, Any] | None = None,
) -> tuple[int, dict[str, str], bytes, list[Message]]:
    scope: dict[str, Any] = {
        "type": "http",
        "method": method,
        "path": "/",
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
    }
    if extensions is not None:
        scope["extensions"] = extensions
    sent: list[Message] = []

    async def send(message: Message) -> None:
        if message["type"] == "http.response.zerocopysend":  # read while the file is open
            message = dict(message)
            message["data"] = os.pread(
                message["file"].fileno(), message["count"], message["offset"]
            )
        sent.append(message)

    with anyio.fail_after(10):
        await response(scope, never_disconnects, send)
    start = sent[0]
    assert start["type"] == "http.response.start"
    names = [name for name, _ in start["headers"]]
    assert len(names) == len(set(names)), "a header was sent twice"
    response_headers = {name.decode(): value.decode() for name, value in start["headers"]}
    body = b""
    for message in sent[1:]:
        if message["type"] == "http.response.body":
            body += message.get("body", b"")
    return start["status"], response_headers, body, sent


def decode_byteranges(body: bytes, boundary: str) -> list[tuple[str, str, bytes]]:
    """A strict multipart/byteranges decoder: CRLF only, exact part lengths, nothing extra."""
    delimiter = b"--" + boundary.encode()
    assert body.startswith(delimiter + b"\r\n"), body[:80]
    position = len(delimiter) + 2
    parts: list[tuple[str, str, bytes]] = []
    while True:
        end_of_head = body.index(b"\r\n\r\n", position)
        lines = body[position:end_of_head].split(b"\r\n")
        fields = dict(line.decode().split(": ", 1) for line in lines)
        assert set(fields) == {"Content-Type", "Content-Range"}, fields
        match = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", fields["Content-Range"])
        assert match, fields["Content-Range"]
        first, last = int(match.group(1)), int(match.group(2))
        start = end_of_head + 4
        data = body[start : start + last - first + 1]
        parts.append((fields["Content-Type"], fields["Content-Range"], data))
        position = start + last - first + 1
        assert body[position : position + 2 + len(delimiter)] == b"\r\n" + delimiter
        position += 2 + len(delimiter)
        if body[position:] == b"--\r\n":
            return parts
        assert body[position : position + 2] == b"\r\n"
        position += 2


# ------------------------------------------------------------------- headers


async def test_full_file(data_file: Path) -> None:
    status, headers, body, sent = await call(FileResponse(str(data_file)))
    assert status == 200
    assert body == DATA
    assert sent[-1].get("more_body", False) is False
    stat = data_file.stat()
    assert headers["content-length"] == "1024"
    assert headers["accept-ranges"] == "bytes"
    assert headers["etag"] == f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'
    assert headers["last-modified"].endswith(" GMT")
    assert headers["content-type"] == "application/octet-stream"
    assert (
        headers["content-disposition"]
        == "attachment; filename=\"data.bin\"; filename*=utf-8''data.bin"
    )


async def test_text_file_gets_charset_and_no_disposition(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text("<p>hi</p>")
    _, headers, body, _ = await call(FileResponse(str(path)))
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert "content-disposition" not in headers
    assert body == b"<p>hi</p>"


async def test_explicit_content_type_and_user_headers(data_file: Path) -> None:
    response = FileResponse(
        str(data_file), headers={"cache-control": "no-store"}, content_type="image/png"
    )
    _, headers, _, _ = await call(response)
    assert headers["content-type"] == "image/png"
    assert headers["cache-control"] == "no-store"
    assert "content-disposition" not in headers


async def test_non_ascii_download_name(data_file: Path) -> None:
    response = FileResponse(str(data_file), download_name='résumé "final"\\€.pdf')
    _, headers, _, _ = await call(response)
    assert headers["content-type"] == "application/pdf"
    assert headers["content-disposition"] == (
        'attachment; filename="r_sum_ \\"final\\"\\\\_.pdf"; '
        "filename*=utf-8''r%C3%A9sum%C3%A9%20%22final%22%5C%E2%82%AC.pdf"
    )


@pytest.mark.parametrize("name", ["a\r\nSet-Cookie: x=1", "a\nb", "a\rb", "a\x00b"])
def test_download_name_injection_refused(data_file: Path, name: str) -> None:
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        FileResponse(str(data_file), download_name=name)


def test_bad_chunk_size_refused(data_file: Path) -> None:
    with pytest.raises(ValueError):
        FileResponse(str(data_file), chunk_size=0)


def test_missing_path_or_directory_raise_oserror_when_built(tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.txt")
    with pytest.raises(FileNotFoundError, match=r"missing\.txt"):
        FileResponse(missing)
    with pytest.raises(IsADirectoryError, match="a directory"):
        FileResponse(str(tmp_path))
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(NotAFileError, match="not a regular file") as info:
        FileResponse(str(fifo))
    assert isinstance(info.value, OSError)


async def test_file_removed_after_building_is_an_error_before_sending(tmp_path: Path) -> None:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/", "headers": []}
    path = tmp_path / "gone.txt"
    path.write_bytes(b"x" * 10)
    response = FileResponse(str(path))
    await response(scope, never_disconnects, send)  # the first call uses the stat it built on
    path.unlink()
    sent.clear()
    with pytest.raises(FileNotFoundError):
        await response(scope, never_disconnects, send)  # later calls look again
    assert sent == []


async def test_a_reused_response_follows_the_changed_file(tmp_path: Path) -> None:
    path = tmp_path / "changing.txt"
    path.write_bytes(b"old")
    response = FileResponse(str(path))
    _, first, body, _ = await call(response)
    assert body == b"old"
    path.write_bytes(b"brand new")
    os.utime(path, (1_000_000_000, 1_000_000_000))
    _, second, body, _ = await call(response)
    assert body == b"brand new"
    assert second["content-length"] == "9"
    assert second["etag"] != first["etag"]


async def test_head_gets_get_headers_without_body(data_file: Path) -> None:
    _, get_headers, _, _ = await call(FileResponse(str(data_file)))
    status, headers, body, _ = await call(FileResponse(str(data_file)), "HEAD")
    assert status == 200
    assert headers == get_headers
    assert body == b""


async def test_head_ignores_range(data_file: Path) -> None:
    # RFC 9110 §14.2: range handling is defined for GET only.
    status, headers, body, _ = await call(
        FileResponse(str(data_file)), "HEAD", {"range": "bytes=0-9"}
    )
    assert status == 200
    assert headers["content-length"] == "1024"
    assert "content-range" not in headers
    assert body == b""


async def test_post_ignores_range(data_file: Path) -> None:
    status, _, body, _ = await call(FileResponse(str(data_file)), "POST", {"range": "bytes=0-9"})
    assert status == 200
    assert body == DATA


async def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    status, headers, body, _ = await call(FileResponse(str(path)))
    assert (status, headers["content-length"], body) == (200, "0", b"")
    status, headers, body, _ = await call(FileResponse(str(path)), headers={"range": "bytes=0-"})
    assert (status, headers["content-range"], body) == (416, "bytes */0", b"")
    status, _, body, _ = await call(FileResponse(str(path)), headers={"range": "bytes=-5"})
    assert (status, body) == (200, b"")


# -------------------------------------------------------------------- ranges


async def test_single_range(data_file: Path) -> None:
    status, headers, body, _ = await call(
        FileResponse(str(data_file)), headers={"range": "bytes=10-19"}
    )
    assert status == 206
    assert headers["content-range"] == "bytes 10-19/1024"
    assert headers["content-length"] == "10"
    assert headers["content-type"] == "application/octet-stream"
    assert body == DATA[10:20]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("bytes=1000-", DATA[1000:]),
        ("bytes=-24", DATA[1000:]),
        ("bytes=-5000", DATA),
        ("bytes=1000-99999", DATA[1000:]),
    ],
)
async def test_open_and_suffix_ranges(data_file: Path, value: str, expected: bytes) -> None:
    status, headers, body, _ = await call(FileResponse(str(data_file)), headers={"range": value})
    assert status == 206
    assert body == expected
    assert headers["content-range"] == f"bytes {1024 - len(expected)}-1023/1024"


async def test_multiple_ranges(data_file: Path) -> None:
    status, headers, body, _ = await call(
        FileResponse(str(data_file), chunk_size=7), headers={"range": "bytes=500-509, 0-4,-3"}
    )
    assert status == 206
    match = re.fullmatch(r"multipart/byteranges; boundary=(\S+)", headers["content-type"])
    assert match
    assert headers["content-length"] == str(len(body))
    assert decode_byteranges(body, match.group(1)) == [
        ("application/octet-stream", "bytes 500-509/1024", DATA[500:510]),
        ("application/octet-stream", "bytes 0-4/1024", DATA[0:5]),
        ("application/octet-stream", "bytes 1021-1023/1024", DATA[1021:]),
    ]


async def test_overlapping_ranges_are_coalesced(data_file: Path) -> None:
    status, headers, body, _ = await call(
        FileResponse(str(data_file)), headers={"range": "bytes=0-9,5-14,15-19"}
    )
    assert status == 206
    assert headers["content-range"] == "bytes 0-19/1024"
    assert body == DATA[:20]


@pytest.mark.anyio
@pytest.mark.parametrize(
    "value",
    ["bytes=", "bytes=a-b", "bytes=5-2", "items=0-1", "bytes=0-1,x", "bytes 0-1"],
)
async def test_invalid_range_is_ignored(data_file: Path, value: str) -> None:
    status, headers, body, _ = await call(FileResponse(str(data_file)), headers={"range": value})
    assert status == 200
    assert "content-range" not in headers
    assert body == DATA


async def test_abusive_ranges_get_the_full_file(data_file: Path) -> None:
    many = ",".join(f"{i * 20}-{i * 20}" for i in range(17))
    for value in ["bytes=" + many, "bytes=0-,0-", "bytes=" + ",".join(["0-200"] * 6)]:
        status, _, body, _ = await call(FileResponse(str(data_file)), headers={"range": value})
        assert status == 200
        assert body == DATA


@pytest.mark.anyio
@pytest.mark.parametrize("value", ["bytes=1024-", "bytes=2000-3000", "bytes=-0"])
async def test_unsatisfiable_range(data_file: Path, value: str) -> None:
    status, headers, body, _ = await call(FileResponse(str(data_file)), headers={"range": value})
    assert status == 416
    assert headers["content-range"] == "bytes */1024"
    assert headers["content-length"] == str(len(body))


async def test_if_range(data_file: Path) -> None:
    _, headers, _, _ = await call(FileResponse(str(data_file)))
    etag, last_modified = headers["etag"], headers["last-modified"]
    for validator, honoured in [
        (etag, True),
        (last_modified, True),
        ("W/" + etag, False),
        ('"other"', False),
        ("Thu, 01 Jan 1970 00:00:00 GMT", False),
        ("garbage", False),
    ]:
        status, _, body, _ = await call(
            FileResponse(str(data_file)), headers={"range": "bytes=0-1", "if-range": validator}
        )
        assert (status, body) == ((206, DATA[:2]) if honoured else (200, DATA)), validator


async def test_if_range_without_range_is_ignored(data_file: Path) -> None:
    status, _, body, _ = await call(FileResponse(str(data_file)), headers={"if-range": '"x"'})
    assert (status, body) == (200, DATA)


def test_mixin_is_pure() -> None:
    mixin = FileResponseMixin()
    assert mixin.select_ranges("GET", "bytes=0-1", None, None, None, 10) == [(0, 2)]
    assert mixin.select_ranges("HEAD", "bytes=0-1", None, None, None, 10) is None
    assert mixin.select_ranges("GET", None, None, None, None, 10) is None


# ------------------------------------------------------- server I/O extensions


async def test_pathsend_for_whole_file(data_file: Path) -> None:
    status, headers, _, sent = await call(
        FileResponse(str(data_file)), extensions={"http.response.pathsend": {}}
    )
    assert status == 200
    assert headers["content-length"] == "1024"
    assert sent[1:] == [{"type": "http.response.pathsend", "path": os.path.abspath(data_file)}]


async def test_pathsend_not_used_for_ranges(data_file: Path) -> None:
    status, _, body, sent = await call(
        FileResponse(str(data_file)),
        headers={"range": "bytes=1-2"},
        extensions={"http.response.pathsend": {}},
    )
    assert (status, body) == (206, DATA[1:3])
    assert all(m["type"] == "http.response.body" for m in sent[1:])


@pytest.mark.anyio
@pytest.mark.parametrize("range_value", [None, "bytes=3-9", "bytes=0-1,100-120"])
async def test_zerocopysend(data_file: Path, range_value: str | None) -> None:
    plain = await call(
        FileResponse(str(data_file)), headers={"range": range_value} if range_value else {}
    )
    status, headers, _, sent = await call(
        FileResponse(str(data_file)),
        headers={"range": range_value} if range_value else {},
        extensions={"http.response.zerocopysend": {}},
    )
    assert any(m["type"] == "http.response.zerocopysend" for m in sent)
    body = b""
    for message in sent[1:]:
        if message["type"] == "http.response.zerocopysend":
            body += message["data"]
        else:
            body += message.get("body", b"")
    assert sent[-1].get("more_body", False) is False
    assert status == plain[0]
    boundary = re.search(r"boundary=(\S+)", headers["content-type"])
    if boundary:  # boundaries are random; compare decoded parts
        plain_boundary = re.search(r"boundary=(\S+)", plain[1]["content-type"])
        assert plain_boundary
        assert decode_byteranges(body, boundary.group(1)) == decode_byteranges(
            plain[2], plain_boundary.group(1)
        )
    else:
        assert body == plain[2]
    assert int(headers["content-length"]) == len(body)


async def test_disconnect_stops_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    path.write_bytes(b"x" * 100_000)
    first_chunk = anyio.Event()
    sent: list[Message] = []

    async def receive() -> Message:
        await first_chunk.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)
        if message.get("body"):
            first_chunk.set()
            await anyio.sleep_forever()

    scope = {"type": "http", "method": "GET", "path": "/", "headers": []}
    with anyio.fail_after(10):
        await FileResponse(str(path), chunk_size=1000)(scope, receive, send)
    assert len(sent) == 2  # start and the one chunk in flight


async def test_send_oserror_stops_quietly(data_file: Path) -> None:
    calls = 0

    async def send(message: Message) -> None:
        nonlocal calls
        calls += 1
        if calls > 2:
            raise OSError("client gone")

    scope = {"type": "http", "method": "GET", "path": "/", "headers": []}
    with anyio.fail_after(10):
        await FileResponse(str(data_file), chunk_size=10)(scope, never_disconnects, send)
    assert calls == 3


# ------------------------------------------------------------ property oracle

_position = st.integers(0, 24) | st.integers(0, 320)  # small values make ranges touch
_spec = st.one_of(
    st.tuples(_position, st.none()),  # first-
    st.tuples(_position, _position),  # first-last (maybe invalid)
    st.tuples(_position, st.integers(0, 40)).map(lambda t: (t[0], t[0] + t[1])),
    st.tuples(st.none(), _position),  # -suffix
)


def _oracle(specs: list[tuple[int | None, int | None]], size: int) -> str:
    """What RFC 9110 plus this module's documented choices require: 200, 206 or 416."""
    if not specs or any(f is not None and n is not None and n < f for f, n in specs):
        return "200"
    chosen = _selected(specs, size)
    if not chosen:
        suffix_on_empty = size == 0 and any(f is None and n for f, n in specs)
        return "200" if suffix_on_empty else "416"
    union = _union(chosen)
    if sum(stop - start for start, stop in chosen) > size or len(union) > 16:
        return "200"
    return "206"


def _selected(specs: list[tuple[int | None, int | None]], size: int) -> list[tuple[int, int]]:
    chosen = []
    for first, last in specs:
        if first is None:
            assert last is not None
            if last > 0 and size > 0:
                chosen.append((max(0, size - last), size))
        elif first < size:
            chosen.append((first, size if last is None else min(last + 1, size)))
    return chosen


def _union(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    covered = sorted({i for start, stop in ranges for i in range(start, stop)})
    union: list[tuple[int, int]] = []
    for i in covered:
        if union and union[-1][1] == i:
            union[-1] = (union[-1][0], i + 1)
        else:
            union.append((i, i + 1))
    return union


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(content=b"0123456789", specs=[(0, 4), (5, 9)], chunk_size=3)
@example(content=b"0123456789", specs=[(0, 1), (6, 7), (None, 2)], chunk_size=1)
@example(content=b"", specs=[(None, 1)], chunk_size=1)
@given(
    content=st.binary(max_size=300),
    specs=st.lists(_spec, max_size=20),
    chunk_size=st.integers(1, 64),
)
def test_any_range_set_matches_the_file(
    backend: str, content: bytes, specs: list[tuple[int | None, int | None]], chunk_size: int
) -> None:
    header = "bytes=" + ",".join(
        f"{'' if f is None else f}-{'' if n is None else n}" for f, n in specs
    )
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "file.bin")
        with open(path, "wb") as file:
            file.write(content)
        status, headers, body, _ = anyio.run(
            lambda: call(FileResponse(path, chunk_size=chunk_size), headers={"range": header}),
            backend=backend,
        )
    expected = _oracle(specs, len(content))
    assert str(status) == expected, (header, len(content))
    assert headers["content-length"] == str(len(body))
    if status == 200:
        assert body == content
    elif status == 416:
        assert headers["content-range"] == f"bytes */{len(content)}"
    else:
        if headers["content-type"].startswith("multipart/byteranges"):
            boundary = headers["content-type"].split("boundary=")[1]
            parts = decode_byteranges(body, boundary)
            assert len(parts) > 1
        else:
            parts = [(headers["content-type"], headers["content-range"], body)]
        got = []
        for _, value, data in parts:
            match = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", value)
            assert match
            first, last, size = map(int, match.groups())
            assert size == len(content)
            assert data == content[first : last + 1]
            got.append((first, last + 1))
        assert _union(got) == sorted(got)  # parts neither overlap nor touch
        assert sorted(got) == _union(_selected(specs, len(content)))


# ------------------------------------------------------------ small bodies: one worker call


@pytest.fixture
def thread_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the functions FileResponse runs in worker threads."""
    calls: list[str] = []
    original = anyio.to_thread.run_sync

    async def counting(function: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(getattr(function, "__name__", None) or function.func.__name__)
        return await original(function, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counting)
    return calls


async def test_small_range_takes_one_worker_thread_call(
    data_file: Path, thread_calls: list[str]
) -> None:
    status, headers, body, sent = await call(
        FileResponse(str(data_file)), headers={"range": "bytes=100-299"}
    )
    assert (status, body) == (206, DATA[100:300])
    assert headers["content-range"] == "bytes 100-299/1024"
    assert len(thread_calls) == 1  # stat, open, seek and read together
    assert [m.get("more_body", False) for m in sent[1:]] == [False]  # one body message


async def test_small_file_with_stat_result_reads_in_one_call(
    data_file: Path, thread_calls: list[str]
) -> None:
    response = FileResponse(str(data_file), stat_result=os.stat(data_file))
    status, _, body, _ = await call(response)
    assert (status, body) == (200, DATA)
    assert thread_calls == ["_read"]


async def test_small_multipart_ranges_read_in_one_call(
    data_file: Path, thread_calls: list[str]
) -> None:
    status, headers, body, _ = await call(
        FileResponse(str(data_file)), headers={"range": "bytes=0-9,500-509"}
    )
    boundary = re.search("boundary=(.+)", headers["content-type"])
    assert status == 206 and boundary is not None
    parts = decode_byteranges(body, boundary.group(1))
    assert [part[2] for part in parts] == [DATA[0:10], DATA[500:510]]
    assert len(thread_calls) == 1


async def test_small_file_shrunk_after_stat_fails_before_sending(data_file: Path) -> None:
    stale = os.stat(data_file)
    data_file.write_bytes(DATA[:100])
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/", "headers": []}
    with pytest.raises(RuntimeError, match="shrank"):
        await FileResponse(str(data_file), stat_result=stale)(scope, never_disconnects, send)
    assert sent == []


async def test_small_body_send_oserror_is_quiet(data_file: Path) -> None:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)
        if message["type"] == "http.response.body":
            raise OSError("client gone")

    scope = {"type": "http", "method": "GET", "path": "/", "headers": []}
    with anyio.fail_after(10):
        await FileResponse(str(data_file))(scope, never_disconnects, send)
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]


# ------------------------------------- the header fast path matches the general path exactly


async def raw_start(
    response: FileResponse,
    raw_headers: list[tuple[bytes, bytes]],
    method: str = "GET",
    extensions: dict[str, Any] | None = None,
) -> tuple[int, list[tuple[bytes, bytes]], list[Message]]:
    """Call with the request header lines as given; the start status and raw header list."""
    scope: dict[str, Any] = {"type": "http", "method": method, "path": "/", "headers": raw_headers}
    if extensions is not None:
        scope["extensions"] = extensions
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    with anyio.fail_after(10):
        await response(scope, never_disconnects, send)
    return sent[0]["status"], list(sent[0]["headers"]), sent


def _without_boundary(raw: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    return [(name, re.sub(rb"boundary=\w+", b"boundary=B", value)) for name, value in raw]


@pytest.mark.parametrize(
    "request_headers",
    [
        [],
        [(b"range", b"bytes=10-19")],
        [(b"range", b"bytes=0-9,500-509")],
        [(b"range", b"bytes=5000-")],
        [(b"range", b"lines=1-2")],
        [(b"range", b"bytes=0-9"), (b"if-range", b'"nope"')],
    ],
)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("extensions", [None, {"http.response.pathsend": {}}])
@pytest.mark.parametrize(
    "options",
    [{}, {"content_type": "text/plain"}, {"download_name": "r\u00e9sum\u00e9.pdf"}],
)
async def test_fast_path_headers_equal_the_general_path(
    data_file: Path,
    request_headers: list[tuple[bytes, bytes]],
    method: str,
    extensions: dict[str, Any] | None,
    options: dict[str, Any],
) -> None:
    # headers={} builds MutableHeaders up front, so that response takes the general path
    fast = await raw_start(
        FileResponse(str(data_file), **options), request_headers, method, extensions
    )
    general = await raw_start(
        FileResponse(str(data_file), headers={}, **options), request_headers, method, extensions
    )
    assert fast[0] == general[0]
    assert _without_boundary(fast[1]) == _without_boundary(general[1])  # same order too
    assert [m["type"] for m in fast[2]] == [m["type"] for m in general[2]]


async def test_user_headers_still_win(data_file: Path) -> None:
    response = FileResponse(
        str(data_file),
        headers={"ETag": '"mine"', "Last-Modified": "Sun, 06 Nov 1994 08:49:37 GMT", "X-A": "1"},
    )
    response.set_cookie("k", "v")
    status, raw, _ = await raw_start(response, [(b"range", b"bytes=0-1")])
    headers = dict(raw)
    assert status == 206
    assert headers[b"etag"] == b'"mine"' and headers[b"x-a"] == b"1"
    assert headers[b"last-modified"] == b"Sun, 06 Nov 1994 08:49:37 GMT"
    assert b"set-cookie" in headers
    # If-Range compares with the user's entity tag, not the computed one
    matched, _, _ = await raw_start(
        FileResponse(str(data_file), headers={"etag": '"mine"'}),
        [(b"range", b"bytes=0-1"), (b"if-range", b'"mine"')],
    )
    assert matched == 206


async def test_headers_read_before_the_call_take_the_general_path(data_file: Path) -> None:
    response = FileResponse(str(data_file))
    response.headers["content-type"] = "image/png"
    _, raw, _ = await raw_start(response, [])
    assert dict(raw)[b"content-type"] == b"image/png"


async def test_second_call_of_one_response_behaves_as_before(data_file: Path) -> None:
    response = FileResponse(str(data_file))
    first = await raw_start(response, [(b"range", b"bytes=0-9")])
    second = await raw_start(response, [])
    assert first[0] == 206 and second[0] == 200
    assert dict(second[1])[b"content-length"] == b"1024"


class _TaggedFile(FileResponse):
    @staticmethod
    def generate_etag(stat_result: os.stat_result) -> str:
        return '"custom"'


async def test_overridden_hooks_are_called_on_every_response(data_file: Path) -> None:
    await raw_start(FileResponse(str(data_file)), [])  # fills the cache for this file
    _, raw, _ = await raw_start(_TaggedFile(str(data_file)), [])
    assert dict(raw)[b"etag"] == b'"custom"'
    plain = FileResponse(str(data_file))
    plain.generate_last_modified = lambda stat_result: "Sun, 06 Nov 1994 08:49:37 GMT"  # type: ignore[method-assign]
    _, raw, _ = await raw_start(plain, [])
    assert dict(raw)[b"last-modified"] == b"Sun, 06 Nov 1994 08:49:37 GMT"
    _, raw, _ = await raw_start(FileResponse(str(data_file)), [])
    assert dict(raw)[b"etag"] != b'"custom"'


async def test_cached_headers_follow_a_changed_file(data_file: Path) -> None:
    _, before, _ = await raw_start(FileResponse(str(data_file)), [])
    data_file.write_bytes(DATA[:10])
    os.utime(data_file, ns=(1_000_000_000, 1_000_000_000))
    _, after, _ = await raw_start(FileResponse(str(data_file)), [])
    assert dict(after)[b"etag"] == f'"{1_000_000_000:x}-a"'.encode()
    assert dict(after)[b"content-length"] == b"10"
    assert dict(after)[b"last-modified"] == b"Thu, 01 Jan 1970 00:00:01 GMT"
    assert dict(before)[b"etag"] != dict(after)[b"etag"]


async def test_guessed_type_follows_mimetypes_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "notes.bzfr"
    path.write_bytes(b"x")
    _, raw, _ = await raw_start(FileResponse(str(path)), [])
    assert dict(raw)[b"content-type"] == b"application/octet-stream"
    monkeypatch.setattr(
        FileResponseMixin, "guess_content_type", staticmethod(lambda filepath: "text/x-notes")
    )
    _, raw, _ = await raw_start(FileResponse(str(path)), [])
    assert dict(raw)[b"content-type"] == b"text/x-notes"
    assert b"content-disposition" not in dict(raw)


async def test_bad_content_type_still_refused_at_call(data_file: Path) -> None:
    for _ in range(2):  # never cached
        with pytest.raises(ValueError, match="content-type"):
            await raw_start(FileResponse(str(data_file), content_type="text/plain\r\nx: y"), [])


async def test_range_fields_read_like_headers(data_file: Path) -> None:
    """Upper-case names are matched, and repeated lines are joined by ", " (two ranges)."""
    status, raw, _ = await raw_start(
        FileResponse(str(data_file)), [(b"Range", b"bytes=0-9"), (b"range", b"100-109")]
    )
    assert status == 206
    assert dict(raw)[b"content-type"].startswith(b"multipart/byteranges; boundary=")
    etag = FileResponseMixin.generate_etag(os.stat(data_file)).encode()
    status, _, _ = await raw_start(
        FileResponse(str(data_file)), [(b"RANGE", b"bytes=0-9"), (b"If-Range", etag)]
    )
    assert status == 206
    status, _, _ = await raw_start(
        FileResponse(str(data_file)),
        [(b"range", b"bytes=0-9"), (b"if-range", etag), (b"if-range", etag)],
    )
    assert status == 200  # a joined list of tags is not one tag


async def test_pathsend_path_is_absolute_and_normalised(
    data_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ext = {"http.response.pathsend": {}}
    odd = f"{data_file.parent}/./../{data_file.parent.name}//{data_file.name}"
    _, _, sent = await raw_start(FileResponse(odd), [], extensions=ext)
    assert sent[-1] == {"type": "http.response.pathsend", "path": str(data_file)}
    monkeypatch.chdir(data_file.parent)
    _, _, sent = await raw_start(FileResponse(data_file.name), [], extensions=ext)
    assert sent[-1]["path"] == str(data_file)


async def test_cached_etag_follows_a_nanosecond_mtime_change(data_file: Path) -> None:
    stamp = 1_700_000_000_123_456_789
    os.utime(data_file, ns=(stamp, stamp))
    _, before, _ = await raw_start(FileResponse(str(data_file)), [])
    os.utime(data_file, ns=(stamp, stamp + 1))  # same size, same float st_mtime
    _, after, _ = await raw_start(FileResponse(str(data_file)), [])
    assert dict(before)[b"etag"] == f'"{stamp:x}-400"'.encode()
    assert dict(after)[b"etag"] == f'"{stamp + 1:x}-400"'.encode()


async def test_a_patched_mixin_hook_is_called(
    data_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await raw_start(FileResponse(str(data_file)), [])  # fills the cache for this file
    monkeypatch.setattr(
        FileResponseMixin, "generate_etag", staticmethod(lambda stat_result: '"patched"')
    )
    _, raw, _ = await raw_start(FileResponse(str(data_file)), [])
    assert dict(raw)[b"etag"] == b'"patched"'


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("bytes=0-10", [(0, 11)]),
        ("bytes=0-10, 11-20", [(0, 21)]),  # adjacent: coalesced
        ("bytes=0-", [(0, 4623)]),
        ("bytes=0-54321", [(0, 4623)]),
        ("bytes=-500", [(4123, 4623)]),
        ("bytes=20-29, -500", [(20, 30), (4123, 4623)]),
        ("bytes=4100-4200, -500", [(4100, 4623)]),
        # RFC 9110, not upstream: the parts keep the header's order (§14.6 SHOULD) ...
        ("bytes=50-60, 0-10", [(50, 61), (0, 11)]),
        # ... a set with one satisfiable range is satisfiable (§14.1.1) ...
        ("bytes=0-10, 4625-4635", [(0, 11)]),
        # ... and a suffix longer than the file selects all of it (§14.1.2)
        ("bytes=-9999", [(0, 4623)]),
    ],
)
def test_parse_range_upstream_name_rfc_semantics(
    value: str, expected: list[tuple[int, int]]
) -> None:
    assert FileResponseMixin.parse_range(value, 4623) == expected


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("bytes=-", MalformedRangeHeader),
        ("bytes=", MalformedRangeHeader),
        ("byte=0-10", MalformedRangeHeader),
        ("bytes=10-0", MalformedRangeHeader),
        ("bytes=0-10,hello", MalformedRangeHeader),
        ("bytes=4625-4635", RangeNotSatisfiable),
        ("bytes=8000-", RangeNotSatisfiable),
    ],
)
def test_parse_range_refusals(value: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        FileResponseMixin.parse_range(value, 4623)


# -- the streamed path: batches of reads per worker-thread call (_filereader.py) ------------------


async def test_a_large_file_is_read_in_batches_and_sent_in_chunks(
    tmp_path: Path, thread_calls: list[str]
) -> None:
    from baize.asgi.responses._filereader import READ_BATCH

    content = os.urandom(READ_BATCH * 2 + 12345)
    path = tmp_path / "large.bin"
    path.write_bytes(content)
    status, _, body, sent = await call(FileResponse(str(path), stat_result=os.stat(path)))
    assert (status, body) == (200, content)
    assert thread_calls == ["_read"] * 3  # open with the first batch, close with the last
    bodies = [m for m in sent if m["type"] == "http.response.body"]
    assert all(len(m["body"]) <= 256 * 1024 for m in bodies)
    assert [m.get("more_body", False) for m in bodies] == [True] * (len(bodies) - 1) + [False]
    assert bodies[-1]["body"]  # the last chunk ends the body: no empty message after it


async def test_a_chunk_size_above_the_batch_reads_one_chunk_per_call(
    tmp_path: Path, thread_calls: list[str]
) -> None:
    from baize.asgi.responses._filereader import READ_BATCH

    content = os.urandom(READ_BATCH * 3)
    path = tmp_path / "large.bin"
    path.write_bytes(content)
    response = FileResponse(str(path), stat_result=os.stat(path), chunk_size=READ_BATCH * 2)
    _, _, body, sent = await call(response)
    assert body == content
    assert len(thread_calls) == 2
    assert [len(m["body"]) for m in sent[1:]] == [READ_BATCH * 2, READ_BATCH]


async def test_a_large_file_removed_after_building_fails_before_the_answer_starts(
    tmp_path: Path,
) -> None:
    path = tmp_path / "large.bin"
    path.write_bytes(b"x" * 600_000)
    response = FileResponse(str(path))
    path.unlink()
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/", "headers": []}
    with pytest.raises(FileNotFoundError):
        await response(scope, never_disconnects, send)
    assert sent == []  # the server can still answer 500


async def test_the_file_is_closed_when_the_client_goes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from baize.asgi.responses import _filereader

    opened: list[Any] = []
    real_open = open

    def recording_open(*args: Any, **kwargs: Any) -> Any:
        file = real_open(*args, **kwargs)
        opened.append(file)
        return file

    monkeypatch.setattr(_filereader, "open", recording_open, raising=False)
    path = tmp_path / "large.bin"
    path.write_bytes(b"x" * 3_000_000)
    calls = 0

    async def send(message: Message) -> None:
        nonlocal calls
        calls += 1
        if calls > 3:
            raise OSError("client gone")

    scope = {"type": "http", "method": "GET", "path": "/", "headers": []}
    await FileResponse(str(path), chunk_size=1000)(scope, never_disconnects, send)
    assert len(opened) == 1 and opened[0].closed


async def test_a_file_that_shrinks_while_streamed_is_an_error(tmp_path: Path) -> None:
    from baize.asgi.responses._filereader import READ_BATCH

    path = tmp_path / "large.bin"
    path.write_bytes(b"x" * (READ_BATCH * 2))
    response = FileResponse(str(path))

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            with open(path, "r+b") as file:
                file.truncate(READ_BATCH + 10)

    scope = {"type": "http", "method": "GET", "path": "/", "headers": []}
    with pytest.raises(RuntimeError, match="shrank while being sent"):
        await response(scope, never_disconnects, send)
