"""The cloud side of the ARMS console (the Django admin): connections with the secret never
shown, the push outbox and the contacts' cloud state with their retry actions, RAM groups;
every list a fixed number of queries, filtered by account, closed to the console's users."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from aliyun.models import ArmsContactSync, ArmsPush, CloudConnection
from ram_directory.models import RamGroup
from tests.cloud.conftest import CLOUD_AK_SECRET
from tests.factories import AccountFactory, ArmsContactFactory, RamUserFactory, owner_of

pytestmark = pytest.mark.django_db

MODELS = ("cloudconnection", "armspush", "armscontactsync", "ramgroup")


def _url(model: str, view: str = "changelist", *args) -> str:
    app = "ram_directory" if model == "ramgroup" else "aliyun"
    return reverse(f"admin:{app}_{model}_{view}", args=args)


def _cloud_rows(account) -> None:
    """One of each: a connection, a failed and a done push, a failed contact, a group."""
    CloudConnection.objects.create(
        account=account, access_key_id="LTAI5tAdminList01", access_key_secret=CLOUD_AK_SECRET
    )
    arms = ArmsContactFactory(account=account)
    ArmsContactSync.objects.create(
        arms_contact=arms, state=ArmsContactSync.State.FAILED, error="Phone.Duplicate: held"
    )
    ArmsPush.objects.create(
        account=account,
        kind=ArmsPush.Kind.CONTACT,
        arms_contact=arms,
        status=ArmsPush.Status.FAILED,
        attempts=8,
        error_code="ServiceUnavailable",
        error="ServiceUnavailable: down",
    )
    ArmsPush.objects.create(account=account, kind=ArmsPush.Kind.GROUPS, status="done")
    group = RamGroup.objects.create(account=account, group_name=f"ops-{account.pk}")
    group.members.add(RamUserFactory(account=account, sign_in=False))


@pytest.mark.parametrize("model", MODELS)
def test_each_list_runs_a_fixed_number_of_queries(operator_client, model):
    _cloud_rows(AccountFactory())
    url = _url(model)
    with CaptureQueriesContext(connection) as one:
        assert operator_client.get(url).status_code == 200
    for _ in range(12):
        _cloud_rows(AccountFactory())
    with CaptureQueriesContext(connection) as many:
        page = operator_client.get(url)
    assert page.status_code == 200
    assert len(many) == len(one), [q["sql"] for q in many.captured_queries]


def test_the_secret_is_never_shown_only_a_mask(operator_client, account):
    _cloud_rows(account)
    saved = CloudConnection.objects.get(account=account)
    with connection.cursor() as cursor:
        cursor.execute("SELECT access_key_secret FROM aliyun_cloudconnection")
        (stored,) = cursor.fetchone()
    for url in (_url("cloudconnection"), _url("cloudconnection", "change", saved.pk)):
        page = operator_client.get(url)
        assert page.status_code == 200
        body = page.content.decode()
        assert CLOUD_AK_SECRET not in body and stored not in body
        assert "********" in body and "LTAI5tAdminList01" in body
    # Nothing to edit here: the page is a view, and posting changes nothing.
    operator_client.post(
        _url("cloudconnection", "change", saved.pk), {"access_key_id": "LTAI5tChanged0001"}
    )
    assert CloudConnection.objects.get(pk=saved.pk).access_key_id == "LTAI5tAdminList01"


def test_the_account_filter_keeps_one_accounts_rows(operator_client, account, other_account):
    _cloud_rows(account)
    _cloud_rows(other_account)
    for model in MODELS:
        page = operator_client.get(_url(model), {"account": account.account_id})
        assert page.status_code == 200
        rows = page.context["cl"].result_list
        accounts = {getattr(row, "account_id", None) or row.arms_contact.account_id for row in rows}
        assert accounts == {account.pk}, model


def test_retrying_failed_pushes_makes_them_pending_and_due(operator_client, account):
    _cloud_rows(account)
    failed = ArmsPush.objects.get(account=account, status=ArmsPush.Status.FAILED)
    done = ArmsPush.objects.get(account=account, status=ArmsPush.Status.DONE)
    page = operator_client.post(
        _url("armspush"),
        {"action": "retry_pushes", "_selected_action": [failed.pk, done.pk]},
        follow=True,
    )
    assert "Queued again: 1." in page.content.decode()
    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.error) == (ArmsPush.Status.PENDING, 0, "")
    assert ArmsPush.objects.get(pk=done.pk).status == ArmsPush.Status.DONE
    sync = ArmsContactSync.objects.get(arms_contact=failed.arms_contact)
    assert sync.state == ArmsContactSync.State.PENDING


def test_pushing_a_failed_contact_again_queues_a_new_push(operator_client, account):
    _cloud_rows(account)
    sync = ArmsContactSync.objects.get(arms_contact__account=account)
    before = ArmsPush.objects.filter(account=account, status=ArmsPush.Status.PENDING).count()
    operator_client.post(
        _url("armscontactsync"),
        {"action": "push_contacts_again", "_selected_action": [sync.pk]},
    )
    sync.refresh_from_db()
    assert sync.state == ArmsContactSync.State.PENDING
    pending = ArmsPush.objects.filter(account=account, status=ArmsPush.Status.PENDING)
    assert pending.count() == before + 2  # the contact, then the sae: groups
    assert pending.filter(kind=ArmsPush.Kind.CONTACT, arms_contact=sync.arms_contact).exists()


def test_disconnecting_from_the_admin_drops_pending_pushes(operator_client, account):
    _cloud_rows(account)
    saved = CloudConnection.objects.get(account=account)
    ArmsPush.objects.create(account=account, kind=ArmsPush.Kind.GROUPS)
    operator_client.post(
        _url("cloudconnection"),
        {"action": "disconnect_selected", "_selected_action": [saved.pk]},
    )
    assert not CloudConnection.objects.filter(account=account).exists()
    assert not ArmsPush.objects.filter(account=account, status=ArmsPush.Status.PENDING).exists()


def test_a_ram_group_shows_its_members(operator_client, account):
    _cloud_rows(account)
    group = RamGroup.objects.get(account=account)
    page = operator_client.get(_url("ramgroup", "change", group.pk)).content.decode()
    assert group.members.get().user_name in page


def test_the_console_users_cannot_open_these_pages(client, account):
    _cloud_rows(account)
    client.force_login(owner_of(account))
    for model in MODELS:
        page = client.get(_url(model))
        assert page.status_code == 302 and "/admin/login/" in page["Location"], model
