"""One way to reach an account's RAM and ARMS: the SDK clients, built from its connection, and
every call through `call()`, which paces ARMS calls, and turns whatever the SDK raises into a
CloudError that says whether trying again can help.

The SDK (tea-openapi 0.4.x) has traps this module exists to avoid: it reads HTTP_PROXY but
ignores NO_PROXY, so the proxy is always passed explicitly (empty unless configured); it does
not retry, so the push outbox does; its timeouts are milliseconds.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from dataclasses import dataclass
from typing import Any

import requests
from alibabacloud_arms20190808.client import Client as ArmsClient
from alibabacloud_credentials.client import Client as CredentialClient
from alibabacloud_credentials.exceptions import CredentialException
from alibabacloud_credentials.models import Config as CredentialConfig
from alibabacloud_ram20150501.client import Client as RamClient
from alibabacloud_tea_openapi.client import Client as OpenApiClient
from alibabacloud_tea_openapi.exceptions import ThrottlingException
from alibabacloud_tea_openapi.utils_models import Config, OpenApiRequest, Params
from alibabacloud_tea_util.models import RuntimeOptions
from darabonba.exceptions import UnretryableException
from django.conf import settings
from Tea.exceptions import RetryError as TeaRetryError
from Tea.exceptions import TeaException
from Tea.exceptions import UnretryableException as TeaUnretryable

from aliyun.models import CloudConnection

logger = logging.getLogger(__name__)

# alibabacloud-credentials gives its logger ("credentials") a handler of its own that prints
# every failed refresh, traceback and request URL included, to stderr: a command's one error
# line would drown in it. Its failures reach us as exceptions (as_cloud_error): the handler
# goes, and so does its logging (each failure is reported once, as a CloudError).
for _handler in list(logging.getLogger("credentials").handlers):
    logging.getLogger("credentials").removeHandler(_handler)
logging.getLogger("credentials").propagate = False

RAM = "ram"
ARMS = "arms"
STS = "sts"
STS_VERSION = "2015-04-01"
ROLE_SESSION_NAME = "sae-contact-console"


def default_endpoint(api: str, region: str) -> str:
    # RAM and STS are global services with one endpoint each; ARMS is regional.
    if api == STS:
        return "sts.aliyuncs.com"
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


# One credential provider per connection and process, so that a role is assumed once and its
# temporary key shared by every client until the library refreshes it (15 minutes before it
# expires); keyed by everything that would make it another session.
_ROLE_CREDENTIALS: dict[tuple, CredentialClient] = {}
_ROLE_LOCK = threading.Lock()
MAX_ROLE_CREDENTIALS = 1000


def _role_credential(connection: CloudConnection) -> CredentialClient:
    key = (
        connection.account_id,
        connection.access_key_id,
        hashlib.sha256(connection.access_key_secret.encode()).hexdigest(),
        connection.role_arn,
        connection.sts_endpoint,
        connection.proxy,
    )
    with _ROLE_LOCK:
        credential = _ROLE_CREDENTIALS.get(key)
        if credential is None:
            if len(_ROLE_CREDENTIALS) >= MAX_ROLE_CREDENTIALS:
                _ROLE_CREDENTIALS.clear()
            # AssumeRole goes over HTTPS whatever the connection's protocol (the library
            # insists); sts_endpoint is the override, as for RAM and ARMS.
            credential = _ROLE_CREDENTIALS[key] = CredentialClient(
                CredentialConfig(
                    type="ram_role_arn",
                    access_key_id=connection.access_key_id,
                    access_key_secret=connection.access_key_secret,
                    role_arn=connection.role_arn,
                    role_session_name=ROLE_SESSION_NAME,
                    sts_endpoint=connection.sts_endpoint or default_endpoint(STS, ""),
                    proxy=connection.proxy or None,
                    connect_timeout=int(settings.CLOUD_CONNECT_TIMEOUT * 1000),
                    timeout=int(settings.CLOUD_READ_TIMEOUT * 1000),
                )
            )
        return credential


def assume_role(connection: CloudConnection) -> None:
    """Make sure the role's temporary key is at hand (STS AssumeRole when it is not, or is
    about to expire); CloudError("sts", "AssumeRole", ...) when STS refuses."""
    try:
        _role_credential(connection).get_credential()
    except Exception as exc:  # the library raises several types: as_cloud_error sorts them
        raise as_cloud_error(STS, "AssumeRole", exc) from None


def _config(connection: CloudConnection, api: str, *, read_timeout: float | None) -> Config:
    endpoint = {RAM: connection.ram_endpoint, ARMS: connection.arms_endpoint}.get(
        api, connection.sts_endpoint
    )
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
        config.credential = _role_credential(connection)
    else:
        config.access_key_id = connection.access_key_id
        config.access_key_secret = connection.access_key_secret
    return config


def ram_client(connection: CloudConnection, *, read_timeout: float | None = None) -> RamClient:
    return RamClient(_config(connection, RAM, read_timeout=read_timeout))


def arms_client(connection: CloudConnection, *, read_timeout: float | None = None) -> ArmsClient:
    return ArmsClient(_config(connection, ARMS, read_timeout=read_timeout))


def rpc_params(action: str, version: str, protocol: str = "HTTPS") -> Params:
    """What the generic OpenAPI client needs to make an RPC-style ACS3 call of any product."""
    return Params(
        action=action,
        version=version,
        protocol=protocol,
        pathname="/",
        method="POST",
        auth_type="AK",
        style="RPC",
        req_body_type="formData",
        body_type="json",
    )


def caller_identity(connection: CloudConnection) -> dict[str, Any]:
    """STS GetCallerIdentity (no permission needed): whose key this is, `AccountId` above all.
    The STS SDK is not a dependency: the generic OpenAPI client makes the ACS3 call."""
    client = OpenApiClient(_config(connection, STS, read_timeout=None))
    params = rpc_params("GetCallerIdentity", STS_VERSION, client._protocol)
    try:
        answer = client.call_api(params, OpenApiRequest(), RuntimeOptions())
    except Exception as exc:  # the SDK raises many types: as_cloud_error sorts them out
        raise as_cloud_error(STS, "GetCallerIdentity", exc) from None
    return (answer or {}).get("body") or {}


def _retry_after_seconds(exc: Exception) -> float | None:
    value = getattr(exc, "retry_after", None)
    try:
        return float(value) / 1000 if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


_CREDENTIAL_ANSWER = re.compile(r"http_code: (\d+), result: (.*)$", re.S)


def _assume_role_error(exc: CredentialException) -> CloudError:
    """What STS answered, out of the library's message (it keeps only the status and body)."""
    found = _CREDENTIAL_ANSWER.search(str(exc.message or exc))
    status, body = (int(found.group(1)), found.group(2)) if found else (None, "")
    try:
        answer = json.loads(body) if body else {}
    except ValueError:
        answer = {}
    if not isinstance(answer, dict):
        answer = {}
    code = str(answer.get("Code") or (f"HTTP{status}" if status else "CredentialError"))
    return CloudError(
        STS,
        "AssumeRole",
        code,
        str(answer.get("Message") or "")[:400],
        status=status,
        retryable=bool(status and status >= 500) or code.startswith("Throttling"),
    )


def as_cloud_error(api: str, action: str, exc: Exception) -> CloudError:
    inner = getattr(exc, "inner_exception", None)
    if isinstance(exc, CredentialException) or isinstance(inner, CredentialException):
        # The role could not be assumed: STS's refusal, whichever call needed the key.
        return _assume_role_error(exc if isinstance(exc, CredentialException) else inner)
    if api != STS and isinstance(inner, TeaRetryError):
        # STS did not answer while a call needed the role's key.
        api, action, exc = STS, "AssumeRole", inner
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
    if isinstance(
        exc,
        (UnretryableException, TeaUnretryable, TeaRetryError, requests.RequestException, OSError),
    ):
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
