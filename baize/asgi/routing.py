"""Placeholder: replaced by the module's own issue."""

Hosts: object = NotImplemented
Router: object = NotImplemented
Subpaths: object = NotImplemented
