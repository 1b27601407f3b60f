"""The Audit Log page: who may read it, its filters, 25 a page newest first, a fixed number of
queries, and never another account's entries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from audit.models import Entry
from audit.services import Actor, record
from ram_directory import services as ram_services
from tests.factories import PolicyFactory, RamUserFactory

pytestmark = pytest.mark.django_db

URL = "/audit/"
LOOKUP_EVENTS_DOCUMENT = {
    "Version": "1",
    "Statement": [{"Effect": "Allow", "Action": "actiontrail:LookupEvents", "Resource": "*"}],
}


def log(account, n: int, *, actor=None, at=None, obj=None, action="contact.update"):
    for i in range(n):
        entry = record(
            account=account,
            actor=actor or Actor.operator("ops"),
            action=action,
            obj=obj,
            note=f"entry {i}",
        )
        if at is not None:
            Entry.objects.filter(pk=entry.pk).update(at=at)


def rows(response) -> int:
    return response.content.decode().count('data-testid="audit-row"')


def test_owner_reads_the_log_newest_first_25_a_page(owner_client, account):
    log(account, 30)
    first = owner_client.get(URL)
    assert first.status_code == 200
    assert first["Cache-Control"].startswith("max-age=0") or "no-store" in first["Cache-Control"]
    assert rows(first) == 25
    body = first.content.decode()
    assert body.index("entry 29") < body.index("entry 28")  # newest first
    assert rows(owner_client.get(URL, {"page": 2})) == 5
    assert "Audit Log" in body and 'href="/audit/"' in body  # in the menu


def test_a_ram_user_needs_actiontrail_lookup_events(sign_in, account):
    reader = RamUserFactory(account=account, user_name="reader")
    stranger = RamUserFactory(account=account, user_name="stranger")
    ram_services.attach_policy(
        ram_user=reader, policy=PolicyFactory(account=account, document=LOOKUP_EVENTS_DOCUMENT)
    )
    refused = sign_in(stranger).get(URL)
    assert refused.status_code == 403
    assert "actiontrail:LookupEvents" in refused.content.decode()
    assert 'href="/audit/"' not in sign_in(stranger).get("/contacts/").content.decode()
    assert sign_in(reader).get(URL).status_code == 200


def test_another_accounts_entries_are_never_shown(owner_client, account, other_account):
    log(other_account, 3, actor=Actor.operator("elsewhere"), action="policy.delete")
    log(account, 1)
    response = owner_client.get(URL)
    assert rows(response) == 1
    assert 'data-action="policy.delete"' not in response.content.decode()
    # Not even when asked for by that account's person: not a choice here, so refused.
    asked = owner_client.get(URL, {"person": "elsewhere"})
    assert rows(asked) == 1 and 'data-action="policy.delete"' not in asked.content.decode()
    assert 'data-testid="filter-error"' in asked.content.decode()


def test_filters_by_person_object_type_and_dates(owner_client, account):
    alice = RamUserFactory(account=account, user_name="alice")
    policy = PolicyFactory(account=account, name="Filtered")
    days_ago = timezone.now() - dt.timedelta(days=10)
    log(account, 2, actor=Actor.operator("ops"), at=days_ago)
    log(account, 3, actor=Actor("ram_user", alice.upn, alice.user_id), obj=policy)
    by_alice = owner_client.get(URL, {"person": alice.user_id})
    assert rows(by_alice) == 3
    assert rows(owner_client.get(URL, {"object_type": "ram_directory.policy"})) == 3
    today = timezone.localdate()
    assert rows(owner_client.get(URL, {"since": today.isoformat()})) == 3
    old_day = timezone.localtime(days_ago).date().isoformat()
    assert rows(owner_client.get(URL, {"since": old_day, "until": old_day})) == 2
    backwards = owner_client.get(URL, {"since": today.isoformat(), "until": old_day})
    assert backwards.status_code == 200
    assert "The end date is before the start date." in backwards.content.decode()
    assert rows(owner_client.get(URL, {"since": "not a date"})) == 5  # shown, nothing lost


def test_the_page_runs_a_fixed_number_of_queries(
    owner_client, account, django_assert_max_num_queries
):
    log(account, 2)
    owner_client.get(URL)
    with django_assert_max_num_queries(10) as few:
        owner_client.get(URL)
    for n in range(40):
        log(account, 1, actor=Actor.operator(f"ops{n}"), obj=account)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = owner_client.get(URL)
    assert rows(response) == 25


def test_the_page_in_chinese(owner_client, account, owner_principal):
    from contacts import services

    contact = services.create_contact(
        principal=owner_principal, ram_user=None, phone="+8613612345678"
    )
    services.update_contact(principal=owner_principal, contact=contact, phone="+8613612345679")
    owner_client.post("/i18n/setlang/", {"language": "zh-hans", "next": URL})
    page = owner_client.get(URL).content.decode()
    for text in (
        "操作审计",
        "编辑了联系人",
        "创建了联系人",
        "手机号码",
        "阿里云账号",
        "全部操作者",
    ):
        assert text in page, text
    for english in ("Audit Log", "Edited contact", "Phone Number", "Everyone"):
        assert english not in page, english
