"""Placeholder: replaced by the module's own issue."""

WebsocketDenialResponse: object = NotImplemented
WebSocket: object = NotImplemented
WebSocketDisconnect: object = NotImplemented
WebSocketState: object = NotImplemented
