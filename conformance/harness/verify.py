"""Verifiers in the manner of h2spec: a failure states the rule, what was expected, what came.

Each raises :class:`ExpectationFailed` (an ``AssertionError``), whose text goes to ``detail``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any


class ExpectationFailed(AssertionError):
    """A server or implementation broke the rule a case checks (not a harness error)."""

    def __init__(self, what: str, expected: Iterable[str], actual: str) -> None:
        lines = [f"requirement: {what}", "expected:"]
        lines += [f"  {item}" for item in expected]
        lines.append(f"actual:\n  {actual}")
        super().__init__("\n".join(lines))


def expect_equal(actual: Any, expected: Any, what: str) -> None:
    """Fail unless ``actual == expected``."""
    if actual != expected:
        raise ExpectationFailed(what, [repr(expected)], repr(actual))


def expect_in(actual: Any, accepted: Collection[Any], what: str) -> None:
    """Fail unless ``actual`` is one of ``accepted`` (h2spec's list of acceptable results)."""
    if actual not in accepted:
        raise ExpectationFailed(what, [f"one of {list(accepted)!r}"], repr(actual))


def expect_contains(container: Collection[Any], item: Any, what: str) -> None:
    """Fail unless ``container`` holds ``item`` (the report shows the container as actual)."""
    if item not in container:
        raise ExpectationFailed(what, [f"to contain {item!r}"], repr(container))


def expect_type(actual: Any, expected: type | tuple[type, ...], what: str) -> None:
    """Fail unless ``actual`` is an instance of ``expected``."""
    if not isinstance(actual, expected):
        names = expected if isinstance(expected, tuple) else (expected,)
        raise ExpectationFailed(
            what,
            [f"a value of type {' or '.join(t.__name__ for t in names)}"],
            f"{actual!r} ({type(actual).__name__})",
        )


def expect_true(condition: bool, what: str, expected: str, actual: str) -> None:
    """Fail with the given wording unless ``condition`` holds."""
    if not condition:
        raise ExpectationFailed(what, [expected], actual)


# Items a producer may still yield once the client is gone: one in flight, one produced ahead.
GONE_SLACK = 2


def expect_stopped_when_gone(record: Mapping[str, Any], items: str) -> None:
    """Fail unless a streaming response stopped pulling from its producer once it saw the
    client go: ``record["produced"]`` at most :data:`GONE_SLACK` above
    ``record["produced_when_gone"]`` (sends after that are allowed: the ASGI spec says to
    expect them to raise; driving the producer on is not)."""
    when_gone = record["produced_when_gone"]
    expect_true(
        when_gone is not None,
        "the response saw the client go",
        "receive() answered http.disconnect or a send raised",
        repr(record),
    )
    expect_true(
        record["produced"] - when_gone <= GONE_SLACK,
        f"{items} produced after the client was seen gone",
        f"at most {GONE_SLACK} (one in flight, one ahead)",
        f"{record['produced'] - when_gone} (record {record!r})",
    )
