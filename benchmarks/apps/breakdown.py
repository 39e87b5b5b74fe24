"""The ``json-router`` app taken apart: each layer of baize added to the raw app in turn.

Every attribute answers ``GET /route49/42`` with the same JSON as the load benchmark's
apps; ``benchmarks.bench_breakdown`` measures them side by side under one server, so the
difference between two rows is what one layer costs per request there.
"""

from __future__ import annotations

import json

from baize.asgi import JSONResponse, Request, request_response
from baize.routing import RouteTable
from benchmarks.apps import baize_impl, raw
from benchmarks.apps.common import (
    ROUTE_COUNT,
    Receive,
    Scope,
    Send,
    json_payload,
    with_lifespan,
)

_ROUTE = ROUTE_COUNT - 1


def _split_item(scope: Scope) -> int:
    """The raw app's routing, cut to the one route measured: the item id of the path."""
    return int(scope["path"].split("/")[2])


async def _split_json_response(scope: Scope, receive: Receive, send: Send) -> None:
    await JSONResponse(json_payload(_ROUTE, _split_item(scope)))(scope, receive, send)


async def _view(request: Request) -> JSONResponse:
    return JSONResponse(json_payload(_ROUTE, request.path_params["item_id"]))


_view_app = request_response(_view)


async def _split_request_response(scope: Scope, receive: Receive, send: Send) -> None:
    child = dict(scope)
    child["path_params"] = {"item_id": _split_item(scope)}
    await _view_app(child, receive, send)


_TABLE: RouteTable[int] = RouteTable(
    [(f"/route{i}/{{item_id:int}}", i) for i in range(ROUTE_COUNT)]
)


async def _route_table_raw_answer(scope: Scope, receive: Receive, send: Send) -> None:
    matched = _TABLE.match(scope["path"])
    route, item_id = (matched[0].endpoint, matched[1]["item_id"]) if matched else (-1, 0)
    body = json.dumps(
        json_payload(route, item_id), separators=(",", ":"), ensure_ascii=False
    ).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


raw_split = raw.json_router
json_response = with_lifespan(_split_json_response)
view_plumbing = with_lifespan(_split_request_response)
route_table = with_lifespan(_route_table_raw_answer)
full_baize = baize_impl.json_router

#: attribute -> what it adds, in the order of the report; ``raw_split`` is the reference.
LAYERS: dict[str, str] = {
    "raw_split": "raw: split the path, json.dumps",
    "json_response": "the same split, baize JSONResponse",
    "view_plumbing": "the split, request_response + Request + JSONResponse",
    "route_table": "baize RouteTable.match (50 routes) + a hand-built answer",
    "full_baize": "baize Router + request_response + JSONResponse (the benchmark app)",
}
