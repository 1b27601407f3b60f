"""SAE contacts (rules §4): who SAE notifies, by phone, mailbox and robots.

This app knows nothing of ARMS: arms_sync listens to this model's signals (docs/architecture.md).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField

from contacts.validators import mask_robot_url
from core.fields import EncryptedTextField
from ram_directory.models import AccountScoped, RamUser, account_key, unique_in_account


class Contact(AccountScoped):
    account = account_key("contacts")
    # The username: one RAM user of the account, or (when empty) the account itself.
    ram_user = models.ForeignKey(
        RamUser,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="contacts",
        verbose_name=_("RAM user"),
    )
    phone = PhoneNumberField(_("Phone Number"), region="CN")
    mailbox = models.EmailField(_("Mailbox"), blank=True)
    # Robot URLs carry their token and are secrets like the signing secret: encrypted at rest
    # (rules §8). The forms check their length and shape.
    dingtalk_webhook = EncryptedTextField(_("DingTalk Robot"), blank=True)
    dingtalk_secret = EncryptedTextField(_("DingTalk signing secret"), blank=True)
    # The robot's custom keyword (security setting); empty means the default, 告警.
    dingtalk_keyword = models.CharField(_("DingTalk keyword"), max_length=20, blank=True)
    wecom_webhook = EncryptedTextField(_("WeCom Robot"), blank=True)
    # The robots as lists show them, token masked (`…access_token=3f2a…9c1d`): filled from the
    # URLs on every save, so the Contact Management page reads them without decrypting a
    # hundred URLs (issue 11). Never a secret: what mask_robot_url leaves is safe to show.
    dingtalk_masked = models.CharField(
        _("DingTalk Robot"), max_length=600, blank=True, editable=False
    )
    wecom_masked = models.CharField(_("WeCom Robot"), max_length=600, blank=True, editable=False)
    # Who created it: a RAM user, or (when empty) the account owner.
    created_by = models.ForeignKey(
        RamUser,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("SAE contact")
        verbose_name_plural = _("SAE contacts")
        constraints = [
            unique_in_account("ram_user", name="one_contact_per_ram_user"),
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(ram_user__isnull=True),
                name="one_contact_for_the_account_itself",
            ),
            unique_in_account("phone", name="one_contact_per_phone"),
        ]

    def __str__(self) -> str:
        return f"{self.username} ({self.phone})"

    def save(self, *args, **kwargs) -> None:
        self.fill_masks()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and set(update_fields) & {"dingtalk_webhook", "wecom_webhook"}:
            kwargs["update_fields"] = {*update_fields, "dingtalk_masked", "wecom_masked"}
        super().save(*args, **kwargs)

    save.alters_data = True

    def fill_masks(self) -> None:
        """Set the masked robots from the URLs (save does; so must a bulk write of URLs)."""
        self.dingtalk_masked = mask_robot_url("dingtalk", self.dingtalk_webhook)
        self.wecom_masked = mask_robot_url("wecom", self.wecom_webhook)

    @property
    def is_account_itself(self) -> bool:
        return self.ram_user_id is None

    @property
    def username(self) -> str:
        """The seed's "Username": the RAM user's name or the account's login name."""
        return self.ram_user.user_name if self.ram_user_id else self.account.login_name
