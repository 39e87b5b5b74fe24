"""Options of ``pytest conformance``: --list-requirements, --requirement, --report-name,
--junitxml names, provenance, and ASGI violations reaching the report (one real server run).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from conformance.harness.catalogue import load_catalogue

ROOT = Path(__file__).resolve().parent.parent
RUN_TIMEOUT = 120.0

BROKEN_CASE = """
import pytest

from conformance.test_asgi_app import *  # noqa: F403  (the ASGI-APP sweep cases)
from conformance.test_rootpath import test_url_when_path_includes_root_path  # noqa: F401

@pytest.mark.requirement("ROOTPATH-URL")
def test_broken_endpoint(server):
    with server.http() as client:
        client.get("/rootpath/selftest-broken")
"""


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "pytest", *args, "-p", "no:randomly", "-p", "no:cacheprovider"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )


def test_list_requirements_prints_the_catalogue_fast() -> None:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = run("conformance", "--list-requirements")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU time, not wall time: the 2-core machine is shared, wall time says little here.
    elapsed = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    catalogue = load_catalogue()
    assert [line.split("\t")[0] for line in lines] == list(catalogue)
    first = catalogue[lines[0].split("\t")[0]]
    assert lines[0].split("\t")[1] == first.level
    assert all(len(line.split("\t")) == 4 for line in lines)
    assert elapsed < 5, f"--list-requirements took {elapsed:.1f} s of CPU"
    assert "conformance report" not in done.stdout  # no session, no server, no report


def test_list_requirements_honours_the_selection() -> None:
    done = run("conformance", "--list-requirements", "--requirement", "ROOTPATH-")
    assert done.returncode == 0, done.stderr
    ids = [line.split("\t")[0] for line in done.stdout.splitlines()]
    assert ids and all(i.startswith("ROOTPATH-") for i in ids)


def test_unknown_prefix_is_a_usage_error_listing_the_areas() -> None:
    done = run("conformance", "--requirement", "NOPE-", "--collect-only", "-q")
    assert done.returncode == 4
    assert "unknown --requirement NOPE-" in done.stderr
    assert "asgi-app (ASGI-)" in done.stderr and "rootpath (ROOTPATH-)" in done.stderr


@pytest.fixture(scope="module")
def selected_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One real run: uvicorn only, ROOTPATH-URL* and ASGI-APP-HTTP-START-* only."""
    tmp = tmp_path_factory.mktemp("selected")
    suite = tmp / "suite"
    suite.mkdir()
    (suite / "conftest.py").write_text(
        "from conformance.harness.plugin import pytest_addoption, pytest_cmdline_main, "
        "pytest_configure  # noqa: F401\n"
    )
    (suite / "test_broken.py").write_text(BROKEN_CASE)
    done = run(
        str(suite),
        f"--servers-dir={ROOT / 'servers'}",
        "--server",
        "uvicorn",
        "--requirement",
        "ROOTPATH-URL",
        "--requirement",
        "ASGI-APP-HTTP-START-",
        f"--report-dir={tmp / 'reports'}",
        "--report-name=upstream-x",
        f"--junitxml={tmp / 'junit.xml'}",
        f"--rootdir={ROOT}",
    )
    path = tmp / "reports" / "upstream-x.json"
    assert path.exists(), done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(path.read_text())
    return {"done": done, "report": report, "tmp": tmp}


def test_selection_runs_only_matching_cases(selected_run: dict[str, Any]) -> None:
    report = selected_run["report"]
    ids = {r["requirement"] for r in report["results"]}
    assert ids <= {"ROOTPATH-URL", "ROOTPATH-URL-UNPREFIXED"} | {
        i for i in load_catalogue() if i.startswith("ASGI-APP-HTTP-START-")
    }
    assert {"ROOTPATH-URL", "ASGI-APP-HTTP-START-ONCE"} <= ids
    assert all(
        r["id"].startswith(("ROOTPATH-URL", "ASGI-APP-HTTP-START-")) for r in report["requirements"]
    )
    assert {r["server"] for r in report["results"]} == {"uvicorn"}


def test_report_name_writes_all_three_files(selected_run: dict[str, Any]) -> None:
    reports = selected_run["tmp"] / "reports"
    assert sorted(p.name for p in reports.iterdir()) == [
        "upstream-x.html",
        "upstream-x.json",
        "upstream-x.md",
    ]


def test_violation_fails_its_rule_for_the_case(selected_run: dict[str, Any]) -> None:
    rows = [
        r
        for r in selected_run["report"]["results"]
        if r["requirement"] == "ASGI-APP-HTTP-START-ONCE" and r["outcome"] == "fail"
    ]
    cases = {r["case"] for r in rows}
    assert any(c.endswith("test_broken_endpoint[uvicorn]") for c in cases), rows
    detail = next(r["detail"] for r in rows if r["case"].endswith("[uvicorn]"))
    assert "second http.response.start" in detail and "'http.response.start'" in detail
    assert "/rootpath/selftest-broken" in detail
    # the sweep case of the rule fails in pytest too
    assert "test_http_start_once[uvicorn]" in selected_run["done"].stdout


def test_provenance_in_run(selected_run: dict[str, Any]) -> None:
    run_info = selected_run["report"]["run"]
    for key in ("impl_file", "platform", "harness_version", "catalogue_sha256", "python"):
        assert run_info[key], key
    assert len(run_info["catalogue_sha256"]) == 64
    server = run_info["servers"][0]
    assert server["name"] == "uvicorn" and server["version"]
    assert "extensions" in server and server["asgi"]["version"] == "3.0"
    assert run_info["requirements_selected"] == ["ROOTPATH-URL", "ASGI-APP-HTTP-START-"]


def test_root_path_facts_are_measured(selected_run: dict[str, Any]) -> None:
    facts = selected_run["report"]["open_behaviours"]["root_path"]["servers"]["uvicorn"]
    assert facts["option"] == "--root-path /mount"
    assert facts["without_prefix"]["root_path"] == "/mount"
    assert facts["without_prefix"]["path"] == "/mount/rootpath/scope/a b"


def test_junit_names_are_requirements_on_server(selected_run: dict[str, Any]) -> None:
    tree = ET.parse(selected_run["tmp"] / "junit.xml")
    names = {case.get("name") for case in tree.iter("testcase")}
    assert "ROOTPATH-URL on uvicorn" in names
    assert "ASGI-APP-HTTP-START-ONCE on uvicorn" in names
