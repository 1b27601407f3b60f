"""The migration that gave alerts a lifecycle folds the per-post alert rows recorded before it
into one alert per (account, fingerprint or labels), each row kept as a post on its timeline."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone

from arms_sync.intake.models import Alert, ReceivedAlert
from arms_sync.notify.models import Event

pytestmark = pytest.mark.django_db
migration = importlib.import_module("arms_sync.migrations.0010_alert_lifecycle")


def old_row(account, event, status, *, fingerprint="fp-1", minutes=0, labels=None):
    return ReceivedAlert.objects.create(
        account=account,
        event=event,
        position=0,
        status=status,
        name="DiskFull",
        fingerprint=fingerprint,
        labels=labels or {"alertname": "DiskFull"},
        received_at=timezone.now() + timedelta(minutes=minutes),
        ends_at=timezone.now() if status == "resolved" else None,
    )


def test_old_rows_become_the_timeline_of_one_alert_per_fingerprint(account):
    event = Event.objects.create(account=account, kind="alert", title="x")
    old_row(account, event, "firing")
    old_row(account, event, "firing", minutes=1)
    old_row(account, event, "resolved", minutes=2)
    old_row(account, event, "firing", fingerprint="", minutes=3, labels={"alertname": "Other"})
    migration.fold_posts_into_alerts(apps, None)
    folded = Alert.objects.get(account=account, fingerprint="fp-1")
    assert folded.status == "resolved" and folded.ends_at is not None
    changes = list(folded.posts.order_by("received_at").values_list("change", flat=True))
    assert changes == ["opened", "repeated", "resolved"]
    other = Alert.objects.get(account=account, name="DiskFull", status="firing")
    assert other.fingerprint.startswith("labels:")
    assert ReceivedAlert.objects.filter(alert__isnull=True).count() == 0
