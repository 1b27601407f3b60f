"""Merge Contacts (rules §6, with rules §3's "may Merge Contacts" column and rules §5's linking)."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import override_settings

from arms_sync import merge
from arms_sync.merge import apply_merge, plan_merge
from arms_sync.models import CONTACTS_GROUP, ArmsContact, ContactGroup
from contacts.models import Contact
from contacts.services import create_contact
from ram_directory.models import PolicyAttachment
from ram_directory.principal import Principal
from tests.factories import AccountFactory, ArmsContactFactory, PolicyFactory, RamUserFactory

pytestmark = pytest.mark.django_db


def _row(plan, username):
    return next(row for row in plan.rows if row.username == username)


def _snapshot(account):
    """Everything a merge may change, to prove that nothing changed."""
    contacts = sorted(
        Contact.objects.for_account(account).values_list("ram_user_id", "phone", "mailbox")
    )
    arms = sorted(
        ArmsContact.objects.for_account(account).values_list(
            "pk", "name", "phone", "email", "sae_contact_id"
        )
    )
    members = sorted(ContactGroup.objects.for_account(account).values_list("name", "members"))
    return contacts, arms, members


@pytest.fixture
def scene(account, owner_principal):
    """One subject per interesting case:
    anna: RAM phone, no contact, no ARMS contact with it -> created (new ARMS contact);
    bob: RAM phone, no contact, a free ARMS contact has it -> created, linked, renamed;
    carl: contact already linked (created through the service) -> unchanged;
    dora: contact whose ARMS contact was deleted on the ARMS side ("Not linked"), a free
          ARMS contact has her phone -> linked;
    emil: Hong Kong RAM phone -> skipped (no mainland mobile phone)."""
    anna = RamUserFactory(account=account, user_name="anna", mobile_phone="86-13800000001")
    bob = RamUserFactory(account=account, user_name="bob", mobile_phone="86-13800000002")
    carl = RamUserFactory(account=account, user_name="carl", mobile_phone="86-13800000003")
    dora = RamUserFactory(account=account, user_name="dora", mobile_phone="86-13800000004")
    RamUserFactory(account=account, user_name="emil", mobile_phone="852-51234567")
    ArmsContactFactory(account=account, name="Bob on call", phone="+8613800000002")
    create_contact(principal=owner_principal, ram_user=carl, phone="13800000003")
    dora_contact = create_contact(principal=owner_principal, ram_user=dora, phone="13800000004")
    dora_contact.arms_contact.delete()
    ArmsContactFactory(account=account, name="Dora old", phone="+8613800000004", email="")
    return {"anna": anna, "bob": bob, "carl": carl, "dora": dora}


def test_preview_lists_each_subject_with_its_action_and_writes_nothing(
    account, owner_principal, scene
):
    """rules §6: the dialog first shows a preview; the preview itself changes nothing."""
    before = _snapshot(account)
    plan = plan_merge(principal=owner_principal)
    assert _snapshot(account) == before
    assert [r.username for r in plan.rows] == [
        account.login_name,
        "anna",
        "bob",
        "carl",
        "dora",
        "emil",
    ]
    assert _row(plan, account.login_name).action == merge.SKIPPED
    assert _row(plan, account.login_name).reason == merge.NO_MAINLAND_MOBILE
    assert _row(plan, "anna").action == merge.CREATED
    bob = _row(plan, "bob")
    assert (bob.action, bob.arms_name_before, bob.arms_name_after) == (
        merge.CREATED,
        "Bob on call",
        "bob",
    )
    assert _row(plan, "carl").action == merge.UNCHANGED
    assert _row(plan, "dora").action == merge.LINKED
    assert (_row(plan, "emil").action, _row(plan, "emil").reason) == (
        merge.SKIPPED,
        merge.NO_MAINLAND_MOBILE,
    )


def test_confirm_applies_exactly_the_preview_and_reports_the_same_rows(
    account, owner_principal, scene
):
    """rules §6: Confirm applies exactly the preview and reports the same counts."""
    plan = plan_merge(principal=owner_principal)
    report = apply_merge(principal=owner_principal, expected_digest=plan.digest)
    assert report.rows == plan.rows
    assert report.counts == plan.counts
    assert report.counts[merge.CREATED] == 2
    # The result is what the rows said: every non-skipped subject is linked, named after it.
    for username in ("anna", "bob", "carl", "dora"):
        contact = Contact.objects.get(account=account, ram_user__user_name=username)
        assert contact.arms_contact.name == username
        assert contact.arms_contact.phone == contact.phone
    bob_arms = ArmsContact.objects.get(account=account, phone="+8613800000002")
    assert bob_arms.sae_contact.ram_user.user_name == "bob"  # the existing one, not a new one
    assert not Contact.objects.filter(account=account, ram_user__user_name="emil").exists()
    group = ContactGroup.objects.get(account=account, name=CONTACTS_GROUP)
    assert group.members.count() == 4


def test_second_merge_right_after_the_first_changes_nothing(account, owner_principal, scene):
    """rules §6: a second merge right after the first changes nothing."""
    apply_merge(principal=owner_principal)
    before = _snapshot(account)
    second = apply_merge(principal=owner_principal)
    assert _snapshot(account) == before
    assert {row.action for row in second.rows} <= {merge.UNCHANGED, merge.SKIPPED}
    assert second.changes == 0


def test_not_linked_contact_is_repaired_by_merge(account, owner_principal, scene):
    """rules §5: an ARMS contact deleted on the ARMS side leaves the SAE contact "Not linked";
    Merge Contacts repairs it (here by linking the free ARMS contact with the phone)."""
    dora = Contact.objects.get(account=account, ram_user=scene["dora"])
    assert not ArmsContact.objects.filter(sae_contact=dora).exists()
    apply_merge(principal=owner_principal)
    arms = ArmsContact.objects.get(sae_contact=dora)
    assert (arms.name, str(arms.phone)) == ("dora", "+8613800000004")


def test_not_linked_contact_without_any_arms_contact_gets_a_new_one(account, owner_principal):
    """rules §6: if no ARMS contact has P, a new ARMS contact is created with P."""
    user = RamUserFactory(account=account, user_name="fay", mobile_phone="86-13800000009")
    contact = create_contact(principal=owner_principal, ram_user=user, phone="13800000009")
    contact.arms_contact.delete()
    plan = plan_merge(principal=owner_principal)
    assert _row(plan, "fay").action == merge.ARMS_CREATED
    apply_merge(principal=owner_principal)
    contact.refresh_from_db()
    assert contact.arms_contact.name == "fay"


def test_skipped_when_the_arms_contact_is_linked_to_another_contact(account, owner_principal):
    """rules §6: if the ARMS contact with P is linked to another SAE contact, skipped.

    Here the phones of two linked ARMS contacts were swapped on the ARMS side: each contact's
    phone is held by the ARMS contact linked to the other one, so neither may take it."""
    gina = RamUserFactory(account=account, user_name="gina", mobile_phone="86-13800000011")
    hugo = RamUserFactory(account=account, user_name="hugo", mobile_phone="86-13800000012")
    gina_contact = create_contact(principal=owner_principal, ram_user=gina, phone="13800000011")
    hugo_contact = create_contact(principal=owner_principal, ram_user=hugo, phone="13800000012")
    gina_arms, hugo_arms = gina_contact.arms_contact, hugo_contact.arms_contact
    ArmsContact.objects.filter(pk=gina_arms.pk).update(phone="+8613800000099")
    ArmsContact.objects.filter(pk=hugo_arms.pk).update(phone="+8613800000011")
    ArmsContact.objects.filter(pk=gina_arms.pk).update(phone="+8613800000012")
    before = _snapshot(account)
    report = apply_merge(principal=owner_principal)
    assert _row(report, "gina").reason == merge.ARMS_LINKED_ELSEWHERE.format(
        name="hugo", username="hugo"
    )
    assert _row(report, "hugo").reason == merge.ARMS_LINKED_ELSEWHERE.format(
        name="gina", username="gina"
    )
    assert _snapshot(account) == before


def test_a_skip_lifted_by_a_later_row_is_retried_in_the_same_merge(account, owner_principal):
    """rules §6: a second merge right after the first changes nothing, even when a later row
    (zoe's re-link) frees the ARMS contact an earlier row (hugo's) needed."""
    hugo = RamUserFactory(account=account, user_name="hugo", mobile_phone="86-13800000012")
    zoe = RamUserFactory(account=account, user_name="zoe", mobile_phone="86-13800000013")
    hugo_contact = create_contact(principal=owner_principal, ram_user=hugo, phone="13800000012")
    zoe_contact = create_contact(principal=owner_principal, ram_user=zoe, phone="13800000013")
    hugo_contact.arms_contact.delete()  # hugo: Not linked
    # zoe's ARMS contact now carries hugo's phone.
    ArmsContact.objects.filter(sae_contact=zoe_contact).update(phone="+8613800000012")
    report = apply_merge(principal=owner_principal)
    assert _row(report, "zoe").action == merge.ARMS_CREATED
    assert _row(report, "hugo").action == merge.LINKED
    assert ArmsContact.objects.get(sae_contact=hugo_contact).name == "hugo"
    assert str(ArmsContact.objects.get(sae_contact=zoe_contact).phone) == "+8613800000013"
    assert apply_merge(principal=owner_principal).changes == 0


def test_skipped_when_the_phone_belongs_to_another_contact(account, owner_principal):
    """rules §6 / rules §4: one contact per phone: a RAM user whose phone another contact holds
    is skipped with the reason."""
    ivan = RamUserFactory(account=account, user_name="ivan", mobile_phone="86-13800000021")
    jack = RamUserFactory(account=account, user_name="jack", mobile_phone="86-13800000021")
    create_contact(principal=owner_principal, ram_user=ivan, phone="13800000021")
    report = apply_merge(principal=owner_principal)
    row = _row(report, "jack")
    assert row.action == merge.SKIPPED
    assert row.reason == merge.PHONE_HELD_BY_CONTACT.format(username="ivan")
    assert not Contact.objects.filter(ram_user=jack).exists()


def test_two_users_with_one_phone_only_the_first_in_order_gets_it(account, owner_principal):
    """rules §6: subjects go in user-name order; a later row sees what an earlier row did."""
    RamUserFactory(account=account, user_name="zed", mobile_phone="86-13800000031")
    RamUserFactory(account=account, user_name="Amy", mobile_phone="86-13800000031")
    plan = plan_merge(principal=owner_principal)
    assert _row(plan, "Amy").action == merge.CREATED
    assert _row(plan, "zed").reason == merge.PHONE_HELD_BY_CONTACT.format(username="Amy")
    assert apply_merge(principal=owner_principal).rows == plan.rows


def test_skipped_when_the_ram_email_belongs_to_another_arms_contact(account, owner_principal):
    """rules §5: a mailbox another ARMS contact holds is refused, so merge skips (with why)
    instead of failing the whole merge."""
    RamUserFactory(
        account=account,
        user_name="olga",
        mobile_phone="86-13800000091",
        email="noc@example.com",
    )
    ArmsContactFactory(account=account, name="NOC", phone="+8613900000091", email="noc@example.com")
    report = apply_merge(principal=owner_principal)
    row = _row(report, "olga")
    assert row.action == merge.SKIPPED
    assert row.reason == merge.MAILBOX_HELD_BY_ARMS.format(mailbox="noc@example.com", name="NOC")
    assert not Contact.objects.filter(account=account).exists()


@override_settings(SAE_MAX_CONTACTS=2)
def test_skipped_when_the_contact_limit_is_reached(account, owner_principal):
    """rules §6 / rules §4: new contacts only within the account's contact limit."""
    for n in range(3):
        RamUserFactory(account=account, user_name=f"u{n}", mobile_phone=f"86-1380000004{n}")
    report = apply_merge(principal=owner_principal)
    assert [r.action for r in report.rows[1:]] == [merge.CREATED, merge.CREATED, merge.SKIPPED]
    assert report.rows[3].reason == merge.CONTACT_LIMIT_REACHED.format(limit=2)
    assert Contact.objects.for_account(account).count() == 2


