"""rules §10: the Django admin holds every RAM directory model, searchable and filterable."""

from __future__ import annotations

import json

import pytest
from django.contrib import admin
from django.urls import reverse

from ram_directory import services
from ram_directory.models import Account, Policy, PolicyAttachment, RamUser, User
from tests.factories import AccountFactory, PolicyFactory, RamUserFactory

pytestmark = pytest.mark.django_db

MODELS = [Account, RamUser, Policy, PolicyAttachment, User]


@pytest.fixture
def data():
    account = AccountFactory()
    user = RamUserFactory(account=account, user_name="alice")
    services.attach_policy(ram_user=user, policy=PolicyFactory(account=account, name="SeeUsers"))
    return account, user


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_ram_model_is_registered_with_search(model):
    """rules §10: every model of ram_directory is in the admin, with search_fields."""
    model_admin = admin.site._registry[model]
    assert model_admin.search_fields
    assert model_admin.list_filter


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
@pytest.mark.parametrize("query", ["", "alice", "SeeUsers", "1000", "nothing-matches-this"])
def test_operator_opens_each_changelist_and_searches(operator_client, data, model, query):
    """rules §10: a superuser with no account opens each changelist and searches without error."""
    url = reverse(f"admin:ram_directory_{model._meta.model_name}_changelist")
    response = operator_client.get(url, {"q": query} if query else {})
    assert response.status_code == 200


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_operator_opens_each_change_form(operator_client, data, model):
    obj = model.objects.first()
    url = reverse(f"admin:ram_directory_{model._meta.model_name}_change", args=[obj.pk])
    assert operator_client.get(url).status_code == 200


def test_ram_user_change_page_shows_attachments_inline(operator_client, data):
    _account, user = data
    response = operator_client.get(reverse("admin:ram_directory_ramuser_change", args=[user.pk]))
    assert "SeeUsers" in response.text


def test_admin_refuses_an_invalid_policy_document(operator_client, data):
    """rules §2: the admin validates a policy document as the Script Editor does."""
    account, _user = data
    policy = Policy.objects.get(account=account, name="SeeUsers")
    bad = {"Version": "1", "Statement": [{"Effect": "Permit", "Action": "ram:*", "Resource": "*"}]}
    response = operator_client.post(
        reverse("admin:ram_directory_policy_change", args=[policy.pk]),
        {
            "account": account.pk,
            "name": "SeeUsers",
            "policy_type": "Custom",
            "description": "",
            "document": json.dumps(bad),
        },
    )
    assert response.status_code == 200
    assert "Statement[0].Effect: must be" in response.text
    policy.refresh_from_db()
    assert policy.document["Statement"][0]["Effect"] == "Allow"


