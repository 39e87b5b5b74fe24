"""Pure encoder of the ``text/event-stream`` format (WHATWG HTML §9.2.5, §9.2.6).

Rules this file obeys, so that a conforming parser yields exactly what was sent:

- ``data`` is split on CRLF, CR and LF into one ``data:`` line per line; the parser joins
  them with LF, so line breaks arrive as LF (the format cannot carry CR). An empty string
  is one empty ``data:`` line and arrives as an empty string.
- A value whose first character is a space keeps it: the parser drops one space after the
  colon, and every non-empty value is written after ``": "``.
- ``event`` and ``id`` may not hold CR or LF (they would end the line); ``id`` may not hold
  NUL (the parser ignores such an ``id``); ``retry`` is an integer >= 0.
- ``comment`` lines start with ``:``; an event with only a comment is just a comment.
- Lines end with LF and an event ends with a blank line. Without ``data`` a parser
  dispatches nothing (``id`` and ``retry`` still take effect).
"""

from __future__ import annotations

import re

from baize.typing import ServerSentEvent

_LINE_BREAK = re.compile(r"\r\n|\r|\n")

#: Sent while the stream is idle, to keep proxies and clients from timing out.
PING = ": ping\n\n"


def _field(name: str, value: str) -> str:
    return f"{name}: {value}\n" if value else f"{name}:\n"


def _single_line(name: str, value: str, forbidden: str) -> str:
    if any(char in value for char in forbidden):
        raise ValueError(f"Server-sent event {name} must not contain CR, LF or NUL: {value!r}")
    return _field(name, value)


def encode_event(event: ServerSentEvent) -> str:
    """Render one event (or comment) as event-stream text, ending with a blank line.

    ``encode_event({"event": "tick", "data": "a\\nb"})`` returns
    ``"event: tick\\ndata: a\\ndata: b\\n\\n"``.

    :raises ValueError: CR/LF in ``event`` or ``id``, NUL in ``id``, or a ``retry`` that is
        not an integer >= 0.
    """
    if len(event) == 1 and "data" in event:  # the common case, in one step
        data = event["data"]
        if "\n" not in data and "\r" not in data:
            return f"data: {data}\n\n" if data else "data:\n\n"
    text = ""
    if "comment" in event:
        text += "".join(_field("", line) for line in _LINE_BREAK.split(event["comment"]))
    if "retry" in event:
        retry = event["retry"]
        if type(retry) is not int or retry < 0:
            raise ValueError(f"Server-sent event retry must be an integer >= 0: {retry!r}")
        text += f"retry: {retry}\n"
    if "id" in event:
        text += _single_line("id", event["id"], "\r\n\0")
    if "event" in event:
        text += _single_line("event", event["event"], "\r\n")
    if "data" in event:
        text += "".join(_field("data", line) for line in _LINE_BREAK.split(event["data"]))
    return text + "\n"


__all__ = ["PING", "encode_event"]
