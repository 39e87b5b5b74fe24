"""Path templates, convertors and the route matching engine, independent of ASGI.

A template such as ``/users/{id:int}`` compiles to a regular expression, a
format string and one :class:`Convertor` per parameter (:func:`compile_template`;
:func:`compile_path` gives upstream's format and convertors only).
:class:`RouteTable` matches a route path against many templates.

Theory of operation of :class:`RouteTable`: matching must cost about the same
with 5 routes as with 500, yet keep *first match wins* exactly, as if every
route were tried in the order given.

* Every route keeps its position (its index in the order given).
* Routes without parameters live in a dict ``path -> route`` (the first one
  wins for a duplicated path).
* A route with parameters is filed in a trie under the leading segments of
  its template that are literal, or whole one-segment parameters (a built-in
  convertor other than ``any``, which cannot span ``/``) before any literal:
  ``/api/users/{id}`` under ``api`` then ``users``; ``/{lang}/about`` under
  the *wildcard* child, then ``about``; ``/api{v}`` at the root (``api{v}``
  is neither). A route can only match a path whose
  segments follow its trie branch, so the routes that can match a path are
  those filed on the trie walks that follow the path's segments (a literal
  child and the wildcard child at each step) as deep as they go.
* Each trie node holds, sorted by index once at construction, its own routes
  and those of its ancestors. Matching looks up the static route, walks the
  trie, and tries the routes of the deepest nodes reached in order, stopping
  at the first that matches *or* at the first whose index is above the static
  route's. So a static route declared after a dynamic route that also
  matches loses to it, and a static route declared first wins, exactly as in
  a linear scan.
* A route whose regex matches but whose convertor refuses the text
  (``2023-02-30`` for ``date``) does not match; the scan goes on.

Only routes whose first segment mixes text and a parameter (``/api{v}``) or
uses ``any`` or a custom convertor are tried for every path; everything else
costs a dict lookup, a short trie walk and a few regexes.
"""

from __future__ import annotations

import datetime
import decimal
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

from baize._url import route_path

T = TypeVar("T")


class Convertor:
    """Turns one path segment into a Python value and back.

    Subclass it, set :attr:`regex`, override :meth:`to_python` and
    :meth:`to_string`, and register an instance in :data:`CONVERTOR_TYPES`
    (as upstream; registering the class works too).
    :meth:`to_python` raises ``ValueError`` when a string that matches
    :attr:`regex` still is not a value (the route then does not match);
    :meth:`to_string` raises ``ValueError`` or ``TypeError`` for a value it
    cannot put in a path.
    """

    regex: ClassVar[str] = ""

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    def to_python(self, value: str) -> Any:
        """Convert the matched text into a value."""
        return value

    def to_string(self, value: Any) -> str:
        """Convert a value into text that matches :attr:`regex`."""
        return str(value)


class StringConvertor(Convertor):
    """``str``: one non-empty segment (no ``/``)."""

    regex = "[^/]+"

    def to_string(self, value: Any) -> str:
        if not isinstance(value, str):
            raise TypeError(f"expected str, got {type(value).__name__}")
        if not value or "/" in value:
            raise ValueError(f"{value!r} is empty or contains '/'")
        return value


class IntegerConvertor(Convertor):
    """``int``: a non-negative decimal integer."""

    regex = "[0-9]+"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_string(self, value: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"expected int, got {type(value).__name__}")
        if value < 0:
            raise ValueError(f"negative integers are not supported: {value}")
        return str(value)


class DecimalConvertor(Convertor):
    """``decimal``: a non-negative decimal number, as :class:`decimal.Decimal`."""

    regex = r"[0-9]+(?:\.[0-9]+)?"

    def to_python(self, value: str) -> decimal.Decimal:
        return decimal.Decimal(value)

    def to_string(self, value: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, int | decimal.Decimal):
            raise TypeError(f"expected Decimal or int, got {type(value).__name__}")
        value = decimal.Decimal(value)
        if not value.is_finite() or value.is_signed():
            raise ValueError(f"only finite non-negative numbers are supported: {value}")
        return format(value, "f")


class UUIDConvertor(Convertor):
    """``uuid``: a hyphenated UUID, as :class:`uuid.UUID`."""

    regex = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

    def to_python(self, value: str) -> uuid.UUID:
        return uuid.UUID(value)

    def to_string(self, value: Any) -> str:
        if not isinstance(value, uuid.UUID):
            raise TypeError(f"expected uuid.UUID, got {type(value).__name__}")
        return str(value)


