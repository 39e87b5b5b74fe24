"""A sans-IO decoder for ``multipart/form-data`` bodies (RFC 7578, RFC 2046 §5.1).

Rules this module obeys:

- No I/O. :meth:`MultipartDecoder.receive_data` appends bytes to a buffer, and
  :meth:`MultipartDecoder.next_event` turns the buffer into events, or returns
  :data:`NEED_DATA` when it cannot decide anything more without more input.
- Bounded memory. Part data is handed out as soon as it cannot be the start of a
  delimiter, so at most ``len(delimiter)`` bytes of it are held back (plus up to
  :data:`MAX_PADDING` bytes of transport padding while a match is being decided);
  a part's header block is held until complete and is capped by ``max_header_size``.
- Every bad input raises :class:`~baize.exceptions.MalformedMultipart` (400), or
  :class:`~baize.exceptions.RequestEntityTooLarge` (413) for an oversized header
  block; the exception's ``status_code`` is the status hint.

Theory of operation. The body grammar (RFC 2046 §5.1.1)::

    multipart-body := [preamble CRLF] dash-boundary transport-padding CRLF
                      body-part *encapsulation close-delimiter
                      transport-padding [CRLF epilogue]
    encapsulation  := delimiter transport-padding CRLF body-part
    delimiter      := CRLF dash-boundary        ; dash-boundary := "--" boundary
    close-delimiter := delimiter "--"
    body-part      := MIME-part-headers [CRLF *OCTET]

The decoder pretends the body starts with CRLF, so the first dash-boundary is
found by the same search for ``CRLF--boundary`` as every later one. A match
counts as a delimiter only when it is followed by ``--`` or by transport padding
(spaces and tabs) and CRLF; any other match (``CRLF--boundaryX``) is data. The
states and the events that move between them are listed in :data:`TRANSITIONS`.
The event stream is always::

    Preamble, ((Field | File), Data(more_data=True)*, Data(more_data=False))*, Epilogue
"""

from __future__ import annotations

import codecs
import enum
import re
from dataclasses import dataclass
from typing import Final
from urllib.parse import unquote

from .exceptions import MalformedMultipart, RequestEntityTooLarge

# RFC 2046 §5.1.1: boundary := 0*69<bchars> bcharsnospace; we are lenient about
# the characters and the length (up to 200), but refuse what cannot work at all.
MAX_BOUNDARY_LENGTH: Final = 200
#: Default cap on one part's header block, in bytes (CRLFCRLF included).
MAX_HEADER_SIZE: Final = 16 * 1024
#: Cap on transport padding (spaces and tabs) after a boundary, in bytes.
MAX_PADDING: Final = 1024

_PADDING = b" \t"
_DELIMITER_ENDS = (b"--", b"\r\n")


def safe_decode(data: bytes, charset: str) -> str:
    """Decode ``data`` with ``charset``, replacing bytes that do not decode.

    Never raises: an unknown charset falls back to UTF-8.

    :param data: the bytes to decode.
    :param charset: a codec name such as ``"utf-8"`` or ``"latin-1"``.
    :returns: the text, with U+FFFD in place of undecodable bytes.
    """
    try:
        return data.decode(charset, errors="replace")
    except LookupError:
        return data.decode("utf-8", errors="replace")


# Events ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Preamble:
    """The first boundary was found; whatever came before it is ignored (RFC 2046)."""


@dataclass(frozen=True, slots=True)
class Field:
    """A part without a ``filename`` parameter starts: an ordinary form field.

    :param name: the ``name`` parameter of ``Content-Disposition``, decoded.
    :param headers: the part's header lines as ``(lowercased name, value)`` bytes.
    """

    name: str
    headers: tuple[tuple[bytes, bytes], ...]


@dataclass(frozen=True, slots=True)
class File:
    """A part with a ``filename`` (or ``filename*``) parameter starts: a file.

    :param name: the ``name`` parameter of ``Content-Disposition``, decoded.
    :param filename: the file name exactly as sent (may be empty, may hold a path).
    :param headers: the part's header lines as ``(lowercased name, value)`` bytes.
    """

    name: str
    filename: str
    headers: tuple[tuple[bytes, bytes], ...]


