"""Check: one cheap read per API with a connection's credentials, saying per API what works
and, from the error code, what to fix (a missing RAM permission, a wrong secret, a role that
cannot be assumed). STS GetCallerIdentity also says which Alibaba Cloud account the key
belongs to (its UID), which connect() holds to one console account."""

from __future__ import annotations

from dataclasses import dataclass

from alibabacloud_arms20190808 import models as arms_models
from alibabacloud_ram20150501 import models as ram_models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from aliyun import clients
from aliyun.clients import ARMS, RAM, STS, CloudError
from aliyun.models import CloudConnection

# Error codes that mean "this key may not do that" (RAM's, ARMS's and the gateway's).
PERMISSION_CODES = {"NoPermission", "Forbidden.RAM", "Forbidden", "Forbidden.AccessDenied"}
WRONG_SECRET = gettext_noop("The AccessKey secret is wrong (SignatureDoesNotMatch).")
UNKNOWN_KEY = gettext_noop("No such AccessKey ID (InvalidAccessKeyId.NotFound).")
MISSING_PERMISSION = gettext_noop("The AccessKey lacks the RAM permission {permission}.")
UNREACHABLE = gettext_noop("The endpoint did not answer: {message}")
REFUSED = gettext_noop("Refused: {code}: {message}")
ROLE_REFUSED = gettext_noop("The RAM role could not be assumed (STS AssumeRole): {code}: {message}")
WORKS = gettext_noop("Works.")


@dataclass(frozen=True)
class ApiCheck:
    api: str  # "RAM" / "ARMS"
    action: str  # the API action tried, e.g. "ListUsers"
    ok: bool
    code: str = ""  # the error code when it failed
    permission: str = ""  # the RAM permission the code says is missing
    message: str = ""  # what the page and commands say, translated
    cloud_account_id: str = ""  # GetCallerIdentity's AccountId

    def as_dict(self) -> dict:
        return {
            "api": self.api,
            "action": self.action,
            "ok": self.ok,
            "code": self.code,
            "missing_permission": self.permission,
            "message": self.message,
            "cloud_account_id": self.cloud_account_id,
        }


def _failed(api: str, action: str, error: CloudError) -> ApiCheck:
    permission = ""
    if error.api == STS and error.action == "AssumeRole":
        # Whichever call needed the role's key, it is AssumeRole that failed: say so.
        api, action = "STS", "AssumeRole"
        if error.code == "NetworkError":
            message = _(UNREACHABLE).format(message=error.message)
        else:
            message = _(ROLE_REFUSED).format(code=error.code, message=error.message)
    elif error.code == "SignatureDoesNotMatch":
        message = _(WRONG_SECRET)
    elif error.code.startswith("InvalidAccessKeyId"):
        message = _(UNKNOWN_KEY)
    elif error.code in PERMISSION_CODES or error.status == 403:
        permission = f"{api.lower()}:{action}"
        message = _(MISSING_PERMISSION).format(permission=permission)
    elif error.code == "NetworkError":
        message = _(UNREACHABLE).format(message=error.message)
    else:
        message = _(REFUSED).format(code=error.code, message=error.message)
    return ApiCheck(api, action, False, error.code, permission, message)


def _assume_role(connection: CloudConnection) -> list[ApiCheck]:
    """A role's connection assumes it first: nothing else can work without its key."""
    if not connection.role_arn:
        return []
    try:
        clients.assume_role(connection)
    except CloudError as error:
        return [_failed("STS", "AssumeRole", error)]
    return [ApiCheck("STS", "AssumeRole", True, message=_(WORKS))]


def _caller_identity(connection: CloudConnection) -> ApiCheck:
    try:
        identity = clients.caller_identity(connection)
    except CloudError as error:
        return _failed("STS", "GetCallerIdentity", error)
    account_id = str(identity.get("AccountId") or "")[:32]
    return ApiCheck("STS", "GetCallerIdentity", True, message=_(WORKS), cloud_account_id=account_id)


def cloud_account_id(results: list[ApiCheck]) -> str:
    return next((r.cloud_account_id for r in results if r.cloud_account_id), "")


def check_connection(connection: CloudConnection) -> list[ApiCheck]:
    """STS AssumeRole (a role's connection), RAM ListUsers (MaxItems=1) and GetUser of the
    user it names, ARMS DescribeContacts (Page=1, Size=1), STS GetCallerIdentity (whose key).
    Never inside a database transaction: these are network calls."""
    results = _assume_role(connection)
    if not all_ok(results):
        return results
    ram = clients.ram_client(connection)
    try:
        page = clients.call(ram, RAM, "list_users", ram_models.ListUsersRequest(max_items=1))
        results.append(ApiCheck("RAM", "ListUsers", True, message=_(WORKS)))
    except CloudError as error:
        results.append(_failed("RAM", "ListUsers", error))
        page = {}
    users = (page.get("Users") or {}).get("User") or []
    if users:
        try:
            clients.call(
                ram, RAM, "get_user", ram_models.GetUserRequest(user_name=users[0]["UserName"])
            )
            results.append(ApiCheck("RAM", "GetUser", True, message=_(WORKS)))
        except CloudError as error:
            results.append(_failed("RAM", "GetUser", error))
    arms = clients.arms_client(connection)
    try:
        clients.call(
            arms,
            ARMS,
            "describe_contacts",
            arms_models.DescribeContactsRequest(page=1, size=1, region_id=connection.region),
        )
        results.append(ApiCheck("ARMS", "DescribeContacts", True, message=_(WORKS)))
    except CloudError as error:
        results.append(_failed("ARMS", "DescribeContacts", error))
    results.append(_caller_identity(connection))
    return results


def all_ok(results: list[ApiCheck]) -> bool:
    return all(result.ok for result in results)