class DateConvertor(Convertor):
    """``date``: an ISO 8601 calendar date ``YYYY-MM-DD``, as :class:`datetime.date`."""

    regex = "[0-9]{4}-[0-9]{2}-[0-9]{2}"

    def to_python(self, value: str) -> datetime.date:
        return datetime.date.fromisoformat(value)

    def to_string(self, value: Any) -> str:
        if isinstance(value, datetime.datetime) or not isinstance(value, datetime.date):
            raise TypeError(f"expected datetime.date, got {type(value).__name__}")
        return value.isoformat()


class AnyConvertor(Convertor):
    """``any``: the rest of the path, ``/`` included (possibly empty)."""

    regex = ".*"

    def to_string(self, value: Any) -> str:
        if not isinstance(value, str):
            raise TypeError(f"expected str, got {type(value).__name__}")
        return value


CONVERTOR_TYPES: dict[str, Convertor | type[Convertor]] = {
    "str": StringConvertor(),
    "int": IntegerConvertor(),
    "decimal": DecimalConvertor(),
    "uuid": UUIDConvertor(),
    "date": DateConvertor(),
    "any": AnyConvertor(),
}
"""Convertor instances by the name used in templates (``{name:type}``), as upstream;
a registered :class:`Convertor` subclass is instantiated when a template uses it."""

PARAM_REGEX = re.compile(r"\{([^{}:]*)(?::([^{}]*))?\}")


def compile_path(path: str) -> tuple[str, dict[str, Convertor]]:
    """Compile a path template into a format string and its convertors (upstream's shape).

    ``compile_path("/users/{id:int}/{name}")`` returns
    ``('/users/{id}/{name}', {'id': <IntegerConvertor>, 'name': <StringConvertor>})``.

    :raises ValueError: for an unknown convertor type, a parameter name that is
        not an identifier, or a parameter used twice.
    """
    _, format, convertors = compile_template(path)
    return format, convertors


def _convertor(type_name: str, path: str) -> Convertor:
    registered = CONVERTOR_TYPES.get(type_name)
    if registered is None:
        raise ValueError(f"unknown convertor type {type_name!r} in path {path!r}")
    return registered() if isinstance(registered, type) else registered


def compile_template(path: str) -> tuple[re.Pattern[str], str, dict[str, Convertor]]:
    """Compile a path template into a regex, a format string and its convertors.

    ``compile_template("/users/{id:int}/{name}")`` returns
    ``(re.compile('^/users/(?P<id>[0-9]+)/(?P<name>[^/]+)$', re.DOTALL),
    '/users/{id}/{name}', {'id': <IntegerConvertor>, 'name': <StringConvertor>})``.
    Match with ``fullmatch`` (``$`` alone would accept a trailing newline);
    ``re.DOTALL`` lets ``any`` take newlines, which decoded paths may hold.

    :raises ValueError: as :func:`compile_path`.
    """
    pattern = ["^"]
    template = []
    convertors: dict[str, Convertor] = {}
    position = 0
    for match in PARAM_REGEX.finditer(path):
        name, type_name = match.group(1), match.group(2) or "str"
        if not name.isidentifier():
            raise ValueError(f"invalid parameter name {name!r} in path {path!r}")
        if name in convertors:
            raise ValueError(f"duplicated parameter name {name!r} in path {path!r}")
        convertor = _convertor(type_name, path)
        literal = path[position : match.start()]
        pattern.append(re.escape(literal))
        pattern.append(f"(?P<{name}>{convertor.regex})")
        template.append(_escape_format(literal))
        template.append("{" + name + "}")
        convertors[name] = convertor
        position = match.end()
    literal = path[position:]
    pattern.append(re.escape(literal))
    pattern.append("$")
    template.append(_escape_format(literal))
    return re.compile("".join(pattern), re.DOTALL), "".join(template), convertors


def _escape_format(literal: str) -> str:
    return literal.replace("{", "{{").replace("}", "}}")


class BuildURLError(ValueError):
    """Raised by ``build_url`` when a path cannot be built from a name and params."""


class UnknownRouteName(BuildURLError, KeyError):
    """No route carries the requested name."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        return f"no route is named {self.name!r}"


class MissingPathParam(BuildURLError):
    """A parameter of the route's template was not given."""

    def __init__(self, route_name: str, param: str) -> None:
        super().__init__(f"route {route_name!r} needs the path parameter {param!r}")
        self.route_name = route_name
        self.param = param


