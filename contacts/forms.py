"""The New Contact panel and the Edit Contact dialog (rules §4): parsing and field rules only.
The views hand the cleaned values to contacts.services, which saves (and re-checks)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from contacts.models import Contact
from contacts.selectors import (
    TakenUsernames,
    UsernameChoices,
    taken_usernames,
    username_choices,
)
from contacts.services import (
    KEYWORD_WITHOUT_ROBOT,
    PHONE_TAKEN,
    SECRET_WITHOUT_ROBOT,
    USERNAME_TAKEN,
)
from contacts.validators import (
    DINGTALK_KEYWORD_MAX_LENGTH,
    check_robot_url,
    mask_dingtalk_secret,
    mask_robot_url,
    normalize_mainland_mobile,
    validate_dingtalk_keyword,
    validate_dingtalk_secret,
    validate_mailbox,
)
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
ACCOUNT_NAME_REQUIRED = gettext_noop("Enter the Alibaba Cloud account's login name.")
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
MAILBOX_HELP = _(
    "Enter the email address used to receive message notifications. Enter a valid email "
    "format, such as username@example.com."
)
DINGTALK_HELP = _(
    "Enter the webhook URL of the DingTalk Robot: "
    "https://oapi.dingtalk.com/robot/send?access_token=…"
)
DINGTALK_SECRET_HELP = _(
    "Optional. If the robot uses Additional Signature security, its secret (SEC…)."
)
DINGTALK_KEYWORD_HELP = _(
    "Optional. If the robot uses Custom Keywords security, one of its keywords (from the "
    "robot's Security Settings); every message carries it. Default: 告警."
)
WECOM_HELP = _(
    "Enter the webhook URL of the WeCom Robot: "
    "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…"
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
    return forms.CharField(
        label=label,
        required=required,
        max_length=max_length,
        help_text=help_text,
        strip=True,
        widget=forms.TextInput(
            attrs={"class": "form-control", "autocomplete": "off", "placeholder": placeholder}
        ),
    )


class ChannelsMixin:
    """Phone Number, Mailbox and the robots: the same rules in both forms."""

    def clean_phone(self):
        return normalize_mainland_mobile(self.cleaned_data["phone"])

    def clean_mailbox(self):
        return validate_mailbox(self.cleaned_data.get("mailbox", ""))

    def clean_dingtalk_webhook(self):
        url = self.cleaned_data.get("dingtalk_webhook", "")
        return check_robot_url("dingtalk", url) if url else ""

    def clean_wecom_webhook(self):
        url = self.cleaned_data.get("wecom_webhook", "")
        return check_robot_url("wecom", url) if url else ""

    def clean_dingtalk_secret(self):
        secret = self.cleaned_data.get("dingtalk_secret", "")
        return validate_dingtalk_secret(secret) if secret else ""

    def clean_dingtalk_keyword(self):
        return validate_dingtalk_keyword(self.cleaned_data.get("dingtalk_keyword", ""))

    def check_secret_has_robot(self, cleaned: dict) -> None:
        """A signing secret or a keyword needs a DingTalk Robot (unless that field is already
        in error)."""
        if cleaned.get("dingtalk_webhook") or "dingtalk_webhook" in self.errors:
            return
        for field, message in (
            ("dingtalk_secret", SECRET_WITHOUT_ROBOT),
            ("dingtalk_keyword", KEYWORD_WITHOUT_ROBOT),
        ):
            if cleaned.get(field):
                self.add_error(field, _(message))

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
    mailbox = _text(
        _("Mailbox"), max_length=254, help_text=MAILBOX_HELP, placeholder="username@example.com"
    )
    dingtalk_webhook = _text(_("Dingtalk Robot"), help_text=DINGTALK_HELP)
    dingtalk_secret = _text(
        _("DingTalk signing secret"),
        max_length=128,
        help_text=DINGTALK_SECRET_HELP,
        placeholder="SEC…",
    )
    dingtalk_keyword = _text(
        _("DingTalk keyword"),
        max_length=DINGTALK_KEYWORD_MAX_LENGTH,
        help_text=DINGTALK_KEYWORD_HELP,
        placeholder="告警",
    )
    wecom_webhook = _text(_("Wecom Robot"), help_text=WECOM_HELP)

    def __init__(self, *args, principal: Principal, limit: int = 100, **kwargs):
        super().__init__(*args, **kwargs)
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
                self.add_error("username", _(ACCOUNT_NAME_REQUIRED))
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
        return {
            "ram_user": data["target"],
            "phone": data["phone"],
            "mailbox": data["mailbox"],
            "dingtalk_webhook": data["dingtalk_webhook"],
            "dingtalk_secret": data["dingtalk_secret"],
            "dingtalk_keyword": data["dingtalk_keyword"],
            "wecom_webhook": data["wecom_webhook"],
        }

    def username_group_fields(self):
        return [
            self[name] for name in ("username_kind", "username", "ram_user") if name in self.fields
        ]


class EditContactForm(ChannelsMixin, forms.Form):
    phone = _text(_("Phone Number"), required=True, max_length=64, help_text=PHONE_HELP)
    mailbox = _text(_("Mailbox"), max_length=254, help_text=MAILBOX_HELP)
    dingtalk_webhook = _text(_("Dingtalk Robot"), help_text=DINGTALK_HELP)
    dingtalk_secret = _text(
        _("DingTalk signing secret"), max_length=128, help_text=DINGTALK_SECRET_HELP
    )
    clear_dingtalk_secret = forms.BooleanField(
        label=_("Remove the signing secret"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    dingtalk_keyword = _text(
        _("DingTalk keyword"),
        max_length=DINGTALK_KEYWORD_MAX_LENGTH,
        help_text=DINGTALK_KEYWORD_HELP,
        placeholder="告警",
    )
    wecom_webhook = _text(_("Wecom Robot"), help_text=WECOM_HELP)
    clear_wecom_webhook = forms.BooleanField(
        label=_("Remove the WeCom Robot"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    clear_dingtalk_webhook = forms.BooleanField(
        label=_("Remove the DingTalk Robot (and its signing secret and keyword)"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )

    # A robot URL carries its token, a secret (rules §8): the dialog never sends a saved one
    # back. It shows the URL masked; a blank field keeps it, the Remove tick removes it.
    ROBOTS = {"dingtalk_webhook": "dingtalk", "wecom_webhook": "wecom"}

    def __init__(self, *args, contact: Contact, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "phone": contact.phone.as_e164 if contact.phone else "",
                "mailbox": contact.mailbox,
                "dingtalk_keyword": contact.dingtalk_keyword,
            },
        )
        super().__init__(*args, **kwargs)
        self.contact = contact
        for name, kind in self.ROBOTS.items():
            saved = getattr(contact, name)
            if not saved:
                del self.fields[f"clear_{name}"]
                continue
            masked = mask_robot_url(kind, saved)
            self.fields[name].widget.attrs["placeholder"] = masked
            self.fields[name].help_text = _(
                "A robot is saved (%(mask)s). Leave blank to keep it, or enter a new URL."
            ) % {"mask": masked}
        secret_field = self.fields["dingtalk_secret"]
        if contact.dingtalk_secret:
            # The stored secret is never sent back: a mask, and blank means "keep it".
            secret_field.widget.attrs["placeholder"] = mask_dingtalk_secret(contact.dingtalk_secret)
            secret_field.help_text = _(
                "A secret is saved (%(mask)s). Leave blank to keep it, or enter a new one."
            ) % {"mask": mask_dingtalk_secret(contact.dingtalk_secret)}
        else:
            del self.fields["clear_dingtalk_secret"]
            secret_field.widget.attrs["placeholder"] = "SEC…"

    def clean(self):
        cleaned = super().clean()
        for name in self.ROBOTS:
            kept = not cleaned.get(name) and not cleaned.get(f"clear_{name}")
            if kept and name not in self.errors:
                cleaned[name] = getattr(self.contact, name)
        if cleaned.get("clear_dingtalk_webhook"):
            # The keyword is shown filled in: removing the robot removes it too.
            cleaned["dingtalk_keyword"] = ""
        self.check_secret_has_robot(cleaned)
        return cleaned

    def secret_value(self) -> str | None:
        """A new secret, "" to remove it, None to keep the stored one."""
        if self.cleaned_data.get("dingtalk_secret"):
            return self.cleaned_data["dingtalk_secret"]
        if self.cleaned_data.get("clear_dingtalk_secret"):
            return ""
        return None

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "phone": data["phone"],
            "mailbox": data["mailbox"],
            "dingtalk_webhook": data["dingtalk_webhook"],
            "dingtalk_secret": self.secret_value(),
            "dingtalk_keyword": data["dingtalk_keyword"],
            "wecom_webhook": data["wecom_webhook"],
        }
