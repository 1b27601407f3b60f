"""Applying a merge (rules §6): Confirm recomputes the plan inside one transaction, holding
the account row locked, and carries out exactly its rows; the report it returns *is* that
plan, so the counts shown after Confirm are the preview's.

In bulk: the plan's three reads are all it reads; its rows are carried out, in their steps'
order, on those objects in memory, exactly as the per-contact path would (contacts.services'
create_contact and arms_sync.linking's link, release, group membership); then everything is
written in a fixed handful of statements whatever the number of rows: the new contacts, the
changed ARMS contacts (one UPDATE per set of changed columns), the new ARMS contacts, and the
`sae:contacts` / `sae:approvers` memberships. `bulk_create` and `bulk_update` send no signals
(docs/architecture.md), so the ARMS side is written here explicitly: what the post_save receivers do
for one contact is done for all of them.
"""

from __future__ import annotations

from collections import defaultdict

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

import audit.services as audit
from arms_sync import cloud
from arms_sync.linking import copied_fields, copy_contact_fields, join_groups, managed_groups
from arms_sync.managed import ensure_managed
from arms_sync.merge.planning import Snapshot, ensure_may_merge, plan_snapshot, read_account
from arms_sync.merge.rows import (
    ACTION_LABELS,
    CREATED,
    PLAN_CHANGED,
    RENAMED,
    MergeFailed,
    MergeReport,
    MergeRow,
    PlanChanged,
)
from arms_sync.models import ArmsContact, ContactGroup
from contacts.models import Contact
from ram_directory.models import Account
from ram_directory.principal import Principal

# Columns under a unique constraint that a merge moves from one ARMS contact to another.
_UNIQUE_FIELDS = ("email", "sae_contact")
_EMPTY = {"email": "", "sae_contact": None}


class _Merge:
    """The rows of a plan carried out on the snapshot's objects, then written in bulk."""

    def __init__(self, snapshot: Snapshot, principal: Principal):
        self.account = snapshot.account
        self.principal = principal
        self.contacts = {c.pk: c for c in snapshot.contacts}
        self.users = {u.pk: u for u in snapshot.users}
        self.arms = {a.pk: a for a in snapshot.arms}
        self.before = {a.pk: {f: _value(a, f) for f in _UNIQUE_FIELDS} for a in snapshot.arms}
        self.new_contacts: list[Contact] = []
        self.new_arms: list[ArmsContact] = []
        self.changed: dict[int, set[str]] = defaultdict(set)  # ARMS pk -> columns
        # ARMS contact -> the contact it is linked to at the end (it joins that one's `sae:`
        # groups), or None: released, it leaves `sae:contacts`. The last step decides.
        self.members: dict[int, tuple[ArmsContact, Contact | None]] = {}

    # --- the rows, in memory ---------------------------------------------------------------
    def carry_out(self, row: MergeRow) -> None:
        if row.action == CREATED:
            # contacts.services.create_contact, whose post_save links (linking.link_new_contact)
            contact = Contact(
                account=self.account,
                ram_user=self.users[row.ram_user_pk],
                phone=row.phone,
                mailbox=row.mailbox,
                created_by=self.principal.ram_user,
            )
            self.new_contacts.append(contact)
            self._link(contact, self._target(row))
            return
        if row.action == RENAMED:
            arms = self.arms[row.arms_pk]
            arms.name = row.arms_name_after
            self.changed[arms.pk].add("name")
            return
        contact = self.contacts[row.contact_pk]
        if row.previous_arms_pk is not None:
            self._release(self.arms[row.previous_arms_pk], contact)
        arms = self._target(row)
        # As a re-link always did: any other link the contact had is dropped first.
        for other in self.arms.values():
            if other.sae_contact_id == contact.pk and other is not arms:
                other.sae_contact = None
                self.changed[other.pk].add("sae_contact")
        self._link(contact, arms)

    def _target(self, row: MergeRow) -> ArmsContact:
        if row.arms_pk is not None:
            return self.arms[row.arms_pk]
        arms = ArmsContact(account=self.account)
        self.new_arms.append(arms)
        return arms

    def _link(self, contact: Contact, arms: ArmsContact) -> None:
        copy_contact_fields(arms, contact)
        arms.sae_contact = contact
        if arms.pk is not None:
            # What linking copies onto an ARMS contact, plus the link itself.
            self.changed[arms.pk].update((*copied_fields(), "sae_contact"))
        self.members[id(arms)] = (arms, contact)

    def _release(self, previous: ArmsContact, contact: Contact) -> None:
        """The contact's previous ARMS contact stays on the ARMS side, gives the mailbox back
        to the contact and leaves `sae:contacts` (it no longer stands for SAE)."""
        previous.sae_contact = None
        if previous.email and previous.email.lower() == (contact.mailbox or "").lower():
            previous.email = ""
        self.changed[previous.pk].update(("sae_contact", "email"))
        self.members[id(previous)] = (previous, None)

    # --- the writes ------------------------------------------------------------------------
    def write(self) -> None:
        for contact in self.new_contacts:
            contact.fill_masks()  # what save() does (no robot yet: nothing to mask)
        Contact.objects.bulk_create(self.new_contacts)
        changed = [self.arms[pk] for pk in self.changed]
        self._clear_moved(changed)
        now = timezone.now()
        by_columns: dict[tuple[str, ...], list[ArmsContact]] = defaultdict(list)
        for arms in changed:
            arms.updated_at = now
            by_columns[tuple(sorted(self.changed[arms.pk]))].append(arms)
        for columns, rows in by_columns.items():
            ArmsContact.objects.bulk_update(rows, [*columns, "updated_at"])
        ArmsContact.objects.bulk_create(self.new_arms)
        self._write_members()

    def _clear_moved(self, changed: list[ArmsContact]) -> None:
        """A mailbox or link that moves from one of the ARMS contacts updated together to
        another would collide inside the one UPDATE (PostgreSQL checks a unique constraint
        row by row): the row giving it up lets go of it first, as it did step by step in the
        per-contact path. (A phone never moves: the ARMS contact linked is the one with it.)"""
        taken = defaultdict(set)  # column -> (value, ARMS pk) after the merge
        for arms in changed:
            for field in _UNIQUE_FIELDS:
                if value := _value(arms, field):
                    taken[field].add((value, arms.pk))
        clear: dict[tuple[str, ...], list[int]] = defaultdict(list)
        for arms in changed:
            given_up = tuple(
                field
                for field in _UNIQUE_FIELDS
                if (value := self.before[arms.pk][field])
                and value != _value(arms, field)
                and any(v == value and pk != arms.pk for v, pk in taken[field])
            )
            if given_up:
                clear[given_up].append(arms.pk)
        for fields, pks in clear.items():
            ArmsContact.objects.filter(pk__in=pks).update(**{f: _EMPTY[f] for f in fields})

    def touched(self) -> list[int]:
        """The ARMS contacts this merge wrote (for the cloud's outbox)."""
        return [*self.changed, *(arms.pk for arms in self.new_arms if arms.pk is not None)]

    def _write_members(self) -> None:
        if not self.members:
            return
        managed = ensure_managed(self.account)
        leaving = [arms.pk for arms, contact in self.members.values() if contact is None]
        if leaving:
            ContactGroup.members.through.objects.filter(
                contactgroup_id=managed.contacts_group.pk, armscontact_id__in=leaving
            ).delete()
        join_groups(
            [
                (group, arms)
                for arms, contact in self.members.values()
                if contact is not None
                for group in managed_groups(contact, managed)
            ]
        )


