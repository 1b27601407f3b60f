"""Who changed what: every write leaves one audit entry, in its own transaction, naming the
actor and the fields changed, with secrets masked; a refused write leaves none."""

from __future__ import annotations

import io
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from arms_sync import services as arms_services
from arms_sync.intake import services as intake_services
from arms_sync.merge import apply_merge
from audit.models import Entry
from contacts import services
from ram_directory import approvals
from ram_directory import services as ram_services
from ram_directory.models import PermissionRequest
from ram_directory.policy import PolicyDocumentError
from tests.factories import ArmsContactFactory, PolicyFactory, RamUserFactory
from tests.integration.contacts_support import mobile, principal_of

pytestmark = pytest.mark.django_db

DING = "https://oapi.dingtalk.com/robot/send?access_token=" + "d1" * 32
DING2 = "https://oapi.dingtalk.com/robot/send?access_token=" + "e2" * 32
WECOM = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + "f3" * 18
SECRET = "SEC" + "a1b2c3d4" * 8


def entries(account, **filters):
    return list(Entry.objects.filter(account=account, **filters).order_by("id"))


def only(account, action):
    found = entries(account, action=action)
    assert len(found) == 1, [e.action for e in entries(account)]
    return found[0]


def stored(account) -> str:
    """Every entry of the account as the database holds it, for "no secret in it" checks."""
    return json.dumps(list(Entry.objects.filter(account=account).values()), default=str)


def test_contact_create_update_delete_each_leave_one_entry_naming_the_principal(account, ram_user):
    alice = principal_of(account, ram_user)
    contact = services.create_contact(
        principal=alice, ram_user=ram_user, phone=mobile(1), mailbox="a@example.com"
    )
    created = only(account, "contact.create")
    assert (created.actor, created.actor_kind, created.actor_ref) == (
        ram_user.upn,
        "ram_user",
        ram_user.user_id,
    )
    assert created.object_type == "contacts.contact"
    assert created.object_id == str(contact.pk)
    assert created.changes["phone"] == [None, mobile(1)]
    assert created.changes["mailbox"] == [None, "a@example.com"]

    services.update_contact(
        principal=principal_of(account),
        contact=contact,
        phone=mobile(2),
        mailbox="a@example.com",
        dingtalk_webhook="",
        dingtalk_secret=None,
        wecom_webhook="",
    )
    updated = only(account, "contact.update")
    assert updated.actor == account.login_name and updated.actor_kind == "owner"
    # Only what changed, field by field.
    assert updated.changes == {"phone": [mobile(1), mobile(2)]}

    contact_pk = contact.pk
    services.delete_contact(principal=principal_of(account), contact=contact)
    deleted = only(account, "contact.delete")
    assert deleted.object_id == str(contact_pk)
    assert deleted.changes["phone"] == [mobile(2), ""]


def test_robot_urls_and_signing_secrets_are_masked_in_entries(account, owner_principal):
    contact = services.create_contact(
        principal=owner_principal,
        ram_user=None,
        phone=mobile(3),
        dingtalk_webhook=DING,
        dingtalk_secret=SECRET,
        wecom_webhook=WECOM,
    )
    services.update_contact(
        principal=owner_principal,
        contact=contact,
        phone=mobile(3),
        mailbox="",
        dingtalk_webhook=DING2,
        dingtalk_secret=SECRET[:-4] + "zzzz",
        wecom_webhook="",
    )
    services.delete_contact(principal=owner_principal, contact=contact)
    text = stored(account)
    for secret in ("d1" * 32, "e2" * 32, "f3" * 18, SECRET, SECRET[:-4] + "zzzz"):
        assert secret not in text
    update = only(account, "contact.update")
    # A changed secret shows as changed, masked both sides.
    assert update.changes["dingtalk_secret"] == ["SEC…" + SECRET[-4:], "SEC…zzzz"]
    assert update.changes["dingtalk_webhook"][1].startswith("https://oapi.dingtalk.com/")
    assert update.changes["wecom_webhook"][1] == ""


