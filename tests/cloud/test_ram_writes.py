"""RAM writes first (rules §14): for a connected account Create Policy, Add Authorization,
removal and the approval grant reach RAM before anything is saved here; RAM's refusal is the
form's error."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from ram_directory import approvals, services
from ram_directory.models import PermissionRequest, Policy, PolicyAttachment
from ram_directory.principal import Principal
from tests.cloud.conftest import CLOUD_AK_ID
from tests.cloud.helpers import connect
from tests.factories import RamUserFactory

pytestmark = pytest.mark.django_db

DOCUMENT = {
    "Version": "1",
    "Statement": [{"Effect": "Allow", "Action": "ecs:Describe*", "Resource": "*"}],
}


@pytest.fixture(autouse=True)
def cloud_settings(settings):
    settings.CLOUD_ALLOW_HTTP = True


@pytest.fixture
def alice(account, cloud_fake):
    cloud_fake.ram.add_user("alice", mobile_phone="86-13811112222")
    return RamUserFactory(account=account, user_name="alice")


def test_create_attach_and_detach_go_to_ram_first(account, cloud_fake, alice):
    connect(account, cloud_fake)
    policy = services.create_policy(account=account, name="EcsRead", document=DOCUMENT)
    assert cloud_fake.ram.policies["EcsRead"]["PolicyType"] == "Custom"
    services.attach_policy(ram_user=alice, policy=policy)
    assert ("Custom", "EcsRead") in cloud_fake.ram.user_policies["alice"]
    services.detach_policy(ram_user=alice, policy=policy)
    assert ("Custom", "EcsRead") not in cloud_fake.ram.user_policies["alice"]
    assert not PolicyAttachment.objects.filter(ram_user=alice).exists()


def test_ram_refusal_is_the_form_error_and_nothing_is_saved(account, cloud_fake, alice):
    connect(account, cloud_fake)
    cloud_fake.ram.add_policy("EcsRead", DOCUMENT)  # made in the RAM console meanwhile
    with pytest.raises(ValidationError) as refused:
        services.create_policy(account=account, name="EcsRead", document=DOCUMENT)
    assert "EntityAlreadyExists.Policy" in refused.value.message_dict["name"][0]
    assert not Policy.objects.filter(account=account, name="EcsRead").exists()
    policy = Policy.objects.get(account=account, name="AliyunRAMReadOnlyAccess")
    cloud_fake.deny(CLOUD_AK_ID, "ram:AttachPolicyToUser")
    with pytest.raises(ValidationError) as refused:
        services.attach_policy(ram_user=alice, policy=policy)
    assert "NoPermission" in refused.value.messages[0]
    assert not PolicyAttachment.objects.filter(ram_user=alice).exists()


def test_the_approval_grant_reaches_ram(account, cloud_fake, alice):
    connect(account, cloud_fake)
    request = PermissionRequest.objects.create(
        account=account, requester=alice, permission="ram:ListUsers", reason="on call"
    )
    approvals.approve(principal=Principal(account), request=request)
    assert ("Custom", "SAEContactsListUsers") in cloud_fake.ram.user_policies["alice"]


def test_an_unconnected_account_writes_only_here(account, cloud_fake, alice):
    policy = services.create_policy(account=account, name="EcsRead", document=DOCUMENT)
    services.attach_policy(ram_user=alice, policy=policy)
    assert sum(cloud_fake.calls.values()) == 0


def test_writes_ride_out_throttling_and_5xx(account, cloud_fake, alice, quick_retries):
    connect(account, cloud_fake)
    cloud_fake.throttle(2, retry_after_ms=50, actions=["CreatePolicy"])
    policy = services.create_policy(account=account, name="EcsRead", document=DOCUMENT)
    assert cloud_fake.calls["CreatePolicy"] == 3
    cloud_fake.fail(2, 503, actions=["AttachPolicyToUser"])
    services.attach_policy(ram_user=alice, policy=policy)
    assert cloud_fake.calls["AttachPolicyToUser"] == 3
    assert ("Custom", "EcsRead") in cloud_fake.ram.user_policies["alice"]
    assert PolicyAttachment.objects.filter(ram_user=alice, policy=policy).exists()


def test_a_create_whose_answer_was_lost_is_done_once(account, cloud_fake, alice, quick_retries):
    connect(account, cloud_fake)
    cloud_fake.lose_answers(1, actions=["CreatePolicy"])
    services.create_policy(account=account, name="EcsRead", document=DOCUMENT)
    # The first try made it and its answer was lost; the second found it made.
    assert cloud_fake.calls["CreatePolicy"] == 2
    assert Policy.objects.filter(account=account, name="EcsRead").exists()


def test_a_ram_that_keeps_failing_is_the_forms_error_after_bounded_retries(
    account, cloud_fake, alice, quick_retries
):
    connect(account, cloud_fake)
    cloud_fake.fail(100, 503, actions=["AttachPolicyToUser"])
    policy = Policy.objects.get(account=account, name="AliyunRAMReadOnlyAccess")
    with pytest.raises(ValidationError) as refused:
        services.attach_policy(ram_user=alice, policy=policy)
    assert "RAM did not answer (ServiceUnavailable)" in refused.value.messages[0]
    assert cloud_fake.calls["AttachPolicyToUser"] == 3
    assert not PolicyAttachment.objects.filter(ram_user=alice).exists()
