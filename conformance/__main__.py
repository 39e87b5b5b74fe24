"""``baize-conformance ARGS`` (or ``python -m conformance ARGS``): pytest on the installed suite.

Runs ``pytest --pyargs conformance ARGS``: every argument goes to pytest and the suite
(``--server``, ``--impl``, ``--impl-python``, ``--servers-dir``, ``--requirement``, ``-n``...).
Reports go to ``./reports/`` of the current directory unless ``--report-dir`` says otherwise.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import pytest


def main(argv: Sequence[str] | None = None) -> int:
    """Run the suite; the exit status is pytest's."""
    args = list(sys.argv[1:] if argv is None else argv)
    return int(pytest.main(["--pyargs", "conformance", *args]))


if __name__ == "__main__":
    raise SystemExit(main())
