"""Account isolation on the ARMS side (rules §1): an ID from another account answers 404, exactly
as an ID that does not exist, for GET and POST; lists and merge see only the own account."""

from __future__ import annotations

import pytest
from django.urls import reverse

from arms_sync.managed import ensure_managed
from arms_sync.merge import plan_merge
from arms_sync.models import ArmsContact, ContactGroup
from contacts.services import create_contact
from ram_directory.principal import Principal
from tests.factories import ArmsContactFactory, ContactGroupFactory, RamUserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def foreign(other_account):
    """Objects of another account, one of each kind an ARMS URL can name."""
    owner = Principal(other_account)
    user = RamUserFactory(account=other_account, user_name="stranger")
    contact = create_contact(principal=owner, ram_user=user, phone="13899998888")
    free = ArmsContactFactory(account=other_account, name="foreign pager")
    group = ContactGroupFactory(account=other_account, name="foreign-group")
    return {
        "linked": contact.arms_contact,
        "free": free,
        "group": group,
        "sae_group": ensure_managed(other_account).contacts_group,
    }


def _foreign_urls(foreign):
    return [
        reverse("arms:contact_delete", args=[foreign["free"].pk]),
        reverse("arms:contact_delete", args=[foreign["linked"].pk]),
        reverse("arms:group_detail", args=[foreign["group"].pk]),
        reverse("arms:group_detail", args=[foreign["sae_group"].pk]),
    ]


def test_every_arms_url_with_another_accounts_id_is_404_on_get_and_post(owner_client, foreign):
    for url in _foreign_urls(foreign):
        assert owner_client.get(url).status_code == 404, url
        assert owner_client.post(url).status_code == 404, url
    assert ArmsContact.objects.filter(pk=foreign["free"].pk).exists()


def test_an_id_that_does_not_exist_answers_the_same_404(owner_client):
    for url in (
        reverse("arms:contact_delete", args=[999999]),
        reverse("arms:group_detail", args=[999999]),
    ):
        assert owner_client.get(url).status_code == 404
        assert owner_client.post(url).status_code == 404


def test_ram_user_without_permission_also_gets_404_not_403_for_foreign_ids(
    sign_in, account, foreign
):
    """rules §1: another account's ID is 404 even for a principal that would get 403."""
    client = sign_in(RamUserFactory(account=account, user_name="nobody"))
    for url in _foreign_urls(foreign):
        assert client.get(url).status_code == 404, url
        assert client.post(url).status_code == 404, url


def test_lists_show_only_the_own_accounts_objects(owner_client, account, foreign):
    ArmsContactFactory(account=account, name="own pager")
    contacts = owner_client.get(reverse("arms:contact_list")).text
    assert "own pager" in contacts and "foreign pager" not in contacts
    assert "stranger" not in contacts
    groups = owner_client.get(reverse("arms:group_list")).text
    assert "foreign-group" not in groups
    policies = owner_client.get(reverse("arms:policy_list"))
    assert all(p.account_id == account.pk for p in policies.context["policies"])


def test_merge_sees_only_the_own_accounts_users_and_arms_contacts(account, owner_client, foreign):
    """rules §1 / rules §6: the foreign ARMS contact with the same phone is never linked."""
    RamUserFactory(account=account, user_name="alice", mobile_phone="86-13899998888")
    plan = plan_merge(principal=Principal(account))
    assert [r.username for r in plan.rows] == [account.login_name, "alice"]
    response = owner_client.post(reverse("arms:merge_contacts"))
    assert response.status_code == 200
    foreign["linked"].refresh_from_db()
    assert foreign["linked"].name == "stranger"
    own = ArmsContact.objects.get(account=account, phone="+8613899998888")
    assert own.sae_contact.account == account
    assert ContactGroup.objects.get(pk=foreign["sae_group"].pk).members.count() == 1
