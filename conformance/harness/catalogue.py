"""The requirement catalogue: ``conformance/requirements/*.toml`` loaded and validated."""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

LEVELS = ("MUST", "SHOULD", "API")
FIELDS = ("id", "area", "source", "clause", "level", "text")
#: Schema fields of the server catalogue (``subject``, ``quote``), accepted until catalogue.py
#: carries them (catalogue-a's branch); not part of :class:`Requirement` here.
OPTIONAL_FIELDS = ("subject", "quote")
REQUIREMENTS_DIR = Path(__file__).resolve().parent.parent / "requirements"


class CatalogueError(ValueError):
    """The catalogue is malformed; the message lists every problem with its file."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("requirement catalogue is invalid:\n  " + "\n  ".join(problems))


@dataclass(frozen=True)
class Requirement:
    """One ``[[requirement]]`` entry."""

    id: str
    area: str
    source: str
    clause: str
    level: str
    text: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _entry_problems(entry: Any, where: str) -> list[str]:
    if not isinstance(entry, dict):
        return [f"{where}: not a table"]
    problems = [f"{where}: missing field {name!r}" for name in FIELDS if name not in entry]
    problems += [
        f"{where}: field {name!r} must be a non-empty string"
        for name in FIELDS
        if name in entry and (not isinstance(entry[name], str) or not entry[name].strip())
    ]
    known = FIELDS + OPTIONAL_FIELDS
    problems += [f"{where}: unknown field {name!r}" for name in entry if name not in known]
    level = entry.get("level")
    if isinstance(level, str) and level not in LEVELS:
        problems.append(f"{where}: level {level!r} is not one of {', '.join(LEVELS)}")
    return problems


def load_catalogue(directory: Path = REQUIREMENTS_DIR) -> dict[str, Requirement]:
    """Load every ``*.toml`` in ``directory``, keyed by id, in file then entry order.

    :raises CatalogueError: on duplicate ids, missing or unknown fields, or a bad level.
    """
    problems: list[str] = []
    found: dict[str, tuple[Requirement, str]] = {}
    for path in sorted(directory.glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as error:
            problems.append(f"{path.name}: {error}")
            continue
        entries = data.get("requirement", [])
        if not isinstance(entries, list):
            problems.append(f"{path.name}: 'requirement' must be an array of tables")
            continue
        for index, entry in enumerate(entries):
            where = f"{path.name} requirement #{index + 1}"
            entry_problems = _entry_problems(entry, where)
            if entry_problems:
                problems += entry_problems
                continue
            requirement = Requirement(**{name: entry[name] for name in FIELDS})
            if requirement.id in found:
                first = found[requirement.id][1]
                problems.append(f"{where}: duplicate id {requirement.id!r} (first in {first})")
                continue
            found[requirement.id] = (requirement, path.name)
    if problems:
        raise CatalogueError(problems)
    return {key: value[0] for key, value in found.items()}


def digest(requirements: Iterable[Requirement]) -> str:
    """sha256 of the catalogue's canonical JSON (independent of TOML layout and file names)."""
    canonical = json.dumps(
        sorted((r.to_json() for r in requirements), key=lambda r: r["id"]),
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def one_line(requirement: Requirement) -> str:
    """``ID  LEVEL  source clause  text`` on one line (for ``--list-requirements``)."""
    text = " ".join(requirement.text.split())
    clause = " ".join(f"{requirement.source} {requirement.clause}".split())
    return f"{requirement.id}\t{requirement.level}\t{clause}\t{text}"


def areas(catalogue: dict[str, Requirement]) -> dict[str, list[str]]:
    """Each area with the distinct id prefixes (first segment plus ``-``) of its ids."""
    found: dict[str, list[str]] = {}
    for requirement in catalogue.values():
        prefix = requirement.id.split("-", 1)[0] + "-"
        prefixes = found.setdefault(requirement.area, [])
        if prefix not in prefixes:
            prefixes.append(prefix)
    return found


def unknown_prefixes(catalogue: dict[str, Requirement], prefixes: Iterable[str]) -> list[str]:
    """The prefixes no catalogue id starts with."""
    return [p for p in prefixes if not any(rid.startswith(p) for rid in catalogue)]
