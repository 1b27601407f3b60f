"""The ARMS pages (rules §7: contacts, groups, policies) and the Merge Contacts dialog (rules §6).

Who may view the ARMS pages (a decision recorded in arms_sync/selectors.py): the owner, a RAM
user allowed ram:ListUsers, or one allowed the page's ARMS read action (arms:*)."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from arms_sync import merge
from arms_sync.managed import ensure_managed
from arms_sync.models import ArmsContact
from contacts.models import Contact
from contacts.services import create_contact
from ram_directory.models import PolicyAttachment
from tests.factories import (
    ArmsContactFactory,
    ContactGroupFactory,
    NotificationPolicyFactory,
    PolicyFactory,
    RamUserFactory,
)
from tests.integration.contacts_support import contacts_of_new_users

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
DING = "https://oapi.dingtalk.com/robot/send?access_token=abcdef0123456789secret"


def _grant(ram_user, actions):
    policy = PolicyFactory(
        account=ram_user.account,
        document={
            "Version": "1",
            "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}],
        },
    )
    PolicyAttachment.objects.create(ram_user=ram_user, policy=policy)


@pytest.fixture
def linked_contact(account, owner_principal):
    user = RamUserFactory(account=account, user_name="alice", mobile_phone="86-13811112222")
    return create_contact(
        principal=owner_principal,
        ram_user=user,
        phone="13811112222",
        mailbox="alice@example.com",
        dingtalk_webhook=DING,
    )


def test_contact_list_shows_link_or_dash_and_masks_robots(owner_client, account, linked_contact):
    """rules §7 / rules §8: each ARMS contact shows the SAE contact it is linked to (or "—"), and
    robot tokens are masked."""
    ArmsContactFactory(account=account, name="Night pager", phone="+8613900000000")
    response = owner_client.get(reverse("arms:contact_list"))
    assert response.status_code == 200
    text = response.text
    assert "Night pager" in text and "alice@example.com" in text
    assert "abcdef0123456789secret" not in text
    assert "abcd…cret" in text
    rows = text.split('data-testid="linked-to">')[1:]
    linked = [row.split("</td>")[0].strip() for row in rows]
    assert any(cell.endswith("alice") for cell in linked)
    assert "—" in linked


@pytest.mark.parametrize(
    ("field", "query", "expected"),
    [
        ("name", "PAGER", "Night pager"),
        ("phone", "139 0000", "Night pager"),
        ("phone", "+86 139-0000-0000", "Night pager"),
        ("email", "ALERTS.example", "Night pager"),
        ("name", "alice", "alice"),
    ],
)
def test_query_bar_matches_by_name_phone_and_email(
    owner_client, account, linked_contact, field, query, expected
):
    """rules §4's query rules on the ARMS contacts page: case-insensitive substring, a phone
    however it is typed."""
    ArmsContactFactory(
        account=account, name="Night pager", phone="+8613900000000", email="np@alerts.example.com"
    )
    response = owner_client.get(reverse("arms:contact_list"), {"field": field, "q": query})
    names = [a.name for a in response.context["contacts"]]
    assert names == [expected]


def test_query_bar_answers_with_the_rows_fragment_for_htmx(owner_client, linked_contact):
    response = owner_client.get(
        reverse("arms:contact_list"),
        {"field": "name", "q": "ali"},
        **HTMX,
        HTTP_HX_TARGET="arms-contact-rows",
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="arms-contact-rows">')


def test_groups_show_member_counts_and_the_managed_badge(owner_client, account, linked_contact):
    """rules §7: `sae:` groups are shown as managed by SAE."""
    ContactGroupFactory(account=account, name="night-shift")
    response = owner_client.get(reverse("arms:group_list"))
    text = response.text
    assert "sae:contacts" in text and "night-shift" in text
    assert text.count('data-testid="managed-badge"') == 2  # sae:contacts and sae:approvers
    counts = {g.name: g.member_count for g in response.context["groups"]}
    assert counts == {"night-shift": 0, "sae:approvers": 0, "sae:contacts": 1}


def test_group_detail_lists_members_and_policies(owner_client, account, linked_contact):
    group = ensure_managed(account).contacts_group
    response = owner_client.get(reverse("arms:group_detail", args=[group.pk]))
    assert response.status_code == 200
    assert "alice@example.com" in response.text
    assert "sae:default" in response.text


def test_policies_show_match_labels_and_groups(owner_client, account, linked_contact):
    policy = NotificationPolicyFactory(
        account=account, name="db-alerts", match_labels={"team": "db"}
    )
    policy.groups.add(ContactGroupFactory(account=account, name="dba"))
    text = owner_client.get(reverse("arms:policy_list")).text
    assert "team=db" in text and "dba" in text
    assert "source=sae" in text and "sae:contacts" in text


@pytest.mark.parametrize("rows", [1, 100])
def test_contact_list_query_count_does_not_grow_with_rows(
    owner_client, account, django_assert_num_queries, rows
):
    """docs/architecture.md: list pages run a fixed number of queries (1 row or 100 rows)."""
    contacts_of_new_users(account, rows)
    owner_client.get(reverse("arms:contact_list"))  # warm the session
    # session + user, the ARMS contacts with their SAE contacts, the Not-linked count, the
    # menu's Permission Approval badge.
    with django_assert_num_queries(5):
        response = owner_client.get(reverse("arms:contact_list"))
    assert len(response.context["contacts"]) == rows


@pytest.mark.parametrize("rows", [1, 60])
def test_group_and_policy_pages_query_count_does_not_grow(
    owner_client, account, django_assert_num_queries, rows
):
    for n in range(rows):
        group = ContactGroupFactory(account=account, name=f"g{n}")
        group.members.add(ArmsContactFactory(account=account))
        NotificationPolicyFactory(account=account, name=f"p{n}").groups.add(group)
    owner_client.get(reverse("arms:group_list"))
    # session + user, then the groups with their member counts in one query, the badge.
    with django_assert_num_queries(4):
        owner_client.get(reverse("arms:group_list"))
    # session + user, the policies, their groups (one prefetch), the badge.
    with django_assert_num_queries(5):
        owner_client.get(reverse("arms:policy_list"))


def test_ram_user_without_permission_may_not_view_arms_pages(sign_in, account, ram_user):
    """Decision: the ARMS pages need the owner, ram:ListUsers or an arms: read action."""
    client = sign_in(ram_user)
    group = ensure_managed(account).contacts_group
    for url in (
        reverse("arms:contact_list"),
        reverse("arms:group_list"),
        reverse("arms:group_detail", args=[group.pk]),
        reverse("arms:policy_list"),
    ):
        assert client.get(url).status_code == 403


@pytest.mark.parametrize("actions", [["ram:ListUsers"], ["arms:*"]])
def test_ram_user_allowed_list_users_or_arms_may_view(sign_in, ram_user, actions):
    _grant(ram_user, actions)
    client = sign_in(ram_user)
    assert client.get(reverse("arms:contact_list")).status_code == 200
    assert client.get(reverse("arms:group_list")).status_code == 200
    assert client.get(reverse("arms:policy_list")).status_code == 200


def test_unlinked_arms_contact_can_be_deleted_from_the_page(owner_client, account):
    arms = ArmsContactFactory(account=account, name="Old pager")
    assert owner_client.get(reverse("arms:contact_delete", args=[arms.pk])).status_code == 200
    response = owner_client.post(reverse("arms:contact_delete", args=[arms.pk]))
    assert response.status_code == 302
    assert not ArmsContact.objects.filter(pk=arms.pk).exists()


def test_linked_arms_contact_cannot_be_deleted_from_the_page(owner_client, linked_contact):
    """rules §7: a linked ARMS contact is SAE's; the page refuses (403), nothing changes."""
    arms = linked_contact.arms_contact
    response = owner_client.post(reverse("arms:contact_delete", args=[arms.pk]))
    assert response.status_code == 403
    assert ArmsContact.objects.filter(pk=arms.pk, sae_contact=linked_contact).exists()


