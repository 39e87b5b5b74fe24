"""ROOTPATH-*: url, Router, Subpaths and Files under each server's root-path option.

``rootpath_server`` is the same configuration started a second time with its ``[rootpath]``
args (root path ``/mount``); a configuration without them is ``not-applicable``. Each case
checks every request form (with the ``/mount`` prefix, without it) that reaches the app.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.harness import expect_equal, expect_in, not_applicable
from conformance.harness.server import Server

# Every case needs the HTTP/1.1 column (the sweep fixture, the root-path twin or a private
# instance): none is generated for h2c/h2 columns (harness/transport.py).
pytestmark = pytest.mark.h1_only

ROOT = "/mount"
STATIC_TEXT = b"static file under root_path\n"
_FORMS: dict[str, list[tuple[str, dict[str, Any]]]] = {}


def _forms(server: Server) -> list[tuple[str, dict[str, Any]]]:
    """The request forms (prefix ``/mount`` or none) that reach the app, with the raw scope.

    Servers differ: uvicorn prepends the root path (a proxy strips it), the others pass the
    path as sent (a proxy keeps it). Every form that reaches the app must work.
    """
    if server.column not in _FORMS:
        found = []
        with server.http() as client:
            for prefix in (ROOT, ""):
                response = client.get(f"{prefix}/rootpath/scope/x")
                if response.headers.get("content-type") == "application/json":
                    found.append((prefix, response.json()))
        _FORMS[server.column] = found
    if not _FORMS[server.column]:
        not_applicable("no request form reaches the app under the root-path option")
    return _FORMS[server.column]


def _get(server: Server, target: str) -> Any:
    with server.http() as client:
        response = client.get(target)
    expect_equal(response.status_code, 200, f"status of GET {target}")
    return response.json()


@pytest.mark.requirement("ROOTPATH-URL")
def test_url_when_path_includes_root_path(server: Server, rootpath_server: Server) -> None:
    forms = [(p, s) for p, s in _forms(rootpath_server) if s["path"].startswith(ROOT + "/")]
    if not forms:
        not_applicable("no request form gives a path that includes root_path")
    for prefix, _ in forms:
        # The app sits below Subpaths' "" default, which may hand it ``path`` as the rest of the
        # route path (/rootpath/url/x) or unchanged (/mount/rootpath/url/x): docs/api.md#subpaths
        # allows both, so the url is compared with the URL requested, never with ``path``.
        seen = _get(rootpath_server, f"{prefix}/rootpath/url/x?q=1")
        expect_equal(seen["url_path"], f"{ROOT}/rootpath/url/x", f"url path for {prefix!r}")
        expect_equal(seen["url"].partition("?")[2], "q=1", "url query under the root path")


@pytest.mark.requirement("ROOTPATH-URL-UNPREFIXED")
def test_url_when_path_lacks_root_path(server: Server, rootpath_server: Server) -> None:
    forms = [(p, s) for p, s in _forms(rootpath_server) if not s["path"].startswith(ROOT + "/")]
    if not forms:
        not_applicable("every request form gives a path that includes root_path")
    for prefix, _ in forms:
        seen = _get(rootpath_server, f"{prefix}/rootpath/url/x")
        expect_equal(seen["url_path"], f"{ROOT}/rootpath/url/x", f"url path for {prefix!r}")


@pytest.mark.requirement("ROOTPATH-ROUTER")
def test_router_under_root_path(server: Server, rootpath_server: Server) -> None:
    for prefix, _ in _forms(rootpath_server):
        seen = _get(rootpath_server, f"{prefix}/rootpath/items/7")
        expect_equal(seen["path_params"], {"item": "7"}, f"path_params for prefix {prefix!r}")
        expect_equal(seen["url_path"], f"{ROOT}/rootpath/items/7", "url path in the routed app")


@pytest.mark.requirement("ROOTPATH-SUBPATHS")
def test_subpaths_under_root_path(server: Server, rootpath_server: Server) -> None:
    for prefix, _ in _forms(rootpath_server):
        seen = _get(rootpath_server, f"{prefix}/rootpath/sub/leaf")
        expect_equal(seen["root_path"], f"{ROOT}/rootpath/sub", "root_path given by Subpaths")
        expect_in(seen["path"], ["/leaf", f"{ROOT}/rootpath/sub/leaf"], "path given by Subpaths")
        expect_equal(seen["url_path"], f"{ROOT}/rootpath/sub/leaf", "url path below Subpaths")


@pytest.mark.requirement("ROOTPATH-FILES")
def test_files_under_root_path(server: Server, rootpath_server: Server) -> None:
    for prefix, _ in _forms(rootpath_server):
        with rootpath_server.http() as client:
            found = client.get(f"{prefix}/rootpath/static/hello.txt")
            missing = client.get(f"{prefix}/rootpath/static/absent.txt")
        expect_equal(found.status_code, 200, f"status of an existing file, prefix {prefix!r}")
        expect_equal(found.content, STATIC_TEXT, "file bytes")
        expect_equal(missing.status_code, 404, "status of a missing file")
