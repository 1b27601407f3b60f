"""The rows' side of sending (rules §8): claiming deliveries, giving them back, and recording what
each send came to. The concurrent part (what is in flight, rate slots, digests) is
`arms_sync.notify.pipeline`, the one path the worker's batches and the Test button share.

Claiming is a conditional UPDATE (`status = pending AND due`): of two workers that race for a
row, one updates it and the other finds nothing to claim, on PostgreSQL and SQLite alike. No
network call happens inside a transaction. A row is marked sent right after the provider
accepts it, so a worker killed after that instant sends nothing twice; one killed before it
leaves the row `sending` until its lease runs out and the sweeper hands it on.
"""

from __future__ import annotations

import json
import logging
import random
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from arms_sync.notify import base, hints, render
from arms_sync.notify.models import Delivery, DeliveryAttempt, Event
from arms_sync.notify.transports import get_transport
from core.metrics import record_delivery

logger = logging.getLogger("arms_sync.notify")
Status = Delivery.Status
Outcome = DeliveryAttempt.Outcome
# Not an attempt: the robot's window was full and the message waits for it (see _outcome).
RATE_LIMITED = "rate_limited"


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


def mentions(delivery: Delivery, extra: list[Delivery] = ()) -> tuple[str, ...]:
    phones = []
    for row in [delivery, *extra]:
        for person in row.recipients:
            if person.get("phone") and person["phone"] not in phones:
                phones.append(person["phone"])
    return tuple(phones) if delivery.is_robot else ()


def target_of(delivery: Delivery) -> base.Target:
    return base.Target(
        delivery.channel, delivery.target, delivery.target_secret, delivery.target_keyword
    )


def compose(delivery: Delivery) -> base.Message:
    """The message of one delivery (every rendering of a single delivery goes through here),
    in the forms its channel's transport reads."""
    return render.render_event(
        delivery.event,
        channel=delivery.channel,
        mentions=mentions(delivery),
        context=delivery.context,
        lang=delivery.language,
        parts=get_transport(delivery.channel).parts,
    )


def message_key(delivery: Delivery) -> tuple:
    """What `compose` depends on besides the @mentions (which the templates do not show): two
    deliveries with the same key get the same message text."""
    return (
        delivery.event_id,
        delivery.channel,
        json.dumps(delivery.context, sort_keys=True),
        render.language(delivery.language),
    )


# --- claiming -----------------------------------------------------------------------------------


def with_events(rows: list[Delivery]) -> list[Delivery]:
    """The rows with their events, each event read once and shared by its rows: an alert post's
    payload (100 alerts, tens of kilobytes of JSON) would otherwise be read and decoded once
    per row by a join, which took a quarter of a worker's time sending a burst."""
    events = Event.objects.in_bulk({row.event_id for row in rows})
    for row in rows:
        row.event = events[row.event_id]
    return rows


def claim_many(ids, *, worker_id: str, now=None) -> list[Delivery]:
    """Take those of `ids` that are pending and due, in one UPDATE (a row another worker has,
    or that is not due, is left out)."""
    now = now or timezone.now()
    lease = now + timedelta(seconds=settings.NOTIFY_LEASE_SECONDS)
    claimed = Delivery.objects.filter(pk__in=ids, status=Status.PENDING, next_attempt_at__lte=now)
    if not claimed.update(
        status=Status.SENDING,
        claimed_by=worker_id,
        lease_until=lease,
        attempts=F("attempts") + 1,
        updated_at=now,
    ):
        return []
    return with_events(
        list(
            Delivery.objects.filter(pk__in=ids, claimed_by=worker_id, lease_until=lease).order_by(
                "created_at", "id"
            )
        )
    )


def claim_due(*, worker_id: str, limit: int) -> list[Delivery]:
    """Up to `limit` due pending rows, whichever task they were enqueued with: a worker with
    room for more sends takes them rather than waiting for their task (rows other workers are
    claiming are skipped, not waited for). The rows, locked; the conditional UPDATE that claims
    them; their events."""
    now = timezone.now()
    lease = now + timedelta(seconds=settings.NOTIFY_LEASE_SECONDS)
    # No savepoint: inside a caller's transaction (the batch's claim with its rate slots) a
    # failure undoes the whole of it.
    with transaction.atomic(savepoint=False):
        rows = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(status=Status.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "id")[:limit]
        )
        if not rows:
            return []
        claimed = Delivery.objects.filter(pk__in=[r.pk for r in rows], status=Status.PENDING)
        fields = {"status": Status.SENDING, "claimed_by": worker_id, "lease_until": lease}
        if claimed.update(**fields, attempts=F("attempts") + 1, updated_at=now) != len(rows):
            # Not on PostgreSQL (the rows are locked) nor SQLite (the transaction holds the
            # write lock); should another database let a row slip, read back what was taken.
            taken = Delivery.objects.filter(pk__in=[r.pk for r in rows], **fields)
            return with_events(list(taken.order_by("created_at", "id")))
    for row in rows:
        for name, value in fields.items():
            setattr(row, name, value)
        row.attempts += 1
        row.updated_at = now
    return with_events(sorted(rows, key=lambda row: (row.created_at, row.pk)))


def release(rows: list[Delivery], *, wait: float = 0, hint: str = "") -> None:
    """Give rows back to the queue without counting an attempt (rate waits, digest leftovers,
    rows a stopping batch did not reach)."""
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


# --- recording ----------------------------------------------------------------------------------


def _apply(delivery: Delivery, **fields) -> None:
    """Write these fields of the row, and keep the instance in step (no re-read)."""
    Delivery.objects.filter(pk=delivery.pk).update(**fields)
    for name, value in fields.items():
        setattr(delivery, name, value)


