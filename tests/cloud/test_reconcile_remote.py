"""reconcile_arms --remote (rules §7, §14): `sae:` objects deleted or edited in the ARMS console
are reported, restored with --fix, and the drift is shown on the Cloud Connection page; the
worker's round compares and syncs on its own schedule."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from aliyun import worker
from aliyun.models import ArmsContactSync, CloudConnection
from ram_directory.models import RamUser
from tests.cloud.helpers import arms_phones, connect, new_contact
from tests.commands import run_as_shell
from tests.factories import RamUserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def cloud_settings(settings):
    settings.CLOUD_ALLOW_HTTP = True
    settings.CLOUD_QPS = 1000


def _reconcile(account, *more) -> tuple[int, dict, str]:
    code, out, err, problem = run_as_shell(
        ["reconcile_arms", account.account_id, "--remote", "--json", *more]
    )
    assert not problem, problem
    return code, json.loads(out), err


def test_drift_made_in_the_arms_console_is_found_and_restored(
    account, cloud_fake, django_capture_on_commit_callbacks, owner_client
):
    connect(account, cloud_fake)
    alice = RamUserFactory(account=account, user_name="alice")
    bob = RamUserFactory(account=account, user_name="bob")
    with django_capture_on_commit_callbacks(execute=True):
        a = new_contact(account, alice, "13811112222")
        b = new_contact(account, bob, "13922223333")
    code, report, _err = _reconcile(account)
    assert code == 0 and report["clean"] and report["found"] == []
    a_id = ArmsContactSync.objects.get(arms_contact__sae_contact=a).remote_id
    b_id = ArmsContactSync.objects.get(arms_contact__sae_contact=b).remote_id
    # In the ARMS console: alice's contact deleted, bob's renamed, sae:default deleted.
    del cloud_fake.arms.contacts[a_id]
    cloud_fake.arms.contacts[b_id]["ContactName"] = "Bob (renamed)"
    cloud_fake.arms.policies.clear()
    code, report, err = _reconcile(account)
    assert code == 1 and "--fix" in err
    kinds = sorted(d["kind"] for d in report["found"])
    assert kinds == ["contact_differs", "contact_missing", "group_members", "policy_missing"]
    page = owner_client.get(reverse("cloud:connection")).content.decode()
    assert "was deleted in ARMS" in page and "was edited in ARMS: name" in page
    code, report, _err = _reconcile(account, "--fix")
    assert code == 0 and report["remaining"] == [] and len(report["fixed"]) == 4
    phones = arms_phones(cloud_fake)
    assert phones["13811112222"]["ContactName"] == "alice"
    assert phones["13922223333"]["ContactName"] == "bob"
    assert len(cloud_fake.arms.contacts) == 2
    assert any(p["Name"] == "sae:default" for p in cloud_fake.arms.policies.values())
    assert CloudConnection.objects.get(account=account).drift == []


def test_remote_needs_a_connection(account):
    code, out, err, _problem = run_as_shell(["reconcile_arms", account.account_id, "--remote"])
    assert code == 1 and "not connected" in err and out == ""


def test_the_worker_round_syncs_ram_and_compares_when_due(account, cloud_fake, settings):
    cloud_fake.seed_demo()
    connect(account, cloud_fake)
    worker.tick()
    connection = CloudConnection.objects.get(account=account)
    assert connection.ram_sync_ok and connection.reconciled_at is not None
    assert RamUser.objects.for_account(account).count() == 5
    calls = sum(cloud_fake.calls.values())
    worker.tick()  # not due again before SAE_RAM_SYNC_INTERVAL / SAE_ARMS_RECONCILE_INTERVAL
    assert sum(cloud_fake.calls.values()) == calls
    settings.RAM_SYNC_INTERVAL = 0
    worker.tick()
    assert cloud_fake.calls["ListUsers"] == 2
