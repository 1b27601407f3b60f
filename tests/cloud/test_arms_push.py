"""ARMS kept in step (rules §5, §14): the three creation cases decided against the real ARMS, edit,
delete and merge mirrored, and a throttled, failing or absent ARMS catching up with nothing
lost or pushed twice. The real SDK talks to the loopback fake."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from aliyun.models import ArmsContactSync, ArmsPush
from arms_sync import merge
from arms_sync.linking import LINKED_PHONE_TAKEN
from arms_sync.models import ArmsContact
from contacts import services as contact_services
from ram_directory.principal import Principal
from tests.cloud.helpers import arms_phones, connect, new_contact
from tests.commands import run_as_shell
from tests.factories import RamUserFactory, owner_of
from tests.integration.contacts_support import WECOM_URL

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def cloud_settings(settings):
    settings.CLOUD_ALLOW_HTTP = True
    settings.CLOUD_QPS = 1000
    settings.CLOUD_PUSH_BACKOFF_SECONDS = 0.05


@pytest.fixture
def users(account):
    return {
        name: RamUserFactory(account=account, user_name=name, mobile_phone=f"86-{phone}")
        for name, phone in (
            ("alice", "13811112222"),
            ("bob", "13922223333"),
            ("carol", "13733334444"),
            ("dave", "13644445555"),
        )
    }


@pytest.fixture
def connected(account, cloud_fake):
    return connect(account, cloud_fake)


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run a change and what it enqueues on commit (the push task, ImmediateBackend)."""

    def _commit(change, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return change(*args, **kwargs)

    return _commit


def _sync_arms(account) -> tuple[int, dict]:
    code, out, _err, problem = run_as_shell(["sync_arms", account.account_id, "--json"])
    assert not problem, problem
    return code, json.loads(out)


def _state(contact) -> ArmsContactSync:
    return ArmsContactSync.objects.get(arms_contact__sae_contact=contact)


def test_a_phone_arms_does_not_hold_creates_and_links_a_contact(
    account, users, connected, cloud_fake, commit
):
    contact = commit(new_contact, account, users["alice"], "13811112222", "alice@example.com")
    remote = arms_phones(cloud_fake)["13811112222"]
    assert remote["ContactName"] == "alice" and remote["Email"] == "alice@example.com"
    state = _state(contact)
    assert (state.state, state.remote_id) == ("synced", remote["ContactId"])
    assert cloud_fake.calls["CreateOrUpdateContact"] == 1
    # The sae: group holds it and sae:default routes to the group.
    group = next(
        g for g in cloud_fake.arms.groups.values() if g["ContactGroupName"] == "sae:contacts"
    )
    assert group["ContactIds"] == [remote["ContactId"]]
    policy = next(p for p in cloud_fake.arms.policies.values() if p["Name"] == "sae:default")
    assert policy["NotifyRule"]["NotifyObjects"][0]["NotifyObjectId"] == group["ContactGroupId"]


def test_a_phone_a_free_arms_contact_holds_links_it_and_renames_it(
    account, users, connected, cloud_fake, commit
):
    existing = cloud_fake.arms.add_contact("Bob (on-call pager)", phone="13922223333")
    contact = commit(new_contact, account, users["bob"], "13922223333")
    assert len(cloud_fake.arms.contacts) == 1
    assert cloud_fake.arms.contacts[existing["ContactId"]]["ContactName"] == "bob"
    assert _state(contact).remote_id == existing["ContactId"]
    assert ArmsContact.objects.get(sae_contact=contact).contact_id == existing["ContactId"]


def test_a_phone_held_by_an_arms_contact_linked_elsewhere_is_refused(
    account, users, connected, cloud_fake, commit
):
    carol = commit(new_contact, account, users["carol"], "13733334444")
    remote_id = _state(carol).remote_id
    # In the ARMS console someone gives carol's ARMS contact dave's phone.
    cloud_fake.arms.contacts[remote_id]["Phone"] = "13644445555"
    with pytest.raises(ValidationError) as refused:
        commit(new_contact, account, users["dave"], "13644445555")
    assert refused.value.message_dict["phone"] == [LINKED_PHONE_TAKEN]
    assert len(cloud_fake.arms.contacts) == 1
    assert not ArmsPush.objects.filter(contact__ram_user=users["dave"]).exists()


def test_edit_updates_the_same_arms_contact_and_delete_deletes_it(
    account, users, connected, cloud_fake, commit
):
    contact = commit(new_contact, account, users["alice"], "13811112222")
    remote_id = _state(contact).remote_id
    principal = Principal(account)
    commit(
        contact_services.update_contact,
        principal=principal,
        contact=contact,
        phone="13811119999",
        mailbox="alice@new.example.com",
    )
    remote = cloud_fake.arms.contacts[remote_id]
    assert (remote["Phone"], remote["Email"]) == ("13811119999", "alice@new.example.com")
    assert len(cloud_fake.arms.contacts) == 1
    commit(contact_services.delete_contact, principal=principal, contact=contact)
    assert cloud_fake.arms.contacts == {}
    assert not ArmsPush.objects.filter(status=ArmsPush.Status.PENDING).exists()


def test_merge_reads_every_arms_contact_and_mirrors_what_it_did(
    account, users, connected, cloud_fake, commit, settings
):
    # More ARMS contacts than one DescribeContacts page, one of them holding bob's phone.
    for i in range(100):
        cloud_fake.arms.add_contact(f"pager {i}", phone=f"1350000{i:04d}")
    bob_pager = cloud_fake.arms.add_contact("Bob (on-call pager)", phone="13922223333")
    owner = Principal(account)
    preview = merge.plan_merge(principal=owner)
    assert cloud_fake.calls["DescribeContacts"] == 2  # pages of 100
    assert any(r.arms_pk is not None and r.username == "bob" for r in preview.rows)
    commit(merge.apply_merge, principal=owner, expected_digest=preview.digest)
    contacts = cloud_fake.arms.contacts
    assert contacts[bob_pager["ContactId"]]["ContactName"] == "bob"
    by_phone = arms_phones(cloud_fake)
    assert {by_phone[p]["ContactName"] for p in ("13811112222", "13733334444", "13644445555")} == {
        "alice",
        "carol",
        "dave",
    }
    assert len(contacts) == 101 + 3  # three created, none twice
    group = next(
        g for g in cloud_fake.arms.groups.values() if g["ContactGroupName"] == "sae:contacts"
    )
    assert len(group["ContactIds"]) == 4
    # A second merge right after changes nothing, here or in ARMS.
    calls = sum(cloud_fake.calls.values())
    again = merge.plan_merge(principal=owner)
    assert not again.changed_rows
    assert cloud_fake.calls["CreateOrUpdateContact"] == 4
    assert sum(cloud_fake.calls.values()) == calls + 2


def test_throttled_arms_catches_up_with_nothing_lost_or_twice(
    account, users, connected, cloud_fake, commit
):
    cloud_fake.throttle(3, retry_after_ms=100, actions=["CreateOrUpdateContact"])
    made = [
        commit(new_contact, account, users[name], phone)
        for name, phone in (("alice", "13811112222"), ("bob", "13922223333"))
    ]
    assert ArmsPush.objects.filter(status=ArmsPush.Status.PENDING).exists()
    code, report = _sync_arms(account)
    assert code == 0 and report["pending"] == 0 and report["failed"] == 0
    assert sorted(arms_phones(cloud_fake)) == ["13811112222", "13922223333"]
    assert {_state(c).state for c in made} == {"synced"}
    assert cloud_fake.calls["CreateOrUpdateContact"] == 3 + 2


def test_down_arms_never_blocks_a_change_and_catches_up(
    account, users, connected, cloud_fake, commit, client
):
    cloud_fake.go_down()
    contact = commit(new_contact, account, users["alice"], "13811112222")
    assert _state(contact).state == "pending"
    client.force_login(owner_of(account))
    page = client.get(reverse("contacts:list")).content.decode()
    assert 'data-testid="arms-state">Pending<' in page
    cloud_fake.come_back()
    code, report = _sync_arms(account)
    assert code == 0 and report["done"] >= 1
    assert list(arms_phones(cloud_fake)) == ["13811112222"]
    state = _state(contact)
    assert state.state == "synced"
    page = client.get(reverse("contacts:list")).content.decode()
    assert f"ARMS ID {state.remote_id}" in page


def test_a_lost_answer_is_looked_up_before_creating_again(
    account, users, connected, cloud_fake, commit
):
    cloud_fake.lose_answers(1, actions=["CreateOrUpdateContact"])
    contact = commit(new_contact, account, users["alice"], "13811112222")
    assert len(cloud_fake.arms.contacts) == 1  # created, but the console does not know
    code, _report = _sync_arms(account)
    assert code == 0
    assert len(cloud_fake.arms.contacts) == 1
    assert _state(contact).remote_id == next(iter(cloud_fake.arms.contacts))


def test_a_permanent_refusal_is_shown_on_the_row(
    account, users, connected, cloud_fake, commit, client
):
    cloud_fake.arms.add_contact("NOC", phone="13600009999", email="noc@example.com")
    contact = commit(new_contact, account, users["alice"], "13811112222", "noc@example.com")
    state = _state(contact)
    assert state.state == "failed" and "Contact.Email.Duplicate" in state.error
    client.force_login(owner_of(account))
    page = client.get(reverse("contacts:list")).content.decode()
    assert 'data-testid="arms-state">Failed<' in page and "Contact.Email.Duplicate" in page
    code, report = _sync_arms(account)
    assert code == 0 and report["pending"] == 0


def test_an_account_that_is_not_connected_never_reaches_the_cloud(
    account, users, cloud_fake, commit
):
    contact = commit(new_contact, account, users["alice"], "13811112222")
    owner = Principal(account)
    commit(merge.apply_merge, principal=owner)
    commit(contact_services.delete_contact, principal=owner, contact=contact)
    assert sum(cloud_fake.calls.values()) == 0
    assert not ArmsPush.objects.exists() and not ArmsContactSync.objects.exists()


def test_contact_management_keeps_its_query_count_with_arms_states(
    account, users, connected, cloud_fake, commit, client, django_assert_max_num_queries
):
    for name, phone in (("alice", "13811112222"), ("bob", "13922223333")):
        commit(new_contact, account, users[name], phone)
    client.force_login(owner_of(account))
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("contacts:list"))
    for name, phone in (("carol", "13733334444"), ("dave", "13644445555")):
        commit(new_contact, account, users[name], phone)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(reverse("contacts:list")).content.decode()
    assert page.count('data-testid="arms-state">Synced<') == 4