def test_arms_contact_linked_after_the_page_was_read_is_not_deleted(
    owner_client, account, linked_contact, monkeypatch
):
    """rules §7, under a race: the page read the ARMS contact while it was free; by the time
    Confirm arrives an SAE contact is linked to it. The delete decides on the row as it is
    now: 403, nothing deleted."""
    arms = linked_contact.arms_contact
    stale = ArmsContact.objects.get(pk=arms.pk)
    stale.sae_contact_id = None  # what the page saw a moment ago
    monkeypatch.setattr(
        "arms_sync.views.selectors.arms_contact_for_delete", lambda principal, pk: stale
    )
    response = owner_client.post(reverse("arms:contact_delete", args=[arms.pk]))
    assert response.status_code == 403
    assert ArmsContact.objects.filter(pk=arms.pk, sae_contact=linked_contact).exists()


# --- Merge Contacts dialog -----------------------------------------------------------------


@pytest.fixture
def mergeable(account):
    RamUserFactory(account=account, user_name="bob", mobile_phone="86-13800000002")
    ArmsContactFactory(account=account, name="Bob on call", phone="+8613800000002")
    RamUserFactory(account=account, user_name="hk", mobile_phone="852-51234567")


def test_merge_dialog_shows_the_preview_as_a_modal_fragment(owner_client, mergeable):
    """rules §6: the dialog first shows a preview (what would be linked, created, skipped, why)."""
    response = owner_client.get(reverse("arms:merge_contacts"), **HTMX)
    assert response.status_code == 200
    text = response.text
    assert text.lstrip().startswith('<div class="modal')
    assert "Bob on call" in text and "no mainland mobile phone" in text
    assert ArmsContact.objects.get(phone="+8613800000002").sae_contact is None  # nothing done


