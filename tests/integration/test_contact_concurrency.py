"""rules §4 under concurrency: many requests racing for the last places of the 100-contact
limit, and for one phone number typed in different forms. Run on SQLite (file database,
IMMEDIATE transactions) and on PostgreSQL (the account row lock)."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.urls import reverse

from arms_sync.models import ArmsContact
from contacts import services
from contacts.models import Contact
from tests.factories import AccountFactory
from tests.integration.contacts_support import (
    ONE_MOBILE_TYPED,
    contacts_of_new_users,
    mobile,
    principal_of,
    ram_user_named,
)

pytestmark = pytest.mark.django_db(transaction=True)


def race(workers, job):
    """Run job(i) in `workers` threads started together; each closes its DB connection."""
    barrier = threading.Barrier(workers)
    results: list = [None] * workers

    def run(i):
        try:
            barrier.wait(timeout=30)
            results[i] = ("ok", job(i))
        except ValidationError as exc:
            results[i] = ("refused", exc)
        except Exception as exc:  # anything else is a failure of the rule under test
            results[i] = ("error", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results, time.perf_counter() - started


def report(capsys, race_name: str, outcomes: Counter, seconds: float) -> None:
    """Show how the race ended in the test output, whatever pytest captures, with the database
    it ran on."""
    ended = ", ".join(f"{count} x {outcome}" for outcome, count in sorted(outcomes.items()))
    with capsys.disabled():
        print(f"\n[{connection.vendor}] {race_name}: {ended}, {seconds:.2f}s")


def prepared_account(existing: int, newcomers: int):
    account = AccountFactory()
    owner = principal_of(account)
    contacts_of_new_users(account, existing, prefix="held")
    users = [ram_user_named(account, f"racer{i:03d}") for i in range(newcomers)]
    return account, owner, users


def test_fifty_parallel_creates_at_95_contacts_leave_exactly_100(capsys):
    """rules §4: the 101st is refused also when many requests race for the last place; each
    refusal is the friendly limit error, and nothing is half-saved on the ARMS side."""
    account, owner, users = prepared_account(95, 50)
    results, seconds = race(
        50,
        lambda i: services.create_contact(
            principal=owner, ram_user=users[i], phone=mobile(1000 + i)
        ),
    )
    kinds = Counter(kind for kind, _ in results)
    errors = [exc for kind, exc in results if kind == "error"]
    assert not errors, errors
    assert kinds == {"ok": 5, "refused": 45}
    for kind, exc in results:
        if kind == "refused":
            assert exc.messages == [services.CONTACT_LIMIT_REACHED.format(limit=100)]
    assert Contact.objects.filter(account=account).count() == 100
    assert ArmsContact.objects.filter(account=account).count() == 100
    report(capsys, "50 parallel creates at 95", kinds, seconds)


def test_fifty_parallel_posts_through_the_view_never_answer_500(capsys):
    """The same race through the New Contact panel (test client, htmx): 204 or 422 only."""
    account, _, users = prepared_account(95, 50)
    clients = []
    for _ in range(50):
        c = Client()
        c.force_login(account.sign_ins.get(ram_user__isnull=True))
        clients.append(c)
    connection.close()

    def post(i):
        response = clients[i].post(
            reverse("contacts:new"),
            {"username_kind": "ram_user", "ram_user": users[i].pk, "phone": mobile(2000 + i)},
            headers={"HX-Request": "true"},
        )
        return response.status_code, response.text

    results, seconds = race(50, post)
    statuses = Counter(r[1][0] for r in results if r[0] == "ok")
    assert [r for r in results if r[0] != "ok"] == []
    assert statuses == {204: 5, 422: 45}
    limit_message = services.CONTACT_LIMIT_REACHED.format(limit=100)
    assert all(limit_message in text for kind, (status, text) in results if status == 422)
    assert Contact.objects.filter(account=account).count() == 100
    report(capsys, "50 parallel POSTs at 95", statuses, seconds)


def test_twenty_parallel_creates_of_one_number_typed_differently_leave_one(capsys):
    """rules §4: one phone number belongs to one contact however typed, also under a race."""
    account, owner, users = prepared_account(0, 20)
    results, seconds = race(
        20,
        lambda i: services.create_contact(
            principal=owner, ram_user=users[i], phone=ONE_MOBILE_TYPED[i % len(ONE_MOBILE_TYPED)]
        ),
    )
    kinds = Counter(kind for kind, _ in results)
    assert kinds == {"ok": 1, "refused": 19}, [r for r in results if r[0] == "error"]
    for kind, exc in results:
        if kind == "refused":
            assert exc.message_dict == {"phone": [services.PHONE_TAKEN]}
    assert list(Contact.objects.filter(account=account).values_list("phone", flat=True)) == [
        "+8613811112222"
    ]
    assert ArmsContact.objects.filter(account=account).count() == 1
    report(capsys, "20 parallel creates of one number", kinds, seconds)
