"""rules §9 and §15: a permission request always reaches someone, or the pages say it cannot.
Approvers on every channel they have; else the owner's sign-in address when it is an email
address; else nobody, said plainly. Approvers see the pending count on the menu of every page.
The approval grant reuses the account's own ListUsers policy; two approvals at the same moment
are both approved (both databases: threads on a file SQLite and on PostgreSQL)."""

# ruff: noqa: RUF001 (Chinese titles use full-width punctuation)
from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from arms_sync.managed import ensure_managed
from arms_sync.models import ArmsContact
from arms_sync.notify.models import Delivery, Event
from contacts import services as contact_services
from ram_directory import approvals
from ram_directory.models import GRANT_POLICY_NAME, PermissionRequest, Policy
from ram_directory.policy import LIST_USERS_DOCUMENT
from ram_directory.principal import Principal
from ram_directory.services import create_policy
from tests.factories import AccountFactory, RamUserFactory, owner_of
from tests.integration.test_contact_concurrency import race

APPROVALS = reverse("ram:approval_list")
REQUEST = reverse("ram:approval_request")


def requester(account, name="carol") -> Principal:
    return Principal(account, RamUserFactory(account=account, user_name=name))


@pytest.mark.django_db
def test_a_request_reaches_every_approver_on_every_channel(account):
    ensure_managed(account)
    group = ensure_managed(account).approvers_group
    both = ArmsContact.objects.create(
        account=account,
        name="lead",
        email="lead@example.com",
        wecom_robot_url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc-123",
    )
    silent = ArmsContact.objects.create(account=account, name="silent")
    group.members.add(both, silent)
    approvals.request_permission(principal=requester(account), reason="please")
    channels = sorted(Delivery.objects.values_list("channel", flat=True))
    assert channels == ["email", "wecom"]


@pytest.mark.django_db
def test_the_pages_say_when_no_approver_can_be_reached(client, account, sign_in):
    account.login_name = "ops-owner"
    account.save()
    carol = requester(account)
    page = sign_in(carol.ram_user).get(REQUEST).content.decode()
    assert 'data-testid="approval-reach-nobody"' in page
    answer = sign_in(carol.ram_user).post(REQUEST, {"reason": "please"}, follow=True)
    assert "no approver can be reached" in answer.content.decode()
    assert PermissionRequest.objects.filter(status="pending").count() == 1
    owner = Client()
    owner.force_login(owner_of(account))
    html = owner.get(APPROVALS).content.decode()
    assert 'data-testid="approval-reach-nobody"' in html and "sae:approvers" in html


@pytest.mark.django_db
def test_the_owner_is_told_when_requests_go_to_the_sign_in_address(owner_client, account):
    html = owner_client.get(APPROVALS).content.decode()
    assert 'data-testid="approval-reach-owner-email"' in html and account.login_name in html
    contact_services.create_contact(
        principal=Principal(account), ram_user=None, phone="+8613800000971", mailbox="o@ex.com"
    )
    html = owner_client.get(APPROVALS).content.decode()
    assert "approval-reach" not in html  # the approvers are reached: nothing to say


@pytest.mark.django_db
def test_the_pending_count_is_on_the_menu_of_every_page_for_the_owner(
    owner_client, account, sign_in
):
    approvals.request_permission(principal=requester(account), reason="please")
    for url in (
        reverse("contacts:list"),
        reverse("alerts:alert_list"),
        reverse("notify:delivery_list"),
        reverse("ram:user_list"),
        APPROVALS,
    ):
        html = owner_client.get(url).content.decode()
        assert 'data-testid="approval-badge"' in html, url


@pytest.mark.django_db
def test_the_approval_reuses_the_accounts_own_list_users_policy(account):
    seed = create_policy(account=account, name="SAEContactListUsers", document=LIST_USERS_DOCUMENT)
    request = approvals.request_permission(principal=requester(account), reason="please")
    approvals.approve(principal=Principal(account), request=request)
    request.refresh_from_db()
    assert request.granted_policy == seed
    assert not Policy.objects.filter(account=account, name=GRANT_POLICY_NAME).exists()


@pytest.mark.django_db
def test_a_policy_granting_more_than_list_users_is_not_reused(account):
    create_policy(
        account=account,
        name="Broad",
        document={
            "Version": "1",
            "Statement": [
                {"Effect": "Allow", "Action": ["ram:ListUsers", "ram:*"], "Resource": "*"}
            ],
        },
    )
    request = approvals.request_permission(principal=requester(account), reason="please")
    approvals.approve(principal=Principal(account), request=request)
    request.refresh_from_db()
    assert request.granted_policy.name == GRANT_POLICY_NAME


@pytest.mark.django_db
def test_permission_request_titles_are_in_the_readers_language(owner_client, account):
    request = approvals.request_permission(principal=requester(account), reason="please")
    (event,) = Event.objects.filter(kind="approval")
    with translation.override("zh-hans"):
        assert event.display_title == "权限申请：carol 申请 ram:ListUsers"
    assert event.display_title == "Permission request: carol asks for ram:ListUsers"
    approvals.reject(principal=Principal(account), request=request, reason="no")
    decided = Event.objects.filter(kind="approval").order_by("-id").first()
    with translation.override("zh-hans"):
        assert decided.display_title == "权限申请已拒绝：carol，ram:ListUsers"


@pytest.mark.django_db(transaction=True)
def test_two_requests_approved_at_the_same_moment_are_both_approved():
    account = AccountFactory()
    owner = Principal(account)
    requests = [
        approvals.request_permission(principal=requester(account, f"user{i}"), reason="please")
        for i in range(2)
    ]

    def job(i):
        return approvals.approve(principal=owner, request=requests[i]).status

    results, _ = race(2, job)
    assert results == [("ok", "approved"), ("ok", "approved")], results
    statuses = set(PermissionRequest.objects.values_list("status", flat=True))
    assert statuses == {"approved"}
    (grant,) = Policy.objects.filter(account=account, name=GRANT_POLICY_NAME)
    assert grant.attachments.count() == 2
