"""Issue 11: the admin change lists hold at 10,000 accounts. The account filter is typed, not a
list of every account; no page counts a whole table; the search asks one (indexable) question
per searched column and keeps Django's rule (every term matches some field)."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from arms_sync.models import ArmsContact
from contacts import services
from contacts.models import Contact
from ram_directory import admin_lists
from ram_directory.models import RamUser
from tests.factories import AccountFactory
from tests.integration.contacts_support import mobile, principal_of, ram_user_named

pytestmark = pytest.mark.django_db

CONTACTS = reverse("admin:contacts_contact_changelist")


@pytest.fixture
def two_accounts():
    first, second = AccountFactory(), AccountFactory()
    for n, (account, name) in enumerate(((first, "alice"), (second, "bob"), (second, "carol"))):
        services.create_contact(
            principal=principal_of(account),
            ram_user=ram_user_named(account, name),
            phone=mobile(n + 1),
            mailbox=f"{name}@mail.example",
        )
    return first, second


def shown(response) -> set[str]:
    """The user names of the contact rows of an admin change list."""
    assert response.status_code == 200
    return set(re.findall(r'<th class="field-username_shown"><a [^>]*>([^<]+)</a>', response.text))


def filter_sidebar(response) -> str:
    match = re.search(r'<details data-filter-title="account".*?</details>', response.text, re.S)
    assert match, "no account filter"
    return match.group(0)


@pytest.mark.parametrize("how", ["account ID", "login name", "LOGIN NAME", "pk"])
def test_the_account_filter_takes_a_typed_account(operator_client, two_accounts, how):
    _, second = two_accounts
    query = {
        "account ID": {"account": second.account_id},
        "login name": {"account": second.login_name},
        "LOGIN NAME": {"account": second.login_name.upper()},
        "pk": {"account__id__exact": second.pk},  # the parameter of Django's own filter
    }[how]
    response = operator_client.get(CONTACTS, query)
    assert shown(response) == {"bob", "carol"}
    assert str(second) in filter_sidebar(response)  # the chosen account is shown selected


def test_the_account_filter_lists_no_accounts(operator_client, two_accounts):
    """10,000 accounts were 10,000 links on every page: the filter offers a box instead."""
    first, second = two_accounts
    sidebar = filter_sidebar(operator_client.get(CONTACTS))
    assert first.login_name not in sidebar and second.login_name not in sidebar
    assert 'name="account"' in sidebar


def test_an_unknown_account_matches_nothing(operator_client, two_accounts):
    assert shown(operator_client.get(CONTACTS, {"account": "9999999999999999"})) == set()
    assert shown(operator_client.get(CONTACTS, {"account": "no\x00body"})) == set()


def test_the_typed_filter_keeps_the_other_filters_and_the_search(operator_client, two_accounts):
    arms = reverse("admin:arms_sync_armscontact_changelist")
    sidebar = filter_sidebar(operator_client.get(arms, {"q": "carol", "managed": "yes"}))
    assert '<input type="hidden" name="q" value="carol">' in sidebar
    assert '<input type="hidden" name="managed" value="yes">' in sidebar


@pytest.mark.parametrize(
    "url",
    [
        CONTACTS,
        reverse("admin:arms_sync_armscontact_changelist"),
        reverse("admin:ram_directory_ramuser_changelist"),
        reverse("admin:ram_directory_policy_changelist"),
        reverse("admin:ram_directory_account_changelist"),
    ],
)
def test_no_change_list_counts_a_whole_table(operator_client, two_accounts, url):
    with CaptureQueriesContext(connection) as captured:
        assert operator_client.get(url).status_code == 200
    counts = [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]
    assert counts, "the page counts nothing at all?"
    for sql in counts:
        # Capped (a LIMIT inside the count), or counted for each row a page shows (a subquery
        # correlated with the shown row's id).
        assert "LIMIT" in sql.upper() or re.search(r'= \("\w+"\."id"\)', sql), sql


def test_the_count_stops_at_the_cap(monkeypatch, two_accounts):
    monkeypatch.setattr(admin_lists, "COUNT_CAP", 1)
    rows = Contact.objects.filter(pk__in=Contact.objects.values("pk")).order_by("pk")
    assert admin_lists.CappedCountPaginator(rows, 100).count == 2  # 3 rows: "more than 1"
    monkeypatch.setattr(admin_lists, "COUNT_CAP", 10)
    assert admin_lists.CappedCountPaginator(Contact.objects.order_by("pk"), 100).count == 3


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("carol", {"carol"}),
        ("CAROL", {"carol"}),
        ("13600000002", {"bob"}),  # phone
        ("alice@mail", {"alice"}),  # mailbox
        ("mail.example bob", {"bob"}),  # every term must match (some field)
        ("nobody", set()),
        ('"carol"', {"carol"}),
    ],
)
def test_the_search_finds_by_each_field(operator_client, two_accounts, q, expected):
    assert shown(operator_client.get(CONTACTS, {"q": q})) == expected


def test_the_search_by_account_login_name(operator_client, two_accounts):
    _, second = two_accounts
    assert shown(operator_client.get(CONTACTS, {"q": second.login_name})) == {"bob", "carol"}


def test_a_nul_in_the_search_finds_nothing(operator_client, two_accounts):
    for url in (CONTACTS, reverse("admin:arms_sync_armscontact_changelist")):
        response = operator_client.get(url, {"q": "car\x00ol"})
        assert response.status_code == 200


def test_ram_user_and_arms_contact_search(operator_client, two_accounts):
    ram = operator_client.get(reverse("admin:ram_directory_ramuser_changelist"), {"q": "caro"})
    assert ram.status_code == 200 and "carol" in ram.text and "alice" not in ram.text
    arms = operator_client.get(reverse("admin:arms_sync_armscontact_changelist"), {"q": "caro"})
    assert arms.status_code == 200 and "carol" in arms.text and "alice" not in arms.text
    assert RamUser.objects.count() == 3 and ArmsContact.objects.count() == 3


def test_the_lists_open_newest_first(operator_client, two_accounts):
    """By primary key, which its index serves: the default orderings sorted a million rows."""
    text = operator_client.get(CONTACTS).text
    assert text.index(">carol<") < text.index(">bob<") < text.index(">alice<")
