"""The fake's TLS certificate: STS is reached over HTTPS only (alibabacloud-credentials sends
AssumeRole with ``https`` whatever the client's protocol), so the fake answers TLS on the same
port as plain HTTP, with a self-signed certificate for 127.0.0.1 and localhost made at start.
A client trusts it by its file (``FakeCloud.ca_file``; for the SDK: ``SSL_CERT_FILE``)."""

from __future__ import annotations

import ssl
import tempfile
from pathlib import Path

from tests.notify.certs import self_signed_certificate


class Tls:
    """A certificate in its own temporary directory and the server context using it."""

    def __init__(self):
        self._dir = tempfile.TemporaryDirectory(prefix="aliyun-fake-tls-")
        # The tests' maker (the fake is a test tool shipped beside them); a week, for a fake
        # left running.
        self.cert_file, key_file = self_signed_certificate(
            Path(self._dir.name), dns_names=("localhost",), ips=("127.0.0.1",), hours=24 * 7
        )
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(self.cert_file, key_file)

    def cleanup(self) -> None:
        self._dir.cleanup()
