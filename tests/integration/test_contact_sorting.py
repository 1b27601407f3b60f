"""The Contact Management table's Created At column and its order (issue 10): `?sort=` names a
column (username, phone, created), "-" in front for descending; the headers link to the other
order, keep the query bar, carry aria-sort, and work as plain links and over htmx. Anything
else in `?sort=` is the default order (oldest first), never an error."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django.utils import translation

from contacts import services
from contacts.models import Contact
from ram_directory.models import Account
from tests.integration.contacts_support import principal_of, ram_user_named

pytestmark = pytest.mark.django_db

URL = reverse("contacts:list")
HTMX = {"HX-Request": "true", "HX-Target": "contact-rows"}
T0 = datetime(2026, 3, 19, 2, 0, tzinfo=UTC)  # 10:00 in Asia/Shanghai, the display zone

# username -> (phone, minutes after T0 it was created). "Bob" sorts between "alice" and
# "carol" (case does not count); erin and the account itself were created in the same instant,
# so only the pk orders them; the phones are in none of the other orders.
TABLE = {
    "carol": ("+8613600000005", 10),
    "alice": ("+8613600000003", 30),
    "Bob": ("+8613600000001", 20),
    "erin": ("+8613600000004", 40),
    None: ("+8613600000002", 40),  # the account itself, login name "Dora@example.com"
}
LOGIN_NAME = "Dora@example.com"


@pytest.fixture
def contacts(account) -> dict[str, Contact]:
    Account.objects.filter(pk=account.pk).update(login_name=LOGIN_NAME)
    account.refresh_from_db()
    made = {}
    for name, (phone, minutes) in TABLE.items():
        contact = services.create_contact(
            principal=principal_of(account),
            ram_user=ram_user_named(account, name) if name else None,
            phone=phone,
            mailbox=f"{(name or 'dora').lower()}@example.com",
        )
        Contact.objects.filter(pk=contact.pk).update(created_at=T0 + timedelta(minutes=minutes))
        made[name or LOGIN_NAME] = contact
    return made


def shown(response, contacts) -> list[str]:
    """The usernames of the table's rows, top to bottom."""
    assert response.status_code == 200
    by_pk = {str(c.pk): name for name, c in contacts.items()}
    return [by_pk[pk] for pk in re.findall(r'<tr data-contact-id="(\d+)">', response.text)]


def expected(contacts, key: str, descending: bool) -> list[str]:
    """TABLE's usernames in the order asked for, the pk second."""
    by_name = {name or LOGIN_NAME: values for name, values in TABLE.items()}

    def sort_key(name: str):
        phone, minutes = by_name[name]
        column = {"username": name.lower(), "phone": phone, "created": minutes}[key]
        return (column, contacts[name].pk)

    return sorted(contacts, key=sort_key, reverse=descending)


def header(page: str, testid: str) -> str:
    """The <th> whose link carries data-testid=testid."""
    link = page.index(f'data-testid="{testid}"')
    return page[page.rindex("<th", 0, link) : page.index("</th>", link)]


def link_query(th: str) -> dict[str, list[str]]:
    href = re.search(r'href="([^"]*)"', th).group(1).replace("&amp;", "&")
    return parse_qs(urlsplit(href).query)


@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
@pytest.mark.parametrize("key", ["username", "phone", "created"])
def test_each_column_sorts_both_ways(owner_client, contacts, key, descending):
    sort = f"-{key}" if descending else key
    order = shown(owner_client.get(URL, {"sort": sort}), contacts)
    assert order == expected(contacts, key, descending)
    assert order != expected(contacts, key, not descending)


def test_the_pk_breaks_a_tie_and_descending_is_ascending_reversed(owner_client, contacts):
    up = shown(owner_client.get(URL, {"sort": "created"}), contacts)
    down = shown(owner_client.get(URL, {"sort": "-created"}), contacts)
    assert up[-2:] == ["erin", LOGIN_NAME]  # created together: erin's pk is the lower
    assert down == list(reversed(up))


