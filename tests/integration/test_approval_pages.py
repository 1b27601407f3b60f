"""rules §9 in the console: Request permission from the New Contact panel, the Permission Approval
page (the owner approves or rejects; a RAM user follows and withdraws its own requests), the
menu badge; every POST checked on the server (a forged one changes nothing), another account's
request 404, no 500 for a request decided meanwhile, no-store, fixed query counts, plain pages
without JavaScript, and the approvers' and requester's deliveries."""

from __future__ import annotations

import json
import re

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from arms_sync.notify.models import Delivery, Event
from contacts import services as contact_services
from ram_directory import approval_views, approvals
from ram_directory import services as ram_services
from ram_directory.models import PermissionRequest, PolicyAttachment
from ram_directory.principal import Principal
from tests.factories import AccountFactory, RamUserFactory, owner_of
from tests.integration.contacts_support import mobile

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
PANEL = reverse("contacts:new")
LIST = reverse("ram:approval_list")
REQUEST = reverse("ram:approval_request")


def approve_url(item: PermissionRequest) -> str:
    return reverse("ram:approval_approve", args=[item.pk])


def reject_url(item: PermissionRequest) -> str:
    return reverse("ram:approval_reject", args=[item.pk])


def withdraw_url(item: PermissionRequest) -> str:
    return reverse("ram:approval_withdraw", args=[item.pk])


@pytest.fixture
def owner_p(account) -> Principal:
    """The owner, whose contact (with a mailbox) is in sae:approvers."""
    principal = Principal(account)
    contact_services.create_contact(
        principal=principal, ram_user=None, phone=mobile(801), mailbox="owner@example.com"
    )
    return principal


@pytest.fixture
def carol(account, owner_p):
    """A RAM user without ram:ListUsers, with a contact (and mailbox) of its own."""
    user = RamUserFactory(account=account, user_name="carol")
    contact_services.create_contact(
        principal=Principal(account, user),
        ram_user=user,
        phone=mobile(802),
        mailbox="carol@example.com",
    )
    return user


@pytest.fixture
def pending(carol) -> PermissionRequest:
    return approvals.request_permission(
        principal=Principal(carol.account, carol), reason="I add contacts for my team"
    )


def state(item: PermissionRequest) -> tuple[str, int, int]:
    """What a forged POST must not change: status, steps, the requester's policies."""
    item.refresh_from_db()
    policies = PolicyAttachment.objects.filter(ram_user=item.requester).count()
    return item.status, item.steps.count(), policies


def deliveries_to(target: str) -> list[Delivery]:
    """The approval deliveries to one mailbox (targets are encrypted: compared in Python)."""
    rows = Delivery.objects.filter(event__kind=Event.Kind.APPROVAL).select_related("event")
    return [d for d in rows.order_by("id") if d.target == target]


def decision_messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- Request permission from the New Contact panel -----------------------------------------


def test_the_new_contact_panel_offers_request_permission_to_a_ram_user_without_list_users(
    sign_in, carol
):
    page = sign_in(carol).get(PANEL).text
    assert f'href="{REQUEST}?next=/contacts/new/"' in page
    assert "Request permission" in page and " disabled>" not in page


def test_a_request_notifies_the_approvers_and_the_panel_says_it_is_pending(sign_in, carol):
    client = sign_in(carol)
    response = client.post(REQUEST, {"reason": "I add contacts for my team", "next": PANEL})
    assert response.status_code == 302 and response["Location"] == PANEL
    item = PermissionRequest.objects.get()
    assert (item.requester, item.status, item.reason) == (
        carol,
        "pending",
        "I add contacts for my team",
    )
    (to_owner,) = deliveries_to("owner@example.com")
    assert to_owner.event.payload["url"].endswith(LIST) or to_owner.event.payload["url"] == ""
    page = client.get(PANEL)
    assert re.search(r"Your request for <code>ram:ListUsers</code> is pending", page.text)
    assert "I add contacts for my team" in page.text
    assert f'href="{withdraw_url(item)}?next=/contacts/new/"' in page.text
    assert "Request permission</a>" not in page.text
    # Without JavaScript the message comes with the page it returns to.
    assert decision_messages(page) == [approval_views.REQUESTED.format(permission="ram:ListUsers")]


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501, "bad\x00reason"])
def test_a_request_without_a_sane_reason_is_refused_next_to_the_field(sign_in, carol, reason):
    response = sign_in(carol).post(REQUEST, {"reason": reason, "next": PANEL})
    assert response.status_code == 422
    text = response.text
    assert escape(approvals.REASON_REQUIRED) in text or "Null characters" in text
    # The error sits next to the field and is announced with it (rules §12).
    assert 'id="id_reason_error"' in text
    assert re.search(r'<textarea[^>]*aria-invalid="true"', text)
    assert re.search(r'<textarea[^>]*aria-describedby="[^"]*id_reason_error', text)
    assert PermissionRequest.objects.count() == 0 and Event.objects.count() == 0


