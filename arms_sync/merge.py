"""Merge Contacts (SPEC 6): link every RAM user, and the account itself, to its ARMS contact.

`plan_merge` is a pure read: it walks the subjects in order and simulates each step against
an in-memory picture of the account (contacts, ARMS contacts by phone and by mailbox, the
contact count), so a later row sees what an earlier row would do. `apply_merge` recomputes
that plan inside one transaction, holding the account row locked, and carries out exactly its
rows; the report it returns *is* that plan, so the counts shown after Confirm are the preview's.

Order: the account itself first (the main account outranks its sub-accounts when two subjects
compete for one phone number), then the RAM users by user name, case-insensitively, ties
broken by the exact name, so SQLite and PostgreSQL (whose collations differ) give one order.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from arms_sync import linking
from arms_sync.managed import ensure_managed
from arms_sync.models import ArmsContact
from contacts.models import Contact
from contacts.selectors import can_merge
from contacts.services import create_contact
from contacts.validators import normalize_mainland_mobile, validate_mailbox
from ram_directory.models import Account, RamUser
from ram_directory.principal import Principal

# Row actions, in the order the preview's summary lists them.
LINKED = "linked"  # an existing contact linked to an existing, free ARMS contact
CREATED = "created"  # an SAE contact created (and linked, SPEC 5)
ARMS_CREATED = "arms_created"  # a new ARMS contact created for an existing contact
RELINKED = "relinked"  # the contact moved from one ARMS contact to the one with its phone
RENAMED = "renamed"  # already linked; the ARMS contact's name set to the user name
UNCHANGED = "unchanged"
SKIPPED = "skipped"
ACTIONS = (LINKED, CREATED, ARMS_CREATED, RELINKED, RENAMED, UNCHANGED, SKIPPED)
ACTION_LABELS = {
    LINKED: "Linked",
    CREATED: "Contact created",
    ARMS_CREATED: "ARMS contact created",
    RELINKED: "Re-linked",
    RENAMED: "Renamed",
    UNCHANGED: "Unchanged",
    SKIPPED: "Skipped",
}

# Skip reasons (tests reuse these).
NO_MAINLAND_MOBILE = "no mainland mobile phone"
CONTACT_LIMIT_REACHED = "the account already has {limit} contacts (the limit)"
PHONE_HELD_BY_CONTACT = "the phone number belongs to another contact ({username})"
ARMS_LINKED_ELSEWHERE = "ARMS contact {name} is linked to another contact ({username})"
MAILBOX_HELD_BY_ARMS = "the mailbox {mailbox} belongs to another ARMS contact ({name})"
BAD_RAM_EMAIL = "the RAM profile's email {email} is not a valid mailbox"

SKIP_NO_MOBILE = "no_mainland_mobile"
SKIP_LIMIT = "limit_reached"
SKIP_PHONE_TAKEN = "phone_taken"
SKIP_ARMS_LINKED = "arms_linked_elsewhere"
SKIP_MAILBOX_TAKEN = "mailbox_taken"
SKIP_BAD_MAILBOX = "bad_ram_email"
# Skips a later row may lift (by unlinking an ARMS contact or freeing a mailbox): the plan
# tries them again after the rows that follow, so one merge reaches what a second would.
_RETRYABLE = {SKIP_ARMS_LINKED, SKIP_MAILBOX_TAKEN}

NOT_ALLOWED = "Merge Contacts needs the RAM permission ram:ListUsers."
PLAN_CHANGED = (
    "The contacts changed since the preview was shown. Review the new preview and confirm again."
)

SUBJECT_ACCOUNT = "Alibaba Cloud account"
SUBJECT_RAM_USER = "RAM user"


class PlanChanged(Exception):
    """Confirm was pressed on a preview that no longer matches the account's data."""


class MergeFailed(Exception):
    """A planned step was refused while applying (nothing was saved)."""


