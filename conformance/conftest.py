"""Load the conformance plugin when ``conformance/`` is collected (``pytest conformance``).

With ``baize-reference`` installed (editable or not), the ``baize_conformance`` entry point
(:mod:`conformance.harness.entrypoint`) has usually done all this already; nothing happens
twice: :func:`~conformance.harness.settings.add_options`,
:func:`~conformance.harness.entrypoint.activate` and
:func:`~conformance.harness.entrypoint.cmdline_main` act once per process.
"""

from __future__ import annotations

import pytest

from conformance.harness import entrypoint
from conformance.harness.settings import add_options


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> int | None:
    return entrypoint.cmdline_main(config)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    entrypoint.activate(config)
