"""What a merge plan is made of (rules §6): the row actions, skip reasons, messages, the rows
and the plan; no database access."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

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
]

# Row actions, in the order the preview's summary lists them.
LINKED = "linked"  # an existing contact linked to an existing, free ARMS contact
CREATED = "created"  # an SAE contact created (and linked, rules §5)
ARMS_CREATED = "arms_created"  # a new ARMS contact created for an existing contact
RELINKED = "relinked"  # the contact moved from one ARMS contact to the one with its phone
RENAMED = "renamed"  # already linked; the ARMS contact's name set to the user name
UNCHANGED = "unchanged"
SKIPPED = "skipped"
ACTIONS = (LINKED, CREATED, ARMS_CREATED, RELINKED, RENAMED, UNCHANGED, SKIPPED)
ACTION_LABELS = {
    LINKED: gettext_noop("Linked"),
    CREATED: gettext_noop("Contact created"),
    ARMS_CREATED: gettext_noop("ARMS contact created"),
    RELINKED: gettext_noop("Re-linked"),
    RENAMED: gettext_noop("Renamed"),
    UNCHANGED: gettext_noop("Unchanged"),
    SKIPPED: gettext_noop("Skipped"),
}


def _lower_first(label: str) -> str:
    """ "Contact created" -> "contact created" inside a sentence; "ARMS contact created" keeps
    its acronym (lower() made it "arms contact created")."""
    if len(label) > 1 and label[0].isupper() and label[1].islower():
        return label[0].lower() + label[1:]
    return label


# Skip reasons (tests reuse these).
# Marked for translation; the plan words them in the request's language (the preview and its
# Confirm are one session, so both compute the same digest).
NO_MAINLAND_MOBILE = gettext_noop("no mainland mobile phone")
CONTACT_LIMIT_REACHED = gettext_noop("the account already has {limit} contacts (the limit)")
PHONE_HELD_BY_CONTACT = gettext_noop("the phone number belongs to another contact ({username})")
ARMS_LINKED_ELSEWHERE = gettext_noop(
    "ARMS contact {name} is linked to another contact ({username})"
)
MAILBOX_HELD_BY_ARMS = gettext_noop(
    "the mailbox {mailbox} belongs to another ARMS contact ({name})"
)
BAD_RAM_EMAIL = gettext_noop("the RAM profile's email {email} is not a valid mailbox")

SKIP_NO_MOBILE = "no_mainland_mobile"
SKIP_LIMIT = "limit_reached"
SKIP_PHONE_TAKEN = "phone_taken"
SKIP_ARMS_LINKED = "arms_linked_elsewhere"
SKIP_MAILBOX_TAKEN = "mailbox_taken"
SKIP_BAD_MAILBOX = "bad_ram_email"

NOT_ALLOWED = gettext_noop("Merge Contacts needs the RAM permission ram:ListUsers.")
PLAN_CHANGED = gettext_noop(
    "The contacts changed since the preview was shown. Review the new preview and confirm again."
)

SUBJECT_ACCOUNT = gettext_noop("Alibaba Cloud account")
SUBJECT_RAM_USER = gettext_noop("RAM user")


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
        """ "contact created: 1, ARMS contact created: 2" in the request's language, with its
        punctuation (the Chinese catalogue gives the full-width colon and comma)."""
        parts = [
            _("{label}: {count}").format(label=_lower_first(_(ACTION_LABELS[action])), count=count)
            for action, count in self.counts.items()
            if count
        ]
        return _(", ").join(parts) if parts else _("nothing to merge")

    def as_dict(self) -> dict[str, Any]:
        return {
            "counts": self.counts,
            "rows": [row.as_dict() for row in self.rows],
            "digest": self.digest,
        }


@dataclass(frozen=True)
class MergeReport(MergePlan):
    """What Confirm did: the rows and counts of the plan it applied."""
