"""The requirement catalogue and server configuration loaders reject malformed input clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.harness.catalogue import CatalogueError, load_catalogue
from conformance.harness.serverconfig import ServerConfigError, load_servers

GOOD = """
[[requirement]]
id = "A-ONE"
area = "A"
source = "RFC 9110"
clause = "§1"
level = "MUST"
subject = "server"
quote = "A server MUST do one thing."
text = "One."
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_catalogue_loads_entries_by_id(tmp_path: Path) -> None:
    catalogue = load_catalogue(write(tmp_path, "a.toml", GOOD))
    assert list(catalogue) == ["A-ONE"]
    assert catalogue["A-ONE"].level == "MUST"


def test_duplicate_id_across_files(tmp_path: Path) -> None:
    write(tmp_path, "a.toml", GOOD)
    write(tmp_path, "b.toml", GOOD)
    with pytest.raises(CatalogueError, match=r"b.toml requirement #1: duplicate id 'A-ONE'"):
        load_catalogue(tmp_path)


def test_missing_field_and_bad_level(tmp_path: Path) -> None:
    text = GOOD.replace('text = "One."\n', "").replace('"MUST"', '"MAY"')
    with pytest.raises(CatalogueError) as raised:
        load_catalogue(write(tmp_path, "a.toml", text))
    assert raised.value.problems == [
        "a.toml requirement #1: missing field 'text'",
        "a.toml requirement #1: level 'MAY' is not one of MUST, SHOULD, API, EXT",
    ]


def test_unknown_field(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="unknown field 'note'"):
        load_catalogue(write(tmp_path, "a.toml", GOOD + 'note = "x"\n'))


def test_the_shipped_catalogue_is_valid() -> None:
    assert load_catalogue()


SERVER = """
name = "s"
distribution = "s"
command = ["{python}", "-m", "s", "--fd", "{fd}", "{app}"]
"""


def test_server_config_defaults(tmp_path: Path) -> None:
    config = load_servers(write(tmp_path, "s.toml", SERVER))["s"]
    assert config.socket == "fd"
    assert config.offers.extensions == frozenset()
    assert config.render_command(python="py", fd="3", app="m:app") == [
        "py",
        "-m",
        "s",
        "--fd",
        "3",
        "m:app",
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('"{fd}", ', ""), "no command item contains {fd}"),
        (('name = "s"', 'name = "t"'), "differs from the file name"),
        (('distribution = "s"', "distribution = 3"), "'distribution' must be a non-empty"),
        (("", 'socket = "unix"\n'), "'socket' must be"),
        (("", "ready_timeout = -1\n"), "'ready_timeout' must be a positive"),
        (("", "colour = 1\n"), "unknown keys"),
    ],
)
def test_server_config_errors(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    old, new = change
    text = SERVER.replace(old, new) if old else new + SERVER
    with pytest.raises(ServerConfigError, match=message):
        load_servers(write(tmp_path, "s.toml", text))


def test_the_shipped_server_configs_are_valid() -> None:
    configs = load_servers(Path(__file__).resolve().parents[1] / "servers")
    expected = {"uvicorn", "uvicorn-h11", "hypercorn", "hypercorn-trio", "daphne", "granian"}
    assert set(configs) >= expected | {"gunicorn"}
