"""Connecting an account (rules §14): cloud_connect / cloud_check / cloud_disconnect and the
Cloud Connection page, against the loopback fake with the real SDK."""

from __future__ import annotations

import io
import json
import logging

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from aliyun.models import CloudConnection
from tests.cloud.conftest import CLOUD_ACCOUNT_ID, CLOUD_AK_ID, CLOUD_AK_SECRET
from tests.cloud.helpers import EVERY_CHECK_PASSED, checks_of, connect, connect_args, fields
from tests.commands import run_as_shell
from tests.factories import RamUserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def allow_http(settings):
    settings.CLOUD_ALLOW_HTTP = True
    settings.CLOUD_QPS = 1000


def test_connect_with_the_right_secret_saves_it_encrypted(account, cloud_fake, monkeypatch):
    cloud_fake.seed_demo()
    monkeypatch.setenv("SAE_TEST_CLOUD_SECRET", CLOUD_AK_SECRET)
    code, out, err, problem = run_as_shell([*connect_args(account, cloud_fake), "--json"])
    assert (code, err, problem) == (0, "", "")
    report = json.loads(out)
    assert report["connected"] is True
    assert checks_of(report) == EVERY_CHECK_PASSED
    connection = CloudConnection.objects.get(account=account)
    assert connection.cloud_account_id == CLOUD_ACCOUNT_ID
    assert connection.access_key_secret == CLOUD_AK_SECRET
    from django.db import connection as db

    with db.cursor() as cursor:
        cursor.execute("SELECT access_key_secret FROM aliyun_cloudconnection")
        (stored,) = cursor.fetchone()
    assert CLOUD_AK_SECRET not in stored
    assert cloud_fake.calls["ListUsers"] == 1 and cloud_fake.calls["DescribeContacts"] == 1


def test_connect_with_a_wrong_secret_saves_nothing_and_names_the_api(
    account, cloud_fake, monkeypatch
):
    monkeypatch.setenv("SAE_TEST_CLOUD_SECRET", "not-the-secret")
    code, _out, err, problem = run_as_shell(connect_args(account, cloud_fake))
    assert code == 1 and not problem
    assert err.count("\n") <= 1
    assert err.startswith("error: RAM ListUsers failed: SignatureDoesNotMatch")
    assert not CloudConnection.objects.exists()


def test_check_names_the_missing_ram_permission(account, cloud_fake, monkeypatch):
    cloud_fake.seed_demo()
    connect(account, cloud_fake)
    cloud_fake.deny(CLOUD_AK_ID, "ram:ListUsers")
    code, out, err, _problem = run_as_shell(["cloud_check", account.account_id, "--json"])
    assert code == 1
    checks = {c["action"]: c for c in json.loads(out)["checks"]}
    assert checks["ListUsers"]["ok"] is False
    assert checks["ListUsers"]["missing_permission"] == "ram:ListUsers"
    assert checks["DescribeContacts"]["ok"] is True
    assert "ram:ListUsers" in err


def test_http_is_refused_unless_the_test_switch_is_on(account, cloud_fake, monkeypatch, settings):
    settings.CLOUD_ALLOW_HTTP = False
    monkeypatch.setenv("SAE_TEST_CLOUD_SECRET", CLOUD_AK_SECRET)
    code, _out, err, _problem = run_as_shell(connect_args(account, cloud_fake))
    assert code == 1 and "SAE_CLOUD_ALLOW_HTTP" in err
    assert not CloudConnection.objects.exists()
    assert sum(cloud_fake.calls.values()) == 0


def test_disconnect_forgets_the_connection(account, cloud_fake):
    connect(account, cloud_fake)
    code, _out, _err, _problem = run_as_shell(["cloud_disconnect", account.account_id])
    assert code == 0 and not CloudConnection.objects.exists()
    code, _out, err, _problem = run_as_shell(["cloud_check", account.account_id])
    assert code == 1 and "not connected" in err