@dataclass(frozen=True, slots=True, init=False)
class Data:
    """A piece of the current part's content.

    :param data: the bytes (may be empty only when ``more_data`` is false).
    :param more_data: false for the last piece of the part.
    """

    data: bytes
    more_data: bool

    def __init__(self, data: bytes, more_data: bool) -> None:
        # One Data per chunk of a large file: set the slots directly, which is
        # cheaper than the object.__setattr__ calls of a frozen dataclass.
        _set_data(self, data)
        _set_more_data(self, more_data)


_set_data = vars(Data)["data"].__set__
_set_more_data = vars(Data)["more_data"].__set__


@dataclass(frozen=True, slots=True)
class Epilogue:
    """The close delimiter was read; anything after it is ignored (RFC 2046)."""


@dataclass(frozen=True, slots=True)
class NeedData:
    """Nothing more can be decoded until :meth:`MultipartDecoder.receive_data` is called."""


#: The single :class:`NeedData` instance that :meth:`MultipartDecoder.next_event` returns.
NEED_DATA: Final = NeedData()

Event = Preamble | Field | File | Data | Epilogue | NeedData


# States ---------------------------------------------------------------------


class State(enum.Enum):
    """Where the decoder is in the body."""

    PREAMBLE = "preamble"  # before the first dash-boundary
    PART_START = "part start"  # right after a delimiter: "--" or padding CRLF headers
    PART_DATA = "part data"  # inside a part's content
    EPILOGUE = "epilogue"  # after the close delimiter
    ERROR = "error"  # a malformed body was seen; every later call raises

    # Members are singletons: hash by identity in C, not by name in Python
    # (the transition table is looked up once per event).
    __hash__ = object.__hash__


class _Kind(enum.Enum):
    PREAMBLE = "Preamble"
    FIELD = "Field"
    FILE = "File"
    MORE_DATA = "Data(more_data=True)"
    LAST_DATA = "Data(more_data=False)"
    EPILOGUE = "Epilogue"

    __hash__ = object.__hash__


#: (state, event kind) -> next state. A missing key is a bug in a reader.
TRANSITIONS: Final[dict[tuple[State, _Kind], State]] = {
    (State.PREAMBLE, _Kind.PREAMBLE): State.PART_START,
    (State.PART_START, _Kind.FIELD): State.PART_DATA,
    (State.PART_START, _Kind.FILE): State.PART_DATA,
    (State.PART_START, _Kind.EPILOGUE): State.EPILOGUE,
    (State.PART_DATA, _Kind.MORE_DATA): State.PART_DATA,
    (State.PART_DATA, _Kind.LAST_DATA): State.PART_START,
}


_PART_DATA: Final = State.PART_DATA
_PART_START: Final = State.PART_START
_DATA_KIND: Final = {True: _Kind.MORE_DATA, False: _Kind.LAST_DATA}
_KIND_OF: Final[dict[type, _Kind]] = {
    Preamble: _Kind.PREAMBLE,
    Field: _Kind.FIELD,
    File: _Kind.FILE,
    Epilogue: _Kind.EPILOGUE,
}


# Content-Disposition (RFC 7578 §4.2, RFC 6266 §4.1, RFC 2616 §2.2) ------------
#   disposition-parm = token "=" ( token / quoted-string )
#   quoted-string    = DQUOTE *( qdtext / quoted-pair ) DQUOTE
#   quoted-pair      = "\" CHAR
# An unterminated quoted string takes the rest of the parameter as a token.
_PARAM = re.compile(r';\s*([^\s=;]+)\s*=\s*("[^"\\]*(?:\\.[^"\\]*)*"|[^;]*)', re.DOTALL)
# Only \" and \\ are unescaped: browsers send Windows paths with lone backslashes.
_QUOTED_PAIR = re.compile(r'\\(["\\])')
# The usual header block, a lone ``Content-Disposition: form-data; name="..."``
# with an optional ``filename="..."`` and no escapes, takes this shortcut; it
# gives the same result as _parse_headers and _disposition_params.
_SIMPLE_DISPOSITION = re.compile(
    rb'content-disposition[ \t]*:[ \t]*(form-data[ \t]*;[ \t]*name="([^"\\\r\n]*)"'
    rb'(?:[ \t]*;[ \t]*filename="([^"\\\r\n]*)")?)[ \t]*',
    re.IGNORECASE,
)
#   ext-value = charset "'" [ language ] "'" value-chars   (RFC 8187 §3.2.1)
_EXT_VALUE = re.compile(r"([^']*)'[^']*'(.*)", re.DOTALL)


