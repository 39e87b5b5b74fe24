"""The ``baize_conformance`` pytest11 entry point: options and plugin only when the conformance
package is collected (another project's run sees nothing); once with the checkout's conftest."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from conformance.harness.entrypoint import reaches_package
from conformance.harness.settings import default_report_dir

ROOT = Path(__file__).resolve().parent.parent
RUN_TIMEOUT = 120.0


def fake_config(cwd: Path, root: Path = ROOT) -> Any:
    return cast(
        pytest.Config, SimpleNamespace(invocation_params=SimpleNamespace(dir=cwd), rootpath=root)
    )


@pytest.mark.parametrize(
    ("args", "cwd", "pyargs", "expected"),
    [
        (["tests"], ROOT, False, False),
        (["tests/test_ranges.py::test_x"], ROOT, False, False),
        (["conformance"], ROOT, False, True),
        (["conformance/test_sse.py::test_x[uvicorn]"], ROOT, False, True),
        (["../conformance"], ROOT / "tests", False, True),
        (["."], ROOT, False, True),  # the checkout holds the package
        (["conformance"], Path("/"), True, True),
        (["conformance.test_sse"], Path("/"), True, True),
        (["conformancex"], Path("/"), True, False),
        (["mypackage"], Path("/"), True, False),
        ([str(ROOT / "tests")], Path("/"), False, False),
    ],
)
def test_reaches_package(args: list[str], cwd: Path, pyargs: bool, expected: bool) -> None:
    assert reaches_package(args, pyargs, cwd, ROOT) is expected


def test_an_ancestor_outside_the_checkout_does_not_activate(tmp_path: Path) -> None:
    # An installed copy under a project (e.g. .venv/): pytest does not collect it from there.
    assert not reaches_package(["/"], False, tmp_path, tmp_path)


def test_report_dir_default(tmp_path: Path) -> None:
    assert default_report_dir(fake_config(ROOT / "tests")) == ROOT / "reports"
    elsewhere = fake_config(tmp_path / "sub", root=tmp_path)
    assert default_report_dir(elsewhere) == tmp_path / "sub" / "reports"


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "PYTHONPATH")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )


# Another project with an option of the same name as one of the suite's.
OWN_CONFTEST = """
def pytest_addoption(parser):
    parser.addoption("--server", default="mine")

def pytest_report_header(config):
    return f"own server option: {config.getoption('server')}"
"""


def test_an_unrelated_project_sees_nothing_of_it(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(OWN_CONFTEST)
    (tmp_path / "test_plain.py").write_text("def test_plain():\n    assert True\n")
    done = run(["--server", "theirs"], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout and "own server option: theirs" in done.stdout
    assert "conformance" not in done.stdout.replace("baize-reference", "")
    assert not (tmp_path / "reports").exists()
    assert "--servers-dir" not in run(["--help"], tmp_path).stdout
    assert "mark.requirement" not in run(["--markers"], tmp_path).stdout


def test_the_checkout_registers_the_plugin_once() -> None:
    assert "--servers-dir=DIR" in run(["conformance", "--help"], ROOT).stdout
    done = run(["conformance", "--markers"], ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("@pytest.mark.requirement(") == 1
    listed = run(["conformance", "--list-requirements", "--requirement", "ROOTPATH-"], ROOT)
    assert listed.returncode == 0, listed.stderr
    ids = [line.split("\t")[0] for line in listed.stdout.splitlines()]
    assert ids and len(ids) == len(set(ids))  # printed once, not once per registration
