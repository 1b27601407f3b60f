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
from arms_sync.merge.rows import *  # noqa: F403 (what a plan is made of: rows.__all__)
from arms_sync.merge.rows import __all__ as _ROWS

__all__ = [*_ROWS, "apply_merge", "ensure_may_merge", "may_merge", "plan_merge"]
