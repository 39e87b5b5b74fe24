"""Placeholder: replaced by the module's own issue."""

Files: object = NotImplemented
Pages: object = NotImplemented
