"""SPEC 10: the Django admin holds every RAM directory model, searchable and filterable."""

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
def operator_client(client):
    """A platform operator: a superuser with no account."""
    operator = User.objects.create_superuser("operator", "op@example.com", "pw-operator-123")
    client.force_login(operator)
    return client


@pytest.fixture
def data():
    account = AccountFactory()
    user = RamUserFactory(account=account, user_name="alice")
    services.attach_policy(ram_user=user, policy=PolicyFactory(account=account, name="SeeUsers"))
    return account, user


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_ram_model_is_registered_with_search(model):
    """SPEC 10: every model of ram_directory is in the admin, with search_fields."""
    model_admin = admin.site._registry[model]
    assert model_admin.search_fields
    assert model_admin.list_filter


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
@pytest.mark.parametrize("query", ["", "alice", "SeeUsers", "1000", "nothing-matches-this"])
def test_operator_opens_each_changelist_and_searches(operator_client, data, model, query):
    """SPEC 10: a superuser with no account opens each changelist and searches without error."""
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
    """SPEC 2: the admin validates a policy document as the Script Editor does."""
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
    """ARCHITECTURE: list_select_related keeps the attachment changelist's queries fixed."""
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
    """SPEC 1: even in the admin a policy is attached only within its own account."""
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
