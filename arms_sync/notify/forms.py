"""Input parsing of the Deliveries page: its filters (rules §8). A value that is not one of the
choices is ignored, so a hand-edited URL shows the unfiltered list rather than an error."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from arms_sync.notify.models import Delivery, Event


def _choice(label, all_label, choices) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        required=False,
        choices=[("", all_label), *choices],
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )


class DeliveryFilterForm(forms.Form):
    status = _choice(_("Status"), _("All statuses"), Delivery.Status.choices)
    channel = _choice(_("Channel"), _("All channels"), Delivery.Channel.choices)
    kind = _choice(_("Event"), _("All events"), Event.Kind.choices)

    def filters(self) -> dict[str, str]:
        """The valid filters, as keyword arguments of selectors.deliveries_for_list."""
        self.is_valid()
        return {name: self.cleaned_data.get(name) or "" for name in self.fields}
