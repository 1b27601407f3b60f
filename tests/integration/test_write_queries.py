"""Query budgets of the writes (issue 11): a New Contact, the service and the POST, runs a fixed
number of SQL queries, linking included, whatever the account already holds."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contacts import services
from tests.integration.contacts_support import (
    mobile,
    new_contact_post,
    principal_of,
    ram_user_named,
)

pytestmark = pytest.mark.django_db

# The service, inside the caller's transaction (a savepoint here, BEGIN/COMMIT when served):
# SAVEPOINT; lock the account row; count the contacts, the username's and the phone's (one
# aggregate); INSERT the contact; the ARMS contact with the phone or the mailbox (one SELECT
# ... FOR UPDATE); INSERT the ARMS contact; the `sae:` groups; the sae:contacts membership;
# INSERT the audit entry; RELEASE SAVEPOINT. And the cloud port's look-up of the account's
# connection, before the transaction (New Contact asks a connected account's ARMS about the
# phone) and inside it (its outbox row), arms_sync.cloud.
CREATE_CONTACT_QUERIES = 12
# The POST adds: the session, the user (with account and RAM user), the RAM user chosen, and
# who and which phones have a contact already (the form shows every error in one pass).
NEW_CONTACT_POST_QUERIES = CREATE_CONTACT_QUERIES + 4


def _create(account, principal, n: int):
    return services.create_contact(
        principal=principal,
        ram_user=ram_user_named(account, f"user{n:03d}"),
        phone=mobile(n),
        mailbox=f"user{n}@example.com",
    )


def test_create_contact_runs_a_fixed_number_of_queries(account, django_assert_num_queries):
    owner = principal_of(account)
    _create(account, owner, 0)  # the first link creates nothing more: the sae: objects exist
    for n in (1, 50):
        for i in range(2, n):
            _create(account, owner, i)
        user = ram_user_named(account, f"last{n:03d}")
        with django_assert_num_queries(CREATE_CONTACT_QUERIES):
            contact = services.create_contact(
                principal=owner, ram_user=user, phone=mobile(900 + n), mailbox=f"l{n}@example.com"
            )
        assert contact.arms_contact.name == f"last{n:03d}"


def test_new_contact_post_runs_a_fixed_number_of_queries(owner_client, account):
    owner = principal_of(account)
    _create(account, owner, 0)
    counted = []
    for n in range(1, 30):
        user = ram_user_named(account, f"posted{n:03d}")
        data = new_contact_post(ram_user=user.pk, phone=mobile(n), mailbox=f"p{n}@example.com")
        with CaptureQueriesContext(connection) as ctx:
            response = owner_client.post(reverse("contacts:new"), data)
        assert response.status_code == 302
        counted.append(len(ctx.captured_queries))
    assert set(counted) == {NEW_CONTACT_POST_QUERIES}
