"""Building well-formed HTTP/1.1 requests (hostile ones are written as raw bytes)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from conformance.harness.http1.chunked import encode_chunks
from conformance.harness.http1.syntax import FIELD_VALUE, METHOD, TOKEN

__all__ = ["build_request"]


def build_request(
    method: str,
    target: str,
    headers: Sequence[tuple[str, str]] | Mapping[str, str] = (),
    body: bytes = b"",
    *,
    chunked: bool = False,
    chunk_size: int | None = None,
    trailers: Sequence[tuple[str, str]] = (),
    host: str | None = "127.0.0.1",
    http_version: str = "HTTP/1.1",
) -> bytes:
    """Build a well-formed request (use raw bytes for a malformed one).

    Adds ``Host`` (unless ``host`` is None or given), ``Transfer-Encoding:
    chunked`` when ``chunked`` and ``Content-Length`` for a non-empty body
    (or POST/PUT/PATCH) unless either framing field is given.

    :param chunk_size: split the chunked body into chunks of this size
        (default: one chunk).
    :raises ValueError: on a method, target or field that is not valid HTTP.
    """
    if not METHOD.fullmatch(method.encode("latin-1")):
        raise ValueError(f"method {method!r} is not a token")
    if not target or any(c in target for c in " \t\r\n\x00"):
        raise ValueError(f"request target {target!r} is empty or holds whitespace")
    items = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
    names = {name.lower() for name, _ in items}
    if host is not None and "host" not in names:
        items.insert(0, ("Host", host))
    if chunked:
        if "transfer-encoding" not in names:
            items.append(("Transfer-Encoding", "chunked"))
    elif trailers:
        raise ValueError("trailers need chunked=True")
    elif "content-length" not in names and "transfer-encoding" not in names:
        if body or method.upper() in ("POST", "PUT", "PATCH"):
            items.append(("Content-Length", str(len(body))))
    out = bytearray(f"{method} {target} {http_version}\r\n".encode("latin-1"))
    out += _encode_fields(items)
    out += b"\r\n"
    if not chunked:
        return bytes(out + body)
    out += encode_chunks(body, chunk_size)
    out += b"0\r\n" + _encode_fields(trailers) + b"\r\n"
    return bytes(out)


def _encode_fields(items: Sequence[tuple[str, str]]) -> bytes:
    out = bytearray()
    for name, value in items:
        if not re.fullmatch(TOKEN, name.encode("latin-1")):
            raise ValueError(f"field name {name!r} is not a token")
        if not FIELD_VALUE.fullmatch(value.encode("latin-1")):
            raise ValueError(f"field value {value!r} for {name!r} holds CR, LF or NUL")
        out += f"{name}: {value}\r\n".encode("latin-1")
    return bytes(out)
