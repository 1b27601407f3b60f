"""Rules §16: /metrics reports the ARMS pushes pending and failed once an account is connected,
and nothing of the cloud before."""

from __future__ import annotations

import pytest

from aliyun.models import ArmsPush
from tests.cloud.helpers import connect
from tests.ops.support import TOKEN, scrape, value

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def token(monkeypatch):
    monkeypatch.setenv("SAE_METRICS_TOKEN", TOKEN)


def names(samples) -> set[str]:
    return {sample[0] for sample in samples}


def test_no_cloud_gauges_while_no_account_is_connected(client):
    assert not {"sae_cloud_pushes_pending", "sae_cloud_pushes_failed"} & names(scrape(client))


def test_pushes_pending_and_failed_are_counted(client, account, cloud_fake):
    connect(account, cloud_fake)
    kinds = ArmsPush.Kind.GROUPS
    ArmsPush.objects.bulk_create(
        [ArmsPush(account=account, kind=kinds, status=ArmsPush.Status.PENDING) for _ in range(3)]
        + [ArmsPush(account=account, kind=kinds, status=ArmsPush.Status.FAILED)]
        + [ArmsPush(account=account, kind=kinds, status=ArmsPush.Status.DONE) for _ in range(5)]
    )
    samples = scrape(client)
    assert value(samples, "sae_cloud_pushes_pending") == 3
    assert value(samples, "sae_cloud_pushes_failed") == 1