def test_the_request_dialog_with_htmx_takes_the_place_of_the_panel_and_gives_it_back(
    sign_in, carol
):
    client = sign_in(carol)
    dialog = client.get(f"{REQUEST}?next={PANEL}", headers=HTMX)
    assert dialog.status_code == 200 and dialog["Cache-Control"].startswith("max-age=0")
    text = dialog.text
    # Framed as the side panel whose content it takes (partials/panel.html).
    assert text.lstrip().startswith('<div class="offcanvas') and "<html" not in text
    assert 'hx-target="closest [data-dialog-content]"' in text
    assert 'hx-select="[data-dialog-content]"' in text
    assert 'class="offcanvas-body"' in text and 'class="modal' not in text
    assert f'name="next" value="{PANEL}"' in text
    assert 'id="permission-request-title"' in text
    refused = client.post(REQUEST, {"reason": " ", "next": PANEL}, headers=HTMX)
    assert refused.status_code == 422 and "data-dialog-content" in refused.text
    # Opened on its own (no panel to go back to), it is a modal dialog.
    alone = client.get(REQUEST, headers=HTMX).text
    assert alone.lstrip().startswith('<div class="modal') and "offcanvas" not in alone
    done = client.post(REQUEST, {"reason": "my team", "next": PANEL}, headers=HTMX)
    # Back to the panel (htmx follows the redirect), which shows the pending request itself.
    assert done.status_code == 302 and done["Location"] == PANEL
    assert PermissionRequest.objects.get().status == "pending"


def test_a_second_request_while_one_is_pending_is_refused(sign_in, carol, pending):
    response = sign_in(carol).post(REQUEST, {"reason": "again"})
    assert response.status_code == 422
    assert escape(approvals.ALREADY_PENDING) in response.text
    assert PermissionRequest.objects.count() == 1


def test_the_owner_and_a_list_users_holder_have_nothing_to_request(sign_in, owner, account):
    assert sign_in(owner).post(REQUEST, {"reason": "x"}).status_code == 403
    alice = RamUserFactory(account=account, user_name="alice")
    ram_services.attach_policy(
        ram_user=alice, policy=account.policies.get(name="AliyunRAMReadOnlyAccess")
    )
    response = sign_in(alice).post(REQUEST, {"reason": "x"})
    assert response.status_code == 422
    assert escape(approvals.ALREADY_ALLOWED) in response.text
    assert PermissionRequest.objects.count() == 0


@pytest.mark.parametrize(
    "hostile", ["https://evil.example.com/", "//evil.example.com/", "/contacts/\x00", "x" * 300]
)
def test_next_is_only_ever_a_path_of_this_site(sign_in, carol, hostile):
    response = sign_in(carol).post(REQUEST, {"reason": "my team", "next": hostile})
    assert response.status_code == 302 and response["Location"] == LIST


# --- The owner's Permission Approval page --------------------------------------------------


