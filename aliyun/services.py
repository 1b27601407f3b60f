"""Writes of a cloud connection: connect (only once the check passes) and disconnect."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

import audit.services as audit
from aliyun import push
from aliyun.check import ApiCheck, all_ok, check_connection, cloud_account_id
from aliyun.models import DEFAULT_REGION, ArmsPush, CloudConnection
from arms_sync.models import ArmsContact
from ram_directory.models import Account

_ENDPOINT = re.compile(r"^[A-Za-z0-9.-]{1,253}(:\d{1,5})?$")
_REGION = re.compile(r"^[a-z]{2,}(-[a-z0-9]+){1,3}$")
_ROLE_ARN = re.compile(r"^acs:ram::\d{16}:role/[A-Za-z0-9._/-]{1,128}$")
_KEY_ID = re.compile(r"^[A-Za-z0-9]{8,128}$")
_PROXY = re.compile(r"^https?://[^\s/]+(:\d{1,5})?/?$")


def clean_settings(
    *,
    access_key_id: str,
    access_key_secret: str,
    role_arn: str = "",
    region: str = "",
    ram_endpoint: str = "",
    arms_endpoint: str = "",
    sts_endpoint: str = "",
    protocol: str = "https",
    proxy: str = "",
) -> dict:
    """Every field checked, all errors at once (keyed by field), as the form shows them."""
    values = {
        "access_key_id": (access_key_id or "").strip(),
        "access_key_secret": (access_key_secret or "").strip(),
        "role_arn": (role_arn or "").strip(),
        "region": (region or "").strip() or DEFAULT_REGION,
        "ram_endpoint": (ram_endpoint or "").strip(),
        "arms_endpoint": (arms_endpoint or "").strip(),
        "sts_endpoint": (sts_endpoint or "").strip(),
        "protocol": (protocol or "https").strip().lower(),
        "proxy": (proxy or "").strip(),
    }
    errors: dict[str, str] = {}
    if not _KEY_ID.match(values["access_key_id"]):
        errors["access_key_id"] = _("Enter the AccessKey ID (letters and digits).")
    if not values["access_key_secret"]:
        errors["access_key_secret"] = _("Enter the AccessKey secret.")
    if values["role_arn"] and not _ROLE_ARN.match(values["role_arn"]):
        errors["role_arn"] = _(
            "Enter a role ARN such as acs:ram::1234567890123456:role/sae-console."
        )
    if not _REGION.match(values["region"]):
        errors["region"] = _("Enter a region ID such as cn-hangzhou.")
    for field in ("ram_endpoint", "arms_endpoint", "sts_endpoint"):
        if values[field] and not _ENDPOINT.match(values[field]):
            errors[field] = _("Enter a host name, optionally with a port: host[:port].")
    if values["protocol"] not in CloudConnection.Protocol.values or (
        values["protocol"] == "http" and not settings.CLOUD_ALLOW_HTTP
    ):
        errors["protocol"] = _(
            "Plain HTTP is allowed only while SAE_CLOUD_ALLOW_HTTP=1 (a loopback test fake)."
        )
    if values["proxy"] and not _PROXY.match(values["proxy"]):
        errors["proxy"] = _("Enter a proxy URL such as http://proxy.example.com:3128.")
    if errors:
        raise ValidationError(errors)
    return values


# What the audit log keeps of a connection: the secret (and a proxy's password) masked.
AUDIT_MASKS = {
    "access_key_secret": lambda secret: "********",
    "proxy": lambda url: re.sub(r"//[^@/]*@", "//***@", url),
}


def _already_connected(account: Account, uid: str) -> ValidationError | None:
    other = (
        CloudConnection.objects.filter(cloud_account_id=uid)
        .exclude(account=account)
        .select_related("account")
        .first()
    )
    if other is None:
        return None
    return ValidationError(
        _(
            "This Alibaba Cloud account ({cloud_account_id}) is already connected to console "
            "account {account_id}. Disconnect it there first."
        ).format(cloud_account_id=uid, account_id=other.account.account_id),
        code="cloud_account_taken",
    )


def connect(
    *, account: Account, actor=None, **fields
) -> tuple[CloudConnection | None, list[ApiCheck]]:
    """Check the credentials against the cloud, and save the connection only if every API
    answered. Returns the saved connection (None when refused) and the check's results.

    One console account per Alibaba Cloud account (its UID, from the check): a second one is
    refused with ValidationError naming the first; two racing connects are decided by the
    unique constraint (cloud_account_connected_once)."""
    values = clean_settings(**fields)
    candidate = CloudConnection(account=account, **values)
    results = check_connection(candidate)  # network: before any transaction
    if not all_ok(results):
        return None, results
    uid = cloud_account_id(results)
    if uid and (taken := _already_connected(account, uid)):
        raise taken
    try:
        with transaction.atomic():
            connection = _save(account, actor, values, uid)
    except IntegrityError:
        # Another console account connected the same cloud account meanwhile.
        taken = _already_connected(account, uid) if uid else None
        if taken is None:
            raise
        raise taken from None
    return connection, results


def _save(account: Account, actor, values: dict, uid: str) -> CloudConnection:
    saved = CloudConnection.objects.filter(account=account).first()
    before = audit.snapshot(saved, list(values)) if saved is not None else {}
    connection, created = CloudConnection.objects.update_or_create(
        account=account, defaults={**values, "cloud_account_id": uid}
    )
    audit.record(
        account=account,
        actor=actor,
        action="cloud.connect" if created else "cloud.update",
        obj=connection,
        changes=audit.diff(before, values, mask=AUDIT_MASKS),
    )
    if created:
        _push_what_is_here(account)
    return connection


def _push_what_is_here(account: Account) -> None:
    """A new connection: the contacts linked before it go to ARMS too, with the `sae:` groups
    and policy, as if each had just been made (the outbox pushes them after the commit; a phone
    ARMS already holds elsewhere shows Failed with ARMS's message, and Merge Contacts settles
    it). Without this, only contacts changed after connecting would ever reach the cloud."""
    linked = dict(
        ArmsContact.objects.filter(account=account, sae_contact__isnull=False).values_list(
            "pk", "sae_contact_id"
        )
    )
    if linked:
        push.record_contacts(account.pk, list(linked), linked)
    else:
        push.record_groups(account.pk)


def check(connection: CloudConnection) -> list[ApiCheck]:
    """Check a saved connection (the page's Check, cloud_check). A connection saved before the
    Alibaba Cloud account was recorded gets it now, unless another console account holds it
    (then the check says so)."""
    results = check_connection(connection)  # network: before any transaction
    uid = cloud_account_id(results)
    if not uid or connection.cloud_account_id or not all_ok(results):
        return results
    try:
        with transaction.atomic():
            CloudConnection.objects.filter(pk=connection.pk, cloud_account_id="").update(
                cloud_account_id=uid
            )
    except IntegrityError:
        taken = _already_connected(connection.account, uid)
        message = taken.messages[0] if taken else ""
        results = [
            ApiCheck(r.api, r.action, False, "AlreadyConnected", message=message)
            if r.cloud_account_id
            else r
            for r in results
        ]
    return results


def disconnect(*, account: Account, actor=None) -> bool:
    """Forget the credentials; the account goes back to the local working copy. Pushes still
    pending would never be sent: they go too."""
    with transaction.atomic():
        ArmsPush.objects.filter(account=account, status=ArmsPush.Status.PENDING).delete()
        deleted, _ = CloudConnection.objects.filter(account=account).delete()
        if deleted:
            audit.record(account=account, actor=actor, action="cloud.disconnect")
    return bool(deleted)


def connection_for(account: Account | int) -> CloudConnection | None:
    account_id = account if isinstance(account, int) else account.pk
    return CloudConnection.objects.filter(account_id=account_id).first()