def test_page_connects_checks_and_disconnects(owner_client, account, cloud_fake):
    cloud_fake.seed_demo()
    url = reverse("cloud:connection")
    page = owner_client.get(url)
    assert page.status_code == 200 and b'data-testid="cloud-not-connected"' in page.content
    wrong = owner_client.post(
        url,
        fields(cloud_fake, access_key_secret="wrong-secret"),
    )
    assert wrong.status_code == 422 and b"SignatureDoesNotMatch" in wrong.content
    assert not CloudConnection.objects.exists()
    good = owner_client.post(
        url,
        fields(cloud_fake),
    )
    assert good.status_code == 302
    assert CloudConnection.objects.get(account=account).access_key_id == CLOUD_AK_ID
    checked = owner_client.post(reverse("cloud:check"))
    assert checked.status_code == 200 and b'data-testid="cloud-check-results"' in checked.content
    # Saving again with the secret left blank keeps the stored one.
    again = owner_client.post(
        url,
        fields(cloud_fake, access_key_secret=""),
    )
    assert again.status_code == 302
    for body in (page, wrong, good, checked, again, owner_client.get(url)):
        assert CLOUD_AK_SECRET.encode() not in body.content
    assert owner_client.post(reverse("cloud:disconnect")).status_code == 302
    assert not CloudConnection.objects.exists()


def test_ram_users_do_not_see_the_page(client, account):
    user = RamUserFactory(account=account, user_name="alice")
    client.force_login(user.sign_in)
    for method, name in (
        ("get", "cloud:connection"),
        ("post", "cloud:check"),
        ("post", "cloud:disconnect"),
    ):
        response = getattr(client, method)(reverse(name))
        assert response.status_code == 404
    assert b"Cloud Connection" not in client.get(reverse("contacts:list")).content


def test_the_secret_stays_out_of_logs_output_and_dumps(account, cloud_fake, monkeypatch, caplog):
    cloud_fake.seed_demo()
    monkeypatch.setenv("SAE_TEST_CLOUD_SECRET", CLOUD_AK_SECRET)
    caplog.set_level(logging.DEBUG)
    outputs = [run_as_shell([*connect_args(account, cloud_fake), "--json"])]
    outputs.append(run_as_shell(["cloud_check", account.account_id, "--json"]))
    outputs.append(run_as_shell(["sync_ram", account.account_id, "--json"]))
    dump = io.StringIO()
    call_command("dumpdata", "aliyun", stdout=dump)
    texts = [dump.getvalue(), caplog.text] + [part for o in outputs for part in o[1:]]
    assert [i for i, text in enumerate(texts) if CLOUD_AK_SECRET in text] == []
    assert "aliyun.cloudconnection" in dump.getvalue()


def test_the_page_in_chinese_keeps_no_english_of_its_own(owner_client, account, cloud_fake):
    connect(account, cloud_fake)
    owner_client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    page = owner_client.get(reverse("cloud:connection")).content.decode()
    for chinese in (
        "云连接",
        "检查",
        "断开连接",
        "最近一次 RAM 同步",
        "AccessKey 需要的 RAM 权限策略",
    ):
        assert chinese in page
    translation.activate(settings.LANGUAGE_CODE)  # the middleware left zh-hans active here
    for english in ("Cloud Connection", "Disconnect", "Last RAM sync", "Not yet.", "Region"):
        assert english not in page


def test_a_cloud_account_connects_to_one_console_account_only(
    account, other_account, cloud_fake, monkeypatch, owner_client
):
    """Two console accounts on one Alibaba Cloud account would sync the same RAM users (their
    IDs are global): the second connect is refused, naming the first, and saves nothing."""
    cloud_fake.seed_demo()
    monkeypatch.setenv("SAE_TEST_CLOUD_SECRET", CLOUD_AK_SECRET)
    code, _out, err, _problem = run_as_shell(connect_args(other_account, cloud_fake))
    assert (code, err) == (0, "")
    code, _out, err, problem = run_as_shell(connect_args(account, cloud_fake))
    assert code == 1 and not problem
    assert err == (
        f"error: This Alibaba Cloud account ({CLOUD_ACCOUNT_ID}) is already connected to "
        f"console account {other_account.account_id}. Disconnect it there first.\n"
    )
    assert not CloudConnection.objects.filter(account=account).exists()
    # The page says the same, in the form.
    page = owner_client.post(
        reverse("cloud:connection"),
        fields(cloud_fake),
    )
    assert page.status_code == 422
    assert b"is already connected to console account" in page.content
    assert not CloudConnection.objects.filter(account=account).exists()
    # Reconnecting the account that holds it is an update, not a conflict.
    code, _out, err, _problem = run_as_shell(connect_args(other_account, cloud_fake))
    assert (code, err) == (0, "")


