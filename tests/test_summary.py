"""``python -m conformance.summary``: golden output from a fixed report and server TOMLs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conformance import summary

DETAIL_LONG = "expected 'a|b' " + "x" * 200

REPORT: dict[str, Any] = {
    "run": {
        "impl": "baize",
        "impl_version": "9.9",
        "python": "CPython 3.11.9",
        "started": "2025-01-02T03:04:05+00:00",
        "duration_s": 1.5,
        "servers": [
            {"name": "alpha", "version": "1.0", "command": "{python} -m alpha {fd}"},
            {
                "name": "beta",
                "version": "2.0",
                "command": "{python} -m beta {fd}",
                "offers": {"extensions": ["z.ext", "a.ext"], "http2": True, "trio": True},
            },
        ],
    },
    "requirements": [
        {"id": "R-ONE", "area": "A", "source": "RFC 1", "clause": "§1", "level": "MUST"},
        {"id": "R-TWO", "area": "A", "source": "RFC 1", "clause": "§2", "level": "MUST"},
        {"id": "R-THREE", "area": "B", "source": "API.md", "clause": "X", "level": "API"},
        {"id": "R-UNTESTED", "area": "B", "source": "API.md", "clause": "Y", "level": "API"},
        {"id": "R-EXT", "area": "B: more", "source": "docs/api.md", "clause": "#x", "level": "EXT"},
        {"id": "ASGI-HTTP-ONE", "area": "S", "source": "ASGI", "clause": "§1", "level": "MUST"},
        {"id": "S-TWO", "area": "S", "source": "RFC 2", "clause": "§2", "subject": "server"},
    ],
    "results": [
        {"requirement": "R-ONE", "server": "alpha", "outcome": "pass", "detail": ""},
        {
            "requirement": "R-ONE",
            "server": "alpha",
            "outcome": "fail",
            "detail": "\n  requirement: second case\nexpected 1",
        },
        {
            "requirement": "R-ONE",
            "server": "beta",
            "outcome": "deviation",
            "detail": "declared deviation: beta sends 2 (RFC 1 §1)\nexpected 1",
        },
        {"requirement": "R-TWO", "server": "alpha", "outcome": "not-applicable", "detail": "n/a"},
        {"requirement": "R-TWO", "server": "beta", "outcome": "fail", "detail": DETAIL_LONG},
        {"requirement": "R-THREE", "server": "alpha", "outcome": "deviation", "detail": "old"},
        {"requirement": "R-THREE", "server": "beta", "outcome": "unexpected-pass", "detail": ""},
        {"requirement": "R-THREE", "server": "gamma", "outcome": "pass", "detail": ""},
        {"requirement": "R-EXT", "server": "alpha", "outcome": "fail", "detail": "no getlist"},
        {"requirement": "R-EXT", "server": "beta", "outcome": "pass", "detail": ""},
        {"requirement": "ASGI-HTTP-ONE", "server": "alpha", "outcome": "pass", "detail": ""},
        {
            "requirement": "ASGI-HTTP-ONE",
            "server": "beta",
            "outcome": "deviation",
            "detail": "port '1'",
            "reason": "port is a str (ASGI §1)",
            "link": "https://tracker.example/beta/7",
        },
        {
            "requirement": "ASGI-HTTP-ONE",
            "server": "gamma",
            "outcome": "error",
            "detail": "KeyError: 'x'",
            "log_tail": "Traceback",
        },
        {"requirement": "S-TWO", "server": "alpha", "outcome": "fail", "detail": "bare LF"},
        {"requirement": "S-TWO", "server": "beta", "outcome": "pass", "detail": ""},
    ],
}

TOMLS = {
    "alpha": """
name = "alpha"
distribution = "alpha"
command = ["{python}", "-m", "alpha", "{fd}"]
[offers]
extensions = ["websocket.http.response"]
[deviations]
"R-THREE" = "alpha answers 500 (API.md X)"
""",
    "beta": """
name = "beta"
distribution = "beta"
command = ["{python}", "-m", "beta", "{fd}"]
[offers]
extensions = []
[deviations]
"R-ONE" = "from the TOML, not shown: the report carries the reason"
""",
    "gamma": """
name = "gamma"
distribution = "gamma"
command = ["{python}", "-m", "gamma", "--port", "{port}"]
socket = "port"
""",
}

TRUNCATED = "expected 'a\\|b' " + "x" * 144 + "…"

LEGEND = (
    "A cell reads passed/judged (not-applicable left out), then the requirements per other "
    "verdict (with several cases, the worst): FAIL, XPASS (declared but passes), ERROR (no "
    "verdict: harness error), no ext (extension not provided), dev (declared deviation)."
)
COMPARISON = f"""### Server comparison

Implementation `baize` 9.9 on CPython 3.11.9, run 2025-01-02. 7 requirements in the catalogue \
(2 server, 5 implementation), 6 with results. {LEGEND}

