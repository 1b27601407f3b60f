"""Merge Contacts in bulk (issue 11, rules §6): the outcome is exactly what the per-contact path
produces (the same ARMS contacts, links, names, channels, `sae:` memberships and report), and
Confirm runs a fixed number of SQL queries whatever the number of RAM users."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from arms_sync import linking
from arms_sync.managed import ensure_managed
from arms_sync.merge import CREATED, RENAMED, apply_merge, plan_merge
from arms_sync.models import ArmsContact, ContactGroup
from contacts.models import Contact
from contacts.services import create_contact
from ram_directory.models import RamUser
from ram_directory.principal import Principal
from tests.factories import AccountFactory, ArmsContactFactory, RamUserFactory
from tests.integration.contacts_support import DINGTALK_SECRET, DINGTALK_URL, WECOM_URL

pytestmark = pytest.mark.django_db


def _build(account) -> None:
    """One subject per action of rules §6, and the moves between ARMS contacts that a bulk
    write must order right (a mailbox and a link passing from one ARMS contact to another)."""
    owner = Principal(account)

    def user(name, phone, email=""):
        return RamUserFactory(
            account=account, user_name=name, mobile_phone=phone, email=email or f"{name}@x.cn"
        )

    # created, no ARMS contact with the phone: a new one
    user("anna", "86-13800000001")
    # created, a free ARMS contact with the phone (robots of its own, which the link replaces)
    user("bob", "86-13800000002")
    ArmsContactFactory(
        account=account,
        name="Bob on call",
        phone="+8613800000002",
        email="bob.pager@x.cn",
        ding_robot_url=DINGTALK_URL,
        wecom_robot_url=WECOM_URL,
    )
    # unchanged
    carl = user("carl", "86-13800000003")
    create_contact(principal=owner, ram_user=carl, phone="13800000003")
    # Not linked, a free ARMS contact with the phone: linked (robots copied from the contact)
    dora = user("dora", "86-13800000004")
    dora_contact = create_contact(
        principal=owner,
        ram_user=dora,
        phone="13800000004",
        mailbox="dora@x.cn",
        dingtalk_webhook=DINGTALK_URL,
        dingtalk_secret=DINGTALK_SECRET,
        wecom_webhook=WECOM_URL,
    )
    dora_contact.arms_contact.delete()
    ArmsContactFactory(account=account, name="Dora old", phone="+8613800000004", email="")
    # renamed
    eve = user("eve", "86-13800000005")
    eve_contact = create_contact(principal=owner, ram_user=eve, phone="13800000005")
    ArmsContact.objects.filter(sae_contact=eve_contact).update(name="Eve in ARMS")
    # re-linked: the old ARMS contact gives the mailbox back and leaves sae:contacts
    mia = user("mia", "86-13800000006")
    mia_contact = create_contact(
        principal=owner, ram_user=mia, phone="13800000006", mailbox="mia@x.cn"
    )
    old = mia_contact.arms_contact
    ArmsContact.objects.filter(pk=old.pk).update(phone="+8613800000066")
    pager = ArmsContactFactory(account=account, name="Mia pager", phone="+8613800000099")
    ArmsContact.objects.filter(pk=pager.pk).update(phone="+8613800000006", email="")
    # an ARMS contact created for a contact left Not linked, none with its phone
    fay = user("fay", "86-13800000007")
    create_contact(principal=owner, ram_user=fay, phone="13800000007").arms_contact.delete()
    # a link passing between two ARMS contacts (zoe's re-link frees the one hugo needs)
    hugo = user("hugo", "86-13800000012")
    zoe = user("zoe", "86-13800000013")
    hugo_contact = create_contact(principal=owner, ram_user=hugo, phone="13800000012")
    zoe_contact = create_contact(
        principal=owner, ram_user=zoe, phone="13800000013", mailbox="zoe@x.cn"
    )
    hugo_contact.arms_contact.delete()
    ArmsContact.objects.filter(sae_contact=zoe_contact).update(phone="+8613800000012")
    # skipped: Hong Kong, a phone another contact holds, a mailbox another ARMS contact holds
    user("kai", "852-51234567")
    user("jack", "86-13800000003")
    user("olga", "86-13800000091", "noc@x.cn")
    ArmsContactFactory(account=account, name="NOC", phone="+8613900000091", email="noc@x.cn")
    # the account itself, renamed (it stays in sae:approvers)
    me = create_contact(principal=owner, ram_user=None, phone="13800000071")
    ArmsContact.objects.filter(sae_contact=me).update(name="boss")


def _release(previous: ArmsContact, contact: Contact) -> None:
    previous.sae_contact = None
    if previous.email and previous.email.lower() == (contact.mailbox or "").lower():
        previous.email = ""
    previous.save(update_fields=["sae_contact", "email", "updated_at"])
    ensure_managed(contact.account).contacts_group.members.remove(previous)


def _per_contact_merge(principal: Principal):
    """The merge as it was applied before it went bulk: row by row, through the contact
    service (whose post_save links) and linking, one contact at a time."""
    account = principal.account
    plan = plan_merge(principal=principal)
    for row in sorted(plan.changed_rows, key=lambda r: r.step):
        if row.action == CREATED:
            ram_user = RamUser.objects.get(pk=row.ram_user_pk)
            create_contact(
                principal=principal, ram_user=ram_user, phone=row.phone, mailbox=row.mailbox
            )
            continue
        if row.action == RENAMED:
            arms = ArmsContact.objects.get(pk=row.arms_pk)
            arms.name = row.arms_name_after
            arms.save(update_fields=["name", "updated_at"])
            continue
        contact = Contact.objects.select_related("ram_user", "account").get(pk=row.contact_pk)
        if row.previous_arms_pk is not None:
            _release(ArmsContact.objects.get(pk=row.previous_arms_pk), contact)
        arms = ArmsContact.objects.get(pk=row.arms_pk) if row.arms_pk else ArmsContact()
        arms.account = account
        linking.check_conflicts(contact, arms)
        ArmsContact.objects.filter(sae_contact=contact).exclude(pk=arms.pk).update(sae_contact=None)
        linking.copy_contact_fields(arms, contact)
        arms.sae_contact = contact
        arms.save()
        managed = ensure_managed(account)
        for group in linking.managed_groups(contact, managed):
            group.members.add(arms)
    return plan


def _outcome(account):
    """Everything a merge may change, named rather than numbered (two accounts compared)."""
    login = account.login_name

    def who(contact):
        return contact.ram_user.user_name if contact.ram_user_id else "<account>"

    contacts = sorted(
        (who(c), str(c.phone), c.mailbox, c.dingtalk_webhook, c.dingtalk_secret, c.wecom_webhook)
        for c in Contact.objects.for_account(account).select_related("ram_user")
    )
    arms = sorted(
        (
            a.name.replace(login, "<account>"),
            str(a.phone),
            a.email,
            a.ding_robot_url,
            a.ding_robot_secret,
            a.ding_robot_keyword,
            a.wecom_robot_url,
            who(a.sae_contact) if a.sae_contact_id else None,
        )
        for a in ArmsContact.objects.for_account(account).select_related("sae_contact__ram_user")
    )
    members = sorted(
        (g.name, str(m.phone))
        for g in ContactGroup.objects.for_account(account).prefetch_related("members")
        for m in g.members.all()
    )
    return contacts, arms, members


def _report(plan, account):
    rows = [row.as_dict() for row in plan.rows]
    text = repr(rows).replace(account.login_name, "<account>")
    return text, plan.counts


def test_bulk_merge_has_the_outcome_of_the_per_contact_path():
    bulk, reference = AccountFactory(), AccountFactory()
    _build(bulk)
    _build(reference)
    assert _outcome(bulk) == _outcome(reference)
    report = apply_merge(principal=Principal(bulk))
    expected = _per_contact_merge(Principal(reference))
    assert _report(report, bulk) == _report(expected, reference)
    assert {action for action, n in report.counts.items() if n} == {
        "created",
        "linked",
        "arms_created",
        "relinked",
        "renamed",
        "unchanged",
        "skipped",
    }
    assert _outcome(bulk) == _outcome(reference)
    again = apply_merge(principal=Principal(bulk))
    assert again.changes == 0


def _account_with_users(n: int):
    account = AccountFactory()
    for i in range(n):
        RamUserFactory(account=account, user_name=f"u{i:03d}", mobile_phone=f"86-1350000{i:04d}")
    return account


def _confirm_queries(account) -> int:
    with CaptureQueriesContext(connection) as ctx:
        report = apply_merge(principal=Principal(account))
    assert report.counts["created"] == Contact.objects.for_account(account).count()
    return len(ctx.captured_queries)


# Confirm, inside the caller's transaction (a savepoint here): SAVEPOINT; lock the account
# row; read the ARMS contacts (FOR UPDATE), the contacts and the RAM users; INSERT the
# contacts; INSERT the ARMS contacts; the `sae:` groups; INSERT the memberships; whether the
# account is connected to the cloud (arms_sync.cloud's port, for its outbox); the audit entry;
# RELEASE.
MERGE_CREATING_QUERIES = 12
# A second merge right after: the lock and the three reads, in the savepoint.
MERGE_NOTHING_TO_DO_QUERIES = 6


@pytest.mark.parametrize("users", [10, 50, 100])
def test_merge_runs_the_same_queries_for_10_50_and_100_ram_users(users):
    account = _account_with_users(users)
    ensure_managed(account)
    assert _confirm_queries(account) == MERGE_CREATING_QUERIES
    assert Contact.objects.for_account(account).count() == users
    assert ArmsContact.objects.for_account(account).filter(sae_contact__isnull=False).count() == (
        users
    )
    group = ensure_managed(account).contacts_group
    assert group.members.count() == users
    with CaptureQueriesContext(connection) as ctx:
        assert apply_merge(principal=Principal(account)).changes == 0
    assert len(ctx.captured_queries) == MERGE_NOTHING_TO_DO_QUERIES


def test_mixed_merge_runs_a_fixed_number_of_queries():
    """Every action at once, the moves between ARMS contacts included: a handful more
    statements (the releases' memberships, the cleared mailboxes and links, one UPDATE per
    set of changed columns), still none per row."""
    small, large = AccountFactory(), AccountFactory()
    _build(small)
    _build(large)
    for i in range(40):
        RamUserFactory(account=large, user_name=f"x{i:03d}", mobile_phone=f"86-1350000{i:04d}")
    assert _confirm_queries_any(small) == _confirm_queries_any(large)


def _confirm_queries_any(account) -> int:
    with CaptureQueriesContext(connection) as ctx:
        apply_merge(principal=Principal(account))
    return len(ctx.captured_queries)
