"""The one send pipeline (rules §8, §16): a worker's batch and the Test button go through it alike.

1. Claimed rows are prepared in the batch's own thread: a robot whose backlog passes what its
   window carries gets one digest (the transport says how much fits), the robots' rate slots
   are taken in one database transaction, messages are rendered.
2. Sends go to the network with up to `SAE_NOTIFY_CONCURRENCY` in flight (lanes.py): the
   threads only connect, send and read; the guard runs inside each send, right before its
   connection, and the client connects to the address the guard checked.
3. Answers are recorded in the batch's thread, each row committed right after its answer:
   answers are held for at most HOLD_SECONDS so that several share a commit, and always
   committed before any new send starts, so an answered row not yet committed still counts as
   in flight and a worker killed at any instant repeats at most `SAE_NOTIFY_CONCURRENCY`
   messages. The rate slot counts from the end of its send; a send the guard refused gives its
   slot back (nothing reached the robot).
4. With `refill`, the batch keeps taking due rows while it has room (a chunk of a quarter of
   the concurrency at a time, one claim and one rate transaction each), so a slow or silent
   robot holds one place in flight, not the whole batch, and the worker never waits for the
   slowest send of a batch before starting the next messages.
"""

from __future__ import annotations

import logging
import queue
import time
from collections import Counter, deque
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from arms_sync.notify import base, lanes, ratelimit, render, sending
from arms_sync.notify.models import Delivery
from arms_sync.notify.transports import get_transport

logger = logging.getLogger("arms_sync.notify")
Status = Delivery.Status

# The most deliveries one digest claims; what does not fit the robot's message goes back.
DIGEST_MAX = 500
# How often a batch with nothing new to send looks for due rows while its sends are out.
POLL_SECONDS = 0.2
# How long an answer may wait for others to share its commit. It is committed before any new
# send starts, and counts as in flight until then: a worker killed meanwhile repeats at most
# the concurrency. (A commit per answer cost the batch's thread more than the rendering.)
HOLD_SECONDS = 0.02


@dataclass
class Send:
    delivery: Delivery
    message: base.Message | None = None
    slot: int | None = None
    digested: list[Delivery] = field(default_factory=list)
    target: base.Target | None = None


def _transmit(send: Send, cutoff) -> base.Answer | None:
    """In a lane's thread: the send itself, or None when the row's lease is too close to its
    end to start one (another worker could take the row over mid-send)."""
    if timezone.now() > cutoff:
        return None
    try:
        return get_transport(send.delivery.channel).send(send.target, send.message)
    except Exception:
        # A bug, not a provider's answer: the row must not stay `sending` until its lease.
        logger.exception("delivery %s: transport error", send.delivery.pk)
        return base.Answer(ok=False, retryable=True, hint=base.HINT_NETWORK, errmsg="error")


def _transmit_mail(send: Send, cutoff, lane: lanes.SmtpLane) -> base.Answer | None:
    if timezone.now() > cutoff:
        return None
    try:
        return get_transport(base.EMAIL).send(send.target, send.message, mailer=lane.mailer())
    except Exception:
        logger.exception("delivery %s: transport error", send.delivery.pk)
        return base.Answer(ok=False, retryable=True, hint=base.HINT_NETWORK, errmsg="error")


