"""Server configurations and processes fail clearly: env, placeholders, start and restarts."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from conformance.harness.environment import ImplEnvironment
from conformance.harness.process import ServerDidNotStart, ServerExited, ServerProcess
from conformance.harness.server import ServerPool
from conformance.harness.serverconfig import ServerConfig, ServerConfigError, load_servers

SERVER = """
name = "s"
distribution = "s"
command = ["{python}", "-m", "s", "--fd", "{fd}", "{app}"]
"""

# Answers the readiness probe once (200), then exits: a server that dies after starting.
READY_THEN_EXIT = (
    "import socket, sys\n"
    "listener = socket.socket(fileno=int(sys.argv[1]))\n"
    "connection, _ = listener.accept()\n"
    "connection.recv(65536)\n"
    "connection.sendall(b'HTTP/1.1 200 OK\\r\\ncontent-length: 0\\r\\n'\n"
    "                   b'connection: close\\r\\n\\r\\n')\n"
    "connection.close()\n"
)


def write(folder: Path, name: str, text: str) -> Path:
    (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_env_table_and_placeholders_are_rendered(tmp_path: Path) -> None:
    text = SERVER + '[env]\nS_CONFIG = "{servers_dir}/s.json"\nS_APP = "{app_file}"\n'
    config = load_servers(write(tmp_path, "s.toml", text))["s"]
    env = config.render_env(python="py", host="h", app="m:app", app_file="/a.py", app_attr="app")
    assert env == {"S_CONFIG": f"{tmp_path.resolve()}/s.json", "S_APP": "/a.py"}
    assert config.module == "s"


@pytest.mark.parametrize(
    ("command_item", "message"),
    [
        ("${HOME}/x", r"s\.toml: command item '\$\{HOME\}/x': \$\{HOME\} is not expanded"),
        ("{colour}", r"s\.toml: command item '\{colour\}': unknown placeholder \{colour\}"),
        ("{app", r"s\.toml: command item '\{app': .*literal brace"),
    ],
)
def test_bad_placeholders_name_the_file(tmp_path: Path, command_item: str, message: str) -> None:
    text = SERVER.replace('"{app}"]', f'"{command_item}"]')
    with pytest.raises(ServerConfigError, match=message):
        load_servers(write(tmp_path, "s.toml", text))


def test_env_may_not_use_the_socket(tmp_path: Path) -> None:
    with pytest.raises(ServerConfigError, match=r"\[env\] value '\{port\}': unknown"):
        load_servers(write(tmp_path, "s.toml", SERVER + '[env]\nP = "{port}"\n'))


def test_other_files_in_the_servers_folder_are_left_alone(tmp_path: Path) -> None:
    write(tmp_path, "s.toml", SERVER)
    write(tmp_path, "README.md", "# not a configuration {")
    write(tmp_path, "s.json", "{}")
    write(tmp_path, "s.toml.bak", "not toml [")
    write(tmp_path, ".#s.toml", "an editor lock [")
    (tmp_path / "folder.toml").mkdir()
    assert list(load_servers(tmp_path)) == ["s"]


def _pool(tmp_path: Path, command: list[str], max_restarts: int = 2) -> ServerPool:
    config = ServerConfig(name="s", distribution="s", command=tuple(command), ready_timeout=10)
    work = tmp_path / "work"
    work.mkdir()
    return ServerPool(
        {"s": config},
        python=sys.executable,
        app_root=tmp_path,
        work_dir=work,
        env={"PATH": "/usr/bin:/bin"},
        versions={},
        max_restarts=max_restarts,
    )


def test_a_server_that_cannot_start_is_one_line_and_never_retried(tmp_path: Path) -> None:
    command = ["{python}", "-c", "import sys; sys.exit('unsupported Python 3.11')", "{fd}"]
    pool = _pool(tmp_path, command)
    with pytest.raises(ServerDidNotStart) as first:
        pool.get("s")
    assert first.value.problem == "did not start: exited with status 1: unsupported Python 3.11"
    assert "unsupported Python 3.11" in first.value.log_tail
    with pytest.raises(ServerDidNotStart) as again:
        pool.get("s")
    assert again.value.problem.startswith("did not start: exited with status 1")
    assert "\n" not in again.value.problem
    assert pool.process("s") is None  # nothing left running or respawned


@pytest.mark.parametrize("max_restarts", [0, 1])
def test_restarts_are_bounded_by_the_option(tmp_path: Path, max_restarts: int) -> None:
    pool = _pool(tmp_path, ["{python}", "-c", READY_THEN_EXIT, "{fd}"], max_restarts)
    for _ in range(max_restarts):
        pool.get("s")
        pool.process("s").wait_exit(10)  # type: ignore[union-attr]
        with pytest.raises(ServerExited, match="restarted for the next case"):
            pool.get("s")
    pool.get("s")
    pool.process("s").wait_exit(10)  # type: ignore[union-attr]
    restarts = f"gave up after {max_restarts} restart{'s' * (max_restarts != 1)}"
    with pytest.raises(ServerExited, match=restarts) as given_up:
        pool.get("s")
    assert "--- last lines of its log ---" in str(given_up.value)
    with pytest.raises(ServerExited, match=restarts) as again:
        pool.get("s")
    assert "\n" not in again.value.problem


def test_the_server_temp_dir_is_inside_the_run_folder(tmp_path: Path) -> None:
    code = "import sys, tempfile; print(tempfile.mkdtemp(prefix='fixture-'), flush=True)"
    pool = _pool(tmp_path, ["{python}", "-c", code, "{fd}"])
    process = pool.spawn("s")
    assert process.wait_exit(10) == 0
    made = Path(process.log_tail().strip())
    assert made.is_dir() and (tmp_path / "work") in made.parents


def test_app_file_imports_the_app_from_its_package(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    write(package, "__init__.py", "")
    write(package, "main.py", "from . import helper\napp = helper.APP\n")
    write(package, "helper.py", "APP = 'the app'\n")
    code = "import runpy, sys; print(runpy.run_path(sys.argv[1])[sys.argv[2]])  # {fd}"
    config = ServerConfig(
        name="s", distribution="s", command=("{python}", "-c", code, "{app_file}", "{app_attr}")
    )
    process = ServerProcess(
        config,
        python=sys.executable,
        app_root=tmp_path,
        log_path=tmp_path / "log",
        env={"PYTHONPATH": str(tmp_path)},
        app="pkg.main:app",
    )
    process.start()
    assert process.wait_exit(10) == 0, process.log_tail()
    assert process.log_tail().strip() == "the app"


def test_the_version_is_the_one_of_the_module_the_server_imports() -> None:
    nonecorn = ServerConfig(
        name="nonecorn", distribution="nonecorn", command=("{python}", "-m", "hypercorn", "{fd}")
    )
    env = ImplEnvironment(
        python="CPython 3.11",
        impl_version="1",
        impl_error=None,
        dists={"nonecorn": "0.18.0", "hypercorn": "0.18.0"},
        modules={"hypercorn": {"file": "x", "distribution": "Hypercorn", "version": "0.17.3"}},
    )
    assert env.server_version(nonecorn) == "Hypercorn 0.17.3"
    problem = env.server_problem(nonecorn, "py")
    assert problem is not None and "module 'hypercorn' is Hypercorn 0.17.3's" in problem
    own = dict(env.modules, hypercorn={"distribution": "nonecorn", "version": "0.18.0"})
    honest = ImplEnvironment("CPython 3.11", "1", None, env.dists, modules=own)
    assert honest.server_version(nonecorn) == "0.18.0"
    assert honest.server_problem(nonecorn, "py") is None


def test_root_path_args_go_before_an_app_file(tmp_path: Path) -> None:
    text = SERVER.replace('"{app}"]', '"{app_file}:{app_attr}"]') + (
        '[rootpath]\nargs = ["--root-path", "{root_path}"]\n'
    )
    config = load_servers(write(tmp_path, "s.toml", text))["s"].with_root_path()
    assert config.command[-3:] == ("--root-path", "/mount", "{app_file}:{app_attr}")


def test_the_reason_is_the_exception_of_the_log(tmp_path: Path) -> None:
    code = (
        "import sys; print('Traceback (most recent call last):'); "
        "print('ModuleNotFoundError: No module named \"mount\"'); "
        "print('A worker process died (1). Restarting...'); sys.exit(1)"
    )
    pool = _pool(tmp_path, ["{python}", "-c", code, "{fd}"])
    with pytest.raises(ServerDidNotStart, match='ModuleNotFoundError: No module named "mount"'):
        pool.get("s")


# Answers every connection with 200 and closes it, until stopped.
SERVE_FOREVER = (
    "import socket, sys\n"
    "listener = socket.socket(fileno=int(sys.argv[1]))\n"
    "while True:\n"
    "    connection, _ = listener.accept()\n"
    "    connection.recv(65536)\n"
    "    connection.sendall(b'HTTP/1.1 200 OK\\r\\ncontent-length: 0\\r\\n'\n"
    "                       b'connection: close\\r\\n\\r\\n')\n"
    "    connection.close()\n"
)


def test_a_restart_takes_the_spare_started_ahead(tmp_path: Path) -> None:
    pool = _pool(tmp_path, ["{python}", "-c", SERVE_FOREVER, "{fd}"])
    first = pool.get("s")._process
    pool.warm_spare("s")
    spare = pool._spares["s"]
    pool.warm_spare("s")
    assert pool._spares["s"] is spare  # one spare at most
    stopped = pool.stop("s")
    assert pool.get("s")._process is spare  # the restart takes the spare, already started
    assert stopped is first and first.exit_code() is not None
    pool.warm_spare("s")
    unused = pool._spares["s"]
    pool.stop_all()
    assert unused.exit_code() is not None and spare.exit_code() is not None  # all reaped


def test_a_spare_that_died_is_replaced_by_a_new_process(tmp_path: Path) -> None:
    pool = _pool(tmp_path, ["{python}", "-c", SERVE_FOREVER, "{fd}"])
    pool.get("s")
    pool.warm_spare("s")
    dead = pool._spares["s"]
    dead.stop()
    pool.stop("s")
    assert pool.get("s")._process is not dead
    pool.stop_all()
