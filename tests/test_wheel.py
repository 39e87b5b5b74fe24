"""The suite as an installed tool: build the wheel, install it with its extras into a fresh
virtual environment outside the checkout, and run it from a temporary directory.

Checks ``pytest --pyargs conformance`` (reports land in ``./reports/`` of that directory, not
in site-packages), the ``baize-conformance`` console script with ``--impl`` (another
implementation installed in the same environment) and ``--impl-python`` (the implementation
and servers of another environment: the one running this test). Needs PyPI (or the pip
cache) for the extras; the stage durations are printed (``-s``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
STEP_TIMEOUT = 300.0
SOURCES = ("pyproject.toml", "README.md", "baize", "conformance")
SELECTION = ("--server", "uvicorn", "--requirement", "ASGI-HTTP-SCOPE")
ONE_CASE = ("--server", "uvicorn", "--requirement", "ASGI-HTTP-SCOPE-METHOD")
# Another implementation in the installed environment: the installed baize under a new name.
SHIM = """
import sys
import baize, baize.asgi, baize.datastructures, baize.exceptions, baize.routing
for _name in ("asgi", "datastructures", "exceptions", "routing"):
    sys.modules[f"{__name__}.{_name}"] = getattr(baize, _name)
__version__ = "9.9.9-shim"
"""


def clean_env() -> dict[str, str]:
    """This environment without what would leak the checkout into the installed one."""
    drop = ("PYTHONPATH", "PYTEST_ADDOPTS", "VIRTUAL_ENV", "CONFORMANCE_RUN_TOKEN")
    return {k: v for k, v in os.environ.items() if k not in drop}


def check(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        command,
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=STEP_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, f"{command}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def build_wheel(tmp_path: Path) -> Path:
    """The wheel of a copy of the sources (an in-tree build would leave build/ behind)."""
    source = tmp_path / "source"
    source.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=ignore)
        else:
            shutil.copy2(ROOT / name, source / name)
    wheels = tmp_path / "wheels"
    pip = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels)]
    check([*pip, str(source)], tmp_path)
    (wheel,) = wheels.glob("baize_reference-*.whl")
    return wheel


def install(wheel: Path, venv: Path) -> Path:
    """A fresh virtual environment with the wheel and its servers and test extras."""
    check([sys.executable, "-m", "venv", "--without-pip", str(venv)], venv.parent)
    python = venv / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-compile"]
    check([*pip, f"{wheel}[servers,test]"], venv.parent)
    return python


def start(command: list[str], cwd: Path) -> subprocess.Popen[str]:
    cwd.mkdir()
    return subprocess.Popen(
        command,
        cwd=cwd,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(process: subprocess.Popen[str], cwd: Path) -> dict[str, Any]:
    """Wait for a run; its report from ``cwd/reports/``."""
    out, _ = process.communicate(timeout=STEP_TIMEOUT)
    assert process.returncode == 0, out[-4000:]
    path = cwd / "reports" / "conformance.json"
    assert path.is_file(), f"no report in {cwd / 'reports'}:\n{out[-3000:]}"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    outcomes = {r["outcome"] for r in data["results"]}
    assert data["results"] and outcomes == {"pass"}, outcomes
    assert {r["server"] for r in data["results"]} == {"uvicorn"}
    return data


@pytest.mark.timeout(3 * STEP_TIMEOUT)
def test_the_installed_wheel_runs_the_suite_from_any_directory(tmp_path: Path) -> None:
    timings: dict[str, float] = {}
    started = time.monotonic()
    wheel = build_wheel(tmp_path)
    timings["build"] = time.monotonic() - started
    venv = tmp_path / "venv"
    python = install(wheel, venv)
    timings["venv+install"] = time.monotonic() - started - timings["build"]
    bin_dir = venv / "bin"
    site = Path(
        check(
            [str(python), "-c", "import conformance; print(conformance.__file__)"], tmp_path
        ).stdout.strip()
    ).parent.parent
    assert venv in site.parents and ROOT not in site.parents

    # Another implementation installed in the fresh environment (for --impl).
    (site / "otherbaize").mkdir()
    (site / "otherbaize" / "__init__.py").write_text(SHIM)

    # A project's ini above the runs (its rootdir holds the venv, as with a project's .venv):
    # the reports still go to the directory each run starts in.
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    plain, impl, impl_python = tmp_path / "plain", tmp_path / "impl", tmp_path / "impl-python"
    pytest_args = [str(python), "-m", "pytest", "--pyargs", "conformance", "-p", "no:cacheprovider"]
    runs = {
        plain: start([*pytest_args, *SELECTION], plain),
        impl: start([str(bin_dir / "baize-conformance"), *ONE_CASE, "--impl", "otherbaize"], impl),
        impl_python: start([*pytest_args, *ONE_CASE, "--impl-python", sys.executable], impl_python),
    }
    reports = {cwd: finish(process, cwd) for cwd, process in runs.items()}
    timings["three runs"] = time.monotonic() - started - sum(timings.values())
    print("wheel test stages (s):", {k: round(v, 1) for k, v in timings.items()})

    assert not list(site.glob("**/reports")), "a report was written into site-packages"
    assert not (tmp_path / "reports").exists(), "a report was written into the rootdir"
    run = reports[plain]["run"]
    assert {r["requirement"] for r in reports[plain]["results"]} >= {
        "ASGI-HTTP-SCOPE-METHOD",
        "ASGI-HTTP-SCOPE-PATH",
    }
    assert run["impl"] == "baize" and str(site) in run["impl_file"]

    run = reports[impl]["run"]
    assert (run["impl"], run["impl_version"]) == ("otherbaize", "9.9.9-shim")
    assert str(site / "otherbaize") in run["impl_file"]

    run = reports[impl_python]["run"]
    assert run["impl"] == "baize" and str(venv) not in run["impl_file"]
    assert run["impl_file"] == __import__("baize").__file__
