"""Placeholder: replaced by the module's own issue."""

NextRequest: object = NotImplemented
NextResponse: object = NotImplemented
middleware: object = NotImplemented
