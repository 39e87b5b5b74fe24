"""``--servers-dir``: configurations added to, or overriding by name, the shipped ones; bad
files are named in a clear error (never a KeyError at spawn time)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.harness.serverconfig import ServerConfigError, load_servers, server_files
from conformance.harness.settings import BUILTIN_SERVERS_DIR

ROOT = Path(__file__).resolve().parent.parent
RUN_TIMEOUT = 120.0
MINE = (
    'name = "mine"\ndistribution = "uvicorn"\nsocket = "port"\n'
    'command = ["{python}", "-m", "uvicorn", "--host", "{host}", "--port", "{port}", "{app}"]\n'
)


def config_text(name: str, command: str) -> str:
    return f'name = "{name}"\ndistribution = "uvicorn"\nsocket = "fd"\ncommand = {command}\n'


def test_a_folder_adds_configurations_and_overrides_by_name(tmp_path: Path) -> None:
    shipped = load_servers(BUILTIN_SERVERS_DIR)
    uvicorn = (BUILTIN_SERVERS_DIR / "uvicorn.toml").read_text()
    override = uvicorn.replace('description = "', 'description = "overridden: ', 1)
    (tmp_path / "uvicorn.toml").write_text(override)
    (tmp_path / "mine.toml").write_text(MINE)
    (tmp_path / "README.md").write_text("not a configuration {port")
    (tmp_path / "mine.toml.orig").write_text("not TOML [")
    (tmp_path / ".#mine.toml").write_text("an editor's lock file [")

    configs = load_servers([BUILTIN_SERVERS_DIR, tmp_path])

    assert set(configs) == set(shipped) | {"mine"}
    assert configs["uvicorn"].description.startswith("overridden: ")
    assert configs["hypercorn"] == shipped["hypercorn"]
    assert list(configs)[: len(shipped)] == list(shipped)  # shipped order kept, new ones last
    assert server_files([BUILTIN_SERVERS_DIR, tmp_path])["uvicorn"] == tmp_path / "uvicorn.toml"


def test_a_later_folder_wins(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    for folder in (first, second):
        folder.mkdir()
        (folder / "mine.toml").write_text(MINE + f'description = "from {folder.name}"\n')
    assert load_servers([first, second])["mine"].description == "from b"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name = [", "not a readable TOML file"),
        (config_text("bad", '["{python}", "${HOME}/srv", "{fd}"]'), r"\$\{HOME\} is not expanded"),
        (
            config_text("bad", '["{python}", "--fd", "{fdd}", "{fd}"]'),
            r"unknown placeholder \{fdd\}",
        ),
        (config_text("bad", '["{python}", "{}", "{fd}"]'), r"unknown placeholder \{\}"),
        (config_text("bad", '["{python}", "{app.x}", "{fd}"]'), r"unknown placeholder \{app\.x\}"),
        (config_text("bad", '["{python}", "{fd:>4}"]'), "takes no format spec"),
        (config_text("bad", '["{python}", "{fd}", "x}"]'), "literal brace"),
        (
            config_text("bad", '["{python}", "{fd}"]') + '[rootpath]\nargs = ["{root_path}{x}"]\n',
            r"rootpath\.args item .*unknown placeholder \{x\}",
        ),
    ],
)
def test_a_bad_file_is_named_in_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "bad.toml").write_text(text)
    with pytest.raises(ServerConfigError, match=message) as raised:
        load_servers([BUILTIN_SERVERS_DIR, tmp_path])
    assert str(raised.value).startswith(str(tmp_path / "bad.toml"))


def test_escaped_braces_and_rootpath_placeholder_are_accepted(tmp_path: Path) -> None:
    command = '["{python}", "-c", "print({{1: 2}})", "{fd}"]'
    text = config_text("ok", command) + '[rootpath]\nargs = ["--root-path", "{root_path}"]\n'
    (tmp_path / "ok.toml").write_text(text)
    config = load_servers(tmp_path)["ok"]
    assert config.render_command(python="py", fd="3")[2] == "print({1: 2})"


def test_a_missing_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ServerConfigError, match="not a directory"):
        load_servers([BUILTIN_SERVERS_DIR, tmp_path / "nope"])


def collect(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "conformance", "--collect-only", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )


def header(done: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in done.stdout.splitlines() if line.startswith("conformance: impl")]
    assert len(lines) == 1, done.stdout[-2000:] + done.stderr[-2000:]
    return lines[0]


def test_the_run_uses_the_shipped_and_the_added_configurations(tmp_path: Path) -> None:
    (tmp_path / "mine.toml").write_text(MINE)
    (tmp_path / "notes.txt").write_text("ignored")
    done = collect(f"--servers-dir={tmp_path}", "--server", "mine", "--server", "uvicorn")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "servers mine, uvicorn;" in header(done)
    assert "<Module test_sse.py>" in done.stdout and "[mine]>" in done.stdout


def test_a_bad_added_file_is_a_usage_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text(config_text("bad", '["{python}", "${PORT}", "{fd}"]'))
    done = collect(f"--servers-dir={tmp_path}")
    assert done.returncode == 4, done.stdout[-2000:] + done.stderr[-2000:]
    assert f"{tmp_path / 'bad.toml'}: command item '${{PORT}}'" in done.stderr
    assert "Traceback" not in done.stderr and "KeyError" not in done.stderr


def test_no_builtin_servers_keeps_only_the_added_ones(tmp_path: Path) -> None:
    (tmp_path / "mine.toml").write_text(MINE)
    done = collect("--no-builtin-servers", f"--servers-dir={tmp_path}")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "servers mine;" in header(done)
