"""The public surface of API.md: every name imports from its module, with the documented signature.

Signatures are compared as text without annotations, e.g.
``(iterable, status_code=200, headers=None, *, ping_interval=3, charset='utf-8')``,
so a renamed, reordered, newly defaulted or no longer keyword-only parameter fails.
"""

from __future__ import annotations

import importlib
import inspect
from functools import cached_property
from typing import Any

import pytest

#: The module table of API.md.
PUBLIC_NAMES: dict[str, list[str]] = {
    "baize.asgi": [
        "HTTPConnection",
        "Request",
        "ClientDisconnect",
        "Response",
        "SmallResponse",
        "PlainTextResponse",
        "HTMLResponse",
        "JSONResponse",
        "RedirectResponse",
        "StreamResponse",
        "FileResponse",
        "SendEventResponse",
        "WebSocket",
        "WebSocketDisconnect",
        "WebSocketState",
        "WebsocketDenialResponse",
        "Router",
        "Subpaths",
        "Hosts",
        "request_response",
        "websocket_session",
        "decorator",
        "middleware",
        "NextRequest",
        "NextResponse",
        "Files",
        "Pages",
        "empty_receive",
        "empty_send",
        "PipeStream",
        "send_http_start",
        "send_http_body",
    ],
    "baize.datastructures": [
        "URL",
        "Address",
        "Headers",
        "MutableHeaders",
        "QueryParams",
        "MultiMapping",
        "MutableMultiMapping",
        "FormData",
        "UploadFile",
        "ContentType",
        "MediaType",
        "Cookie",
    ],
    "baize.routing": ["Convertor", "CONVERTOR_TYPES", "compile_path"],
    "baize.exceptions": [
        "HTTPException",
        "abort",
        "RequestEntityTooLarge",
        "UnsupportedMediaType",
        "RangeNotSatisfiable",
        "MalformedJSON",
        "MalformedMultipart",
        "MalformedRangeHeader",
    ],
    "baize.typing": ["Scope", "Message", "Receive", "Send", "ASGIApp", "ServerSentEvent"],
    "baize.multipart": [
        "MultipartDecoder",
        "Preamble",
        "Field",
        "File",
        "Data",
        "Epilogue",
        "NeedData",
        "safe_decode",
    ],
    "baize.multipart_helper": ["parse_stream", "parse_async_stream"],
    "baize.responses": ["FileResponseMixin"],
}

_SCOPE_ARGS = "(scope, receive=empty_receive, send=empty_send)"
_SMALL_ARGS = "(content, status_code=200, headers=None, media_type=None, charset=None)"
_FILES_ARGS = (
    "(directory, package=None, *, handle_404=None, cacheability='public', max_age=600,"
    " follow_symlinks=False)"
)
_PARSE_ARGS = (
    "(stream, boundary, charset, *, file_factory, max_form_parts=1000, max_form_memory_size=None)"
)

