"""One way to reach an account's RAM and ARMS: the SDK clients, built from its connection, and
every call through `call()`, which paces ARMS calls, and turns whatever the SDK raises into a
CloudError that says whether trying again can help.

The SDK (tea-openapi 0.4.x) has traps this module exists to avoid: it reads HTTP_PROXY but
ignores NO_PROXY, so the proxy is always passed explicitly (empty unless configured); it does
not retry, so the push outbox does; its timeouts are milliseconds.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import requests
from alibabacloud_arms20190808.client import Client as ArmsClient
from alibabacloud_credentials.client import Client as CredentialClient
from alibabacloud_credentials.models import Config as CredentialConfig
from alibabacloud_ram20150501.client import Client as RamClient
from alibabacloud_tea_openapi.exceptions import ThrottlingException
from alibabacloud_tea_openapi.utils_models import Config
from darabonba.exceptions import UnretryableException
from django.conf import settings
from Tea.exceptions import TeaException
from Tea.exceptions import UnretryableException as TeaUnretryable

from aliyun.models import CloudConnection

logger = logging.getLogger(__name__)

RAM = "ram"
ARMS = "arms"
ROLE_SESSION_NAME = "sae-contact-console"


def default_endpoint(api: str, region: str) -> str:
    # RAM is a global service with one endpoint; ARMS is regional.
    return "ram.aliyuncs.com" if api == RAM else f"arms.{region}.aliyuncs.com"


@dataclass
class CloudError(Exception):
    """A refused or failed OpenAPI call. `code` is the API's error code (e.g. "NoPermission",
    "Throttling.User") or "NetworkError"; `retryable` says whether the same call may work
    later (throttling, 5xx, network); `retry_after` is the server's hint in seconds."""

    api: str
    action: str
    code: str
    message: str
    status: int | None = None
    retryable: bool = False
    retry_after: float | None = None

    def __str__(self) -> str:
        return f"{self.api.upper()} {self.action}: {self.code}: {self.message}"


def _config(connection: CloudConnection, api: str, *, read_timeout: float | None) -> Config:
    endpoint = connection.ram_endpoint if api == RAM else connection.arms_endpoint
    protocol = connection.protocol
    if protocol == "http" and not settings.CLOUD_ALLOW_HTTP:
        # Stored while the test switch was on, used after it went off: never send the
        # signature in clear text.
        protocol = "https"
    config = Config(
        region_id=connection.region,
        endpoint=endpoint or default_endpoint(api, connection.region),
        protocol=protocol,
        connect_timeout=int(settings.CLOUD_CONNECT_TIMEOUT * 1000),
        read_timeout=int((read_timeout or settings.CLOUD_READ_TIMEOUT) * 1000),
        # Explicit, so that an HTTP_PROXY in the environment is never used behind our back
        # ("" is "no proxy"; the SDK ignores NO_PROXY).
        http_proxy=connection.proxy or "",
        https_proxy=connection.proxy or "",
        user_agent="sae-contact-console",
    )
    if connection.role_arn:
        config.credential = CredentialClient(
            CredentialConfig(
                type="ram_role_arn",
                access_key_id=connection.access_key_id,
                access_key_secret=connection.access_key_secret,
                role_arn=connection.role_arn,
                role_session_name=ROLE_SESSION_NAME,
            )
        )
    else:
        config.access_key_id = connection.access_key_id
        config.access_key_secret = connection.access_key_secret
    return config


def ram_client(connection: CloudConnection, *, read_timeout: float | None = None) -> RamClient:
    return RamClient(_config(connection, RAM, read_timeout=read_timeout))


def arms_client(connection: CloudConnection, *, read_timeout: float | None = None) -> ArmsClient:
    return ArmsClient(_config(connection, ARMS, read_timeout=read_timeout))


def _retry_after_seconds(exc: Exception) -> float | None:
    value = getattr(exc, "retry_after", None)
    try:
        return float(value) / 1000 if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def as_cloud_error(api: str, action: str, exc: Exception) -> CloudError:
    if isinstance(exc, ThrottlingException) or (
        isinstance(exc, TeaException) and str(getattr(exc, "code", "")).startswith("Throttling")
    ):
        return CloudError(
            api,
            action,
            str(exc.code or "Throttling"),
            str(exc.message or ""),
            status=getattr(exc, "status_code", None),
            retryable=True,
            retry_after=_retry_after_seconds(exc),
        )
    if isinstance(exc, (UnretryableException, TeaUnretryable, requests.RequestException, OSError)):
        inner = getattr(exc, "inner_exception", None) or exc
        return CloudError(
            api,
            action,
            "NetworkError",
            type(inner).__name__ + ": " + str(inner)[:300],
            retryable=True,
        )
    if isinstance(exc, TeaException):
        status = getattr(exc, "status_code", None)
        code = str(exc.code or (f"HTTP{status}" if status else "Error"))
        return CloudError(
            api,
            action,
            code,
            str(exc.message or "")[:400],
            status=status,
            retryable=bool(status and status >= 500),
        )
    raise exc


def action_name(method: str) -> str:
    """The API's action name of an SDK method: describe_contacts -> DescribeContacts."""
    return "".join(part.capitalize() for part in method.split("_"))


def call(client: Any, api: str, method: str, request: Any) -> dict[str, Any]:
    """Make one call (`method` is the SDK's, e.g. "describe_contacts") and return the
    answer's body under the API's own JSON names; any failure is a CloudError."""
    try:
        response = getattr(client, method)(request)
    except Exception as exc:  # the SDK raises many types: as_cloud_error sorts them out
        raise as_cloud_error(api, action_name(method), exc) from None
    body = response.body
    return body.to_map() if body is not None else {}
