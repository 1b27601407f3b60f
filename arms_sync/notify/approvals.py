"""Permission approval notifications (rules §9, §15): ram_directory announces requests and
decisions with its own signals; these receivers (connected in ArmsSyncConfig.ready) write
`approval` events in the same transaction.

- A new request, or a withdrawn one, reaches someone whenever it can: every member of the
  `sae:approvers` group on every channel it has (the owner's contact joins it when linked);
  when none of them has a channel, the account's own contact; when that has none either, the
  owner's sign-in address if it is an email address. When even that is missing nobody is
  reached, and `reach` (registered with ram_directory) lets the pages say so and what to set.
- A decision (approved or rejected): the requester, by its SAE contact if it has one (it also
  sees the decision in the console).

Each message is written in its recipient's console language.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.urls import NoReverseMatch, reverse

from arms_sync.managed import ensure_managed
from arms_sync.models import ArmsContact
from arms_sync.notify import outbox
from arms_sync.notify.models import APPROVAL_TITLES, Event
from arms_sync.notify.outbox import Recipient
from contacts.models import Contact
from ram_directory.approval_reach import APPROVERS, NOBODY, OWNER_EMAIL, Reach

DECIDED = ("approved", "rejected")
WITH_SIGN_IN = "sae_contact__ram_user__sign_in"


def _console_url() -> str:
    try:
        path = reverse("ram:approval_list")
    except NoReverseMatch:
        return ""
    return f"{settings.PUBLIC_URL}{path}" if settings.PUBLIC_URL else ""


def _payload(request) -> dict:
    return {
        "request": request.pk,
        "requester": request.requester.upn,
        "requester_name": request.requester.user_name,
        "permission": request.permission,
        "reason": request.reason,
        "decision": "" if request.status == "pending" else request.status,
        "decided_by": request.decided_by,
        "decision_reason": request.decision_reason,
        "url": _console_url(),
    }


def _owner_email(account) -> str:
    """The owner's sign-in address (the account's login name) when it is an email address."""
    try:
        validate_email(account.login_name)
    except ValidationError:
        return ""
    return account.login_name


def _approvers(account, *, languages: bool = True) -> tuple[list[Recipient], Reach]:
    # The pages ask only who is reached: no language to look up for them.
    owner_language = outbox.owner_language_of(account) if languages else ""
    members = ensure_managed(account).approvers_group.members.select_related(WITH_SIGN_IN)
    for candidates in (
        members.order_by("name", "id"),
        # The account's own contact (linked, with no RAM user): not any unlinked ARMS contact.
        ArmsContact.objects.filter(
            account=account, sae_contact__isnull=False, sae_contact__ram_user__isnull=True
        )
        .select_related(WITH_SIGN_IN)
        .order_by("id"),
    ):
        found = [
            Recipient.from_arms_contact(arms, owner_language=owner_language) for arms in candidates
        ]
        found = [r for r in found if r.targets()]
        if found:
            return found, Reach(APPROVERS, tuple(r.name for r in found))
    email = _owner_email(account)
    if email:
        owner = Recipient(name=account.login_name, email=email, language=owner_language)
        return [owner], Reach(OWNER_EMAIL, (email,))
    return [], Reach(NOBODY)


def reach(account) -> Reach:
    """Who a request of this account reaches now (the pages' wording)."""
    return _approvers(account, languages=False)[1]


def _requester(request) -> list[Recipient]:
    contact = (
        Contact.objects.select_related("ram_user__sign_in")
        .filter(account=request.account, ram_user=request.requester)
        .first()
    )
    return [Recipient.from_contact(contact)] if contact else []


def _record(request, decision: str, recipients: list[Recipient]) -> Event:
    # Stored in English (logs, commands); pages and digests show Event.display_title, which
    # is written in the reader's language.
    title = APPROVAL_TITLES[decision].format(
        user=request.requester.user_name, permission=request.permission
    )
    return outbox.record_event(
        account=request.account,
        kind=Event.Kind.APPROVAL,
        title=title,
        payload=_payload(request),
        recipients=recipients,
    )


def request_received(sender, request, **kwargs) -> None:
    _record(request, "", _approvers(request.account)[0])


def request_decided(sender, request, **kwargs) -> None:
    if request.status in DECIDED:
        _record(request, request.status, _requester(request))
    else:
        _record(request, "withdrawn", _approvers(request.account)[0])
