"""Alert intake (SPEC 8): tokens, and turning an Alertmanager post into events and deliveries.

A post becomes one `alert` event carrying its alerts, one `ReceivedAlert` row per alert, and
one delivery per (channel, target) that names the alerts routed to that target — so several
alerts of one post reach a robot as one message listing them. All of it is written in one
transaction; the sends are enqueued on commit.

Alertmanager retries a post after a timeout with the same body: a post identical to one
received within SAE_INTAKE_DEDUP_SECONDS is answered as a replay and notifies no one again.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

import audit.services as audit
from arms_sync.intake.models import IntakeToken, ReceivedAlert
from arms_sync.intake.payload import Post
from arms_sync.managed import SAE_EVENT_LABELS, ensure_managed
from arms_sync.notify import outbox, routing
from arms_sync.notify.models import Event
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
    firing = sum(a.status == "firing" for a in post.alerts)
    resolved = len(post.alerts) - firing
    names = sorted({a.name for a in post.alerts})
    head = ", ".join(names[:3]) + (f" +{len(names) - 3}" if len(names) > 3 else "")
    counts = " ".join(
        part
        for part in (
            f"[FIRING:{firing}]" if firing else "",
            f"[RESOLVED:{resolved}]" if resolved else "",
        )
        if part
    )
    return f"{counts} {head}"[:200]


def _replay(account: Account, keys: tuple[str, str]) -> Received | None:
    event = Event.objects.filter(account=account, dedup_key__in=keys).first()
    if event is None:
        return None
    return Received(event, event.alerts.count(), event.deliveries.count(), replayed=True)


def receive(*, account: Account, post: Post, body: bytes) -> Received:
    """Record the post's alerts, route them and write their deliveries (one transaction)."""
    now = timezone.now()
    keys = _dedup_keys(body, now)
    replay = _replay(account, keys)
    if replay is not None:
        return replay
    ensure_managed(account)
    # SAE's own labels go with every alert it raises, so `sae:default` (source=sae) routes
    # them to sae:contacts with no set-up; an alert's own label of that name wins.
    labels = [{**SAE_EVENT_LABELS, **alert.labels} for alert in post.alerts]
    matched, recipients = routing.route(routing.enabled_policies(account), labels)
    # Firing first, then resolved (the message lists them in that order too).
    payload = {
        "receiver": post.receiver,
        "group_key": post.group_key,
        "group_labels": post.group_labels,
        "common_labels": post.common_labels,
        "external_url": post.external_url,
        "alerts": [a.as_payload() for a in post.alerts],
    }
    try:
        with transaction.atomic():
            event = outbox.record_event(
                account=account,
                kind=Event.Kind.ALERT,
                title=_title(post),
                payload=payload,
                recipients=recipients,
                dedup_key=keys[0],
            )
            ReceivedAlert.objects.bulk_create(
                ReceivedAlert(
                    account=account,
                    event=event,
                    position=i,
                    status=alert.status,
                    name=alert.name[:256],
                    severity=alert.severity[:64],
                    fingerprint=alert.fingerprint,
                    labels=alert.labels,
                    annotations=alert.annotations,
                    starts_at=alert.starts_at,
                    ends_at=alert.ends_at,
                    generator_url=alert.generator_url,
                    matched_policies=matched[i],
                    received_at=now,
                )
                for i, alert in enumerate(post.alerts)
            )
    except IntegrityError:
        # The same post, received at the same moment by another request: that one notifies.
        replay = _replay(account, keys)
        if replay is None:
            raise
        return replay
    return Received(event, len(post.alerts), event.deliveries.count(), replayed=False)


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
