"""The New Contact panel and the Edit Contact dialog (rules §4): parsing and field rules only.
The views hand the cleaned values to contacts.services, which saves (and re-checks)."""

from __future__ import annotations

import copy

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from contacts import channels
from contacts.channels.base import ChannelField, text_input, without_address_error
from contacts.models import Contact
from contacts.selectors import (
    TakenUsernames,
    UsernameChoices,
    taken_usernames,
    username_choices,
)
from contacts.services import PHONE_TAKEN, USERNAME_TAKEN
from contacts.validators import normalize_mainland_mobile
from ram_directory.principal import Principal

KIND_ACCOUNT = "account"
KIND_RAM_USER = "ram_user"
KIND_LABELS = {
    KIND_ACCOUNT: _("Alibaba Cloud account: enter manually"),
    KIND_RAM_USER: _("RAM user: select from the drop-down list"),
}
ACCOUNT_NAME_MISMATCH = gettext_noop(
    "Enter this Alibaba Cloud account's login name or account ID (the account you are signed "
    "in to)."
)
RAM_USER_REQUIRED = gettext_noop("Select a RAM user from the drop-down list.")
RAM_USER_NOT_ALLOWED = gettext_noop(
    "Select a RAM user from the drop-down list; you cannot add that user."
)

HAS_CONTACT_SUFFIX = _("(already has a contact)")

USERNAME_HELP = _("Supports creating up to %(limit)s contacts.")
# Not the seed's error sentence again (a refused number shows that one right under it): what
# the field takes.
PHONE_HELP = _(
    "Each phone number can only be used for one contact. A mobile number of the Chinese "
    "mainland; +86, spaces and hyphens may be typed."
)


class RamUserSelect(forms.Select):
    """The RAM user drop-down: users who already have a contact are shown, marked, and cannot
    be chosen (a disabled option); `taken` is set by the form."""

    taken: TakenUsernames | None = None

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        pk = getattr(value, "value", value)
        if self.taken is not None and pk not in (None, "") and self.taken.has_contact(int(pk)):
            option["label"] = f"{label} {HAS_CONTACT_SUFFIX}"
            option["attrs"]["disabled"] = True
        return option


def _text(label, *, required=False, max_length=512, help_text="", placeholder=""):
    field = text_input(label, max_length=max_length, help_text=help_text, placeholder=placeholder)
    field.required = required
    return field


def clear_name(field: ChannelField) -> str:
    """The Remove tick of a saved secret (Edit Contact)."""
    return f"clear_{field.name}"


class ChannelsMixin:
    """Phone Number and every channel's inputs (contacts/channels): the same rules in both
    forms."""

    def add_channel_fields(self) -> None:
        """Each channel's inputs, after Phone Number, each cleaned by its channel's rule."""
        for field in channels.all_fields():
            self.fields[field.name] = copy.deepcopy(field.form_field)

    def _clean_fields(self):
        super()._clean_fields()
        for field in channels.all_fields():
            if field.name in self.cleaned_data:
                try:
                    self.cleaned_data[field.name] = field.clean(self.cleaned_data[field.name])
                except ValidationError as exc:
                    self.add_error(field.name, exc)

    def channel_inputs(self) -> list:
        """The bound inputs of the channels, in order, each saved secret's Remove tick after
        it (contacts/contact_form.html; only Edit Contact has ticks)."""
        found = []
        for field in channels.all_fields():
            found.append(self[field.name])
            if clear_name(field) in self.fields:
                found.append(self[clear_name(field)])
        return found

    def clean_phone(self):
        return normalize_mainland_mobile(self.cleaned_data["phone"])

    def check_secret_has_robot(self, cleaned: dict) -> None:
        """A companion (a signing secret, a keyword) needs its channel's address (unless that
        field is already in error)."""
        for channel in channels.all_channels():
            address = channel.address.name
            if cleaned.get(address) or address in self.errors:
                continue
            for companion in channel.companions:
                if companion.without_address and cleaned.get(companion.name):
                    self.add_error(companion.name, without_address_error(companion))

    def add_service_errors(self, exc: ValidationError) -> None:
        """Show a service's refusal next to the field it names (non-field otherwise)."""
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc)
            return
        for field, errors in exc.error_dict.items():
            target = self.service_field(field)
            self.add_error(target, errors)

    def service_field(self, field: str) -> str | None:
        return field if field in self.fields and field != NON_FIELD_ERRORS else None


