"""Writes on the ARMS side that carry rules (rules §7): the admin (the ARMS console), the ARMS
pages and the import command call these, and none of them writes ARMS models directly.

The `sae:` rule: deleting or renaming an `sae:` group or policy, or an ARMS contact linked to
an SAE contact, breaks SAE notifications, so it is refused unless the caller passes
`confirm_break=True` (the operator ticked "I understand SAE notifications will break").
Editing the members of an `sae:` group is allowed but reported back so the caller can warn.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

import audit.services as audit
from arms_sync.linking import ARMS_PHONE_TAKEN
from arms_sync.models import MANAGED_PREFIX, ArmsContact, ContactGroup, NotificationPolicy

CONFIRM_BREAK_LABEL = gettext_noop("I understand SAE notifications will break")
BREAKS_LINKED_CONTACT = gettext_noop(
    "This ARMS contact is linked to the SAE contact {username}: deleting or renaming it breaks "
    "SAE notifications. Tick “I understand SAE notifications will break” to go ahead."
)
BREAKS_MANAGED_OBJECT = gettext_noop(
    "{name} is managed by SAE: deleting or renaming it breaks SAE notifications. Tick "
    "“I understand SAE notifications will break” to go ahead."
)
RESERVED_PREFIX = gettext_noop(
    "Names starting with “sae:” are reserved for the objects SAE manages."
)
MEMBERS_OF_MANAGED_GROUP = gettext_noop(
    "You changed the members of {name}, which SAE manages: SAE notifications go to its "
    "members, and SAE keeps every linked ARMS contact in it."
)
OTHER_ACCOUNT = gettext_noop("{what} must belong to the same account.")
NAME_TAKEN = gettext_noop("A {what} with this name already exists in the account.")
# One message for a phone another ARMS contact holds, whichever side refuses it.
PHONE_TAKEN = ARMS_PHONE_TAKEN
EMAIL_TAKEN = gettext_noop("Another ARMS contact of this account already uses this email.")
CONTACT_ID_TAKEN = gettext_noop("Another ARMS contact of this account already has this contact ID.")


class ManagedObjectProtected(ValidationError):
    """A change that would break SAE notifications, refused without confirmation."""


def breaks_sae(obj: ArmsContact | ContactGroup | NotificationPolicy) -> bool:
    """Whether deleting or renaming this object breaks SAE notifications (rules §7)."""
    if isinstance(obj, ArmsContact):
        return obj.sae_contact_id is not None
    return obj.name.startswith(MANAGED_PREFIX)


def protection_message(obj: ArmsContact | ContactGroup | NotificationPolicy) -> str:
    if isinstance(obj, ArmsContact):
        return _(BREAKS_LINKED_CONTACT).format(username=obj.sae_contact.username)
    return _(BREAKS_MANAGED_OBJECT).format(name=obj.name)


def _refuse_unconfirmed(obj, *, confirm_break: bool, field: str | None = None) -> None:
    if breaks_sae(obj) and not confirm_break:
        message = protection_message(obj)
        raise ManagedObjectProtected({field: message} if field else message, code="breaks_sae")


def _record_forced(obj, *, confirm_break: bool, action: str, changes=None) -> None:
    """A confirmed change that breaks what SAE manages is always in the audit log."""
    if confirm_break and breaks_sae(obj):
        audit.record(account=obj.account_id, actor=None, action=action, obj=obj, changes=changes)


def _delete(obj, *, confirm_break: bool) -> None:
    """Delete an ARMS object: refused if that breaks SAE notifications (rules §7) and the
    operator has not confirmed it; recorded in the audit log when confirmed."""
    _refuse_unconfirmed(obj, confirm_break=confirm_break)
    _record_forced(obj, confirm_break=confirm_break, action="arms.forced_delete")
    obj.delete()


def _original(obj):
    return type(obj).objects.filter(pk=obj.pk).first() if obj.pk else None


def _save(obj, *, what: str) -> None:
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError as exc:
        text = str(exc)
        if "phone" in text:
            raise ValidationError({"phone": _(PHONE_TAKEN)}) from None
        if "email" in text:
            raise ValidationError({"email": _(EMAIL_TAKEN)}) from None
        if "contact_id" in text:
            raise ValidationError({"contact_id": _(CONTACT_ID_TAKEN)}) from None
        raise ValidationError({"name": _(NAME_TAKEN).format(what=_(what))}) from None


def check_name_change(original, *, model: type, name: str, confirm_break: bool) -> None:
    """The naming rules of rules §7 (shared by the services and the admin's form): renaming an
    object SAE manages needs confirmation; a new `sae:` name is reserved for SAE."""
    if original is not None and original.name != name:
        _refuse_unconfirmed(original, confirm_break=confirm_break, field="name")
    if model is ArmsContact:
        return
    into_prefix = original is None or not original.name.startswith(MANAGED_PREFIX)
    if name.startswith(MANAGED_PREFIX) and into_prefix:
        raise ValidationError({"name": _(RESERVED_PREFIX)}, code="reserved_prefix")


def _check_name(obj, original, *, confirm_break: bool) -> None:
    check_name_change(original, model=type(obj), name=obj.name, confirm_break=confirm_break)
    if original is not None and original.name != obj.name:
        _record_forced(
            original,
            confirm_break=confirm_break,
            action="arms.forced_rename",
            changes={"name": [original.name, obj.name]},
        )


# --- ARMS contacts -------------------------------------------------------------------------


@transaction.atomic
def save_arms_contact(*, arms_contact: ArmsContact, confirm_break: bool = False) -> ArmsContact:
    """Create or change an ARMS contact from the ARMS console. The link to an SAE contact is
    SAE's to make (creation, merge): this never changes it."""
    original = _original(arms_contact)
    if original is not None:
        arms_contact.sae_contact_id = original.sae_contact_id
        arms_contact.account_id = original.account_id
        if original.sae_contact_id:
            original = ArmsContact.objects.select_related(
                "sae_contact__ram_user", "sae_contact__account"
            ).get(pk=original.pk)
    else:
        arms_contact.sae_contact = None
    _check_name(arms_contact, original, confirm_break=confirm_break)
    _save(arms_contact, what=gettext_noop("contact"))
    return arms_contact


@transaction.atomic
def rename_arms_contact(
    *, arms_contact: ArmsContact, name: str, confirm_break: bool = False
) -> ArmsContact:
    arms_contact.name = name.strip()
    return save_arms_contact(arms_contact=arms_contact, confirm_break=confirm_break)


@transaction.atomic
def delete_arms_contact(*, arms_contact: ArmsContact, confirm_break: bool = False) -> None:
    """Delete an ARMS contact; a linked SAE contact stays and shows as "Not linked" (rules §5)."""
    with transaction.atomic():
        # Decide on the row as it is now, locked: a contact linked since the caller read it
        # must not be deleted without the confirmation.
        current = ArmsContact.objects.select_for_update().filter(pk=arms_contact.pk).first()
        if current is None:
            return  # already gone: nothing to do
        _delete(current, confirm_break=confirm_break)


# --- contact groups ------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupSaved:
    group: ContactGroup
    managed_members_changed: bool

    @property
    def warning(self) -> str:
        if not self.managed_members_changed:
            return ""
        return _(MEMBERS_OF_MANAGED_GROUP).format(name=self.group.name)


def _same_account(items: Iterable, account_id: int, *, what: str, field: str) -> list:
    items = list(items)
    if any(item.account_id != account_id for item in items):
        raise ValidationError({field: _(OTHER_ACCOUNT).format(what=_(what))}, code="other_account")
    return items


@transaction.atomic
def save_group(
    *,
    group: ContactGroup,
    members: Iterable[ArmsContact] | None = None,
    confirm_break: bool = False,
) -> GroupSaved:
    """Create or change a contact group; `members` (when given) replaces its members."""
    original = _original(group)
    if original is not None:
        group.account_id = original.account_id
    _check_name(group, original, confirm_break=confirm_break)
    _save(group, what=gettext_noop("contact group"))
    changed = False
    if members is not None:
        members = _same_account(
            members, group.account_id, what=gettext_noop("Members"), field="members"
        )
        before = set(group.members.values_list("pk", flat=True))
        after = {m.pk for m in members}
        group.members.set(members)
        changed = before != after
    return GroupSaved(group=group, managed_members_changed=changed and group.is_managed)


@transaction.atomic
def rename_group(*, group: ContactGroup, name: str, confirm_break: bool = False) -> ContactGroup:
    group.name = name.strip()
    return save_group(group=group, confirm_break=confirm_break).group


@transaction.atomic
def delete_group(*, group: ContactGroup, confirm_break: bool = False) -> None:
    _delete(group, confirm_break=confirm_break)


# --- notification policies -----------------------------------------------------------------


@transaction.atomic
def save_policy(
    *,
    policy: NotificationPolicy,
    groups: Iterable[ContactGroup] | None = None,
    confirm_break: bool = False,
) -> NotificationPolicy:
    original = _original(policy)
    if original is not None:
        policy.account_id = original.account_id
    _check_name(policy, original, confirm_break=confirm_break)
    _save(policy, what=gettext_noop("notification policy"))
    if groups is not None:
        policy.groups.set(
            _same_account(groups, policy.account_id, what=gettext_noop("Groups"), field="groups")
        )
    return policy


@transaction.atomic
def rename_policy(
    *, policy: NotificationPolicy, name: str, confirm_break: bool = False
) -> NotificationPolicy:
    policy.name = name.strip()
    return save_policy(policy=policy, confirm_break=confirm_break)


@transaction.atomic
def delete_policy(*, policy: NotificationPolicy, confirm_break: bool = False) -> None:
    _delete(policy, confirm_break=confirm_break)


def delete_objects(objs: Iterable, *, confirm_break: bool = False) -> int:
    """Bulk delete (the admin's action): all of them or, if one is refused, none."""
    deleters = {
        ArmsContact: lambda o: delete_arms_contact(arms_contact=o, confirm_break=confirm_break),
        ContactGroup: lambda o: delete_group(group=o, confirm_break=confirm_break),
        NotificationPolicy: lambda o: delete_policy(policy=o, confirm_break=confirm_break),
    }
    count = 0
    with transaction.atomic():
        for obj in objs:
            deleters[type(obj)](obj)
            count += 1
    return count


# --- import (the import_arms_contacts command) ---------------------------------------------

LINKED_KEPT = "linked to the SAE contact {username}: SAE's values kept"


@dataclass(frozen=True)
class ArmsContactRecord:
    """One ARMS contact of an import file, already parsed (phone in E.164 or "")."""

    name: str
    contact_id: int | None = None
    phone: str = ""
    email: str = ""
    ding_robot_url: str = ""
    wecom_robot_url: str = ""


@dataclass
class ArmsImportReport:
    created: list[str]
    updated: list[str]
    unchanged: list[str]
    kept: list[str]  # linked to an SAE contact: SAE owns their fields (rules §5)


class ArmsImportError(Exception):
    """Entry `index` of the file is refused (field: the file's key); nothing was imported."""

    def __init__(self, index: int, field: str, message: str):
        super().__init__(message)
        self.index, self.field, self.message = index, field, message


_IMPORTED_FIELDS = ("name", "phone", "email", "ding_robot_url", "wecom_robot_url")


def import_arms_contacts(*, account, records: list[ArmsContactRecord]) -> ArmsImportReport:
    """Upsert ARMS contacts by contact ID, then by phone, all or nothing. Importing does not
    link (SAE links on contact creation and by Merge Contacts); an ARMS contact already linked
    to an SAE contact keeps SAE's values. Importing the same file again changes nothing."""
    from ram_directory.models import Account

    seen: dict[tuple[str, object], int] = {}
    for index, record in enumerate(records):
        for key, value in (("ContactId", record.contact_id), ("Phone", record.phone)):
            if value:
                if (key, value) in seen:
                    raise ArmsImportError(
                        index, key, f"the same as entry {seen[(key, value)]} of the file"
                    )
                seen[(key, value)] = index
        if record.email:
            if ("Email", record.email.lower()) in seen:
                other = seen[("Email", record.email.lower())]
                raise ArmsImportError(index, "Email", f"the same as entry {other} of the file")
            seen[("Email", record.email.lower())] = index

    report = ArmsImportReport(created=[], updated=[], unchanged=[], kept=[])
    with transaction.atomic():
        Account.objects.select_for_update().get(pk=account.pk)
        existing = list(
            ArmsContact.objects.for_account(account).select_related(
                "sae_contact__ram_user", "sae_contact__account"
            )
        )
        by_id = {a.contact_id: a for a in existing}
        by_phone = {a.phone.as_e164: a for a in existing if a.phone}
        by_email = {a.email.lower(): a for a in existing if a.email}
        plan: list[tuple[ArmsContactRecord, ArmsContact | None]] = []
        for index, record in enumerate(records):
            match = by_id.get(record.contact_id) if record.contact_id else None
            match = match or (by_phone.get(record.phone) if record.phone else None)
            holders = (
                ("Phone", by_phone.get(record.phone) if record.phone else None),
                ("Email", by_email.get(record.email.lower()) if record.email else None),
                ("ContactId", by_id.get(record.contact_id) if record.contact_id else None),
            )
            if match is None or match.sae_contact_id is None:
                for key, holder in holders:
                    if holder is not None and holder is not match:
                        raise ArmsImportError(
                            index, key, f"already belongs to the ARMS contact {holder.name}"
                        )
            plan.append((record, match))
        for record, match in plan:
            if match is not None and match.sae_contact_id is not None:
                report.kept.append(
                    f"{record.name} ({LINKED_KEPT.format(username=match.sae_contact.username)})"
                )
                continue
            arms = match or ArmsContact(account=account)
            if record.contact_id:
                arms.contact_id = record.contact_id
            before = {f: str(getattr(arms, f) or "") for f in _IMPORTED_FIELDS}
            before["contact_id"] = str(arms.contact_id)
            for name in _IMPORTED_FIELDS:
                setattr(arms, name, getattr(record, name))
            after = {f: str(getattr(arms, f) or "") for f in _IMPORTED_FIELDS}
            after["contact_id"] = str(arms.contact_id)
            if match is not None and before == after:
                report.unchanged.append(record.name)
                continue
            _save(arms, what=gettext_noop("contact"))
            (report.updated if match is not None else report.created).append(record.name)
    return report