def _value(arms: ArmsContact, field: str):
    """A unique column's value as the database will hold it ("" / None: none)."""
    if field == "sae_contact":
        link = ArmsContact._meta.get_field("sae_contact")
        if link.is_cached(arms):  # assigned here (a contact created by this merge has its pk
            linked = link.get_cached_value(arms)  # only once written)
            return linked.pk if linked is not None else None
        return arms.sae_contact_id
    return getattr(arms, field) or ""


def apply_merge(*, principal: Principal, expected_digest: str | None = None) -> MergeReport:
    """Confirm: recompute the plan with the account locked and carry out exactly its rows,
    all in one transaction. With `expected_digest` (the preview's), a plan that changed since
    the preview raises PlanChanged and nothing is done."""
    ensure_may_merge(principal)
    with transaction.atomic():
        # Contact creation and other merges wait here, so the plan stays true while applied.
        Account.objects.select_for_update().filter(pk=principal.account.pk).values_list("pk").get()
        snapshot = read_account(principal.account, lock=True)
        plan = plan_snapshot(snapshot)
        if expected_digest is not None and plan.digest != expected_digest:
            raise PlanChanged(PLAN_CHANGED)
        merge = _Merge(snapshot, principal)
        for row in sorted(plan.changed_rows, key=lambda r: r.step):
            merge.carry_out(row)
        try:
            merge.write()
            # A connected account's outbox rows commit with the merge (arms_sync.cloud). The
            # preview already read every ARMS contact of the cloud (plan_merge): a plan that
            # changed since is refused by the digest.
            if touched := merge.touched():
                cloud.port().arms_changed(principal.account.pk, touched)
        except IntegrityError:
            # A concurrent edit (not serialised by the account lock) took a phone or mailbox
            # the plan counted on: nothing is saved, and the preview is shown again.
            raise MergeFailed(_(PLAN_CHANGED)) from None
        if plan.changes:
            # One summary entry: a merge may change thousands of rows at once.
            audit.record(
                account=principal.account,
                actor=principal,
                action="contact.merge",
                # Keyed by the English labels of the catalogue: the page shows them translated.
                changes={ACTION_LABELS[a]: [None, n] for a, n in plan.counts.items() if n},
            )
    return MergeReport(rows=plan.rows)
