"""Keep servers and load generators on separate CPUs.

On a small shared machine a server and its load generator otherwise fight for the same
cores, and the scheduler's choices add noise that no number of rounds removes. Pinning
gives the server under test the first half of the CPUs this process may use and the
load generators (wrk, h2load, the Python socket clients) the rest; every implementation
of a scenario gets the same CPUs, so the ratios stay fair.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from benchmarks.tools import Tools

#: The note of a run that wanted pinning on a machine without taskset.
NO_TASKSET = (
    "CPU pinning off: taskset missing (Debian util-linux); servers and load generators"
    " share every CPU"
)


@dataclass(frozen=True)
class Pinning:
    """Which CPUs the servers and the load generators use."""

    server: tuple[int, ...]
    clients: tuple[int, ...]

    def describe(self) -> str:
        return f"servers on CPU {_ids(self.server)}, load generators on CPU {_ids(self.clients)}"

    def server_prefix(self, taskset: str) -> list[str]:
        """The command prefix that starts a server on its CPUs (``taskset``, by its path)."""
        return [taskset, "--cpu-list", _ids(self.server)]


def split(available: Collection[int]) -> Pinning | None:
    """Half of ``available`` for servers, the rest for clients; ``None`` below 2 CPUs."""
    cpus = sorted(available)
    if len(cpus) < 2:
        return None
    half = len(cpus) // 2
    return Pinning(tuple(cpus[:half]), tuple(cpus[half:]))


def available() -> set[int]:
    """The CPUs this process may run on."""
    return set(os.sched_getaffinity(0))


def choose(tools: Tools, wanted: bool) -> tuple[Pinning | None, str | None]:
    """The pinning of a run, and why there is none when it was ``wanted`` but cannot be.

    None without ``wanted`` (``--no-pin``) or below 2 CPUs; None and :data:`NO_TASKSET`
    without taskset: the run goes on unpinned and says so.
    """
    pinning = split(available()) if wanted else None
    if pinning is not None and tools.taskset is None:
        return None, NO_TASKSET
    return pinning, None


@contextmanager
def clients_pinned(pinning: Pinning | None) -> Iterator[None]:
    """Run this process (and the load generators it starts) on the client CPUs, then restore."""
    if pinning is None:
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, pinning.clients)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def _ids(cpus: tuple[int, ...]) -> str:
    return ",".join(str(cpu) for cpu in cpus)
