"""Placeholder: replaced by the module's own issue."""

ClientDisconnect: object = NotImplemented
HTTPConnection: object = NotImplemented
Request: object = NotImplemented
