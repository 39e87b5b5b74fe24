"""The frameworks measured beside baize (the ``peers`` extra): which are installed, which
scenario apps each one has, and which are targets.

A peer that is not installed is reported as such (``not installed``), never an exception:
nothing here imports a framework; :func:`available` only asks whether its modules exist.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Peer:
    """One framework: its benchmark app module, the modules it needs, the apps it has."""

    name: str
    module: str  # benchmarks.apps.<...>: the scenario apps, same attribute names as raw.py
    requires: tuple[str, ...]  # importable module names; a missing one means not installed
    distribution: str  # the distribution whose version is reported
    apps: frozenset[str]  # the Scenario.app attributes the module defines
    compiled: bool = False  # the compiled reference (reported, never a target)


_WEB = frozenset(("hello", "json_router", "file"))
PEERS = {
    p.name: p
    for p in (
        Peer(
            "sse-starlette",
            "benchmarks.apps.sse_starlette_impl",
            ("starlette", "sse_starlette"),
            "sse-starlette",
            frozenset(("sse",)),
        ),
        Peer(
            "litestar",
            "benchmarks.apps.litestar_impl",
            ("litestar",),
            "litestar",
            _WEB | {"sse"},
        ),
        Peer("falcon", "benchmarks.apps.falcon_impl", ("falcon",), "falcon", _WEB | {"sse"}),
        Peer(
            "fastapi",
            "benchmarks.apps.fastapi_impl",
            ("fastapi", "sse_starlette"),
            "fastapi",
            _WEB | {"sse"},
        ),
        Peer(
            "blacksheep",
            "benchmarks.apps.blacksheep_impl",
            ("blacksheep",),
            "blacksheep",
            _WEB | {"sse"},
            compiled=True,
        ),
    )
}
#: The install hint of a missing peer.
INSTALL_HINT = 'pip install -e ".[peers]"'


def _module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def available(
    names: Sequence[str], exists: Callable[[str], bool] | None = None
) -> tuple[list[str], dict[str, str]]:
    """Split ``names`` into the installed peers and the others.

    :param exists: whether a module can be imported (a test's fake).
    :returns: the installed peers, in order, and ``{peer: "not installed (<module> missing)"}``.
    """
    exists = exists or _module_exists
    installed: list[str] = []
    missing: dict[str, str] = {}
    for name in names:
        absent = [m for m in PEERS[name].requires if not exists(m)]
        if absent:
            missing[name] = f"not installed ({', '.join(absent)} missing; {INSTALL_HINT})"
        else:
            installed.append(name)
    return installed, missing


def for_app(peers: Sequence[str], app: str) -> list[str]:
    """The peers among ``peers`` that serve the scenario app ``app``."""
    return [p for p in peers if app in PEERS[p].apps]


def versions(names: Sequence[str]) -> dict[str, str]:
    """Each peer's distribution version, or ``not installed``."""
    found: dict[str, str] = {}
    for name in names:
        try:
            found[name] = importlib.metadata.version(PEERS[name].distribution)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def targets(peers: Mapping[str, Peer] = PEERS) -> list[str]:
    """The pure-Python peers: baize must reach 1.0x each (BlackSheep is the compiled reference)."""
    return [name for name, p in peers.items() if not p.compiled]
