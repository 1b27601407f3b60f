"""SAE contacts (rules §4): who SAE notifies, by phone, mailbox and robots.

This app knows nothing of ARMS: arms_sync listens to this model's signals (docs/architecture.md).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField

from contacts import channels
from core.relations import optional_key
from ram_directory.models import AccountScoped, RamUser, account_key, unique_in_account


def _with_channel_fields(model: type[models.Model]) -> type[models.Model]:
    """Give Contact each channel's fields (contacts/channels), after `phone`, and for an address
    with a stored mask its mask column: the robots as lists show them, token masked
    (`…access_token=3f2a…9c1d`), filled from the URLs on every save, so the Contact Management
    page reads them without decrypting a hundred URLs (issue 11). Never a secret: what the mask
    leaves is safe to show."""
    for field in channels.all_fields():
        model.add_to_class(field.name, field.model_field)
    for field in channels.all_fields():
        if field.masked_column:
            verbose_name = field.model_field.verbose_name
            mask = models.CharField(verbose_name, max_length=600, blank=True, editable=False)
            model.add_to_class(field.masked_column, mask)
    return model


@_with_channel_fields
class Contact(AccountScoped):
    account = account_key("contacts")
    # The username: one RAM user of the account, or (when empty) the account itself.
    ram_user = optional_key(
        RamUser, models.CASCADE, related_name="contacts", verbose_name=_("RAM user")
    )
    phone = PhoneNumberField(_("Phone Number"), region="CN")
    # Then each channel's fields (mailbox, the robots and their companions): _with_channel_fields.
    # Who created it: a RAM user, or (when empty) the account owner.
    created_by = optional_key(
        RamUser, models.SET_NULL, related_name="+", verbose_name=_("created by")
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
        masked = self.fill_masks()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and set(update_fields) & set(masked):
            kwargs["update_fields"] = {
                *update_fields,
                *(masked[name] for name in update_fields if name in masked),
            }
        super().save(*args, **kwargs)

    save.alters_data = True

    def fill_masks(self) -> dict[str, str]:
        """Set the masked robots from the URLs (save does; so must a bulk write of URLs).
        Returns {address field: its mask column}."""
        masked = {}
        for channel in channels.all_channels():
            address = channel.address
            if address.masked_column:
                setattr(self, address.masked_column, address.mask(getattr(self, address.name)))
                masked[address.name] = address.masked_column
        return masked

    @property
    def is_account_itself(self) -> bool:
        return self.ram_user_id is None

    @property
    def username(self) -> str:
        """The seed's "Username": the RAM user's name or the account's login name."""
        return self.ram_user.user_name if self.ram_user_id else self.account.login_name
