"""Request parsing of the broken server: strict HTTP/1.1 unless a fault says otherwise.

Standard library only (the server runs with the conformance apps' ``PYTHONPATH``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote_to_bytes

TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
VERSION = re.compile(rb"HTTP/(\d)\.(\d)")
ORIGIN_TARGET = re.compile(rb"/[!-~]*")
ABSOLUTE_TARGET = re.compile(rb"https?://[!-~]+")
HOST_VALUE = re.compile(rb"[A-Za-z0-9.\-_~!$&'()*+,;=%]*(:\d*)?|\[[0-9A-Fa-f:.]+\](:\d*)?")
DIGITS = re.compile(rb"\d+")
CHUNK_LINE = re.compile(rb"([0-9A-Fa-f]+)[ \t]*(;.*)?")
MAX_TARGET = 64 * 1024
MAX_HEAD = 1024 * 1024


class BadRequest(Exception):
    """The request cannot be served; ``status`` is the answer, then the connection closes."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


@dataclass
class Request:
    method: str
    target: bytes
    version: str
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    framing: str = "none"  # none | length | chunked
    length: int = 0
    close: bool = False
    expect_continue: bool = False

    def values(self, name: bytes) -> list[bytes]:
        return [value for key, value in self.headers if key == name]


def parse_head(head: bytes, faults: frozenset[str]) -> Request:
    """Parse a request head (without the final CRLF CRLF).

    :raises BadRequest: malformed or refused.
    """
    if b"\r" in head.replace(b"\r\n", b"") and "bare-cr" not in faults:
        raise BadRequest(400, "bare CR")
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ")
    if "request-line-rsplit" in faults and len(parts) > 3:
        first, _, rest = lines[0].partition(b" ")
        parts = [first, *rest.rsplit(b" ", 1)]
    if len(parts) != 3:
        raise BadRequest(400, "request line")
    method, target, version = parts
    if not TOKEN.fullmatch(method) and "lenient-method" not in faults:
        raise BadRequest(400, "method")
    match = VERSION.fullmatch(version)
    if match is None:
        if "lenient-version" not in faults:
            raise BadRequest(400, "version")
        major, minor = 1, 1
    else:
        major, minor = int(match[1]), int(match[2])
    if major != 1:
        raise BadRequest(505, "version")
    if len(target) > MAX_TARGET:
        raise BadRequest(400 if "no-414" in faults else 414, "target too long")
    if "lenient-target" not in faults:
        if ABSOLUTE_TARGET.fullmatch(target):
            if "no-absolute" in faults:
                raise BadRequest(400, "absolute-form")
        elif not ORIGIN_TARGET.fullmatch(target) or b"#" in target:
            raise BadRequest(400, "target")
    http_version = "1.0" if minor == 0 else "1.1"
    if minor > 1 and "minor-version-reject" in faults:
        raise BadRequest(505, "minor version")
    request = Request(method.decode("latin-1"), target, http_version)
    request.headers = parse_fields(lines[1:], faults)
    check_host(request, faults)
    decide_framing(request, faults)
    return request


def parse_fields(lines: list[bytes], faults: frozenset[str]) -> list[tuple[bytes, bytes]]:
    fields: list[tuple[bytes, bytes]] = []
    for line in lines:
        if line[:1] in (b" ", b"\t"):
            if "obs-fold-keep" in faults and fields:
                name, value = fields[-1]
                fields[-1] = (name, value + b"\r\n" + line)
                continue
            if "obs-fold-header" in faults:
                line = line.lstrip()
            else:
                raise BadRequest(400, "obs-fold or whitespace line")
        name, colon, value = line.partition(b":")
        if not colon and "lenient-names" not in faults:
            raise BadRequest(400, "no colon")
        if "ws-colon" in faults:
            name = name.rstrip()
        if not TOKEN.fullmatch(name) and "lenient-names" not in faults:
            raise BadRequest(400, "field name")
        value = value.lstrip(b" \t") if "no-trim" in faults else value.strip(b" \t")
        if b"\x00" in value and "nul-ok" not in faults:
            raise BadRequest(400, "NUL in field value")
        if "header-cut" in faults:
            value = value[:8192]
        fields.append((name.lower(), value))
    return fields[:100] if "headers-truncate" in faults else fields


def check_host(request: Request, faults: frozenset[str]) -> None:
    hosts = request.values(b"host")
    if "http10-host-required" in faults and not hosts:
        raise BadRequest(400, "no Host")
    if "no-host-check" in faults:
        return
    if request.version == "1.1" and not hosts:
        raise BadRequest(400, "no Host")
    if len(hosts) > 1 or (hosts and not HOST_VALUE.fullmatch(hosts[0])):
        raise BadRequest(400, "Host")


