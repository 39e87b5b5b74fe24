"""The arguments ``baize-conformance`` hands to pytest (conformance/__main__.py)."""

from __future__ import annotations

import pytest

from conformance.__main__ import pytest_args


def test_the_cache_is_off_by_default() -> None:
    assert pytest_args(["--server", "uvicorn"]) == [
        "--pyargs",
        "conformance",
        "-p",
        "no:cacheprovider",
        "--server",
        "uvicorn",
    ]


@pytest.mark.parametrize("option", ["--lf", "--last-failed", "--ff", "--sw", "--cache-clear"])
def test_an_option_of_the_cache_keeps_it(option: str) -> None:
    assert "no:cacheprovider" not in pytest_args([option])


def test_cacheprovider_named_by_the_user_keeps_it() -> None:
    assert "no:cacheprovider" not in pytest_args(["-p", "cacheprovider"])


def test_user_arguments_follow_in_order() -> None:
    args = pytest_args(["-n", "0", "--requirement", "ASGI-HTTP-SCOPE"])
    assert args[-4:] == ["-n", "0", "--requirement", "ASGI-HTTP-SCOPE"]
