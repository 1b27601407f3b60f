"""The loopback fake of Alibaba Cloud's OpenAPI for every test under tests/cloud.

The real SDK clients talk to it; nothing of the SDK is mocked.
"""

from __future__ import annotations

import os

import pytest

from aliyun.fake import FakeCloud

# One AccessKey the fake knows. The secret is a test value, never a real one; tests that check
# secrets stay out of pages, logs and dumps search for it.
CLOUD_AK_ID = "LTAI5tFakeKeyId0001"
CLOUD_AK_SECRET = "FakeSecret-9fJ2kQ7xV4mZ1pL8sT6wR3yN"
CLOUD_ACCOUNT_ID = "1234567890123456"

# The SDK's HTTP layer honours these but ignores NO_PROXY, so a proxy set on the machine would
# carry loopback calls away; ALIBABA_CLOUD_* would give the SDK credentials of its own.
_PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")


@pytest.fixture(autouse=True)
def no_proxy_env(monkeypatch):
    for name in _PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    for name in list(os.environ):
        if name.startswith("ALIBABA_CLOUD_"):
            monkeypatch.delenv(name)


@pytest.fixture
def cloud_fake():
    fake = FakeCloud(access_keys={CLOUD_AK_ID: CLOUD_AK_SECRET}, account_id=CLOUD_ACCOUNT_ID)
    fake.start()
    try:
        yield fake
    finally:
        fake.close()
    # A bug of the fake answers 500 like a server; it must not pass for a fault a test wanted.
    assert not fake.internal_errors, fake.internal_errors[0]


@pytest.fixture
def fake_tls(cloud_fake, monkeypatch):
    """STS is HTTPS only (alibabacloud-credentials sends AssumeRole over https whatever the
    client's protocol): trust the fake's own certificate, as OpenSSL reads SSL_CERT_FILE."""
    monkeypatch.setenv("SSL_CERT_FILE", cloud_fake.ca_file)
    return cloud_fake


@pytest.fixture
def quick_retries(settings):
    """aliyun.retry's waits in tenths of seconds, three tries of a failing call."""
    settings.CLOUD_PUSH_BACKOFF_SECONDS = 0.05
    settings.CLOUD_PUSH_BACKOFF_MAX_SECONDS = 0.2
    settings.CLOUD_PUSH_MAX_ATTEMPTS = 3
    settings.RAM_SYNC_RETRY_BUDGET = 10
    settings.RAM_WRITE_RETRY_BUDGET = 5
