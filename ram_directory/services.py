"""Every write to the RAM directory goes through one of these functions (ARCHITECTURE)."""

from __future__ import annotations

import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from ram_directory.models import Account, Policy, PolicyAttachment, RamUser, User
from ram_directory.policy import SYSTEM_POLICIES, validate_document

POLICY_NAME_TAKEN = "A policy with this name already exists in the account."
SYSTEM_POLICY_READ_ONLY = "System policies cannot be changed."
POLICY_ALREADY_ATTACHED = "This policy is already attached to the user."
POLICY_NOT_ATTACHED = "This policy is not attached to the user."
POLICY_IN_USE = "Detach this policy from every user before deleting it."


def new_user_id() -> str:
    """A RAM-style numeric user ID (18 digits, not starting with 0)."""
    return str(10**17 + secrets.randbelow(9 * 10**17))


@transaction.atomic
def ensure_system_policies(*, account: Account) -> None:
    existing = set(
        Policy.objects.for_account(account)
        .filter(policy_type=Policy.PolicyType.SYSTEM)
        .values_list("name", flat=True)
    )
    Policy.objects.bulk_create(
        [
            Policy(
                account=account,
                name=name,
                policy_type=Policy.PolicyType.SYSTEM,
                description=description,
                document=document,
            )
            for name, (description, document) in SYSTEM_POLICIES.items()
            if name not in existing
        ]
    )


@transaction.atomic
def create_account(
    *, account_id: str, login_name: str, alias: str | None = None, password: str | None = None
) -> Account:
    """A new account with its owner sign-in and the system policies."""
    login_name = login_name.strip().lower()
    alias = (alias or account_id).strip().lower()
    account = Account(account_id=account_id, login_name=login_name, alias=alias)
    account.full_clean()
    account.save()
    owner = User(
        username=login_name, account=account, email=login_name if "@" in login_name else ""
    )
    if password:
        owner.set_password(password)
    else:
        owner.set_unusable_password()
    owner.save()
    ensure_system_policies(account=account)
    return account


def set_console_password(*, ram_user: RamUser, password: str | None) -> User:
    """Create or update the RAM user's console sign-in (its UPN) with this password."""
    sign_in, _ = User.objects.get_or_create(
        ram_user=ram_user,
        defaults={"username": ram_user.upn.lower(), "account": ram_user.account},
    )
    if password:
        sign_in.set_password(password)
    else:
        sign_in.set_unusable_password()
    sign_in.save(update_fields=["password"])
    return sign_in


RAM_USER_FIELDS = ("display_name", "mobile_phone", "email", "comments")


@transaction.atomic
def upsert_ram_user(
    *, account: Account, user_name: str, user_id: str | None = None, **fields: Any
) -> tuple[RamUser, bool]:
    """Create the RAM user or update it by user name; returns (user, created)."""
    unknown = set(fields) - set(RAM_USER_FIELDS) - {"created_at", "updated_at"}
    if unknown:
        raise TypeError(f"unknown RAM user fields: {sorted(unknown)}")
    user = (
        RamUser.objects.for_account(account).select_for_update().filter(user_name=user_name).first()
    )
    created = user is None
    if created:
        user = RamUser(account=account, user_name=user_name, user_id=user_id or new_user_id())
    for name, value in fields.items():
        setattr(user, name, value if value is not None else "")
    if "updated_at" not in fields:
        user.updated_at = timezone.now()
    user.full_clean(validate_unique=False)
    user.save()
    return user, created


@transaction.atomic
def create_policy(
    *, account: Account, name: str, document: dict[str, Any], description: str = ""
) -> Policy:
    validate_document(document)
    policy = Policy(
        account=account,
        name=name,
        description=description,
        document=document,
        policy_type=Policy.PolicyType.CUSTOM,
    )
    policy.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            policy.save()
    except IntegrityError:
        raise ValidationError({"name": POLICY_NAME_TAKEN}, code="unique") from None
    return policy


@transaction.atomic
def update_policy(
    *, policy: Policy, document: dict[str, Any], description: str | None = None
) -> Policy:
    if policy.is_system:
        raise ValidationError(SYSTEM_POLICY_READ_ONLY, code="system_policy")
    validate_document(document)
    policy.document = document
    update_fields = ["document", "updated_at"]
    if description is not None:
        policy.description = description
        update_fields.append("description")
    policy.save(update_fields=update_fields)
    return policy


@transaction.atomic
def delete_policy(*, policy: Policy) -> None:
    if policy.is_system:
        raise ValidationError(SYSTEM_POLICY_READ_ONLY, code="system_policy")
    if policy.attachments.exists():
        raise ValidationError(POLICY_IN_USE, code="in_use")
    policy.delete()


def attach_policy(*, ram_user: RamUser, policy: Policy) -> PolicyAttachment:
    if policy.account_id != ram_user.account_id:
        raise ValidationError("The policy and the user belong to different accounts.")
    try:
        with transaction.atomic():
            return PolicyAttachment.objects.create(ram_user=ram_user, policy=policy)
    except IntegrityError:
        raise ValidationError(POLICY_ALREADY_ATTACHED, code="attached") from None


@transaction.atomic
def detach_policy(*, ram_user: RamUser, policy: Policy) -> None:
    deleted, _ = PolicyAttachment.objects.filter(ram_user=ram_user, policy=policy).delete()
    if not deleted:
        raise ValidationError(POLICY_NOT_ATTACHED, code="not_attached")
