"""SAE contacts in the Django admin (the platform operator's view, rules §10).

Read-only: a Contact is written only by contacts.services, whose rules (rules §3, §4) and whose
ARMS propagation (rules §5, through the arms_sync receivers) an admin form would bypass. Deleting
is allowed and goes through `delete_contact`, one contact at a time, acting as the owner of the
contact's account, so the linked ARMS contact goes too.
"""

from __future__ import annotations

from django.contrib import admin
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from contacts import channels, services
from contacts.channels.base import ChannelField
from contacts.models import Contact
from ram_directory.admin_lists import LargeListAdmin, account_filter
from ram_directory.principal import Principal


@admin.register(Contact)
class ContactAdmin(LargeListAdmin):
    list_display = ("username_shown", "account", "phone", "mailbox", "robots", "created_at")
    list_select_related = ("account", "ram_user", "created_by")
    search_fields = (
        "ram_user__user_name",
        "account__login_name",
        "account__account_id",
        "phone",
        "mailbox",
    )
    # Accounts are typed, not listed (a million contacts of 10,000 accounts: see admin_lists).
    list_filter = (account_filter("account"),)
    # A secret is never shown, only masked (each channel's field: _channel_field_shown).
    fields = (
        "account",
        "ram_user",
        "phone",
        *(f"{name}_shown" for name in channels.field_names()),
        "created_by",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Contact | None = None) -> bool:
        return False

    @admin.display(description=_("Username"), ordering="ram_user__user_name")
    def username_shown(self, contact: Contact) -> str:
        return contact.username

    @admin.display(description=_("Robots"))
    def robots(self, contact: Contact) -> str:
        kinds = [
            gettext(channel.column_label)
            for channel in channels.all_channels()
            if channel.robot is not None and channel.list_value(contact)
        ]
        return ", ".join(kinds) or "—"

    def delete_model(self, request: HttpRequest, obj: Contact) -> None:
        services.delete_contact(principal=Principal(obj.account), contact=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Contact]) -> None:
        # One service call per contact (never QuerySet.delete(), which would still send
        # pre_delete, but skip the service's rules); all or nothing.
        with transaction.atomic():
            for contact in queryset.select_related("account"):
                services.delete_contact(principal=Principal(contact.account), contact=contact)


def _channel_field_shown(field: ChannelField):
    """A channel field as the operator sees it: a robot by its stored mask (nothing to
    decrypt), another secret masked, the rest as it is."""

    @admin.display(description=field.model_field.verbose_name)
    def shown(model_admin, contact: Contact) -> str:
        if field.masked_column:
            return getattr(contact, field.masked_column) or "—"
        value = getattr(contact, field.name)
        return (field.mask(value) if field.is_secret else value) or "—"

    return shown


for _field in channels.all_fields():
    setattr(ContactAdmin, f"{_field.name}_shown", _channel_field_shown(_field))