def _disposition_params(value: str) -> dict[str, str]:
    """Parameters of a ``Content-Disposition`` value, names lowercased.

    >>> _disposition_params('form-data; name="a\\\\"b"; filename=x.txt')
    {'name': 'a"b', 'filename': 'x.txt'}
    """
    params: dict[str, str] = {}
    for key, raw in _PARAM.findall(value):
        key = key.lower()
        if key in params:
            continue
        if raw[-1:] == '"' and raw[:1] == '"' and len(raw) >= 2:
            raw = raw[1:-1]
            if "\\" in raw:
                raw = _QUOTED_PAIR.sub(r"\1", raw)
        else:
            raw = raw.strip()
        params[key] = raw
    return params


def _ext_value(value: str, charset: str) -> str | None:
    """Decode an RFC 8187 ``filename*`` value, or None when it does not parse."""
    match = _EXT_VALUE.fullmatch(value)
    if match is None:
        return None
    encoding = match.group(1).strip() or charset
    try:
        return unquote(match.group(2), encoding=encoding, errors="replace")
    except LookupError:
        return unquote(match.group(2), encoding=charset, errors="replace")


# The decoder ----------------------------------------------------------------


class MultipartDecoder:
    """Turn the bytes of a ``multipart/form-data`` body into events.

    :param boundary: the ``boundary`` parameter of the request's ``Content-Type``.
    :param charset: the charset that part names and file names are decoded with
        (UTF-8 when Python does not know it).
    :param max_header_size: the largest header block one part may have, in bytes.
    :raises MalformedMultipart: the boundary is empty, too long or holds CR/LF.
    """

    def __init__(
        self, boundary: bytes, charset: str, *, max_header_size: int = MAX_HEADER_SIZE
    ) -> None:
        if not boundary or len(boundary) > MAX_BOUNDARY_LENGTH:
            raise MalformedMultipart(
                f"Multipart boundary must be 1 to {MAX_BOUNDARY_LENGTH} bytes long."
            )
        if b"\r" in boundary or b"\n" in boundary:
            raise MalformedMultipart("Multipart boundary must not contain CR or LF.")
        try:
            self.charset = codecs.lookup(charset).name
        except LookupError:
            self.charset = "utf-8"
        self.max_header_size = max_header_size
        self.state = State.PREAMBLE
        self._delimiter = b"\r\n--" + boundary
        # The body is read as if it started with CRLF; see the module docstring.
        self._buffer = b"\r\n"
        self._pos = 0
        self._header_scan = 0  # where the search for CRLFCRLF resumes
        self._eof = False
        self._error: MalformedMultipart | RequestEntityTooLarge | None = None

    def receive_data(self, data: bytes | bytearray | memoryview | None) -> None:
        """Add bytes of the body; ``None`` means the body has ended.

        The decoder keeps a reference to ``bytes`` it is given (it never changes
        them); other buffers are copied.

        :raises RuntimeError: data arrives after the end of input.
        """
        if self._eof:
            raise RuntimeError("receive_data() called after the end of input (None).")
        if data is None:
            self._eof = True
        elif data:
            if self._pos == len(self._buffer):
                self._buffer = data if type(data) is bytes else bytes(data)
                self._header_scan -= self._pos
            else:
                self._buffer = self._buffer[self._pos :] + data
                self._header_scan -= self._pos
            self._pos = 0

    def next_event(self) -> Event:
        """Return the next event, or :data:`NEED_DATA`.

        :raises MalformedMultipart: the body breaks the grammar or ends early.
        :raises RequestEntityTooLarge: a part's header block is over ``max_header_size``.
        """
        if self._error is not None:
            raise self._error
        state = self.state
        event: Preamble | Field | File | Data | Epilogue | None
        try:
            if state is _PART_DATA:
                event = self._read_data() if self._pos < len(self._buffer) else None
            elif state is _PART_START:
                event = self._read_part_start()
            elif state is State.PREAMBLE:
                event = self._read_preamble()
            else:  # EPILOGUE: ignore everything.
                self._pos = len(self._buffer)
                event = None
        except (MalformedMultipart, RequestEntityTooLarge) as exc:
            self.state = State.ERROR
            self._error = exc
            raise
        if event is None:
            if self._eof and state is not State.EPILOGUE:
                self._error = MalformedMultipart(self._truncated_message())
                self.state = State.ERROR
                raise self._error
            return NEED_DATA
        if type(event) is Data:
            kind = _DATA_KIND[event.more_data]
        else:
            kind = _KIND_OF[type(event)]
        self.state = TRANSITIONS[state, kind]
        return event

    def _truncated_message(self) -> str:
        if self.state is State.PREAMBLE:
            return "Multipart body has no boundary line; is the boundary right?"
        if self.state is State.PART_START:
            return "Multipart body ended inside a part's headers."
        return "Multipart body ended before the close delimiter."

    def _find_delimiter(self, index: int) -> tuple[int, bool]:
        """Find the next real delimiter from ``self._pos``.

        :param index: ``self._buffer.find(self._delimiter, self._pos)``, which the
            caller has already computed.
        :returns: ``(index, True)`` for a delimiter at ``index``; ``(index, False)``
            when nothing before ``index`` can be part of a delimiter but whether one
            starts at ``index`` is not known yet.
        """
        buffer, delimiter = self._buffer, self._delimiter
        end = len(buffer)
        start = self._pos
        while index >= 0:
            after = index + len(delimiter)
            if buffer[after : after + 2] in _DELIMITER_ENDS:
                return index, True
            decided = self._delimiter_follows(buffer, after)
            if decided is None:
                return index, False
            if decided:
                return index, True
            start = index + 1
            index = buffer.find(delimiter, start)
        # No full match: keep back the longest tail that may begin a delimiter.
        tail = max(start, end - len(delimiter) + 1)
        while True:
            tail = buffer.find(b"\r", tail)
            if tail < 0:
                return end, False
            if delimiter.startswith(buffer[tail:]):
                return tail, False
            tail += 1

    def _delimiter_follows(self, buffer: bytes, after: int) -> bool | None:
        """Whether ``CRLF--boundary`` ending at ``after`` is a delimiter (None: unknown)."""
        end = len(buffer)
        if after + 2 <= end:
            two = buffer[after : after + 2]
            if two == b"--" or two == b"\r\n":
                return True
        position = after
        limit = min(end, after + MAX_PADDING + 1)
        while position < limit and buffer[position] in _PADDING:
            position += 1
        if position - after > MAX_PADDING:
            raise MalformedMultipart("Multipart boundary line has too much transport padding.")
        rest = buffer[position : position + 2]
        if rest == b"\r\n":
            return True
        if (position == after and rest == b"-") or rest == b"\r" or not rest:
            return None if not self._eof else False
        return False

    def _read_preamble(self) -> Preamble | None:
        index, found = self._find_delimiter(self._buffer.find(self._delimiter, self._pos))
        self._pos = index
        if not found:
            return None
        self._pos = index + len(self._delimiter)
        return Preamble()

    def _read_data(self) -> Data | None:
        buffer, pos = self._buffer, self._pos
        end = len(buffer)
        # Fast path for a chunk in the middle of a large part: no delimiter in it,
        # and no CR near its end that could begin one. Then the whole chunk goes out
        # (without a copy when nothing of it was consumed yet).
        delimiter = self._delimiter
        index = buffer.find(delimiter, pos)
        if index < 0:
            tail = end - len(delimiter) + 1
            if buffer.find(b"\r", tail if tail > pos else pos) < 0:
                self._pos = end
                return Data(buffer[pos:] if pos else buffer, True)
        index, found = self._find_delimiter(index)
        if found:
            self._pos = index + len(self._delimiter)
            return Data(buffer[pos:index], False)
        if index == pos:
            return None
        self._pos = index
        return Data(buffer[pos:index], True)

    def _read_part_start(self) -> Field | File | Epilogue | None:
        buffer, pos = self._buffer, self._pos
        if buffer.startswith(b"--", pos):
            self._pos = pos + 2
            return Epilogue()
        # Transport padding and CRLF were checked when the delimiter was found.
        start = buffer.find(b"\r\n", pos) + 2
        if buffer.startswith(b"\r\n", start):
            block_end = start
            self._pos = start + 2
        else:
            block_end = buffer.find(b"\r\n\r\n", max(start, self._header_scan))
            if block_end < 0:
                if len(buffer) - start > self.max_header_size:
                    raise RequestEntityTooLarge(
                        content=f"Multipart part headers exceed {self.max_header_size} bytes."
                    )
                self._header_scan = max(start, len(buffer) - 3)
                return None
            self._pos = block_end + 4
        if block_end + 4 - start > self.max_header_size:
            raise RequestEntityTooLarge(
                content=f"Multipart part headers exceed {self.max_header_size} bytes."
            )
        self._header_scan = 0
        block = buffer[start:block_end]
        simple = _SIMPLE_DISPOSITION.fullmatch(block)
        if simple is None:
            return self._part_event(_parse_headers(block))
        value, name, filename = simple.groups()
        headers = ((b"content-disposition", value),)
        charset = self.charset
        if filename is None:
            return Field(name.decode(charset, "replace"), headers)
        return File(name.decode(charset, "replace"), filename.decode(charset, "replace"), headers)

    def _part_event(self, headers: tuple[tuple[bytes, bytes], ...]) -> Field | File:
        disposition = None
        for key, value in headers:
            if key == b"content-disposition":
                disposition = value
                break
        if disposition is None:
            raise MalformedMultipart("Multipart part has no Content-Disposition header.")
        params = _disposition_params(safe_decode(disposition, self.charset))
        name = params.get("name")
        if name is None:
            raise MalformedMultipart("Multipart part's Content-Disposition has no name.")
        filename = params.get("filename")
        if "filename*" in params:
            filename = _ext_value(params["filename*"], self.charset) or filename or ""
        if filename is None:
            return Field(name, headers)
        return File(name, filename, headers)