#: ``(module, dotted name) -> signature`` from the reference page and API.md.
SIGNATURES: dict[tuple[str, str], str] = {
    ("baize.asgi", "HTTPConnection"): _SCOPE_ARGS,
    ("baize.asgi", "Request"): _SCOPE_ARGS,
    ("baize.asgi", "Request.close"): "()",
    ("baize.asgi", "Request.is_disconnected"): "()",
    ("baize.asgi", "Request.stream"): "()",
    ("baize.asgi", "HTTPConnection.accepts"): "(media_type)",
    ("baize.asgi", "Response"): "(status_code=200, headers=None)",
    ("baize.asgi", "Response.set_cookie"): (
        "(key, value='', max_age=-1, expires=None, path='/', domain=None,"
        " secure=False, httponly=False, samesite='lax')"
    ),
    ("baize.asgi", "SmallResponse"): _SMALL_ARGS,
    ("baize.asgi", "PlainTextResponse"): _SMALL_ARGS,
    ("baize.asgi", "HTMLResponse"): _SMALL_ARGS,
    ("baize.asgi", "JSONResponse"): "(content, status_code=200, headers=None, **kwargs)",
    ("baize.asgi", "RedirectResponse"): "(url, status_code=307, headers=None)",
    ("baize.asgi", "StreamResponse"): (
        "(iterable, status_code=200, headers=None, content_type='application/octet-stream')"
    ),
    ("baize.asgi", "FileResponse"): (
        "(filepath, headers=None, content_type=None, download_name=None,"
        " stat_result=None, chunk_size=262144)"
    ),
    ("baize.asgi", "SendEventResponse"): (
        "(iterable, status_code=200, headers=None, *, ping_interval=3, charset='utf-8')"
    ),
    ("baize.asgi", "WebSocket"): "(scope, receive, send)",
    ("baize.asgi", "WebSocket.receive"): "()",
    ("baize.asgi", "WebSocket.send"): "(message)",
    ("baize.asgi", "WebSocket.receive_text"): "()",
    ("baize.asgi", "WebSocket.receive_bytes"): "()",
    ("baize.asgi", "WebSocket.iter_text"): "()",
    ("baize.asgi", "WebSocket.iter_bytes"): "()",
    ("baize.asgi", "WebSocket.send_text"): "(data)",
    ("baize.asgi", "WebSocket.send_bytes"): "(data)",
    ("baize.asgi", "WebSocket.close"): "(code=1000, reason=None)",
    ("baize.asgi", "WebSocketDisconnect"): "(code=1000, reason=None)",
    ("baize.asgi", "WebsocketDenialResponse"): "(response)",
    ("baize.asgi", "Router"): "(*routes)",
    ("baize.asgi", "Router.build_url"): "(name, params)",
    ("baize.asgi", "Subpaths"): "(*routes)",
    ("baize.asgi", "Hosts"): "(*hosts)",
    ("baize.asgi", "request_response"): "(view)",
    ("baize.asgi", "websocket_session"): "(view)",
    ("baize.asgi", "decorator"): "(handler)",
    ("baize.asgi", "middleware"): "(handler)",
    ("baize.asgi", "Files"): _FILES_ARGS,
    ("baize.asgi", "Pages"): _FILES_ARGS,
    ("baize.asgi", "empty_receive"): "()",
    ("baize.asgi", "empty_send"): "(message)",
    ("baize.asgi", "NextResponse.from_app"): "(app, request)",
    ("baize.asgi", "Response.delete_cookie"): (
        "(key, value='', path='/', domain=None, secure=False, httponly=False, samesite='lax')"
    ),
    ("baize.asgi", "send_http_start"): "(send, status_code, headers=None)",
    ("baize.asgi", "send_http_body"): "(send, body=b'', *, more_body=False)",
    ("baize.asgi", "PipeStream"): "()",
    ("baize.asgi", "PipeStream.push"): "(chunk)",
    ("baize.asgi", "PipeStream.push_eof"): "()",
    ("baize.datastructures", "Address"): "(host, port)",
    ("baize.datastructures", "Cookie"): (
        "(name, value='', expires=None, domain=None, path=None, httponly=False, secure=False,"
        " max_age=-1, samesite='lax')"
    ),
    ("baize.datastructures", "ContentType"): "(content_type_raw_line='')",
    ("baize.datastructures", "MediaType"): "(media_type_raw_line)",
    ("baize.datastructures", "URL.include_query_params"): "(**params)",
    ("baize.datastructures", "URL.replace_query_params"): "(**params)",
    ("baize.datastructures", "URL.remove_query_params"): "(*names)",
    ("baize.datastructures", "UploadFile"): "(filename, headers=None, max_in_memory_size=None)",
    ("baize.datastructures", "FormData.close"): "()",
    ("baize.datastructures", "FormData.aclose"): "()",
    ("baize.routing", "compile_path"): "(path)",
    ("baize.exceptions", "HTTPException"): "(status_code=400, headers=None, content=None)",
    ("baize.exceptions", "abort"): "(status_code=400, headers=None, content=None)",
    ("baize.exceptions", "RangeNotSatisfiable"): "(max_size)",
    ("baize.exceptions", "RequestEntityTooLarge"): "(retry_after=None, *, content=None)",
    ("baize.exceptions", "UnsupportedMediaType"): "(*supported_media_types)",
    ("baize.exceptions", "MalformedJSON"): "(message='Malformed JSON')",
    ("baize.exceptions", "MalformedMultipart"): "(message='Malformed multipart')",
    ("baize.exceptions", "MalformedRangeHeader"): "(message='Malformed Range header')",
    ("baize.responses", "FileResponseMixin.parse_range"): "(range_raw_line, max_size)",
    ("baize.multipart", "MultipartDecoder"): "(boundary, charset, *, max_header_size=16384)",
    ("baize.multipart", "MultipartDecoder.receive_data"): "(data)",
    ("baize.multipart", "MultipartDecoder.next_event"): "()",
    ("baize.multipart", "Field"): "(name, headers)",
    ("baize.multipart", "File"): "(name, filename, headers)",
    ("baize.multipart", "Data"): "(data, more_data)",
    ("baize.multipart", "safe_decode"): "(data, charset)",
    ("baize.multipart_helper", "parse_stream"): _PARSE_ARGS,
    ("baize.multipart_helper", "parse_async_stream"): _PARSE_ARGS,
}


