"""The pytest plugin of ``pytest conformance``: options, servers, verdicts, reports.

``conformance/conftest.py`` imports :func:`pytest_addoption` and :func:`pytest_configure`;
the latter registers one :class:`ConformancePlugin` holding every other hook. Plain
``pytest`` (``tests/``) never loads it, so it never starts a server.
"""

from __future__ import annotations

import dataclasses
import os
import platform
import shutil
import signal
import sys
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

from conformance.harness import __version__ as HARNESS_VERSION
from conformance.harness import environment, idle, report, rootpath_facts, violations
from conformance.harness.catalogue import (
    CatalogueError,
    Requirement,
    areas,
    digest,
    load_catalogue,
    one_line,
    unknown_prefixes,
)
from conformance.harness.classify import base_outcome
from conformance.harness.facts import FACT_PROPERTY, answer_facts, merge_fact, take_answers
from conformance.harness.outcomes import (
    HarnessError,
    Result,
    declared_outcome,
    not_applicable,
)
from conformance.harness.process import ServerError, stop_all
from conformance.harness.reportfiles import write_reports
from conformance.harness.server import Server, ServerPool
from conformance.harness.serverconfig import (
    ROOT_PATH,
    ROOTPATH_SUFFIX,
    TLS_SUFFIX,
    ServerConfigError,
    load_servers,
)
from conformance.harness.settings import CASE_TIMEOUT, Settings, add_options, resolve
from conformance.harness.transport import (
    H1_ONLY_FIXTURES,
    H1_ONLY_MARKER,
    H2_ONLY_MARKER,
    H2_TWIN_MARKER,
    NotThisTransport,
    columns_for,
    declared_deviation,
    not_this_transport,
    selected_transports,
    split_column,
)
from conformance.harness.verdicts import FLAKY_LABEL
from conformance.harness.workers import apply_default_workers

RESULTS_KEY = "conformance.results"
SERVER_KEY = "conformance.server"
FACTS_KEY = "conformance.facts"
REQUIREMENT_MARKER = (
    "requirement(*ids): the catalogue ids (conformance/requirements/*.toml) a case checks"
)
STOPS_SERVER_MARKER = (
    "stops_server: the case stops its server (pool.stop); such cases run after the others"
)
SWEEP_MARKER = (
    "sweep: the case reads what the other cases of its server left behind "
    "(ASGI-APP-*); such cases run after them"
)
DEFAULT_WORKERS_KEY = pytest.StashKey[int]()
DETAIL_LOG_LINES = 20
IDLE_OUTPUT_KEY = "conformance_idle_keep_alive"
ENV_INPUT_KEY = "conformance_environment"


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)  # --transport included (once)


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> int | None:
    """``--list-requirements``: print the catalogue and exit before any server or probe.

    Otherwise, with no ``-n`` given, choose the number of xdist workers (see :mod:`workers`).
    """
    if not config.getoption("list_requirements", False):
        config.stash[DEFAULT_WORKERS_KEY] = apply_default_workers(config)
        return None
    try:
        catalogue = load_catalogue()
    except CatalogueError as error:
        sys.stderr.write(f"{error}\n")
        return 4
    prefixes = tuple(config.getoption("requirement") or ())
    unknown = unknown_prefixes(catalogue, prefixes)
    if unknown:
        sys.stderr.write(_unknown_prefix_message(catalogue, unknown) + "\n")
        return 4
    for requirement in catalogue.values():
        if not prefixes or requirement.id.startswith(prefixes):
            sys.stdout.write(one_line(requirement) + "\n")
    sys.stdout.flush()
    return 0


