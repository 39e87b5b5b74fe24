"""Bounds for the Hypothesis cases of the conformance suite.

pytest-timeout does not stop a Hypothesis case: the timeout fires once, Hypothesis takes the
exception for a failing example and goes on shrinking, each attempt again talking to a slow
server (one SSE property case ran 326 s). So every property case here runs with
:data:`BOUNDED` (no shrink phase, no example database, derandomized, few examples) and calls
:meth:`Budget.check` first in its body: once the case has spent :data:`BUDGET_SECONDS`, the
remaining examples are skipped (``assume(False)``), never run.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, Phase, assume, settings

#: Wall-clock seconds one property case may spend on examples before it stops drawing more;
#: with one example bounded by its client timeouts (10 s at most) it stays under the 30 s
#: per-case timeout.
BUDGET_SECONDS = 15.0

BOUNDED = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    phases=(Phase.explicit, Phase.generate),
    report_multiple_bugs=False,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)


class Budget:
    """The time one property case may still spend; created once per case (not per example)."""

    def __init__(self, seconds: float = BUDGET_SECONDS) -> None:
        self.seconds = seconds
        self.started = time.monotonic()
        self.examples = 0

    def check(self) -> None:
        """Skip this example when the case's time is spent; the first example always runs."""
        if self.examples and time.monotonic() - self.started > self.seconds:
            assume(False)
        self.examples += 1


@pytest.fixture(name="budget")
def budget_fixture() -> Iterator[Budget]:
    """A fresh :class:`Budget` for each property case (import it into the test module)."""
    yield Budget()
