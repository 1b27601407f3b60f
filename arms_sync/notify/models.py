"""Notification events and their delivery records (rules §8): the outbox.

An `Event` and one `Delivery` per (event, channel, target) are written in one transaction; the
delivery rows, not the task queue, are the truth. Each send is recorded as a `DeliveryAttempt`.
`RobotRateSlot` rows are the per-robot sliding window shared by every worker.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from core.fields import EncryptedTextField
from core.relations import optional_key
from ram_directory.models import (
    AccountScoped,
    AccountScopedQuerySet,
    account_key,
    unique_in_account,
)

# A permission request's event titles, translated when shown (Event.display_title).
APPROVAL_TITLES = {
    "": gettext_noop("Permission request: {user} asks for {permission}"),
    "approved": gettext_noop("Permission request approved: {user}, {permission}"),
    "rejected": gettext_noop("Permission request rejected: {user}, {permission}"),
    "withdrawn": gettext_noop("Permission request withdrawn: {user}, {permission}"),
}


class Event(AccountScoped):
    class Kind(models.TextChoices):
        ALERT = "alert", _("Alert")
        APPROVAL = "approval", _("Permission approval")
        TEST = "test", _("Test")

    account = account_key("events")
    kind = models.CharField(_("event"), max_length=16, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=200)
    # What the message templates render: alerts, the approval request, the tested contact.
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    # Set by sources that may post the same event twice (Alertmanager retrying): unique per
    # account, so a replay finds the first event instead of notifying again.
    dedup_key = models.CharField(_("dedup key"), max_length=128, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("event")
        verbose_name_plural = _("events")
        constraints = [
            unique_in_account(
                "dedup_key",
                condition=~Q(dedup_key=""),
                name="event_dedup_key_unique_in_account",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title}"

    @property
    def display_title(self) -> str:
        """The title in the active language. A permission request's is written from its
        payload at display time (the stored title is English, for logs and commands); the
        others are names (alerts, the tested contact) and read the same in every language."""
        payload = self.payload if isinstance(self.payload, dict) else {}
        user = payload.get("requester_name") or payload.get("requester")
        if self.kind != self.Kind.APPROVAL or not user:
            return self.title
        decision = payload.get("decision") or ""
        message = APPROVAL_TITLES.get(decision, APPROVAL_TITLES[""])
        return gettext(message).format(user=user, permission=payload.get("permission", ""))


class DeliveryQuerySet(AccountScopedQuerySet):
    def due(self, now=None):
        return self.filter(
            status=Delivery.Status.PENDING, next_attempt_at__lte=now or timezone.now()
        )


class Delivery(AccountScoped):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        DINGTALK = "dingtalk", _("DingTalk robot")
        WECOM = "wecom", _("WeCom robot")

    account = account_key("deliveries")
    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("event")
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    # The email address or robot webhook URL (with its token) and the DingTalk signing secret:
    # encrypted; pages, logs and commands show `target_masked`.
    target = EncryptedTextField(_("target (encrypted)"))
    target_secret = EncryptedTextField(_("DingTalk signing secret"), blank=True)
    target_keyword = models.CharField(_("DingTalk keyword"), max_length=20, blank=True)
    target_masked = models.CharField(_("target"), max_length=600)
    # A hash of the channel and target: one delivery per (event, channel, target), and the key
    # of the robot's rate window.
    target_key = models.CharField(_("target hash"), max_length=64)
    # Everyone this delivery reaches ({"name", "phone"}): a robot shared by several contacts
    # gets one message that @mentions them all.
    recipients = models.JSONField(_("recipients"), default=list, blank=True)
    # What of the event this delivery carries, when targets get different parts of it:
    # {"alerts": [positions]} for an alert post routed by labels, alert by alert.
    context = models.JSONField(_("part of the event"), default=dict, blank=True)
    # The language the message is written in: the recipient's (rules §15); empty for the
    # account's default (SAE_NOTIFY_LANGUAGE).
    language = models.CharField(_("language"), max_length=16, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    # `attempts` never goes back (attempt numbers stay unique); a Resend starts a fresh budget
    # of retries from here.
    attempts_before_resend = models.PositiveIntegerField(
        _("attempts before the last resend"), default=0
    )
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    # Set while a worker holds the row; past `lease_until` the sweeper hands it to another.
    claimed_by = models.CharField(_("claimed by"), max_length=64, blank=True)
    lease_until = models.DateTimeField(_("lease until"), null=True, blank=True)
    # When a task was last enqueued for it (the sweeper re-enqueues rows a task lost).
    enqueued_at = models.DateTimeField(_("enqueued"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    last_hint = models.CharField(_("last hint"), max_length=32, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    # Sent inside another delivery's digest (a robot's backlog past its rate).
    digest = optional_key(
        "self", models.SET_NULL, related_name="digested", verbose_name=_("digest")
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["event", "channel", "target_key"], name="one_delivery_per_event_target"
            )
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due"),
            models.Index(fields=["target_key", "status"], name="delivery_robot_backlog"),
            models.Index(fields=["account", "-created_at"], name="delivery_account_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.target_masked} ({self.status})"

    @property
    def is_robot(self) -> bool:
        return self.channel != self.Channel.EMAIL

    @property
    def may_retry(self) -> bool:
        return self.attempts - self.attempts_before_resend < settings.NOTIFY_MAX_ATTEMPTS


class DeliveryAttempt(models.Model):
    class Outcome(models.TextChoices):
        SENT = "sent", _("Sent")
        RETRY = "retry", _("Will retry")
        FAILED = "failed", _("Failed")

    delivery = models.ForeignKey(
        Delivery,
        on_delete=models.CASCADE,
        related_name="attempt_log",
        verbose_name=_("delivery"),
    )
    number = models.PositiveIntegerField(_("number"))
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    hint = models.CharField(_("hint"), max_length=32, blank=True)
    http_status = models.PositiveIntegerField(_("HTTP status"), null=True, blank=True)
    # The robots' own answer fields, named as their APIs name them.
    errcode = models.BigIntegerField(_("errcode"), null=True, blank=True)
    errmsg = models.CharField(_("errmsg"), max_length=512, blank=True)
    worker = models.CharField(_("worker"), max_length=64, blank=True)

    class Meta:
        ordering = ["delivery", "number", "id"]
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")

    def __str__(self) -> str:
        return f"#{self.number} {self.outcome}"


class RobotRateSlot(models.Model):
    """One message sent (or about to be) to a robot: the sliding window counts these."""

    robot_key = models.CharField(_("robot key"), max_length=64)
    sent_at = models.DateTimeField(_("sent"), default=timezone.now)

    class Meta:
        verbose_name = _("robot rate slot")
        verbose_name_plural = _("robot rate slots")
        indexes = [models.Index(fields=["robot_key", "sent_at"], name="robot_rate_window")]

    def __str__(self) -> str:
        return f"{self.robot_key[:8]} {self.sent_at:%H:%M:%S}"


class RobotRateLock(models.Model):
    """A row per robot that a worker locks (SELECT ... FOR UPDATE) while it counts the window
    and takes a slot, so two workers cannot both take the 20th."""

    robot_key = models.CharField(_("robot key"), max_length=64, primary_key=True)

    class Meta:
        verbose_name = _("robot rate lock")
        verbose_name_plural = _("robot rate locks")

    def __str__(self) -> str:
        return self.robot_key[:8]


class WorkerHeartbeat(models.Model):
    """A `notify_worker` that is alive: its sweeper stamps `seen_at` every round. Kept in the
    database (not in a process) so that any web node's /metrics sees every worker of every
    machine."""

    worker = models.CharField(_("worker"), max_length=64, primary_key=True)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    seen_at = models.DateTimeField(_("last seen"), default=timezone.now)

    class Meta:
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")

    def __str__(self) -> str:
        return self.worker
