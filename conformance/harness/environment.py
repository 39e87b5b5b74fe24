"""The implementation's environment: probe versions with ``--impl-python``, stage the apps."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from conformance.harness.serverconfig import ServerConfig

APPS_DIR = Path(__file__).resolve().parent.parent / "apps"
APPS_PACKAGE = "conformance_apps"
PROBE_TIMEOUT = 30.0

_PROBE = """
import base64, hashlib, importlib, importlib.metadata as md, importlib.util, json, os, platform, sys
impl, modules, dists = sys.argv[1], sys.argv[2].split(",") if sys.argv[2] else [], sys.argv[3:]
def version(name):
    try:
        return md.version(name)
    except md.PackageNotFoundError:
        return None
def digest(path):
    with open(path, "rb") as file:
        raw = hashlib.sha256(file.read()).digest()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
def owner(top, path):
    # the distribution whose RECORD lists this file with this content (several may claim it)
    here, fallback = os.path.realpath(path or ""), None
    for dist in md.packages_distributions().get(top, []):
        found = md.distribution(dist)
        for entry in found.files or []:
            if os.path.realpath(found.locate_file(entry)) != here:
                continue
            fallback = fallback or found
            if entry.hash is None or entry.hash.value == digest(here):
                return found.metadata["Name"], found.version
    return (fallback.metadata["Name"], fallback.version) if fallback else (None, None)
impl_version, impl_error, impl_file = None, None, None
try:
    module = importlib.import_module(impl)
    impl_file = getattr(module, "__file__", None)
    impl_version = getattr(module, "__version__", None)
    if impl_version is None:
        impl_version = owner(impl.partition(".")[0], impl_file)[1]
except Exception as error:
    impl_error = f"{type(error).__name__}: {error}"
found_modules = {}
for name in modules:
    # the module a server command runs (-m NAME), found as the server process will import it
    try:
        spec = importlib.util.find_spec(name)
    except Exception as error:
        found_modules[name] = {"error": f"{type(error).__name__}: {error}"}
        continue
    if spec is None or not spec.origin:
        found_modules[name] = {"error": "not importable"}
        continue
    dist, dist_version = owner(name.partition(".")[0], spec.origin)
    found_modules[name] = {"file": spec.origin, "distribution": dist, "version": dist_version}
print(json.dumps({
    "python": f"{platform.python_implementation()} {platform.python_version()}",
    "impl_version": impl_version, "impl_error": impl_error, "impl_file": impl_file,
    "platform": platform.platform(),
    "dists": {name: version(name) for name in dists},
    "modules": found_modules,
}))
"""


class EnvironmentError_(RuntimeError):
    """The ``--impl-python`` interpreter could not be probed."""


@dataclass(frozen=True)
class ImplEnvironment:
    """What the probe found in the implementation's interpreter."""

    python: str
    impl_version: str | None
    impl_error: str | None
    dists: dict[str, str | None]
    impl_file: str | None = None
    platform: str | None = None
    #: module a server command runs -> {file, distribution, version} or {error}
    modules: dict[str, dict[str, str | None]] = field(default_factory=dict)

    def server_problem(self, config: ServerConfig, python: str) -> str | None:
        """Why ``config`` cannot run here (its distribution missing, or its module owned by
        another distribution: nonecorn and hypercorn both install ``hypercorn``), else None."""
        if self.dists.get(config.distribution) is None:
            return f"distribution {config.distribution!r} not installed for {python}"
        found = self.modules.get(config.module or "")
        if found is None or found.get("distribution") is None:
            return None
        owner = str(found["distribution"])
        if _normal(owner) != _normal(config.distribution):
            return (
                f"module {config.module!r} is {owner} {found.get('version')}'s, not "
                f"{config.distribution}'s (both install it; the last install wins)"
            )
        return None

    def server_version(self, config: ServerConfig) -> str | None:
        """The version of what the server process imports: the distribution that installed
        the file of its ``-m`` module, else the configuration's distribution."""
        found = self.modules.get(config.module or "")
        if found is not None and found.get("version") is not None:
            if _normal(str(found.get("distribution"))) == _normal(config.distribution):
                return found["version"]
            return f"{found['distribution']} {found['version']}"
        return self.dists.get(config.distribution)


def _normal(distribution: str) -> str:
    """A distribution name compared as packaging does (PEP 503 normalisation)."""
    return re.sub(r"[-_.]+", "-", distribution).lower()


def probe(
    python: str,
    impl: str,
    distributions: list[str],
    cwd: Path,
    modules: list[str] | None = None,
) -> ImplEnvironment:
    """Run ``python`` once (in ``cwd``, away from this checkout, ``-B``: no bytecode written
    into any checkout) to read versions; ``modules`` are the servers' ``-m`` modules.

    :raises EnvironmentError_: the interpreter failed or timed out.
    """
    try:
        done = subprocess.run(
            [python, "-I", "-B", "-c", _PROBE, impl, ",".join(modules or ()), *distributions],
            capture_output=True,
            cwd=cwd,
            timeout=PROBE_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise EnvironmentError_(f"cannot run --impl-python {python}: {error}") from error
    if done.returncode != 0:
        raise EnvironmentError_(
            f"--impl-python {python} failed:\n{done.stderr.decode(errors='replace')}"
        )
    data = json.loads(done.stdout)
    return ImplEnvironment(
        data["python"],
        data["impl_version"],
        data["impl_error"],
        data["dists"],
        data.get("impl_file"),
        data.get("platform"),
        data.get("modules", {}),
    )


def stage_apps(root: Path) -> Path:
    """Copy ``conformance/apps`` to ``root/conformance_apps``; return ``root`` (the PYTHONPATH)."""
    shutil.copytree(
        APPS_DIR, root / APPS_PACKAGE, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    return root