@dataclass(frozen=True)
class MergeRow:
    username: str
    subject: str  # SUBJECT_ACCOUNT or SUBJECT_RAM_USER
    phone: str  # E.164 when valid, otherwise what the RAM profile holds
    action: str
    reason: str = ""
    arms_name_before: str = ""  # the ARMS contact's name before the merge ("" for a new one)
    arms_name_after: str = ""
    previous_arms_name: str = ""  # for RELINKED: the ARMS contact left unlinked
    reason_code: str = ""  # for SKIPPED: one of the SKIP_* codes
    step: int = -1  # the order apply carries the changes out in (-1: nothing to do)
    # What apply needs to carry the row out (primary keys, never shown).
    ram_user_pk: int | None = None
    contact_pk: int | None = None
    arms_pk: int | None = None
    previous_arms_pk: int | None = None
    mailbox: str = ""

    @property
    def action_label(self) -> str:
        return ACTION_LABELS[self.action]

    @property
    def changes_something(self) -> bool:
        return self.action not in (UNCHANGED, SKIPPED)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("ram_user_pk", "contact_pk", "arms_pk", "previous_arms_pk", "mailbox", "step"):
            data.pop(key)
        return data


@dataclass(frozen=True)
class MergePlan:
    rows: tuple[MergeRow, ...]

    @property
    def counts(self) -> dict[str, int]:
        counter = Counter(row.action for row in self.rows)
        return {action: counter.get(action, 0) for action in ACTIONS}

    @property
    def changes(self) -> int:
        return sum(1 for row in self.rows if row.changes_something)

    @property
    def changed_rows(self) -> tuple[MergeRow, ...]:
        return tuple(row for row in self.rows if row.changes_something)

    @property
    def digest(self) -> str:
        """A fingerprint of the preview: Confirm applies only the plan it was shown."""
        text = json.dumps([asdict(row) for row in self.rows], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()

    def summary(self) -> str:
        parts = [
            f"{ACTION_LABELS[action].lower()}: {count}"
            for action, count in self.counts.items()
            if count
        ]
        return ", ".join(parts) if parts else "nothing to merge"

    def as_dict(self) -> dict[str, Any]:
        return {
            "counts": self.counts,
            "rows": [row.as_dict() for row in self.rows],
            "digest": self.digest,
        }


@dataclass(frozen=True)
class MergeReport(MergePlan):
    """What Confirm did: the rows and counts of the plan it applied."""


# --- permission ----------------------------------------------------------------------------


def may_merge(principal: Principal) -> bool:
    """SPEC 3: the owner, or a RAM user allowed ram:ListUsers (the rule lives in contacts)."""
    return can_merge(principal)


def ensure_may_merge(principal: Principal) -> None:
    if not may_merge(principal):
        raise PermissionDenied(NOT_ALLOWED)


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


def _subjects(account: Account) -> list[tuple[RamUser | None, Contact | None]]:
    contacts = {
        c.ram_user_id: c
        for c in Contact.objects.for_account(account).select_related("ram_user", "account")
    }
    users = sorted(
        RamUser.objects.for_account(account).select_related("account"),
        key=lambda u: (u.user_name.casefold(), u.user_name),
    )
    return [(None, contacts.get(None))] + [(u, contacts.get(u.pk)) for u in users]


def _load_world(account: Account) -> _World:
    world = _World(contact_count=Contact.objects.for_account(account).count())
    for contact in Contact.objects.for_account(account).select_related("ram_user", "account"):
        world.contacts_by_phone[_e164(contact.phone)] = contact.username
    for arms in ArmsContact.objects.for_account(account).select_related(
        "sae_contact__ram_user", "sae_contact__account"
    ):
        entry = _Arms(
            pk=arms.pk,
            name=arms.name,
            phone=_e164(arms.phone) if arms.phone else "",
            email=arms.email,
            sae_contact_pk=arms.sae_contact_id,
            sae_username=arms.sae_contact.username if arms.sae_contact_id else "",
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
        return _skip(base, NO_MAINLAND_MOBILE, SKIP_NO_MOBILE, phone=shown)
    base["phone"] = phone
    target = world.arms_by_phone.get(phone)

    if contact is None:
        # A new contact with P and the RAM profile's email; SPEC 5 links it on creation.
        limit = settings.SAE_MAX_CONTACTS
        if world.contact_count >= limit:
            return _skip(base, CONTACT_LIMIT_REACHED.format(limit=limit), SKIP_LIMIT)
        if phone in world.contacts_by_phone:
            reason = PHONE_HELD_BY_CONTACT.format(username=world.contacts_by_phone[phone])
            return _skip(base, reason, SKIP_PHONE_TAKEN)
        if target is not None and target.sae_contact_pk is not None:
            reason = ARMS_LINKED_ELSEWHERE.format(name=target.name, username=target.sae_username)
            return _skip(base, reason, SKIP_ARMS_LINKED)
        try:
            mailbox = _valid_mailbox(ram_user.email if ram_user else "")
        except ValidationError:
            return _skip(base, BAD_RAM_EMAIL.format(email=ram_user.email), SKIP_BAD_MAILBOX)
        holder = _mailbox_conflict(world, mailbox, allowed=(target,))
        if holder is not None:
            reason = MAILBOX_HELD_BY_ARMS.format(mailbox=mailbox, name=holder.name)
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
        reason = ARMS_LINKED_ELSEWHERE.format(name=target.name, username=target.sae_username)
        return _skip(base, reason, SKIP_ARMS_LINKED)
    # The previous ARMS contact gives up the mailbox it copied from this contact, so the one
    # now linked can take it (a mailbox belongs to one ARMS contact of the account).
    holder = _mailbox_conflict(world, contact.mailbox, allowed=(target, current))
    if holder is not None:
        reason = MAILBOX_HELD_BY_ARMS.format(mailbox=contact.mailbox, name=holder.name)
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


def _compute_plan(account: Account) -> MergePlan:
    """Simulate the subjects in order; then retry the skips a later row may have lifted,
    pass after pass, until a pass changes nothing (so a second merge has nothing to do)."""
    world = _load_world(account)
    subjects = _subjects(account)
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
    """The preview: what Confirm would do, row by row. Reads only."""
    ensure_may_merge(principal)
    return _compute_plan(principal.account)


# --- applying ------------------------------------------------------------------------------


def _release(previous: ArmsContact, contact: Contact) -> None:
    """Unlink the contact's previous ARMS contact: it stays on the ARMS side, gives the
    mailbox back to the contact and leaves `sae:contacts` (it no longer stands for SAE)."""
    previous.sae_contact = None
    if previous.email and previous.email.lower() == (contact.mailbox or "").lower():
        previous.email = ""
    previous.save(update_fields=["sae_contact", "email", "updated_at"])
    ensure_managed(contact.account).contacts_group.members.remove(previous)


def _apply_row(row: MergeRow, principal: Principal) -> None:
    account = principal.account
    if row.action == CREATED:
        ram_user = RamUser.objects.get(pk=row.ram_user_pk, account=account)
        create_contact(principal=principal, ram_user=ram_user, phone=row.phone, mailbox=row.mailbox)
        return
    contact = Contact.objects.select_related("ram_user", "account").get(
        pk=row.contact_pk, account=account
    )
    if row.action == RENAMED:
        arms = ArmsContact.objects.get(pk=row.arms_pk, account=account)
        arms.name = row.arms_name_after
        arms.save(update_fields=["name", "updated_at"])
        return
    if row.previous_arms_pk is not None:
        _release(ArmsContact.objects.get(pk=row.previous_arms_pk, account=account), contact)
    if row.arms_pk is not None:
        arms = ArmsContact.objects.get(pk=row.arms_pk, account=account)
    else:
        arms = ArmsContact(account=account)
    linking.link(contact, arms)


def apply_merge(*, principal: Principal, expected_digest: str | None = None) -> MergeReport:
    """Confirm: recompute the plan with the account locked and carry out exactly its rows,
    all in one transaction. With `expected_digest` (the preview's), a plan that changed since
    the preview raises PlanChanged and nothing is done."""
    ensure_may_merge(principal)
    with transaction.atomic():
        # Contact creation and other merges wait here, so the plan stays true while applied.
        Account.objects.select_for_update().get(pk=principal.account.pk)
        plan = _compute_plan(principal.account)
        if expected_digest is not None and plan.digest != expected_digest:
            raise PlanChanged(PLAN_CHANGED)
        for row in sorted(plan.changed_rows, key=lambda r: r.step):
            try:
                _apply_row(row, principal)
            except ValidationError as exc:
                # The plan foresaw every rule; reaching here means a rule it does not model.
                raise MergeFailed(f"{row.username}: {'; '.join(exc.messages)}") from exc
    return MergeReport(rows=plan.rows)