def test_the_owner_sees_pending_requests_first_then_decided_ones_with_their_steps(
    sign_in, owner, owner_p, account, carol, pending
):
    dave = RamUserFactory(account=account, user_name="dave")
    old = approvals.request_permission(principal=Principal(account, dave), reason="old need")
    approvals.reject(principal=owner_p, request=old, reason="Ask your team lead")
    response = sign_in(owner).get(LIST)
    assert response.status_code == 200
    assert response["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"
    text = response.text
    assert text.index('data-testid="pending-table"') < text.index('data-testid="decided-table"')
    pending_part = text[text.index('data-testid="pending-table"') : text.index("decided-table")]
    assert "carol" in pending_part and "I add contacts for my team" in pending_part
    assert f'action="{approve_url(pending)}"' in pending_part
    assert f'href="{reject_url(pending)}"' in pending_part
    decided_part = text[text.index('data-testid="decided-table"') :]
    assert "dave" in decided_part and "Rejected" in decided_part
    assert "Ask your team lead" in decided_part
    assert decided_part.count("<li><time") == 2  # requested, rejected: who, when, what
    assert owner_p.sign_in_name in decided_part and dave.upn in decided_part


def test_a_ram_user_sees_only_its_own_requests_with_withdraw(sign_in, account, carol, pending):
    dave = RamUserFactory(account=account, user_name="dave")
    approvals.request_permission(principal=Principal(account, dave), reason="dave's own reason")
    text = sign_in(carol).get(LIST).text
    assert "I add contacts for my team" in text and "dave's own reason" not in text
    assert f'action="{withdraw_url(pending)}"' in text
    assert "/approve/" not in text and "/reject/" not in text
    assert 'data-testid="approval-badge"' not in text


def test_a_ram_user_without_requests_may_request_from_the_page(sign_in, carol):
    text = sign_in(carol).get(LIST).text
    assert "No pending requests." in text and f'href="{REQUEST}"' in text


def test_approve_grants_list_users_and_notifies_the_requester(
    sign_in, owner, carol, pending, account
):
    client = sign_in(owner)
    response = client.post(approve_url(pending), follow=True)
    assert response.redirect_chain == [(LIST, 302)]
    assert decision_messages(response) == [
        approval_views.APPROVED.format(user="carol", permission="ram:ListUsers")
    ]
    assert state(pending) == ("approved", 2, 1)
    assert Principal(account, carol).can_list_users()
    (to_carol,) = deliveries_to("carol@example.com")
    assert to_carol.event.payload["decision"] == "approved"
    # Carol's New Contact panel now offers every RAM user, and no longer the request.
    RamUserFactory(account=account, user_name="erin")
    panel = sign_in(carol).get(PANEL)
    assert {u.user_name for u in panel.context["form"].fields["ram_user"].queryset} == {
        "carol",
        "erin",
    }
    assert 'data-testid="permission-request"' not in panel.text


def test_approve_with_htmx_reloads_the_rows_and_the_badge(sign_in, owner, pending):
    client = sign_in(owner)
    response = client.post(approve_url(pending), headers=HTMX)
    assert response.status_code == 204
    assert json.loads(response["HX-Trigger"]) == {"closeModal": True, "approvalsChanged": True}
    rows = client.get(LIST, headers={**HTMX, "HX-Target": "approval-rows"})
    assert rows.text.lstrip().startswith('<div id="approval-rows"')
    # The message is appended to the page's live region (rules §12: read out), not a new one.
    assert '<div hx-swap-oob="beforeend:#messages">' in rows.text
    assert 'id="approval-badge" hx-swap-oob="true"' in rows.text
    assert 'data-testid="approval-badge"' not in rows.text  # nothing pending any more


def test_reject_asks_for_a_reason_in_a_dialog_and_refuses_none(sign_in, owner, pending):
    client = sign_in(owner)
    dialog = client.get(reject_url(pending), headers=HTMX)
    assert dialog.status_code == 200 and 'id="reject-title"' in dialog.text
    assert "I add contacts for my team" in dialog.text
    assert 'data-bs-dismiss="modal"' in dialog.text  # Cancel closes it
    before = state(pending)
    for reason in ("", "  ", "x" * 501):
        refused = client.post(reject_url(pending), {"reason": reason}, headers=HTMX)
        assert refused.status_code == 422
        assert escape(approvals.REJECT_REASON_REQUIRED) in refused.text
        assert 'aria-invalid="true"' in refused.text
    assert state(pending) == before
    done = client.post(reject_url(pending), {"reason": "Ask your team lead"}, headers=HTMX)
    assert done.status_code == 204 and "approvalsChanged" in done["HX-Trigger"]
    assert state(pending) == ("rejected", 2, 0)


def test_after_a_rejection_the_panel_shows_the_reason_and_offers_to_request_again(
    sign_in, owner_p, carol, pending
):
    approvals.reject(principal=owner_p, request=pending, reason="Ask your team lead")
    (to_carol,) = deliveries_to("carol@example.com")
    assert to_carol.event.payload["decision_reason"] == "Ask your team lead"
    client = sign_in(carol)
    text = client.get(PANEL).text
    assert 'data-testid="permission-request-rejected"' in text
    assert ">Ask your team lead</span>" in text
    assert f'href="{REQUEST}?next=/contacts/new/"' in text and "Request again" in text
    response = client.post(REQUEST, {"reason": "My lead agreed", "next": PANEL})
    assert response.status_code == 302
    assert PermissionRequest.objects.filter(status="pending").count() == 1


def test_withdraw_by_the_requester_tells_the_approvers(sign_in, carol, pending):
    client = sign_in(carol)
    confirm = client.get(f"{withdraw_url(pending)}?next={PANEL}")
    assert confirm.status_code == 200 and "Withdraw your pending request" in confirm.text
    assert 'hx-post="' not in confirm.text  # a plain page without JavaScript
    assert f'href="{PANEL}"' in confirm.text  # Cancel goes back to the panel
    response = client.post(withdraw_url(pending), {"next": PANEL})
    assert response.status_code == 302 and response["Location"] == PANEL
    assert state(pending) == ("withdrawn", 2, 0)
    withdrawn = deliveries_to("owner@example.com")[-1]
    assert withdrawn.event.payload["decision"] == "withdrawn"
    assert 'data-testid="permission-request-pending"' not in client.get(PANEL).text


def test_withdraw_on_the_page_with_htmx_reloads_the_rows(sign_in, carol, pending):
    response = sign_in(carol).post(withdraw_url(pending), headers=HTMX)
    assert response.status_code == 204 and "approvalsChanged" in response["HX-Trigger"]
    assert state(pending)[0] == "withdrawn"


# --- Forged requests and races -------------------------------------------------------------


def test_a_ram_users_forged_approve_or_reject_is_403_and_changes_nothing(
    sign_in, account, carol, pending
):
    alice = RamUserFactory(account=account, user_name="alice")
    before = state(pending)
    for who in (carol, alice):
        client = sign_in(who)
        assert client.post(approve_url(pending)).status_code == 403
        assert client.post(reject_url(pending), {"reason": "no"}).status_code == 403
        assert client.get(reject_url(pending)).status_code == 403
    assert state(pending) == before
    assert not Principal(account, carol).can_list_users()
    assert deliveries_to("carol@example.com") == []


def test_another_accounts_owner_gets_404_and_changes_nothing(client, carol, pending):
    other = AccountFactory()
    client.force_login(owner_of(other))
    before = state(pending)
    assert client.post(approve_url(pending)).status_code == 404
    assert client.post(reject_url(pending), {"reason": "no"}).status_code == 404
    assert client.get(reject_url(pending)).status_code == 404
    assert client.post(withdraw_url(pending)).status_code == 404
    assert state(pending) == before
    assert "I add contacts for my team" not in client.get(LIST).text


def test_only_the_requester_withdraws(sign_in, owner, account, carol, pending):
    before = state(pending)
    alice = RamUserFactory(account=account, user_name="alice")
    # Another RAM user does not see carol's request at all; the owner sees it, may not withdraw.
    assert sign_in(alice).post(withdraw_url(pending)).status_code == 404
    assert sign_in(owner).post(withdraw_url(pending)).status_code == 403
    assert state(pending) == before


def test_a_request_that_does_not_exist_is_404_not_500(sign_in, owner, carol):
    for url in (
        "/ram/approvals/999999/approve/",
        "/ram/approvals/99999999999999999999999999/approve/",
    ):
        assert sign_in(owner).post(url).status_code == 404
    assert (
        sign_in(carol).get("/ram/approvals/99999999999999999999999999/withdraw/").status_code == 404
    )


def test_a_request_decided_meanwhile_answers_with_a_clear_message(sign_in, owner, owner_p, pending):
    approvals.approve(principal=owner_p, request=pending)
    client = sign_in(owner)
    already = approvals.NOT_PENDING.format(status="approved")
    for response in (
        client.post(approve_url(pending), follow=True),
        client.post(reject_url(pending), {"reason": "no"}, follow=True),
        client.get(reject_url(pending), follow=True),
    ):
        assert response.status_code == 200 and decision_messages(response) == [already]
    assert state(pending) == ("approved", 2, 1)
    htmx = client.post(approve_url(pending), headers=HTMX)
    assert htmx.status_code == 204 and "approvalsChanged" in htmx["HX-Trigger"]


def test_a_withdraw_after_the_decision_gives_the_panel_back_showing_it(
    sign_in, owner_p, carol, pending
):
    approvals.reject(principal=owner_p, request=pending, reason="no")
    client = sign_in(carol)
    response = client.post(withdraw_url(pending), {"next": PANEL}, follow=True)
    assert response.redirect_chain == [(PANEL, 302)]
    assert decision_messages(response) == [approvals.NOT_PENDING.format(status="rejected")]
    assert state(pending)[0] == "rejected"


# --- Plain pages, menu and badge, no-store, query counts -----------------------------------


def test_without_javascript_every_dialog_is_a_plain_page(sign_in, owner, carol, pending):
    for who, url in (
        (owner, reject_url(pending)),
        (carol, REQUEST),
        (carol, withdraw_url(pending)),
    ):
        response = sign_in(who).get(url)
        assert response.status_code == 200
        assert response["Cache-Control"].startswith("max-age=0")
        text = response.text
        assert "<html" in text and 'class="console-card"' in text and "modal-content" not in text
        assert "hx-post" not in text and 'data-bs-dismiss="modal"' not in text
        assert f'href="{LIST}"' in text  # the breadcrumb and Cancel lead back


def test_the_menu_has_permission_approval_with_the_owners_pending_count(
    sign_in, owner, account, carol, pending
):
    dave = RamUserFactory(account=account, user_name="dave")
    approvals.request_permission(principal=Principal(account, dave), reason="please")
    text = sign_in(owner).get(reverse("contacts:list")).text
    assert f'href="{LIST}">Permission Approval' in text
    assert re.search(r'data-testid="approval-badge"><span aria-hidden="true">2</span>', text)
    assert "2 pending requests" in text
    text = sign_in(carol).get(reverse("contacts:list")).text
    assert f'href="{LIST}">Permission Approval' in text
    assert 'id="approval-badge"' not in text


def _queries(client, url) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return [q["sql"] for q in captured.captured_queries]


def test_the_badge_costs_the_owner_one_count_and_a_ram_user_nothing(sign_in, owner, carol):
    url = reverse("contacts:list")
    counted = [q for q in _queries(sign_in(owner), url) if "permissionrequest" in q.lower()]
    assert len(counted) == 1 and "COUNT(" in counted[0].upper()
    assert not [q for q in _queries(sign_in(carol), url) if "permissionrequest" in q.lower()]


def _requests(account, n: int, owner_p: Principal) -> None:
    """n RAM users, each with a rejected request (two steps) and a pending one."""
    for i in range(n):
        user = RamUserFactory(account=account, user_name=f"user{i:02d}", sign_in=False)
        principal = Principal(account, user)
        old = approvals.request_permission(principal=principal, reason=f"first {i}")
        approvals.reject(principal=owner_p, request=old, reason="no")
        approvals.request_permission(principal=principal, reason=f"again {i}")


@pytest.mark.parametrize("n", [1, 30])
def test_the_owners_page_costs_a_fixed_number_of_queries(
    sign_in, owner, owner_p, account, n, django_assert_num_queries
):
    _requests(account, n, owner_p)
    client = sign_in(owner)
    # Session, user; the pending rows with their requesters; the decided count, one page of
    # them with their requesters, their steps; the menu badge; who a request reaches (the
    # sae: objects, the approvers).
    with django_assert_num_queries(9):
        response = client.get(LIST)
    assert response.text.count('data-testid="pending-row"') == n
    assert response.text.count('data-testid="decided-row"') == min(n, approval_views.PAGE_SIZE)


@pytest.mark.parametrize("n", [1, 30])
def test_a_ram_users_page_costs_a_fixed_number_of_queries(
    client, owner_p, account, n, django_assert_num_queries
):
    carol = RamUserFactory(account=account, user_name="carol")
    principal = Principal(account, carol)
    for i in range(n):
        item = approvals.request_permission(principal=principal, reason=f"ask {i}")
        approvals.reject(principal=owner_p, request=item, reason="no")
    approvals.request_permission(principal=principal, reason="pending one")
    client.force_login(carol.sign_in)
    # Session, user; its policies (may it request?); pending; decided count, page, steps; who
    # a request reaches (the sae: objects, the approvers).
    with django_assert_num_queries(9):
        response = client.get(LIST)
    assert response.text.count('data-testid="decided-row"') == min(n, approval_views.PAGE_SIZE)


@pytest.fixture
def _back_to_english():
    # LocaleMiddleware leaves the request's language active in this thread.
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.mark.usefixtures("_back_to_english")
def test_in_chinese_the_pages_use_the_consoles_terms(sign_in, owner, carol, pending):
    """rules §11: 权限审批, 申请权限; nothing of this feature left in English."""
    client = sign_in(owner)
    client.post(reverse("set_language"), {"language": "zh-hans", "next": LIST})
    page = client.get(LIST).text
    for term in ("权限审批", "申请人", "批准", "拒绝", "待处理"):
        assert term in page, term
    for english in ("Permission Approval", "Approve", "Requester", "pending request"):
        assert english not in page, english
    dialog = client.get(reject_url(pending)).text
    assert "拒绝原因" in dialog and "Reason for rejection" not in dialog
    panel = sign_in(carol).get(PANEL).text
    assert "待处理" in panel and "撤回" in panel and "Withdraw" not in panel
