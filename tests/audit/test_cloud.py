"""The cloud connection in the audit log: connect and disconnect, the secret never stored."""

from __future__ import annotations

import json

import pytest

from aliyun import services
from audit.models import Entry
from tests.cloud.conftest import CLOUD_AK_ID, CLOUD_AK_SECRET, cloud_fake  # noqa: F401
from tests.cloud.helpers import fields as connection_fields

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def allow_http(settings):
    settings.CLOUD_ALLOW_HTTP = True
    settings.CLOUD_QPS = 1000


def test_connect_and_disconnect_are_recorded_with_the_secret_masked(
    account,
    owner_principal,
    cloud_fake,  # noqa: F811
):
    fields = connection_fields(cloud_fake)
    refused, _ = services.connect(
        account=account, actor=owner_principal, **{**fields, "access_key_secret": "wrong"}
    )
    assert refused is None and not Entry.objects.exists()
    services.connect(account=account, actor=owner_principal, **fields)
    entry = Entry.objects.get(action="cloud.connect")
    assert entry.actor == account.login_name
    assert entry.changes["access_key_id"] == [None, CLOUD_AK_ID]
    assert entry.changes["access_key_secret"] == [None, "********"]
    assert services.disconnect(account=account, actor=owner_principal)
    assert Entry.objects.filter(action="cloud.disconnect").count() == 1
    stored = json.dumps(list(Entry.objects.values()), default=str)
    assert CLOUD_AK_SECRET not in stored