def test_hong_kong_ram_phone_is_skipped(account, owner_principal):
    """rules §6 / rules §4: P must be a Chinese-mainland mobile (not Hong Kong)."""
    RamUserFactory(account=account, user_name="kai", mobile_phone="852-51234567")
    RamUserFactory(account=account, user_name="lin", mobile_phone="")
    report = apply_merge(principal=owner_principal)
    assert _row(report, "kai").reason == merge.NO_MAINLAND_MOBILE
    assert _row(report, "lin").reason == merge.NO_MAINLAND_MOBILE
    assert Contact.objects.for_account(account).count() == 0


def test_relinking_leaves_the_old_arms_contact_unlinked(account, owner_principal):
    """rules §6: re-linking a contact to the ARMS contact with its phone leaves the ARMS contact
    it was linked to on the ARMS side, unlinked (and out of sae:contacts)."""
    mia = RamUserFactory(account=account, user_name="mia", mobile_phone="86-13800000051")
    contact = create_contact(
        principal=owner_principal, ram_user=mia, phone="13800000051", mailbox="mia@example.com"
    )
    old = contact.arms_contact
    # On the ARMS side someone changed the old one's phone and added one with mia's phone.
    ArmsContact.objects.filter(pk=old.pk).update(phone="+8613800000052")
    new = ArmsContactFactory(account=account, name="Mia pager", phone="+8613800000099")
    ArmsContact.objects.filter(pk=new.pk).update(phone="+8613800000051")
    plan = plan_merge(principal=owner_principal)
    row = _row(plan, "mia")
    assert (row.action, row.previous_arms_name) == (merge.RELINKED, "mia")
    apply_merge(principal=owner_principal)
    old.refresh_from_db()
    new.refresh_from_db()
    assert old.sae_contact_id is None
    assert new.sae_contact_id == contact.pk
    assert (new.name, new.email) == ("mia", "mia@example.com")
    group = ContactGroup.objects.get(account=account, name=CONTACTS_GROUP)
    assert set(group.members.all()) == {new}


