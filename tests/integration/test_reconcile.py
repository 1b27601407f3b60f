"""Reconcile (rules §7): drift is reported, and `fix_drift` repairs what is safe (rules §5)."""

from __future__ import annotations

import pytest

from arms_sync import reconcile
from arms_sync.managed import MANAGED_GROUPS, SAE_EVENT_LABELS, ensure_managed
from arms_sync.models import DEFAULT_POLICY, ArmsContact, ContactGroup, NotificationPolicy
from arms_sync.reconcile import find_drift, fix_drift
from contacts.services import create_contact
from tests.factories import ArmsContactFactory, RamUserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def linked(account, owner_principal):
    """Three contacts created through the service, so each is linked (rules §5)."""
    contacts = {}
    for n, name in enumerate(("amy", "ben", "cat")):
        user = RamUserFactory(account=account, user_name=name)
        contacts[name] = create_contact(
            principal=owner_principal,
            ram_user=user,
            phone=f"1380000010{n}",
            mailbox=f"{name}@example.com",
        )
    return contacts


def kinds(drifts):
    return sorted(d.kind for d in drifts)


def test_a_freshly_linked_account_has_no_drift(account, linked):
    """rules §7: contacts created through the console leave nothing to reconcile."""
    assert find_drift(account) == []


def test_missing_managed_group_and_policy_are_reported_and_recreated(account, linked):
    """rules §7: missing `sae:` groups or policies are drift; --fix recreates them, with every
    linked ARMS contact back in `sae:contacts` and `sae:default` routing to it."""
    ContactGroup.objects.filter(account=account, name__in=MANAGED_GROUPS).delete()
    NotificationPolicy.objects.filter(account=account, name=DEFAULT_POLICY).delete()
    drifts = find_drift(account)
    assert kinds(drifts) == sorted(
        [reconcile.MISSING_GROUP] * 2 + [reconcile.MISSING_POLICY] + [reconcile.NOT_IN_GROUP] * 3
    )
    report = fix_drift(account)
    assert report.clean and find_drift(account) == []
    managed = ensure_managed(account)
    assert managed.contacts_group.members.count() == 3
    assert list(managed.default_policy.groups.all()) == [managed.contacts_group]


def test_policy_not_routing_to_sae_contacts_is_reported_and_repaired(account, linked):
    """rules §7: `sae:default` routes SAE events to `sae:contacts`."""
    managed = ensure_managed(account)
    managed.default_policy.groups.clear()
    NotificationPolicy.objects.filter(pk=managed.default_policy.pk).update(
        enabled=False, match_labels={"source": "other"}
    )
    (drift,) = find_drift(account)
    assert drift.kind == reconcile.POLICY_NOT_ROUTING
    assert "does not route" in drift.detail and "disabled" in drift.detail
    assert fix_drift(account).clean
    policy = NotificationPolicy.objects.get(pk=managed.default_policy.pk)
    assert policy.enabled and policy.match_labels == SAE_EVENT_LABELS
    assert managed.contacts_group in policy.groups.all()


def test_linked_contact_missing_from_the_group_is_re_added(account, linked):
    """rules §7: the group `sae:contacts` holds every linked ARMS contact."""
    arms = linked["ben"].arms_contact
    ensure_managed(account).contacts_group.members.remove(arms)
    (drift,) = find_drift(account)
    assert (drift.kind, drift.subject) == (reconcile.NOT_IN_GROUP, "ben (linked to ben)")
    assert fix_drift(account).clean
    assert ensure_managed(account).contacts_group.members.filter(pk=arms.pk).exists()


def test_fields_that_differ_are_reported_and_copied_back(account, linked):
    """rules §7: linked ARMS contacts whose fields differ from their SAE contact are drift;
    --fix copies the SAE contact's values back."""
    arms = linked["amy"].arms_contact
    ArmsContact.objects.filter(pk=arms.pk).update(name="Amy (ARMS)", email="other@example.com")
    (drift,) = find_drift(account)
    assert drift.kind == reconcile.FIELDS_DIFFER
    assert "name" in drift.detail and "email" in drift.detail
    assert fix_drift(account).clean
    arms.refresh_from_db()
    assert (arms.name, arms.email) == ("amy", "amy@example.com")


def test_not_linked_contact_is_reported_and_linked_by_the_rules_of_creation(account, linked):
    """rules §7 / rules §5: an SAE contact whose ARMS contact was deleted is "Not linked";
    --fix links it (a new ARMS contact, as no ARMS contact has its phone)."""
    linked["cat"].arms_contact.delete()
    (drift,) = find_drift(account)
    assert (drift.kind, drift.subject) == (reconcile.NOT_LINKED, "cat")
    assert fix_drift(account).clean
    arms = ArmsContact.objects.get(sae_contact=linked["cat"])
    assert arms.name == "cat"


def test_fix_never_steals_an_arms_contact_linked_to_another_contact(account, linked):
    """rules §5 case 3 / rules §7: a Not-linked contact whose phone belongs to an ARMS contact
    linked to another SAE contact stays Not linked, and the report says why."""
    linked["cat"].arms_contact.delete()
    ArmsContact.objects.filter(sae_contact=linked["amy"]).update(phone=linked["cat"].phone)
    # amy's own phone is taken on the ARMS side, so her ARMS contact cannot get it back either.
    ArmsContactFactory(account=account, name="squatter", phone=str(linked["amy"].phone))
    report = fix_drift(account)
    assert not report.clean
    assert kinds(report.remaining) == [reconcile.FIELDS_DIFFER, reconcile.NOT_LINKED]
    assert "cat" in report.refused
    assert ArmsContact.objects.get(phone=linked["cat"].phone).sae_contact == linked["amy"]


def test_fields_are_not_copied_over_another_arms_contacts_phone(account, linked):
    """rules §5: a phone another ARMS contact holds is refused; reconcile reports it unfixed."""
    arms = linked["ben"].arms_contact
    ArmsContact.objects.filter(pk=arms.pk).update(phone="+8613900000001")
    ArmsContactFactory(account=account, name="squatter", phone=str(linked["ben"].phone))
    report = fix_drift(account)
    assert kinds(report.remaining) == [reconcile.FIELDS_DIFFER]
    assert report.fixed == ()
    arms.refresh_from_db()
    assert str(arms.phone) == "+8613900000001"
