"""The requirement catalogue: ``conformance/requirements/*.toml`` loaded and validated.

The schema, decided for every area: ``level`` is MUST or SHOULD for a protocol clause (quoted
word for word in ``quote``, and the quote carries the level's keyword), API for the reference
page or upstream baize's documented behaviour, EXT for this implementation's extensions; API
and EXT cite ``docs/api.md`` by one of its anchors. ``subject`` says whom the requirement binds.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

LEVELS = ("MUST", "SHOULD", "API", "EXT")
PROTOCOL_LEVELS = ("MUST", "SHOULD")
SUBJECTS = ("server", "implementation")
FIELDS = ("id", "area", "source", "clause", "level", "subject", "text")
OPTIONAL_FIELDS = ("quote",)
API_DOC = "docs/api.md"
SOURCES = (
    "ASGI spec",
    "ASGI HTTP & WebSocket spec",
    "ASGI lifespan spec",
    "ASGI extensions spec",
    "ASGI TLS extension",
    "RFC 9110",
    "RFC 9111",
    "RFC 9112",
    "RFC 9113",
    "RFC 6455",
    "RFC 6265",
    "RFC 6266",
    "RFC 8187",
    "RFC 2046",
    "RFC 3986",
    "RFC 3987",
    "RFC 7578",
    "RFC 8259",
    "RFC 9562",
    "RFC 7692",
    "RFC 8441",
    "WHATWG HTML",
    "WHATWG URL",
    API_DOC,
)
# The anchors of docs/api.md that requirements may cite (used while that file does not exist;
# once it does, its own headings are the list).
API_ANCHORS = (
    "compatibility",
    "extensions",
    "httpconnection",
    "request",
    "responses",
    "response",
    "smallresponse",
    "plaintextresponse",
    "htmlresponse",
    "jsonresponse",
    "redirectresponse",
    "streamresponse",
    "fileresponse",
    "sendeventresponse",
    "websocket",
    "websocketdenialresponse",
    "routing",
    "router",
    "subpaths",
    "hosts",
    "convertors",
    "shortcuts",
    "middleware",
    "files",
    "pages",
    "exceptions",
    "datastructures",
    "url",
    "headers",
    "queryparams",
    "formdata",
    "uploadfile",
    "cookie",
    "mediatype",
    "multipart",
    "typing",
)
# A protocol requirement's quote must say its level: the clause's own keyword (RFC 2119 words
# in capitals, the ASGI specs' lower-case "must"/"should").
LEVEL_KEYWORDS = {
    "MUST": re.compile(r"\b(must|shall|required)\b", re.IGNORECASE),
    "SHOULD": re.compile(r"\b(should|recommended)\b", re.IGNORECASE),
}
ROOT = Path(__file__).resolve().parents[2]
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
    subject: str = "implementation"
    quote: str = ""

    @property
    def is_protocol(self) -> bool:
        """True for MUST/SHOULD: a protocol clause, not the API page."""
        return self.level in PROTOCOL_LEVELS

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def api_anchors(api_doc: Path | None = None) -> frozenset[str]:
    """The anchors requirements may cite: docs/api.md's headings, or API_ANCHORS without it."""
    path = api_doc if api_doc is not None else ROOT / API_DOC
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return frozenset(API_ANCHORS)
    headings = [line.lstrip("#") for line in text.splitlines() if line.startswith("#")]
    found = {_slug(heading) for heading in headings if "{#" not in heading}
    found |= set(re.findall(r"""<a\s+(?:id|name)=["']([^"']+)["']""", text))
    found |= set(re.findall(r"\{#([A-Za-z0-9_-]+)\}", text))
    return frozenset(found)


def _slug(heading: str) -> str:
    """GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces to '-'."""
    heading = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return heading.replace(" ", "-")


def _entry_problems(entry: Any, where: str, anchors: frozenset[str]) -> list[str]:
    if not isinstance(entry, dict):
        return [f"{where}: not a table"]
    known = FIELDS + OPTIONAL_FIELDS
    problems = [f"{where}: missing field {name!r}" for name in FIELDS if name not in entry]
    problems += [
        f"{where}: field {name!r} must be a non-empty string"
        for name in known
        if name in entry and (not isinstance(entry[name], str) or not entry[name].strip())
    ]
    problems += [f"{where}: unknown field {name!r}" for name in entry if name not in known]
    level, subject, source = entry.get("level"), entry.get("subject"), entry.get("source")
    if isinstance(level, str) and level not in LEVELS:
        problems.append(f"{where}: level {level!r} is not one of {', '.join(LEVELS)}")
    if isinstance(subject, str) and subject not in SUBJECTS:
        problems.append(f"{where}: subject {subject!r} is not one of {', '.join(SUBJECTS)}")
    if isinstance(source, str) and source not in SOURCES:
        problems.append(f"{where}: source {source!r} is not in the closed list of sources")
    if problems:
        return problems
    clause = entry["clause"]
    if level in PROTOCOL_LEVELS:
        problems += _protocol_problems(entry, where)
    elif level in LEVELS:
        if source != API_DOC:
            problems.append(f"{where}: a {level} requirement cites {API_DOC}, not {source!r}")
        if not clause.startswith("#") or clause[1:] not in anchors:
            problems.append(f"{where}: clause {clause!r} is not an anchor of {API_DOC}")
    return problems


def _protocol_problems(entry: dict[str, str], where: str) -> list[str]:
    level, source, quote = entry["level"], entry["source"], entry.get("quote", "")
    problems = []
    if source == API_DOC:
        problems.append(f"{where}: a {level} requirement cites a protocol clause, not {API_DOC}")
    if not quote.strip():
        problems.append(f"{where}: a {level} requirement needs the clause's words in 'quote'")
    elif not LEVEL_KEYWORDS[level].search(quote):
        problems.append(f"{where}: the quote of a {level} requirement never says {level}")
    if source.startswith("RFC ") and not entry["clause"].startswith("§"):
        problems.append(f"{where}: an RFC clause is a section ('§...'), not {entry['clause']!r}")
    return problems


def load_catalogue(directory: Path = REQUIREMENTS_DIR) -> dict[str, Requirement]:
    """Load every ``*.toml`` in ``directory``, keyed by id, in file then entry order.

    :raises CatalogueError: as :func:`load_files`.
    """
    return load_files(sorted(directory.glob("*.toml")))


def load_files(paths: Iterable[Path]) -> dict[str, Requirement]:
    """Load the given requirement files, keyed by id, in file then entry order.

    :raises CatalogueError: on duplicate ids, missing or unknown fields, a bad level, subject,
        source or anchor, or a protocol requirement without its quote.
    """
    anchors = api_anchors()
    problems: list[str] = []
    found: dict[str, tuple[Requirement, str]] = {}
    for path in paths:
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
            entry_problems = _entry_problems(entry, where, anchors)
            if entry_problems:
                problems += entry_problems
                continue
            requirement = Requirement(**{name: entry[name] for name in known_fields(entry)})
            if requirement.id in found:
                first = found[requirement.id][1]
                problems.append(f"{where}: duplicate id {requirement.id!r} (first in {first})")
                continue
            found[requirement.id] = (requirement, path.name)
    if problems:
        raise CatalogueError(problems)
    return {key: value[0] for key, value in found.items()}


def known_fields(entry: dict[str, Any]) -> list[str]:
    """The schema's fields present in ``entry`` (every required one, the optional ones given)."""
    return [*FIELDS, *(name for name in OPTIONAL_FIELDS if name in entry)]


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
