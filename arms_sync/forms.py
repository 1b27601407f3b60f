"""Input parsing for the ARMS pages and the ARMS console (admin). Forms validate; they never
save: the views and the admin call arms_sync.services."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from arms_sync import selectors, services
from arms_sync.models import ArmsContact, ContactGroup, NotificationPolicy
from arms_sync.services import CONFIRM_BREAK_LABEL
from contacts import channels
from contacts.validators import validate_dingtalk_keyword


class ArmsContactQueryForm(forms.Form):
    """The query bar of the ARMS contacts page: a field drop-down and a text box."""

    field = forms.ChoiceField(
        label=_("Query by"),
        choices=[(key, _(label)) for key, label in selectors.QUERY_FIELDS.items()],
        required=False,
    )
    q = forms.CharField(label=_("Query"), max_length=128, required=False)

    def query(self) -> tuple[str, str]:
        if not self.is_bound or not self.is_valid():
            return selectors.DEFAULT_QUERY_FIELD, ""
        return (
            self.cleaned_data["field"] or selectors.DEFAULT_QUERY_FIELD,
            self.cleaned_data["q"],
        )


class ConfirmBreakMixin(forms.ModelForm):
    """The rules §7 confirmation, on the admin change form of every ARMS model."""

    confirm_break = forms.BooleanField(
        label=_(CONFIRM_BREAK_LABEL),
        required=False,
        help_text=_(
            "Needed to rename an object SAE manages (an sae: group or policy, or an ARMS "
            "contact linked to an SAE contact)."
        ),
    )

    def _account_id(self):
        account = self.cleaned_data.get("account")
        return account.pk if account is not None else self.instance.account_id

    def clean(self):
        cleaned = super().clean()
        # In clean() the instance still holds the stored values: the original to compare with.
        original = self.instance if self.instance.pk else None
        if "name" in cleaned:
            try:
                services.check_name_change(
                    original,
                    model=self._meta.model,
                    name=cleaned["name"],
                    confirm_break=cleaned.get("confirm_break", False),
                )
            except ValidationError as exc:
                self.add_error(None, exc)
        return cleaned

    def _check_same_account(self, field: str, what: str) -> None:
        account_id = self._account_id()
        chosen = self.cleaned_data.get(field) or []
        if account_id and any(item.account_id != account_id for item in chosen):
            self.add_error(field, gettext(services.OTHER_ACCOUNT).format(what=gettext(what)))


# A robot URL carries its token and the signing secret is a secret: the change form never
# sends them back (a mask says one is saved), a blank field keeps the stored value and the
# "Remove" tick next to it clears it.
# The masks are the SAE contact's channels' (contacts/channels), whose secrets these hold.
SECRET_FIELD_MASKS = {
    f.arms_field: f.mask for f in channels.all_fields() if f.arms_field and f.is_secret
}


def clear_field_name(name: str) -> str:
    return f"clear_{name}"


class ArmsContactAdminForm(ConfirmBreakMixin):
    clear_ding_robot_url = forms.BooleanField(label=_("Remove the DingTalk robot"), required=False)
    clear_ding_robot_secret = forms.BooleanField(
        label=_("Remove the signing secret"), required=False
    )
    clear_wecom_robot_url = forms.BooleanField(label=_("Remove the WeCom robot"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, mask in SECRET_FIELD_MASKS.items():
            stored = getattr(self.instance, name)
            if stored and name in self.fields:
                self.initial[name] = ""
                field = self.fields[name]
                field.widget.attrs["placeholder"] = mask(stored)
                field.help_text = gettext(
                    "Saved (%(mask)s). Leave blank to keep it, or enter a new one."
                ) % {"mask": mask(stored)}

    def _keep_stored_secrets(self, cleaned: dict) -> None:
        for name in SECRET_FIELD_MASKS:
            if name not in cleaned or cleaned[name]:
                continue
            if not cleaned.get(clear_field_name(name)):
                # Before _post_clean, the instance still holds the stored value.
                cleaned[name] = getattr(self.instance, name)

    class Meta:
        model = ArmsContact
        fields = ["account", "contact_id", *ArmsContact.CHANNEL_FIELDS]

    def clean_ding_robot_keyword(self):
        # The same rule as the SAE contact's Dingtalk keyword (20 characters, no controls).
        return validate_dingtalk_keyword(self.cleaned_data.get("ding_robot_keyword", ""))

    def clean(self):
        cleaned = super().clean()
        self._keep_stored_secrets(cleaned)
        # The account is read-only once saved, so Django's constraint check skips these.
        others = ArmsContact.objects.filter(account_id=self._account_id())
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        if cleaned.get("phone") and others.filter(phone=cleaned["phone"]).exists():
            self.add_error("phone", _(services.PHONE_TAKEN))
        if cleaned.get("email") and others.filter(email__iexact=cleaned["email"]).exists():
            self.add_error("email", _(services.EMAIL_TAKEN))
        return cleaned


class ContactGroupAdminForm(ConfirmBreakMixin):
    class Meta:
        model = ContactGroup
        fields = ["account", "name", "description", "members"]

    def clean(self):
        cleaned = super().clean()
        self._check_same_account("members", gettext_noop("Members"))
        return cleaned


MATCH_LABELS_INVALID = gettext_noop(
    'Match labels are an object of label names and values, all texts: {"source": "sae"}.'
)
MATCH_LABELS_NUL = gettext_noop("Match labels cannot contain a NUL character.")
REPEAT_INTERVAL_DEFAULT = timedelta(hours=4)
REPEAT_INTERVAL_RANGE = gettext_noop("A repeat interval is between 0 and 30 days.")


class NotificationPolicyAdminForm(ConfirmBreakMixin):
    class Meta:
        model = NotificationPolicy
        fields = ["account", "name", "match_labels", "groups", "enabled", "repeat_interval"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Left empty: the default (4 hours), or the policy's current interval.
        self.fields["repeat_interval"].required = False

    def clean_repeat_interval(self):
        interval = self.cleaned_data.get("repeat_interval")
        if interval is None:
            return self.instance.repeat_interval if self.instance.pk else REPEAT_INTERVAL_DEFAULT
        if interval < timedelta(0) or interval > timedelta(days=30):
            raise ValidationError(gettext(REPEAT_INTERVAL_RANGE), code="repeat_interval")
        return interval

    def clean_match_labels(self):
        labels = self.cleaned_data.get("match_labels")
        if labels in (None, ""):
            return {}
        texts = isinstance(labels, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in labels.items()
        )
        if not texts:
            raise ValidationError(gettext(MATCH_LABELS_INVALID), code="invalid_labels")
        if any("\x00" in k or "\x00" in v for k, v in labels.items()):
            # PostgreSQL's jsonb cannot store one.
            raise ValidationError(gettext(MATCH_LABELS_NUL), code="nul")
        return labels

    def clean(self):
        cleaned = super().clean()
        self._check_same_account("groups", gettext_noop("Groups"))
        return cleaned
