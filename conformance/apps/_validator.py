"""Run-time checks of the ASGI messages an application sends (standard library only).

:func:`validate` wraps an ASGI app; every ``send`` of the wrapped app is checked against the
HTTP and WebSocket message state machines of the ASGI spec ("HTTP & WebSocket ASGI Message
Format" and "Extensions"), then passed on unchanged. The validator never raises and never
alters a message: a violation is handed to ``record`` (a callable taking a dict with ``rule``,
``t``, ``scope_type``, ``path``, ``message`` and ``text``) and the server sees exactly what the
application sent. Rule names are the suffixes of the ``ASGI-APP-*`` requirement ids.

Inside a conformance server, :func:`file_recorder` appends violations as JSON lines to
``$CONFORMANCE_STATE_DIR/asgi-violations.jsonl``; ``t`` is ``time.monotonic()`` when the
connection's app was called (system-wide on Linux), so the harness attributes each violation
to the case that was running when the connection began.

A rule that no message ever exercised has no verdict: :func:`validate` also tells
``exercised`` (a callable taking a rule name) the first time each rule is exercised in this
process, and :func:`file_exercise_recorder` keeps those names in
``$CONFORMANCE_STATE_DIR/asgi-exercised.jsonl``, so a sweep case can say ``not-applicable``
instead of ``pass`` for a rule that never came into play (e.g. the WebSocket denial sequence on a
server without the denial extension).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, MutableMapping
from typing import Any

from ._plumbing import App, Message, Receive, Scope, Send

Record = Callable[[dict[str, Any]], None]
Exercised = Callable[[str], None]

VIOLATIONS_FILE = "asgi-violations.jsonl"
EXERCISED_FILE = "asgi-exercised.jsonl"
MESSAGE_REPR_LIMIT = 300

# Message types that need an extension in scope["extensions"], by extension name.
HTTP_EXTENSION_MESSAGES = {
    "http.response.pathsend": "http.response.pathsend",
    "http.response.zerocopysend": "http.response.zerocopysend",
    "http.response.trailers": "http.response.trailers",
    "http.response.early_hint": "http.response.early_hint",
    "http.response.push": "http.response.push",
    "http.response.debug": "http.response.debug",
}
HTTP_TYPES = {"http.response.start", "http.response.body", *HTTP_EXTENSION_MESSAGES}
WS_DENIAL = "websocket.http.response"
# The rules every message of a kind exercises (besides the rules of its own type, below).
HTTP_RULES = (
    "HTTP-MESSAGE-TYPE",
    "HTTP-START-FIRST",
    "HTTP-AFTER-COMPLETE",
    "EXT-OFFERED",
)
WS_RULES = ("WS-MESSAGE-TYPE", "WS-AFTER-CLOSE", "EXT-OFFERED")
RULES_OF_TYPE = {
    "http.response.start": (
        "HTTP-START-ONCE",
        "HTTP-STATUS",
        "HTTP-HEADERS",
        "HTTP-HEADER-NAMES",
        "HTTP-FIELD-TYPES",
    ),
    "http.response.body": ("HTTP-BODY-TYPE", "HTTP-FIELD-TYPES"),
    "http.response.zerocopysend": ("HTTP-FIELD-TYPES",),
    "http.response.trailers": ("HTTP-HEADERS", "HTTP-HEADER-NAMES", "HTTP-FIELD-TYPES"),
    "http.response.pathsend": ("HTTP-PATHSEND",),
    "http.response.debug": ("HTTP-EXT-ORDER",),
    "websocket.accept": ("WS-ACCEPT-ONCE", "WS-ACCEPT-FIELDS"),
    "websocket.send": ("WS-SEND-BEFORE-ACCEPT", "WS-SEND-FIELDS"),
    "websocket.close": ("WS-CLOSE-FIELDS",),
    "websocket.http.response.start": ("WS-DENIAL-SEQUENCE",),
    "websocket.http.response.body": ("WS-DENIAL-SEQUENCE",),
}
WS_TYPES = {
    "websocket.accept",
    "websocket.send",
    "websocket.close",
    "websocket.http.response.start",
    "websocket.http.response.body",
}


def _short(message: Any) -> str:
    text = repr(message)
    if len(text) > MESSAGE_REPR_LIMIT:
        text = text[:MESSAGE_REPR_LIMIT] + f"... ({len(text)} chars)"
    return text


def is_status(value: Any) -> bool:
    """An int (an ``int`` subclass such as ``HTTPStatus`` too, never a bool) in 100..599."""
    return isinstance(value, int) and not isinstance(value, bool) and 100 <= value <= 599


def header_problem(headers: Any, *, forbid: bytes | None = None) -> tuple[str, str] | None:
    """The first problem of a ``headers`` value as (rule, text), or None when valid.

    Rules: ``HEADERS`` (not an iterable of two-item [bytes, bytes]) and ``HEADER-NAMES``
    (a name not lower-case, a pseudo header, or the ``forbid`` name).
    """
    if isinstance(headers, str | bytes | dict) or headers is None:
        return "HEADERS", f"headers must be an iterable of [name, value] pairs, got {headers!r}"
    try:
        pairs = list(headers)
    except TypeError:
        return "HEADERS", f"headers must be iterable, got {type(headers).__name__}"
    for pair in pairs:
        try:
            items = list(pair) if not isinstance(pair, str | bytes) else None
        except TypeError:
            items = None
        if items is None or len(items) != 2:
            return "HEADERS", f"header {pair!r} is not a two-item [name, value] iterable"
        name, value = items
        if type(name) is not bytes or type(value) is not bytes:
            return "HEADERS", f"header {pair!r}: name and value must both be bytes"
        if name != name.lower():
            return "HEADER-NAMES", f"header name {name!r} is not lower-case"
        if name.startswith(b":"):
            return "HEADER-NAMES", f"pseudo header {name!r} must not be present"
        if forbid is not None and name == forbid:
            return "HEADER-NAMES", f"header {name!r} must not be sent here"
    return None


class _Checker:
    """The state of one connection and the checks of each message it sends."""

    def __init__(self, scope: Scope, record: Record, exercised: Exercised) -> None:
        self.scope = scope
        self.record = record
        self.exercised = exercised
        self.kind = scope.get("type")
        self.started_at = time.monotonic()
        extensions = scope.get("extensions")
        self.extensions: dict[str, Any] = extensions if isinstance(extensions, dict) else {}
        # http: "init" -> "started" -> ("trailers") -> "done"
        # websocket: "init" -> "accepted" | "denying" -> "closed"
        self.state = "init"
        self.expect_trailers = False
        self.disconnected = False
        self.send_failed = False
        self.debug_sent = False

    def violate(self, rule: str, message: Any, text: str) -> None:
        self.record(
            {
                "rule": rule,
                "t": self.started_at,
                "scope_type": self.kind,
                "path": str(self.scope.get("path", "")),
                "message": _short(message),
                "text": text,
            }
        )

    def check(self, message: Any) -> None:
        if not isinstance(message, MutableMapping) or not isinstance(message.get("type"), str):
            prefix = "WS" if self.kind == "websocket" else "HTTP"
            self.violate(f"{prefix}-MESSAGE-TYPE", message, "a message is a dict with a str type")
            return
        if self.kind == "http":
            self.exercise(*HTTP_RULES, *RULES_OF_TYPE.get(message["type"], ()))
            self.check_http(message)
        elif self.kind == "websocket":
            self.exercise(*WS_RULES, *RULES_OF_TYPE.get(message["type"], ()))
            self.check_websocket(message)

    def exercise(self, *rules: str) -> None:
        for rule in rules:
            self.exercised(rule)

    # -- HTTP -----------------------------------------------------------------------------------

    def check_http(self, message: Message) -> None:
        kind = message["type"]
        if kind not in HTTP_TYPES:
            self.violate("HTTP-MESSAGE-TYPE", message, f"{kind!r} is not an HTTP send event")
            return
        extension = HTTP_EXTENSION_MESSAGES.get(kind)
        if extension is not None and extension not in self.extensions:
            self.violate(
                "EXT-OFFERED", message, f"{kind!r} sent but the scope does not offer {extension!r}"
            )
        if self.state == "done":
            self.violate("HTTP-AFTER-COMPLETE", message, f"{kind!r} after the response completed")
            return
        if kind == "http.response.start":
            self.http_start(message)
        elif kind == "http.response.debug":
            # Extensions spec, Debug: "This message must be sent once, before the Response
            # Start message."
            if self.state != "init" or self.debug_sent:
                where = "a second time" if self.debug_sent else "after http.response.start"
                self.violate("HTTP-EXT-ORDER", message, f"http.response.debug sent {where}")
            self.debug_sent = True
        elif self.state == "init":
            self.violate("HTTP-START-FIRST", message, f"{kind!r} before http.response.start")
        elif kind == "http.response.trailers":
            self.http_trailers(message)
        elif self.state == "trailers":
            self.violate("HTTP-AFTER-COMPLETE", message, f"{kind!r} after the last body message")
        elif kind == "http.response.body":
            self.http_body(message)
        elif kind == "http.response.pathsend":
            path = message.get("path")
            if not isinstance(path, str) or not os.path.isabs(path):
                self.violate("HTTP-PATHSEND", message, "path must be an absolute path (str)")
            self.finish_body()
        elif kind == "http.response.zerocopysend":
            self.http_zerocopy(message)
        # early hints and push: after the start and before the final body message (Extensions
        # spec), which the checks above already enforce; they do not complete the response.

    def http_start(self, message: Message) -> None:
        if self.state != "init":
            self.violate("HTTP-START-ONCE", message, "a second http.response.start")
            return
        self.state = "started"
        status = message.get("status")
        if not is_status(status):
            self.violate("HTTP-STATUS", message, f"status must be an int in 100..599: {status!r}")
        problem = header_problem(message.get("headers", []))
        if problem is not None:
            self.violate(f"HTTP-{problem[0]}", message, problem[1])
        trailers = message.get("trailers", False)
        if type(trailers) is not bool:
            self.violate("HTTP-FIELD-TYPES", message, f"trailers must be a bool: {trailers!r}")
        elif trailers and "http.response.trailers" not in self.extensions:
            self.violate(
                "EXT-OFFERED", message, "trailers=True but the scope does not offer trailers"
            )
        self.expect_trailers = trailers is True

    def http_body(self, message: Message) -> None:
        body = message.get("body", b"")
        if type(body) is not bytes:
            self.violate("HTTP-BODY-TYPE", message, f"body must be bytes: {type(body).__name__}")
        more = message.get("more_body", False)
        if type(more) is not bool:
            self.violate("HTTP-FIELD-TYPES", message, f"more_body must be a bool: {more!r}")
        if not more:
            self.finish_body()

    def http_zerocopy(self, message: Message) -> None:
        if not isinstance(message.get("file"), int) and not hasattr(message.get("file"), "fileno"):
            self.violate("HTTP-FIELD-TYPES", message, "file must be a file descriptor or file")
        more = message.get("more_body", False)
        if type(more) is not bool:
            self.violate("HTTP-FIELD-TYPES", message, f"more_body must be a bool: {more!r}")
        if not more:
            self.finish_body()

    def http_trailers(self, message: Message) -> None:
        if not self.expect_trailers:
            self.violate("HTTP-AFTER-COMPLETE", message, "trailers without trailers=True")
            return
        problem = header_problem(message.get("headers", []))
        if problem is not None:
            self.violate(f"HTTP-{problem[0]}", message, problem[1])
        more = message.get("more_trailers", False)
        if type(more) is not bool:
            self.violate("HTTP-FIELD-TYPES", message, f"more_trailers must be a bool: {more!r}")
        if not more:
            self.state = "done"

    def finish_body(self) -> None:
        self.state = "trailers" if self.expect_trailers else "done"

    # -- WebSocket ------------------------------------------------------------------------------

    def check_websocket(self, message: Message) -> None:
        kind = message["type"]
        if kind not in WS_TYPES:
            self.violate("WS-MESSAGE-TYPE", message, f"{kind!r} is not a WebSocket send event")
            return
        if kind.startswith("websocket.http.response.") and WS_DENIAL not in self.extensions:
            self.violate("EXT-OFFERED", message, f"{kind!r} sent but the scope lacks {WS_DENIAL!r}")
        if self.state == "closed":
            self.violate("WS-AFTER-CLOSE", message, f"{kind!r} after the connection was closed")
            return
        if kind == "websocket.accept":
            self.ws_accept(message)
        elif kind == "websocket.close":
            self.ws_close(message)
        elif kind == "websocket.send":
            self.ws_send(message)
        else:
            self.ws_denial(message)

    def ws_accept(self, message: Message) -> None:
        if self.state != "init":
            self.violate("WS-ACCEPT-ONCE", message, f"websocket.accept in state {self.state!r}")
            return
        self.state = "accepted"
        subprotocol = message.get("subprotocol")
        if subprotocol is not None and type(subprotocol) is not str:
            self.violate("WS-ACCEPT-FIELDS", message, f"subprotocol must be a str: {subprotocol!r}")
        problem = header_problem(message.get("headers", []), forbid=b"sec-websocket-protocol")
        if problem is not None:
            self.violate("WS-ACCEPT-FIELDS", message, problem[1])

    def ws_close(self, message: Message) -> None:
        if self.state == "denying":
            self.violate("WS-DENIAL-SEQUENCE", message, "websocket.close during a denial response")
        self.state = "closed"
        code = message.get("code", 1000)
        reason = message.get("reason")
        if not isinstance(code, int) or isinstance(code, bool):
            self.violate("WS-CLOSE-FIELDS", message, f"code must be an int: {code!r}")
        if reason is not None and type(reason) is not str:
            self.violate("WS-CLOSE-FIELDS", message, f"reason must be a str: {reason!r}")

    def ws_send(self, message: Message) -> None:
        if self.state != "accepted":
            state = self.state
            self.violate("WS-SEND-BEFORE-ACCEPT", message, f"websocket.send in state {state!r}")
        data, text = message.get("bytes"), message.get("text")
        if (data is None) == (text is None):
            self.violate("WS-SEND-FIELDS", message, "exactly one of bytes or text must be set")
        elif data is not None and type(data) is not bytes:
            self.violate("WS-SEND-FIELDS", message, f"bytes must be bytes: {type(data).__name__}")
        elif text is not None and type(text) is not str:
            self.violate("WS-SEND-FIELDS", message, f"text must be a str: {type(text).__name__}")

    def ws_denial(self, message: Message) -> None:
        kind = message["type"]
        if kind == "websocket.http.response.start":
            if self.state != "init":
                self.violate(
                    "WS-DENIAL-SEQUENCE", message, f"denial response start in state {self.state!r}"
                )
                return
            self.state = "denying"
            status = message.get("status")
            if not is_status(status):
                self.violate("WS-DENIAL-SEQUENCE", message, f"status must be an int: {status!r}")
            problem = header_problem(message.get("headers", []))
            if problem is not None:
                self.violate("WS-DENIAL-SEQUENCE", message, problem[1])
            return
        if self.state != "denying":
            self.violate("WS-DENIAL-SEQUENCE", message, f"denial body in state {self.state!r}")
            return
        body, more = message.get("body", b""), message.get("more_body", False)
        if type(body) is not bytes or type(more) is not bool:
            self.violate("WS-DENIAL-SEQUENCE", message, "body must be bytes, more_body a bool")
        if not more:
            self.state = "closed"

    # -- end of the application call ------------------------------------------------------------

    def finished(self) -> None:
        """The app returned normally: an HTTP response it started must be complete."""
        if self.kind != "http" or self.disconnected or self.send_failed:
            return
        self.exercised("HTTP-COMPLETE")
        if self.state in ("started", "trailers"):
            self.violate("HTTP-COMPLETE", None, "the app returned before the response completed")


def _ignore(rule: str) -> None:
    return None


def validate(app: App, record: Record, exercised: Exercised = _ignore) -> App:
    """Wrap ``app`` so every message it sends is checked; violations go to ``record``.

    ``exercised`` is called with the name of each rule a message (or a normal return) put to
    the test; it may be called many times with one name.
    """

    async def validated(scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope.get("type")
        if kind != "http" and kind != "websocket":
            await app(scope, receive, send)
            return
        checker = _Checker(scope, record, exercised)

        async def checked_receive() -> Message:
            message = await receive()
            if message.get("type") in ("http.disconnect", "websocket.disconnect"):
                checker.disconnected = True
            return message

        async def checked_send(message: Message) -> None:
            checker.check(message)
            try:
                await send(message)
            except BaseException:
                checker.send_failed = True
                raise

        await app(scope, checked_receive, checked_send)
        checker.finished()

    return validated


def file_recorder(directory: str) -> Record:
    """A recorder appending one JSON line per violation to ``directory/VIOLATIONS_FILE``."""
    path = os.path.join(directory, VIOLATIONS_FILE)
    lock = threading.Lock()

    def record(violation: dict[str, Any]) -> None:
        line = json.dumps(violation, default=repr) + "\n"
        with lock, open(path, "a", encoding="utf-8") as file:
            file.write(line)

    return record


def file_exercise_recorder(directory: str) -> Exercised:
    """An ``exercised`` callable writing each rule name once per process to EXERCISED_FILE."""
    path = os.path.join(directory, EXERCISED_FILE)
    seen: set[str] = set()
    lock = threading.Lock()

    def exercised(rule: str) -> None:
        if rule in seen:
            return
        with lock:
            if rule in seen:
                return
            seen.add(rule)
            with open(path, "a", encoding="utf-8") as file:
                file.write(json.dumps({"rule": rule}) + "\n")

    return exercised


def read_exercised(directory: str) -> set[str]:
    """The rule names :func:`file_exercise_recorder` wrote in ``directory`` (empty if none)."""
    try:
        with open(os.path.join(directory, EXERCISED_FILE), encoding="utf-8") as file:
            lines = file.read().splitlines()
    except OSError:
        return set()
    found = set()
    for line in lines:
        try:
            found.add(str(json.loads(line)["rule"]))
        except (ValueError, KeyError, TypeError):
            continue
    return found
