"""Planning a merge (rules §6): who may merge, and the pure-read simulation behind the preview.

The subjects are walked in order and each step is simulated against an in-memory picture of
the account (contacts, ARMS contacts by phone and by mailbox, the contact count), so a later
row sees what an earlier row would do.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from arms_sync import cloud
from arms_sync.merge.rows import (
    ARMS_CREATED,
    ARMS_LINKED_ELSEWHERE,
    BAD_RAM_EMAIL,
    CONTACT_LIMIT_REACHED,
    CREATED,
    LINKED,
    MAILBOX_HELD_BY_ARMS,
    NO_MAINLAND_MOBILE,
    NOT_ALLOWED,
    PHONE_HELD_BY_CONTACT,
    RELINKED,
    RENAMED,
    SKIP_ARMS_LINKED,
    SKIP_BAD_MAILBOX,
    SKIP_LIMIT,
    SKIP_MAILBOX_TAKEN,
    SKIP_NO_MOBILE,
    SKIP_PHONE_TAKEN,
    SKIPPED,
    SUBJECT_ACCOUNT,
    SUBJECT_RAM_USER,
    UNCHANGED,
    MergePlan,
    MergeRow,
)
from arms_sync.models import ArmsContact
from contacts.models import Contact
from contacts.selectors import can_merge
from contacts.validators import normalize_mainland_mobile, validate_mailbox
from ram_directory.models import Account, RamUser
from ram_directory.principal import Principal

# Skips a later row may lift (by unlinking an ARMS contact or freeing a mailbox): the plan
# tries them again after the rows that follow, so one merge reaches what a second would.
_RETRYABLE = {SKIP_ARMS_LINKED, SKIP_MAILBOX_TAKEN}
# --- permission ----------------------------------------------------------------------------


def may_merge(principal: Principal) -> bool:
    """rules §3: the owner, or a RAM user allowed ram:ListUsers (the rule lives in contacts)."""
    return can_merge(principal)


def ensure_may_merge(principal: Principal) -> None:
    if not may_merge(principal):
        raise PermissionDenied(_(NOT_ALLOWED))


# --- planning ------------------------------------------------------------------------------


@dataclass
class _Arms:
    """An ARMS contact as the simulation sees it (pk None: created by an earlier row)."""

    pk: int | None
    name: str
    phone: str
    email: str
    sae_contact_pk: int | None  # -1: linked to a contact created by an earlier row
    sae_username: str = ""


@dataclass
class _World:
    """The account as it would be after the rows simulated so far."""

    contact_count: int
    contacts_by_phone: dict[str, str] = field(default_factory=dict)  # E.164 -> username
    arms_by_phone: dict[str, _Arms] = field(default_factory=dict)
    arms_by_email: dict[str, _Arms] = field(default_factory=dict)  # lower-cased
    arms_by_contact: dict[int, _Arms] = field(default_factory=dict)

    def add_arms(self, arms: _Arms) -> None:
        if arms.phone:
            self.arms_by_phone[arms.phone] = arms
        if arms.email:
            self.arms_by_email[arms.email.lower()] = arms

    def set_email(self, arms: _Arms, email: str) -> None:
        if arms.email and self.arms_by_email.get(arms.email.lower()) is arms:
            del self.arms_by_email[arms.email.lower()]
        arms.email = email
        if email:
            self.arms_by_email[email.lower()] = arms


def _e164(number) -> str:
    return number.as_e164 if hasattr(number, "as_e164") else str(number)


def _mainland(value) -> str | None:
    if not value:
        return None
    try:
        return normalize_mainland_mobile(value).as_e164
    except ValidationError:
        return None


def _valid_mailbox(value: str) -> str:
    return validate_mailbox(value)


@dataclass(frozen=True)
class Snapshot:
    """What a merge reads, in three queries: the account's contacts (with their RAM users),
    its ARMS contacts (their robots left unread: no plan needs them) and its RAM users."""

    account: Account
    contacts: list[Contact]
    arms: list[ArmsContact]
    users: list[RamUser]


# Encrypted columns of an ARMS contact: a plan never reads them, so they are not decrypted.
ARMS_SECRETS = ("ding_robot_url", "ding_robot_secret", "wecom_robot_url")


def read_account(account: Account, *, lock: bool = False) -> Snapshot:
    """The account as a merge sees it. `lock` (Confirm, inside its transaction): the ARMS
    contacts are read FOR UPDATE, first, so an edit that propagates to one of them waits for
    the merge (or the merge for it, and then reads what it committed)."""
    arms = ArmsContact.objects.for_account(account).defer(*ARMS_SECRETS).order_by("pk")
    if lock:
        arms = arms.select_for_update()
    arms = list(arms)
    contacts = list(
        Contact.objects.for_account(account).select_related("ram_user", "account").order_by("pk")
    )
    users = sorted(
        # A RAM user gone from the real RAM (a cloud sync marked it) is not merged.
        RamUser.objects.for_account(account).filter(deleted_in_ram_at__isnull=True),
        key=lambda u: (u.user_name.casefold(), u.user_name),
    )
    return Snapshot(account=account, contacts=contacts, arms=arms, users=users)


def _subjects(snapshot: Snapshot) -> list[tuple[RamUser | None, Contact | None]]:
    contacts = {c.ram_user_id: c for c in snapshot.contacts}
    return [(None, contacts.get(None))] + [(u, contacts.get(u.pk)) for u in snapshot.users]


def _load_world(snapshot: Snapshot) -> _World:
    world = _World(contact_count=len(snapshot.contacts))
    usernames = {}
    for contact in snapshot.contacts:
        world.contacts_by_phone[_e164(contact.phone)] = contact.username
        usernames[contact.pk] = contact.username
    for arms in snapshot.arms:
        entry = _Arms(
            pk=arms.pk,
            name=arms.name,
            phone=_e164(arms.phone) if arms.phone else "",
            email=arms.email,
            sae_contact_pk=arms.sae_contact_id,
            sae_username=usernames.get(arms.sae_contact_id, "") if arms.sae_contact_id else "",
        )
        world.add_arms(entry)
        if arms.sae_contact_id:
            world.arms_by_contact[arms.sae_contact_id] = entry
    return world


def _mailbox_conflict(world: _World, mailbox: str, *, allowed: tuple[_Arms | None, ...]):
    """The ARMS contact (other than `allowed`) holding this mailbox, if any."""
    if not mailbox:
        return None
    holder = world.arms_by_email.get(mailbox.lower())
    return None if holder is None or any(holder is a for a in allowed) else holder


def _skip(base: dict, reason: str, code: str, **extra) -> MergeRow:
    return MergeRow(action=SKIPPED, reason=reason, reason_code=code, **{**base, **extra})


def _plan_row(
    world: _World, ram_user: RamUser | None, contact: Contact | None, account: Account
) -> MergeRow:
    username = ram_user.user_name if ram_user else account.login_name
    base = {
        "username": username,
        "subject": SUBJECT_RAM_USER if ram_user else SUBJECT_ACCOUNT,
        "ram_user_pk": ram_user.pk if ram_user else None,
        "contact_pk": contact.pk if contact else None,
    }
    raw_phone = contact.phone if contact else (ram_user.mobile_phone if ram_user else "")
    phone = _mainland(raw_phone)
    if phone is None:
        shown = _e164(raw_phone) if contact else (raw_phone or "")
        return _skip(base, _(NO_MAINLAND_MOBILE), SKIP_NO_MOBILE, phone=shown)
    base["phone"] = phone
    target = world.arms_by_phone.get(phone)

    if contact is None:
        # A new contact with P and the RAM profile's email; rules §5 links it on creation.
        limit = settings.SAE_MAX_CONTACTS
        if world.contact_count >= limit:
            return _skip(base, _(CONTACT_LIMIT_REACHED).format(limit=limit), SKIP_LIMIT)
        if phone in world.contacts_by_phone:
            reason = _(PHONE_HELD_BY_CONTACT).format(username=world.contacts_by_phone[phone])
            return _skip(base, reason, SKIP_PHONE_TAKEN)
        if target is not None and target.sae_contact_pk is not None:
            reason = _(ARMS_LINKED_ELSEWHERE).format(name=target.name, username=target.sae_username)
            return _skip(base, reason, SKIP_ARMS_LINKED)
        try:
            mailbox = _valid_mailbox(ram_user.email if ram_user else "")
        except ValidationError:
            return _skip(base, _(BAD_RAM_EMAIL).format(email=ram_user.email), SKIP_BAD_MAILBOX)
        holder = _mailbox_conflict(world, mailbox, allowed=(target,))
        if holder is not None:
            reason = _(MAILBOX_HELD_BY_ARMS).format(mailbox=mailbox, name=holder.name)
            return _skip(base, reason, SKIP_MAILBOX_TAKEN)
        world.contact_count += 1
        world.contacts_by_phone[phone] = username
        row = MergeRow(
            action=CREATED,
            arms_name_before=target.name if target else "",
            arms_name_after=username,
            arms_pk=target.pk if target else None,
            mailbox=mailbox,
            **base,
        )
        if target is None:
            target = _Arms(pk=None, name=username, phone=phone, email="", sae_contact_pk=-1)
            world.add_arms(target)
        target.name, target.sae_contact_pk, target.sae_username = username, -1, username
        world.set_email(target, mailbox)
        return row

    current = world.arms_by_contact.get(contact.pk)
    if target is not None and current is target:
        # Already linked to the ARMS contact with its phone: only the name may need setting.
        if target.name == username:
            return MergeRow(
                action=UNCHANGED,
                arms_name_before=target.name,
                arms_name_after=username,
                arms_pk=target.pk,
                **base,
            )
        row = MergeRow(
            action=RENAMED,
            arms_name_before=target.name,
            arms_name_after=username,
            arms_pk=target.pk,
            **base,
        )
        target.name = username
        return row
    if target is not None and target.sae_contact_pk is not None:
        reason = _(ARMS_LINKED_ELSEWHERE).format(name=target.name, username=target.sae_username)
        return _skip(base, reason, SKIP_ARMS_LINKED)
    # The previous ARMS contact gives up the mailbox it copied from this contact, so the one
    # now linked can take it (a mailbox belongs to one ARMS contact of the account).
    holder = _mailbox_conflict(world, contact.mailbox, allowed=(target, current))
    if holder is not None:
        reason = _(MAILBOX_HELD_BY_ARMS).format(mailbox=contact.mailbox, name=holder.name)
        return _skip(base, reason, SKIP_MAILBOX_TAKEN)
    if current is not None:
        action = RELINKED if target is not None else ARMS_CREATED
    else:
        action = LINKED if target is not None else ARMS_CREATED
    row = MergeRow(
        action=action,
        arms_name_before=target.name if target else "",
        arms_name_after=username,
        arms_pk=target.pk if target else None,
        previous_arms_name=current.name if current else "",
        previous_arms_pk=current.pk if current else None,
        **base,
    )
    if current is not None:
        current.sae_contact_pk, current.sae_username = None, ""
        if current.email and contact.mailbox and current.email.lower() == contact.mailbox.lower():
            world.set_email(current, "")
        del world.arms_by_contact[contact.pk]
    if target is None:
        target = _Arms(pk=None, name=username, phone=phone, email="", sae_contact_pk=None)
        world.add_arms(target)
    target.name, target.sae_contact_pk, target.sae_username = username, contact.pk, username
    world.set_email(target, contact.mailbox)
    world.arms_by_contact[contact.pk] = target
    return row


def compute_plan(account: Account) -> MergePlan:
    return plan_snapshot(read_account(account))


def plan_snapshot(snapshot: Snapshot) -> MergePlan:
    """Simulate the subjects in order; then retry the skips a later row may have lifted,
    pass after pass, until a pass changes nothing (so a second merge has nothing to do)."""
    account = snapshot.account
    world = _load_world(snapshot)
    subjects = _subjects(snapshot)
    rows: list[MergeRow] = [None] * len(subjects)  # type: ignore[list-item]
    pending = list(range(len(subjects)))
    step = 0
    while pending:
        retry, progressed = [], False
        for index in pending:
            row = _plan_row(world, *subjects[index], account)
            if row.changes_something:
                row = replace(row, step=step)
                step += 1
                progressed = True
            elif row.action == SKIPPED and row.reason_code in _RETRYABLE:
                retry.append(index)
            rows[index] = row
        pending = retry if progressed else []
    return MergePlan(rows=tuple(rows))


def plan_merge(*, principal: Principal) -> MergePlan:
    """The preview: what Confirm would do, row by row. Reads only (a connected account's
    working copy is first brought up to date with every ARMS contact, arms_sync.cloud)."""
    ensure_may_merge(principal)
    cloud.port().prepare_merge(principal.account.pk)
    return compute_plan(principal.account)