| configuration | version | offers | server duties | `baize` on it | deviations and failures |
|---|---|---|:-:|:-:|---|
| `alpha` | 1.0 | `websocket.http.response` | **1/2 · 1 FAIL** | \
**0/3 · 1 FAIL · 1 no ext · 1 dev** | `S-TWO`: **fails** (bare LF)<br>`R-EXT`: \
extension not provided<br>`R-ONE`: **fails** (requirement: second case)<br>`R-THREE`: \
alpha answers 500 (API.md X) |
| `beta` | 2.0 | HTTP/2, trio, `a.ext`, `z.ext` | 1/2 · 1 dev | \
**1/4 · 1 FAIL · 1 XPASS · 1 dev** | `ASGI-HTTP-ONE`: port is a str (ASGI §1) \
([issue](https://tracker.example/beta/7))<br>`R-ONE`: beta sends 2 (RFC 1 §1)<br>`R-THREE`: \
declared but passes<br>`R-TWO`: **fails** ({TRUNCATED}) |
| `gamma` | ? | – | **0/1 · 1 ERROR** | 1/1 | `ASGI-HTTP-ONE`: harness error (KeyError: 'x') |

Server duties by area (each server's own requirements):

| server area | `alpha` | `beta` | `gamma` |
|---|:-:|:-:|:-:|
| S | **1/2 · 1 FAIL** | 1/2 · 1 dev | **0/1 · 1 ERROR** |

`baize` on each server, by area:

| implementation area | `alpha` | `beta` | `gamma` |
|---|:-:|:-:|:-:|
| A | **0/1 · 1 FAIL** | **0/2 · 1 FAIL · 1 dev** | – |
| B | 0/2 · 1 no ext · 1 dev | **1/2 · 1 XPASS** | 1/1 |
"""

IMPL = f"""### Where baize 9.9 fails

Implementation `baize` 9.9 on CPython 3.11.9, run 2025-01-02. 2 of 4 implementation requirements \
tested fail on at least one server; 1 extension not provided.

| requirement | source | fails on | first failure |
|---|---|---|---|
| `R-ONE` | RFC 1 §1 | 1 of 2 (alpha) | alpha: requirement: second case |
| `R-TWO` | RFC 1 §2 | 1 of 2 (beta) | beta: expected 'a\\|b' {"x" * 138}… |

Extensions not provided (EXT requirements, and failures under trio: trio (extension) not provided; \
never API failures): `R-EXT`.
"""


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    """The fixed report as a file and a servers directory with its TOMLs."""
    report = tmp_path / "conformance.json"
    report.write_text(json.dumps(REPORT), encoding="utf-8")
    servers = tmp_path / "servers"
    servers.mkdir()
    for name, text in TOMLS.items():
        (servers / f"{name}.toml").write_text(text, encoding="utf-8")
    return report, servers


def test_server_comparison_golden(files: tuple[Path, Path]) -> None:
    _, servers = files
    assert summary.server_comparison(REPORT, servers) == COMPARISON


def test_impl_summary_golden() -> None:
    assert summary.impl_summary(REPORT) == IMPL


def test_impl_summary_without_failures_says_so() -> None:
    passing = {**REPORT, "results": [r for r in REPORT["results"] if r["outcome"] == "pass"]}
    text = summary.impl_summary(passing, title="")
    assert text == (
        "Implementation `baize` 9.9 on CPython 3.11.9, run 2025-01-02. 0 of 3 implementation "
        "requirements tested fail on at least one server.\n"
    )


def test_a_servers_failure_is_never_the_implementations() -> None:
    text = summary.impl_summary(REPORT)
    assert "S-TWO" not in text and "ASGI-HTTP-ONE" not in text
    assert "R-EXT" not in text.split("Extensions not provided")[0]  # EXT apart, never a failure


def test_cli_prints_to_stdout(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    report, servers = files
    assert summary.main([str(report), "--servers-dir", str(servers), "--title", "Servers"]) == 0
    out = capsys.readouterr().out
    assert out == COMPARISON.replace("### Server comparison", "### Servers")
    assert summary.main([str(report), "--impl-summary", "--title", ""]) == 0
    assert capsys.readouterr().out == IMPL.split("\n", 2)[2]


def test_cli_rewrites_only_the_marked_block(files: tuple[Path, Path]) -> None:
    report, servers = files
    readme = report.parent / "README.md"
    before = "# Title\n\nintro\n\n<!-- server-comparison:start -->\nstale\n"
    after = "<!-- server-comparison:end -->\n\n## Next\n"
    readme.write_text(before + after, encoding="utf-8")
    argv = [str(report), "--servers-dir", str(servers), "--readme", str(readme)]
    assert summary.main(argv) == 0
    text = readme.read_text(encoding="utf-8")
    note = (
        "<!-- generated from conformance.json by `python -m conformance.summary`: "
        "do not edit by hand -->\n"
    )
    assert text == before.replace("stale\n", note + COMPARISON) + after
    assert summary.main(argv) == 0  # idempotent
    assert readme.read_text(encoding="utf-8") == text
    readme.write_text("<!-- impl-summary:start -->\n<!-- impl-summary:end -->\n")
    assert summary.main([str(report), "--impl-summary", "--readme", str(readme)]) == 0
    assert IMPL in readme.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("readme_text", "message"),
    [
        ("no markers\n", "marker <!-- server-comparison:start --> is missing"),
        ("<!-- server-comparison:start -->\n", "<!-- server-comparison:end --> is missing"),
        (
            "<!-- server-comparison:end -->\n<!-- server-comparison:start -->\n",
            "<!-- server-comparison:end --> comes before",
        ),
        (
            "<!-- server-comparison:start -->\n<!-- server-comparison:start -->\n"
            "<!-- server-comparison:end -->\n",
            "appears 2 times",
        ),
    ],
)
def test_bad_markers_are_a_clear_error(
    files: tuple[Path, Path],
    capsys: pytest.CaptureFixture[str],
    readme_text: str,
    message: str,
) -> None:
    report, servers = files
    readme = report.parent / "README.md"
    readme.write_text(readme_text, encoding="utf-8")
    argv = [str(report), "--servers-dir", str(servers), "--readme", str(readme)]
    assert summary.main(argv) == 2
    assert message in capsys.readouterr().err
    assert readme.read_text(encoding="utf-8") == readme_text  # untouched


def test_missing_offers_name_the_server(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    report, servers = files
    (servers / "gamma.toml").unlink()
    assert summary.main([str(report), "--servers-dir", str(servers)]) == 2
    err = capsys.readouterr().err
    assert "server 'gamma': the report records no offers" in err
    assert "--servers-dir" in err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read report"),
        ("{not json", "is not valid JSON"),
        ('{"run": {}}', "lacks 'run', 'requirements' or 'results'"),
        (
            '{"run": {}, "requirements": [], "results": [{"requirement": "X", '
            '"server": "s", "outcome": "maybe", "detail": ""}]}',
            "unknown outcome 'maybe'",
        ),
    ],
)
def test_bad_report_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, message: str
) -> None:
    report = tmp_path / "conformance.json"
    if content is not None:
        report.write_text(content, encoding="utf-8")
    assert summary.main([str(report)]) == 2
    assert message in capsys.readouterr().err


def test_malformed_server_toml_is_a_clear_error(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    report, servers = files
    (servers / "alpha.toml").write_text('name = "alpha"\n', encoding="utf-8")
    assert summary.main([str(report), "--servers-dir", str(servers)]) == 2
    assert "alpha.toml" in capsys.readouterr().err


def test_glance_leaves_out_the_notes_and_output_writes_a_page(files: tuple[Path, Path]) -> None:
    report, servers = files
    text = summary.server_comparison(REPORT, servers, notes=False)
    assert "deviations and failures" not in text
    assert "| `gamma` | ? | – | **0/1 · 1 ERROR** | 1/1 |" in text
    assert "| S | **1/2 · 1 FAIL** | 1/2 · 1 dev | **0/1 · 1 ERROR** |" in text
    page = report.parent / "comparison.md"
    argv = [str(report), "--servers-dir", str(servers), "--output", str(page), "--title", ""]
    assert summary.main(argv) == 0
    written = page.read_text(encoding="utf-8")
    assert written.startswith("<!-- generated from conformance.json")
    assert written.endswith(COMPARISON.split("\n", 2)[2])


def with_trio_server(trio: bool | None) -> dict[str, Any]:
    """REPORT plus a configuration ``tri`` (``trio`` as given; ``None``: an old report without
    the field) where R-ONE (implementation) and S-TWO (server) fail."""
    tri: dict[str, Any] = {"name": "tri", "version": "3.0", "offers": {"trio": True}}
    if trio is not None:
        tri["trio"] = trio
    failures = [
        {"requirement": "R-ONE", "server": "tri", "outcome": "fail", "detail": "sniffio: asyncio"},
        {"requirement": "S-TWO", "server": "tri", "outcome": "fail", "detail": "bare LF"},
    ]
    run = {**REPORT["run"], "servers": [*REPORT["run"]["servers"], tri]}
    return {**REPORT, "run": run, "results": [*REPORT["results"], *failures]}


def test_an_implementation_failure_under_trio_is_the_trio_extension_not_provided(
    files: tuple[Path, Path],
) -> None:
    text = summary.impl_summary(with_trio_server(True))
    # R-ONE still fails on alpha (asyncio); on tri it is the trio extension not provided.
    assert "| `R-ONE` | RFC 1 §1 | 1 of 3 (alpha) |" in text
    assert "`R-EXT`, `R-ONE` (trio)." in text
    page = summary.server_comparison(with_trio_server(True), files[1])
    tri_row = next(line for line in page.splitlines() if line.startswith("| `tri`"))
    assert "`R-ONE`: trio (extension) not provided" in tri_row
    assert "`S-TWO`: **fails** (bare LF)" in tri_row  # a server duty still fails under trio


@pytest.mark.parametrize("trio", [False, None])
def test_the_same_failure_on_an_asyncio_or_unmarked_server_is_a_failure(trio: bool | None) -> None:
    text = summary.impl_summary(with_trio_server(trio))
    assert "| `R-ONE` | RFC 1 §1 | 2 of 3 (alpha, tri) |" in text
    assert "(trio)" not in text
