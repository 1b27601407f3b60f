"""Query budgets (docs/architecture.md): the Contact Management page and its htmx rows run the same
number of SQL queries for 1 contact and for 100, for each kind of principal (rules §3)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from arms_sync.models import ArmsContact
from contacts import services
from ram_directory import services as ram_services
from ram_directory.models import Policy
from tests.factories import owner_of
from tests.integration.contacts_support import (
    DINGTALK_URL,
    WECOM_URL,
    grant_list_users,
    mobile,
    principal_of,
    ram_user_named,
)

pytestmark = pytest.mark.django_db

URL = "contacts:list"


def fill(account, how_many: int, *, creator=None) -> None:
    """`how_many` contacts with every column drawn: both badges, robots, linked and not."""
    principal = principal_of(account, creator)
    for i in range(how_many):
        services.create_contact(
            principal=principal,
            ram_user=None if (i == 0 and creator is None) else ram_user_named(account, f"u{i:03d}"),
            phone=mobile(i),
            mailbox=f"u{i}@example.com",
            dingtalk_webhook=DINGTALK_URL if i % 2 else "",
            wecom_webhook=WECOM_URL if i % 3 else "",
        )
    if how_many > 1:  # one row "Not linked"
        ArmsContact.objects.filter(account=account).order_by("pk").first().delete()


def count_queries(client, **kwargs) -> int:
    client.get(reverse(URL), **kwargs)  # warm the session and the template caches
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse(URL), **kwargs)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "rows"])
def test_owner_page_runs_the_same_queries_for_1_and_100_contacts(
    client, account, other_account, htmx
):
    headers = {"HX-Request": "true", "HX-Target": "contact-rows"} if htmx else {}
    fill(account, 1)
    fill(other_account, 100)
    client.force_login(owner_of(account))
    one = count_queries(client, headers=headers)
    client.force_login(owner_of(other_account))
    hundred = count_queries(client, headers=headers)
    assert client.get(reverse(URL), headers=headers).text.count("data-contact-id=") == 100
    print(f"\nowner {'rows' if htmx else 'page'}: 1 contact {one} queries, 100 contacts {hundred}")
    assert one == hundred


def test_list_users_holder_page_runs_the_same_queries_for_1_and_100(
    sign_in, account, other_account
):
    fill(account, 1)
    fill(other_account, 100)
    one = count_queries(sign_in(ram_user_named(account, "lister", list_users=True)))
    hundred = count_queries(sign_in(ram_user_named(other_account, "lister", list_users=True)))
    print(f"\nlister page: 1 contact {one} queries, 100 contacts {hundred}")
    assert one == hundred


def test_plain_ram_user_page_runs_the_same_queries_for_1_and_100(sign_in, account, other_account):
    """A RAM user without ListUsers sees the contacts it created: here 1 against 100 (it
    created 99 while it held ListUsers, then the policy was detached)."""
    me_one = ram_user_named(account, "me")
    services.create_contact(
        principal=principal_of(account, me_one), ram_user=me_one, phone=mobile(0)
    )
    me_many = grant_list_users(ram_user_named(other_account, "me"))
    fill(other_account, 100, creator=me_many)
    for policy in Policy.objects.filter(attachments__ram_user=me_many):
        ram_services.detach_policy(ram_user=me_many, policy=policy)
    one = count_queries(sign_in(me_one))
    client = sign_in(me_many)
    hundred = count_queries(client)
    assert client.get(reverse(URL)).text.count("data-contact-id=") == 100
    print(f"\nplain page: 1 contact {one} queries, 100 contacts {hundred}")
    assert one == hundred


@pytest.mark.parametrize("field", ["username", "phone", "mailbox"])
def test_query_with_a_nul_character_finds_nothing_instead_of_500(owner_client, account, field):
    """rules §4 query bar: a value no contact can hold (a NUL character, which PostgreSQL refuses
    in a query) matches nothing; the page still answers 200."""
    fill(account, 1)
    response = owner_client.get(reverse(URL), {"field": field, "q": "a\x00"})
    assert response.status_code == 200
    assert response.context["rows"] == []


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "rows"])
def test_every_order_runs_the_same_queries_for_1_and_100_contacts(
    client, account, other_account, htmx
):
    """Sorting is the one query's ORDER BY: each column, both ways, and an unknown value cost
    what the default order costs, with 1 contact and with 100."""
    headers = {"HX-Request": "true", "HX-Target": "contact-rows"} if htmx else {}
    fill(account, 1)
    fill(other_account, 100)
    counts = {}
    for who in (account, other_account):
        client.force_login(owner_of(who))
        for sort in ("", "username", "-username", "phone", "-phone", "created", "-created", "x"):
            counts[who.pk, sort] = count_queries(client, data={"sort": sort}, headers=headers)
    default = counts[account.pk, ""]
    assert set(counts.values()) == {default}, counts
