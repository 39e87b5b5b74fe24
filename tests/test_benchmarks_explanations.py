"""Explanations of missed performance targets (benchmarks/explanations.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from benchmarks import explanations, report

TARGET = "json-router >= 0.85x raw ASGI"


def miss(server: str, scenario: str, value: float = 0.8, note: str | None = None) -> dict[str, Any]:
    verdict: dict[str, Any] = {
        "target": TARGET,
        "server": server,
        "scenario": scenario,
        "value": value,
        "verdict": "MISS",
    }
    if note:
        verdict["note"] = note
    return verdict


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "explanations.toml"
    path.write_text(text)
    return path


def test_a_miss_gets_the_first_explanation_that_covers_it(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f'[[explanation]]\ntarget = "{TARGET}"\nservers = ["granian"]\n'
        'text = "the router"\nmeasured = "bench A"\n'
        f'[[explanation]]\ntarget = "{TARGET}"\ntext = "any other"\nmeasured = "bench B"\n',
    )
    verdicts = [miss("granian", "json-router"), miss("uvicorn", "json-router")]
    explanations.attach(verdicts, explanations.load(path))
    assert verdicts[0]["explanation"] == {"text": "the router", "measured": "bench A"}
    assert verdicts[1]["explanation"]["measured"] == "bench B"


def test_a_pass_is_never_explained(tmp_path: Path) -> None:
    path = write(tmp_path, f'[[explanation]]\ntarget = "{TARGET}"\ntext = "t"\nmeasured = "m"\n')
    verdict = {**miss("uvicorn", "json-router"), "verdict": "PASS"}
    explanations.attach([verdict], explanations.load(path))
    assert "explanation" not in verdict


def test_an_unexplained_miss_is_named_in_the_report() -> None:
    lines = explanations.render([miss("uvicorn", "json-router", 0.81, note="within noise")])
    text = "\n".join(lines)
    assert "## Misses explained" in text
    assert "uvicorn json-router (0.810x, within noise)" in text
    assert "*Not explained*" in text


def test_misses_sharing_a_cause_are_listed_under_it_once() -> None:
    cause = {"text": "the router", "measured": "bench"}
    verdicts = [
        {**miss("granian", "json-router"), "explanation": cause},
        {**miss("uvicorn", "json-router"), "explanation": cause},
    ]
    text = "\n".join(explanations.render(verdicts))
    assert text.count("the router") == 1
    assert "granian json-router" in text and "uvicorn json-router" in text


def test_no_miss_no_section() -> None:
    assert explanations.render([{**miss("uvicorn", "hello"), "verdict": "PASS"}]) == []


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('target = "nope"\ntext = "t"\nmeasured = "m"\n', "no target is named 'nope'"),
        (f'target = "{TARGET}"\ntext = "t"\n', "missing ['measured']"),
        (f'target = "{TARGET}"\ntext = "t"\nmeasured = "m"\nserver = "x"\n', "unknown keys"),
    ],
)
def test_a_malformed_entry_names_itself(tmp_path: Path, entry: str, message: str) -> None:
    path = write(tmp_path, "[[explanation]]\n" + entry)
    names = [t.name for t in report.TARGETS]
    with pytest.raises(ValueError, match="explanation 1") as error:
        explanations.load(path, targets=names)
    assert message in str(error.value)


def test_the_shipped_file_is_valid() -> None:
    explanations.load(targets=[t.name for t in report.TARGETS])


def test_one_explanation_may_name_several_targets(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f'[[explanation]]\ntarget = ["{TARGET}", "hello >= 0.95x raw ASGI"]\n'
        'text = "the server caps everyone"\nmeasured = "m"\n',
    )
    other = {**miss("tremolo", "hello"), "target": "hello >= 0.95x raw ASGI"}
    verdicts = [miss("tremolo", "json-router"), other]
    explanations.attach(verdicts, explanations.load(path, [t.name for t in report.TARGETS]))
    assert all(v["explanation"]["text"] == "the server caps everyone" for v in verdicts)
