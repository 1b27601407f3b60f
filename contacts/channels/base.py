"""What one notification channel of a contact is (rules §4, §5, §8): the parts every channel
module of this package fills in, once. docs/architecture.md ("Channels") says how they are read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from contacts.validators import check_robot_url, mask_robot_url, robot_token
from core.fields import EncryptedTextField

ADDRESS = "address"
SECRET = "secret"
KEYWORD = "keyword"
# The parts of a delivery target (arms_sync.notify.base.Target) a field can fill.
TARGET_PARTS = (ADDRESS, SECRET, KEYWORD)


def text_input(label, *, max_length: int = 512, help_text="", placeholder="") -> forms.CharField:
    """The console's text input: optional, stripped, no browser autocomplete."""
    return forms.CharField(
        label=label,
        required=False,
        max_length=max_length,
        help_text=help_text,
        strip=True,
        widget=forms.TextInput(
            attrs={"class": "form-control", "autocomplete": "off", "placeholder": placeholder}
        ),
    )


@dataclass(frozen=True)
class ChannelField:
    """One stored value of a channel: the address (mailbox, webhook URL) or a companion that
    means nothing without it (DingTalk's signing secret and keyword)."""

    # The Contact field (contacts/models.py adds `model_field` to Contact under this name).
    name: str
    model_field: models.Field
    # New Contact's input; Edit Contact's is a copy (contacts/forms.py).
    form_field: forms.Field
    # A value typed (stripped, not blank) -> the value stored; raises ValidationError.
    validate: Callable[[str], str]
    # Which part of a delivery target it is (ADDRESS, SECRET or KEYWORD).
    part: str = ADDRESS
    # The linked ARMS contact's field it is copied to (arms_sync/linking.py); None: not copied.
    arms_field: str | None = None
    # The keyword of arms_sync.notify.outbox.Recipient that carries it.
    recipient_key: str = ""
    # A secret (rules §8): how it is shown masked (audit log, Edit Contact). None: not a secret,
    # shown as it is and filled in on Edit Contact.
    mask: Callable[[str], str] | None = None
    # A secret's Edit Contact help once one is saved ("… (%(mask)s) …") and its Remove tick.
    saved_help: str = ""
    clear_label: str = ""
    # An address with a stored mask column (e.g. `dingtalk_masked`) that lists read without
    # decrypting anything; "" for none.
    masked_column: str = ""
    # A companion typed without the address: (message, code).
    without_address: tuple[str, str] | None = None

    @property
    def is_secret(self) -> bool:
        return self.mask is not None

    def clean(self, value: str | None) -> str:
        """The stored value of what was typed: blank stays blank, anything else is validated."""
        value = (value or "").strip()
        return self.validate(value) if value else ""


@dataclass(frozen=True)
class Channel:
    """A way a contact is notified: its fields (the address first), its name in deliveries and
    the transport that sends (a dotted path: arms_sync sits above contacts and imports it)."""

    name: str  # arms_sync.notify.models.Delivery.Channel value, transport key
    fields: tuple[ChannelField, ...]
    transport: str  # dotted path of the transport class (arms_sync/notify/transports.py)
    # The Contact Management table's column: its header (the cell shows `list_value`).
    column_label: str = ""
    # A companion whose presence the table marks with a key badge, and the badge's title.
    badge_field: str = ""
    badge_label: str = ""
    robot: RobotUrl | None = None  # the webhook URL's shape, for robots

    @property
    def address(self) -> ChannelField:
        return self.fields[0]

    @property
    def companions(self) -> tuple[ChannelField, ...]:
        return self.fields[1:]

    def target_parts(self, values: dict[str, str]) -> dict[str, str] | None:
        """The delivery target's parts from a Recipient's values; None without an address."""
        if not values.get(self.address.recipient_key):
            return None
        return {f.part: values.get(f.recipient_key, "") for f in self.fields}

    def identity(self, address: str) -> str:
        """What makes two targets the same (the outbox groups and rate-limits by it)."""
        if self.robot is None:
            return address.strip().lower()
        parts = urlsplit(address)
        ident = f"{(parts.hostname or '').lower()}:{parts.port or ''}{parts.path}?"
        return ident + self.robot.token(address)

    def target_key(self, address: str) -> str:
        """The identity hashed, so the column carries no secret."""
        return hashlib.sha256(f"{self.name}\n{self.identity(address)}".encode()).hexdigest()

    def mask_address(self, address: str) -> str:
        mask = self.address.mask
        return mask(address) if mask else address

    def list_value(self, contact) -> str:
        """The address as lists show it: the stored mask column, or the address itself."""
        return getattr(contact, self.address.masked_column or self.address.name)


@dataclass(frozen=True)
class RobotUrl:
    """A robot webhook URL's shape: the path and the one token parameter it must carry
    (contacts.validators.check_robot_url checks it with the host allow-list,
    settings.ROBOT_WEBHOOK_HOSTS[kind])."""

    kind: str
    name: str  # "DingTalk Robot" (gettext_noop)
    path: str
    token_param: str
    invalid: str  # the sentence for a URL that is no URL at all (gettext_noop)

    def token(self, url: str) -> str:
        return robot_token(self.kind, url)


ROBOT_SAVED_HELP = _lazy("A robot is saved (%(mask)s). Leave blank to keep it, or enter a new URL.")


def robot_channel(
    *,
    robot: RobotUrl,
    transport: str,
    label: str,
    form_label: str,
    help_text: str,
    clear_label: str,
    arms_field: str | None,
    recipient_key: str,
    companions: tuple[ChannelField, ...] = (),
    **more,
) -> Channel:
    """A robot channel: its webhook URL `<kind>_webhook` (its token a secret: encrypted at rest,
    shown masked, rules §8) with the stored mask column `<kind>_masked`, checked by
    check_robot_url (https, the host allow-list, the robot's path and token)."""
    kind = robot.kind
    webhook = ChannelField(
        name=f"{kind}_webhook",
        model_field=EncryptedTextField(label, blank=True),
        form_field=text_input(form_label, help_text=help_text),
        validate=lambda url: check_robot_url(kind, url),
        arms_field=arms_field,
        recipient_key=recipient_key,
        mask=lambda url: mask_robot_url(kind, url),
        saved_help=ROBOT_SAVED_HELP,
        clear_label=clear_label,
        masked_column=f"{kind}_masked",
    )
    return Channel(
        name=kind,
        transport=transport,
        column_label=label,
        robot=robot,
        fields=(webhook, *companions),
        **more,
    )


def without_address_error(companion: ChannelField) -> ValidationError:
    message, code = companion.without_address
    return ValidationError(_(message), code=code)