def test_the_default_order_is_oldest_first(owner_client, contacts):
    assert shown(owner_client.get(URL), contacts) == expected(contacts, "created", False)


@pytest.mark.parametrize(
    "bogus", ["", "-", "--phone", "created_at", "pk", "Username", "phone;drop", "a\x00", "x" * 500]
)
def test_an_unknown_sort_is_the_default_order(owner_client, contacts, bogus):
    response = owner_client.get(URL, {"sort": bogus})
    assert shown(response, contacts) == expected(contacts, "created", False)
    assert 'name="sort"' not in response.text  # nothing of it is carried on


def test_only_the_sorted_header_has_aria_sort(owner_client, contacts):
    page = owner_client.get(URL, {"sort": "-phone"}).text
    assert page.count("aria-sort=") == 1
    assert 'aria-sort="descending"' in header(page, "sort-phone")
    default = owner_client.get(URL).text
    assert default.count("aria-sort=") == 1
    assert 'aria-sort="ascending"' in header(default, "sort-created")


def test_a_header_links_to_the_other_order_of_its_column(owner_client, contacts):
    page = owner_client.get(URL, {"sort": "username"}).text
    assert link_query(header(page, "sort-username"))["sort"] == ["-username"]
    assert link_query(header(page, "sort-phone"))["sort"] == ["phone"]  # a new column: up
    assert "Sort descending" in header(page, "sort-username")
    assert "Sort ascending" in header(page, "sort-phone")


def test_sorting_keeps_the_query_and_the_query_keeps_the_sort(owner_client, contacts):
    query = {"field": "mailbox", "q": "example.com", "sort": "-phone"}
    response = owner_client.get(URL, {**query, "field": "username", "q": "o"})
    assert shown(response, contacts) == ["carol", LOGIN_NAME, "Bob"]  # "o" in the name
    page = response.text
    # A header keeps the query bar's field and text; the search form sends the order along.
    assert link_query(header(page, "sort-username")) == {
        "field": ["username"],
        "q": ["o"],
        "sort": ["username"],
    }
    assert '<input type="hidden" name="sort" value="-phone" form="contact-query">' in page


def test_htmx_sorting_answers_the_sorted_rows_with_their_headers(owner_client, contacts):
    response = owner_client.get(
        URL, {"sort": "-username", "field": "username", "q": "r"}, headers=HTMX
    )
    assert "<html" not in response.text  # the fragment only
    assert shown(response, contacts) == ["erin", LOGIN_NAME, "carol"]
    th = header(response.text, "sort-username")
    assert 'aria-sort="descending"' in th
    assert f'hx-get="{URL}?' in th and 'hx-target="#contact-rows"' in th
    assert 'name="sort" value="-username"' in response.text


def test_the_created_at_column_shows_the_local_time(owner_client, contacts):
    page = owner_client.get(URL).text
    # The header names the zone of the times below it (issue 18).
    assert (
        '>Created At <span class="fw-normal text-secondary text-nowrap" '
        'data-testid="time-zone">(UTC+08:00)</span><' in page
    )
    row = page[page.index(f'<tr data-contact-id="{contacts["carol"].pk}">') :]
    row = row[: row.index("</tr>")]
    assert '<time datetime="2026-03-19T10:10:00+08:00">' in row
    assert '<span class="text-nowrap">2026-03-19</span> <span class="text-nowrap">10:10:00' in row


def test_the_created_at_column_and_sort_hints_in_chinese(owner_client, contacts):
    owner_client.post(reverse("set_language"), {"language": "zh-hans", "next": URL})
    try:
        page = owner_client.get(URL, {"sort": "created"}).text
    finally:
        translation.activate("en")
    assert "创建时间" in header(page, "sort-created")
    assert "按降序排列" in header(page, "sort-created")
    assert "按升序排列" in header(page, "sort-username")
    assert "Created At" not in page and "Sort ascending" not in page