def content_length(values: list[bytes], faults: frozenset[str]) -> int:
    items = [item.strip() for value in values for item in value.split(b",")]
    if "cl-first" in faults:
        items = items[:1]
    if "cl-lenient" in faults:
        text = b"".join(items[:1]).replace(b" ", b"") or b"0"
        if not text.startswith(b"0x"):
            text = text.rstrip(b"abcdefghijklmnopqrstuvwxyz")
        try:
            return max(int(text.decode("latin-1"), 0), 0)
        except ValueError:
            raise BadRequest(400, "Content-Length") from None
    if not items or not all(DIGITS.fullmatch(item) for item in items):
        raise BadRequest(400, "Content-Length")
    numbers = {int(item) for item in items}
    if "cl-sum" in faults:
        return sum(int(item) for item in items)
    if len(numbers) != 1:
        raise BadRequest(400, "Content-Length values differ")
    number = numbers.pop()
    return number % 2**64 if "cl-wrap" in faults else number


def decide_framing(request: Request, faults: frozenset[str]) -> None:
    tokens = [t.strip().lower() for v in request.values(b"connection") for t in v.split(b",")]
    request.close = b"close" in tokens or (request.version == "1.0" and b"keep-alive" not in tokens)
    if "ignore-client-close" in faults:
        request.close = request.version == "1.0" and "http10-keepalive" not in faults
    if request.version == "1.0" and "http10-keepalive" in faults:
        request.close = b"close" in tokens
    expect = [v.strip().lower() for v in request.values(b"expect")]
    request.expect_continue = b"100-continue" in expect and (
        request.version == "1.1" or "expect-http10" in faults
    )
    codings = [
        t.strip().lower() for v in request.values(b"transfer-encoding") for t in v.split(b",")
    ]
    lengths = request.values(b"content-length")
    if codings:
        if request.version == "1.0" and "http10-te" not in faults:
            raise BadRequest(400, "Transfer-Encoding in HTTP/1.0")
        if lengths and "cl-te-use-cl" in faults:
            request.framing, request.length = "length", content_length(lengths, faults)
            return
        if lengths and "cl-te-keep" not in faults:
            raise BadRequest(400, "Content-Length with Transfer-Encoding")
        if "te-substring" in faults:
            if any(b"chunked" in coding for coding in codings):
                request.framing = "chunked"
                return
        if codings[-1] != b"chunked":
            raise BadRequest(400, "chunked is not the final coding")
        if any(coding != b"chunked" for coding in codings):
            raise BadRequest(501, "unknown transfer coding")
        request.framing = "chunked"
        return
    if lengths and not (request.method == "GET" and "get-body-ignored" in faults):
        request.framing, request.length = "length", content_length(lengths, faults)


def chunk_size(line: bytes, faults: frozenset[str]) -> int:
    """The size of a chunk-size line (extensions ignored).

    :raises BadRequest: invalid or too large.
    """
    if "chunk-lenient" in faults:
        try:
            return max(int(line.split(b";")[0].decode("latin-1").strip(), 16), 0)
        except ValueError:
            raise BadRequest(400, "chunk size") from None
    match = CHUNK_LINE.fullmatch(line)
    if match is None or (match[2] and "chunk-ext-reject" in faults):
        raise BadRequest(400, "chunk size line")
    digits = match[1]
    if "chunk-wrap" in faults:
        return int(digits, 16) % 2**64
    if len(digits) > 15:
        raise BadRequest(413, "chunk too large")
    return int(digits, 16)


def split_target(target: bytes, faults: frozenset[str]) -> tuple[str, bytes, bytes]:
    """``path`` (decoded), ``raw_path``, ``query_string`` of a request-target."""
    if ABSOLUTE_TARGET.fullmatch(target):
        rest = target.split(b"/", 3)
        target = b"/" + (rest[3] if len(rest) > 3 else b"")
    raw_path, _, query = target.partition(b"?")
    if "query-decoded" in faults:
        query = unquote_to_bytes(query)
    decoded = raw_path if "path-no-decode" in faults else unquote_to_bytes(raw_path)
    path = decoded.decode("latin-1" if "path-latin1" in faults else "utf-8", "replace")
    if "empty-query-qmark" in faults and target.endswith(b"?"):
        path += "?"
    if "long-path-cut" in faults:
        path = path[:4096]
    return path, raw_path, query
