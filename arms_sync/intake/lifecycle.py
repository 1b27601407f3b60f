"""An alert's lifecycle (rules §15): each alert of a post moves its `Alert` row and says whether
anyone is notified.

- unknown fingerprint: opened (or recorded as resolved, when the first we hear is its end);
- firing -> resolved: closed with `endsAt`; resolved -> firing: re-opened (the acknowledgement
  is cleared: it was for the earlier episode). A change of state always notifies;
- firing again while firing (Alertmanager's own repeat): "last received" moves; it notifies
  again only when the shortest repeat interval of the policies it matches has passed since it
  last notified, and never while acknowledged;
- resolved again: recorded, nobody notified.

Race-free without a lock table: the rows are created with INSERT ... ON CONFLICT DO NOTHING on
the unique (account, fingerprint) and then locked, so two posts of one fingerprint at the same
moment find one alert, and the second waits for the first to decide. A row this post inserted
still has an empty status when locked: that is how "new" is told from "created by the other
post a moment ago". The queries are fixed, whatever the number of alerts in the post.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from arms_sync.intake.models import Alert, AlertStatus, ReceivedAlert
from arms_sync.intake.payload import Alert as PostedAlert
from arms_sync.models import NotificationPolicy
from ram_directory.models import Account

Change = ReceivedAlert.Change
FIRING, RESOLVED = AlertStatus.FIRING, AlertStatus.RESOLVED


def fingerprint_of(posted: PostedAlert) -> str:
    """Alertmanager's fingerprint, else a hash of the sorted labels (a sender that is not
    Alertmanager, or a hand-written post)."""
    if posted.fingerprint:
        return posted.fingerprint[:64]
    labels = json.dumps(posted.labels, sort_keys=True, ensure_ascii=False)
    return "labels:" + hashlib.sha256(labels.encode()).hexdigest()[:40]


@dataclass
class Step:
    """What one alert of the post did to its alert."""

    alert: Alert
    change: str
    notify: bool
    # The alert's start and end as the message shows them (the episode's, not the post's).
    starts_at: datetime | None
    ends_at: datetime | None

    @property
    def duration(self) -> timedelta | None:
        if self.starts_at is None or self.ends_at is None:
            return None
        return max(self.ends_at - self.starts_at, timedelta(0))


def repeat_interval(policies: list[NotificationPolicy], names: list[str]) -> timedelta | None:
    """The shortest repeat interval of the matched policies (None: nothing matched)."""
    intervals = [p.repeat_interval for p in policies if p.name in names]
    return min(intervals) if intervals else None


def _lock(account: Account, keys: list[str]) -> dict[str, Alert]:
    rows = (
        Alert.objects.select_for_update()
        .filter(account=account, fingerprint__in=keys)
        .order_by("fingerprint")
    )
    return {row.fingerprint: row for row in rows}


def _claim(account: Account, keys: list[str], now: datetime) -> dict[str, Alert]:
    """Every alert of these fingerprints, locked; missing ones inserted with an empty status."""
    found = _lock(account, keys)
    missing = sorted(set(keys) - set(found))
    if missing:
        Alert.objects.bulk_create(
            [
                Alert(account=account, fingerprint=key, status="", name="", first_received_at=now)
                for key in missing
            ],
            ignore_conflicts=True,
        )
        found = _lock(account, keys)
    return found


def _apply(alert: Alert, posted: PostedAlert, matched: list[str], policies, now: datetime) -> Step:
    before = alert.status
    if before == "":
        change = Change.OPENED if posted.status == FIRING else Change.RESOLVED
        notify = True
    elif before != posted.status:
        change = Change.REOPENED if posted.status == FIRING else Change.RESOLVED
        notify = True
    elif posted.status == FIRING:
        interval = repeat_interval(policies, matched)
        due = alert.last_notified_at is None or (
            interval is not None and now - alert.last_notified_at >= interval
        )
        notify = due and alert.acknowledged_at is None
        change = Change.REPEATED if notify else Change.QUIET
    else:
        change, notify = Change.QUIET, False

    if change in (Change.OPENED, Change.REOPENED):
        alert.starts_at = posted.starts_at or now
        alert.ends_at = None
        alert.acknowledged_at, alert.acknowledged_by = None, ""
    elif change == Change.RESOLVED:
        alert.starts_at = alert.starts_at or posted.starts_at
        alert.ends_at = posted.ends_at or now
    alert.status = posted.status
    alert.status_rank = 0 if posted.status == FIRING else 1
    alert.name = posted.name[:256]
    alert.severity = posted.severity[:64]
    alert.summary = posted.annotations.get("summary", "")[:500]
    alert.labels = posted.labels
    alert.label_text = Alert.text_of(posted.labels)
    alert.annotations = posted.annotations
    alert.generator_url = posted.generator_url
    alert.matched_policies = matched
    alert.last_received_at = now
    if notify:
        alert.last_notified_at = now
    return Step(alert, change, notify, alert.starts_at, alert.ends_at)


UPDATED_FIELDS = [
    "status",
    "status_rank",
    "name",
    "severity",
    "summary",
    "labels",
    "label_text",
    "annotations",
    "starts_at",
    "ends_at",
    "generator_url",
    "matched_policies",
    "last_received_at",
    "last_notified_at",
    "acknowledged_at",
    "acknowledged_by",
]


def advance(
    *,
    account: Account,
    alerts: list[PostedAlert],
    matched: list[list[str]],
    policies: list[NotificationPolicy],
    now: datetime,
) -> list[Step]:
    """Move each posted alert's `Alert` in memory, its row locked (inside the caller's
    transaction, which writes them with `save`); one step per posted alert, in the post's order.
    The same fingerprint twice in one post: the later one sees the earlier one's result (a post
    that fires and resolves it is two changes)."""
    keys = [fingerprint_of(posted) for posted in alerts]
    rows = _claim(account, keys, now)
    return [
        _apply(rows[key], posted, matched[i], policies, now)
        for i, (key, posted) in enumerate(zip(keys, alerts, strict=True))
    ]


def save(steps: list[Step], deliveries) -> None:
    """Write the alerts the steps moved, each with the deliveries that carry it added to its
    count (`context["alerts"]` names positions), in one statement: an upsert on the primary key
    of rows that exist and are locked, so it only ever updates. (`bulk_update` would build a
    CASE per field and row: three seconds of Python for a post of 100 alerts.)"""
    notifying = [position for position, step in enumerate(steps) if step.notify]
    carried = Counter()
    for delivery in deliveries:
        positions = (delivery.context or {}).get("alerts")
        carried.update(notifying if positions is None else positions)
    added = Counter()
    for position, count in carried.items():
        if steps[position].notify:
            added[steps[position].alert.pk] += count
    rows = {step.alert.pk: step.alert for step in steps}
    for pk, count in added.items():
        rows[pk].notified_count += count
    Alert.objects.bulk_create(
        sorted(rows.values(), key=lambda row: row.pk),
        update_conflicts=True,
        unique_fields=["id"],
        update_fields=[*UPDATED_FIELDS, "notified_count"],
    )
