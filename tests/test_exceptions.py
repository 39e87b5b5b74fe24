from __future__ import annotations

import pytest

from baize.exceptions import (
    HTTPException,
    MalformedJSON,
    MalformedMultipart,
    MalformedRangeHeader,
    RangeNotSatisfiable,
    RequestEntityTooLarge,
    UnsupportedMediaType,
    abort,
)


def test_abort_raises_http_exception_with_its_arguments() -> None:
    with pytest.raises(HTTPException) as info:
        abort(403, {"X-Reason": "no"}, "forbidden")
    assert info.value.status_code == 403
    assert info.value.headers == {"X-Reason": "no"}
    assert info.value.content == "forbidden"
    assert info.value.args == (403, "'forbidden'")


@pytest.mark.parametrize(
    ("exc", "args"),
    [
        (HTTPException(), (400, "Bad request syntax or unsupported method")),
        (HTTPException(404), (404, "Nothing matches the given URI")),
        (HTTPException(0), (0, "Maybe a custom HTTP status code")),
        (HTTPException(418, content={"a": 1}), (418, "{'a': 1}")),
    ],
)
def test_args_are_the_status_and_its_description(
    exc: HTTPException[object], args: tuple[int, str]
) -> None:
    assert exc.args == args
    assert str(exc) == str(args)  # as upstream: the default Exception rendering


def test_subclass_signatures_are_upstreams() -> None:
    assert RequestEntityTooLarge(30).headers == {"Retry-After": "30"}
    assert RequestEntityTooLarge().headers is None
    assert RequestEntityTooLarge(content="too big").content == "too big"
    unsupported = UnsupportedMediaType("application/json", "text/plain")
    assert unsupported.headers == {"Accept": "application/json, text/plain"}
    assert unsupported.supported == ("application/json", "text/plain")
    assert UnsupportedMediaType().headers is None
    assert MalformedJSON().content == "Malformed JSON"
    assert MalformedMultipart().content == "Malformed multipart"
    assert MalformedRangeHeader().content == "Malformed Range header"
    assert MalformedJSON("bad").args == (400, "'bad'")


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (RequestEntityTooLarge(content="too many parts"), 413),
        (UnsupportedMediaType("application/json"), 415),
        (MalformedJSON("bad"), 400),
        (RangeNotSatisfiable(10), 416),
    ],
)
def test_subclasses_carry_their_status(exc: HTTPException[str], status: int) -> None:
    assert isinstance(exc, HTTPException)
    assert exc.status_code == status


def test_range_not_satisfiable_carries_content_range() -> None:
    assert RangeNotSatisfiable(1234).headers == {"Content-Range": "bytes */1234"}


async def test_async_tests_run_on_each_backend(anyio_backend: str) -> None:
    import sniffio

    assert sniffio.current_async_library() == anyio_backend
