"""The ARMS side (rules §5, §7): alert contacts, contact groups and notification policies."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from phonenumber_field.modelfields import PhoneNumberField

from contacts.models import Contact
from core.console_texts import shown_in_reader_language
from core.fields import EncryptedTextField
from core.relations import optional_key
from ram_directory.models import AccountScoped, account_key, unique_in_account

MANAGED_PREFIX = "sae:"
CONTACTS_GROUP = "sae:contacts"
APPROVERS_GROUP = "sae:approvers"
DEFAULT_POLICY = "sae:default"
# The descriptions the console gives its `sae:` groups (arms_sync.managed): stored in English,
# shown in the reader's language (ContactGroup.display_description).
MANAGED_GROUP_DESCRIPTIONS = {
    CONTACTS_GROUP: gettext_noop("Every ARMS contact linked to an SAE contact (managed by SAE)."),
    APPROVERS_GROUP: gettext_noop("Receives SAE permission-approval requests (managed by SAE)."),
}


def new_arms_contact_id() -> int:
    return 10**8 + secrets.randbelow(9 * 10**8)


class ArmsContact(AccountScoped):
    account = account_key("arms_contacts")
    contact_id = models.BigIntegerField(_("ARMS contact ID"), default=new_arms_contact_id)
    name = models.CharField(_("name"), max_length=128)
    phone = PhoneNumberField(_("phone"), blank=True)
    email = models.EmailField(_("email"), blank=True)
    # Secrets, encrypted at rest (rules §8); see contacts.models.Contact.
    ding_robot_url = EncryptedTextField(_("DingTalk robot"), blank=True)
    ding_robot_secret = EncryptedTextField(_("DingTalk signing secret"), blank=True)
    ding_robot_keyword = models.CharField(_("DingTalk keyword"), max_length=20, blank=True)
    wecom_robot_url = EncryptedTextField(_("WeCom robot"), blank=True)
    # The SAE contact this ARMS contact is linked to (rules §5: one-to-one, both sides optional).
    sae_contact = optional_key(
        Contact,
        models.SET_NULL,
        one_to_one=True,
        related_name="arms_contact",
        verbose_name=_("SAE contact"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    # Who the contact is and how to reach them: what the admin edits and what a notification
    # is made of (outbox.Recipient.from_arms_contact; routing reads members with these only).
    CHANNEL_FIELDS = (
        "name",
        "phone",
        "email",
        "ding_robot_url",
        "ding_robot_secret",
        "ding_robot_keyword",
        "wecom_robot_url",
    )

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("ARMS contact")
        verbose_name_plural = _("ARMS contacts")
        constraints = [
            unique_in_account("contact_id", name="arms_contact_id_unique_in_account"),
            unique_in_account(
                "phone",
                condition=~Q(phone=""),
                name="arms_phone_unique_in_account",
            ),
            unique_in_account(
                "email",
                condition=~Q(email=""),
                name="arms_email_unique_in_account",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_managed(self) -> bool:
        """Linked to an SAE contact: deleting or renaming it breaks SAE notifications."""
        return self.sae_contact_id is not None


class ManagedByName(AccountScoped):
    """A contact group or notification policy: named once in its account, and managed by the
    console (arms_sync.managed) when its name starts with `sae:`."""

    name = models.CharField(_("name"), max_length=128)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_managed(self) -> bool:
        return self.name.startswith(MANAGED_PREFIX)


class ContactGroup(ManagedByName):
    account = account_key("contact_groups")
    description = models.CharField(_("description"), max_length=256, blank=True)
    members = models.ManyToManyField(
        ArmsContact, related_name="groups", blank=True, verbose_name=_("members")
    )

    class Meta(ManagedByName.Meta):
        verbose_name = _("contact group")
        verbose_name_plural = _("contact groups")
        constraints = [unique_in_account("name", name="contact_group_name_unique_in_account")]

    @property
    def display_description(self) -> str:
        """A `sae:` group's own description translated; any other shown as written."""
        console_text = MANAGED_GROUP_DESCRIPTIONS.get(self.name)
        return shown_in_reader_language(self.description, console_text)


class NotificationPolicy(ManagedByName):
    """Routes events whose labels match `match_labels` to the contacts of `groups`."""

    account = account_key("notification_policies")
    # Every key must be present in the event's labels with this value; {} matches every event.
    match_labels = models.JSONField(_("match labels"), default=dict, blank=True)
    groups = models.ManyToManyField(
        ContactGroup, related_name="policies", blank=True, verbose_name=_("contact groups")
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    # A firing alert that Alertmanager posts again notifies again only after this long since
    # it last notified (rules §15); a change of state notifies at once.
    repeat_interval = models.DurationField(
        _("repeat interval"),
        default=timedelta(hours=4),
        help_text=_("A firing alert posted again notifies again only after this long."),
    )

    class Meta(ManagedByName.Meta):
        verbose_name = _("notification policy")
        verbose_name_plural = _("notification policies")
        constraints = [unique_in_account("name", name="notification_policy_name_unique_in_account")]


# The notification outbox (arms_sync.notify) and the alert intake (arms_sync.intake) keep
# their models in their own packages; they belong to this app.
from arms_sync.intake.models import Alert, IntakeToken, ReceivedAlert  # noqa: E402
from arms_sync.notify.models import (  # noqa: E402
    Delivery,
    DeliveryAttempt,
    Event,
    RobotRateLock,
    RobotRateSlot,
)

__all__ = [
    "Alert",
    "ArmsContact",
    "ContactGroup",
    "Delivery",
    "DeliveryAttempt",
    "Event",
    "IntakeToken",
    "NotificationPolicy",
    "ReceivedAlert",
    "RobotRateLock",
    "RobotRateSlot",
]
