"""The transport dimension: which (server, transport) columns a case runs on.

A column is ``NAME`` (HTTP/1.1, every configuration), ``NAME/h2c`` (HTTP/2 over cleartext
with prior knowledge, where ``[offers] http2 = true``) or ``NAME/h2`` (HTTP/2 over TLS with
ALPN ``h2``, where ``[offers] http2 = true`` and ``[tls] args`` start it with the run's test
certificate). ``NAME`` and ``NAME/h2c`` share one server process; ``NAME/h2`` has its own,
the TLS instance ``NAME+tls``. A case runs on the HTTP/2 columns when it reaches the server
only through ``server.http()`` (an httpx client speaking HTTP/2) or the strict client
``server.h2()``:

* ``@pytest.mark.h1_only``: never on an HTTP/2 column (the case is about HTTP/1.1 bytes);
  a case taking the ``rootpath_server``, ``server_pool`` or ``asgi_violations`` fixture is
  HTTP/1.1-only too and is not generated for HTTP/2 columns (see :data:`H1_ONLY_FIXTURES`);
* ``@pytest.mark.h2_only``: only on HTTP/2 columns (``SRV-H2-*``); on a configuration without
  HTTP/2 it runs once on the plain column and ends ``not-applicable``;
* ``@pytest.mark.h2_twin``: the HTTP/2 twin of an HTTP/1.1 case (the same requirement ids):
  only on HTTP/2 columns, and nowhere on a configuration without HTTP/2 (its HTTP/1.1 case
  gives that configuration its verdict);
* unmarked: on every column. Over HTTP/2, ``server.raw()``, ``.connect()``, ``.ws()``,
  ``.port``, ``.base_url``, ``.ws_url`` end the case with :class:`NotThisTransport`: that case
  is HTTP/1.1-only by what it does, and its HTTP/2 run leaves no result (skipped, no verdict).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import pytest

Transport = Literal["h1", "h2c", "h2"]
TRANSPORTS: tuple[Transport, ...] = ("h1", "h2c", "h2")
#: The transports speaking HTTP/2.
HTTP2_TRANSPORTS: tuple[Transport, ...] = ("h2c", "h2")
SEPARATOR = "/"
H1_ONLY_MARKER = "h1_only: the case reads HTTP/1.1 bytes; it never runs over h2c or h2"
H2_ONLY_MARKER = "h2_only: the case checks HTTP/2 duties; it runs only over h2c and h2"
H2_TWIN_MARKER = (
    "h2_twin: the HTTP/2 twin of an HTTP/1.1 case; it runs only over h2c and h2, nowhere else"
)
#: Fixtures only an HTTP/1.1 run can use: a case taking one is never generated for h2c/h2.
H1_ONLY_FIXTURES = frozenset({"rootpath_server", "server_pool", "asgi_violations"})


class NotThisTransport(pytest.skip.Exception):  # type: ignore[name-defined,misc]
    """An HTTP/2 run of a case that needs HTTP/1.1 (raw bytes, WebSocket, a private instance)."""


def not_this_transport(what: str) -> NotThisTransport:
    return NotThisTransport(f"HTTP/1.1-only case: it uses {what}", _use_item_location=True)


def add_transport_option(parser: pytest.Parser) -> None:
    parser.getgroup("conformance").addoption(
        "--transport",
        action="append",
        choices=TRANSPORTS,
        default=None,
        help="run over this transport only (repeatable; default: every transport a server "
        "offers: h1 always, h2c where [offers] http2 = true, h2 (TLS) where [tls] args too)",
    )


def selected_transports(config: pytest.Config) -> tuple[Transport, ...]:
    chosen = config.getoption("transport", None) or TRANSPORTS
    return tuple(t for t in TRANSPORTS if t in chosen)


def column(server: str, transport: Transport) -> str:
    """The report column of ``server`` over ``transport``."""
    return server if transport == "h1" else f"{server}{SEPARATOR}{transport}"


def declared_deviation(
    deviations: Mapping[str, str], requirement: str, transport: str
) -> str | None:
    """The reason declared for ``requirement`` on ``transport``: ``ID@TRANSPORT`` (that transport
    only) wins over ``ID`` (every transport); None when neither is declared."""
    return deviations.get(f"{requirement}@{transport}", deviations.get(requirement))


def split_column(name: str) -> tuple[str, Transport]:
    """``NAME/h2c`` → (``NAME``, ``"h2c"``); ``NAME/h2`` → (``NAME``, ``"h2"``); ``NAME`` →
    (``NAME``, ``"h1"``)."""
    base, sep, transport = name.rpartition(SEPARATOR)
    if sep and transport in TRANSPORTS:
        return base, transport
    return name, "h1"


def columns_for(
    item_markers: set[str],
    servers: list[str],
    offers_h2: Mapping[str, bool],
    transports: tuple[Transport, ...],
    offers_tls: Mapping[str, bool] | None = None,
) -> list[str]:
    """The columns a case with ``item_markers`` runs on: h1 columns, then h2c, then h2.

    ``offers_tls[name]``: the configuration has an ``NAME/h2`` column (HTTP/2 and ``[tls]``).
    """
    h1_only = "h1_only" in item_markers
    h2_twin = "h2_twin" in item_markers
    h2_only = "h2_only" in item_markers or h2_twin
    tls = offers_tls or {}
    plain: list[str] = []
    h2c: list[str] = []
    h2: list[str] = []
    for name in servers:
        if "h2c" in transports and offers_h2[name] and not h1_only:
            h2c.append(column(name, "h2c"))
        if "h2" in transports and offers_h2[name] and tls.get(name, False) and not h1_only:
            h2.append(column(name, "h2"))
        if "h1" in transports and not (h2_only and offers_h2[name]) and not h2_twin:
            plain.append(name)
    return plain + h2c + h2