def test_a_refused_write_leaves_no_entry(account, owner_principal, ram_user):
    services.create_contact(principal=owner_principal, ram_user=None, phone=mobile(4))
    before = Entry.objects.count()
    with pytest.raises(ValidationError):
        services.create_contact(principal=owner_principal, ram_user=ram_user, phone=mobile(4))
    with pytest.raises(PolicyDocumentError):
        ram_services.create_policy(account=account, name="Bad", document={"Statement": 1})
    assert Entry.objects.count() == before


def test_policy_writes_and_authorizations_are_recorded(account, owner_principal, ram_user):
    document = {
        "Version": "1",
        "Statement": [{"Effect": "Allow", "Action": "ram:GetUser", "Resource": "*"}],
    }
    policy = ram_services.create_policy(
        account=account, name="Readers", document=document, actor=owner_principal
    )
    assert only(account, "policy.create").changes["name"] == [None, "Readers"]
    ram_services.update_policy(
        policy=policy, document=document, description="new words", actor=owner_principal
    )
    assert only(account, "policy.update").changes == {"description": ["", "new words"]}
    ram_services.attach_policy(ram_user=ram_user, policy=policy, actor=owner_principal)
    attach = only(account, "policy.attach")
    assert (attach.object_label, attach.changes) == (str(ram_user), {"Policies": [None, "Readers"]})
    ram_services.detach_policy(ram_user=ram_user, policy=policy, actor=owner_principal)
    assert only(account, "policy.detach").changes == {"Policies": ["Readers", None]}
    ram_services.delete_policy(policy=policy, actor=owner_principal)
    assert only(account, "policy.delete").object_label == str(policy)
    assert {e.actor for e in entries(account)} == {account.login_name}


def test_operator_commands_are_recorded_as_the_operator(account, ram_user):
    policy = PolicyFactory(account=account, name="ByCommand")
    call_command("attach_policy", account.account_id, ram_user.user_name, "ByCommand")
    entry = only(account, "policy.attach")
    assert entry.actor_kind == "operator"
    assert entry.actor.startswith("operator ")
    call_command("detach_policy", account.account_id, ram_user.user_name, policy.name)
    assert only(account, "policy.detach").actor_kind == "operator"


def test_each_approval_step_is_recorded(account, owner_principal):
    carol = RamUserFactory(account=account, user_name="carol")
    as_carol = principal_of(account, carol)
    request = approvals.request_permission(principal=as_carol, reason="to pick users")
    assert only(account, "approval.requested").actor == carol.upn
    approvals.approve(principal=owner_principal, request=request)
    approved = only(account, "approval.approved")
    assert approved.actor == account.login_name
    assert approved.object_id == str(request.pk)
    # The grant the approval made is in the log too, under the owner's name.
    assert only(account, "policy.attach").actor == account.login_name

    dave = RamUserFactory(account=account, user_name="dave")
    second = approvals.request_permission(principal=principal_of(account, dave), reason="x")
    approvals.reject(principal=owner_principal, request=second, reason="not now")
    assert only(account, "approval.rejected").note == "not now"
    third = approvals.request_permission(principal=principal_of(account, dave), reason="again")
    approvals.withdraw(principal=principal_of(account, dave), request=third)
    assert only(account, "approval.withdrawn").actor == dave.upn
    # A refused decision (a RAM user approving) leaves nothing.
    fourth = approvals.request_permission(principal=principal_of(account, dave), reason="once more")
    before = Entry.objects.count()
    with pytest.raises(PermissionDenied):
        approvals.approve(principal=principal_of(account, dave), request=fourth)
    assert Entry.objects.count() == before
    assert PermissionRequest.objects.get(pk=fourth.pk).status == "pending"


