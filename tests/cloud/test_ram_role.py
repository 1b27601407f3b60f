"""A connection through a RAM role (rules §14): the AccessKey only assumes the role (STS
AssumeRole, the older HMAC-SHA1 RPC signature, over HTTPS), and RAM and ARMS are called with the
role's temporary key and its security token, refreshed by alibabacloud-credentials before it
expires. Against the loopback fake, with the real SDK and credentials library."""

from __future__ import annotations

import json
import time

import pytest

from aliyun import clients, ram_sync
from aliyun.clients import CloudError
from aliyun.models import CloudConnection
from ram_directory.models import RamUser
from tests.cloud.conftest import CLOUD_ACCOUNT_ID, CLOUD_AK_ID, CLOUD_AK_SECRET
from tests.cloud.helpers import EVERY_CHECK_PASSED, checks_of, connect, connect_args
from tests.commands import run_as_shell

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def allow_http(settings):
    settings.CLOUD_ALLOW_HTTP = True
    settings.CLOUD_QPS = 1000


def _role_connection(account, fake, role_arn) -> CloudConnection:
    connection = connect(account, fake)
    connection.role_arn = role_arn
    connection.save()
    return connection


def test_connect_with_a_role_assumes_it_and_checks_with_its_key(account, fake_tls, monkeypatch):
    fake = fake_tls
    fake.seed_demo()
    role = fake.sts.add_role("sae-console")
    # The AccessKey itself may not read RAM or ARMS: only the role's key can.
    fake.deny(CLOUD_AK_ID, "ram:*", "arms:*")
    monkeypatch.setenv("SAE_TEST_CLOUD_SECRET", CLOUD_AK_SECRET)
    code, out, err, problem = run_as_shell(
        connect_args(account, fake, "--role-arn", role, "--json")
    )
    assert (code, err, problem) == (0, "", "")
    report = json.loads(out)
    assert checks_of(report) == [("STS", "AssumeRole", True), *EVERY_CHECK_PASSED]
    connection = CloudConnection.objects.get(account=account)
    assert connection.role_arn == role
    assert connection.cloud_account_id == CLOUD_ACCOUNT_ID
    # One session for the whole check: the temporary key is shared, not assumed per client.
    assert fake.calls["AssumeRole"] == 1
    assert len(fake.sts.sessions) == 1


@pytest.mark.parametrize(
    ("make_role", "code"),
    [
        (lambda fake: f"acs:ram::{CLOUD_ACCOUNT_ID}:role/no-such-role", "EntityNotExist.Role"),
        (
            lambda fake: fake.sts.add_role("others-only", trusted=["LTAI5tSomeoneElse"]),
            "NoPermission",
        ),
    ],
    ids=["unknown-role", "role-not-trusting-the-key"],
)
def test_connect_with_a_role_that_cannot_be_assumed_names_assume_role_and_saves_nothing(
    account, fake_tls, monkeypatch, make_role, code
):
    fake = fake_tls
    role = make_role(fake)
    monkeypatch.setenv("SAE_TEST_CLOUD_SECRET", CLOUD_AK_SECRET)
    args = connect_args(account, fake, "--role-arn", role)
    exit_code, _out, err, problem = run_as_shell(args)
    assert exit_code == 1 and not problem
    assert err.count("\n") <= 1
    assert err.startswith(f"error: STS AssumeRole failed: {code}: ")
    assert "AssumeRole" in err.split(": ", 3)[-1]  # the message itself names the call
    assert CLOUD_AK_SECRET not in err
    assert not CloudConnection.objects.exists()
    # Nothing else was tried with a key that does not exist.
    assert fake.calls["ListUsers"] == fake.calls["DescribeContacts"] == 0


def test_sync_ram_through_the_role(account, fake_tls):
    fake = fake_tls
    fake.seed_users(30)
    role = fake.sts.add_role("sae-console")
    fake.deny(CLOUD_AK_ID, "ram:*", "arms:*")
    connection = _role_connection(account, fake, role)
    report = ram_sync.sync_ram(connection=connection)
    assert len(report.added) == 30
    assert RamUser.objects.filter(account=account).count() == 30
    assert fake.calls["AssumeRole"] == 1


def test_a_role_denied_ram_fails_the_sync_with_rams_code(account, fake_tls):
    fake = fake_tls
    fake.seed_users(3)
    role = fake.sts.add_role("sae-console")
    fake.deny(role, "ram:ListUsers")
    connection = _role_connection(account, fake, role)
    with pytest.raises(CloudError) as caught:
        ram_sync.sync_ram(connection=connection)
    assert (caught.value.api, caught.value.action, caught.value.code) == (
        "ram",
        "ListUsers",
        "NoPermission",
    )


def test_the_temporary_key_is_assumed_again_once_it_expires(account, fake_tls):
    fake = fake_tls
    fake.seed_users(5)
    role = fake.sts.add_role("sae-console")
    # 905 s: the library refreshes 15 minutes before expiry, so this key is stale after 5 s.
    fake.sts.lifetime = 905
    connection = _role_connection(account, fake, role)
    ram_sync.sync_ram(connection=connection)
    assert fake.calls["AssumeRole"] == 1
    first_keys = set(fake.sts.sessions)
    fake.sts.expire_sessions()  # the fake refuses the first key from now on
    time.sleep(5.2)
    report = ram_sync.sync_ram(connection=connection)
    assert len(report.unchanged) == 5
    assert fake.calls["AssumeRole"] == 2
    assert set(fake.sts.sessions) - first_keys  # a new temporary key did the second sync


def test_the_fake_refuses_an_expired_or_foreign_security_token(account, fake_tls):
    from alibabacloud_credentials.client import Client as CredentialClient
    from alibabacloud_credentials.models import Config as CredentialConfig
    from alibabacloud_ram20150501 import models as ram_models

    fake = fake_tls
    role = fake.sts.add_role("sae-console")
    connection = _role_connection(account, fake, role)
    clients.assume_role(connection)
    ((key, session),) = fake.sts.sessions.items()

    def list_users_with(token):
        client = clients.ram_client(connection)
        client._credential = CredentialClient(
            CredentialConfig(
                type="sts",
                access_key_id=key,
                access_key_secret=session.secret,
                security_token=token,
            )
        )
        return clients.call(client, "ram", "list_users", ram_models.ListUsersRequest(max_items=1))

    assert list_users_with(session.token)["Users"] == {"User": []}
    with pytest.raises(CloudError) as caught:
        list_users_with("CAIS-not-this-one")
    assert caught.value.code == "InvalidSecurityToken.MismatchWithAccessKey"
    fake.sts.expire_sessions()
    with pytest.raises(CloudError) as caught:
        list_users_with(session.token)
    assert caught.value.code == "InvalidSecurityToken.Expired"
