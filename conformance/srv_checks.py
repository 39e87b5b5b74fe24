"""Verdict helpers shared by the server cases (``test_srv_*.py``) on top of :mod:`srv_wire`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from conformance.harness import expect_true
from conformance.harness.facts import note_answer
from conformance.harness.server import Server
from conformance.srv_wire import (
    CANARY,
    Exchange,
    expect_clean,
    expect_no_smuggling,
    expect_rejected,
    request,
    roundtrip,
)


def untag(value: Any) -> Any:
    """Rebuild a value tagged by ``conformance_apps.srv_http.tagged`` with its Python type."""
    ((kind, inner),) = value.items()
    if kind in ("bytes", "bytearray"):
        return inner.encode("latin-1")
    if kind in ("list", "tuple"):
        return [untag(item) for item in inner]
    if kind == "dict":
        return {key: untag(item) for key, item in inner.items()}
    if kind == "none":
        return None
    if kind == "other":
        return f"<{inner}>"
    return inner


def scope_of(exchange: Exchange, index: int = 0) -> dict[str, Any]:
    """The scope the echo app saw for response ``index`` (types restored)."""
    expect_true(
        len(exchange.responses) > index and exchange.responses[index].status == 200,
        "the echo app answers the request",
        f"response #{index + 1} with status 200",
        exchange.summary(),
    )
    scope: dict[str, Any] = untag(exchange.echo(index)["scope"])
    return scope


def header_values(scope: dict[str, Any], name: bytes) -> list[bytes]:
    return [bytes(value) for key, value in scope["headers"] if bytes(key).lower() == name]


def post(fields: Sequence[str | bytes], body: bytes, *, target: str = "/srvhttp/echo") -> bytes:
    return request("POST", target, fields, body)


def with_canary(server: Server, data: bytes, hint: str = "POST", bound: float = 3.0) -> Exchange:
    """``data`` with the canary pipelined behind it."""
    return roundtrip(server, data + CANARY, (hint, "GET"), bound=bound)


def answer_of(exchange: Exchange) -> str:
    """Which answer the server chose, in words: its first status or a close without one,
    then whether the connection was closed (or the pipelined canary answered)."""
    first = exchange.first
    if first is None:
        if not exchange.closed:
            return "no response, connection left open"
        return "closed without a response" + (" (reset)" if exchange.reset else "")
    if exchange.canary():
        return f"{first.status}, connection kept (the pipelined request answered)"
    if exchange.closed:
        return f"{first.status}, then closed"
    return f"{first.status}, connection left open"


def refused_and_closed(server: Server, data: bytes, statuses: Sequence[int] = (400,)) -> Exchange:
    """One of ``statuses``, then a close before the canary; nothing smuggled."""
    exchange = with_canary(server, data)
    expect_rejected(exchange, statuses, close=True)
    if len(statuses) > 1:
        note_answer(server.name, answer_of(exchange))
    return exchange


def refused(server: Server, data: bytes, statuses: Sequence[int] = (400,)) -> Exchange:
    """One of ``statuses``; nothing smuggled (the connection may stay open)."""
    exchange = with_canary(server, data)
    expect_rejected(exchange, statuses, close=False)
    note_answer(server.name, answer_of(exchange))
    return exchange


def refused_or_closed(server: Server, data: bytes) -> Exchange:
    """A 400 or a close without response; canary not answered; nothing smuggled."""
    exchange = with_canary(server, data)
    expect_rejected(exchange, (400,), close=True, silent_close=True)
    note_answer(server.name, answer_of(exchange))
    return exchange


def refused_or_value(server: Server, data: bytes, name: bytes, accepted: Sequence[bytes]) -> None:
    """Refused (4xx or a close), or served with field ``name`` holding one of ``accepted``."""
    exchange = with_canary(server, data)
    expect_no_smuggling(exchange)
    first = exchange.first
    if first is None:
        expect_true(
            exchange.closed, "the request is refused", "a 400 or a close", exchange.summary()
        )
        note_answer(server.name, answer_of(exchange))
        return
    if 400 <= first.status < 500:
        note_answer(server.name, answer_of(exchange))
        return
    values = header_values(scope_of(exchange), name)
    expect_true(
        len(values) == 1 and values[0] in accepted,
        f"the {name.decode()} field arrives sanitised",
        f"one value among {list(accepted)!r}",
        f"{values!r}; {exchange.summary()}",
    )
    note_answer(server.name, f"served, {name.decode()} arrives as {values[0]!r}")


def not_read_as(server: Server, data: bytes, bound: float = 0.3) -> Exchange:
    """Refused, closed or waited on: anything but answering the hidden request."""
    exchange = with_canary(server, data, bound=bound)
    expect_no_smuggling(exchange)
    expect_clean(exchange)
    note_answer(server.name, answer_of(exchange))
    return exchange


def served(server: Server, data: bytes, hint: str = "POST") -> Exchange:
    """Served with 200 by the echo app (canary behind it)."""
    exchange = with_canary(server, data, hint)
    expect_no_smuggling(exchange)
    expect_true(
        exchange.first is not None and exchange.first.status == 200,
        "the request is served",
        "status 200 from the echo app",
        exchange.summary(),
    )
    return exchange
