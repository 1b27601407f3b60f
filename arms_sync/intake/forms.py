"""Input parsing of the Alerts page: its filters (rules §15). The same behaviour as the
Deliveries page's: a value that is not a choice is ignored (a hand-edited URL shows the
unfiltered list), the search is cut to a bounded length."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from arms_sync.intake.models import Alert
from arms_sync.intake.selectors import SEARCH_MAX


class AlertFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[("", _("All states")), *Alert.Status.choices],
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
    severity = forms.ChoiceField(
        label=_("Severity"),
        required=False,
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
    q = forms.CharField(
        label=_("Labels"),
        required=False,
        max_length=SEARCH_MAX,
        widget=forms.TextInput(
            attrs={
                "class": "form-control form-control-sm",
                "type": "search",
                "placeholder": _("e.g. instance=db-1"),
            }
        ),
    )

    def __init__(self, data, *, severities: list[str]):
        super().__init__(data)
        self.fields["severity"].choices = [("", _("All severities"))] + [(s, s) for s in severities]

    def filters(self) -> dict[str, str]:
        """The valid filters, as keyword arguments of selectors.alerts_for_list."""
        self.is_valid()
        # A NUL or an over-long search fails the field (Django's CharField): ignored.
        return {name: self.cleaned_data.get(name) or "" for name in self.fields}
