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
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from arms_sync.notify import base, hints, ratelimit, render
from arms_sync.notify.models import Delivery, DeliveryAttempt, Event
from arms_sync.notify.transports import get_transport
from core.metrics import record_delivery

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
            [delivery.event, *(r.event for r in rows)],
            channel=delivery.channel,
            mentions=mentions,
            lang=delivery.language,
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
        slot, wait = ratelimit.acquire(delivery.target_key)  # one slot
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
        message = _message(delivery)
    try:
        answer = _transmit(delivery, message)
    finally:
        ratelimit.release([slot])
    return _finish(delivery, answer, worker_id=worker_id, retries=retries, digested=included)


def _message(delivery: Delivery) -> base.Message:
    return render.render_event(
        delivery.event,
        channel=delivery.channel,
        mentions=_mentions(delivery),
        context=delivery.context,
        lang=delivery.language,
    )


def _transmit(delivery: Delivery, message: base.Message) -> base.Answer:
    try:
        return get_transport(delivery.channel).send(_target(delivery), message)
    except Exception:
        # A bug, not a provider's answer: the row must not stay `sending` until its lease.
        logger.exception("delivery %s: transport error", delivery.pk)
        return base.Answer(ok=False, retryable=True, hint=base.HINT_NETWORK, errmsg="error")


def _apply(delivery: Delivery, **fields) -> None:
    """Write these fields of the row, and keep the instance in step (no re-read)."""
    Delivery.objects.filter(pk=delivery.pk).update(**fields)
    for name, value in fields.items():
        setattr(delivery, name, value)


def _finish(
    delivery: Delivery,
    answer: base.Answer,
    *,
    worker_id: str,
    retries: bool,
    digested: list[Delivery] = (),
) -> Result:
    with transaction.atomic():  # the row's new state and its attempt: one commit
        outcome = _record(delivery, answer, worker_id=worker_id, retries=retries, digested=digested)
    # /metrics (issue 19): the attempt's outcome and its send time, once it is committed.
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
    return Result(delivery, answer, outcome)


def _record(
    delivery: Delivery, answer: base.Answer, *, worker_id: str, retries: bool, digested
) -> str:
    now = timezone.now()
    error = "" if answer.ok else hints.describe(answer)[:2000]
    if answer.ok:
        # Marked sent first, right after the provider accepted it.
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
        _release(list(digested))
        outcome = Outcome.RETRY
    else:
        _apply(
            delivery,
            status=Status.FAILED,
            lease_until=None,
            last_error=error,
            last_hint=answer.hint,
        )
        _release(list(digested))
        outcome = Outcome.FAILED
    DeliveryAttempt.objects.create(
        delivery=delivery,
        number=delivery.attempts,
        started_at=now - timedelta(milliseconds=answer.duration_ms),
        duration_ms=answer.duration_ms,
        outcome=outcome,
        hint=answer.hint,
        http_status=answer.http_status,
        errcode=answer.errcode,
        errmsg=(answer.errmsg or "")[:512],
        worker=worker_id[:64],
    )
    return outcome


# --- the worker's path: a batch of deliveries ------------------------------------------------


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
    return list(
        Delivery.objects.filter(pk__in=ids, claimed_by=worker_id, lease_until=lease)
        .select_related("event")
        .order_by("created_at", "id")
    )


def _digest_heads(rows: list[Delivery]) -> tuple[list[Delivery], list[Delivery]]:
    """Split off the robots whose backlog passes what a window carries: one delivery of each
    goes the single path, which gathers the backlog into a digest; the batch's other
    deliveries to that robot go back to wait for it."""
    robots = [d for d in rows if d.is_robot]
    if not (settings.ROBOT_DIGEST and robots):
        return rows, []
    in_batch = Counter(d.target_key for d in robots)
    waiting = Counter(
        Delivery.objects.filter(target_key__in=in_batch, status=Status.PENDING).values_list(
            "target_key", flat=True
        )
    )
    heavy = {k for k, n in in_batch.items() if n + waiting[k] > settings.ROBOT_RATE_LIMIT}
    heads, back = [], []
    for key in heavy:
        mine = [d for d in robots if d.target_key == key]
        heads.append(mine[0])
        back.extend(mine[1:])
    _release(back)
    return [d for d in rows if d.target_key not in heavy], heads


def _take_slots(rows: list[Delivery]) -> tuple[list[Delivery], list[int]]:
    """Rate slots for the batch's robot messages in one transaction; the messages a full
    window refuses go back to wait for it (not an attempt)."""
    granted = ratelimit.acquire_many(Counter(d.target_key for d in rows if d.is_robot))
    ready, slots, waits = [], [], defaultdict(list)
    for delivery in rows:
        if not delivery.is_robot:
            ready.append(delivery)
            continue
        free, wait = granted[delivery.target_key]
        if free:
            slots.append(free.pop())
            ready.append(delivery)
        else:
            waits[wait].append(delivery)
    for wait, group in waits.items():
        _release(group, wait=wait, hint=base.HINT_RATE_LIMITED)
    return ready, slots


def deliver_many(ids, *, worker_id: str) -> Counter:
    """The task's body: send the due deliveries among `ids`, one after the other, each marked
    right after its provider's answer. Batching shares the claim, the rate window's
    transaction and the task's own overhead. Idempotent: rows already sent or taken are
    skipped."""
    outcomes: Counter = Counter()
    rows, heads = _digest_heads(claim_many(ids, worker_id=worker_id))
    for head in heads:
        outcomes[send_claimed(head, worker_id=worker_id).outcome] += 1
    ready, slots = _take_slots(rows)
    # Stop before a row's lease could run out mid-send (slow robots), so that no other worker
    # takes over a row this one is still sending: what is left goes back to the queue.
    one_send = settings.ROBOT_HTTP_CONNECT_TIMEOUT + settings.ROBOT_HTTP_READ_TIMEOUT + 5
    margin = timedelta(seconds=min(one_send, settings.NOTIFY_LEASE_SECONDS / 2))
    try:
        for done, delivery in enumerate(ready):
            if done and timezone.now() > delivery.lease_until - margin:
                _release(ready[done:])
                break
            answer = _transmit(delivery, _message(delivery))
            outcomes[_finish(delivery, answer, worker_id=worker_id, retries=True).outcome] += 1
    finally:
        # Stamped after the sends: a window counts from when each message was out.
        ratelimit.release(slots)
    return outcomes


def send_event_now(event: Event, *, worker_id: str) -> list[Result]:
    """Send every delivery of an event that `worker_id` holds, at once and without retries
    (the Test button: `outbox.record_event(claimed_by=...)`)."""
    held = event.deliveries.filter(status=Status.SENDING, claimed_by=worker_id)
    return [
        send_claimed(delivery, worker_id=worker_id, retries=False)
        for delivery in held.select_related("event").order_by("channel", "id")
    ]
