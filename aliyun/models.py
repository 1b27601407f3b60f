"""The connection to an Alibaba Cloud account (rules §14): its credentials, what the last syncs
said, the state of each linked ARMS contact in the cloud, and the ARMS push outbox."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from arms_sync.models import ArmsContact
from contacts.models import Contact
from core.fields import EncryptedTextField, decrypt_text, encrypt_text
from ram_directory.models import Account

DEFAULT_REGION = "cn-hangzhou"
_FERNET_PREFIX = "gAAAAA"  # every Fernet token starts so (version byte and timestamp)


class SecretTextField(EncryptedTextField):
    """An encrypted column that also stays encrypted in serializations (dumpdata): the dump
    carries the Fernet token, and loading it decrypts it back (so a dump round-trips)."""

    def value_to_string(self, obj) -> str:
        return encrypt_text(self.value_from_object(obj) or "")

    def to_python(self, value):
        if isinstance(value, str) and value.startswith(_FERNET_PREFIX):
            return decrypt_text(value)
        return super().to_python(value)


class CloudConnection(models.Model):
    """One account's way into its Alibaba Cloud account: an AccessKey pair, optionally used to
    assume a RAM role (`role_arn`). The secret is encrypted at rest and never shown again."""

    class Protocol(models.TextChoices):
        HTTPS = "https", "HTTPS"
        HTTP = "http", "HTTP"

    account = models.OneToOneField(
        Account, on_delete=models.CASCADE, related_name="cloud", verbose_name=_("account")
    )
    access_key_id = models.CharField(_("AccessKey ID"), max_length=128)
    access_key_secret = SecretTextField(_("AccessKey secret"))
    role_arn = models.CharField(_("RAM role ARN"), max_length=256, blank=True)
    region = models.CharField(_("region"), max_length=64, default=DEFAULT_REGION)
    ram_endpoint = models.CharField(_("RAM endpoint"), max_length=255, blank=True)
    arms_endpoint = models.CharField(_("ARMS endpoint"), max_length=255, blank=True)
    sts_endpoint = models.CharField(_("STS endpoint"), max_length=255, blank=True)
    # The Alibaba Cloud account (its UID, from STS GetCallerIdentity at connect time): one
    # console account per cloud account, held by a unique constraint (rules §14).
    cloud_account_id = models.CharField(
        _("Alibaba Cloud account ID"), max_length=32, blank=True, editable=False
    )
    protocol = models.CharField(
        _("protocol"), max_length=5, choices=Protocol.choices, default=Protocol.HTTPS
    )
    proxy = models.CharField(_("outbound proxy"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # The last sync of each direction: when, whether it worked, and its report or error.
    ram_synced_at = models.DateTimeField(_("last RAM sync"), null=True, blank=True)
    ram_sync_ok = models.BooleanField(_("last RAM sync worked"), null=True, blank=True)
    ram_sync_result = models.JSONField(_("last RAM sync result"), default=dict, blank=True)
    arms_pushed_at = models.DateTimeField(_("last ARMS push"), null=True, blank=True)
    arms_push_ok = models.BooleanField(_("last ARMS push worked"), null=True, blank=True)
    arms_push_result = models.JSONField(_("last ARMS push result"), default=dict, blank=True)
    reconciled_at = models.DateTimeField(_("last ARMS comparison"), null=True, blank=True)
    drift = models.JSONField(_("drift found"), default=list, blank=True)
    # Calls are paced per account across every worker (SAE_CLOUD_QPS): the earliest time the
    # next call may start; see aliyun.pacing.
    next_call_at = models.DateTimeField(null=True, blank=True, editable=False)
    # One worker at a time pushes an account's outbox, in order (aliyun.push).
    push_lease_until = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("cloud connection")
        verbose_name_plural = _("cloud connections")
        constraints = [
            models.UniqueConstraint(
                fields=["cloud_account_id"],
                condition=~Q(cloud_account_id=""),
                name="cloud_account_connected_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.account.account_id} -> {self.access_key_id}"

    @property
    def masked_secret(self) -> str:
        return "********" if self.access_key_secret else ""


class ArmsContactSync(models.Model):
    """Where an ARMS contact of the working copy stands in the real ARMS: its remote ContactId
    (once known) and the state of the last push. Contact Management reads it per row."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SYNCED = "synced", _("Synced")
        FAILED = "failed", _("Failed")

    arms_contact = models.OneToOneField(
        ArmsContact,
        on_delete=models.CASCADE,
        related_name="cloud",
        verbose_name=_("ARMS contact"),
    )
    remote_id = models.BigIntegerField(_("remote contact ID"), null=True, blank=True)
    # ARMS contacts have no WeCom field: the contact's WeCom robot is an ARMS IM robot.
    wecom_robot_id = models.BigIntegerField(null=True, blank=True, editable=False)
    state = models.CharField(
        _("ARMS state"), max_length=8, choices=State.choices, default=State.PENDING
    )
    error = models.CharField(_("ARMS error"), max_length=500, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("ARMS contact sync")
        verbose_name_plural = _("ARMS contact syncs")

    def __str__(self) -> str:
        return f"{self.arms_contact_id} -> {self.remote_id} ({self.state})"


class ArmsPush(models.Model):
    """The ARMS outbox: one row per local change, written in the change's transaction. The row,
    not the task queue, is the truth: a sweeper enqueues whatever is left pending."""

    class Kind(models.TextChoices):
        CONTACT = "contact", _("contact")
        DELETE = "delete", _("contact deletion")
        GROUPS = "groups", _("sae: groups and policy")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="arms_pushes", verbose_name=_("account")
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    # CONTACT: the local ARMS contact to make the cloud match (gone by then: nothing to do).
    arms_contact = models.ForeignKey(
        ArmsContact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # DELETE: what identifies the remote contact once the local rows are gone.
    remote_id = models.BigIntegerField(null=True, blank=True)
    robot_id = models.BigIntegerField(null=True, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    # Answers "throttled" among them: ARMS pacing us, not the change failing, so they count
    # against a larger bound than the other retryable failures.
    throttled = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    error_code = models.CharField(max_length=128, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("ARMS push")
        verbose_name_plural = _("ARMS pushes")
        indexes = [
            models.Index(
                fields=["account", "id"],
                condition=Q(status="pending"),
                name="arms_push_pending",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"