def test_already_linked_contact_with_another_name_is_renamed(account, owner_principal):
    """rules §6: the linked ARMS contact's name is set to the RAM user's name."""
    nina = RamUserFactory(account=account, user_name="nina", mobile_phone="86-13800000061")
    contact = create_contact(principal=owner_principal, ram_user=nina, phone="13800000061")
    ArmsContact.objects.filter(pk=contact.arms_contact.pk).update(name="Renamed in ARMS")
    report = apply_merge(principal=owner_principal)
    row = _row(report, "nina")
    assert (row.action, row.arms_name_before, row.arms_name_after) == (
        merge.RENAMED,
        "Renamed in ARMS",
        "nina",
    )
    assert ArmsContact.objects.get(sae_contact=contact).name == "nina"


def test_account_itself_with_a_contact_is_merged_under_its_login_name(account, owner_principal):
    """rules §6 / rules §5: the account itself takes part; its name is the login name."""
    contact = create_contact(principal=owner_principal, ram_user=None, phone="13800000071")
    ArmsContact.objects.filter(sae_contact=contact).update(name="boss")
    report = apply_merge(principal=owner_principal)
    assert report.rows[0].username == account.login_name
    assert report.rows[0].action == merge.RENAMED
    assert ArmsContact.objects.get(sae_contact=contact).name == account.login_name