class InvalidPathParam(BuildURLError):
    """A convertor refused a value, or the built path does not match its own route."""

    def __init__(self, route_name: str, param: str, reason: str) -> None:
        super().__init__(f"route {route_name!r}, parameter {param!r}: {reason}")
        self.route_name = route_name
        self.param = param


@dataclass(frozen=True, slots=True)
class Route(Generic[T]):
    """One compiled route: its template, endpoint, optional name and position."""

    path: str
    endpoint: T
    name: str | None
    index: int
    regex: re.Pattern[str] = field(repr=False)
    format: str = field(repr=False)
    convertors: dict[str, Convertor] = field(repr=False)

    conversions: tuple[tuple[str, Callable[[str], Any]], ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        conversions = tuple(
            # int itself for the integer convertor: one call less per match
            (key, int if method is IntegerConvertor.to_python else convertor.to_python)
            for key, convertor in self.convertors.items()
            if (method := type(convertor).to_python) is not Convertor.to_python
        )
        object.__setattr__(self, "conversions", conversions)

    def match(self, path: str) -> dict[str, Any] | None:
        """The converted parameters when ``path`` matches, else ``None``."""
        matched = self.regex.fullmatch(path)
        if matched is None:
            return None
        params: dict[str, Any] = matched.groupdict()
        try:
            for key, to_python in self.conversions:
                params[key] = to_python(params[key])
        except ValueError:
            return None
        return params

    def build(self, params: Mapping[str, Any]) -> str:
        """Build this route's path; extra params are ignored.

        :raises MissingPathParam: a parameter is absent.
        :raises InvalidPathParam: a convertor refuses a value.
        """
        name = self.name or self.path
        strings: dict[str, str] = {}
        for key, convertor in self.convertors.items():
            if key not in params:
                raise MissingPathParam(name, key)
            try:
                text = convertor.to_string(params[key])
            except (TypeError, ValueError) as exc:
                raise InvalidPathParam(name, key, str(exc)) from None
            if re.fullmatch(convertor.regex, text, re.DOTALL) is None:
                raise InvalidPathParam(name, key, f"{text!r} does not match {convertor.regex!r}")
            strings[key] = text
        built = self.format.format_map(strings)
        if self.match(built) is None:
            raise InvalidPathParam(name, ", ".join(self.convertors), f"{built!r} does not match")
        return built


class _Node(Generic[T]):
    """A trie node: children by literal segment, the wildcard child, routes filed
    here, and candidates (these routes and the ancestors', by index)."""

    __slots__ = ("candidates", "children", "routes", "wildcard")

    def __init__(self) -> None:
        self.children: dict[str, _Node[T]] = {}
        self.wildcard: _Node[T] | None = None
        self.routes: list[Route[T]] = []
        self.candidates: list[Route[T]] = []

    def child(self, segment: str | None) -> _Node[T]:
        """The child for a literal segment, or (``None``) the wildcard child; made if new."""
        if segment is None:
            if self.wildcard is None:
                self.wildcard = _Node()
            return self.wildcard
        return self.children.setdefault(segment, _Node())

    def finish(self, inherited: list[Route[T]]) -> None:
        """Sort this node's and its ancestors' routes by index, recursively."""
        self.candidates = sorted(inherited + self.routes, key=lambda route: route.index)
        for child in self.children.values():
            child.finish(self.candidates)
        if self.wildcard is not None:
            self.wildcard.finish(self.candidates)


# Convertors whose regex never matches "/": a parameter using one is exactly one segment.
_ONE_SEGMENT_REGEXES: dict[type[Convertor], str] = {
    kind: kind.regex
    for kind in (StringConvertor, IntegerConvertor, DecimalConvertor, UUIDConvertor, DateConvertor)
}


def trie_segments(path: str, convertors: Mapping[str, Convertor]) -> list[str | None]:
    """The leading segments of a template that fix a path's segments, for the trie.

    A literal segment stays itself; a segment that is one whole one-segment parameter
    *before any literal segment* becomes ``None`` (any segment). The list stops at the
    first other segment: ``/{lang}/about/{id}`` gives ``[None, "about"]``,
    ``/users/{id}`` gives ``["users"]`` and ``/files/{rest:any}`` gives ``["files"]``.
    So a table whose templates all start with a literal segment needs no wildcard
    (a single walk per match); only leading parameters pay for branching walks.
    """
    if not path.startswith("/"):
        return []
    segments: list[str | None] = []
    for segment in path[1:].split("/"):
        param = PARAM_REGEX.fullmatch(segment)
        if param is not None:
            convertor = convertors[param.group(1)]
            if _ONE_SEGMENT_REGEXES.get(type(convertor)) != convertor.regex:
                break
            if any(known is not None for known in segments):
                break  # after a literal: the literal walk already narrows enough
            segments.append(None)
        elif PARAM_REGEX.search(segment) is None:
            segments.append(segment)
        else:
            break
    return segments


def _walk(node: _Node[T], segments: list[str], at: int, deepest: list[_Node[T]]) -> None:
    """Follow ``segments[at:]`` down from ``node``, taking the literal child and the
    wildcard child at each step; append the node where each walk ends to ``deepest``."""
    while at < len(segments):
        child = node.children.get(segments[at])
        wildcard = node.wildcard
        at += 1
        if wildcard is None:
            if child is None:
                break
            node = child
        else:
            if child is not None:  # both may lead to a match: walk the literal branch too
                _walk(child, segments, at, deepest)
            node = wildcard
    deepest.append(node)


class RouteTable(Generic[T]):
    """Ordered routes matched in (nearly) constant time; see the module docstring.

    :param routes: ``(path, endpoint)`` or ``(path, endpoint, name)`` tuples.
    :raises ValueError: for a bad template or a duplicated name.
    """

    def __init__(self, routes: Iterable[tuple[str, T] | tuple[str, T, str]]) -> None:
        self.routes: list[Route[T]] = []
        self.names: dict[str, Route[T]] = {}
        self.static: dict[str, Route[T]] = {}
        self.root: _Node[T] = _Node()
        self.wildcards = False
        for index, item in enumerate(routes):
            path, endpoint = item[0], item[1]
            name = item[2] if len(item) == 3 else None
            regex, format, convertors = compile_template(path)
            route = Route(path, endpoint, name, index, regex, format, convertors)
            self.routes.append(route)
            if name is not None:
                if name in self.names:
                    raise ValueError(f"duplicated route name {name!r}")
                self.names[name] = route
            if not convertors:
                self.static.setdefault(path, route)
                continue
            node = self.root
            for segment in trie_segments(path, convertors):
                node = node.child(segment)
                self.wildcards = self.wildcards or segment is None
            node.routes.append(route)
        self.root.finish([])

    def match(self, path: str) -> tuple[Route[T], dict[str, Any]] | None:
        """The first route matching ``path`` and its converted parameters."""
        static = self.static.get(path)
        limit = static.index if static is not None else len(self.routes)
        for route in self._candidates(path):
            if route.index > limit:
                break
            params = route.match(path)
            if params is not None:
                return route, params
        if static is not None:
            return static, {}
        return None

    def _candidates(self, path: str) -> list[Route[T]]:
        """The routes that may match ``path``, by index: the deepest trie nodes' candidates."""
        node = self.root
        if not path.startswith("/") or not (node.children or node.wildcard):
            return node.candidates
        segments = path[1:].split("/")
        if not self.wildcards:  # one walk: descend while the segments are literal
            for segment in segments:
                child = node.children.get(segment)
                if child is None:
                    break
                node = child
            return node.candidates
        deepest: list[_Node[T]] = []
        _walk(node, segments, 0, deepest)
        if len(deepest) == 1:
            return deepest[0].candidates
        # several walks: their lists share the common ancestors' routes
        merged = {route.index: route for node in deepest for route in node.candidates}
        return [merged[index] for index in sorted(merged)]

    def build_url(self, name: str, params: Mapping[str, Any]) -> str:
        """Build the path of the route called ``name``; extra params are ignored.

        :raises UnknownRouteName: (a ``KeyError``) no route has that name.
        :raises MissingPathParam: a parameter is absent.
        :raises InvalidPathParam: a convertor refuses a value.
        """
        route = self.names.get(name)
        if route is None:
            raise UnknownRouteName(name)
        return route.build(params)


__all__ = [
    "CONVERTOR_TYPES",
    "AnyConvertor",
    "BuildURLError",
    "Convertor",
    "DateConvertor",
    "DecimalConvertor",
    "IntegerConvertor",
    "InvalidPathParam",
    "MissingPathParam",
    "Route",
    "RouteTable",
    "StringConvertor",
    "UUIDConvertor",
    "UnknownRouteName",
    "compile_path",
    "compile_template",
    "route_path",
    "trie_segments",
]
