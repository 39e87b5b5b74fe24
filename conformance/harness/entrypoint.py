"""The ``pytest11`` entry point ``baize_conformance``: the suite as an installed tool.

Installing ``baize-reference`` makes pytest load this module in every run of that
environment. It acts only when the run's arguments reach the conformance package
(``pytest --pyargs conformance``, ``baize-conformance``/``python -m conformance``, or
``pytest PATH`` with ``PATH`` inside the package): then it registers the suite's options and
activates the plugin. Any other run (another project's ``pytest``) sees nothing of it, not
even the options, so an option of the same name elsewhere cannot clash.

``conformance/conftest.py`` does the same when no entry point is installed (a bare
checkout); both go through :func:`activate` and :func:`cmdline_main`, which run once per
pytest process. The heavy plugin module is imported only on activation.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from conformance.harness.settings import PACKAGE_DIR, add_options

ENTRY_POINT = "baize_conformance"  # ``-p no:baize_conformance`` turns it off
PACKAGE = "conformance"
OPTION_PROBE = "no_builtin_servers"  # dest of one of the suite's options: are they registered?
_CMDLINE_DONE = pytest.StashKey[bool]()
_ACTIVATED = pytest.StashKey[bool]()


def reaches_package(args: Sequence[str], pyargs: bool, invoked: Path, rootpath: Path) -> bool:
    """Whether collecting ``args`` reaches the conformance package.

    True for a module argument ``conformance[.x]`` under ``--pyargs``, a path inside the
    package, or (in the checkout) a directory holding it, e.g. ``pytest .``.
    """
    checkout = PACKAGE_DIR.parent == rootpath.resolve()
    for arg in args:
        target = arg.split("::", 1)[0]
        if pyargs and (target == PACKAGE or target.startswith(PACKAGE + ".")):
            return True
        path = Path(invoked, target).resolve()
        if path == PACKAGE_DIR or PACKAGE_DIR in path.parents:
            return True
        if checkout and path in PACKAGE_DIR.parents:
            return True
    return False


def collects_conformance(config: pytest.Config) -> bool:
    """Whether this run collects the conformance package (and its options are registered)."""
    return hasattr(config.option, OPTION_PROBE) and reaches_package(
        config.args,
        bool(config.option.pyargs),
        Path(config.invocation_params.dir),
        Path(config.rootpath),
    )


def _initial_args(early_config: pytest.Config) -> list[str]:
    """The arguments pytest will collect, as known before the command line is fully parsed:
    the positional ones, else ``testpaths`` (from the rootdir), else the invocation dir."""
    namespace = early_config.known_args_namespace
    invoked = Path(early_config.invocation_params.dir)
    given = [str(arg) for arg in getattr(namespace, "file_or_dir", None) or []]
    if given:
        return given
    if invoked == Path(early_config.rootpath):
        testpaths = [str(path) for path in early_config.getini("testpaths")]
        if testpaths:
            return testpaths
    return [str(invoked)]


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


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(
    early_config: pytest.Config, parser: pytest.Parser, args: list[str]
) -> None:
    """Register the options, before the command line is parsed, only for a conformance run."""
    namespace = early_config.known_args_namespace
    if reaches_package(
        _initial_args(early_config),
        bool(getattr(namespace, "pyargs", False)),
        Path(early_config.invocation_params.dir),
        Path(early_config.rootpath),
    ):
        add_options(parser)


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> int | None:
    return cmdline_main(config) if collects_conformance(config) else None


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    if collects_conformance(config):
        activate(config)
