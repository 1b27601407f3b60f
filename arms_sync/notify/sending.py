"""Sending one delivery: claim the row, take a rate slot, render, send, record (SPEC 8).

Claiming is a conditional UPDATE (`status = pending AND due`): of two workers that race for a
row, one updates it and the other finds nothing to claim, on PostgreSQL and SQLite alike. No
network call happens inside a transaction. A row is marked sent right after the provider
accepts it, so a worker killed after that instant sends nothing twice; one killed before it
leaves the row `sending` until its lease runs out and the sweeper hands it on.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from arms_sync.notify import base, hints, ratelimit, render
from arms_sync.notify.models import Delivery, DeliveryAttempt, Event
from arms_sync.notify.transports import get_transport

logger = logging.getLogger("arms_sync.notify")
Status = Delivery.Status
Outcome = DeliveryAttempt.Outcome

# The most deliveries one digest claims; what does not fit the robot's byte limit goes back.
DIGEST_MAX = 500


@dataclass
class Result:
    delivery: Delivery
    answer: base.Answer
    outcome: str


def backoff(attempt: int) -> float:
    """Exponential backoff with jitter: about base * 2^(attempt-1), capped, never below half."""
    delay = min(
        settings.NOTIFY_BACKOFF_MAX_SECONDS, settings.NOTIFY_BACKOFF_SECONDS * 2 ** (attempt - 1)
    )
    return random.uniform(delay / 2, delay)


def claim(delivery_id: int, *, worker_id: str, now=None) -> Delivery | None:
    """Take a due, pending delivery for this worker, or None if another has it or it is not
    due (a duplicate task, or one that outlived its row)."""
    now = now or timezone.now()
    lease = now + timedelta(seconds=settings.NOTIFY_LEASE_SECONDS)
    taken = Delivery.objects.filter(
        pk=delivery_id, status=Status.PENDING, next_attempt_at__lte=now
    ).update(
        status=Status.SENDING,
        claimed_by=worker_id,
        lease_until=lease,
        attempts=F("attempts") + 1,
        updated_at=now,
    )
    if not taken:
        return None
    return Delivery.objects.select_related("event").get(pk=delivery_id)


def _mentions(delivery: Delivery, extra: list[Delivery] = ()) -> tuple[str, ...]:
    phones = []
    for row in [delivery, *extra]:
        for person in row.recipients:
            if person.get("phone") and person["phone"] not in phones:
                phones.append(person["phone"])
    return tuple(phones) if delivery.is_robot else ()


def _target(delivery: Delivery) -> base.Target:
    return base.Target(
        delivery.channel, delivery.target, delivery.target_secret, delivery.target_keyword
    )


def _release(rows: list[Delivery], *, wait: float = 0, hint: str = "") -> None:
    """Give rows back to the queue without counting an attempt (rate waits, digest leftovers)."""
    if not rows:
        return
    Delivery.objects.filter(pk__in=[r.pk for r in rows], status=Status.SENDING).update(
        status=Status.PENDING,
        claimed_by="",
        lease_until=None,
        enqueued_at=None,
        next_attempt_at=timezone.now() + timedelta(seconds=wait),
        attempts=F("attempts") - 1,
        last_hint=hint or F("last_hint"),
    )


# --- digests ----------------------------------------------------------------------------------


def _digest_limit(channel: str, mentions: tuple[str, ...]) -> int:
    if channel == base.DINGTALK:
        limit = base.DINGTALK_MAX_BYTES
    elif mentions:
        limit = base.WECOM_TEXT_MAX_BYTES
    else:
        limit = base.WECOM_MARKDOWN_MAX_BYTES
    # Room for the JSON around the body and the @mentions the transport appends.
    return int(limit * 0.85) - 16 * len(mentions)


def _digest_body(message: base.Message, channel: str) -> str:
    return message.markdown if channel == base.DINGTALK or not message.mentions else message.text


def _claim_backlog(delivery: Delivery, *, worker_id: str) -> list[Delivery]:
    """When more messages wait for this robot than one window carries, claim them to go as
    one digest with this delivery. Same account only: a digest never mixes tenants."""
    if not (settings.ROBOT_DIGEST and delivery.is_robot):
        return []
    waiting = Delivery.objects.filter(
        account_id=delivery.account_id,
        target_key=delivery.target_key,
        channel=delivery.channel,
        status=Status.PENDING,
    ).exclude(pk=delivery.pk)
    if waiting.count() < settings.ROBOT_RATE_LIMIT:
        return []
    now = timezone.now()
    with transaction.atomic():
        pks = list(
            waiting.select_for_update(skip_locked=True)
            .order_by("created_at", "id")
            .values_list("pk", flat=True)[:DIGEST_MAX]
        )
        Delivery.objects.filter(pk__in=pks, status=Status.PENDING).update(
            status=Status.SENDING,
            claimed_by=worker_id,
            lease_until=now + timedelta(seconds=settings.NOTIFY_LEASE_SECONDS),
            attempts=F("attempts") + 1,
        )
    return list(
        Delivery.objects.filter(pk__in=pks, claimed_by=worker_id, status=Status.SENDING)
        .select_related("event")
        .order_by("created_at", "id")
    )


def _digest_message(delivery: Delivery, backlog: list[Delivery]) -> tuple[base.Message, list]:
    """The digest naming as many backlog events as fit the robot's byte limit; the rest are
    returned to go in a later message."""
    rows = list(backlog)
    while True:
        mentions = _mentions(delivery, rows)
        message = render.render_digest(
            [delivery.event, *(r.event for r in rows)], channel=delivery.channel, mentions=mentions
        )
        size = len(_digest_body(message, delivery.channel).encode())
        limit = _digest_limit(delivery.channel, mentions)
        if size <= limit or not rows:
            return message, rows
        keep = max(int(len(rows) * limit / size) - 1, 0)
        rows = rows[:keep]


# --- sending ----------------------------------------------------------------------------------


def send_claimed(delivery: Delivery, *, worker_id: str, retries: bool = True) -> Result:
    """Send a delivery this worker has claimed and record what happened.

    `retries=False` (the Test button): a retryable failure fails at once, and a robot whose
    rate window is full is reported instead of waited for."""
    slot = None
    if delivery.is_robot:
        slot, wait = ratelimit.acquire(delivery.target_key)
        if slot is None:
            answer = base.Answer(
                ok=False,
                retryable=True,
                hint=base.HINT_RATE_LIMITED,
                errmsg=f"next slot in {wait:.0f} s",
            )
            if retries:
                _release([delivery], wait=wait, hint=base.HINT_RATE_LIMITED)
                return Result(delivery, answer, Outcome.RETRY)
            return _finish(delivery, answer, worker_id=worker_id, retries=False)
    backlog = _claim_backlog(delivery, worker_id=worker_id)
    if backlog:
        message, included = _digest_message(delivery, backlog)
        _release([r for r in backlog if r not in included])
    else:
        included = []
        message = render.render_event(
            delivery.event,
            channel=delivery.channel,
            mentions=_mentions(delivery),
            context=delivery.context,
        )
    try:
        answer = get_transport(delivery.channel).send(_target(delivery), message)
    except Exception:
        # A bug, not a provider's answer: the row must not stay `sending` until its lease.
        logger.exception("delivery %s: transport error", delivery.pk)
        answer = base.Answer(ok=False, retryable=True, hint=base.HINT_NETWORK, errmsg="error")
    finally:
        ratelimit.release(slot)
    return _finish(delivery, answer, worker_id=worker_id, retries=retries, digested=included)


def _finish(
    delivery: Delivery,
    answer: base.Answer,
    *,
    worker_id: str,
    retries: bool,
    digested: list[Delivery] = (),
) -> Result:
    now = timezone.now()
    error = "" if answer.ok else hints.describe(answer)[:2000]
    rows = Delivery.objects.filter(pk=delivery.pk)
    if answer.ok:
        # Marked sent first, right after the provider accepted it.
        rows.update(
            status=Status.SENT, sent_at=now, lease_until=None, last_error="", last_hint=answer.hint
        )
        if digested:
            Delivery.objects.filter(pk__in=[r.pk for r in digested]).update(
                status=Status.SENT, sent_at=now, lease_until=None, digest=delivery, last_error=""
            )
        outcome = Outcome.SENT
    elif answer.retryable and retries and delivery.attempts < settings.NOTIFY_MAX_ATTEMPTS:
        rows.update(
            status=Status.PENDING,
            next_attempt_at=now + timedelta(seconds=backoff(delivery.attempts)),
            claimed_by="",
            lease_until=None,
            enqueued_at=None,
            last_error=error,
            last_hint=answer.hint,
        )
        _release(list(digested))
        outcome = Outcome.RETRY
    else:
        rows.update(status=Status.FAILED, lease_until=None, last_error=error, last_hint=answer.hint)
        _release(list(digested))
        outcome = Outcome.FAILED
    DeliveryAttempt.objects.create(
        delivery=delivery,
        number=delivery.attempt_log.count() + 1,
        started_at=now - timedelta(milliseconds=answer.duration_ms),
        duration_ms=answer.duration_ms,
        outcome=outcome,
        hint=answer.hint,
        http_status=answer.http_status,
        errcode=answer.errcode,
        errmsg=(answer.errmsg or "")[:512],
        worker=worker_id[:64],
    )
    log = logger.info if answer.ok else logger.warning
    log(
        "delivery %s %s to %s: %s (%s)",
        delivery.pk,
        outcome,
        delivery.target_masked,
        answer.hint,
        error or "ok",
    )
    delivery.refresh_from_db()
    return Result(delivery, answer, outcome)


def deliver(delivery_id: int, *, worker_id: str) -> str:
    """The task's body: send one delivery if it is still due. Idempotent."""
    delivery = claim(delivery_id, worker_id=worker_id)
    if delivery is None:
        return "not-due"
    return send_claimed(delivery, worker_id=worker_id).outcome


def send_event_now(event: Event, *, worker_id: str) -> list[Result]:
    """Send every delivery of an event that `worker_id` holds, at once and without retries
    (the Test button: `outbox.record_event(claimed_by=...)`)."""
    held = event.deliveries.filter(status=Status.SENDING, claimed_by=worker_id)
    return [
        send_claimed(delivery, worker_id=worker_id, retries=False)
        for delivery in held.select_related("event").order_by("channel", "id")
    ]
