"""Writing events and their deliveries (rules §8's outbox).

`record_event` writes the event and one delivery per (channel, target) in one transaction and
enqueues one send task per delivery on commit: an exception before the commit leaves neither
rows nor tasks. A robot URL (or mailbox) shared by several recipients becomes one delivery
that names them all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from arms_sync.notify import base
from arms_sync.notify.models import Delivery, Event
from contacts import channels
from ram_directory.models import Account


@dataclass(frozen=True, init=False)
class Recipient:
    """Someone to notify, on every channel they have. Built from an ARMS contact (alerts,
    approvals), an SAE contact (Test) or the values typed in the Edit panel (Test before
    saving). Each channel's values come by its fields' recipient keys (contacts/channels):
    `email=`, `dingtalk_url=`, `dingtalk_secret=`, `dingtalk_keyword=`, `wecom_url=`."""

    name: str
    phone: str = ""  # E.164
    # For an alert post: the positions of the alerts routed to this recipient (None: all).
    alerts: tuple[int, ...] | None = None
    # The language of what is sent to them (their console language); "": the account's.
    language: str = ""
    # (recipient key, value) of each channel value given, sorted.
    values: tuple[tuple[str, str], ...] = ()

    def __init__(
        self,
        name: str,
        phone: str = "",
        *,
        alerts: tuple[int, ...] | None = None,
        language: str = "",
        values: tuple[tuple[str, str], ...] = (),  # as dataclasses.replace() passes them
        **channel_values: str,
    ) -> None:
        values = {**dict(values), **channel_values}
        unknown = set(values) - {f.recipient_key for f in channels.all_fields()}
        if unknown:
            raise TypeError(f"unknown recipient values: {sorted(unknown)}")
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "phone", phone)
        object.__setattr__(self, "alerts", alerts)
        object.__setattr__(self, "language", language)
        object.__setattr__(self, "values", tuple(sorted((k, v) for k, v in values.items() if v)))

    @classmethod
    def from_arms_contact(
        cls, arms, *, alerts: tuple[int, ...] | None = None, owner_language: str = ""
    ) -> Recipient:
        values = {
            f.recipient_key: getattr(arms, f.arms_field)
            for f in channels.all_fields()
            if f.arms_field
        }
        return cls(
            alerts=alerts,
            language=language_of(getattr(arms, "sae_contact", None), owner_language),
            name=arms.name,
            phone=str(arms.phone or ""),
            **values,
        )

    @classmethod
    def from_contact(cls, contact, *, owner_language: str | None = None) -> Recipient:
        if owner_language is None and contact.ram_user_id is None:
            # The account's own contact: the owner's language (one query, a single contact).
            owner_language = owner_language_of(contact.account_id)
        return cls.from_values(
            contact.username,
            str(contact.phone or ""),
            {f.name: getattr(contact, f.name) for f in channels.all_fields()},
            language=language_of(contact, owner_language or ""),
        )

    @classmethod
    def from_values(cls, name: str, phone: str, values: dict[str, str], **more) -> Recipient:
        """From a contact's channel fields by name (saved, or typed in Edit Contact)."""
        keyed = {f.recipient_key: values.get(f.name, "") for f in channels.all_fields()}
        return cls(name=name, phone=phone, **keyed, **more)

    def targets(self) -> list[base.Target]:
        """One target per channel the recipient has an address for, in the channels' order."""
        values = dict(self.values)
        found = []
        for channel in channels.all_channels():
            parts = channel.target_parts(values)
            if parts is not None:
                found.append(base.Target(channel.name, **parts))
        return found


def language_of(contact, owner_language: str = "") -> str:
    """The console language of the person behind an SAE contact: the RAM user's sign-in's, or
    for the account's own contact the owner's (`owner_language`, read once per event). A
    contact nobody signs in as, or an ARMS contact without an SAE contact: "" (the default).
    Callers select_related `ram_user__sign_in` so that this costs no query."""
    if contact is None:
        return ""
    if contact.ram_user_id is None:
        return owner_language
    sign_in = getattr(contact.ram_user, "sign_in", None)
    return sign_in.language if sign_in is not None else ""


