"""The external programs the benchmarks use, found once: wrk, h2load, taskset and git.

:meth:`Tools.detect` looks each one up on ``PATH`` and asks its version; the runner builds
one :class:`Tools` and hands it to whoever starts a program, so a test fakes it whole
(``Tools(wrk=Tool("/fake/wrk", "wrk 4.1.0"))``) and never needs a real one. Every tool is
optional at this level: a missing one is ``None``, reported in the runner's output and in
the report's environment, never an exception. What each absence costs is the caller's
business (see "External tools" in benchmarks/README.md): no wrk, no load run; no h2load, the
HTTP/2 scenarios are not measured; no taskset, no CPU pinning; no git, commit ``unknown``.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, fields
from pathlib import Path

#: Seconds a ``--version`` (or ``git rev-parse``) may take before it is given up.
VERSION_TIMEOUT = 10.0
MISSING = "missing"
UNKNOWN_COMMIT = "unknown"
INSTALL_HINTS = {
    "wrk": (
        "wrk is not installed. Install it from Debian with\n"
        "    sudo apt-get update && sudo apt-get install -y wrk\n"
        "or run benchmarks/install-tools.sh (it also installs h2load from nghttp2-client)."
    ),
    "h2load": (
        "h2load is not installed: HTTP/2 scenarios are not measured. Install it from Debian"
        " with\n    sudo apt-get update && sudo apt-get install -y nghttp2-client\n"
        "or run benchmarks/install-tools.sh."
    ),
    "taskset": (
        "taskset is not installed: CPU pinning is off, servers and load generators share every"
        " CPU. Install it from Debian with\n"
        "    sudo apt-get update && sudo apt-get install -y util-linux"
    ),
    "git": "git is not installed: the report's commit is 'unknown'.",
}
#: The arguments that make each tool print its version.
_VERSION_ARGS = {
    "wrk": ["-v"],
    "h2load": ["--version"],
    "taskset": ["--version"],
    "git": ["--version"],
}


class ToolMissing(RuntimeError):
    """A program was asked for that is not installed; the message says how to install it."""


@dataclass(frozen=True)
class Tool:
    """One installed program: where it is and what it says its version is."""

    path: str
    version: str


@dataclass(frozen=True)
class Tools:
    """The external programs of the benchmarks; ``None`` for each one that is missing."""

    wrk: Tool | None = None
    h2load: Tool | None = None
    taskset: Tool | None = None
    git: Tool | None = None

    @classmethod
    def detect(cls) -> Tools:
        """Find every tool on ``PATH`` and ask its version (once; this runs each one)."""
        found: dict[str, Tool | None] = {}
        for name, args in _VERSION_ARGS.items():
            path = shutil.which(name)
            found[name] = None if path is None else Tool(path, _version(name, path, args))
        return cls(**found)

    def names(self) -> list[str]:
        return [f.name for f in fields(self)]

    def get(self, name: str) -> Tool | None:
        """The tool called ``name`` (``wrk``, ``h2load``, ``taskset``, ``git``), or None."""
        tool: Tool | None = getattr(self, name)
        return tool

    def need(self, name: str) -> str:
        """The path of tool ``name``.

        :raises ToolMissing: it is not installed (the message is its install hint).
        """
        tool = self.get(name)
        if tool is None:
            raise ToolMissing(INSTALL_HINTS[name])
        return tool.path

    def missing(self) -> list[str]:
        """The names of the tools not installed, in a fixed order."""
        return [name for name in self.names() if self.get(name) is None]

    def versions(self) -> dict[str, str]:
        """Each tool's version line, or ``missing``: the report's environment section."""
        versions: dict[str, str] = {}
        for name in self.names():
            tool = self.get(name)
            versions[name] = MISSING if tool is None else tool.version
        return versions

    def git_commit(self, root: Path) -> str:
        """The short commit of the checkout at ``root``, or ``unknown`` (no git, no checkout)."""
        if self.git is None:
            return UNKNOWN_COMMIT
        try:
            result = subprocess.run(
                [self.git.path, "rev-parse", "--short", "HEAD"],
                cwd=root,
                capture_output=True,
                text=True,
                timeout=VERSION_TIMEOUT,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return UNKNOWN_COMMIT
        commit = result.stdout.strip()
        return commit if result.returncode == 0 and commit else UNKNOWN_COMMIT


def _version(name: str, path: str, args: list[str]) -> str:
    """The first line a tool prints about its version (``wrk -v`` exits 1: no matter)."""
    try:
        result = subprocess.run(
            [path, *args], capture_output=True, text=True, timeout=VERSION_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{name} (version unknown: {type(exc).__name__})"
    lines = (result.stdout.strip() or result.stderr.strip()).splitlines()
    if not lines:
        return f"{name} (version unknown)"
    return lines[0].split(" Copyright")[0]  # wrk: "wrk debian/4.1.0-3+b2 [epoll] Copyright ..."
