"""Alert intake (rules §8, §15): tokens, and turning an Alertmanager post into events and
deliveries.

A post becomes one `alert` event carrying its alerts, one `ReceivedAlert` row per alert (its
alert's timeline), a step in each alert's lifecycle (`lifecycle`), and one delivery per
(channel, target) that names the notifying alerts routed to that target — so several alerts of
one post reach a robot as one message listing them. All of it is written in one
transaction; the sends are enqueued on commit.

Alertmanager retries a post after a timeout with the same body: a post identical to one
received within SAE_INTAKE_DEDUP_SECONDS is answered as a replay and notifies no one again.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, replace
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

import audit.services as audit
from arms_sync.intake import lifecycle
from arms_sync.intake.models import Alert, IntakeToken, ReceivedAlert
from arms_sync.intake.payload import Post, parse
from arms_sync.managed import SAE_EVENT_LABELS, ensure_managed
from arms_sync.notify import outbox, routing
from arms_sync.notify.models import Event
from arms_sync.notify.outbox import Recipient
from ram_directory.models import Account

TOKEN_PREFIX = "sae_"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def rotate_token(*, account: Account, created_by: str = "", actor=None) -> str:
    """A new intake token for the account, replacing (revoking) the old one. The token is
    returned once and only its hash is kept."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        intake, created = IntakeToken.objects.update_or_create(
            account=account,
            defaults={
                "token_hash": _hash(token),
                "prefix": token[:10],
                "created_at": timezone.now(),
                "created_by": created_by[:200],
                "last_used_at": None,
                "window_started_at": None,
                "window_count": 0,
            },
        )
        # The prefix only: the log never holds a token a reader could use.
        audit.record(
            account=account,
            actor=actor,
            action="intake_token.create" if created else "intake_token.rotate",
            obj=intake,
            changes={"prefix": [None, f"{intake.prefix}…"]},
        )
    return token


def token_for(presented: str) -> IntakeToken | None:
    """The live token matching what was presented, or None."""
    if not presented.startswith(TOKEN_PREFIX) or len(presented) > 128:
        return None
    return IntakeToken.objects.select_related("account").filter(token_hash=_hash(presented)).first()


def take_rate(token: IntakeToken) -> float:
    """Count one post against the token's window: 0 when allowed, else seconds to wait."""
    now = timezone.now()
    window = timedelta(seconds=60)
    with transaction.atomic():
        row = IntakeToken.objects.select_for_update().get(pk=token.pk)
        if row.window_started_at is None or row.window_started_at <= now - window:
            row.window_started_at, row.window_count = now, 0
        if row.window_count >= settings.INTAKE_POSTS_PER_MINUTE:
            return max((row.window_started_at + window - now).total_seconds(), 1.0)
        row.window_count += 1
        row.last_used_at = now
        row.save(update_fields=["window_started_at", "window_count", "last_used_at"])
    return 0.0


@dataclass(frozen=True)
class Received:
    event: Event
    alerts: int
    deliveries: int
    replayed: bool

    def as_dict(self) -> dict:
        return {
            "status": "ok",
            "replayed": self.replayed,
            "event": self.event.pk,
            "events": self.alerts,  # each alert is an alert event on the Alerts page
            "alerts": self.alerts,
            "deliveries": self.deliveries,
        }