def test_changelist_query_count_is_fixed(operator_client, django_assert_max_num_queries):
    """docs/architecture.md: list_select_related keeps the attachment changelist's queries fixed."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    account = AccountFactory()
    user = RamUserFactory(account=account)
    services.attach_policy(ram_user=user, policy=PolicyFactory(account=account))
    url = reverse("admin:ram_directory_policyattachment_changelist")
    with CaptureQueriesContext(connection) as one:
        operator_client.get(url)
    for _ in range(15):
        other = RamUserFactory(account=AccountFactory(), sign_in=False)
        services.attach_policy(ram_user=other, policy=PolicyFactory(account=other.account))
    with django_assert_max_num_queries(len(one)):
        operator_client.get(url)


def test_admin_refuses_attaching_another_accounts_policy(operator_client, data):
    """rules §1: even in the admin a policy is attached only within its own account."""
    from ram_directory.admin import POLICY_OF_OTHER_ACCOUNT

    _account, user = data
    foreign = PolicyFactory(account=AccountFactory(), name="Foreign")
    response = operator_client.post(
        reverse("admin:ram_directory_policyattachment_add"),
        {
            "ram_user": user.pk,
            "policy": foreign.pk,
            "attached_at_0": "2026-01-01",
            "attached_at_1": "00:00:00",
        },
    )
    assert response.status_code == 200
    assert POLICY_OF_OTHER_ACCOUNT in response.text
    assert not PolicyAttachment.objects.filter(policy=foreign).exists()


# --- writes go through ram_directory.services (rules §1, §2) -----------------------------------


def _policy_post(policy: Policy, **changes) -> dict:
    return {
        "name": policy.name,
        "description": policy.description,
        "document": json.dumps(policy.document),
        **changes,
    }


def test_deleting_an_attached_policy_in_the_admin_is_refused(operator_client, data):
    """rules §2: a policy still attached to a user is not deleted, in the admin either, and no
    deletion is recorded in the admin's history."""
    from django.contrib.admin.models import DELETION, LogEntry

    from ram_directory.services import POLICY_IN_USE

    account, _user = data
    policy = Policy.objects.get(account=account, name="SeeUsers")
    url = reverse("admin:ram_directory_policy_delete", args=[policy.pk])
    response = operator_client.post(url, {"post": "yes"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse(
        "admin:ram_directory_policy_change", args=[policy.pk]
    )
    assert POLICY_IN_USE in response.text
    assert Policy.objects.filter(pk=policy.pk).exists()
    assert not LogEntry.objects.filter(action_flag=DELETION).exists()


def test_bulk_deleting_policies_with_one_attached_deletes_none(operator_client, data):
    """rules §2: the changelist's bulk delete is all or nothing, each policy through the service."""
    from ram_directory.services import POLICY_IN_USE

    account, _user = data
    attached = Policy.objects.get(account=account, name="SeeUsers")
    free = PolicyFactory(account=account, name="Unused")
    response = operator_client.post(
        reverse("admin:ram_directory_policy_changelist"),
        {"action": "delete_selected", "_selected_action": [attached.pk, free.pk], "post": "yes"},
        follow=True,
    )
    assert POLICY_IN_USE in response.text
    assert "Successfully deleted" not in response.text
    assert Policy.objects.filter(pk__in=[attached.pk, free.pk]).count() == 2


def test_bulk_deleting_unused_custom_policies_deletes_them(operator_client, data):
    account, _user = data
    free = [PolicyFactory(account=account, name=f"Unused{i}") for i in range(2)]
    operator_client.post(
        reverse("admin:ram_directory_policy_changelist"),
        {"action": "delete_selected", "_selected_action": [p.pk for p in free], "post": "yes"},
    )
    assert not Policy.objects.filter(pk__in=[p.pk for p in free]).exists()


def test_editing_a_system_policy_in_the_admin_is_refused(operator_client, data):
    """rules §2: system policies are read-only, in the admin too."""
    from ram_directory.services import SYSTEM_POLICY_READ_ONLY

    account, _user = data
    system = Policy.objects.get(account=account, name="AdministratorAccess")
    before = system.document
    narrower = {
        "Version": "1",
        "Statement": [{"Effect": "Allow", "Action": "ram:*", "Resource": "*"}],
    }
    response = operator_client.post(
        reverse("admin:ram_directory_policy_change", args=[system.pk]),
        _policy_post(system, document=json.dumps(narrower), description="changed"),
    )
    assert response.status_code == 200
    assert SYSTEM_POLICY_READ_ONLY in response.text
    system.refresh_from_db()
    assert system.document == before
    assert system.description != "changed"


def test_deleting_a_system_policy_in_the_admin_is_refused(operator_client, data):
    from ram_directory.services import SYSTEM_POLICY_READ_ONLY

    account, _user = data
    system = Policy.objects.get(account=account, name="AliyunRAMReadOnlyAccess")
    url = reverse("admin:ram_directory_policy_delete", args=[system.pk])
    response = operator_client.post(url, {"post": "yes"}, follow=True)
    assert SYSTEM_POLICY_READ_ONLY in response.text
    assert Policy.objects.filter(pk=system.pk).exists()


def test_admin_adds_and_renames_a_custom_policy_through_the_services(operator_client, data):
    """The admin's add creates a Custom policy; its change saves name, description, document."""
    account, _user = data
    document = {
        "Version": "1",
        "Statement": [{"Effect": "Allow", "Action": "ram:Get*", "Resource": "*"}],
    }
    response = operator_client.post(
        reverse("admin:ram_directory_policy_add"),
        {
            "account": account.pk,
            "name": "ReadUsers",
            "description": "d",
            "document": json.dumps(document),
        },
    )
    assert response.status_code == 302
    policy = Policy.objects.get(account=account, name="ReadUsers")
    assert policy.policy_type == Policy.PolicyType.CUSTOM
    response = operator_client.post(
        reverse("admin:ram_directory_policy_change", args=[policy.pk]),
        _policy_post(policy, name="ReadUsersRenamed", description="e"),
    )
    assert response.status_code == 302
    policy.refresh_from_db()
    assert (policy.name, policy.description) == ("ReadUsersRenamed", "e")


def test_admin_rename_to_a_taken_name_is_refused_by_the_service(operator_client, data):
    """The account is read-only on the change form, so the unique (account, name) rule is
    met when the service saves: shown as an error message, nothing renamed."""
    from ram_directory.services import POLICY_NAME_TAKEN

    account, _user = data
    policy = PolicyFactory(account=account, name="Other")
    response = operator_client.post(
        reverse("admin:ram_directory_policy_change", args=[policy.pk]),
        _policy_post(policy, name="SeeUsers"),
        follow=True,
    )
    assert POLICY_NAME_TAKEN in response.text
    policy.refresh_from_db()
    assert policy.name == "Other"


def test_inline_attach_and_detach_on_the_ram_user_page_go_through_the_services(
    operator_client, data
):
    """The RAM user page's Permission inline: a new row attaches, a Delete tick detaches."""
    account, user = data
    url = reverse("admin:ram_directory_ramuser_change", args=[user.pk])
    page = operator_client.get(url)
    form = page.context["adminform"].form
    existing = PolicyAttachment.objects.get(ram_user=user)
    read_only = Policy.objects.get(account=account, name="AliyunRAMReadOnlyAccess")
    post = {
        name: value
        for name, value in form.initial.items()
        if name in form.fields and value is not None
    }
    post.update(
        {
            "account": account.pk,
            "created_at_0": user.created_at.strftime("%Y-%m-%d"),
            "created_at_1": user.created_at.strftime("%H:%M:%S"),
            "updated_at_0": user.updated_at.strftime("%Y-%m-%d"),
            "updated_at_1": user.updated_at.strftime("%H:%M:%S"),
            "attachments-TOTAL_FORMS": "2",
            "attachments-INITIAL_FORMS": "1",
            "attachments-MIN_NUM_FORMS": "0",
            "attachments-MAX_NUM_FORMS": "1000",
            "attachments-0-id": existing.pk,
            "attachments-0-ram_user": user.pk,
            "attachments-0-DELETE": "on",
            "attachments-1-policy": read_only.pk,
            "attachments-1-ram_user": user.pk,
        }
    )
    response = operator_client.post(url, post)
    assert response.status_code == 302, response.context["errors"] if response.context else ""
    held = set(
        PolicyAttachment.objects.filter(ram_user=user).values_list("policy__name", flat=True)
    )
    assert held == {"AliyunRAMReadOnlyAccess"}


def test_admin_attachment_add_and_delete_attach_and_detach(operator_client, data):
    """Adding an attachment in the admin attaches through the service; deleting detaches."""
    account, user = data
    policy = Policy.objects.get(account=account, name="AliyunRAMReadOnlyAccess")
    response = operator_client.post(
        reverse("admin:ram_directory_policyattachment_add"),
        {"ram_user": user.pk, "policy": policy.pk},
    )
    assert response.status_code == 302
    attachment = PolicyAttachment.objects.get(ram_user=user, policy=policy)
    operator_client.post(
        reverse("admin:ram_directory_policyattachment_delete", args=[attachment.pk]),
        {"post": "yes"},
    )
    assert not PolicyAttachment.objects.filter(ram_user=user, policy=policy).exists()