def _resolve(module: str, dotted: str) -> Any:
    target: Any = importlib.import_module(module)
    for attribute in dotted.split("."):
        target = getattr(target, attribute)
    return target


def _shape(target: Any) -> str:
    """The signature as text: names, kinds and defaults; no annotations, no ``self``."""
    parameters = []
    for parameter in inspect.signature(target).parameters.values():
        if parameter.name == "self":
            continue
        default = parameter.default
        if default is inspect.Parameter.empty:
            parameters.append(parameter.replace(annotation=inspect.Parameter.empty))
        else:
            shown = _Shown(default.__name__ if callable(default) else repr(default))
            parameters.append(parameter.replace(annotation=inspect.Parameter.empty, default=shown))
    return str(inspect.Signature(parameters))


class _Shown:
    """A default value that prints as given (functions by their name)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


@pytest.mark.parametrize(
    ("module", "name"),
    [(module, name) for module, names in PUBLIC_NAMES.items() for name in names],
)
def test_public_name_imports_from_its_module(module: str, name: str) -> None:
    namespace: dict[str, Any] = {}
    exec(f"from {module} import {name}", namespace)
    assert namespace[name] is not NotImplemented


@pytest.mark.parametrize(("module", "dotted"), list(SIGNATURES))
def test_documented_signature(module: str, dotted: str) -> None:
    assert _shape(_resolve(module, dotted)) == SIGNATURES[module, dotted]


def test_every_public_asgi_name_is_in_all() -> None:
    asgi = importlib.import_module("baize.asgi")
    assert set(PUBLIC_NAMES["baize.asgi"]) <= set(asgi.__all__)


def test_websocket_state_members() -> None:
    state = _resolve("baize.asgi", "WebSocketState")
    documented = ["CONNECTING", "CONNECTED", "DISCONNECTED"]
    assert [member.name for member in state][:3] == documented


def test_convertor_types_hold_the_builtin_names() -> None:
    convertors = _resolve("baize.routing", "CONVERTOR_TYPES")
    assert set(convertors) >= {"str", "int", "decimal", "uuid", "date", "any"}
    convertor = _resolve("baize.routing", "Convertor")
    assert all(isinstance(kind, convertor) for kind in convertors.values())  # instances


def test_body_json_and_form_are_properties() -> None:
    request = _resolve("baize.asgi", "Request")
    for name in ("body", "json", "form"):
        assert isinstance(inspect.getattr_static(request, name), property), name
    assert isinstance(inspect.getattr_static(request, "method"), property | cached_property)


def test_file_response_mixin_is_a_base_of_file_response() -> None:
    mixin = _resolve("baize.responses", "FileResponseMixin")
    assert issubclass(_resolve("baize.asgi", "FileResponse"), mixin)