def test_two_connects_racing_for_one_cloud_account_are_decided_by_the_constraint(
    account, other_account, cloud_fake, monkeypatch
):
    """The check and the save are apart (network between them): two connects may both pass
    the early look. The unique constraint decides, and the loser gets the same message."""
    from aliyun import services

    cloud_fake.seed_demo()
    connect(other_account, cloud_fake)
    CloudConnection.objects.filter(account=other_account).update(cloud_account_id=CLOUD_ACCOUNT_ID)
    looks = []
    real_look = services._already_connected

    def look_raced(account_, uid):
        # The early look runs before the other connect committed: it finds nothing.
        looks.append(uid)
        return None if len(looks) == 1 else real_look(account_, uid)

    monkeypatch.setattr(services, "_already_connected", look_raced)
    with pytest.raises(ValidationError) as refused:
        services.connect(account=account, **fields(cloud_fake))
    assert looks == [CLOUD_ACCOUNT_ID, CLOUD_ACCOUNT_ID]
    assert other_account.account_id in refused.value.messages[0]
    assert not CloudConnection.objects.filter(account=account).exists()


def test_a_check_records_the_cloud_account_of_a_connection_saved_before_it_was_kept(
    account, other_account, cloud_fake
):
    from aliyun import services

    cloud_fake.seed_demo()
    older = connect(account, cloud_fake)  # saved with no cloud_account_id
    assert older.cloud_account_id == ""
    assert all(r.ok for r in services.check(older))
    assert CloudConnection.objects.get(pk=older.pk).cloud_account_id == CLOUD_ACCOUNT_ID
    # Another old connection to the same cloud account: its check says who holds it.
    second = connect(other_account, cloud_fake)
    results = services.check(second)
    refused = [r for r in results if not r.ok]
    assert [(r.api, r.action, r.code) for r in refused] == [
        ("STS", "GetCallerIdentity", "AlreadyConnected")
    ]
    assert account.account_id in refused[0].message
    assert CloudConnection.objects.get(pk=second.pk).cloud_account_id == ""


@pytest.mark.postgres_only
@pytest.mark.skipif(
    not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
    reason="two connections writing at once: PostgreSQL's row locks, not SQLite's file lock",
)
@pytest.mark.django_db(transaction=True)
def test_two_connects_at_once_on_postgresql_leave_one_connection(
    account, other_account, cloud_fake, monkeypatch
):
    """Both pass the early look, then both save at once: the unique index makes the second
    wait for the first and fail; it is told which console account won."""
    import threading

    from django.db import connection as db

    from aliyun import services

    cloud_fake.seed_demo()
    both_looked = threading.Barrier(2, timeout=30)
    real_save = services._save

    def save_together(*args, **kwargs):
        both_looked.wait()
        return real_save(*args, **kwargs)

    monkeypatch.setattr(services, "_save", save_together)
    outcomes: dict[str, str] = {}

    def connect_account(who):
        try:
            services.connect(account=who, **fields(cloud_fake))
            outcomes[who.account_id] = "connected"
        except ValidationError as refused:
            outcomes[who.account_id] = refused.messages[0]
        finally:
            db.close()

    threads = [
        threading.Thread(target=connect_account, args=(a,)) for a in (account, other_account)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes.values()).count("connected") == 1, outcomes
    winner = next(k for k, v in outcomes.items() if v == "connected")
    loser = next(k for k, v in outcomes.items() if v != "connected")
    assert f"already connected to console account {winner}" in outcomes[loser]
    assert CloudConnection.objects.filter(cloud_account_id=CLOUD_ACCOUNT_ID).count() == 1
