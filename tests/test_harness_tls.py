"""The TLS columns' parts: the run's test certificates (conformance/harness/certificates.py),
``[tls] args`` of a server TOML, the ``NAME/h2`` column arithmetic and a pool's ``NAME+tls``
instance (a real TLS listener in a child process)."""

from __future__ import annotations

import socket
import ssl
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance.harness.certificates import CertificateStore, generate
from conformance.harness.server import ServerPool
from conformance.harness.serverconfig import ServerConfig, ServerConfigError
from conformance.harness.transport import columns_for, selected_transports, split_column

BASE: dict[str, Any] = {
    "name": "example",
    "distribution": "example",
    "command": ["{python}", "-m", "example", "--fd", "{fd}", "{app}"],
    "offers": {"http2": True},
}
TLS = {"args": ["--certfile", "{certfile}", "--keyfile", "{keyfile}"]}


def parse(**extra: Any) -> ServerConfig:
    return ServerConfig.from_mapping({**BASE, **extra}, "servers/example.toml")


# -- certificates ---------------------------------------------------------------------------


def _tls_echo(certfile: Path, keyfile: Path) -> tuple[socket.socket, threading.Thread]:
    """A one-connection TLS server (ALPN h2 offered) that answers b'ok' and closes."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certfile, keyfile)
    context.set_alpn_protocols(["h2", "http/1.1"])
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        try:
            sock, _ = listener.accept()
            with context.wrap_socket(sock, server_side=True) as tls:
                tls.sendall(b"ok")
        except OSError:
            pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return listener, thread


def test_the_leaf_verifies_against_the_run_ca_for_127_0_0_1(tmp_path: Path) -> None:
    files = generate(tmp_path / "certs")
    listener, thread = _tls_echo(files.certfile, files.keyfile)
    with listener, socket.create_connection(listener.getsockname(), timeout=5) as raw:
        context = files.client_context()
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            assert tls.selected_alpn_protocol() == "h2"
            assert tls.recv(2) == b"ok"
    thread.join(5)
    assert files.keyfile.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")  # PKCS#8
    assert files.keyfile.stat().st_mode & 0o077 == 0


def test_a_leaf_of_another_run_is_refused(tmp_path: Path) -> None:
    ours = generate(tmp_path / "ours")
    theirs = generate(tmp_path / "theirs")
    listener, thread = _tls_echo(theirs.certfile, theirs.keyfile)
    with listener, socket.create_connection(listener.getsockname(), timeout=5) as raw:
        with pytest.raises(ssl.SSLCertVerificationError):
            ours.client_context().wrap_socket(raw, server_hostname="127.0.0.1")
    thread.join(5)


def test_the_store_generates_once(tmp_path: Path) -> None:
    store = CertificateStore(tmp_path / "c")
    first = store.get()
    written = first.certfile.read_bytes()
    assert store.get() is first
    assert first.certfile.read_bytes() == written
    assert set(first.placeholders()) == {"certfile", "keyfile", "cafile"}


# -- [tls] args and columns ---------------------------------------------------------------------


def test_tls_args_are_inserted_before_the_app_with_the_files() -> None:
    config = parse(tls=TLS)
    assert config.offers_h2_tls
    tls = config.with_tls({"certfile": "/c.pem", "keyfile": "/k.pem", "cafile": "/ca.pem"})
    assert tls.name == "example+tls" and tls.base_name == "example" and tls.tls
    assert tls.command[-5:] == ("--certfile", "/c.pem", "--keyfile", "/k.pem", "{app}")
    assert not config.tls and not parse().offers_h2_tls


def test_tls_without_http2_gives_no_h2_column() -> None:
    config = parse(tls=TLS, offers={"http2": False})
    assert not config.offers_h2_tls


@pytest.mark.parametrize(
    ("tls", "message"),
    [
        ({"args": ["--keyfile", "{keyfile}"]}, "naming {certfile}"),
        ({"args": "--certfile {certfile}"}, "naming {certfile}"),
        ({"args": ["--certfile", "{certfile}", "{pem}"]}, "unknown placeholder {pem}"),
    ],
)
def test_malformed_tls_args_name_the_file(tls: dict[str, Any], message: str) -> None:
    with pytest.raises(ServerConfigError, match=r"servers/example.toml: .*" + message):
        parse(tls=tls)


def test_with_tls_needs_a_tls_section() -> None:
    with pytest.raises(ValueError, match="no \\[tls\\]"):
        parse().with_tls({"certfile": "c", "keyfile": "k", "cafile": "a"})


SERVERS = ["uvicorn", "hypercorn", "granian"]
HTTP2 = {"uvicorn": False, "hypercorn": True, "granian": True}
TLS_OFFERS = {"uvicorn": False, "hypercorn": True, "granian": False}
ALL = ("h1", "h2c", "h2")


def test_h2_columns_come_last_and_only_where_tls_is_configured() -> None:
    assert columns_for(set(), SERVERS, HTTP2, ALL, TLS_OFFERS) == [
        *SERVERS,
        "hypercorn/h2c",
        "granian/h2c",
        "hypercorn/h2",
    ]
    assert columns_for({"h1_only"}, SERVERS, HTTP2, ALL, TLS_OFFERS) == SERVERS
    assert columns_for({"h2_only"}, SERVERS, HTTP2, ALL, TLS_OFFERS) == [
        "uvicorn",
        "hypercorn/h2c",
        "granian/h2c",
        "hypercorn/h2",
    ]
    assert columns_for({"h2_only"}, SERVERS, HTTP2, ("h2",), TLS_OFFERS) == ["hypercorn/h2"]
    assert split_column("hypercorn/h2") == ("hypercorn", "h2")


def test_h2_twins_run_on_http2_columns_only() -> None:
    assert columns_for({"h2_twin"}, SERVERS, HTTP2, ALL, TLS_OFFERS) == [
        "hypercorn/h2c",
        "granian/h2c",
        "hypercorn/h2",
    ]
    assert columns_for({"h2_twin"}, ["uvicorn"], HTTP2, ALL, TLS_OFFERS) == []


def test_transport_option_selects_h2(pytestconfig: pytest.Config) -> None:
    class Options:
        def getoption(self, name: str, default: object = None) -> object:
            return ["h2", "h1"]

    assert selected_transports(Options()) == ("h1", "h2")  # type: ignore[arg-type]


# -- a pool's TLS instance --------------------------------------------------------------------

TLS_SERVER = """
import http.server, socket, ssl, sys
listener = socket.socket(fileno=int(sys.argv[1]))
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(sys.argv[2], sys.argv[3])
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), Handler, bind_and_activate=False)
server.socket = context.wrap_socket(listener, server_side=True)
server.serve_forever()
"""


def test_the_pool_starts_a_tls_instance_with_the_run_certificate(tmp_path: Path) -> None:
    config = ServerConfig(
        name="s",
        distribution="s",
        command=("{python}", "-c", TLS_SERVER, "{fd}", "{app}"),
        tls_args=("{certfile}", "{keyfile}"),
        ready_timeout=10,
    )
    work = tmp_path / "work"
    work.mkdir()
    pool = ServerPool(
        {"s": config},
        python=sys.executable,
        app_root=tmp_path,
        work_dir=work,
        env={"PATH": "/usr/bin:/bin"},
        versions={},
    )
    try:
        server = pool.get("s+tls")  # ready: the probe spoke TLS
        assert (server.name, server.scheme, server.config.tls) == ("s", "https", True)
        assert server.tls_context is not None
        assert str(work / "certificates" / "cert.pem") in server.command
        port = server._process.port
        with httpx.Client(verify=server.tls_context, timeout=5) as client:
            assert client.get(f"https://127.0.0.1:{port}/x").status_code == 200
        with httpx.Client(timeout=5) as client:  # the system's CAs do not know the run's CA
            with pytest.raises(httpx.ConnectError):
                client.get(f"https://127.0.0.1:{port}/x")
    finally:
        pool.stop_all()


def test_an_at_h2_deviation_binds_the_tls_column_only() -> None:
    from conformance.harness.transport import declared_deviation

    declared = {"SRV-X@h2": "over TLS only", "SRV-Y": "everywhere"}
    assert declared_deviation(declared, "SRV-X", "h2") == "over TLS only"
    assert declared_deviation(declared, "SRV-X", "h2c") is None
    assert declared_deviation(declared, "SRV-Y", "h2") == "everywhere"


def test_reports_show_h2c_columns_then_h2_columns() -> None:
    from conformance.harness.reportgrid import build_grid

    servers = ["uvicorn", "hypercorn", "granian"]
    columns = ["granian/h2", "hypercorn/h2c", "hypercorn/h2", "granian/h2c", "uvicorn"]
    data = {
        "run": {"servers": [{"name": n} for n in servers]},
        "requirements": [],
        "results": [{"requirement": "X", "server": c, "outcome": "pass"} for c in columns],
    }
    assert build_grid(data).servers == [
        *servers,
        "hypercorn/h2c",
        "granian/h2c",
        "hypercorn/h2",
        "granian/h2",
    ]
