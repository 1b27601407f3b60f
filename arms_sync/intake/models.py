"""Alert intake (rules §8, §15): the per-account bearer token Alertmanager presents; `Alert`, one
row per alert with its state (identified by Alertmanager's fingerprint within the account); and
`ReceivedAlert`, one row per alert of each post: the alert's timeline."""

from __future__ import annotations

from datetime import timedelta

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from arms_sync.notify.models import Event
from ram_directory.models import Account, AccountScoped, account_key, unique_in_account


class IntakeToken(AccountScoped):
    """One live token per account, stored as its SHA-256 (the token is shown once, when
    created). Rotating replaces the hash, which revokes the old token at once."""

    account = models.OneToOneField(
        Account, on_delete=models.CASCADE, related_name="intake_token", verbose_name=_("account")
    )
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True)
    # The first characters, to tell tokens apart in the console without revealing them.
    prefix = models.CharField(_("prefix"), max_length=12)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.CharField(_("created by"), max_length=200, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    # The per-token rate window (a fixed window; the row is locked to count).
    window_started_at = models.DateTimeField(_("rate window started"), null=True, blank=True)
    window_count = models.PositiveIntegerField(_("posts in the rate window"), default=0)

    class Meta:
        verbose_name = _("intake token")
        verbose_name_plural = _("intake tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.account.account_id})"


class AlertStatus(models.TextChoices):
    FIRING = "firing", _("Firing")
    RESOLVED = "resolved", _("Resolved")


class AlertFields(AccountScoped):
    """What a post says of one alert (Alertmanager's webhook): an `Alert` shows its latest
    post's, a `ReceivedAlert` keeps each post's."""

    status = models.CharField(_("status"), max_length=16, choices=AlertStatus.choices)
    name = models.CharField(_("alert name"), max_length=256)
    severity = models.CharField(_("severity"), max_length=64, blank=True)
    labels = models.JSONField(_("labels"), default=dict)
    annotations = models.JSONField(_("annotations"), default=dict)
    starts_at = models.DateTimeField(_("started"), null=True, blank=True)
    ends_at = models.DateTimeField(_("ended"), null=True, blank=True)
    generator_url = models.URLField(_("generator URL"), max_length=2048, blank=True)
    # The names of the notification policies whose match labels matched.
    matched_policies = models.JSONField(
        _("matched notification policies"), default=list, blank=True
    )

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"


class Alert(AlertFields):
    """One alert and its state (rules §15): firing opens or re-opens it, resolved closes it.
    Each post that touches it is a `ReceivedAlert` (its timeline). What is shown of it
    (labels, annotations, times) is the latest post's."""

    Status = AlertStatus

    account = account_key("alert_states")
    # Alertmanager's fingerprint, else a hash of the sorted labels (intake.payload).
    fingerprint = models.CharField(_("fingerprint"), max_length=64)
    summary = models.CharField(_("summary"), max_length=500, blank=True)
    # "key=value key=value", lowercased: what the Alerts page's label search looks in (one
    # text column works the same on SQLite and PostgreSQL, unlike lookups into JSON).
    label_text = models.TextField(_("labels as text"), blank=True)
    first_received_at = models.DateTimeField(_("first received"), default=timezone.now)
    last_received_at = models.DateTimeField(_("last received"), default=timezone.now)
    # When a post last notified anyone about it: the repeat interval counts from here.
    last_notified_at = models.DateTimeField(_("last notified"), null=True, blank=True)
    # Deliveries it caused, over its whole life (the Alerts page's "notified").
    notified_count = models.PositiveIntegerField(_("deliveries"), default=0)
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    acknowledged_by = models.CharField(_("acknowledged by"), max_length=200, blank=True)
    # Firing first (0), then resolved (1): the Alerts page's order.
    status_rank = models.PositiveSmallIntegerField(_("status order"), default=0)

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["status_rank", "-last_received_at", "-id"]
        constraints = [unique_in_account("fingerprint", name="alert_fingerprint_unique_in_account")]
        indexes = [
            models.Index(
                fields=["account", "status_rank", "-last_received_at"], name="alert_state_order"
            )
        ]

    @staticmethod
    def text_of(labels: dict) -> str:
        return " ".join(f"{k}={v}" for k, v in sorted(labels.items())).lower()

    @property
    def is_firing(self) -> bool:
        return self.status == AlertStatus.FIRING

    @property
    def duration(self):
        """How long it fired (until now while it fires), or None without a start."""
        if self.starts_at is None:
            return None
        end = self.ends_at if not self.is_firing and self.ends_at else timezone.now()
        return max(end - self.starts_at, timedelta(0))


class ReceivedAlert(AlertFields):
    """One alert of one post: a point on its alert's timeline."""

    Status = AlertStatus

    class Change(models.TextChoices):
        OPENED = "opened", _("Opened")
        REOPENED = "reopened", _("Re-opened")
        RESOLVED = "resolved", _("Resolved")
        REPEATED = "repeated", _("Repeated")
        # A repeat inside the repeat interval, an acknowledged repeat, a second "resolved".
        QUIET = "quiet", _("Received, nobody notified")

    account = account_key("alerts")
    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="alerts", verbose_name=_("event")
    )
    alert = models.ForeignKey(
        Alert,
        null=True,
        on_delete=models.CASCADE,
        related_name="posts",
        verbose_name=_("alert"),
    )
    # What this post did: opened, re-opened, resolved, repeated (notified), or was quiet.
    change = models.CharField(_("change"), max_length=16, choices=Change.choices, blank=True)
    notified = models.BooleanField(_("notified"), default=False)
    # Its place in the post (and in the event's payload): deliveries name alerts by it.
    position = models.PositiveIntegerField(_("position in the post"))
    fingerprint = models.CharField(_("fingerprint"), max_length=64, blank=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("received alert")
        verbose_name_plural = _("received alerts")
        indexes = [models.Index(fields=["account", "-received_at"], name="alert_account_recent")]
