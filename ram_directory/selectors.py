"""Reads of the RAM directory that carry rules: who may see or change what (rules §1, §2).

Every RAM page asks here, so the access rule for each action lives in one place. A lookup by
ID is always scoped to the principal's account first (404 for another account's object, exactly
as for one that does not exist); only then is the RAM action checked (403, saying which
permission is missing).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from ram_directory.access import Http404, get_for_account, has_nul
from ram_directory.models import PermissionRequest, Policy, PolicyAttachment, RamUser
from ram_directory.principal import LIST_USERS, Principal

# The RAM API actions the console's pages stand for (the names Alibaba Cloud uses).
GET_USER = "ram:GetUser"
ATTACH_POLICY = "ram:AttachPolicyToUser"
DETACH_POLICY = "ram:DetachPolicyFromUser"
LIST_POLICIES = "ram:ListPolicies"
GET_POLICY = "ram:GetPolicy"
CREATE_POLICY = "ram:CreatePolicy"
# Alibaba edits a policy document by creating a new policy version.
UPDATE_POLICY = "ram:CreatePolicyVersion"
DELETE_POLICY = "ram:DeletePolicy"

MISSING_PERMISSION = gettext_noop(
    "You need the RAM permission {action} on {resource} for this. Ask the Alibaba Cloud "
    "account owner to attach a policy that allows it (for example AliyunRAMReadOnlyAccess to "
    "view, AliyunRAMFullAccess to change)."
)


class RamPermissionDenied(PermissionDenied):
    """403 for a RAM action the principal lacks; carries what is missing for the 403 page."""

    def __init__(self, action: str, resource: str):
        self.action = action
        self.resource = resource
        super().__init__(_(MISSING_PERMISSION).format(action=action, resource=resource))


@dataclass(frozen=True)
class Arn:
    """The resource ARNs RAM actions are checked against (`acs:ram:*:<account-id>:...`)."""

    principal: Principal

    def users(self) -> str:
        return self.principal.resource_arn("user", "*")

    def user(self, ram_user: RamUser) -> str:
        return self.principal.resource_arn("user", ram_user.user_name)

    def policies(self) -> str:
        return self.principal.resource_arn("policy", "*")

    def policy(self, policy: Policy) -> str:
        return self.principal.resource_arn("policy", policy.name)


def ensure_allowed(principal: Principal, action: str, resource: str) -> None:
    if not principal.can(action, resource):
        raise RamPermissionDenied(action, resource)


def is_self(principal: Principal, ram_user: RamUser) -> bool:
    return principal.ram_user is not None and principal.ram_user.pk == ram_user.pk


# --- users ---------------------------------------------------------------------------------


def users_for_list(principal: Principal, *, query: str = "") -> QuerySet[RamUser]:
    """The Users page: every RAM user of the account, searched by user or display name."""
    if not principal.can_list_users():
        raise RamPermissionDenied(LIST_USERS, Arn(principal).users())
    users = RamUser.objects.for_account(principal.account).select_related("account")
    query = query.strip()
    if has_nul(query):
        return users.none()
    if query:
        users = users.filter(Q(user_name__icontains=query) | Q(display_name__icontains=query))
    return users.order_by("user_name")


def user_for_view(principal: Principal, user_id: str) -> RamUser:
    """A RAM user by its RAM user ID; a RAM user may always view itself (rules §2)."""
    ram_user = get_for_account(
        RamUser.objects.select_related("account"), principal, user_id=user_id
    )
    if not is_self(principal, ram_user):
        ensure_allowed(principal, GET_USER, Arn(principal).user(ram_user))
    return ram_user


def user_for_attach(principal: Principal, user_id: str) -> RamUser:
    ram_user = get_for_account(
        RamUser.objects.select_related("account"), principal, user_id=user_id
    )
    ensure_allowed(principal, ATTACH_POLICY, Arn(principal).user(ram_user))
    return ram_user


def attachment_for_detach(principal: Principal, user_id: str, policy_name: str) -> PolicyAttachment:
    """The attachment to remove; 404 unless both the user and the policy are in the account."""
    ram_user = get_for_account(
        RamUser.objects.select_related("account"), principal, user_id=user_id
    )
    if has_nul(policy_name):
        raise Http404
    # PolicyAttachment has no account column: it is scoped through the user and the policy.
    attachment = get_object_or_404(
        PolicyAttachment.objects.select_related("policy", "ram_user"),
        ram_user=ram_user,
        policy__account=principal.account,
        policy__name=policy_name,
    )
    ensure_allowed(principal, DETACH_POLICY, Arn(principal).user(ram_user))
    return attachment


def personal_permissions(ram_user: RamUser) -> QuerySet[PolicyAttachment]:
    """The Personal Permissions list: every policy the user holds, oldest first."""
    return (
        PolicyAttachment.objects.filter(ram_user=ram_user)
        .select_related("policy")
        .order_by("attached_at", "id")
    )


def authorizable_policies(
    principal: Principal, ram_user: RamUser, *, policy_type: str = ""
) -> list[tuple[Policy, bool]]:
    """The Add Authorization panel's choices as (policy, already attached) pairs."""
    policies = Policy.objects.for_account(principal.account).annotate(
        held=Count("attachments", filter=Q(attachments__ram_user=ram_user))
    )
    if policy_type in Policy.PolicyType.values:
        policies = policies.filter(policy_type=policy_type)
    return [(policy, policy.held > 0) for policy in policies.order_by("policy_type", "name")]


