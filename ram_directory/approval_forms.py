"""The reasons typed on the Permission Approval dialogs (rules §9): a requester's reason and the
owner's reason for a rejection. Parsing only: ram_directory.approvals checks them again and
writes."""

from __future__ import annotations

import unicodedata

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy

from ram_directory import approvals


def _reason_field(*, label: str, help_text: str, refused: str) -> forms.CharField:
    """Required, at most 500 characters; every refusal says the service's message, so the
    field and the service never disagree. The dialogs move focus to it when they open."""
    message = gettext_lazy(refused)
    return forms.CharField(
        label=label,
        help_text=help_text,
        max_length=approvals.REASON_MAX,
        error_messages={"required": message, "max_length": message},
        widget=forms.Textarea(
            attrs={"rows": 4, "class": "form-control", "data-focus-after-swap": ""}
        ),
    )


class _ReasonForm(forms.Form):
    refused: str

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"]
        # CharField refuses NUL itself; a lone surrogate cannot be stored either (rules §13).
        if any(unicodedata.category(ch) == "Cs" for ch in reason):
            raise ValidationError(gettext_lazy(self.refused), code="reason")
        return reason


class PermissionRequestForm(_ReasonForm):
    refused = approvals.REASON_REQUIRED
    reason = _reason_field(
        label=gettext_lazy("Reason"),
        help_text=gettext_lazy(
            "Why you need the permission: the Alibaba Cloud account reads it before deciding."
        ),
        refused=refused,
    )


class RejectForm(_ReasonForm):
    refused = approvals.REJECT_REASON_REQUIRED
    reason = _reason_field(
        label=gettext_lazy("Reason for rejection"),
        help_text=gettext_lazy("The requester sees it."),
        refused=refused,
    )
