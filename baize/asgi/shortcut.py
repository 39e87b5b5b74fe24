"""Placeholder: replaced by the module's own issue."""

decorator: object = NotImplemented
request_response: object = NotImplemented
websocket_session: object = NotImplemented
