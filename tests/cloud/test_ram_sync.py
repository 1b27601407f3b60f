"""sync_ram (rules §14): RAM users, their groups and policies read from the cloud, paged by
Marker, evaluated on the account's real policies; a user gone from RAM loses sign-in and
keeps its contact, marked."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.urls import reverse

from aliyun import ram_sync
from contacts.models import Contact
from ram_directory.models import RamGroup, RamUser
from ram_directory.principal import Principal
from tests.cloud.helpers import connect
from tests.commands import run_as_shell

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def allow_http(settings):
    settings.CLOUD_ALLOW_HTTP = True


def _sync(account) -> dict:
    code, out, err, problem = run_as_shell(["sync_ram", account.account_id, "--json"])
    assert (code, err, problem) == (0, "", "")
    return json.loads(out)


def test_users_are_read_page_by_page_until_ram_says_the_list_is_complete(
    account, cloud_fake, monkeypatch
):
    monkeypatch.setattr(ram_sync, "PAGE_SIZE", 10)
    cloud_fake.seed_users(25)
    connect(account, cloud_fake)
    report = _sync(account)
    assert report["added"] == 25 and report["calls"]["ListUsers"] == 3
    assert [
        (a, p.get("Marker") is not None) for a, p in cloud_fake.requests if a == "ListUsers"
    ] == [
        ("ListUsers", False),
        ("ListUsers", True),
        ("ListUsers", True),
    ]
    user = RamUser.objects.get(account=account, user_name="user0010")
    assert Principal(account, user).can_list_users()  # group-00's custom policy
    # Again: RAM's UpdateDate says no profile changed, so no GetUser; the lists are read.
    again = _sync(account)
    assert (again["unchanged"], again["calls"].get("GetUser", 0)) == (25, 0)
    assert again["calls"]["ListPoliciesForUser"] == 25


@pytest.mark.postgres_only
@pytest.mark.skipif(
    not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
    reason="7,500 signed calls to the fake (~30 s): run once, on PostgreSQL",
)
def test_sync_of_2500_users_pages_by_marker_and_counts_group_policies(account, cloud_fake):
    cloud_fake.seed_users(2500)
    connect(account, cloud_fake)
    report = _sync(account)
    assert (report["added"], report["updated"], report["removed"]) == (2500, 0, 0)
    calls = report["calls"]
    # 2,500 users at MaxItems=1000: three pages; one GetUser and two lists per user; each of
    # the ten groups' policies once; each policy's document once, not once per user.
    assert calls["ListUsers"] == 3 == cloud_fake.calls["ListUsers"]
    assert calls["GetUser"] == calls["ListGroupsForUser"] == calls["ListPoliciesForUser"] == 2500
    assert calls["ListPoliciesForGroup"] == 10
    assert calls["GetPolicy"] == 4
    assert RamUser.objects.for_account(account).count() == 2500
    user = RamUser.objects.get(account=account, user_name="user0010")
    assert user.mobile_phone == "86-13900000010" and user.email == "user0010@example.com"
    assert RamGroup.objects.get(account=account, group_name="group-00").members.count() == 250
    # group-00's custom policy grants ram:ListUsers: the console honours it (rules §3).
    assert Principal(account, user).can_list_users()
    assert not user.attachments.exists()  # held through the group only
    plain = RamUser.objects.get(account=account, user_name="user0012")
    assert not Principal(account, plain).can_list_users()


def test_a_user_removed_from_ram_loses_sign_in_and_keeps_its_contact(
    account, cloud_fake, client, settings
):
    settings.CLOUD_QPS = 1000
    cloud_fake.seed_demo()
    connect(account, cloud_fake)
    _sync(account)
    bob = RamUser.objects.get(account=account, user_name="bob")
    assert bob.mobile_phone == "86-13922223333"
    from ram_directory import services as ram_services
    from tests.factories import owner_of

    ram_services.set_console_password(ram_user=bob, password="correct-horse-battery-staple")
    Contact.objects.create(account=account, ram_user=bob, phone="+8613922223333")
    alice = RamUser.objects.get(account=account, user_name="alice")
    assert Principal(account, alice).can_list_users()  # through group console-operators
    cloud_fake.ram.remove_user("bob")
    report = _sync(account)
    assert (report["added"], report["updated"], report["unchanged"]) == (0, 0, 4)
    assert report["removed"] == 1 and report["names"]["removed"] == ["bob"]
    bob.refresh_from_db()
    assert bob.deleted_in_ram_at is not None
    assert bob.sign_in.is_active is False
    assert Contact.objects.filter(ram_user=bob).exists()
    from contacts.selectors import username_choices

    assert "bob" not in {u.user_name for u in username_choices(Principal(account)).ram_users}
    client.force_login(owner_of(account))
    page = client.get(reverse("contacts:list")).content.decode()
    assert 'data-testid="ram-deleted"' in page


def test_the_policy_of_a_group_taken_away_in_ram_stops_counting(account, cloud_fake):
    cloud_fake.seed_demo()
    connect(account, cloud_fake)
    _sync(account)
    alice = RamUser.objects.get(account=account, user_name="alice")
    assert Principal(account, alice).can_list_users()
    with cloud_fake.lock:
        cloud_fake.ram.group_policies["console-operators"] = {}
    _sync(account)
    assert not Principal(account, alice).can_list_users()


def test_a_ram_that_refuses_leaves_everything_as_it_was(account, cloud_fake, quick_retries):
    cloud_fake.seed_demo()
    connect(account, cloud_fake)
    cloud_fake.fail(100, status=503)  # beyond the retries
    code, _out, err, _problem = run_as_shell(["sync_ram", account.account_id])
    assert code == 1 and "ServiceUnavailable" in err
    assert not RamUser.objects.for_account(account).exists()


def test_ram_users_held_by_another_console_account_stop_the_sync_with_a_clear_message(
    account, other_account, cloud_fake
):
    """Connected twice before the one-account rule (or by hand): RAM user IDs are global, so
    the second sync names the console account holding them and writes nothing."""
    cloud_fake.seed_users(3)
    connect(other_account, cloud_fake)
    assert _sync(other_account)["added"] == 3
    connect(account, cloud_fake)
    code, _out, err, problem = run_as_shell(["sync_ram", account.account_id])
    assert code == 1 and not problem
    assert err.startswith("error: RAM sync failed: RAM ListUsers: RamUserHeldElsewhere: RAM user")
    assert f"is already held by console account {other_account.account_id}" in err
    assert not RamUser.objects.filter(account=account).exists()


def test_sync_rides_out_throttling_5xx_and_lost_answers(account, cloud_fake, quick_retries):
    cloud_fake.seed_users(20)
    connect(account, cloud_fake)
    cloud_fake.throttle(3, retry_after_ms=50, actions=["GetUser"])
    cloud_fake.fail(2, 503, actions=["ListPoliciesForUser"])  # one fail() at a time
    cloud_fake.lose_answers(2, actions=["ListGroupsForUser"])  # the connection just closes
    report = _sync(account)
    assert report["added"] == 20
    assert report["retried"]["Throttling.User"] == 3
    assert report["retried"]["ServiceUnavailable"] == 2
    assert report["retried"]["NetworkError"] == 2
    # Each user was read once in the end: the retries are the only extra calls.
    assert cloud_fake.calls["GetUser"] == 20 + 3
    assert cloud_fake.calls["ListPoliciesForUser"] == 20 + 2
    assert cloud_fake.calls["ListGroupsForUser"] == 20 + 2
    assert RamUser.objects.filter(account=account).count() == 20


def test_sync_gives_up_after_the_bounded_retries_and_writes_nothing(
    account, cloud_fake, quick_retries
):
    cloud_fake.seed_users(3)
    connect(account, cloud_fake)
    cloud_fake.fail(100, 503, actions=["ListUsers"])
    code, _out, err, problem = run_as_shell(["sync_ram", account.account_id])
    assert code == 1 and not problem
    assert err.startswith("error: RAM sync failed: RAM ListUsers: ServiceUnavailable")
    assert cloud_fake.calls["ListUsers"] == settings.CLOUD_PUSH_MAX_ATTEMPTS
    assert not RamUser.objects.filter(account=account).exists()