def test_merge_page_works_without_javascript(owner_client, account, mergeable):
    """rules §6 / STYLE: the dialog is also a plain page whose form POSTs; the answer is the
    report (issue 18), with a way back to Contact Management."""
    page = owner_client.get(reverse("arms:merge_contacts"))
    assert "<html" in page.text and 'name="digest"' in page.text
    digest = page.context["plan"].digest
    response = owner_client.post(reverse("arms:merge_contacts"), {"digest": digest})
    assert response.status_code == 200
    assert 'data-testid="merge-report"' in response.text
    close = f'href="{reverse("contacts:list")}" data-return-focus data-testid="merge-close"'
    assert close in response.text
    (message,) = [str(m) for m in get_messages(response.wsgi_request)]
    assert message == "Merge Contacts finished: contact created: 1, skipped: 2."
    bob = ArmsContact.objects.get(phone="+8613800000002")
    assert bob.name == "bob" and bob.sae_contact.ram_user.user_name == "bob"


def test_merge_confirm_with_htmx_keeps_the_report_and_refreshes_the_list(owner_client, mergeable):
    """Issue 18: after Confirm the dialog shows what was linked, created and skipped and why;
    the contact list behind it reloads (contactsChanged)."""
    response = owner_client.post(reverse("arms:merge_contacts"), **HTMX)
    assert response.status_code == 200
    assert response["HX-Trigger"] == "contactsChanged"
    text = response.text
    assert 'data-testid="merge-report"' in text and "no mainland mobile phone" in text
    assert 'data-action="created"' in text
    assert Contact.objects.filter(ram_user__user_name="bob").exists()


def test_merge_confirm_on_a_stale_preview_asks_to_review_again(owner_client, account, mergeable):
    """rules §6: Confirm applies exactly the preview; if the data changed, nothing is done."""
    digest = owner_client.get(reverse("arms:merge_contacts")).context["plan"].digest
    RamUserFactory(account=account, user_name="late", mobile_phone="86-13800000088")
    response = owner_client.post(reverse("arms:merge_contacts"), {"digest": digest}, **HTMX)
    assert response.status_code == 422
    assert merge.PLAN_CHANGED in response.text
    assert not Contact.objects.filter(account=account).exists()


def test_ram_user_without_list_users_gets_403_from_merge_and_nothing_changes(
    sign_in, account, mergeable
):
    """rules §3: a RAM user without ram:ListUsers may not Merge Contacts (checked on the
    server, for the preview and for Confirm)."""
    user = RamUserFactory(account=account, user_name="carol", mobile_phone="86-13800000003")
    client = sign_in(user)
    assert client.get(reverse("arms:merge_contacts")).status_code == 403
    assert client.post(reverse("arms:merge_contacts")).status_code == 403
    assert not Contact.objects.filter(account=account).exists()
    assert ArmsContact.objects.get(phone="+8613800000002").name == "Bob on call"


def test_ram_user_with_list_users_may_merge(sign_in, account, mergeable):
    user = RamUserFactory(account=account, user_name="carol", mobile_phone="86-13800000003")
    _grant(user, ["ram:ListUsers"])
    response = sign_in(user).post(reverse("arms:merge_contacts"))
    assert response.status_code == 200
    assert Contact.objects.filter(account=account).count() == 2


@pytest.mark.parametrize("rows", [1, 60])
def test_group_detail_query_count_does_not_grow_with_members(
    owner_client, account, django_assert_num_queries, rows
):
    contacts_of_new_users(account, rows)
    group = ensure_managed(account).contacts_group
    url = reverse("arms:group_detail", args=[group.pk])
    owner_client.get(url)
    # session + user, the group with its count, its members with their SAE contacts, its
    # policies, the menu's Permission Approval badge.
    with django_assert_num_queries(6):
        response = owner_client.get(url)
    assert response.context["group"].member_count == rows


def test_arms_contacts_page_highlights_its_own_navigation_link_only(owner_client):
    text = owner_client.get(reverse("arms:contact_list")).text
    assert f'console-nav-link active" href="{reverse("arms:contact_list")}"' in text
    assert f'console-nav-link active" href="{reverse("contacts:list")}"' not in text
