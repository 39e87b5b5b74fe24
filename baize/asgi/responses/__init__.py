"""ASGI responses: every response object is itself an ASGI application.

Error handling, decided once for all classes:

- bad arguments (header injection, a bad download name) raise ``ValueError`` in the
  constructor, before anything is sent; a redirect URL is percent-encoded instead;
- ``FileResponse`` of a missing path or a directory raises ``FileNotFoundError`` or
  ``IsADirectoryError`` (``OSError``) in the constructor, as upstream;
- a ``send`` that raises ``OSError`` (the ASGI spec's signal that the client is gone)
  ends a streaming response quietly;
- an exception from a :class:`StreamResponse` iterable propagates without ending the
  body, so the server aborts the connection and the client sees a truncated transfer;
- an exception from a :class:`SendEventResponse` iterable ends the stream
  (``more_body=False``) and is then re-raised, so the server logs it.

One module per kind: :mod:`._base` (``Response`` and the shared plumbing),
:mod:`._small` (rendered once), :mod:`._stream`, :mod:`._sse` and :mod:`._file`; this
package is their public import path.
"""

from baize.asgi.responses._base import Response
from baize.asgi.responses._file import FileResponse
from baize.asgi.responses._small import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    SmallResponse,
    iri_to_uri,
)
from baize.asgi.responses._sse import SendEventResponse
from baize.asgi.responses._stream import StreamResponse

__all__ = [
    "FileResponse",
    "HTMLResponse",
    "JSONResponse",
    "PlainTextResponse",
    "RedirectResponse",
    "Response",
    "SendEventResponse",
    "SmallResponse",
    "StreamResponse",
    "iri_to_uri",
]