def _dedup_keys(body: bytes, now) -> tuple[str, str]:
    """The key of this body in the current dedup bucket and in the one before it: a replay
    that straddles a bucket boundary is still recognised."""
    digest = hashlib.sha256(body).hexdigest()[:48]
    bucket = int(now.timestamp() // settings.INTAKE_DEDUP_SECONDS)
    return f"am:{digest}:{bucket}", f"am:{digest}:{bucket - 1}"


def _title(post: Post) -> str:
    """The alerts' names, once: the message templates add what they are (alert, firing or
    resolved, how many), so the title must not say it again."""
    names = sorted({a.name for a in post.alerts})
    return (", ".join(names[:3]) + (f" +{len(names) - 3}" if len(names) > 3 else ""))[:200]


def _replay(account: Account, keys: tuple[str, str]) -> Received | None:
    event = Event.objects.filter(account=account, dedup_key__in=keys).first()
    if event is None:
        return None
    return Received(event, event.alerts.count(), event.deliveries.count(), replayed=True)


def _notified(recipients: list[Recipient], steps: list[lifecycle.Step]) -> list[Recipient]:
    """The recipients of the alerts that notify, each with only those alerts."""
    notifying = {i for i, step in enumerate(steps) if step.notify}
    kept = []
    for recipient in recipients:
        positions = tuple(p for p in (recipient.alerts or ()) if p in notifying)
        if positions:
            kept.append(replace(recipient, alerts=positions))
    return kept


def _payload(post: Post, steps: list[lifecycle.Step]) -> dict:
    alerts = []
    for posted, step in zip(post.alerts, steps, strict=True):
        duration = step.duration
        alerts.append(
            {
                **posted.as_payload(),
                # The episode's start (a resolved post closes the firing one it names).
                "starts_at": step.starts_at.isoformat() if step.starts_at else None,
                "ends_at": step.ends_at.isoformat() if step.ends_at else None,
                "duration_seconds": int(duration.total_seconds()) if duration else None,
                "change": step.change,
                "alert": step.alert.pk,
            }
        )
    return {
        "receiver": post.receiver,
        "group_key": post.group_key,
        "group_labels": post.group_labels,
        "common_labels": post.common_labels,
        "external_url": post.external_url,
        "alerts": alerts,
    }


def receive(*, account: Account, post: Post, body: bytes) -> Received:
    """Record the post's alerts, move each alert's state, and write the deliveries of those
    that notify (one transaction)."""
    now = timezone.now()
    keys = _dedup_keys(body, now)
    replay = _replay(account, keys)
    if replay is not None:
        return replay
    ensure_managed(account)
    # SAE's own labels go with every alert it raises, so `sae:default` (source=sae) routes
    # them to sae:contacts with no set-up; an alert's own label of that name wins.
    labels = [{**SAE_EVENT_LABELS, **alert.labels} for alert in post.alerts]
    policies = routing.enabled_policies(account)
    matched, recipients = routing.route(
        policies, labels, owner_language=outbox.owner_language_of(account)
    )
    try:
        with transaction.atomic():
            steps = lifecycle.advance(
                account=account, alerts=post.alerts, matched=matched, policies=policies, now=now
            )
            event = outbox.record_event(
                account=account,
                kind=Event.Kind.ALERT,
                title=_title(post),
                payload=_payload(post, steps),
                recipients=_notified(recipients, steps),
                dedup_key=keys[0],
            )
            ReceivedAlert.objects.bulk_create(
                ReceivedAlert(
                    account=account,
                    event=event,
                    alert=step.alert,
                    change=step.change,
                    notified=step.notify,
                    position=i,
                    status=alert.status,
                    name=alert.name[:256],
                    severity=alert.severity[:64],
                    fingerprint=step.alert.fingerprint,
                    labels=alert.labels,
                    annotations=alert.annotations,
                    starts_at=alert.starts_at,
                    ends_at=alert.ends_at,
                    generator_url=alert.generator_url,
                    matched_policies=matched[i],
                    received_at=now,
                )
                for i, (alert, step) in enumerate(zip(post.alerts, steps, strict=True))
            )
            deliveries = list(event.deliveries.only("pk", "context"))
            lifecycle.save(steps, deliveries)
    except IntegrityError:
        # The same post, received at the same moment by another request: that one notifies.
        replay = _replay(account, keys)
        if replay is None:
            raise
        return replay
    return Received(event, len(post.alerts), len(deliveries), replayed=False)


def endpoint_url(base: str = "") -> str:
    """The intake's address under `base`, for commands, which have no request to take it from
    (default: SAE_PUBLIC_URL, else where `runserver` listens by default)."""
    base = base or settings.PUBLIC_URL or "http://127.0.0.1:8000"
    return f"{base.rstrip('/')}{reverse('intake_alertmanager')}"


def snippet(*, url: str, token: str = "<token>") -> str:
    """The Alertmanager receiver that posts to this console."""
    return (
        "receivers:\n"
        "  - name: sae-console\n"
        "    webhook_configs:\n"
        f"      - url: {url}\n"
        "        send_resolved: true\n"
        "        http_config:\n"
        "          authorization:\n"
        "            type: Bearer\n"
        f"            credentials: {token}\n"
    )


# --- the console's actions on alerts ------------------------------------------------------

NOT_FIRING = gettext_noop("Only a firing alert can be acknowledged.")
# The labels of the intake page's test alert: `test=true` says what it is wherever it shows.
TEST_ALERT_LABELS = {"alertname": "SAEIntakeTest", "severity": "info", "test": "true"}


def acknowledge(*, alert: Alert, by: str) -> Alert:
    """Acknowledge a firing alert: it sends no repeats until its state changes (rules §15). The
    caller checked who may (whoever sees the Alerts page)."""
    with transaction.atomic():
        locked = Alert.objects.select_for_update().get(pk=alert.pk)
        if locked.status != Alert.Status.FIRING:
            raise ValidationError(gettext(NOT_FIRING), code="not_firing")
        if locked.acknowledged_at is None:
            locked.acknowledged_at = timezone.now()
            locked.acknowledged_by = by[:200]
            locked.save(update_fields=["acknowledged_at", "acknowledged_by"])
    return locked


def _test_body(status: str, started, now) -> bytes:
    alert = {
        "status": status,
        "labels": TEST_ALERT_LABELS,
        "annotations": {
            "summary": "Test alert from the SAE console's intake page",
            "description": "Sent with Send test alert; nothing is wrong.",
        },
        "startsAt": started.isoformat(),
        "endsAt": now.isoformat() if status == "resolved" else "0001-01-01T00:00:00Z",
        "generatorURL": "",
    }
    body = {
        "version": "4",
        "status": status,
        "receiver": "sae-console-test",
        "groupKey": '{}:{alertname="SAEIntakeTest"}',
        "groupLabels": {"alertname": "SAEIntakeTest"},
        "commonLabels": TEST_ALERT_LABELS,
        "externalURL": "",
        "alerts": [alert],
    }
    return json.dumps(body).encode()


def send_test_alert(*, account: Account) -> list[Received]:
    """A test alert through the intake's own path (parse, lifecycle, routing, deliveries):
    firing, then resolved, labelled `test=true`."""
    now = timezone.now()
    started = now - timedelta(seconds=1)
    received = []
    for status in ("firing", "resolved"):
        body = _test_body(status, started, now)
        received.append(receive(account=account, post=parse(body), body=body))
    return received


@dataclass(frozen=True)
class Traffic:
    last_post_at: object  # datetime | None
    today: int


def traffic(account: Account) -> Traffic:
    """When the last post arrived and how many arrived today (the console's time zone)."""
    posts = Event.objects.filter(account=account, kind=Event.Kind.ALERT)
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    last = posts.order_by("-created_at").values_list("created_at", flat=True).first()
    return Traffic(last, posts.filter(created_at__gte=midnight).count())
