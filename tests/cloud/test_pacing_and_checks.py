"""SAE_CLOUD_QPS paces an account's ARMS calls through its connection row, shared by every
worker; SAE_CLOUD_ALLOW_HTTP is a test switch that `check --deploy` warns about."""

from __future__ import annotations

import time

import pytest
from django.core import checks

from aliyun import pacing
from aliyun.checks import check_cloud_http
from tests.cloud.helpers import connect

pytestmark = pytest.mark.django_db


def test_calls_of_one_account_are_spaced_by_the_qps_cap(account, cloud_fake, settings):
    settings.CLOUD_QPS = 20
    connect(account, cloud_fake)
    started = time.monotonic()
    waited = [pacing.take_slot(account.pk) for _ in range(6)]
    elapsed = time.monotonic() - started
    assert waited[0] == 0.0
    # Six calls at 20 per second: the sixth starts 5/20 s after the first.
    assert 0.24 <= elapsed < 1.0


def test_a_cap_of_zero_does_not_pace(account, cloud_fake, settings):
    settings.CLOUD_QPS = 0
    connect(account, cloud_fake)
    assert [pacing.take_slot(account.pk) for _ in range(3)] == [0.0, 0.0, 0.0]


def test_plain_http_to_the_cloud_is_a_deploy_warning(settings):
    settings.CLOUD_ALLOW_HTTP = False
    assert check_cloud_http() == []
    settings.CLOUD_ALLOW_HTTP = True
    (warning,) = check_cloud_http()
    assert warning.id == "sae.W010" and warning.level == checks.WARNING
