"""Value types shared by requests and responses: URL, headers, query strings, forms, cookies.

Parsers of peer input (``QueryParams``, ``ContentType``, ``MediaType``, ``parse_cookie``)
never raise; builders of output (``MutableHeaders``, ``Cookie``) refuse values that would
break the message framing with a ``ValueError`` naming the offending field.

One concept per private module (``baize._url``, ``_headers``, ``_multidict``, ``_media``,
``_uploads``, ``_cookies``); this module is the public import path of all of them.
"""

from baize._cookies import Cookie, parse_cookie
from baize._headers import Headers, MutableHeaders
from baize._media import ContentType, MediaType
from baize._multidict import MultiMapping, MutableMultiMapping, QueryParams, parse_query
from baize._uploads import FormData, UploadFile
from baize._url import URL, Address

__all__ = [
    "URL",
    "Address",
    "ContentType",
    "Cookie",
    "FormData",
    "Headers",
    "MediaType",
    "MultiMapping",
    "MutableHeaders",
    "MutableMultiMapping",
    "QueryParams",
    "UploadFile",
    "parse_cookie",
    "parse_query",
]