def _unknown_prefix_message(catalogue: dict[str, Requirement], unknown: list[str]) -> str:
    listed = "; ".join(f"{area} ({', '.join(p)})" for area, p in areas(catalogue).items())
    return f"unknown --requirement {', '.join(unknown)}: no id starts with it; areas: {listed}"


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", REQUIREMENT_MARKER)
    config.addinivalue_line("markers", STOPS_SERVER_MARKER)
    config.addinivalue_line("markers", SWEEP_MARKER)
    config.addinivalue_line("markers", H1_ONLY_MARKER)
    config.addinivalue_line("markers", H2_ONLY_MARKER)
    config.addinivalue_line("markers", H2_TWIN_MARKER)
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
            self.configs = load_servers(self.settings.servers_dirs)
        except ServerConfigError as error:
            raise pytest.UsageError(str(error)) from error
        if not self.configs:
            folders = ", ".join(map(str, self.settings.servers_dirs)) or "no --servers-dir"
            raise pytest.UsageError(f"no server configurations in {folders}")
        unknown = [name for name in self.settings.servers if name not in self.configs]
        if unknown:
            raise pytest.UsageError(
                f"unknown --server {', '.join(unknown)}; known: {', '.join(self.configs)}"
            )
        try:
            self.catalogue: dict[str, Requirement] = load_catalogue()
        except CatalogueError:
            self.catalogue = {}  # the meta-test (test_catalogue.py) reports the problems
        unknown_ids = unknown_prefixes(self.catalogue, self.settings.requirements)
        if unknown_ids:
            raise pytest.UsageError(_unknown_prefix_message(self.catalogue, unknown_ids))
        name = self.settings.report_name
        if not name or "/" in name or name.startswith("."):
            raise pytest.UsageError(f"--report-name {name!r}: a plain file name is needed")
        self.work_dir = Path(tempfile.mkdtemp(prefix="conformance-"))
        shared = getattr(config, "workerinput", {}).get(ENV_INPUT_KEY)
        try:  # an xdist worker takes what the controller probed (pytest_configure_node)
            self.env_info = (
                environment.ImplEnvironment(**shared)
                if shared
                else environment.probe(
                    self.settings.impl_python,
                    self.settings.impl,
                    sorted({c.distribution for c in self.configs.values()}),
                    self.work_dir,
                    sorted({c.module for c in self.configs.values() if c.module}),
                )
            )
        except environment.EnvironmentError_ as error:
            raise pytest.UsageError(str(error)) from error
        self.selected, self.left_out = self._select()
        self.results: list[Result] = []
        self.servers_seen: dict[str, dict[str, Any]] = {}
        self.facts: dict[str, dict[str, Any]] = {}
        self.measured: dict[str, dict[str, Any]] = {}  # open behaviours recorded by cases
        self._facts_sent: set[str] = set()
        self._case_starts: dict[str, list[tuple[float, str]]] = {}
        self.violations: dict[str, list[dict[str, Any]]] = {}
        self.validating = os.environ.get("CONFORMANCE_VALIDATE", "1") != "0"
        self._pool: ServerPool | None = None
        #: The instances the collected cases of each configuration use (itself, its root-path twin).
        self._instances: dict[str, list[str]] = {}
        self._spawned: set[str] = set()  # configurations whose instances were all spawned
        #: Collected cases per configuration that may restart it, not yet run (see teardown).
        self._restarts_left: dict[str, int] = {}
        self._previous_sigterm: Any = None

    def _select(self) -> tuple[list[str], dict[str, str]]:
        python = self.settings.impl_python
        problems = {n: self.env_info.server_problem(c, python) for n, c in self.configs.items()}
        missing = {name: why for name, why in problems.items() if why is not None}
        if self.settings.servers:
            wanted = list(dict.fromkeys(self.settings.servers))
            broken = [f"{name} ({missing[name]})" for name in wanted if name in missing]
            if broken:
                raise pytest.UsageError(f"--server not runnable: {'; '.join(broken)}")
            return wanted, {}
        return [name for name in self.configs if name not in missing], missing

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """xdist controller: give each worker the probed environment (one probe per run)."""
        node.workerinput[ENV_INPUT_KEY] = dataclasses.asdict(self.env_info)

    def version_of(self, name: str) -> str | None:
        return self.env_info.server_version(self.configs[name])

    # -- lifecycle, in hook order -------------------------------------------------------------

    def pytest_configure(self, config: pytest.Config) -> None:
        if threading.current_thread() is threading.main_thread():
            self._previous_sigterm = signal.signal(signal.SIGTERM, _sigterm_to_interrupt)

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        impl = f"{self.settings.impl} {self.env_info.impl_version or '(version unknown)'}"
        if self.env_info.impl_error:
            impl += f" (import failed: {self.env_info.impl_error})"
        left = "; ".join(f"{name}: {why}" for name, why in self.left_out.items()) or "none"
        lines = [
            f"conformance: impl {impl} on {self.env_info.python}; "
            f"servers {', '.join(self.selected)}; left out: {left}"
        ]
        workers = config.stash.get(DEFAULT_WORKERS_KEY, 0)
        if workers:
            lines.append(f"conformance: {workers} xdist workers by default (-n 0: one process)")
        if self.settings.requirements:
            lines.append(f"conformance: requirements {', '.join(self.settings.requirements)}*")
        if not self.validating:
            lines.append("conformance: ASGI message validation off (CONFORMANCE_VALIDATE=0)")
        return lines

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if "server" in metafunc.fixturenames:
            markers = {m.name for m in metafunc.definition.iter_markers()}
            if H1_ONLY_FIXTURES & set(metafunc.fixturenames):
                markers.add("h1_only")
            offers_h2 = {name: self.configs[name].offers.http2 for name in self.selected}
            offers_tls = {name: self.configs[name].offers_h2_tls for name in self.selected}
            transports = selected_transports(self.config)
            columns = columns_for(markers, self.selected, offers_h2, transports, offers_tls)
            metafunc.parametrize("server", columns, indirect=True, ids=columns)

    def pytest_collection_modifyitems(
        self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        if self.settings.requirements:
            kept: list[pytest.Item] = []
            dropped: list[pytest.Item] = []
            for item in items:
                ids = _ids_of(item)
                (kept if any(self.settings.selects(i) for i in ids) else dropped).append(item)
            if dropped:
                config.hook.pytest_deselected(items=dropped)
                items[:] = kept
        items.sort(key=_run_order)
        timeout_given = config.getoption("timeout", None) is not None
        needed: list[str] = []
        timeout = pytest.mark.timeout(CASE_TIMEOUT)  # one marker object each, not one per case
        groups: dict[str, pytest.MarkDecorator] = {}
        for item in items:
            name = _server_of(item)
            if name is None:
                continue
            if name not in groups:
                groups[name] = pytest.mark.xdist_group(name)
            item.add_marker(groups[name])
            if not timeout_given and item.get_closest_marker("timeout") is None:
                item.add_marker(timeout)
            if _restarts(item):
                self._restarts_left[name] = self._restarts_left.get(name, 0) + 1
            wanted = self._instances.setdefault(name, [name])
            over_tls = split_column(_column_of(item) or name)[1] == "h2"
            if over_tls and name + TLS_SUFFIX not in wanted:
                wanted.append(name + TLS_SUFFIX)  # the TLS instance, started with the others
            if "rootpath_server" in getattr(item, "fixturenames", ()):
                twin = name + ROOTPATH_SUFFIX
                if self.configs[name].rootpath_args and twin not in wanted:
                    wanted.append(twin)
            needed += [n for n in wanted if n not in needed]
        if needed and not config.option.collectonly and not _is_worker(config):
            pool = self.pool()
            for name in needed:  # spawn all now; each waits for readiness when first used
                pool.spawn(name)
            self._spawned.update(self._instances)

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
                max_restarts=self.settings.max_restarts,
            )
        return self._pool

    @pytest.fixture
    def server(self, request: pytest.FixtureRequest) -> Iterator[Server]:
        """The running server configuration this case is parametrised with, seen over the
        transport of its column (``NAME``, ``NAME/h2c``, or ``NAME/h2``: the TLS instance)."""
        name, transport = split_column(str(request.param))
        if transport == "h1" and request.node.get_closest_marker("h2_only") is not None:
            not_applicable(f"servers/{name}.toml does not offer HTTP/2 ([offers] http2)")
        pool = self.pool()
        self._spawn_instances(name)  # an xdist worker: its root-path twin alongside
        try:
            handle = pool.get(name + TLS_SUFFIX if transport == "h2" else name)
        except ServerError as error:
            raise HarnessError(f"server {error.name!r} {error.problem}", error.log_tail) from None
        yield handle.over(transport)

    def _spawn_instances(self, name: str) -> None:
        """Spawn the instances the collected cases of ``name`` use, once (no readiness wait)."""
        if name in self._spawned:
            return
        self._spawned.add(name)
        pool = self.pool()
        for instance in self._instances.get(name, []):
            pool.spawn(instance)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> None:
        """When the next case needs another configuration (an xdist worker moving on to its
        next one), spawn it now: it starts while this case runs instead of after it."""
        following = None if nextitem is None else _server_of(nextitem)
        if following is not None and following != _server_of(item):
            self._spawn_instances(following)

    @pytest.fixture
    def rootpath_server(self, server: Server) -> Server:
        """The same configuration started with its root-path option (``/mount``) on."""
        if server.transport != "h1":
            raise not_this_transport("the rootpath_server fixture")
        if not self.configs[server.name].rootpath_args:
            not_applicable(f"servers/{server.name}.toml declares no [rootpath] args")
        name = server.name + ROOTPATH_SUFFIX
        try:
            handle = self.pool().get(name)
        except ServerError as error:
            raise HarnessError(f"server {error.name!r} {error.problem}", error.log_tail) from None
        if server.name not in self.facts:
            args = self.configs[server.name].rootpath_args
            option = " ".join(a.replace("{root_path}", ROOT_PATH) for a in args)
            self.facts[server.name] = rootpath_facts.measure(handle, option)
        return handle

    @pytest.fixture
    def server_pool(self, request: pytest.FixtureRequest) -> ServerPool:
        """The pool, for cases that need a private instance (e.g. to stop it)."""
        if _column_of(request.node) != _server_of(request.node):
            raise not_this_transport("the server_pool fixture")
        return self.pool()

    @pytest.fixture
    def asgi_violations(self, server: Server) -> list[dict[str, Any]]:
        """Every ASGI message violation recorded for this server so far (sweep cases)."""
        if server.transport != "h1":
            raise not_this_transport("the asgi_violations fixture (one sweep per process)")
        if not self.validating:
            not_applicable("ASGI message validation is off (CONFORMANCE_VALIDATE=0)")
        self._collect_violations(server.name)
        return list(self.violations.get(server.name, []))

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> None:
        """Between cases: while cases that may restart this configuration (those taking the
        ``server_pool`` fixture) remain, keep a spare instance of it starting."""
        name = _server_of(item)
        if name is None or self._pool is None:
            return
        if _restarts(item):
            self._restarts_left[name] = self._restarts_left.get(name, 1) - 1
        if self._restarts_left.get(name, 0) > 0:
            self._pool.warm_spare(name)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        name = _server_of(item)
        take_answers()  # nothing noted by an earlier case belongs to this one
        if name is not None:
            self._case_starts.setdefault(name, []).append((time.monotonic(), item.nodeid))

    def _collect_violations(self, name: str) -> list[Result]:
        """New ASGI message violations of ``name``'s instances, one ``fail`` row each."""
        if self._pool is None:
            return []
        return violations.collect(
            self._pool,
            name,
            self._case_starts.get(name, []),
            self.configs[name].deviations,
            self.violations.setdefault(name, []),
            self.configs[name].flaky,
        )

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        test_report = yield
        name = _server_of(item)
        marker_ids = _ids_of(item)
        if name is None or not marker_ids:
            return test_report
        column = _column_of(item) or name
        test_report.conformance_name = f"{', '.join(marker_ids)} on {column}"  # type: ignore[attr-defined]
        if call.when == "teardown" or (call.when == "setup" and test_report.passed):
            return test_report
        if call.excinfo is not None and isinstance(call.excinfo.value, NotThisTransport):
            return test_report  # an HTTP/1.1-only case on an HTTP/2 column: no result
        exited = None
        if call.when == "call" and self._pool is not None:
            exited = self._pool.take_exit(name)  # the server died during this case
        if exited is not None:
            test_report.outcome = "failed"
            test_report.longrepr = f"harness error: {exited}"
            if hasattr(test_report, "wasxfail"):
                del test_report.wasxfail
        self._attach_verdicts(item, call, test_report, name, marker_ids, exited)
        return test_report

    def _attach_verdicts(
        self,
        item: pytest.Item,
        call: pytest.CallInfo[None],
        test_report: pytest.TestReport,
        name: str,
        ids: list[str],
        exited: ServerError | None = None,
    ) -> None:
        config = self.configs[name]
        column = _column_of(item) or name
        transport = split_column(column)[1]
        case = base_outcome(call)
        base, detail, log_tail = case.outcome, case.detail, case.log_tail
        crash = None
        if exited is not None:
            own = f"\nthe case itself: {base}: {detail}" if detail else ""
            crash = config.known_crash(exited.log_tail)
            happened = f"server {exited.name!r} {exited.problem}{own}"
            log_tail = exited.log_tail
            if crash is None:  # no verdict on the requirement: the case could not finish
                base, detail = "error", f"the server exited during the case: {happened}"
            else:
                base, detail = "fail", f"the server crashed during the case: {happened}"
        process = self.pool().process(name + TLS_SUFFIX if transport == "h2" else name)
        if base in ("fail", "error") and process is not None:
            tail = process.log_tail(DETAIL_LOG_LINES)
            test_report.sections.append((f"{name} server log (last lines)", tail))
            log_tail = log_tail or tail
        results = []
        for requirement in ids:
            flaky = None
            if exited is not None:  # a crash: only a declared known crash excuses it
                declared = None if crash is None else f"known crash of {name}: {crash}"
            else:
                declared = declared_deviation(config.deviations, requirement, transport)
                flaky = declared_deviation(config.flaky, requirement, transport)
            outcome, why = declared_outcome(base, declared, flaky)
            results.append(
                Result(
                    requirement,
                    column,
                    item.nodeid,
                    outcome,
                    round(test_report.duration, 4),
                    detail,
                    reason=why,
                    log_tail=log_tail,
                    link=config.deviation_links.get(requirement, "") if why else "",
                    transport=transport,
                    flaky=declared is None and flaky is not None,
                )
            )
        outcomes = {r.outcome for r in results}
        if base == "fail" and outcomes == {"deviation"}:
            test_report.outcome = "skipped"
            flaky_only = all(r.flaky for r in results)
            reasons = crash or "; ".join(r.reason.removeprefix(FLAKY_LABEL) for r in results)
            test_report.wasxfail = f"{'flaky' if flaky_only else 'deviation'}: {reasons}"
        elif "unexpected-pass" in outcomes:
            test_report.outcome = "failed"
            test_report.longrepr = (
                f"unexpected pass on {name}: remove from servers/{name}.toml [deviations]: "
                + ", ".join(r.requirement for r in results if r.outcome == "unexpected-pass")
            )
        server_info: dict[str, Any] = {
            "name": name,
            "version": self.version_of(name),
            "command": " ".join(config.command),
            "trio": config.offers.trio,  # the application runs under trio (an extension)
        }
        handle = self.pool().ready(name)
        if handle is not None and handle.live is not None:
            # A scope without "extensions" advertises none (uvicorn's HTTP scope).
            server_info.update(
                extensions=handle.live.get("extensions") or [],
                asgi=handle.live.get("asgi"),
            )
        if self.validating:
            results += self._collect_violations(name)
        properties: list[tuple[str, Any]] = [
            (RESULTS_KEY, [r.to_json() for r in results]),
            (SERVER_KEY, server_info),
        ]
        if call.when == "call":
            answers = take_answers()
            if not any(r.outcome in ("fail", "error") for r in results):
                properties += [(FACT_PROPERTY, fact) for fact in answer_facts(answers, ids)]
        if name in self.facts and name not in self._facts_sent:
            self._facts_sent.add(name)
            properties.append((FACTS_KEY, {name: self.facts[name]}))
        test_report.user_properties = [*test_report.user_properties, *properties]

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        _name_junit_case(self.config, report)
        for key, value in report.user_properties:
            data: Any = value
            if key == RESULTS_KEY:
                self.results.extend(Result.from_json(item) for item in data)
            elif key == SERVER_KEY:
                # Merge: a report made while the server was down (after a stopping case)
                # lacks what the live scope advertised; keep what an earlier report had.
                seen = self.servers_seen.setdefault(data["name"], {})
                seen.update({k: v for k, v in data.items() if v is not None})
            elif key == FACTS_KEY:
                self.facts.update(data)
            elif key == FACT_PROPERTY:
                merge_fact(self.measured, data)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self._pool is not None:
            try:
                self._pool.stop_all()
            finally:
                self._record_idle(self._pool.idle_facts)
        if _is_worker(self.config) or not self.results:
            return
        self._write_reports()

    def _record_idle(self, facts: dict[str, dict[str, Any]]) -> None:
        """The idle keep-alive facts (:mod:`idle`) of the configurations that ran here; a
        worker hands them to the controller (``workeroutput``, see :meth:`pytest_testnodedown`).
        """
        if _is_worker(self.config):
            self.config.workeroutput[IDLE_OUTPUT_KEY] = facts  # type: ignore[attr-defined]
            return
        for name, value in facts.items():
            merge_fact(
                self.measured,
                {"topic": idle.TOPIC, "question": idle.QUESTION, "server": name, "value": value},
            )

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        """xdist: a worker finished; keep the idle keep-alive facts it measured."""
        self._record_idle(dict(getattr(node, "workeroutput", {}).get(IDLE_OUTPUT_KEY, {})))

    def _write_reports(self) -> None:
        selects = self.settings.selects
        data = report.build(
            run=self.run_info(),
            requirements=[r for r in self.catalogue.values() if selects(r.id)],
            results=[r for r in self.results if selects(r.requirement)],
            open_behaviours={
                **self.measured,
                **rootpath_facts.open_behaviours(self.facts, self.selected),
            },
        )
        page = write_reports(self.settings.report_dir, self.settings.report_name, data)
        reporter = self.config.pluginmanager.getplugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"conformance report: {page}")

    def run_info(self) -> dict[str, Any]:
        """The ``run`` object of the report: what ran, where from, with which versions."""
        env = self.env_info
        return {
            "impl": self.settings.impl,
            "impl_version": env.impl_version,
            "impl_file": env.impl_file,
            "python": env.python,
            "platform": env.platform,
            "harness_version": HARNESS_VERSION,
            "harness_python": f"{platform.python_implementation()} {platform.python_version()}",
            "catalogue_sha256": digest(self.catalogue.values()),
            "requirements_selected": list(self.settings.requirements),
            "asgi_validation": self.validating,
            "started": self.started.isoformat(timespec="seconds"),
            "duration_s": round(time.monotonic() - self.started_monotonic, 2),
            "servers": [self.servers_seen[n] for n in self.selected if n in self.servers_seen],
        }

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        stop_all()
        if self._previous_sigterm is not None:
            signal.signal(signal.SIGTERM, self._previous_sigterm)
        shutil.rmtree(self.work_dir, ignore_errors=True)