def record(
    delivery: Delivery,
    answer: base.Answer,
    *,
    worker_id: str,
    retries: bool,
    digested: list[Delivery] = (),
) -> tuple[str, DeliveryAttempt]:
    """The row's new state after `answer` (the caller commits it, with the returned attempt,
    in one transaction)."""
    now = timezone.now()
    error = "" if answer.ok else hints.describe(answer)[:2000]
    if answer.ok:
        _apply(
            delivery,
            status=Status.SENT,
            sent_at=now,
            lease_until=None,
            last_error="",
            last_hint=answer.hint,
        )
        if digested:
            Delivery.objects.filter(pk__in=[r.pk for r in digested]).update(
                status=Status.SENT, sent_at=now, lease_until=None, digest=delivery, last_error=""
            )
        outcome = Outcome.SENT
    elif answer.retryable and retries and delivery.may_retry:
        _apply(
            delivery,
            status=Status.PENDING,
            next_attempt_at=now + timedelta(seconds=backoff(delivery.attempts)),
            claimed_by="",
            lease_until=None,
            enqueued_at=None,
            last_error=error,
            last_hint=answer.hint,
        )
        release(list(digested))
        outcome = Outcome.RETRY
    else:
        _apply(
            delivery,
            status=Status.FAILED,
            lease_until=None,
            last_error=error,
            last_hint=answer.hint,
        )
        release(list(digested))
        outcome = Outcome.FAILED
    return outcome, _attempt(delivery, answer, outcome, worker_id)


def record_answers(answered, *, worker_id: str, retries: bool) -> list[str]:
    """Record several answers at once, inside the caller's transaction: the rows plainly sent
    in one UPDATE, the others (retries, failures, digests) row by row; the attempts in one
    INSERT. `answered` is a list of (delivery, answer, digested rows); returns the outcomes
    in its order."""
    now = timezone.now()
    plain = [d for d, a, digested in answered if a.ok and not digested]
    if plain:
        Delivery.objects.filter(pk__in=[d.pk for d in plain]).update(
            status=Status.SENT, sent_at=now, lease_until=None, last_error="", last_hint=base.HINT_OK
        )
    outcomes, attempts = [], []
    for delivery, answer, digested in answered:
        if answer.ok and not digested:
            delivery.status, delivery.sent_at, delivery.lease_until = Status.SENT, now, None
            delivery.last_error, delivery.last_hint = "", base.HINT_OK
            outcome, attempt = Outcome.SENT, _attempt(delivery, answer, Outcome.SENT, worker_id)
        else:
            outcome, attempt = record(
                delivery, answer, worker_id=worker_id, retries=retries, digested=digested
            )
        outcomes.append(outcome)
        attempts.append(attempt)
    DeliveryAttempt.objects.bulk_create(attempts)
    return outcomes


def _attempt(delivery: Delivery, answer: base.Answer, outcome: str, worker_id: str):
    return DeliveryAttempt(
        delivery=delivery,
        number=delivery.attempts,
        started_at=timezone.now() - timedelta(milliseconds=answer.duration_ms),
        duration_ms=answer.duration_ms,
        outcome=outcome,
        hint=answer.hint,
        http_status=answer.http_status,
        errcode=answer.errcode,
        errmsg=(answer.errmsg or "")[:512],
        worker=worker_id[:64],
    )


def record_outcome(delivery: Delivery, answer: base.Answer, outcome: str) -> None:
    """Called once for every delivery a batch finished with, after its row is committed:
    `outcome` is sent, retry or failed (an attempt was made; a guard refusal is failed with
    hint refused_by_guard), or rate_limited (no attempt: the robot's window was full and the
    row waits for it). The one place to count deliveries (logs, metrics); `answer.duration_ms`
    is the send's duration."""
    if outcome != RATE_LIMITED:
        # /metrics: the attempt's outcome and its send time, once it is committed.
        record_delivery(
            channel=delivery.channel,
            outcome=outcome,
            seconds=answer.duration_ms / 1000,
            refused=answer.hint == base.HINT_REFUSED_BY_GUARD,
        )
    log = logger.info if answer.ok else logger.warning
    log(
        "delivery %s %s to %s: %s (%s)",
        delivery.pk,
        outcome,
        delivery.target_masked,
        answer.hint,
        delivery.last_error or "ok",
    )


def send_event_now(event: Event, *, worker_id: str) -> list[Result]:
    """Send every delivery of an event that `worker_id` holds, at once and without retries
    (the Test button: `outbox.record_event(claimed_by=...)`): a batch of its own rows."""
    from arms_sync.notify.pipeline import Batch

    held = event.deliveries.filter(status=Status.SENDING, claimed_by=worker_id)
    rows = with_events(list(held.order_by("channel", "id")))
    results = Batch(worker_id=worker_id, retries=False).run(rows).results
    order = {row.pk: n for n, row in enumerate(rows)}
    return sorted(results, key=lambda r: order.get(r.delivery.pk, len(order)))


def deliver_many(ids, *, worker_id: str, refill: bool = True):
    """The task's body: send the due deliveries among `ids` with many in flight, each marked
    right after its answer; with `refill`, keep taking due rows while there is room (bounded
    in time). Idempotent: rows already sent or taken are skipped. Returns the outcomes."""
    from arms_sync.notify.pipeline import Batch

    batch = Batch(worker_id=worker_id, retries=True, refill=refill)
    return batch.run(claim_many(ids, worker_id=worker_id)).outcomes
