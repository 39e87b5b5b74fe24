"""The ASGI message validator (conformance/apps/_validator.py): one broken app per rule.

Each rule of ``conformance/requirements/asgi-app.toml`` has a deliberately broken app that
trips it and a correct app doing the same job that trips nothing. Apps run through real ASGI
calls (scope dict, receive/send callables); the validator must pass every message through.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest

from conformance.apps._validator import (
    EXERCISED_FILE,
    VIOLATIONS_FILE,
    file_exercise_recorder,
    file_recorder,
    read_exercised,
    validate,
)
from conformance.harness.catalogue import REQUIREMENTS_DIR, load_files

Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Body = Callable[[Send, Receive], Awaitable[None]]

START = {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"x/y")]}
BODY = {"type": "http.response.body", "body": b"ok"}
ACCEPT = {"type": "websocket.accept"}
CLOSE = {"type": "websocket.close", "code": 1000}
DENY = {"type": "websocket.http.response.start", "status": 403, "headers": []}
DENY_BODY = {"type": "websocket.http.response.body", "body": b"no"}


def sends(*messages: dict[str, Any]) -> Body:
    async def body(send: Send, receive: Receive) -> None:
        for message in messages:
            await send(dict(message))

    return body


async def run(
    kind: str,
    body: Body,
    extensions: dict[str, Any] | None = None,
    disconnect: bool = False,
    exercised: list[str] | None = None,
) -> tuple[list[dict[str, Any]], list[Any]]:
    """Run ``body`` as an app through the validator; answer (violations, messages sent)."""
    violations: list[dict[str, Any]] = []
    noted = exercised if exercised is not None else []
    sent: list[Any] = []
    scope: dict[str, Any] = {"type": kind, "path": "/p", "extensions": extensions or {}}

    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        await body(send, receive)

    async def receive() -> dict[str, Any]:
        if kind == "websocket":
            return {"type": "websocket.disconnect" if disconnect else "websocket.connect"}
        return {"type": "http.disconnect" if disconnect else "http.request"}

    async def send(message: Any) -> None:
        sent.append(message)

    await validate(app, violations.append, noted.append)(scope, receive, send)  # type: ignore[arg-type]
    return violations, sent


async def returns_early_after_disconnect(send: Send, receive: Receive) -> None:
    await send(dict(START))
    await send({"type": "http.response.body", "body": b"a", "more_body": True})
    await receive()


PATHSEND: dict[str, Any] = {"http.response.pathsend": {}}
TRAILERS: dict[str, Any] = {"http.response.trailers": {}}
DENIAL: dict[str, Any] = {"websocket.http.response": {}}
DEBUG: dict[str, Any] = {"http.response.debug": {}}
HINTS: dict[str, Any] = {"http.response.early_hint": {}}
HINT = {"type": "http.response.early_hint", "links": [b"</style.css>; rel=preload"]}

# rule -> (kind, broken app, correct app, extensions)
CASES: dict[str, tuple[str, Body, Body, dict[str, Any] | None]] = {
    "HTTP-START-FIRST": ("http", sends(BODY), sends(START, BODY), None),
    "HTTP-START-ONCE": ("http", sends(START, START, BODY), sends(START, BODY), None),
    "HTTP-AFTER-COMPLETE": ("http", sends(START, BODY, BODY), sends(START, BODY), None),
    "HTTP-COMPLETE": (
        "http",
        sends(START, {"type": "http.response.body", "body": b"a", "more_body": True}),
        sends(START, {"type": "http.response.body", "body": b"a", "more_body": True}, BODY),
        None,
    ),
    "HTTP-STATUS": ("http", sends({**START, "status": "200"}, BODY), sends(START, BODY), None),
    "HTTP-HEADERS": (
        "http",
        sends({**START, "headers": [("content-type", "x/y")]}, BODY),
        sends({**START, "headers": [[b"content-type", b"x/y"]]}, BODY),
        None,
    ),
    "HTTP-HEADER-NAMES": (
        "http",
        sends({**START, "headers": [(b"Content-Type", b"x/y")]}, BODY),
        sends({**START, "headers": ((b"content-type", b"X/Y"),)}, BODY),
        None,
    ),
    "HTTP-BODY-TYPE": (
        "http",
        sends(START, {"type": "http.response.body", "body": "ok"}),
        sends(START, {"type": "http.response.body"}),
        None,
    ),
    "HTTP-FIELD-TYPES": (
        "http",
        sends(START, {"type": "http.response.body", "body": b"", "more_body": 0}),
        sends(START, {"type": "http.response.body", "body": b"", "more_body": False}),
        None,
    ),
    "HTTP-PATHSEND": (
        "http",
        sends(START, {"type": "http.response.pathsend", "path": "relative.txt"}),
        sends(START, {"type": "http.response.pathsend", "path": "/srv/file.txt"}),
        PATHSEND,
    ),
    "HTTP-EXT-ORDER": (
        "http",
        sends(START, {"type": "http.response.debug", "info": {}}, BODY),
        sends({"type": "http.response.debug", "info": {}}, START, BODY),
        DEBUG,
    ),
    "HTTP-MESSAGE-TYPE": (
        "http",
        sends(START, {"type": "websocket.send", "text": "x"}, BODY),
        sends(START, BODY),
        None,
    ),
    "EXT-OFFERED": (
        "http",
        sends(START, {"type": "http.response.pathsend", "path": "/srv/file.txt"}),
        sends(
            {**START, "trailers": True},
            BODY,
            {"type": "http.response.trailers", "headers": [(b"x-sum", b"1")]},
        ),
        TRAILERS,
    ),
    "WS-SEND-BEFORE-ACCEPT": (
        "websocket",
        sends({"type": "websocket.send", "text": "x"}, CLOSE),
        sends(ACCEPT, {"type": "websocket.send", "text": "x"}, CLOSE),
        None,
    ),
    "WS-ACCEPT-ONCE": ("websocket", sends(ACCEPT, ACCEPT), sends(ACCEPT, CLOSE), None),
    "WS-AFTER-CLOSE": (
        "websocket",
        sends(ACCEPT, CLOSE, {"type": "websocket.send", "bytes": b"x"}),
        sends(ACCEPT, {"type": "websocket.send", "bytes": b"x"}, CLOSE),
        None,
    ),
    "WS-SEND-FIELDS": (
        "websocket",
        sends(ACCEPT, {"type": "websocket.send", "bytes": b"x", "text": "x"}),
        sends(ACCEPT, {"type": "websocket.send", "bytes": None, "text": "x"}),
        None,
    ),
    "WS-ACCEPT-FIELDS": (
        "websocket",
        sends({**ACCEPT, "headers": [(b"sec-websocket-protocol", b"chat")]}),
        sends({**ACCEPT, "subprotocol": "chat", "headers": [(b"x-a", b"1")]}),
        None,
    ),
    "WS-CLOSE-FIELDS": (
        "websocket",
        sends(ACCEPT, {"type": "websocket.close", "code": "1000"}),
        sends(ACCEPT, {"type": "websocket.close", "code": 4000, "reason": "bye"}),
        None,
    ),
    "WS-DENIAL-SEQUENCE": (
        "websocket",
        sends(ACCEPT, DENY, DENY_BODY),
        sends(DENY, {**DENY_BODY, "more_body": True}, DENY_BODY),
        DENIAL,
    ),
    "WS-MESSAGE-TYPE": (
        "websocket",
        sends(ACCEPT, {"type": "http.response.body", "body": b"x"}),
        sends(ACCEPT, CLOSE),
        None,
    ),
}


def test_every_rule_of_the_catalogue_has_a_case() -> None:
    catalogue = load_files([REQUIREMENTS_DIR / "asgi-app.toml"])
    ids = {i.removeprefix("ASGI-APP-") for i in catalogue if i.startswith("ASGI-APP-")}
    assert ids == set(CASES)


@pytest.mark.parametrize("rule", sorted(CASES))
async def test_broken_app_trips_its_rule(rule: str) -> None:
    kind, broken, _, extensions = CASES[rule]
    violations, sent = await run(kind, broken, extensions)
    assert rule in {v["rule"] for v in violations}, violations
    offending = next(v for v in violations if v["rule"] == rule)
    assert offending["path"] == "/p" and offending["scope_type"] == kind
    assert offending["text"]
    assert sent, "the validator must pass messages on"


@pytest.mark.parametrize("rule", sorted(CASES))
async def test_correct_app_trips_nothing(rule: str) -> None:
    kind, _, correct, extensions = CASES[rule]
    violations, _ = await run(kind, correct, extensions)
    assert violations == []


async def test_messages_pass_through_unchanged() -> None:
    odd = {"type": "http.response.body", "body": "not bytes", "extra": object()}
    _, sent = await run("http", sends(START, odd))
    assert sent[1] == odd


async def test_offending_message_is_in_the_violation() -> None:
    violations, _ = await run("http", sends({**START, "status": 999}, BODY))
    assert violations[0]["rule"] == "HTTP-STATUS"
    assert "999" in violations[0]["message"]


async def test_bool_status_is_not_an_int() -> None:
    violations, _ = await run("http", sends({**START, "status": True}, BODY))
    assert [v["rule"] for v in violations] == ["HTTP-STATUS"]


async def test_pseudo_header_is_refused() -> None:
    violations, _ = await run("http", sends({**START, "headers": [(b":status", b"200")]}, BODY))
    assert [v["rule"] for v in violations] == ["HTTP-HEADER-NAMES"]


async def test_early_return_after_disconnect_is_not_a_violation() -> None:
    violations, _ = await run("http", returns_early_after_disconnect, disconnect=True)
    assert violations == []


async def test_early_return_when_send_raised_is_not_a_violation() -> None:
    violations: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Receive, send: Send) -> None:
        await send(dict(START))
        try:
            await send({"type": "http.response.body", "body": b"a", "more_body": True})
        except OSError:
            return

    async def failing_send(message: Any) -> None:
        if message["type"] == "http.response.body":
            raise OSError("client gone")

    async def receive() -> dict[str, Any]:
        return {"type": "http.request"}

    wrapped = validate(app, violations.append)  # type: ignore[arg-type]
    await wrapped({"type": "http", "path": "/"}, receive, failing_send)
    assert violations == []


async def test_close_before_accept_is_a_denial_not_a_violation() -> None:
    violations, _ = await run("websocket", sends(CLOSE))
    assert violations == []


async def test_lifespan_passes_unchecked() -> None:
    seen: list[Any] = []

    async def app(scope: Any, receive: Receive, send: Send) -> None:
        await send({"type": "lifespan.startup.complete"})

    async def receive() -> dict[str, Any]:
        return {"type": "lifespan.startup"}

    async def send(message: Any) -> None:
        seen.append(message)

    violations: list[dict[str, Any]] = []
    wrapped = validate(app, violations.append)  # type: ignore[arg-type]
    await wrapped({"type": "lifespan"}, receive, send)
    assert violations == [] and seen == [{"type": "lifespan.startup.complete"}]


def test_file_recorder_appends_json_lines(tmp_path: Path) -> None:
    record = file_recorder(str(tmp_path))
    record({"rule": "HTTP-STATUS", "t": 1.0, "message": b"x"})
    record({"rule": "WS-AFTER-CLOSE", "t": 2.0})
    lines = (tmp_path / VIOLATIONS_FILE).read_text().splitlines()
    assert [json.loads(line)["rule"] for line in lines] == ["HTTP-STATUS", "WS-AFTER-CLOSE"]


@pytest.mark.parametrize("rule", sorted(CASES))
async def test_the_correct_app_exercises_its_rule(rule: str) -> None:
    """A rule is reported exercised when a message put it to the test (sweep: else n/a)."""
    kind, _, correct, extensions = CASES[rule]
    exercised: list[str] = []
    await run(kind, correct, extensions, exercised=exercised)
    assert rule in exercised


async def test_a_plain_response_leaves_the_extension_rules_unexercised() -> None:
    exercised: list[str] = []
    await run("http", sends(START, BODY), exercised=exercised)
    assert {"HTTP-START-FIRST", "HTTP-STATUS", "HTTP-BODY-TYPE", "HTTP-COMPLETE"} <= set(exercised)
    assert not {"HTTP-PATHSEND", "HTTP-EXT-ORDER", "WS-DENIAL-SEQUENCE"} & set(exercised)


async def test_an_accepted_websocket_leaves_the_denial_rule_unexercised() -> None:
    exercised: list[str] = []
    await run("websocket", sends(ACCEPT, CLOSE), DENIAL, exercised=exercised)
    assert "WS-ACCEPT-ONCE" in exercised and "WS-DENIAL-SEQUENCE" not in exercised


async def test_an_httpstatus_status_is_an_int() -> None:
    for status in (HTTPStatus.OK, HTTPStatus.NOT_FOUND):
        violations, _ = await run("http", sends({**START, "status": status}, BODY))
        assert violations == []
    violations, _ = await run("websocket", sends({**DENY, "status": HTTPStatus.FORBIDDEN}), DENIAL)
    assert violations == []


async def test_early_hints_come_after_the_start_and_before_the_final_body() -> None:
    violations, _ = await run("http", sends(START, HINT, HINT, BODY), HINTS)
    assert violations == []
    violations, _ = await run("http", sends(HINT, START, BODY), HINTS)
    assert [v["rule"] for v in violations] == ["HTTP-START-FIRST"]
    violations, _ = await run("http", sends(START, BODY, HINT), HINTS)
    assert [v["rule"] for v in violations] == ["HTTP-AFTER-COMPLETE"]


async def test_debug_is_sent_once() -> None:
    debug = {"type": "http.response.debug", "info": {}}
    violations, _ = await run("http", sends(debug, debug, START, BODY), DEBUG)
    assert [v["rule"] for v in violations] == ["HTTP-EXT-ORDER"]


def test_file_exercise_recorder_keeps_each_rule_once(tmp_path: Path) -> None:
    exercised = file_exercise_recorder(str(tmp_path))
    for rule in ("HTTP-STATUS", "HTTP-STATUS", "WS-SEND-FIELDS"):
        exercised(rule)
    lines = (tmp_path / EXERCISED_FILE).read_text().splitlines()
    assert len(lines) == 2
    assert read_exercised(str(tmp_path)) == {"HTTP-STATUS", "WS-SEND-FIELDS"}
    assert read_exercised(str(tmp_path / "absent")) == set()
