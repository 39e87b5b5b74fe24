"""Several requests on one keep-alive connection: all sent at once
(:func:`pipeline`) or each after the previous response (:func:`sequential`)."""

from __future__ import annotations

from collections.abc import Sequence

from conformance.harness.http1.connection import Connection
from conformance.harness.http1.errors import ServerClosedConnection
from conformance.harness.http1.response import RawResponse

__all__ = ["pipeline", "sequential"]


def _hints(requests: Sequence[bytes], method_hints: Sequence[str] | None) -> list[str]:
    if method_hints is None:
        return [request.split(b" ", 1)[0].decode("latin-1") for request in requests]
    if len(method_hints) != len(requests):
        raise ValueError("one method hint per request")
    return list(method_hints)


def _read_all(conn: Connection, hints: Sequence[str]) -> list[RawResponse]:
    responses: list[RawResponse] = []
    for hint in hints:
        try:
            responses.append(conn.read_response(hint))
        except ServerClosedConnection:
            raise ServerClosedConnection(
                f"server closed the connection after {len(responses)} of {len(hints)} responses",
                responses,
            ) from None
    return responses


def pipeline(
    host: str,
    port: int,
    requests: Sequence[bytes],
    *,
    method_hints: Sequence[str] | None = None,
    timeout: float = 10.0,
    strict: bool = True,
) -> list[RawResponse]:
    """Send every request at once on one connection, then read the responses.

    :param method_hints: defaults to each request's first word.
    :raises ServerClosedConnection: with ``.responses`` when the server closes early.
    """
    hints = _hints(requests, method_hints)
    with Connection(host, port, timeout=timeout, strict=strict) as conn:
        conn.send(b"".join(requests))
        return _read_all(conn, hints)


def sequential(
    host: str,
    port: int,
    requests: Sequence[bytes],
    *,
    method_hints: Sequence[str] | None = None,
    timeout: float = 10.0,
    strict: bool = True,
) -> list[RawResponse]:
    """Send each request after the previous response, all on one connection.

    :raises ServerClosedConnection: with ``.responses`` when the server closes early.
    """
    hints = _hints(requests, method_hints)
    responses: list[RawResponse] = []
    with Connection(host, port, timeout=timeout, strict=strict) as conn:
        for request, hint in zip(requests, hints, strict=True):
            try:
                conn.send(request)
                responses.append(conn.read_response(hint))
            except (BrokenPipeError, ConnectionResetError, ServerClosedConnection):
                raise ServerClosedConnection(
                    f"server closed the connection after {len(responses)} of "
                    f"{len(requests)} responses",
                    responses,
                ) from None
    return responses
