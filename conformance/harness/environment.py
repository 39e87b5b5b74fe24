"""The implementation's environment: probe versions with ``--impl-python``, stage the apps."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

APPS_DIR = Path(__file__).resolve().parent.parent / "apps"
APPS_PACKAGE = "conformance_apps"
PROBE_TIMEOUT = 30.0

_PROBE = """
import importlib, importlib.metadata as md, json, os, platform, sys
impl, dists = sys.argv[1], sys.argv[2:]
def version(name):
    try:
        return md.version(name)
    except md.PackageNotFoundError:
        return None
impl_version, impl_error, impl_file = None, None, None
try:
    module = importlib.import_module(impl)
    impl_file = getattr(module, "__file__", None)
    impl_version = getattr(module, "__version__", None)
    if impl_version is None:
        # the distribution that installed the imported file (several may claim the name)
        here = os.path.realpath(impl_file or "")
        for dist in md.packages_distributions().get(impl, []):
            found = md.distribution(dist)
            files = [os.path.realpath(found.locate_file(f)) for f in found.files or []]
            if here in files or impl_version is None:
                impl_version = found.version
            if here in files:
                break
except Exception as error:
    impl_error = f"{type(error).__name__}: {error}"
print(json.dumps({
    "python": f"{platform.python_implementation()} {platform.python_version()}",
    "impl_version": impl_version, "impl_error": impl_error, "impl_file": impl_file,
    "platform": platform.platform(),
    "dists": {name: version(name) for name in dists},
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


def probe(python: str, impl: str, distributions: list[str], cwd: Path) -> ImplEnvironment:
    """Run ``python`` once (in ``cwd``, away from this checkout) to read versions.

    :raises EnvironmentError_: the interpreter failed or timed out.
    """
    try:
        done = subprocess.run(
            [python, "-I", "-c", _PROBE, impl, *distributions],
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
    )


def stage_apps(root: Path) -> Path:
    """Copy ``conformance/apps`` to ``root/conformance_apps``; return ``root`` (the PYTHONPATH)."""
    shutil.copytree(
        APPS_DIR, root / APPS_PACKAGE, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    return root