def test_confirm_on_a_stale_preview_changes_nothing(account, owner_principal, scene):
    """rules §6: Confirm applies exactly the preview: if the data changed since, nothing is done
    and the dialog asks to review again."""
    plan = plan_merge(principal=owner_principal)
    RamUserFactory(account=account, user_name="late", mobile_phone="86-13800000081")
    before = _snapshot(account)
    with pytest.raises(merge.PlanChanged):
        apply_merge(principal=owner_principal, expected_digest=plan.digest)
    assert _snapshot(account) == before


def test_ram_user_without_list_users_may_not_merge(account, owner_principal, scene):
    """rules §3: a RAM user without ram:ListUsers may not Merge Contacts; nothing changes."""
    principal = Principal(account, scene["anna"])
    before = _snapshot(account)
    with pytest.raises(PermissionDenied):
        plan_merge(principal=principal)
    with pytest.raises(PermissionDenied):
        apply_merge(principal=principal)
    assert _snapshot(account) == before


def test_ram_user_allowed_list_users_may_merge(account, scene):
    """rules §3: a RAM user allowed ram:ListUsers may Merge Contacts."""
    policy = PolicyFactory(account=account)
    PolicyAttachment.objects.create(ram_user=scene["bob"], policy=policy)
    principal = Principal(account, scene["bob"])
    report = apply_merge(principal=principal)
    assert report.counts[merge.CREATED] == 2


@pytest.mark.django_db(transaction=True)
def test_two_merges_racing_apply_once_and_the_later_one_changes_nothing():
    """rules §6: Confirm recomputes the plan with the account row locked, so two merges at
    once neither duplicate nor half-apply: one does the work, the other finds it done."""
    account = AccountFactory()
    for n in range(5):
        RamUserFactory(account=account, user_name=f"r{n}", mobile_phone=f"86-1380000090{n}")
    principal = Principal(account)
    barrier = threading.Barrier(2)
    results: list = [None, None]

    def run(i):
        try:
            barrier.wait(timeout=30)
            results[i] = apply_merge(principal=principal)
        except Exception as exc:  # any error is a failure of the rule under test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(isinstance(r, merge.MergeReport) for r in results), results
    assert sorted(r.counts[merge.CREATED] for r in results) == [0, 5]
    assert Contact.objects.filter(account=account).count() == 5
    assert ArmsContact.objects.filter(account=account, sae_contact__isnull=False).count() == 5