class NewContactForm(ChannelsMixin, forms.Form):
    username_kind = forms.ChoiceField(
        label=_("Username (Alibaba Cloud Login Account)"), widget=forms.RadioSelect
    )
    username = _text(_("Alibaba Cloud account"), max_length=128, placeholder=_("Enter manually"))
    ram_user = forms.ModelChoiceField(
        label=_("RAM user"),
        queryset=None,
        required=False,
        empty_label=_("Select from the drop-down list"),
        widget=RamUserSelect(attrs={"class": "form-select"}),
    )
    phone = _text(
        _("Phone Number"),
        required=True,
        max_length=64,
        help_text=PHONE_HELP,
        placeholder="1381111****",
    )

    def __init__(self, *args, principal: Principal, limit: int = 100, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_channel_fields()
        self.principal = principal
        self.choices: UsernameChoices = username_choices(principal)
        self.taken = taken_usernames(principal.account)
        kinds = [KIND_ACCOUNT, KIND_RAM_USER] if self.choices.account_itself else [KIND_RAM_USER]
        kind_field = self.fields["username_kind"]
        kind_field.choices = [(k, KIND_LABELS[k]) for k in kinds]
        kind_field.help_text = USERNAME_HELP % {"limit": limit}
        kind_field.widget.attrs["data-username-kind"] = ""
        self.fields["ram_user"].queryset = self.choices.ram_users
        self.fields["ram_user"].widget.taken = self.taken
        self.fields["ram_user"].error_messages["invalid_choice"] = _(RAM_USER_NOT_ALLOWED)
        if not self.choices.account_itself:
            del self.fields["username"]
        if self.choices.only_itself:
            self.fields["ram_user"].empty_label = None
            self.initial.setdefault("ram_user", principal.ram_user.pk)
        self.initial.setdefault("username_kind", KIND_RAM_USER)

    def _clean_fields(self):
        super()._clean_fields()
        # The radio decides which input counts: the other one is ignored, whatever it holds (the
        # page disables and clears it; a script-less or forged post may still send it). Its
        # value is not validated, yet it is shown back as typed, so nothing typed is lost.
        inactive = "ram_user" if self.data.get("username_kind") == KIND_ACCOUNT else "username"
        if inactive in self.fields:
            self._errors.pop(inactive, None)
            self.cleaned_data.pop(inactive, None)

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("username_kind")
        if kind == KIND_ACCOUNT:
            typed = (cleaned.get("username") or "").strip()
            account = self.principal.account
            if not typed:
                self.add_error("username", _("Enter the Alibaba Cloud account's login name."))
            elif typed.casefold() not in {account.login_name.casefold(), account.account_id}:
                self.add_error("username", _(ACCOUNT_NAME_MISMATCH))
            elif self.taken.account_itself:
                self.add_error("username", _(USERNAME_TAKEN).format(username=account.login_name))
            else:
                cleaned["target"] = None
        elif kind == KIND_RAM_USER:
            ram_user = cleaned.get("ram_user")
            if ram_user is None:
                if "ram_user" not in self.errors:
                    self.add_error("ram_user", _(RAM_USER_REQUIRED))
            elif self.taken.has_contact(ram_user.pk):
                self.add_error("ram_user", _(USERNAME_TAKEN).format(username=ram_user.user_name))
            else:
                cleaned["target"] = ram_user
        # In the same pass as the username, so that every error shows at once (the service
        # checks both again under the account's lock).
        phone = cleaned.get("phone")
        if phone is not None and self.taken.phone_has_contact(phone):
            self.add_error("phone", _(PHONE_TAKEN))
        self.check_secret_has_robot(cleaned)
        return cleaned

    @property
    def own_contact_exists(self) -> bool:
        """A RAM user limited to itself that already has its contact: nothing left to add."""
        return self.choices.only_itself and self.taken.has_contact(self.principal.ram_user.pk)

    def service_field(self, field: str) -> str | None:
        if field == "username":
            kind = self.cleaned_data.get("username_kind")
            return "username" if kind == KIND_ACCOUNT and "username" in self.fields else "ram_user"
        return super().service_field(field)

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        values = {name: data[name] for name in channels.field_names()}
        return {"ram_user": data["target"], "phone": data["phone"], **values}

    def username_group_fields(self):
        return [
            self[name] for name in ("username_kind", "username", "ram_user") if name in self.fields
        ]


class EditContactForm(ChannelsMixin, forms.Form):
    """A saved secret (a robot URL carries its token, rules §8) never goes back to the browser:
    its input shows it masked, a blank input keeps it and the Remove tick after it removes it.
    Other channel values are shown filled in."""

    phone = _text(_("Phone Number"), required=True, max_length=64, help_text=PHONE_HELP)

    def __init__(self, *args, contact: Contact, **kwargs):
        initial = {"phone": contact.phone.as_e164 if contact.phone else ""}
        for field in channels.all_fields():
            if not field.is_secret:
                initial[field.name] = getattr(contact, field.name)
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        self.contact = contact
        self.add_channel_fields()
        for field in channels.all_fields():
            saved = getattr(contact, field.name)
            if field.is_secret and saved:
                masked = field.mask(saved)
                self.fields[field.name].widget.attrs["placeholder"] = masked
                self.fields[field.name].help_text = field.saved_help % {"mask": masked}
                self.fields[clear_name(field)] = forms.BooleanField(
                    label=field.clear_label,
                    required=False,
                    widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
                )

    def _kept(self, field: ChannelField) -> bool:
        """A saved secret left blank and not ticked for removal."""
        cleaned = self.cleaned_data
        return (
            field.is_secret
            and bool(getattr(self.contact, field.name))
            and not cleaned.get(field.name)
            and not cleaned.get(clear_name(field))
            and field.name not in self.errors
        )

    def clean(self):
        cleaned = super().clean()
        for channel in channels.all_channels():
            address = channel.address
            if self._kept(address):
                cleaned[address.name] = getattr(self.contact, address.name)
            if cleaned.get(clear_name(address)):
                # What is shown filled in goes with the removed address.
                for companion in channel.companions:
                    if not companion.is_secret:
                        cleaned[companion.name] = ""
        self.check_secret_has_robot(cleaned)
        return cleaned

    def service_kwargs(self) -> dict:
        """The values for update_contact: a kept companion secret is None (KEEP_SECRET: the
        service keeps the stored one, read under its lock)."""
        data = self.cleaned_data
        values = {
            f.name: None if self._kept(f) else data.get(f.name, "") for f in channels.all_fields()
        }
        return {"phone": data["phone"], **values}

    def typed_values(self) -> dict[str, str]:
        """What the dialog would save, every channel field: a kept secret is the saved one."""
        data = self.cleaned_data
        return {
            f.name: getattr(self.contact, f.name) if self._kept(f) else data.get(f.name, "")
            for f in channels.all_fields()
        }
