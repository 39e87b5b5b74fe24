"""Meta-test: every catalogue id has a case, every case names known ids (no server started)."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest

from conformance.harness.catalogue import load_catalogue

HERE = Path(__file__).resolve().parent


def marked_ids() -> dict[str, list[str]]:
    """Requirement ids named by each case of ``conformance/test_*.py``, by case name."""
    found: dict[str, list[str]] = {}
    for path in sorted(HERE.glob("test_*.py")):
        if path.name == Path(__file__).name:
            continue
        module = importlib.import_module(f"conformance.{path.stem}")
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if not name.startswith("test"):
                continue
            marks = getattr(function, "pytestmark", [])
            ids = [i for mark in marks if mark.name == "requirement" for i in mark.args]
            found[f"{path.name}::{name}"] = ids
    return found


def test_catalogue_loads() -> None:
    """Duplicate ids, missing or unknown fields and bad levels raise CatalogueError here."""
    assert load_catalogue()


def test_every_case_names_known_requirements() -> None:
    catalogue = load_catalogue()
    unmarked = [case for case, ids in marked_ids().items() if not ids]
    unknown = {case: sorted(set(ids) - set(catalogue)) for case, ids in marked_ids().items()}
    unknown = {case: ids for case, ids in unknown.items() if ids}
    assert not unmarked, f"cases without @pytest.mark.requirement: {unmarked}"
    assert not unknown, f"cases naming ids missing from the catalogue: {unknown}"


def test_every_requirement_has_a_case() -> None:
    named = {i for ids in marked_ids().values() for i in ids}
    orphans = sorted(set(load_catalogue()) - named)
    assert not orphans, f"catalogue ids no case checks: {orphans}"


@pytest.mark.parametrize("name", ["requirement"])
def test_marker_is_registered(name: str, pytestconfig: pytest.Config) -> None:
    assert any(line.startswith(name) for line in pytestconfig.getini("markers"))
