"""Harness for the conformance suite: servers, clients, verifiers and reports.

Cases import from here: :func:`not_applicable` and the ``expect_*`` verifiers.
"""

from conformance.harness.outcomes import NotApplicable, not_applicable, require_offer
from conformance.harness.verify import (
    ExpectationFailed,
    expect_contains,
    expect_equal,
    expect_in,
    expect_stopped_when_gone,
    expect_true,
    expect_type,
)

__version__ = "0.3.0"

__all__ = [
    "ExpectationFailed",
    "NotApplicable",
    "__version__",
    "expect_contains",
    "expect_equal",
    "expect_in",
    "expect_stopped_when_gone",
    "expect_true",
    "expect_type",
    "not_applicable",
    "require_offer",
]
