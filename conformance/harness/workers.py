"""The default degree of parallelism: ``pytest conformance`` runs under pytest-xdist.

A run is bound by the client side (one pytest process drives every server), so a serial
run leaves the servers' cores idle. When the user passed no ``-n`` (nor ``--dist``/``--tx``),
the plugin asks pytest-xdist for one worker per CPU, at most one per server configuration
(``--dist loadgroup`` keeps all cases of a server in one worker). ``-n 0`` runs serially.
"""

from __future__ import annotations

import os

import pytest

from conformance.harness.serverconfig import ServerConfigError, server_files
from conformance.harness.settings import resolve


def cpu_count() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def configuration_count(config: pytest.Config) -> int:
    """How many server configurations the run may start (``--server``, else the TOML files)."""
    settings = resolve(config)
    if settings.servers:
        return len(set(settings.servers))
    try:
        return len(server_files(settings.servers_dirs))
    except ServerConfigError:  # a missing --servers-dir: the plugin reports it
        return 0


def default_workers(config: pytest.Config) -> int:
    """Workers to use when the user chose none; 0 means stay serial.

    Serial when: this is an xdist worker, pytest-xdist is not loaded (``-p no:xdist``), the
    user chose ``-n``/``--dist``/``--tx``, ``--pdb``, ``--collect-only``, or one CPU or one
    configuration would leave nothing to share.
    """
    if hasattr(config, "workerinput") or not config.pluginmanager.has_plugin("xdist"):
        return 0
    option = config.option
    chosen = (
        getattr(option, "numprocesses", None) is not None
        or getattr(option, "dist", "no") != "no"
        or getattr(option, "distload", False)
        or bool(getattr(option, "tx", None))
    )
    if chosen or getattr(option, "usepdb", False) or getattr(option, "collectonly", False):
        return 0
    workers = min(cpu_count(), configuration_count(config))
    return workers if workers > 1 else 0


def apply_default_workers(config: pytest.Config) -> int:
    """Set ``-n`` to :func:`default_workers` when it is not 0; answer the number set."""
    workers = default_workers(config)
    if workers:
        config.option.numprocesses = workers
    return workers
