"""Command-line options of ``pytest conformance`` resolved into one frozen :class:`Settings`."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from conformance.harness.transport import add_transport_option

SERVER_DESC = "server configuration to run (repeatable; default: every installed one)"
IMPL_DESC = "import name of the implementation under test (default: baize)"
IMPL_PYTHON_DESC = (
    "interpreter whose environment holds the implementation and the servers "
    "(default: the running one)"
)
REPORT_DIR_DESC = (
    "directory for conformance.json/.md/.html (default: reports/ of the checkout when run "
    "from it, else reports/ of the current directory)"
)
SERVERS_DIR_DESC = (
    "directory of server TOML files added to the shipped ones (conformance/servers/); a file "
    "NAME.toml overrides the configuration NAME (repeatable; later wins)"
)
NO_BUILTIN_SERVERS_DESC = "load only the --servers-dir configurations, not the shipped ones"
PACKAGE_DIR = Path(__file__).resolve().parent.parent
BUILTIN_SERVERS_DIR = PACKAGE_DIR / "servers"
REQUIREMENT_DESC = (
    "run only the cases tied to requirement ids starting with PREFIX (repeatable); "
    "the report then holds only those ids"
)
LIST_DESC = "print the requirement catalogue (id, level, clause, text) and exit"
REPORT_NAME_DESC = "base name of the report files: NAME.json/.md/.html (default: conformance)"
CASE_TIMEOUT = 30.0
MAX_RESTARTS_DESC = (
    "restarts of a server that exits mid-run before its later cases fail at once "
    "with 'gave up after N restarts' (default: 2)"
)
DEFAULT_MAX_RESTARTS = 2


@dataclass(frozen=True)
class Settings:
    """Resolved options."""

    servers: tuple[str, ...]
    impl: str
    impl_python: str
    report_dir: Path
    servers_dirs: tuple[Path, ...]  # the shipped folder first, then each --servers-dir
    requirements: tuple[str, ...] = ()
    report_name: str = "conformance"
    max_restarts: int = DEFAULT_MAX_RESTARTS

    def selects(self, requirement: str) -> bool:
        """Whether ``--requirement`` keeps ``requirement`` (no option keeps everything)."""
        return not self.requirements or requirement.startswith(self.requirements)


def add_options(parser: pytest.Parser) -> None:
    """Register the suite's options; a second call (plugin and conftest both loaded) is a no-op."""
    group = parser.getgroup("conformance", "baize conformance suite")
    if any("--server" in option.names() for option in group.options):
        return
    group.addoption("--server", action="append", default=[], metavar="NAME", help=SERVER_DESC)
    group.addoption("--impl", default="baize", metavar="MODULE", help=IMPL_DESC)
    group.addoption("--impl-python", default=None, metavar="PATH", help=IMPL_PYTHON_DESC)
    group.addoption("--report-dir", default=None, metavar="DIR", help=REPORT_DIR_DESC)
    group.addoption(
        "--servers-dir", action="append", default=[], metavar="DIR", help=SERVERS_DIR_DESC
    )
    group.addoption(
        "--no-builtin-servers", action="store_true", default=False, help=NO_BUILTIN_SERVERS_DESC
    )
    group.addoption(
        "--requirement", action="append", default=[], metavar="PREFIX", help=REQUIREMENT_DESC
    )
    group.addoption("--list-requirements", action="store_true", default=False, help=LIST_DESC)
    group.addoption("--report-name", default="conformance", metavar="NAME", help=REPORT_NAME_DESC)
    group.addoption(
        "--max-restarts",
        type=_non_negative,
        default=DEFAULT_MAX_RESTARTS,
        metavar="N",
        help=MAX_RESTARTS_DESC,
    )
    add_transport_option(parser)


def _non_negative(text: str) -> int:
    """``--max-restarts`` value: a whole number >= 0 (argparse turns the error into usage)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number >= 0")
    return value


def from_checkout(config: pytest.Config) -> bool:
    """Whether pytest runs from this package's checkout (its rootdir holds ``conformance/``),
    rather than on an installed copy (``pytest --pyargs conformance``, ``baize-conformance``)."""
    return PACKAGE_DIR.parent == Path(config.rootpath).resolve()


def default_report_dir(config: pytest.Config) -> Path:
    """``reports/`` of the checkout when run from it, else of the invocation directory."""
    base = config.rootpath if from_checkout(config) else config.invocation_params.dir
    return Path(base) / "reports"


def resolve(config: pytest.Config) -> Settings:
    """Options > defaults; paths relative to the invocation directory."""
    invoked = Path(config.invocation_params.dir)
    report_dir = config.getoption("report_dir")
    extra_dirs = tuple(invoked / d for d in dict.fromkeys(config.getoption("servers_dir")))
    builtin = () if config.getoption("no_builtin_servers") else (BUILTIN_SERVERS_DIR,)
    return Settings(
        servers=tuple(config.getoption("server")),
        impl=config.getoption("impl"),
        impl_python=config.getoption("impl_python") or sys.executable,
        report_dir=invoked / report_dir if report_dir else default_report_dir(config),
        servers_dirs=(*builtin, *extra_dirs),
        requirements=tuple(dict.fromkeys(config.getoption("requirement"))),
        report_name=config.getoption("report_name"),
        max_restarts=config.getoption("max_restarts"),
    )