def _parse_headers(block: bytes) -> tuple[tuple[bytes, bytes], ...]:
    """Split a header block (without its final CRLFCRLF) into lowercased pairs.

    A line that starts with a space or tab continues the previous one (obs-fold).

    :raises MalformedMultipart: a line has no colon or an empty name.
    """
    if not block:
        return ()
    if b"\r\n" not in block:  # the usual case: Content-Disposition alone
        name, colon, value = block.partition(b":")
        name = name.strip(b" \t")
        if colon and name and block[:1] not in (b" ", b"\t"):
            return ((name.lower(), value.strip(b" \t")),)
    headers: list[tuple[bytes, bytes]] = []
    for line in block.split(b"\r\n"):
        if line[:1] in (b" ", b"\t") and headers:
            name, value = headers[-1]
            headers[-1] = (name, (value + b" " + line.strip(b" \t")).strip(b" \t"))
            continue
        name, colon, value = line.partition(b":")
        name = name.strip(b" \t")
        if not colon or not name:
            shown = line[:60].decode("latin-1")
            raise MalformedMultipart(f"Multipart part header line has no field name: {shown!r}")
        headers.append((name.lower(), value.strip(b" \t")))
    return tuple(headers)


__all__ = [
    "NEED_DATA",
    "TRANSITIONS",
    "Data",
    "Epilogue",
    "Event",
    "Field",
    "File",
    "MultipartDecoder",
    "NeedData",
    "Preamble",
    "State",
    "safe_decode",
]
