"""Merge Contacts (rules §6): link every RAM user, and the account itself, to its ARMS contact.

`plan_merge` is a pure read: it walks the subjects in order and simulates each step against
an in-memory picture of the account (contacts, ARMS contacts by phone and by mailbox, the
contact count), so a later row sees what an earlier row would do. `apply_merge` recomputes
that plan inside one transaction, holding the account row locked, and carries out exactly its
rows; the report it returns *is* that plan, so the counts shown after Confirm are the preview's.

Order: the account itself first (the main account outranks its sub-accounts when two subjects
compete for one phone number), then the RAM users by user name, case-insensitively, ties
broken by the exact name, so SQLite and PostgreSQL (whose collations differ) give one order.

The package: `rows` (actions, reasons, messages, MergeRow / MergePlan / MergeReport),
`planning` (permission and the simulation), `applying` (Confirm). Callers import from here.
"""

from __future__ import annotations

from arms_sync.merge.applying import apply_merge
from arms_sync.merge.planning import ensure_may_merge, may_merge, plan_merge
from arms_sync.merge.rows import (
    ACTION_LABELS,
    ACTIONS,
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
    PLAN_CHANGED,
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
    MergeFailed,
    MergePlan,
    MergeReport,
    MergeRow,
    PlanChanged,
)

__all__ = [
    "ACTIONS",
    "ACTION_LABELS",
    "ARMS_CREATED",
    "ARMS_LINKED_ELSEWHERE",
    "BAD_RAM_EMAIL",
    "CONTACT_LIMIT_REACHED",
    "CREATED",
    "LINKED",
    "MAILBOX_HELD_BY_ARMS",
    "NOT_ALLOWED",
    "NO_MAINLAND_MOBILE",
    "PHONE_HELD_BY_CONTACT",
    "PLAN_CHANGED",
    "RELINKED",
    "RENAMED",
    "SKIPPED",
    "SKIP_ARMS_LINKED",
    "SKIP_BAD_MAILBOX",
    "SKIP_LIMIT",
    "SKIP_MAILBOX_TAKEN",
    "SKIP_NO_MOBILE",
    "SKIP_PHONE_TAKEN",
    "SUBJECT_ACCOUNT",
    "SUBJECT_RAM_USER",
    "UNCHANGED",
    "MergeFailed",
    "MergePlan",
    "MergeReport",
    "MergeRow",
    "PlanChanged",
    "apply_merge",
    "ensure_may_merge",
    "may_merge",
    "plan_merge",
]
