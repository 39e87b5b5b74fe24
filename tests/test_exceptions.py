from __future__ import annotations

import pytest

from baize.exceptions import (
    HTTPException,
    MalformedJSON,
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
    assert str(info.value) == "403 Forbidden: forbidden"


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (RequestEntityTooLarge("too many parts"), 413),
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
