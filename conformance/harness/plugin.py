"""The pytest plugin of ``pytest conformance``: options, servers, verdicts, reports.

``conformance/conftest.py`` imports :func:`pytest_addoption` and :func:`pytest_configure`;
the latter registers one :class:`ConformancePlugin` holding every other hook. Plain
``pytest`` (``tests/``) never loads it, so it never starts a server.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import threading
import time
import uuid
from collections.abc import Generator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from conformance.harness import environment, report
from conformance.harness.catalogue import CatalogueError, Requirement, load_catalogue
from conformance.harness.outcomes import NotApplicable, Outcome, Result, apply_deviation
from conformance.harness.process import ServerError, stop_all
from conformance.harness.server import Server, ServerPool
from conformance.harness.serverconfig import ServerConfigError, load_servers
from conformance.harness.settings import CASE_TIMEOUT, Settings, add_options, resolve

RESULTS_KEY = "conformance.results"
SERVER_KEY = "conformance.server"
REQUIREMENT_MARKER = (
    "requirement(*ids): the catalogue ids (conformance/requirements/*.toml) a case checks"
)
STOPS_SERVER_MARKER = (
    "stops_server: the case stops its server (pool.stop); such cases run after the others"
)
DETAIL_LOG_LINES = 20


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", REQUIREMENT_MARKER)
    config.addinivalue_line("markers", STOPS_SERVER_MARKER)
    config.addinivalue_line("markers", "xdist_group(name): run in the same xdist worker")
    _default_to_loadgroup(config)
    if config.pluginmanager.has_plugin("conformance"):
        return
    config.pluginmanager.register(ConformancePlugin(config), "conformance")


def _default_to_loadgroup(config: pytest.Config) -> None:
    """``-n N`` alone means ``--dist loadgroup`` here: one server per worker."""
    explicit = any(
        arg in ("--dist", "-d", "--distload") or arg.startswith("--dist=")
        for arg in config.invocation_params.args
    )
    if not explicit and getattr(config.option, "dist", "no") == "load":
        config.option.dist = "loadgroup"


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


class ConformancePlugin:
    """Run-wide state of one pytest process (controller, serial run, or xdist worker)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.settings: Settings = resolve(config)
        self.started = datetime.now(UTC)
        self.started_monotonic = time.monotonic()
        try:
            self.configs = load_servers(self.settings.servers_dir)
        except ServerConfigError as error:
            raise pytest.UsageError(str(error)) from error
        if not self.configs:
            raise pytest.UsageError(f"no server configurations in {self.settings.servers_dir}")
        unknown = [name for name in self.settings.servers if name not in self.configs]
        if unknown:
            raise pytest.UsageError(
                f"unknown --server {', '.join(unknown)}; known: {', '.join(self.configs)}"
            )
        self.work_dir = Path(tempfile.mkdtemp(prefix="conformance-"))
        try:
            self.env_info = environment.probe(
                self.settings.impl_python,
                self.settings.impl,
                sorted({c.distribution for c in self.configs.values()}),
                self.work_dir,
            )
        except environment.EnvironmentError_ as error:
            raise pytest.UsageError(str(error)) from error
        self.selected, self.left_out = self._select()
        self.results: list[Result] = []
        self.servers_seen: dict[str, dict[str, Any]] = {}
        self._pool: ServerPool | None = None
        self._previous_sigterm: Any = None

    def _select(self) -> tuple[list[str], dict[str, str]]:
        python = self.settings.impl_python
        missing = {
            name: f"distribution {c.distribution!r} not installed for {python}"
            for name, c in self.configs.items()
            if self.env_info.dists.get(c.distribution) is None
        }
        if self.settings.servers:
            wanted = list(dict.fromkeys(self.settings.servers))
            broken = [f"{name} ({missing[name]})" for name in wanted if name in missing]
            if broken:
                raise pytest.UsageError(f"--server not runnable: {'; '.join(broken)}")
            return wanted, {}
        return [name for name in self.configs if name not in missing], missing

    def version_of(self, name: str) -> str | None:
        return self.env_info.dists.get(self.configs[name].distribution)

    # -- lifecycle, in hook order -------------------------------------------------------------

    def pytest_configure(self, config: pytest.Config) -> None:
        if threading.current_thread() is threading.main_thread():
            self._previous_sigterm = signal.signal(signal.SIGTERM, _sigterm_to_interrupt)

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        impl = f"{self.settings.impl} {self.env_info.impl_version or '(version unknown)'}"
        if self.env_info.impl_error:
            impl += f" (import failed: {self.env_info.impl_error})"
        left = "; ".join(f"{name}: {why}" for name, why in self.left_out.items()) or "none"
        return [
            f"conformance: impl {impl} on {self.env_info.python}; "
            f"servers {', '.join(self.selected)}; left out: {left}"
        ]

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if "server" in metafunc.fixturenames:
            metafunc.parametrize("server", self.selected, indirect=True, ids=self.selected)

    def pytest_collection_modifyitems(
        self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        items.sort(key=lambda item: item.get_closest_marker("stops_server") is not None)
        timeout_given = config.getoption("timeout", None) is not None
        needed: list[str] = []
        for item in items:
            name = _server_of(item)
            if name is None:
                continue
            item.add_marker(pytest.mark.xdist_group(name))
            if not timeout_given and item.get_closest_marker("timeout") is None:
                item.add_marker(pytest.mark.timeout(CASE_TIMEOUT))
            if name not in needed:
                needed.append(name)
        if needed and not config.option.collectonly and not _is_worker(config):
            pool = self.pool()
            for name in needed:  # spawn all now; each waits for readiness when first used
                pool.spawn(name)

    def pool(self) -> ServerPool:
        if self._pool is None:
            app_root = environment.stage_apps(self.work_dir / "apps")
            env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
            env.update(
                PYTHONPATH=str(app_root),
                PYTHONUNBUFFERED="1",
                PYTHONDONTWRITEBYTECODE="1",
                CONFORMANCE_IMPL=self.settings.impl,
                CONFORMANCE_RUN_TOKEN=os.environ.get("CONFORMANCE_RUN_TOKEN", uuid.uuid4().hex),
            )
            self._pool = ServerPool(
                self.configs,
                python=self.settings.impl_python,
                app_root=app_root,
                work_dir=self.work_dir,
                env=env,
                versions={name: self.version_of(name) for name in self.configs},
            )
        return self._pool

    @pytest.fixture
    def server(self, request: pytest.FixtureRequest) -> Iterator[Server]:
        """The running server configuration this case is parametrised with."""
        name = str(request.param)
        try:
            handle = self.pool().get(name)
        except ServerError as error:
            pytest.fail(f"harness error: {error}", pytrace=False)
        yield handle

    @pytest.fixture
    def server_pool(self) -> ServerPool:
        """The pool, for cases that need a private instance (e.g. to stop it)."""
        return self.pool()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        test_report = yield
        name = _server_of(item)
        marker_ids = [i for m in item.iter_markers("requirement") for i in m.args]
        if name is None or not marker_ids:
            return test_report
        if call.when == "teardown" or (call.when == "setup" and test_report.passed):
            return test_report
        self._attach_verdicts(item, call, test_report, name, marker_ids)
        return test_report

    def _attach_verdicts(
        self,
        item: pytest.Item,
        call: pytest.CallInfo[None],
        test_report: pytest.TestReport,
        name: str,
        ids: list[str],
    ) -> None:
        config = self.configs[name]
        base, detail = _base_outcome(call)
        process = self.pool().process(name)
        if base == "fail" and process is not None:
            tail = process.log_tail(DETAIL_LOG_LINES)
            test_report.sections.append((f"{name} server log (last lines)", tail))
            if "--- last lines of its log ---" not in detail:
                detail += f"\n--- last lines of the {name} log ---\n{tail}"
        results = []
        for requirement in ids:
            declared = config.deviations.get(requirement)
            outcome = apply_deviation(base, declared)
            text = detail
            if outcome == "deviation":
                text = f"declared deviation: {declared}\n{detail}"
            elif outcome == "unexpected-pass":
                text = f"declared deviation ({declared}) but the case passed"
            results.append(
                Result(
                    requirement, name, item.nodeid, outcome, round(test_report.duration, 4), text
                )
            )
        outcomes = {r.outcome for r in results}
        if base == "fail" and outcomes == {"deviation"}:
            test_report.outcome = "skipped"
            reasons = "; ".join(config.deviations[i] for i in ids)
            test_report.wasxfail = f"deviation: {reasons}"
        elif "unexpected-pass" in outcomes:
            test_report.outcome = "failed"
            test_report.longrepr = (
                f"unexpected pass on {name}: remove from servers/{name}.toml [deviations]: "
                + ", ".join(r.requirement for r in results if r.outcome == "unexpected-pass")
            )
        server_info = {
            "name": name,
            "version": self.version_of(name),
            "command": " ".join(config.command),
        }
        test_report.user_properties = [
            *test_report.user_properties,
            (RESULTS_KEY, [r.to_json() for r in results]),
            (SERVER_KEY, server_info),
        ]

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for key, value in report.user_properties:
            data: Any = value
            if key == RESULTS_KEY:
                self.results.extend(Result.from_json(item) for item in data)
            elif key == SERVER_KEY:
                self.servers_seen[data["name"]] = data

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self._pool is not None:
            self._pool.stop_all()
        if _is_worker(self.config) or not self.results:
            return
        self._write_reports()

    def _write_reports(self) -> None:
        try:
            catalogue: dict[str, Requirement] = load_catalogue()
        except CatalogueError:
            catalogue = {}
        data = report.build(
            run={
                "impl": self.settings.impl,
                "impl_version": self.env_info.impl_version,
                "python": self.env_info.python,
                "started": self.started.isoformat(timespec="seconds"),
                "duration_s": round(time.monotonic() - self.started_monotonic, 2),
                "servers": [self.servers_seen[n] for n in self.selected if n in self.servers_seen],
            },
            requirements=list(catalogue.values()),
            results=self.results,
        )
        directory = self.settings.report_dir
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "conformance.json").write_text(
            json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        (directory / "conformance.md").write_text(report.render_markdown(data), encoding="utf-8")
        (directory / "conformance.html").write_text(report.render_html(data), encoding="utf-8")
        reporter = self.config.pluginmanager.getplugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"conformance report: {directory / 'conformance.html'}")

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        stop_all()
        if self._previous_sigterm is not None:
            signal.signal(signal.SIGTERM, self._previous_sigterm)
        shutil.rmtree(self.work_dir, ignore_errors=True)


def _sigterm_to_interrupt(signum: int, frame: FrameType | None) -> None:
    """SIGTERM ends the run like Ctrl-C, so session teardown stops the servers."""
    raise KeyboardInterrupt(f"signal {signum}")


def _server_of(item: pytest.Item) -> str | None:
    callspec = getattr(item, "callspec", None)
    if callspec is None or "server" not in callspec.params:
        return None
    return str(callspec.params["server"])


def _base_outcome(call: pytest.CallInfo[None]) -> tuple[Outcome, str]:
    """Outcome before deviations, and the detail text for the report."""
    excinfo = call.excinfo
    if excinfo is None:
        return "pass", ""
    error = excinfo.value
    if isinstance(error, NotApplicable):
        return "not-applicable", str(error.msg)
    if isinstance(error, pytest.skip.Exception):
        return "fail", f"harness error: a plain skip is not a verdict: {error.msg}"
    if isinstance(error, AssertionError):
        return "fail", str(error) or excinfo.exconly()
    if isinstance(error, pytest.fail.Exception):
        return "fail", str(error.msg)
    return "fail", f"harness error: {excinfo.exconly()}"