def test_a_wecom_robot_becomes_an_arms_im_robot_and_goes_with_it(
    account, users, connected, cloud_fake, commit
):
    contact = commit(
        contact_services.create_contact,
        principal=Principal(account),
        ram_user=users["alice"],
        phone="13811112222",
        wecom_webhook=WECOM_URL,
    )
    (robot,) = cloud_fake.arms.robots.values()
    assert (robot["Type"], robot["RobotName"], robot["RobotAddress"]) == (
        "wechat",
        "sae:alice",
        WECOM_URL,
    )
    assert _state(contact).wecom_robot_id == robot["RobotId"]
    commit(contact_services.delete_contact, principal=Principal(account), contact=contact)
    assert cloud_fake.arms.robots == {} and cloud_fake.arms.contacts == {}


def test_connecting_pushes_the_contacts_linked_before_the_connection(
    account, users, cloud_fake, commit
):
    """A console used before it was connected: the first connect sends its linked contacts and
    the sae: groups to ARMS (only contacts changed afterwards would otherwise ever arrive)."""
    from aliyun import services as cloud_services
    from tests.cloud.helpers import fields

    before = new_contact(account, users["alice"], "13811112222", "alice@example.com")
    assert "13811112222" not in arms_phones(cloud_fake)
    commit(cloud_services.connect, account=account, **fields(cloud_fake))
    remote = arms_phones(cloud_fake)["13811112222"]
    assert remote["ContactName"] == "alice"
    state = _state(before)
    assert (state.state, state.remote_id) == ("synced", remote["ContactId"])
    assert any(g["ContactGroupName"] == "sae:contacts" for g in cloud_fake.arms.groups.values())
    code, report = _sync_arms(account)
    assert code == 0 and report["failed"] == 0
