"""Input parsing for the ARMS pages and the ARMS console (admin). Forms validate; they never
save: the views and the admin call arms_sync.services."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from arms_sync import selectors
from arms_sync.models import ArmsContact, ContactGroup, NotificationPolicy
from arms_sync.services import CONFIRM_BREAK_LABEL


class ArmsContactQueryForm(forms.Form):
    """The query bar of the ARMS contacts page: a field drop-down and a text box."""

    field = forms.ChoiceField(
        label=_("Query by"),
        choices=list(selectors.QUERY_FIELDS.items()),
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
    """The SPEC 7 confirmation, on the admin change form of every ARMS model."""

    confirm_break = forms.BooleanField(
        label=CONFIRM_BREAK_LABEL,
        required=False,
        help_text=_(
            "Needed to rename an object SAE manages (an sae: group or policy, or an ARMS "
            "contact linked to an SAE contact)."
        ),
    )


class ArmsContactAdminForm(ConfirmBreakMixin):
    class Meta:
        model = ArmsContact
        fields = [
            "account",
            "contact_id",
            "name",
            "phone",
            "email",
            "ding_robot_url",
            "ding_robot_secret",
            "wecom_robot_url",
        ]


class ContactGroupAdminForm(ConfirmBreakMixin):
    class Meta:
        model = ContactGroup
        fields = ["account", "name", "description", "members"]


class NotificationPolicyAdminForm(ConfirmBreakMixin):
    class Meta:
        model = NotificationPolicy
        fields = ["account", "name", "match_labels", "groups", "enabled"]
