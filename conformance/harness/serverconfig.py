"""Server configurations: one ``servers/NAME.toml`` each, loaded through :meth:`from_mapping`.

:func:`load_servers` reads one folder or several: the shipped ``conformance/servers/`` first,
then each ``--servers-dir``, a later file overriding an earlier one of the same name.
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

SocketKind = Literal["fd", "port"]
PLACEHOLDERS = ("python", "fd", "host", "port", "app", "app_file", "app_attr", "servers_dir")
#: Placeholders an ``[env]`` value may use (known before the process gets its socket).
ENV_PLACEHOLDERS = ("python", "host", "app", "app_file", "app_attr", "servers_dir")
ROOTPATH_PLACEHOLDER = "root_path"
DEFAULT_READY_TIMEOUT = 20.0
DEFAULT_STOP_TIMEOUT = 5.0
ROOT_PATH = "/mount"
ROOTPATH_SUFFIX = "+rootpath"
#: The TLS instance of a configuration (``[tls] args`` on, test certificates): ``NAME+tls``.
TLS_SUFFIX = "+tls"
#: Placeholders of ``[tls] args`` (the files of :mod:`conformance.harness.certificates`).
TLS_PLACEHOLDERS = ("certfile", "keyfile", "cafile")
#: Every instance a configuration may run besides itself (violations, sweeps, exits).
INSTANCE_SUFFIXES = (ROOTPATH_SUFFIX, TLS_SUFFIX)


class ServerConfigError(ValueError):
    """A server TOML is malformed; the message names the file and the field."""


#: Capabilities a configuration may declare it lacks (``[offers] websocket = false``):
#: cases needing one become ``not-applicable`` there (see :func:`outcomes.require_offer`).
CAPABILITIES = ("websocket", "lifespan", "http10")


@dataclass(frozen=True)
class Offers:
    """What a configuration offers: ASGI extensions in its scopes, HTTP/2, a trio loop, and
    the capabilities every server is assumed to have unless it says otherwise."""

    extensions: frozenset[str] = frozenset()
    http2: bool = False
    trio: bool = False
    websocket: bool = True
    lifespan: bool = True
    http10: bool = True

    def capability(self, name: str) -> bool:
        """Whether the configuration offers ``name`` (one of :data:`CAPABILITIES`)."""
        if name not in CAPABILITIES:
            raise ValueError(f"unknown capability {name!r}; known: {', '.join(CAPABILITIES)}")
        return bool(getattr(self, name))


@dataclass(frozen=True)
class ServerConfig:
    """One server configuration.

    ``command`` items may contain ``{python}``, ``{fd}`` (``socket = "fd"``), ``{host}``,
    ``{port}``, ``{app}`` (``module:attr``), ``{app_file}`` (the same app as a file path),
    ``{app_attr}`` (its attribute) and ``{servers_dir}`` (the folder of the TOML file, where a
    server's own config file can live); the harness fills them in. ``[env]`` sets environment
    variables of the process (the same placeholders but ``{fd}`` and ``{port}``).
    """

    name: str
    distribution: str
    command: tuple[str, ...]
    socket: SocketKind = "fd"
    description: str = ""
    offers: Offers = field(default_factory=Offers)
    deviations: Mapping[str, str] = field(default_factory=dict)
    # text of the server's log at a crash -> one-line reason (a declared server bug)
    known_crashes: Mapping[str, str] = field(default_factory=dict)
    # requirement id -> the server's issue-tracker entry for its declared deviation
    deviation_links: Mapping[str, str] = field(default_factory=dict)
    #: ``[flaky]``: requirement id (or ``ID@TRANSPORT``) -> why and how often it fails: a
    #: fault seen on some runs only; a fail is a ``deviation`` labelled flaky, a pass a pass
    flaky: Mapping[str, str] = field(default_factory=dict)
    ready_timeout: float = DEFAULT_READY_TIMEOUT
    stop_timeout: float = DEFAULT_STOP_TIMEOUT
    rootpath_args: tuple[str, ...] = ()
    root_path: str = ""
    #: ``[tls] args``: options serving TLS (with ALPN h2 where ``offers.http2``)
    tls_args: tuple[str, ...] = ()
    #: True on the ``NAME+tls`` instance: its listener speaks TLS
    tls: bool = False
    #: ``[env]``: environment variables of the process (placeholders filled at start)
    env: Mapping[str, str] = field(default_factory=dict)
    #: The folder the TOML file came from (``{servers_dir}``: a server's own config file).
    servers_dir: str = ""

    @property
    def base_name(self) -> str:
        """The configuration's own name (without ``+rootpath`` or ``+tls``)."""
        return self.name.removesuffix(ROOTPATH_SUFFIX).removesuffix(TLS_SUFFIX)

    @property
    def offers_h2_tls(self) -> bool:
        """Whether an ``NAME/h2`` column exists: HTTP/2 offered and ``[tls] args`` given."""
        return self.offers.http2 and bool(self.tls_args)

    @property
    def module(self) -> str | None:
        """The module the command runs (the item after ``-m``), None if it names none."""
        command = list(self.command)
        if "-m" in command[:-1]:
            return command[command.index("-m") + 1]
        return None

    def with_root_path(self, root_path: str = ROOT_PATH) -> ServerConfig:
        """The same configuration with its root-path option on, named ``NAME+rootpath``.

        ``[rootpath] args`` are inserted before the ``{app}`` (or ``{app_file}``) item,
        ``{root_path}`` filled in.

        :raises ValueError: the configuration declares no ``[rootpath]``.
        """
        if not self.rootpath_args:
            raise ValueError(f"server {self.name!r} declares no [rootpath] args")
        args = [item.replace("{root_path}", root_path) for item in self.rootpath_args]
        return replace(
            self,
            name=self.name + ROOTPATH_SUFFIX,
            command=self._with_args(args),
            rootpath_args=(),
            root_path=root_path,
        )

    def with_tls(self, files: Mapping[str, str]) -> ServerConfig:
        """The same configuration serving TLS, named ``NAME+tls``: ``[tls] args`` inserted
        before the ``{app}`` item, ``{certfile}``/``{keyfile}``/``{cafile}`` filled from
        ``files``.

        :raises ValueError: the configuration declares no ``[tls]``.
        """
        if not self.tls_args:
            raise ValueError(f"server {self.name!r} declares no [tls] args")
        args = []
        for item in self.tls_args:
            for key in TLS_PLACEHOLDERS:  # a path's braces stay literal in the command
                item = item.replace(
                    "{" + key + "}", files[key].replace("{", "{{").replace("}", "}}")
                )
            args.append(item)
        return replace(
            self,
            name=self.name + TLS_SUFFIX,
            command=self._with_args(args),
            rootpath_args=(),
            tls_args=(),
            tls=True,
        )

    def _with_args(self, args: list[str]) -> tuple[str, ...]:
        """``command`` with ``args`` inserted before the ``{app}`` (or ``{app_file}``) item."""
        command = list(self.command)
        at = next(
            (i for i, item in enumerate(command) if "{app}" in item or "{app_file}" in item),
            len(command),
        )
        command[at:at] = args
        return tuple(command)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], where: str) -> ServerConfig:
        """Validate ``data`` (a parsed TOML); errors name ``where``."""

        def fail(message: str) -> ServerConfigError:
            return ServerConfigError(f"{where}: {message}")

        known = {"name", "distribution", "command", "socket", "description", "offers"}
        known |= {"deviations", "known-crashes", "ready_timeout", "stop_timeout", "rootpath"}
        known |= {"deviation_links", "env", "flaky", "tls"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise fail(f"unknown keys {unknown}")
        for key in ("name", "distribution"):
            if not isinstance(data.get(key), str) or not data[key]:
                raise fail(f"{key!r} must be a non-empty string")
        command = data.get("command")
        if (
            not isinstance(command, list)
            or not command
            or not all(isinstance(item, str) for item in command)
        ):
            raise fail("'command' must be a non-empty list of strings")
        for item in command:
            problem = placeholder_problem(item, PLACEHOLDERS)
            if problem:
                raise fail(f"command item {item!r}: {problem}")
        env = data.get("env", {})
        if not isinstance(env, dict) or not all(
            isinstance(k, str) and k and "=" not in k and isinstance(v, str) for k, v in env.items()
        ):
            raise fail("'[env]' maps variable names to strings")
        for value in env.values():
            problem = placeholder_problem(value, ENV_PLACEHOLDERS)
            if problem:
                raise fail(f"[env] value {value!r}: {problem}")
        socket = data.get("socket", "fd")
        if socket not in ("fd", "port"):
            raise fail('\'socket\' must be "fd" (inherited listening socket) or "port"')
        needed = "{fd}" if socket == "fd" else "{port}"
        if not any(needed in item for item in command):
            raise fail(f"socket = {socket!r} but no command item contains {needed}")
        offers = data.get("offers", {})
        extensions = offers.get("extensions", [])
        if not isinstance(extensions, list) or not all(isinstance(e, str) for e in extensions):
            raise fail("'offers.extensions' must be a list of strings")
        for flag in ("http2", "trio", *CAPABILITIES):
            if not isinstance(offers.get(flag, False), bool):
                raise fail(f"'offers.{flag}' must be a boolean")
        deviations = data.get("deviations", {})
        if not all(isinstance(v, str) and v.strip() for v in deviations.values()):
            raise fail("every '[deviations]' value must be a one-line reason")
        flaky = data.get("flaky", {})
        if not isinstance(flaky, dict) or not all(
            isinstance(v, str) and v.strip() for v in flaky.values()
        ):
            raise fail("every '[flaky]' value must be a one-line reason (what was seen, how)")
        both = sorted(declared_twice(deviations, flaky))
        if both:
            raise fail(f"declared both in [deviations] and in [flaky]: {', '.join(both)}")
        links = data.get("deviation_links", {})
        if not isinstance(links, dict) or not all(
            (k in deviations or k in flaky)
            and isinstance(v, str)
            and v.startswith(("https://", "http://"))
            for k, v in links.items()
        ):
            raise fail(
                "'[deviation_links]' maps a declared deviation's (or flaky) id to an http(s) URL"
            )
        known_crashes = data.get("known-crashes", {})
        if not isinstance(known_crashes, dict) or not all(
            isinstance(k, str) and k.strip() and isinstance(v, str) and v.strip()
            for k, v in known_crashes.items()
        ):
            raise fail("'[known-crashes]' maps a text of the crash log to a one-line reason")
        try:
            rootpath_args = section_args(
                data,
                "rootpath",
                ROOTPATH_PLACEHOLDER,
                (*PLACEHOLDERS, ROOTPATH_PLACEHOLDER),
                "a list of strings containing {root_path}",
            )
            tls_args = section_args(
                data,
                "tls",
                "certfile",
                (*PLACEHOLDERS, *TLS_PLACEHOLDERS),
                "a list of strings naming {certfile} (and {keyfile})",
            )
        except ValueError as error:
            raise fail(str(error)) from None
        timeouts: dict[str, float] = {}
        for key in ("ready_timeout", "stop_timeout"):
            value = data.get(key, getattr(cls, key))
            if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
                raise fail(f"{key!r} must be a positive number of seconds")
            timeouts[key] = float(value)
        return cls(
            name=data["name"],
            distribution=data["distribution"],
            command=tuple(command),
            socket=socket,
            description=str(data.get("description", "")),
            offers=Offers(
                frozenset(extensions),
                offers.get("http2", False),
                offers.get("trio", False),
                **{name: offers.get(name, True) for name in CAPABILITIES},
            ),
            deviations=dict(deviations),
            known_crashes=dict(known_crashes),
            deviation_links=dict(links),
            flaky=dict(flaky),
            rootpath_args=tuple(rootpath_args),
            tls_args=tuple(tls_args),
            ready_timeout=timeouts["ready_timeout"],
            stop_timeout=timeouts["stop_timeout"],
            env=dict(env),
        )

    def known_crash(self, log_tail: str) -> str | None:
        """The declared reason when the log of an exit shows a known crash, else None."""
        for text, reason in self.known_crashes.items():
            if text in log_tail:
                return reason
        return None

    def render_command(self, **values: str) -> list[str]:
        """Fill the placeholders of ``command``."""
        values.setdefault("servers_dir", self.servers_dir)
        return [item.format(**values) for item in self.command]

    def render_env(self, **values: str) -> dict[str, str]:
        """The ``[env]`` variables with their placeholders filled."""
        values.setdefault("servers_dir", self.servers_dir)
        return {name: value.format(**values) for name, value in self.env.items()}


def declared_twice(deviations: Mapping[str, str], flaky: Mapping[str, str]) -> set[str]:
    """Keys of ``[deviations]`` and ``[flaky]`` that overlap on some transport: the same
    ``ID``, or ``ID`` in one table and ``ID@TRANSPORT`` in the other (a requirement may be a
    deviation over one transport and flaky over another only when both name their transport).
    """

    def split(key: str) -> tuple[str, str]:
        requirement, _, transport = key.partition("@")
        return requirement, transport

    found = set()
    for dev_key in deviations:
        dev_id, dev_transport = split(dev_key)
        for flaky_key in flaky:
            flaky_id, flaky_transport = split(flaky_key)
            if dev_id == flaky_id and (
                not dev_transport or not flaky_transport or dev_transport == flaky_transport
            ):
                found.add(flaky_key)
    return found


def unknown_declarations(
    config: ServerConfig, requirements: Iterable[str], transports: Iterable[str]
) -> list[str]:
    """Keys of ``config``'s ``[deviations]`` and ``[flaky]`` naming no requirement of the
    catalogue, or a transport (``ID@TRANSPORT``) that is not one of ``transports``."""
    known, allowed = set(requirements), set(transports)
    unknown = []
    for table, keys in (("deviations", config.deviations), ("flaky", config.flaky)):
        for key in keys:
            requirement, at, transport = key.partition("@")
            if requirement not in known or (at and transport not in allowed):
                unknown.append(f"[{table}] {key}")
    return unknown


def section_args(
    data: Mapping[str, Any],
    section: str,
    required: str,
    allowed: Iterable[str],
    shape: str,
) -> list[str]:
    """The ``args`` list of a ``[section]`` table (``[rootpath]``, ``[tls]``): strings, one of
    them naming ``{required}`` when any is given, every placeholder in ``allowed``.

    :raises ValueError: the message names ``section.args`` and what is wrong.
    """
    table = data.get(section, {})
    args = table.get("args", []) if isinstance(table, dict) else None
    if (
        not isinstance(args, list)
        or not all(isinstance(a, str) for a in args)
        or (args and not any("{" + required + "}" in a for a in args))
    ):
        raise ValueError(f"'{section}.args' must be {shape}")
    for item in args:
        problem = placeholder_problem(item, allowed)
        if problem:
            raise ValueError(f"{section}.args item {item!r}: {problem}")
    return args


def placeholder_problem(item: str, allowed: Iterable[str]) -> str | None:
    """Why ``item`` cannot be filled in by the harness (``None`` when it can).

    Only the named placeholders are known; ``${VAR}`` is not expanded (no shell runs the
    command), and a literal brace is written ``{{`` or ``}}``.
    """
    names = tuple(allowed)
    known = ", ".join("{" + name + "}" for name in names)
    try:
        fields = [
            (literal, name, spec, conversion)
            for literal, name, spec, conversion in string.Formatter().parse(item)
            if name is not None
        ]
    except ValueError as error:
        return f"{error} (write a literal brace as {{{{ or }}}})"
    for literal, name, spec, conversion in fields:
        if literal.endswith("$"):
            return (
                f"${{{name}}} is not expanded (the command runs without a shell); "
                f"known placeholders: {known}"
            )
        if name not in names:
            return f"unknown placeholder {{{name}}}; known placeholders: {known}"
        if spec or conversion:
            return f"placeholder {{{name}}} takes no format spec or conversion"
    return None


def server_files(directories: Iterable[Path]) -> dict[str, Path]:
    """``NAME -> NAME.toml`` over ``directories``; a later directory overrides by name.

    Files not ending in ``.toml`` (and hidden files, such as editor backups) are ignored.

    :raises ServerConfigError: a directory does not exist.
    """
    files: dict[str, Path] = {}
    for directory in directories:
        if not directory.is_dir():
            raise ServerConfigError(f"{directory}: not a directory of server configurations")
        for path in sorted(directory.glob("*.toml")):
            if path.is_file() and not path.name.startswith("."):
                files[path.stem] = path
    return files


def load_server(path: Path) -> ServerConfig:
    """Read and validate one ``NAME.toml``.

    :raises ServerConfigError: unreadable, not TOML, malformed, or named unlike its file.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ServerConfigError(f"{path}: not a readable TOML file: {error}") from error
    config = ServerConfig.from_mapping(data, str(path))
    if config.name != path.stem:
        raise ServerConfigError(f"{path}: name {config.name!r} differs from the file name")
    return replace(config, servers_dir=str(path.resolve().parent))


def load_servers(directories: Path | Iterable[Path]) -> dict[str, ServerConfig]:
    """Load ``*.toml`` of one directory or several, keyed by name (the file stem).

    With several, a file overrides one of the same name in an earlier directory.

    :raises ServerConfigError: on a missing directory or a malformed file.
    """
    folders = [directories] if isinstance(directories, Path) else list(directories)
    return {name: load_server(path) for name, path in server_files(folders).items()}
