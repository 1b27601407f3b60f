"""Permission approval (rules §9): a RAM user without `ram:ListUsers` requests it with a reason;
the account owner approves (the console attaches a policy granting `ram:ListUsers` and
`ram:GetUser`) or rejects with a reason; the requester may withdraw while it is pending.

Every step is recorded (who, when, what) and announced by ram_directory's own signals, which
arms_sync turns into `approval` notifications. Only the owner decides; only the requester
withdraws; a decided request cannot be decided again.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

import audit.services as audit
from ram_directory import services, signals
from ram_directory.models import (
    CONSOLE_POLICY_DESCRIPTIONS,
    GRANT_POLICY_NAME,
    Account,
    PermissionRequest,
    PermissionRequestStep,
    Policy,
)
from ram_directory.policy import statements_of
from ram_directory.principal import LIST_USERS, Principal

# The permission a request asks for, and the policy that grants it on approval
# (GRANT_POLICY_NAME, with its description in ram_directory.models).
GRANT_DOCUMENT = {
    "Version": "1",
    "Statement": [{"Effect": "Allow", "Action": ["ram:ListUsers", "ram:GetUser"], "Resource": "*"}],
}
REASON_MAX = 500

REASON_REQUIRED = gettext_noop("Say why you need this permission (1-500 characters).")
ALREADY_ALLOWED = gettext_noop("You already have this permission.")
ALREADY_PENDING = gettext_noop(
    "You already have a pending request for this permission; wait for the decision or withdraw it."
)
ONLY_RAM_USERS = gettext_noop("Only a RAM user can request a permission.")
ONLY_OWNER_DECIDES = gettext_noop("Only the Alibaba Cloud account can approve or reject.")
ONLY_REQUESTER_WITHDRAWS = gettext_noop("Only the requester can withdraw a request.")
NOT_PENDING = gettext_noop("This request was already {status}.")
REJECT_REASON_REQUIRED = gettext_noop("Say why the request is rejected (1-500 characters).")


def _reason(text: str, message: str) -> str:
    text = " ".join((text or "").split())
    if not text or len(text) > REASON_MAX or "\x00" in text:
        raise ValidationError({"reason": _(message)}, code="reason")
    return text


def _step(request: PermissionRequest, action: str, principal: Principal, note: str = "") -> None:
    PermissionRequestStep.objects.create(
        request=request, action=action, actor=principal.sign_in_name, note=note
    )
    # Every step of a request is also an audit entry ("approval.requested", ...).
    audit.record(
        account=request.account_id,
        actor=principal,
        action=f"approval.{action}",
        obj=request,
        note=note,
    )


def request_permission(*, principal: Principal, reason: str) -> PermissionRequest:
    if principal.ram_user is None:
        raise PermissionDenied(_(ONLY_RAM_USERS))
    if principal.can_list_users():
        raise ValidationError(_(ALREADY_ALLOWED), code="allowed")
    reason = _reason(reason, REASON_REQUIRED)
    try:
        with transaction.atomic():
            request = PermissionRequest.objects.create(
                account=principal.account,
                requester=principal.ram_user,
                permission=LIST_USERS,
                reason=reason,
            )
            _step(request, PermissionRequestStep.Action.REQUESTED, principal, reason)
            signals.permission_requested.send(sender=PermissionRequest, request=request)
    except IntegrityError:
        raise ValidationError(_(ALREADY_PENDING), code="pending") from None
    return request


def _pending_for_update(request: PermissionRequest) -> PermissionRequest:
    """The request row, locked; refused unless still pending (two owners clicking at once)."""
    locked = PermissionRequest.objects.select_for_update().get(pk=request.pk)
    if locked.status != PermissionRequest.Status.PENDING:
        raise ValidationError(
            _(NOT_PENDING).format(status=locked.get_status_display().lower()), code="decided"
        )
    return locked


GRANTED_ACTIONS = ({"ram:listusers"}, {"ram:listusers", "ram:getuser"})


def grants_exactly_list_users(policy: Policy) -> bool:
    """A custom policy that allows ram:ListUsers (and perhaps ram:GetUser) on every resource,
    unconditionally, and nothing else: the seed's SAEContactListUsers is one. Reusing such a
    policy keeps the account from holding two near-identical ones."""
    statements = statements_of(policy.document if isinstance(policy.document, dict) else {})
    if not statements or any(
        s.effect != "Allow" or s.has_condition or s.resources != ("*",) for s in statements
    ):
        return False
    actions = {a.lower() for s in statements for a in s.actions}
    return actions in GRANTED_ACTIONS


def _grant_policy(account, actor=None) -> Policy:
    """The policy an approval attaches: the console's own grant when it exists, else the
    account's oldest custom policy that grants exactly ram:ListUsers (and ram:GetUser), else
    a new grant policy. Called with the account row locked, so two approvals at the same
    moment find (or create) the same one."""
    custom = Policy.objects.filter(account=account, policy_type=Policy.PolicyType.CUSTOM)
    own = custom.filter(name=GRANT_POLICY_NAME).first()
    if own is not None:
        return own
    for candidate in custom.order_by("created_at", "id"):
        if grants_exactly_list_users(candidate):
            return candidate
    try:
        return services.create_policy(
            account=account,
            name=GRANT_POLICY_NAME,
            document=GRANT_DOCUMENT,
            description=CONSOLE_POLICY_DESCRIPTIONS[GRANT_POLICY_NAME],
            actor=actor,
        )
    except ValidationError as exc:
        # Created meanwhile by a path that does not lock the account (the admin, a command).
        found = custom.filter(name=GRANT_POLICY_NAME).first()
        if found is None:
            raise exc from None
        return found


def _decide(request, principal, *, status: str, note: str = "", policy=None):
    request.status = status
    request.decided_at = timezone.now()
    request.decided_by = principal.sign_in_name
    request.decision_reason = note
    request.granted_policy = policy
    request.save(
        update_fields=["status", "decided_at", "decided_by", "decision_reason", "granted_policy"]
    )
    _step(request, status, principal, note)
    signals.permission_decided.send(sender=PermissionRequest, request=request)
    return request


def approve(*, principal: Principal, request: PermissionRequest) -> PermissionRequest:
    if not principal.is_owner or request.account_id != principal.account.pk:
        raise PermissionDenied(_(ONLY_OWNER_DECIDES))
    with transaction.atomic():
        # The account row first (the order every writer that locks it uses): approvals of one
        # account take turns, so the second finds the grant policy the first created instead
        # of failing on its name and staying pending.
        Account.objects.select_for_update().filter(pk=request.account_id).values_list("pk").get()
        request = _pending_for_update(request)
        policy = _grant_policy(request.account, principal)
        if not request.requester.attachments.filter(policy=policy).exists():
            services.attach_policy(ram_user=request.requester, policy=policy, actor=principal)
        return _decide(request, principal, status=PermissionRequest.Status.APPROVED, policy=policy)


def reject(*, principal: Principal, request: PermissionRequest, reason: str) -> PermissionRequest:
    if not principal.is_owner or request.account_id != principal.account.pk:
        raise PermissionDenied(_(ONLY_OWNER_DECIDES))
    reason = _reason(reason, REJECT_REASON_REQUIRED)
    with transaction.atomic():
        request = _pending_for_update(request)
        return _decide(request, principal, status=PermissionRequest.Status.REJECTED, note=reason)


def withdraw(*, principal: Principal, request: PermissionRequest) -> PermissionRequest:
    if principal.ram_user is None or request.requester_id != principal.ram_user.pk:
        raise PermissionDenied(_(ONLY_REQUESTER_WITHDRAWS))
    with transaction.atomic():
        request = _pending_for_update(request)
        return _decide(request, principal, status=PermissionRequest.Status.WITHDRAWN)


def pending_count(account) -> int:
    return PermissionRequest.objects.filter(
        account=account, status=PermissionRequest.Status.PENDING
    ).count()
