"""Permission approval notifications (SPEC 9): ram_directory announces requests and decisions
with its own signals; these receivers (connected in ArmsSyncConfig.ready) write `approval`
events in the same transaction.

- A new request, or a withdrawn one: the `sae:approvers` group (the owner's contact joins it
  when linked); if the group is empty, the owner's own contact, so a request never goes
  unheard.
- A decision (approved or rejected): the requester, by its SAE contact if it has one (it also
  sees the decision in the console).
"""

from __future__ import annotations

from django.conf import settings
from django.urls import NoReverseMatch, reverse

from arms_sync.managed import ensure_managed
from arms_sync.models import ArmsContact
from arms_sync.notify import outbox
from arms_sync.notify.models import Event
from arms_sync.notify.outbox import Recipient
from contacts.models import Contact

DECIDED = ("approved", "rejected")


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
        "permission": request.permission,
        "reason": request.reason,
        "decision": "" if request.status == "pending" else request.status,
        "decided_by": request.decided_by,
        "decision_reason": request.decision_reason,
        "url": _console_url(),
    }


def _approvers(account) -> list[Recipient]:
    members = list(ensure_managed(account).approvers_group.members.order_by("name", "id"))
    if not members:
        members = list(
            ArmsContact.objects.filter(account=account, sae_contact__ram_user__isnull=True)
        )
    return [Recipient.from_arms_contact(arms) for arms in members]


def _requester(request) -> list[Recipient]:
    contact = Contact.objects.filter(account=request.account, ram_user=request.requester).first()
    return [Recipient.from_contact(contact)] if contact else []


def _record(request, title: str, recipients: list[Recipient]) -> Event:
    return outbox.record_event(
        account=request.account,
        kind=Event.Kind.APPROVAL,
        title=title,
        payload=_payload(request),
        recipients=recipients,
    )


def request_received(sender, request, **kwargs) -> None:
    _record(
        request,
        f"Permission request: {request.requester.user_name} asks for {request.permission}",
        _approvers(request.account),
    )


def request_decided(sender, request, **kwargs) -> None:
    if request.status in DECIDED:
        _record(
            request,
            f"Permission request {request.status}: {request.requester.user_name}, "
            f"{request.permission}",
            _requester(request),
        )
    else:
        _record(
            request,
            f"Permission request withdrawn: {request.requester.user_name}, {request.permission}",
            _approvers(request.account),
        )
