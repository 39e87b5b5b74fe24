"""Test certificates for the TLS columns (``NAME/h2``), generated for the run, no network.

One throw-away certificate authority signs one leaf certificate for ``127.0.0.1`` and
``localhost``; the files are written once per pytest process under the run's temporary
folder. Keys are ECDSA P-256 (milliseconds to generate) and the leaf's key is written as
unencrypted PKCS#8 PEM, the one form every server reads (granian takes PKCS#8 only).
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

#: How long the certificates are valid (a run is minutes; a skewed clock gets a day's margin).
VALIDITY = datetime.timedelta(days=2)
LEAF_NAMES = ("localhost",)
LEAF_ADDRESSES = ("127.0.0.1",)


@dataclass(frozen=True)
class RunCertificates:
    """The files of one generated set: the CA certificate, the leaf chain and its key."""

    cafile: Path
    certfile: Path
    keyfile: Path

    def placeholders(self) -> dict[str, str]:
        """``{certfile}``, ``{keyfile}`` and ``{cafile}`` of a ``[tls]`` section."""
        return {
            "certfile": str(self.certfile),
            "keyfile": str(self.keyfile),
            "cafile": str(self.cafile),
        }

    def client_context(self, alpn: tuple[str, ...] = ("h2",)) -> ssl.SSLContext:
        """A client context that trusts only the generated CA (hostname checked) and offers
        ``alpn``."""
        context = ssl.create_default_context(cafile=str(self.cafile))
        if alpn:
            context.set_alpn_protocols(list(alpn))
        return context


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "baize-reference conformance run"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _builder(subject: str, issuer: str, key: ec.EllipticCurvePrivateKey) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + VALIDITY)
    )


def generate(folder: Path) -> RunCertificates:
    """Write ``ca.pem``, ``cert.pem`` (leaf then CA) and ``key.pem`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        _builder("conformance test CA", "conformance test CA", ca_key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName(n) for n in LEAF_NAMES]
    names += [x509.IPAddress(ipaddress.ip_address(a)) for a in LEAF_ADDRESSES]
    leaf_cert = (
        _builder("127.0.0.1", "conformance test CA", leaf_key)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    files = RunCertificates(folder / "ca.pem", folder / "cert.pem", folder / "key.pem")
    files.cafile.write_bytes(ca_cert.public_bytes(pem))
    files.certfile.write_bytes(leaf_cert.public_bytes(pem) + ca_cert.public_bytes(pem))
    files.keyfile.write_bytes(
        leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    files.keyfile.chmod(0o600)
    return files


class CertificateStore:
    """Generates the set on first use, once, in ``folder`` (thread-safe)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()
        self._files: RunCertificates | None = None

    def get(self) -> RunCertificates:
        with self._lock:
            if self._files is None:
                self._files = generate(self.folder)
            return self._files