def can_attach(principal: Principal, ram_user: RamUser) -> bool:
    return principal.can(ATTACH_POLICY, Arn(principal).user(ram_user))


def can_detach(principal: Principal, ram_user: RamUser) -> bool:
    return principal.can(DETACH_POLICY, Arn(principal).user(ram_user))


# --- policies ------------------------------------------------------------------------------


def policies_for_list(
    principal: Principal, *, query: str = "", policy_type: str = ""
) -> QuerySet[Policy]:
    """The Policies page, with how many users each policy is attached to."""
    ensure_allowed(principal, LIST_POLICIES, Arn(principal).policies())
    policies = Policy.objects.for_account(principal.account).annotate(
        attached_count=Count("attachments")
    )
    if policy_type in Policy.PolicyType.values:
        policies = policies.filter(policy_type=policy_type)
    query = query.strip()
    if has_nul(query):
        return policies.none()
    if query:
        policies = policies.filter(Q(name__icontains=query) | Q(description__icontains=query))
    return policies.order_by("policy_type", "name")


def policy_for_view(principal: Principal, name: str, action: str = GET_POLICY) -> Policy:
    """The account's policy `name` (404 outside the account) if the principal may do `action`
    on it: view it (GET_POLICY), edit it (UPDATE_POLICY) or delete it (DELETE_POLICY)."""
    policy = get_for_account(Policy.objects.all(), principal, name=name)
    ensure_allowed(principal, action, Arn(principal).policy(policy))
    return policy


def policy_users(policy: Policy) -> QuerySet[PolicyAttachment]:
    return (
        PolicyAttachment.objects.filter(policy=policy)
        .select_related("ram_user")
        .order_by("ram_user__user_name")
    )


def can_create_policy(principal: Principal) -> bool:
    return principal.can(CREATE_POLICY, Arn(principal).policies())


def ensure_may_create_policy(principal: Principal) -> None:
    ensure_allowed(principal, CREATE_POLICY, Arn(principal).policies())


def policy_actions(principal: Principal, policy: Policy) -> dict[str, bool]:
    """Which buttons the policy detail page shows (the server checks again on use)."""
    arn = Arn(principal).policy(policy)
    return {
        "can_edit": not policy.is_system and principal.can(UPDATE_POLICY, arn),
        "can_delete": not policy.is_system and principal.can(DELETE_POLICY, arn),
    }


def users_to_authorize(principal: Principal, policy: Policy) -> list[RamUser]:
    """The policy page's Add Authorization choices: the account's RAM users that do not hold
    `policy` yet, for a principal that may list users and attach policies (one query; the
    Add Authorization panel checks again)."""
    if not principal.can_list_users() or not principal.can(ATTACH_POLICY, Arn(principal).users()):
        return []
    return list(
        RamUser.objects.for_account(principal.account)
        .exclude(attachments__policy=policy)
        .order_by("user_name")
    )


# --- permission approval (rules §9) ----------------------------------------------------------


def permission_requests(principal: Principal) -> QuerySet[PermissionRequest]:
    """The requests the Permission Approval page shows: every request of the account to the
    owner, who decides them; its own requests to a RAM user (it sees nobody else's)."""
    rows = PermissionRequest.objects.for_account(principal.account).select_related(
        "requester__account"  # the requester's sign-in name (UPN) names the account's alias
    )
    return rows if principal.is_owner else rows.filter(requester=principal.ram_user)


def permission_request_for_view(principal: Principal, pk: int) -> PermissionRequest:
    """One of permission_requests(principal); 404 for any other, as if it did not exist."""
    return get_for_account(permission_requests(principal), principal, pk=pk)


def latest_permission_request(principal: Principal) -> PermissionRequest | None:
    """The New Contact panel's note: the RAM user's newest request for ram:ListUsers."""
    if principal.ram_user is None:
        return None
    return PermissionRequest.objects.filter(
        requester=principal.ram_user, permission=LIST_USERS
    ).first()
