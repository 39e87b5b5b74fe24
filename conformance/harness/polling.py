"""Polling what a scenario app recorded: the event happens in the server process, so there is
nothing to await across the process boundary; a case reads the app's record until it is done."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from conformance.harness.verify import expect_true

RESULT_DEADLINE = 5.0  # seconds a case waits for the app's record
RESULT_POLL = 0.02  # seconds between two reads


def poll_result(
    read: Callable[[], Any],
    done: Callable[[Any], bool],
    what: str,
    *,
    seconds: float = RESULT_DEADLINE,
    interval: float = RESULT_POLL,
    expect: bool = True,
) -> Any:
    """Call ``read()`` every ``interval`` seconds until ``done(record)``; return the record.

    After ``seconds`` without it: fail the case (``what`` did not happen in time, with the last
    record), or with ``expect=False`` return the last record for the case to judge.
    """
    deadline = time.monotonic() + seconds
    while True:
        record = read()
        if done(record):
            return record
        if time.monotonic() > deadline:
            if expect:
                expect_true(False, what, f"within {seconds} s", f"last record {record!r}")
            return record
        time.sleep(interval)
