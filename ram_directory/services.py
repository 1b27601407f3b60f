"""Every write to the RAM directory goes through one of these functions (docs/architecture.md)."""

from __future__ import annotations

import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

import audit.services as audit
from ram_directory import cloud
from ram_directory.models import Account, Policy, PolicyAttachment, RamUser, User
from ram_directory.policy import validate_document
from ram_directory.system_policies import SYSTEM_POLICIES

POLICY_NAME_TAKEN = gettext_noop("A policy with this name already exists in the account.")
SYSTEM_POLICY_READ_ONLY = gettext_noop("System policies cannot be changed.")
POLICY_ALREADY_ATTACHED = gettext_noop("This policy is already attached to the user.")
POLICY_NOT_ATTACHED = gettext_noop("This policy is not attached to the user.")
POLICY_IN_USE = gettext_noop("Detach this policy from every user before deleting it.")
POLICY_OF_OTHER_ACCOUNT = gettext_noop("The policy belongs to another account than the RAM user.")
# What the audit log keeps of a policy (a policy holds no secret).
POLICY_AUDITED_FIELDS = ["name", "description", "document"]


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
    return _save_password(sign_in, password)


def _save_password(sign_in: User, password: str | None) -> User:
    """Set the sign-in's password, or with None leave it none that works."""
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


def _ram_first(write, **kwargs) -> None:
    """A connected account's RAM hears first (ram_directory.cloud); its refusal is the
    form's error and nothing is saved here."""
    try:
        write(**kwargs)
    except cloud.RamRefused as refused:
        if refused.field:
            raise ValidationError({refused.field: refused.message}, code="ram_refused") from None
        raise ValidationError(refused.message, code="ram_refused") from None


def create_policy(
    *,
    account: Account,
    name: str,
    document: dict[str, Any],
    description: str = "",
    actor: Any = None,
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
    if Policy.objects.filter(account=account, name=name).exists():
        raise ValidationError({"name": gettext(POLICY_NAME_TAKEN)}, code="unique")
    _ram_first(
        cloud.port().create_policy,
        account=account,
        name=name,
        document=document,
        description=description,
    )
    try:
        with transaction.atomic():
            policy.save()
            changes = audit.diff({}, audit.snapshot(policy, POLICY_AUDITED_FIELDS))
            audit.record(
                account=account, actor=actor, action="policy.create", obj=policy, changes=changes
            )
    except IntegrityError:
        raise ValidationError({"name": gettext(POLICY_NAME_TAKEN)}, code="unique") from None
    return policy


def ensure_policy_editable(policy: Policy) -> None:
    """rules §2: system policies are read-only. Every policy write below checks it; forms (the
    admin's) call it too, to show the refusal beside the fields before anything is saved."""
    if policy.is_system:
        raise ValidationError(gettext(SYSTEM_POLICY_READ_ONLY), code="system_policy")


def ensure_same_account(*, ram_user: RamUser, policy: Policy) -> None:
    """rules §1: a policy is attached only to a RAM user of its own account."""
    if policy.account_id != ram_user.account_id:
        raise ValidationError(gettext(POLICY_OF_OTHER_ACCOUNT), code="other_account")


@transaction.atomic
def update_policy(
    *,
    policy: Policy,
    document: dict[str, Any],
    description: str | None = None,
    name: str | None = None,
    actor: Any = None,
) -> Policy:
    ensure_policy_editable(policy)
    validate_document(document)
    before = audit.snapshot(policy, POLICY_AUDITED_FIELDS)
    policy.document = document
    update_fields = ["document", "updated_at"]
    if description is not None:
        policy.description = description
        update_fields.append("description")
    if name is not None and name != policy.name:
        policy.name = name
        update_fields.append("name")
        policy.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            policy.save(update_fields=update_fields)
    except IntegrityError:
        raise ValidationError({"name": gettext(POLICY_NAME_TAKEN)}, code="unique") from None
    changes = audit.diff(before, audit.snapshot(policy, POLICY_AUDITED_FIELDS))
    audit.record(
        account=policy.account_id, actor=actor, action="policy.update", obj=policy, changes=changes
    )
    return policy


@transaction.atomic
def delete_policy(*, policy: Policy, actor: Any = None) -> None:
    ensure_policy_editable(policy)
    if policy.attachments.exists():
        raise ValidationError(gettext(POLICY_IN_USE), code="in_use")
    audit.record(account=policy.account_id, actor=actor, action="policy.delete", obj=policy)
    policy.delete()


def attach_policy(*, ram_user: RamUser, policy: Policy, actor: Any = None) -> PolicyAttachment:
    ensure_same_account(ram_user=ram_user, policy=policy)
    if PolicyAttachment.objects.filter(ram_user=ram_user, policy=policy).exists():
        raise ValidationError(gettext(POLICY_ALREADY_ATTACHED), code="attached")
    _ram_first(cloud.port().attach, ram_user=ram_user, policy=policy)
    try:
        with transaction.atomic():
            attachment = PolicyAttachment.objects.create(ram_user=ram_user, policy=policy)
            audit.record(
                account=ram_user.account_id,
                actor=actor,
                action="policy.attach",
                obj=ram_user,
                changes={"Policies": [None, policy.name]},
            )
            return attachment
    except IntegrityError:
        raise ValidationError(gettext(POLICY_ALREADY_ATTACHED), code="attached") from None


def detach_policy(*, ram_user: RamUser, policy: Policy, actor: Any = None) -> None:
    if not PolicyAttachment.objects.filter(ram_user=ram_user, policy=policy).exists():
        raise ValidationError(gettext(POLICY_NOT_ATTACHED), code="not_attached")
    _ram_first(cloud.port().detach, ram_user=ram_user, policy=policy)
    with transaction.atomic():
        deleted, _ = PolicyAttachment.objects.filter(ram_user=ram_user, policy=policy).delete()
        if not deleted:
            raise ValidationError(gettext(POLICY_NOT_ATTACHED), code="not_attached")
        audit.record(
            account=ram_user.account_id,
            actor=actor,
            action="policy.detach",
            obj=ram_user,
            changes={"Policies": [policy.name, None]},
        )


@transaction.atomic
def ensure_platform_superuser(*, username: str, password: str, email: str = "") -> User:
    """A platform operator (no account; Django admin only), created or reset to `password`."""
    user = User.objects.filter(username=username.lower(), account__isnull=True).first()
    if user is None:
        user = User(username=username.lower(), email=email)
    user.is_staff = True
    user.is_superuser = True
    user.is_active = True
    user.set_password(password)
    user.save()
    return user


@transaction.atomic
def attach_policies(
    *, ram_user: RamUser, policies: list[Policy], actor: Any = None
) -> list[PolicyAttachment]:
    """Add Authorization with several policies checked: all of them are attached, or none."""
    return [attach_policy(ram_user=ram_user, policy=policy, actor=actor) for policy in policies]


@transaction.atomic
def set_owner_password(*, account: Account, password: str | None) -> User:
    """Set (or, with None, disable) the account owner's console password."""
    owner = User.objects.select_for_update().get(account=account, ram_user__isnull=True)
    return _save_password(owner, password)
