"""``python -m conformance.merge``: per-server reports of real runs merge into the report of
one run of both servers; incompatible reports and overlapping servers are refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conformance import merge
from conformance.compare import cells

ROOT = Path(__file__).resolve().parent.parent
RUN_TIMEOUT = 240.0
# HTTP scope cases (pass everywhere) and root_path cases (an open-behaviour fact per server,
# a not-applicable on uvicorn): a small selection that still has every part of a report.
SELECTION = ("--requirement", "ASGI-HTTP-SCOPE", "--requirement", "ROOTPATH-URL")
SHARDS = {"uvicorn": ("uvicorn",), "hypercorn": ("hypercorn",), "both": ("uvicorn", "hypercorn")}


def start_run(servers: tuple[str, ...], report_dir: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    chosen = [arg for name in servers for arg in ("--server", name)]
    options = ["-n", "0", "-q", "-p", "no:cacheprovider", f"--report-dir={report_dir}"]
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "conformance", *chosen, *SELECTION, *options],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def real_reports(base: Path) -> dict[str, Path]:
    """uvicorn alone, hypercorn alone, and both in one run (the three run side by side)."""
    runs = {label: start_run(servers, base / label) for label, servers in SHARDS.items()}
    paths = {}
    for label, process in runs.items():
        out, _ = process.communicate(timeout=RUN_TIMEOUT)
        assert process.returncode == 0, out[-3000:]
        paths[label] = base / label / "conformance.json"
    return paths


def read(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def rows(document: dict[str, Any]) -> set[tuple[str, str, str, str]]:
    return {(r["requirement"], r["server"], r["case"], r["outcome"]) for r in document["results"]}


@pytest.mark.timeout(RUN_TIMEOUT + 60)
def test_merged_shards_equal_one_run_of_both(tmp_path: Path) -> None:
    reports = real_reports(tmp_path / "runs")
    out = tmp_path / "merged"
    shards = [str(reports["uvicorn"]), str(reports["hypercorn"])]
    done = subprocess.run(
        [sys.executable, "-m", "conformance.merge", *shards, "--out", str(out)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "merged 2 reports (uvicorn, hypercorn;" in done.stdout
    merged, both = read(out / "conformance.json"), read(reports["both"])

    assert cells(merged) == cells(both)
    assert {server for server, _ in cells(merged)} == {
        "uvicorn",
        "hypercorn",
        "hypercorn/h2c",
        "hypercorn/h2",
    }
    assert rows(merged) == rows(both)
    assert {"pass", "not-applicable"} <= {outcome for *_, outcome in rows(merged)}
    assert [r["id"] for r in merged["requirements"]] == [r["id"] for r in both["requirements"]]
    assert set(merged["run"]) == set(both["run"]) | {"merged_from"}  # the same provenance
    for field in ("impl", "impl_version", "impl_file", "python", "catalogue_sha256"):
        assert merged["run"][field] == both["run"][field]
    assert merged["run"]["requirements_selected"] == both["run"]["requirements_selected"]
    assert [s["name"] for s in merged["run"]["servers"]] == ["uvicorn", "hypercorn"]
    assert [s.get("trio") for s in merged["run"]["servers"]] == [False, False]  # kept
    facts = merged["open_behaviours"]["root_path"]["servers"]
    assert set(facts) == {"uvicorn", "hypercorn"}
    shard_facts = read(reports["hypercorn"])["open_behaviours"]["root_path"]["servers"]
    assert facts["hypercorn"] == shard_facts["hypercorn"]
    assert [s["servers"] for s in merged["run"]["merged_from"]] == [
        ["uvicorn"],
        ["hypercorn", "hypercorn/h2", "hypercorn/h2c"],
    ]
    markdown = (out / "conformance.md").read_text()
    html = (out / "conformance.html").read_text()
    for name in ("uvicorn", "hypercorn"):
        assert f"server {name}" in markdown and name in html

    # The same server twice: refused, unless --prefer-last keeps the later report's results.
    later_data = read(reports["uvicorn"])
    for result in later_data["results"]:
        result["outcome"], result["detail"] = "fail", "made up for the test"
    later = tmp_path / "later.json"
    later.write_text(json.dumps(later_data))
    again = tmp_path / "again"
    argv = [str(reports["both"]), str(later), "--out", str(again)]
    assert merge.main(argv) == 2 and not again.exists()
    assert merge.main([*argv, "--prefer-last"]) == 0
    outcomes = {
        (server, outcome) for _, server, _, outcome in rows(read(again / "conformance.json"))
    }
    assert ("uvicorn", "fail") in outcomes and ("uvicorn", "pass") not in outcomes
    assert ("hypercorn", "pass") in outcomes


def report(servers: tuple[str, ...], **run: Any) -> dict[str, Any]:
    """A small report of the shape a run writes (for the refusals, which need no real run)."""
    return {
        "run": {
            "impl": "baize",
            "impl_version": "0.1.0",
            "catalogue_sha256": "a" * 64,
            "requirements_selected": [],
            "started": "2026-01-01T00:00:00+00:00",
            "duration_s": 10.0,
            "servers": [{"name": name, "version": "1"} for name in servers],
            **run,
        },
        "requirements": [{"id": "X-1", "area": "x", "level": "MUST", "text": "t"}],
        "results": [
            {"requirement": "X-1", "server": name, "case": "c", "outcome": "pass"}
            | {"duration_s": 0.1, "detail": ""}
            for name in servers
        ],
        "open_behaviours": {},
    }


def shard(tmp_path: Path, name: str, data: dict[str, Any]) -> merge.Shard:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return merge.load(str(path))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("catalogue_sha256", "0" * 64, "differ in catalogue_sha256: .*a.json: a+; .*b.json: 0+"),
        ("impl_version", "9.9.9", r"differ in implementation: .*a.json: baize 0\.1\.0; .*9\.9\.9"),
        ("impl", "otherbaize", "differ in implementation: .*b.json: otherbaize 0.1.0"),
        ("requirements_selected", ["ASGI-"], r"differ in requirement selection: .*ASGI-\*"),
    ],
)
def test_incompatible_reports_are_refused(
    tmp_path: Path, field: str, value: Any, message: str
) -> None:
    shards = [
        shard(tmp_path, "a.json", report(("uvicorn",))),
        shard(tmp_path, "b.json", report(("hypercorn",), **{field: value})),
    ]
    with pytest.raises(merge.MergeError, match=message):
        merge.merge(shards)


def test_an_overlap_names_both_files(tmp_path: Path) -> None:
    shards = [
        shard(tmp_path, "a.json", report(("uvicorn", "daphne"))),
        shard(tmp_path, "b.json", report(("daphne",))),
    ]
    with pytest.raises(merge.MergeError) as raised:
        merge.merge(shards)
    assert str(raised.value) == (
        f"server daphne is in both {tmp_path / 'a.json'} and {tmp_path / 'b.json'} "
        "(--prefer-last keeps the later one)"
    )


def test_provenance_of_shards(tmp_path: Path) -> None:
    shards = [
        shard(tmp_path, "a.json", report(("uvicorn",), python="CPython 3.11.7")),
        shard(
            tmp_path,
            "b.json",
            report(
                ("hypercorn",),
                python="CPython 3.11.9",
                started="2026-01-01T00:00:05+00:00",
                duration_s=20.0,
                asgi_validation=False,
            ),
        ),
    ]
    run = merge.merge(shards)["run"]
    assert run["python"] == "CPython 3.11.7 | CPython 3.11.9"
    assert (run["started"], run["duration_s"]) == ("2026-01-01T00:00:00+00:00", 25.0)
    assert run["asgi_validation"] is False


def test_unreadable_input_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bad.json").write_text("{not json")
    (tmp_path / "list.json").write_text("[]")
    assert merge.main([str(tmp_path / "bad.json"), "--out", str(tmp_path / "o")]) == 2
    assert f"cannot read {tmp_path / 'bad.json'}" in capsys.readouterr().err
    assert merge.main([str(tmp_path / "list.json"), "--out", str(tmp_path / "o")]) == 2
    assert "not a conformance report" in capsys.readouterr().err
    assert merge.main([str(tmp_path / "missing.json"), "--out", str(tmp_path / "o")]) == 2
    assert not (tmp_path / "o").exists()


def test_an_unknown_part_must_agree(tmp_path: Path) -> None:
    first, second = report(("uvicorn",)), report(("hypercorn",))
    first["extra"], second["extra"] = {"a": 1}, {"a": 2}
    with pytest.raises(merge.MergeError, match="'extra' differs"):
        merge.merge([shard(tmp_path, "a.json", first), shard(tmp_path, "b.json", second)])
    second["extra"] = {"a": 1}
    merged = merge.merge([shard(tmp_path, "a.json", first), shard(tmp_path, "b.json", second)])
    assert merged["extra"] == {"a": 1}
