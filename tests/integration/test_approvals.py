"""rules §9: permission approval — request with a reason, one pending per user and permission,
the owner approves (ram:ListUsers and ram:GetUser granted through a policy) or rejects with a
reason, the requester may withdraw; every step recorded; only the owner decides, and a forged
decision changes nothing; the approvers and the requester get `approval` notifications."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from arms_sync.managed import ensure_managed
from arms_sync.notify.models import Delivery, Event
from contacts import services as contact_services
from ram_directory import approval_reach, approvals
from ram_directory.models import PermissionRequest
from ram_directory.principal import Principal
from tests.commands import run
from tests.factories import AccountFactory, RamUserFactory, owners_contact

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_p(account):
    # The owner's contact: linked to ARMS, so in sae:approvers.
    owners_contact(account, phone="+8613800000801", mailbox="owner@example.com")
    return Principal(account)


@pytest.fixture
def carol(account):
    user = RamUserFactory(account=account, user_name="carol")
    contact_services.create_contact(
        principal=Principal(account, user),
        ram_user=user,
        phone="+8613800000802",
        mailbox="carol@example.com",
    )
    return Principal(account, user)


def events(kind="approval"):
    return list(Event.objects.filter(kind=kind).order_by("id"))


def test_request_notifies_the_approvers_and_approval_grants_list_users(owner_p, carol):
    assert not carol.can_list_users()
    request = approvals.request_permission(principal=carol, reason="I add contacts for my team")
    assert request.status == "pending"
    (asked,) = events()
    (to_owner,) = Delivery.objects.filter(event=asked)
    assert to_owner.target == "owner@example.com"
    assert asked.payload["reason"] == "I add contacts for my team"

    approvals.approve(principal=owner_p, request=request)
    request.refresh_from_db()
    assert request.status == "approved" and request.decided_by == owner_p.sign_in_name
    again = Principal(carol.account, carol.ram_user)
    assert again.can_list_users() and again.can("ram:GetUser")
    decided = events()[-1]
    assert decided.payload["decision"] == "approved"
    (to_carol,) = Delivery.objects.filter(event=decided)
    assert to_carol.target == "carol@example.com"
    steps = list(request.steps.values_list("action", "actor"))
    assert steps == [("requested", carol.sign_in_name), ("approved", owner_p.sign_in_name)]


def test_reject_needs_a_reason_and_notifies_the_requester(owner_p, carol):
    request = approvals.request_permission(principal=carol, reason="please")
    with pytest.raises(ValidationError):
        approvals.reject(principal=owner_p, request=request, reason="  ")
    approvals.reject(principal=owner_p, request=request, reason="Ask your team lead")
    request.refresh_from_db()
    assert (request.status, request.decision_reason) == ("rejected", "Ask your team lead")
    assert not Principal(carol.account, carol.ram_user).can_list_users()
    decided = events()[-1]
    assert decided.payload["decision_reason"] == "Ask your team lead"
    assert Delivery.objects.get(event=decided).target == "carol@example.com"


def test_withdraw_by_the_requester_tells_the_approvers(owner_p, carol):
    request = approvals.request_permission(principal=carol, reason="please")
    approvals.withdraw(principal=carol, request=request)
    request.refresh_from_db()
    assert request.status == "withdrawn"
    assert Delivery.objects.get(event=events()[-1]).target == "owner@example.com"
    with pytest.raises(ValidationError):
        approvals.approve(principal=owner_p, request=request)  # no longer pending


def test_one_pending_request_per_user_and_permission(owner_p, carol):
    approvals.request_permission(principal=carol, reason="first")
    with pytest.raises(ValidationError, match="already have a pending request"):
        approvals.request_permission(principal=carol, reason="second")
    assert PermissionRequest.objects.count() == 1


def test_a_user_who_already_may_list_users_cannot_request_it(owner_p, carol):
    request = approvals.request_permission(principal=carol, reason="first")
    approvals.approve(principal=owner_p, request=request)
    with pytest.raises(ValidationError, match="already have this permission"):
        approvals.request_permission(
            principal=Principal(carol.account, carol.ram_user), reason="again"
        )


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501, "bad\x00"])
def test_a_request_needs_a_sane_reason(carol, reason):
    with pytest.raises(ValidationError):
        approvals.request_permission(principal=carol, reason=reason)
    assert PermissionRequest.objects.count() == 0


def test_only_the_owner_of_the_account_decides(owner_p, carol, account):
    request = approvals.request_permission(principal=carol, reason="please")
    alice = Principal(account, RamUserFactory(account=account, user_name="alice"))
    other_owner = Principal(AccountFactory())
    for principal in (carol, alice, other_owner):
        with pytest.raises(PermissionDenied):
            approvals.approve(principal=principal, request=request)
        with pytest.raises(PermissionDenied):
            approvals.reject(principal=principal, request=request, reason="no")
    with pytest.raises(PermissionDenied):
        approvals.withdraw(principal=alice, request=request)
    request.refresh_from_db()
    assert request.status == "pending"
    assert request.steps.count() == 1
    assert not Principal(account, carol.ram_user).can_list_users()


def test_a_request_with_no_approver_channel_reaches_the_owners_sign_in_address(account):
    carol = Principal(account, RamUserFactory(account=account, user_name="carol"))
    ensure_managed(account)
    request = approvals.request_permission(principal=carol, reason="please")
    (delivery,) = Delivery.objects.all()
    assert delivery.channel == "email" and delivery.target == account.login_name
    assert events()[0].payload["requester"] == carol.sign_in_name
    assert request.pk


def test_a_request_nobody_can_be_reached_for_is_recorded_and_said(account):
    account.login_name = "ops-owner"  # a login name that is not an email address
    account.save()
    carol = Principal(account, RamUserFactory(account=account, user_name="carol"))
    ensure_managed(account)
    request = approvals.request_permission(principal=carol, reason="please")
    assert request.pk and Delivery.objects.count() == 0
    assert events()[0].payload["requester"] == carol.sign_in_name
    assert approval_reach.reach(account) == approval_reach.Reach(approval_reach.NOBODY)


def test_the_approvals_command_lists_requests_and_their_steps(owner_p, carol, account):
    request = approvals.request_permission(principal=carol, reason="need it")
    approvals.reject(principal=owner_p, request=request, reason="no")
    data = json.loads(run("approvals", account.account_id, "--json"))
    (row,) = data["requests"]
    assert row["status"] == "rejected" and row["decision_reason"] == "no"
    assert [s["action"] for s in row["steps"]] == ["requested", "rejected"]
    text = run("approvals", account.account_id, "--status", "pending")
    assert text.strip() == "no permission requests"
