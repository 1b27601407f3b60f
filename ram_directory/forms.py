"""Forms of the RAM pages: they parse and validate input; the views call the services."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from ram_directory.models import Policy, RamUser
from ram_directory.policy import PolicyDocumentError, document_text, parse_document_text

# What the Script Editor shows for a new policy: a Version "1" skeleton to fill in.
DOCUMENT_SKELETON = json.dumps(
    {"Version": "1", "Statement": [{"Effect": "Allow", "Action": [], "Resource": "*"}]},
    indent=2,
)
# The policy detail URL is /ram/policies/<name>/, so this name would hide the Create page.
RESERVED_POLICY_NAMES = {"create"}
POLICY_NAME_RESERVED = gettext_noop("This name is reserved by the console; choose another.")
ALREADY_ATTACHED = gettext_noop("Already attached to this user: {names}.")
NOTHING_CHOSEN = gettext_noop("Check at least one policy.")


class ScriptEditorField(forms.CharField):
    """The Script Editor: JSON text in, a validated policy document out."""

    widget = forms.Textarea(
        attrs={"rows": 18, "spellcheck": "false", "class": "form-control script-editor"}
    )

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value)
        if text in self.empty_values:
            return text
        try:
            return parse_document_text(text)
        except PolicyDocumentError as exc:
            raise ValidationError(
                [ValidationError(message, code="policy_document") for message in exc.errors]
            ) from None

    def prepare_value(self, value: Any) -> Any:
        # An invalid document comes back as the text that was typed (bound data), a saved one
        # as a dict: show it pretty-printed; in a hidden field (Create Policy's step 2), on one
        # line (an input's value is no place for line breaks).
        if isinstance(value, dict):
            if self.widget.is_hidden:
                return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
            return document_text(value)
        return value


class PolicyDocumentForm(forms.Form):
    """Create Policy, step 1: the Script Editor alone (its Confirm validates the document)."""

    document = ScriptEditorField(label=_("Script Editor"), initial=DOCUMENT_SKELETON)


class PolicyCreateForm(forms.Form):
    """Create Policy, step 2 (the seed's Step 1.1.3): the Create Policy dialog's Name and
    Description. The document of step 1 comes with them in a hidden field and is parsed and
    validated again: a browser can send anything there."""

    document = ScriptEditorField(label=_("Script Editor"), widget=forms.HiddenInput)
    name = forms.CharField(
        label=_("Name"),
        max_length=128,
        validators=Policy._meta.get_field("name").validators,
        help_text=_("1-128 letters, digits and hyphens; unique in the account."),
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=1024,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if name in RESERVED_POLICY_NAMES:
            raise ValidationError(_(POLICY_NAME_RESERVED), code="reserved")
        return name


class PolicyEditForm(forms.Form):
    """Edit a custom policy: a new document (and description) in the Script Editor."""

    document = ScriptEditorField(label=_("Script Editor"))
    description = forms.CharField(
        label=_("Description"),
        max_length=1024,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
    )


class AddAuthorizationForm(forms.Form):
    """Add Authorization: the permission type filter and the policies checked."""

    type = forms.ChoiceField(
        label=_("Permission type"),
        choices=[
            (Policy.PolicyType.SYSTEM, _("System Policy")),
            (Policy.PolicyType.CUSTOM, _("Custom Policy")),
        ],
        initial=Policy.PolicyType.SYSTEM,
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    policies = forms.ModelMultipleChoiceField(
        label=_("Policy"),
        queryset=Policy.objects.none(),
        to_field_name="name",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _(NOTHING_CHOSEN)},
    )

    def __init__(self, *args: Any, ram_user: RamUser, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.ram_user = ram_user
        # Only this account's policies are choices: a name from another account is invalid.
        self.fields["policies"].queryset = Policy.objects.for_account(ram_user.account)

    def clean_policies(self) -> list[Policy]:
        policies = list(self.cleaned_data["policies"])
        held = set(
            self.ram_user.attachments.filter(policy__in=policies).values_list(
                "policy__name", flat=True
            )
        )
        if held:
            raise ValidationError(
                _(ALREADY_ATTACHED).format(names=", ".join(sorted(held))), code="attached"
            )
        return policies

    def chosen_type(self) -> str:
        """The type the choices are filtered by (bound or not)."""
        value = self.data.get("type") if self.is_bound else self.initial.get("type")
        valid = {choice for choice, _label in self.fields["type"].choices}
        return value if value in valid else self.fields["type"].initial
