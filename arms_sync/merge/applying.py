"""Applying a merge (SPEC 6): Confirm recomputes the plan inside one transaction, holding
the account row locked, and carries out exactly its rows; the report it returns *is* that
plan, so the counts shown after Confirm are the preview's."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from arms_sync import linking
from arms_sync.managed import ensure_managed
from arms_sync.merge.planning import compute_plan, ensure_may_merge
from arms_sync.merge.rows import (
    CREATED,
    PLAN_CHANGED,
    RENAMED,
    MergeFailed,
    MergeReport,
    MergeRow,
    PlanChanged,
)
from arms_sync.models import ArmsContact
from contacts.models import Contact
from contacts.services import create_contact
from ram_directory.models import Account, RamUser
from ram_directory.principal import Principal


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
        plan = compute_plan(principal.account)
        if expected_digest is not None and plan.digest != expected_digest:
            raise PlanChanged(PLAN_CHANGED)
        for row in sorted(plan.changed_rows, key=lambda r: r.step):
            try:
                _apply_row(row, principal)
            except ValidationError as exc:
                # The plan foresaw every rule; reaching here means a rule it does not model.
                raise MergeFailed(f"{row.username}: {'; '.join(exc.messages)}") from exc
    return MergeReport(rows=plan.rows)
