"""The ``pytest11`` entry point ``baize_conformance``: the suite as an installed tool.

Installing ``baize-reference`` makes pytest load this module in every run of that
environment. It registers the suite's options (nothing else) and activates the plugin only
when the run collects the conformance package: ``pytest --pyargs conformance``,
``baize-conformance`` (``python -m conformance``), or ``pytest PATH`` with ``PATH`` inside the
package. Plain ``pytest`` of another project sees the options in ``--help`` and nothing more.

``conformance/conftest.py`` does the same when no entry point is installed (a bare
checkout); both go through :func:`activate`, which runs once per pytest process.
The heavy plugin module is imported only on activation.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.harness.settings import PACKAGE_DIR, add_options, from_checkout

ENTRY_POINT = "baize_conformance"  # ``-p no:baize_conformance`` turns it off
PACKAGE = "conformance"
_CMDLINE_DONE = pytest.StashKey[bool]()
_ACTIVATED = pytest.StashKey[bool]()


def collects_conformance(config: pytest.Config) -> bool:
    """Whether the run's arguments reach the conformance package.

    True for a module argument ``conformance[.x]`` under ``--pyargs``, a path inside the
    package, or (in the checkout) a directory holding it, e.g. ``pytest .``.
    """
    invoked = Path(config.invocation_params.dir)
    for arg in config.args:
        target = arg.split("::", 1)[0]
        if config.option.pyargs and (target == PACKAGE or target.startswith(PACKAGE + ".")):
            return True
        path = Path(invoked, target).resolve()
        if path == PACKAGE_DIR or PACKAGE_DIR in path.parents:
            return True
        if from_checkout(config) and path in PACKAGE_DIR.parents:
            return True
    return False


def cmdline_main(config: pytest.Config) -> int | None:
    """The plugin's ``pytest_cmdline_main``, once per process (``--list-requirements``, -n)."""
    if config.stash.get(_CMDLINE_DONE, False):
        return None
    config.stash[_CMDLINE_DONE] = True
    from conformance.harness import plugin

    return plugin.pytest_cmdline_main(config)


def activate(config: pytest.Config) -> None:
    """Register the conformance plugin and its markers, once per process."""
    if config.stash.get(_ACTIVATED, False):
        return
    config.stash[_ACTIVATED] = True
    from conformance.harness import plugin

    plugin.pytest_configure(config)


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> int | None:
    return cmdline_main(config) if collects_conformance(config) else None


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    if collects_conformance(config):
        activate(config)