def test_intake_token_create_and_rotate_keep_no_token(account, owner_principal):
    first = intake_services.rotate_token(account=account, actor=owner_principal)
    second = intake_services.rotate_token(account=account, actor=owner_principal)
    assert only(account, "intake_token.create").actor == account.login_name
    assert only(account, "intake_token.rotate").changes == {"prefix": [None, f"{second[:10]}…"]}
    text = stored(account)
    assert first not in text and second not in text


def test_forced_override_is_always_recorded_and_an_unconfirmed_one_is_refused(
    account, owner_principal
):
    contact = services.create_contact(principal=owner_principal, ram_user=None, phone=mobile(5))
    linked = contact.arms_contact
    before = Entry.objects.count()
    with pytest.raises(ValidationError):
        arms_services.delete_arms_contact(arms_contact=linked)
    assert Entry.objects.count() == before
    arms_services.delete_arms_contact(arms_contact=linked, confirm_break=True)
    forced = only(account, "arms.forced_delete")
    assert forced.object_type == "arms_sync.armscontact"
    assert forced.actor == "system"  # no person around it: not a request, not a command

    plain = ArmsContactFactory(account=account, name="not managed")
    arms_services.delete_arms_contact(arms_contact=plain, confirm_break=True)
    assert len(entries(account, action="arms.forced_delete")) == 1  # nothing broken: no entry


def test_merge_leaves_one_summary_entry(account, owner_principal):
    RamUserFactory(account=account, user_name="merged1")
    RamUserFactory(account=account, user_name="merged2")
    apply_merge(principal=owner_principal)
    merge = only(account, "contact.merge")
    assert merge.actor == account.login_name
    assert merge.changes["Contact created"] == [None, 2]
    # Nothing to merge: nothing written, nothing recorded.
    apply_merge(principal=owner_principal)
    assert len(entries(account, action="contact.merge")) == 1


def test_the_admin_records_the_operator(operator_client, account, owner_principal):
    contact = services.create_contact(principal=owner_principal, ram_user=None, phone=mobile(6))
    response = operator_client.post(
        f"/admin/contacts/contact/{contact.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 302
    deleted = only(account, "contact.delete")
    assert (deleted.actor, deleted.actor_kind) == ("operator operator", "operator")


def test_a_forced_delete_from_the_admin_names_the_operator(
    operator_client, account, owner_principal
):
    contact = services.create_contact(principal=owner_principal, ram_user=None, phone=mobile(7))
    arms = contact.arms_contact
    url = f"/admin/arms_sync/armscontact/{arms.pk}/delete/"
    refused = operator_client.post(url, {"post": "yes"})
    assert refused.status_code == 302
    assert entries(account, action="arms.forced_delete") == []
    operator_client.post(url, {"post": "yes", "confirm_break": "on"})
    forced = only(account, "arms.forced_delete")
    assert (forced.actor, forced.object_id) == ("operator operator", str(arms.pk))


def test_the_intake_token_command_is_recorded_as_the_operator(account):
    call_command("intake_token", account.account_id, stdout=io.StringIO())
    entry = only(account, "intake_token.create")
    assert entry.actor_kind == "operator" and entry.actor.startswith("operator ")


def test_the_admin_lists_entries_read_only(operator_client, account, owner_principal):
    contact = services.create_contact(
        principal=owner_principal, ram_user=None, phone=mobile(8), dingtalk_webhook=DING
    )
    entry = only(account, "contact.create")
    listing = operator_client.get("/admin/audit/entry/")
    assert listing.status_code == 200 and "Created contact" in listing.text
    page = operator_client.get(f"/admin/audit/entry/{entry.pk}/change/")
    assert page.status_code == 200 and "d1" * 32 not in page.text
    assert "Phone Number" in page.text  # the field by its name, not its column
    assert 'name="_save"' not in page.text
    assert (
        operator_client.post(f"/admin/audit/entry/{entry.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert contact.pk