class Batch:
    """Sends claimed rows. `retries=False` (the Test button): a retryable failure fails at
    once, and a robot whose window is full is reported instead of waited for."""

    def __init__(self, *, worker_id: str, retries: bool = True, refill: bool = False):
        self.worker_id = worker_id
        self.retries = retries
        self.refill = refill
        self.limit = lanes.concurrency()
        self.outcomes: Counter = Counter()
        self.results: list[sending.Result] = []
        self._queue: deque[Send] = deque()
        self._in_flight: dict[Future, Send] = {}
        # Answered, not yet committed (still in flight for the bound above), since `_held_at`.
        self._held: dict[Future, Send] = {}
        self._answers: queue.SimpleQueue[Future] = queue.SimpleQueue()
        self._held_at = 0.0
        # Refill in chunks: a claim and a rate transaction for several rows at once.
        self._chunk = max(1, self.limit // 4)
        self._smtp = lanes.SmtpLane()
        self._rendered: dict[tuple, base.Message] = {}
        self._refill_until = time.monotonic() + settings.NOTIFY_LEASE_SECONDS / 2
        self._next_poll = 0.0
        # Stop starting sends this long before a row's lease ends (a send takes at most the
        # two timeouts), so no other worker takes over a row this one is still sending.
        one_send = settings.ROBOT_HTTP_CONNECT_TIMEOUT + settings.ROBOT_HTTP_READ_TIMEOUT + 5
        self._margin = timedelta(seconds=min(one_send, settings.NOTIFY_LEASE_SECONDS / 2))

    # --- the loop -------------------------------------------------------------------------------
    def run(self, rows: list[Delivery]) -> Batch:
        try:
            self._prepare(rows)
            while True:
                self._submit()
                if self._in_flight:
                    timeout = POLL_SECONDS
                    if self._held:
                        timeout = max(self._held_at + HOLD_SECONDS - time.monotonic(), 0)
                    self._hold(self._answered(timeout))
                if self._held and (
                    not self._in_flight
                    or len(self._held) >= self._chunk
                    or time.monotonic() >= self._held_at + HOLD_SECONDS
                ):
                    self._record()
                took = self._take_more()
                if not (took or self._in_flight or self._queue or self._held):
                    break
        finally:
            self._give_back_unsent()
            self._smtp.close()
        return self

    def _submit(self) -> None:
        if self._queue and self._held:
            self._record()  # every answer committed before a new send starts
        while self._queue and len(self._in_flight) < self.limit:
            send = self._queue.popleft()
            cutoff = send.delivery.lease_until - self._margin
            if send.delivery.channel == base.EMAIL:
                future = self._smtp.submit(_transmit_mail, send, cutoff, self._smtp)
            else:
                future = lanes.robot_pool().submit(_transmit, send, cutoff)
            future.add_done_callback(self._answers.put)  # robots and mail alike
            self._in_flight[future] = send

    def _take_more(self) -> bool:
        """Claim due rows while there is room (only with `refill`, not once stopping, and for
        a bounded time so that the worker gets back to its queue)."""
        if not self.refill or lanes.stopping.is_set() or time.monotonic() > self._refill_until:
            return False
        room = self.limit - len(self._in_flight) - len(self._held) - len(self._queue)
        # Claim in chunks (one query for several rows) unless the batch would otherwise end.
        idle = not (self._in_flight or self._queue or self._held)
        if room < self._chunk and not idle:
            return False
        if time.monotonic() < self._next_poll and not idle:
            return False
        # The claim and the robots' rate slots in one transaction: one commit (a flush to disk,
        # 4 ms on the benchmark's machine) per chunk instead of two.
        with transaction.atomic():
            rows = sending.claim_due(
                worker_id=self.worker_id, limit=min(room, settings.NOTIFY_BATCH_SIZE)
            )
            sends = self._reserve(rows)
        if not rows:
            self._next_poll = time.monotonic() + POLL_SECONDS
            return False
        self._enqueue(sends)
        return True

    def _give_back_unsent(self) -> None:
        """An error left rows queued or in flight: give them back rather than leave them
        `sending` until their lease."""
        for future in list(self._in_flight):
            future.cancel()
        unsent = list(self._queue) + [s for f, s in self._in_flight.items() if f.cancelled()]
        self._queue.clear()
        if unsent:
            sending.release([r for s in unsent for r in (s.delivery, *s.digested)])
            ratelimit.settle(used=[], unused=[s.slot for s in unsent])

    # --- before sending -------------------------------------------------------------------------
    def _prepare(self, rows: list[Delivery]) -> None:
        self._enqueue(self._reserve(rows))

    def _reserve(self, rows: list[Delivery]) -> list[Send]:
        """The sends of claimed rows, with their digests and rate slots (the database's part)."""
        if not rows:
            return []
        rows, sends = self._digests(rows)
        sends += [Send(row) for row in rows]
        return self._with_slots(sends)

    def _enqueue(self, sends: list[Send]) -> None:
        """Render the sends' messages (outside any transaction) and queue them."""
        for send in sends:
            send.target = sending.target_of(send.delivery)
            if send.message is None:
                send.message = self._compose(send.delivery)
            self._queue.append(send)

    def _compose(self, delivery: Delivery) -> base.Message:
        """The delivery's message; rendered once per batch for every target that gets the same
        part of the same event (an alert post to a hundred robots renders once, each robot's
        @mentions added to it)."""
        key = sending.message_key(delivery)
        message = self._rendered.get(key)
        if message is None:
            message = self._rendered[key] = sending.compose(delivery)
        return replace(message, mentions=sending.mentions(delivery))

    def _digests(self, rows: list[Delivery]) -> tuple[list[Delivery], list[Send]]:
        """Split off the robots whose messages waiting (here and in the table) pass what a
        window carries: per account, one row goes with every waiting event of that account in
        one digest. A digest never mixes two accounts' events."""
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
        if not heavy:
            return rows, []
        sends, groups = [], {}
        for row in robots:
            if row.target_key in heavy:
                groups.setdefault((row.account_id, row.target_key, row.channel), []).append(row)
        for mine in groups.values():
            head, backlog = mine[0], mine[1:] + self._claim_backlog(head=mine[0])
            message, included = self._digest_message(head, backlog)
            sending.release([r for r in backlog if r not in included])
            sends.append(Send(head, message=message, digested=included))
        return [d for d in rows if d.target_key not in heavy], sends

    def _claim_backlog(self, *, head: Delivery) -> list[Delivery]:
        now = timezone.now()
        with transaction.atomic():
            pks = list(
                Delivery.objects.select_for_update(skip_locked=True)
                .filter(
                    account_id=head.account_id,
                    target_key=head.target_key,
                    channel=head.channel,
                    status=Status.PENDING,
                )
                .order_by("created_at", "id")
                .values_list("pk", flat=True)[:DIGEST_MAX]
            )
            Delivery.objects.filter(pk__in=pks, status=Status.PENDING).update(
                status=Status.SENDING,
                claimed_by=self.worker_id,
                lease_until=head.lease_until,
                attempts=F("attempts") + 1,
                updated_at=now,
            )
        taken = Delivery.objects.filter(
            pk__in=pks, claimed_by=self.worker_id, status=Status.SENDING
        )
        return sending.with_events(list(taken.order_by("created_at", "id")))

    def _digest_message(self, head: Delivery, backlog: list[Delivery]):
        """The digest naming the most backlog events that the robot takes whole (the transport
        says what fits); the rest wait for a later message."""
        transport = get_transport(head.channel)
        target = sending.target_of(head)

        def message(count: int) -> base.Message:
            rows = backlog[:count]
            return render.render_digest(
                [head.event, *(r.event for r in rows)],
                parts=transport.parts,
                mentions=sending.mentions(head, rows),
                lang=head.language,
            )

        whole = message(len(backlog))
        if transport.fits(target, whole):
            return whole, list(backlog)
        low, high = 0, len(backlog) - 1  # the largest count that fits, by bisection
        while low < high:
            middle = (low + high + 1) // 2
            if transport.fits(target, message(middle)):
                low = middle
            else:
                high = middle - 1
        return message(low), backlog[:low]

    def _with_slots(self, sends: list[Send]) -> list[Send]:
        """Rate slots for the robot messages, in one transaction; a message a full window
        refuses waits for it (not an attempt), or with retries off is reported at once."""
        granted = ratelimit.acquire_many(
            Counter(s.delivery.target_key for s in sends if s.delivery.is_robot)
        )
        ready, waits = [], {}
        for send in sends:
            if not send.delivery.is_robot:
                ready.append(send)
                continue
            free, wait_s = granted[send.delivery.target_key]
            if free:
                send.slot = free.pop()
                ready.append(send)
            else:
                waits.setdefault(wait_s, []).append(send)
        for wait_s, group in waits.items():
            if self.retries:
                rows = [r for s in group for r in (s.delivery, *s.digested)]
                sending.release(rows, wait=wait_s, hint=base.HINT_RATE_LIMITED)
                for send in group:
                    answer = self._rate_limited(wait_s)
                    self.outcomes[sending.RATE_LIMITED] += 1
                    # Counted once the release is committed (at once outside a transaction).
                    transaction.on_commit(
                        partial(sending.record_outcome, send.delivery, answer, sending.RATE_LIMITED)
                    )
            else:
                self._finish([(send, self._rate_limited(wait_s)) for send in group])
        return ready

    @staticmethod
    def _rate_limited(wait_s: float) -> base.Answer:
        return base.Answer(
            ok=False,
            retryable=True,
            hint=base.HINT_RATE_LIMITED,
            errmsg=f"next slot in {wait_s:.0f} s",
        )

    # --- after sending --------------------------------------------------------------------------
    def _answered(self, timeout: float) -> list[Future]:
        """The sends that finished, waiting up to `timeout` for the first. (The threads hand
        each finished send over through a queue: `concurrent.futures.wait` on 64 futures
        costs the batch's thread a waiter on each, for every answer.)"""
        try:
            done = [self._answers.get(timeout=timeout)]
        except queue.Empty:
            return []
        while True:
            try:
                done.append(self._answers.get_nowait())
            except queue.Empty:
                return done

    def _hold(self, done) -> None:
        if done and not self._held:
            self._held_at = time.monotonic()
        for future in done:
            self._held[future] = self._in_flight.pop(future)

    def _record(self) -> None:
        answered, back = [], []
        held, self._held = self._held, {}
        for future, send in held.items():
            answer = future.result()
            (back if answer is None else answered).append((send, answer))
        if answered:
            self._finish(answered)
        if back:
            # Not started: the lease was ending. Not an attempt; the slot was not used.
            sending.release([r for s, _ in back for r in (s.delivery, *s.digested)])
            ratelimit.settle(used=[], unused=[s.slot for s, _ in back])

    def _finish(self, answered: list[tuple[Send, base.Answer]]) -> None:
        """Commit the rows of these answers (with their attempts and rate slots) at once."""
        with transaction.atomic():
            outcomes = sending.record_answers(
                [(s.delivery, a, s.digested) for s, a in answered],
                worker_id=self.worker_id,
                retries=self.retries,
            )
            refused = base.HINT_REFUSED_BY_GUARD
            ratelimit.settle(
                used=[s.slot for s, a in answered if a.hint != refused],
                unused=[s.slot for s, a in answered if a.hint == refused],
            )
        finished = [(s, a, o) for (s, a), o in zip(answered, outcomes, strict=True)]
        for send, answer, outcome in finished:
            self.outcomes[outcome] += 1
            self.results.append(sending.Result(send.delivery, answer, outcome))
            sending.record_outcome(send.delivery, answer, outcome)
