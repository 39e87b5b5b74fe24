"""Meta-test: every catalogue id has a case, every case names known ids (no server started)."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path
from typing import Any

import pytest

from conformance.harness.catalogue import (
    API_ANCHORS,
    REQUIREMENTS_DIR,
    SOURCES,
    CatalogueError,
    api_anchors,
    load_catalogue,
    load_files,
)
from conformance.harness.serverconfig import load_servers, unknown_declarations
from conformance.harness.settings import BUILTIN_SERVERS_DIR
from conformance.harness.transport import TRANSPORTS

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


@pytest.mark.parametrize("name", sorted(p.name for p in REQUIREMENTS_DIR.glob("*.toml")))
def test_each_requirement_file_follows_the_schema(name: str) -> None:
    """One file at a time, so that a failure names the area at fault."""
    assert load_files([REQUIREMENTS_DIR / name])


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


def test_server_declarations_name_known_requirements() -> None:
    """``[deviations]`` and ``[flaky]`` of the shipped configurations name catalogue ids (and
    known transports after ``@``): a renamed id would otherwise silently stop excusing."""
    catalogue = load_catalogue()
    unknown = {
        name: found
        for name, config in load_servers(BUILTIN_SERVERS_DIR).items()
        if (found := unknown_declarations(config, catalogue, TRANSPORTS))
    }
    assert not unknown, f"declarations naming no requirement: {unknown}"


@pytest.mark.parametrize("name", ["requirement"])
def test_marker_is_registered(name: str, pytestconfig: pytest.Config) -> None:
    assert any(line.startswith(name) for line in pytestconfig.getini("markers"))


PROTOCOL_ENTRY = """
[[requirement]]
id = "X-ONE"
area = "X"
source = "RFC 9110"
clause = "§9.3.2"
level = "MUST"
subject = "server"
quote = "the server MUST NOT send content in the response"
text = "HEAD gets no content."
"""
API_ENTRY = """
[[requirement]]
id = "X-TWO"
area = "X"
source = "docs/api.md"
clause = "#request"
level = "API"
subject = "implementation"
text = "request.method is upper case."
"""


def load_text(tmp_path: Path, text: str) -> dict[str, Any]:
    (tmp_path / "x.toml").write_text(text, encoding="utf-8")
    return load_catalogue(tmp_path)


def test_the_schema_fields_reach_the_requirement_objects(tmp_path: Path) -> None:
    catalogue = load_text(tmp_path, PROTOCOL_ENTRY + API_ENTRY)
    one, two = catalogue["X-ONE"], catalogue["X-TWO"]
    assert (one.level, one.subject, one.quote) == ("MUST", "server", one.quote)
    assert one.quote.startswith("the server MUST NOT") and one.is_protocol
    assert (two.level, two.subject, two.quote) == ("API", "implementation", "")
    assert not two.is_protocol
    assert one.to_json()["quote"] == one.quote and one.to_json()["subject"] == "server"


@pytest.mark.parametrize(
    ("entry", "old", "new", "problem"),
    [
        (PROTOCOL_ENTRY, '"MUST"', '"MAY"', "level 'MAY' is not one of MUST, SHOULD, API, EXT"),
        (PROTOCOL_ENTRY, 'subject = "server"\n', "", "missing field 'subject'"),
        (PROTOCOL_ENTRY, '"server"', '"client"', "subject 'client' is not one of"),
        (
            PROTOCOL_ENTRY,
            'quote = "the server MUST NOT send content in the response"\n',
            "",
            "a MUST requirement needs the clause's words in 'quote'",
        ),
        (
            PROTOCOL_ENTRY,
            '"the server MUST NOT send content in the response"',
            '"  "',
            "field 'quote' must be a non-empty string",
        ),
        (PROTOCOL_ENTRY, "MUST NOT send", "does not send", "never says MUST"),
        (PROTOCOL_ENTRY.replace('"MUST"', '"SHOULD"'), "", "", "never says SHOULD"),
        (PROTOCOL_ENTRY, '"RFC 9110"', '"RFC 2616"', "source 'RFC 2616' is not in the closed list"),
        (PROTOCOL_ENTRY, '"RFC 9110"', '"API.md"', "source 'API.md' is not in the closed list"),
        (PROTOCOL_ENTRY, '"§9.3.2"', '"HEAD"', "an RFC clause is a section"),
        (PROTOCOL_ENTRY, '"RFC 9110"', '"docs/api.md"', "cites a protocol clause, not docs/api.md"),
        (API_ENTRY, '"docs/api.md"', '"RFC 9110"', "a API requirement cites docs/api.md"),
        (API_ENTRY, '"#request"', '"#nowhere"', "clause '#nowhere' is not an anchor"),
        (API_ENTRY, '"#request"', '"Request.method"', "clause 'Request.method' is not an anchor"),
        (API_ENTRY.replace('"API"', '"EXT"'), '"#request"', '"extensions"', "is not an anchor"),
        (API_ENTRY, "text = ", 'quote = ""\ntext = ', "field 'quote' must be a non-empty string"),
        (API_ENTRY, "text = ", 'note = "x"\ntext = ', "unknown field 'note'"),
    ],
)
def test_the_validator_refuses(
    tmp_path: Path, entry: str, old: str, new: str, problem: str
) -> None:
    broken = entry.replace(old, new) if old else entry
    with pytest.raises(CatalogueError) as raised:
        load_text(tmp_path, broken)
    assert any(problem in line for line in raised.value.problems), raised.value.problems


def test_api_and_ext_with_a_listed_anchor_pass(tmp_path: Path) -> None:
    ext = API_ENTRY.replace('"X-TWO"', '"X-EXT"').replace('"API"', '"EXT"')
    ext = ext.replace('"#request"', '"#extensions"')
    assert set(load_text(tmp_path, PROTOCOL_ENTRY + API_ENTRY + ext)) == {"X-ONE", "X-TWO", "X-EXT"}


def test_anchors_come_from_the_api_page_when_it_exists(tmp_path: Path) -> None:
    page = tmp_path / "api.md"
    page.write_text('# The API\n## HTTPConnection\n### Request {#req}\n<a id="own"></a>\n')
    assert api_anchors(page) == {"the-api", "httpconnection", "req", "own"}
    assert api_anchors(tmp_path / "missing.md") == set(API_ANCHORS)


def test_the_sources_are_one_closed_list() -> None:
    assert len(SOURCES) == len(set(SOURCES)) == 24 and "docs/api.md" in SOURCES
