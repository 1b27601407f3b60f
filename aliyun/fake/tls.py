"""The fake's TLS certificate: STS is reached over HTTPS only (alibabacloud-credentials sends
AssumeRole with ``https`` whatever the client's protocol), so the fake answers TLS on the same
port as plain HTTP, with a self-signed certificate for 127.0.0.1 and localhost made at start.
A client trusts it by its file (``FakeCloud.ca_file``; for the SDK: ``SSL_CERT_FILE``)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
import tempfile

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def make_certificate(directory: str) -> tuple[str, str]:
    """Write a self-signed certificate and its key into `directory`: (cert path, key path)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "aliyun.fake loopback")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=7))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path = os.path.join(directory, "fake-cloud.pem")
    key_path = os.path.join(directory, "fake-cloud.key")
    with open(cert_path, "wb") as out:
        out.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as out:
        out.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    os.chmod(key_path, 0o600)
    return cert_path, key_path


class Tls:
    """A certificate in its own temporary directory and the server context using it."""

    def __init__(self):
        self._dir = tempfile.TemporaryDirectory(prefix="aliyun-fake-tls-")
        self.cert_file, key_file = make_certificate(self._dir.name)
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(self.cert_file, key_file)

    def cleanup(self) -> None:
        self._dir.cleanup()
