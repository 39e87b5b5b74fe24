"""RFC 9110 / RFC 9112 grammar shared by the response parser and the request builder.

The patterns work on bytes; header names and values are decoded by the caller
(names as ASCII, values as Latin-1)::

    status-line = HTTP-version SP status-code SP [ reason-phrase ]
    field-line = field-name ":" OWS field-value OWS
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = [
    "FIELD_LINE",
    "FIELD_VALUE",
    "METHOD",
    "QUOTED",
    "STATUS_LINE",
    "TOKEN",
    "comma_list",
    "fields_get",
]

# token = 1*tchar
TOKEN = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
# quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE
QUOTED = rb'"(?:[^"\\\x00-\x08\x0a-\x1f\x7f]|\\[\t\x20-\x7e\x80-\xff])*"'
# status-line = HTTP-version SP status-code SP [ reason-phrase ]
# reason-phrase = 1*( HTAB / SP / VCHAR / obs-text )
STATUS_LINE = re.compile(rb"(HTTP/[0-9]\.[0-9]) ([0-9]{3})(?:( )([\t\x20-\x7e\x80-\xff]*))?")
# field-name = token; the value is checked separately
FIELD_LINE = re.compile(rb"(" + TOKEN + rb")([ \t]*):(.*)", re.DOTALL)
# field-vchar = VCHAR / obs-text; field-value = *field-content (with SP / HTAB inside)
FIELD_VALUE = re.compile(rb"[\t\x20-\x7e\x80-\xff]*")
# method = token
METHOD = re.compile(TOKEN)


def fields_get(headers: Sequence[tuple[str, str]], name: str) -> list[str]:
    """Every value of a field, in order.

    :param name: the field name, already lower-case.
    """
    return [value for key, value in headers if key.lower() == name]


def comma_list(values: Sequence[str]) -> list[str]:
    """Split comma-separated field values into lower-case, trimmed items
    (empty items kept)."""
    return [item.strip(" \t").lower() for value in values for item in value.split(",")]