def owner_language_of(account) -> str:
    """The language the account's owner chose ("" when none): an account or its pk."""
    from ram_directory.models import User

    found = User.objects.filter(account=account, ram_user__isnull=True).values_list(
        "language", flat=True
    )
    return next(iter(found), "")


def target_key(channel: str, address: str) -> str:
    """The identity of a target: a mailbox without regard to case, a robot by host and token
    (the same robot typed with another parameter order is the same robot). Hashed, so the
    column carries no secret; also the key of a robot's rate window."""
    return channels.get(channel).target_key(address)


def mask_target(channel: str, address: str) -> str:
    return channels.get(channel).mask_address(address)


@dataclass
class _Grouped:
    target: base.Target
    people: list
    alerts: set[int] | None  # None: the whole event
    language: str = ""  # the first recipient's (a shared robot speaks one language)


def _group(recipients: Iterable[Recipient]) -> dict[tuple[str, str], _Grouped]:
    """One entry per (channel, target): everyone it reaches, and the union of their alerts."""
    grouped: dict[tuple[str, str], _Grouped] = {}
    for recipient in recipients:
        for target in recipient.targets():
            key = (target.channel, target_key(target.channel, target.address))
            entry = grouped.setdefault(key, _Grouped(target, [], set(), recipient.language))
            person = {"name": recipient.name, "phone": recipient.phone}
            if person not in entry.people:
                entry.people.append(person)
            if recipient.alerts is None or entry.alerts is None:
                entry.alerts = None
            else:
                entry.alerts.update(recipient.alerts)
    return grouped


def build_deliveries(
    event: Event, recipients: Iterable[Recipient], *, enqueued: bool = True, claimed_by: str = ""
) -> list[Delivery]:
    now = timezone.now()
    claimed = (
        {
            "status": Delivery.Status.SENDING,
            "claimed_by": claimed_by,
            "attempts": 1,
            "lease_until": now + timedelta(seconds=settings.NOTIFY_LEASE_SECONDS),
        }
        if claimed_by
        else {}
    )
    return [
        Delivery(
            **claimed,
            account_id=event.account_id,
            event=event,
            channel=channel,
            target=entry.target.address,
            target_secret=entry.target.secret,
            target_keyword=entry.target.keyword,
            target_masked=mask_target(channel, entry.target.address),
            target_key=key,
            recipients=entry.people,
            context={} if entry.alerts is None else {"alerts": sorted(entry.alerts)},
            language=entry.language,
            next_attempt_at=now,
            # Not enqueued here: the sweeper gives the row a task.
            enqueued_at=now if enqueued else None,
        )
        for (channel, key), entry in _group(recipients).items()
    ]


def enqueue_on_commit(delivery_ids: list[int]) -> None:
    """Send tasks for these deliveries once the rows are committed: one per batch of
    NOTIFY_BATCH_SIZE (tasks receive keys only)."""
    if not delivery_ids:
        return
    from arms_sync.notify.tasks import deliver

    size = settings.NOTIFY_BATCH_SIZE

    def _enqueue():
        for start in range(0, len(delivery_ids), size):
            deliver.enqueue(list(delivery_ids[start : start + size]))

    transaction.on_commit(_enqueue, robust=True)


def record_event(
    *,
    account: Account,
    kind: str,
    title: str,
    payload: dict | None = None,
    recipients: Iterable[Recipient],
    dedup_key: str = "",
    claimed_by: str = "",
) -> Event:
    """Write an event and its deliveries in one transaction and enqueue their sends on
    commit; or, with `claimed_by` (the Test button, which sends at once), write them already
    claimed by that sender so that no worker takes them meanwhile."""
    with transaction.atomic():
        event = Event.objects.create(
            account=account,
            kind=kind,
            title=title[:200],
            payload=payload or {},
            dedup_key=dedup_key,
        )
        deliveries = Delivery.objects.bulk_create(
            build_deliveries(event, recipients, enqueued=not claimed_by, claimed_by=claimed_by)
        )
        if not claimed_by:
            enqueue_on_commit([d.pk for d in deliveries])
    return event
