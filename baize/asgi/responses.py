"""Placeholder: replaced by the module's own issue."""

FileResponse: object = NotImplemented
HTMLResponse: object = NotImplemented
JSONResponse: object = NotImplemented
PlainTextResponse: object = NotImplemented
RedirectResponse: object = NotImplemented
Response: object = NotImplemented
SendEventResponse: object = NotImplemented
SmallResponse: object = NotImplemented
StreamResponse: object = NotImplemented
