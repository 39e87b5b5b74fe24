"""The benchmarks' external programs, found once: fakes on a PATH of their own, never real."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.tools import INSTALL_HINTS, Tool, ToolMissing, Tools


def _program(directory: Path, name: str, script: str) -> str:
    path = directory / name
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(0o755)
    return str(path)


def test_detect_finds_what_is_on_path_and_reads_each_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrk = _program(
        tmp_path, "wrk", 'echo "wrk 4.1.0 [epoll] Copyright (C) 2012 Will Glozer"; exit 1'
    )
    h2load = _program(tmp_path, "h2load", 'echo "h2load nghttp2/1.52.0"; echo more')
    git = _program(tmp_path, "git", "exit 0")  # says nothing
    monkeypatch.setenv("PATH", str(tmp_path))  # no taskset here
    tools = Tools.detect()
    assert tools == Tools(
        wrk=Tool(wrk, "wrk 4.1.0 [epoll]"),
        h2load=Tool(h2load, "h2load nghttp2/1.52.0"),
        taskset=None,
        git=Tool(git, "git (version unknown)"),
    )
    assert tools.missing() == ["taskset"]
    assert tools.versions() == {
        "wrk": "wrk 4.1.0 [epoll]",
        "h2load": "h2load nghttp2/1.52.0",
        "taskset": "missing",
        "git": "git (version unknown)",
    }


def test_detect_on_an_empty_path_finds_nothing_and_raises_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    tools = Tools.detect()
    assert tools == Tools()
    assert tools.missing() == ["wrk", "h2load", "taskset", "git"]
    assert set(tools.versions().values()) == {"missing"}
    assert tools.git_commit(tmp_path) == "unknown"


def test_need_names_the_path_or_says_how_to_install() -> None:
    tools = Tools(wrk=Tool("/opt/wrk", "wrk 4"))
    assert tools.need("wrk") == "/opt/wrk"
    with pytest.raises(ToolMissing) as missing:
        tools.need("h2load")
    assert str(missing.value) == INSTALL_HINTS["h2load"]
    assert "apt-get install -y nghttp2-client" in str(missing.value)


def test_git_commit_reads_rev_parse_or_says_unknown(tmp_path: Path) -> None:
    good = _program(tmp_path, "git", 'test "$*" = "rev-parse --short HEAD" && echo 1a2b3c4')
    assert Tools(git=Tool(good, "git")).git_commit(tmp_path) == "1a2b3c4"
    failing = _program(tmp_path, "git-broken", "echo HEAD; echo 'fatal: ambiguous' >&2; exit 128")
    assert Tools(git=Tool(failing, "git")).git_commit(tmp_path) == "unknown"
    gone = str(tmp_path / "no-such-git")
    assert Tools(git=Tool(gone, "git")).git_commit(tmp_path) == "unknown"
