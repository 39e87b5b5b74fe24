"""Run the published baize 0.23.1's own public-API tests against this checkout's ``baize``.

The compatibility rule of the API (docs/upstream.md): code written for upstream baize
0.23.1 runs unchanged here, so upstream's test suite is an executable check of it. This
script

1. downloads the sdist with pip (``pip download --no-deps --no-binary :all:``), checks
   its SHA-256, and unpacks its ``tests/`` folder;
2. lays out a work directory holding those tests and a ``baize`` symlink to this
   checkout's package (upstream's static-file tests serve the folder beside ``tests/``);
3. runs the public-API files with pytest, deselecting by node id the tests that assert a
   protocol violation (:data:`DESELECTED`, each explained in docs/upstream.md).

The run fails on any other failure, so a regression (or a new upstream test this
implementation does not pass) shows. The test-only dependencies (httpx, starlette's test
client, pytest-asyncio) come from the ``upstream-tests`` tox environment.

Usage: ``python tools/upstream_tests.py [--workdir DIR] [--sdist-dir DIR] [pytest args...]``
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

VERSION = "0.23.1"
SDIST = f"baize-{VERSION}.tar.gz"
SDIST_SHA256 = "98346866e4420d21036b0435fae2be6fb01a0cf32b3c8a5398cdb545fea3e022"

#: Upstream's public-API test files (test_wsgi.py and the helpers' tests are left out).
FILES = (
    "tests/test_asgi.py",
    "tests/test_datastructures.py",
    "tests/test_exceptions.py",
    "tests/test_responses.py",
    "tests/test_routing.py",
)

#: Node id -> the protocol clause its assertion breaks (docs/upstream.md has the quotes).
DESELECTED: dict[str, str] = {
    "tests/test_asgi.py::test_file_response[FileResponse]": (
        "RFC 9110 §14.2 (Range on HEAD), §14.4 (Content-Range '*/N'), RFC 2046 §5.1.1 (LF)"
    ),
    "tests/test_asgi.py::test_file_response[response_class1]": "as the [FileResponse] case",
    "tests/test_asgi.py::test_file_response[response_class2]": "as the [FileResponse] case",
    "tests/test_responses.py::test_base_file_response_parse_range": (
        "RFC 9110 §14.1.1/§14.1.2 (416 for satisfiable ranges), §14.6 (part order)"
    ),
    "tests/test_asgi.py::test_subpaths": "ASGI HTTP & WebSocket spec, WSGI compatibility (path)",
}

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "baize"

CONFTEST = '''"""Written by tools/upstream_tests.py: the tests must import this checkout's baize."""

import os

import baize

EXPECTED = {expected!r}


def pytest_report_header(config):
    return f"baize under test: {{os.path.realpath(os.path.dirname(baize.__file__))}}"


def pytest_configure(config):
    found = os.path.realpath(os.path.dirname(baize.__file__))
    if found != EXPECTED:
        raise RuntimeError(f"the tests would import {{found}}, not {{EXPECTED}}")
'''


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def download(sdist_dir: Path) -> Path:
    """The sdist in ``sdist_dir``, downloaded by pip when absent; its hash checked."""
    archive = sdist_dir / SDIST
    if not archive.exists():
        sdist_dir.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:"]
        subprocess.run([*command, f"baize=={VERSION}", "-d", str(sdist_dir)], check=True)
    found = sha256(archive)
    if found != SDIST_SHA256:
        raise SystemExit(f"{archive}: SHA-256 {found}, expected {SDIST_SHA256}")
    return archive


def lay_out(archive: Path, workdir: Path) -> None:
    """``workdir/tests`` from the sdist, ``workdir/baize`` -> this checkout's package."""
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    prefix = f"baize-{VERSION}/tests/"
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith(prefix) and m.isfile()]
        for member in members:
            member.name = member.name[len(f"baize-{VERSION}/") :]
            tar.extract(member, workdir, filter="data")
    (workdir / "baize").symlink_to(PACKAGE, target_is_directory=True)
    (workdir / "conftest.py").write_text(CONFTEST.format(expected=str(PACKAGE)))
    (workdir / "pytest.ini").write_text("[pytest]\nasyncio_mode = strict\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=ROOT / ".tox" / "upstream-tests-run")
    parser.add_argument("--sdist-dir", type=Path, default=ROOT / ".tox" / "upstream-sdist")
    parser.add_argument(
        "--no-deselect", action="store_true", help="run the protocol-violating tests too"
    )
    options, pytest_args = parser.parse_known_args(argv)
    archive = download(options.sdist_dir)
    workdir = options.workdir.resolve()
    lay_out(archive, workdir)
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-c", "pytest.ini"]
    command += ["--rootdir", str(workdir), "-W", "ignore::DeprecationWarning"]
    if not options.no_deselect:
        command += [f"--deselect={node}" for node in DESELECTED]
    command += [*FILES, *pytest_args]
    environment = {**os.environ, "PYTHONPATH": str(workdir)}
    return subprocess.run(command, cwd=workdir, env=environment).returncode


if __name__ == "__main__":
    sys.exit(main())
