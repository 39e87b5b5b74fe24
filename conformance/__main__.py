"""``baize-conformance ARGS`` (or ``python -m conformance ARGS``): pytest on the installed suite.

Runs ``pytest --pyargs conformance ARGS``: every argument goes to pytest and the suite
(``--server``, ``--impl``, ``--impl-python``, ``--servers-dir``, ``--requirement``, ``-n``...).
Reports go to ``./reports/`` of the current directory unless ``--report-dir`` says otherwise.
pytest's cache is off (no ``.pytest_cache`` left where you run it) unless an argument uses it
(``--lf``, ``--ff``, ``--nf``, ``--sw``, ``--cache-show``, ``--cache-clear``, ``-p cacheprovider``).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import pytest

#: Options of pytest's cacheprovider plugin: with one of them the cache stays on.
CACHE_OPTIONS = (
    "--lf",
    "--last-failed",
    "--ff",
    "--failed-first",
    "--nf",
    "--new-first",
    "--sw",
    "--stepwise",
    "--cache-show",
    "--cache-clear",
    "cacheprovider",
)


def pytest_args(args: Sequence[str]) -> list[str]:
    """The arguments given to pytest for the suite's ``args``."""
    uses_cache = any(arg.startswith(CACHE_OPTIONS) or arg in CACHE_OPTIONS for arg in args)
    cache = [] if uses_cache else ["-p", "no:cacheprovider"]
    return ["--pyargs", "conformance", *cache, *args]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the suite; the exit status is pytest's."""
    args = list(sys.argv[1:] if argv is None else argv)
    return int(pytest.main(pytest_args(args)))


if __name__ == "__main__":
    raise SystemExit(main())