def _sigterm_to_interrupt(signum: int, frame: FrameType | None) -> None:
    """SIGTERM ends the run like Ctrl-C, so session teardown stops the servers."""
    raise KeyboardInterrupt(f"signal {signum}")


def _column_of(item: pytest.Item) -> str | None:
    """The case's report column: ``NAME``, ``NAME/h2c`` or ``NAME/h2``."""
    callspec = getattr(item, "callspec", None)
    if callspec is None or not isinstance(callspec.params.get("server"), str):
        return None  # not a server case, or no column selected (an empty parametrisation)
    return str(callspec.params["server"])


def _server_of(item: pytest.Item) -> str | None:
    """The configuration (server process) the case runs against, whatever its transport."""
    found = _column_of(item)
    return None if found is None else split_column(found)[0]


def _restarts(item: pytest.Item) -> bool:
    """Whether the case may restart its configuration: it takes ``server_pool`` on the
    HTTP/1.1 column (elsewhere the fixture ends it at once)."""
    uses_pool = "server_pool" in getattr(item, "fixturenames", ())
    return uses_pool and _column_of(item) == _server_of(item)


def _ids_of(item: pytest.Item) -> list[str]:
    return [i for m in item.iter_markers("requirement") for i in m.args]


def _run_order(item: pytest.Item) -> int:
    """Ordinary cases, then sweeps (they read what the others left), then server stoppers."""
    if item.get_closest_marker("stops_server") is not None:
        return 2
    return 1 if item.get_closest_marker("sweep") is not None else 0


def _name_junit_case(config: pytest.Config, report: pytest.TestReport) -> None:
    """``--junitxml``: name the test case "REQ-ID on server" instead of the function."""
    name = getattr(report, "conformance_name", None)
    if name is None:
        return
    try:
        from _pytest.junitxml import xml_key
    except ImportError:  # pragma: no cover - pytest internals moved
        return
    xml = config.stash.get(xml_key, None)
    if xml is not None:
        xml.node_reporter(report).add_attribute("name", str(name))
