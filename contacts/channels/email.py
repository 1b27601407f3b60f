"""Email: the contact's Mailbox (rules §4), copied to the ARMS contact's email (rules §5), sent
by arms_sync.notify.email (rules §8). Not a secret: shown as typed."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from contacts.channels.base import Channel, ChannelField, text_input
from contacts.validators import validate_mailbox

MAILBOX_HELP = _(
    "Enter the email address used to receive message notifications. Enter a valid email "
    "format, such as username@example.com."
)

CHANNEL = Channel(
    name="email",
    transport="arms_sync.notify.email.EmailTransport",
    column_label=_("Mailbox"),
    fields=(
        ChannelField(
            name="mailbox",
            model_field=models.EmailField(_("Mailbox"), blank=True),
            form_field=text_input(
                _("Mailbox"),
                max_length=254,
                help_text=MAILBOX_HELP,
                placeholder="username@example.com",
            ),
            validate=validate_mailbox,
            arms_field="email",
            recipient_key="email",
        ),
    ),
)
