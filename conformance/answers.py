"""The scenario apps' JSON answers, read so that a server fault fails the case.

A 500 page, an empty body or a dropped record must end the case as ``fail`` with what came
back, never as a ``harness error:`` (a KeyError or JSONDecodeError out of the case).
"""

from __future__ import annotations

import json
from typing import Any

from conformance.harness import expect_equal, expect_true


def json_answer(response: Any, what: str) -> Any:
    """The JSON of an httpx response that must be a 200 with a JSON body."""
    expect_equal(response.status_code, 200, f"{what}: status of the scenario app's answer")
    return json_body(response.content, what)


def json_body(body: bytes, what: str) -> Any:
    """``body`` parsed as JSON; a body that is not JSON fails the case, naming it."""
    try:
        return json.loads(body)
    except ValueError:
        expect_true(False, f"{what}: a JSON answer", "JSON", repr(body[:200]))
        raise


def field(record: Any, key: str, what: str) -> Any:
    """``record[key]`` once it is certain the record is a mapping holding ``key``."""
    expect_true(
        isinstance(record, dict) and key in record,
        f"{what}: the record holds {key!r}",
        f"a record with {key!r}",
        repr(record)[:300],
    )
    return record[key]
