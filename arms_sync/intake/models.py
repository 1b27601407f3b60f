"""Alert intake (SPEC 8): the per-account bearer token Alertmanager presents, and the alerts
received (one row per alert of a post, with the policies that matched it)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from arms_sync.notify.models import Event
from ram_directory.models import Account, AccountScopedQuerySet


class IntakeToken(models.Model):
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

    objects = AccountScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("intake token")
        verbose_name_plural = _("intake tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.account.account_id})"


class ReceivedAlert(models.Model):
    class Status(models.TextChoices):
        FIRING = "firing", _("Firing")
        RESOLVED = "resolved", _("Resolved")

    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="alerts", verbose_name=_("account")
    )
    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="alerts", verbose_name=_("event")
    )
    # Its place in the post (and in the event's payload): deliveries name alerts by it.
    position = models.PositiveIntegerField(_("position in the post"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    name = models.CharField(_("alert name"), max_length=256)
    severity = models.CharField(_("severity"), max_length=64, blank=True)
    fingerprint = models.CharField(_("fingerprint"), max_length=64, blank=True)
    labels = models.JSONField(_("labels"), default=dict)
    annotations = models.JSONField(_("annotations"), default=dict)
    starts_at = models.DateTimeField(_("started"), null=True, blank=True)
    ends_at = models.DateTimeField(_("ended"), null=True, blank=True)
    generator_url = models.URLField(_("generator URL"), max_length=2048, blank=True)
    # The names of the notification policies whose match labels matched.
    matched_policies = models.JSONField(
        _("matched notification policies"), default=list, blank=True
    )
    received_at = models.DateTimeField(_("received"), default=timezone.now)

    objects = AccountScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("received alert")
        verbose_name_plural = _("received alerts")
        indexes = [models.Index(fields=["account", "-received_at"], name="alert_account_recent")]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"
