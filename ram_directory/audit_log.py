"""Reads of the audit log with their rules: who may read it, and an account's entries filtered
by person, object type and date range (newest first).

Who may read: the account owner, and RAM users allowed ActionTrail's real action for reading
events, `actiontrail:LookupEvents`. Every read is scoped to the principal's account, so another
account's entries are never in a query's reach.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.db.models import Max, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.models import Entry, actor_shown, object_type_label
from ram_directory.principal import Principal
from ram_directory.selectors import RamPermissionDenied

LOOKUP_EVENTS = "actiontrail:LookupEvents"
RANGE_BACKWARDS = _("The end date is before the start date.")
SELECT = {"class": "form-select form-select-sm"}
DATE = {"class": "form-control form-control-sm", "type": "date"}


def ensure_may_read(principal: Principal) -> None:
    if not principal.can(LOOKUP_EVENTS):
        raise RamPermissionDenied(LOOKUP_EVENTS, "*")


def may_read(principal: Principal) -> bool:
    return bool(principal) and principal.can(LOOKUP_EVENTS)


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def entries(
    principal: Principal,
    *,
    person: str = "",
    object_type: str = "",
    since: dt.date | dt.datetime | None = None,
    until: dt.date | None = None,
) -> QuerySet[Entry]:
    """The account's entries, newest first; `since` and `until` are days (both included) in
    the display time zone, or `since` an exact moment."""
    rows = Entry.objects.filter(account_id=principal.account.pk)
    if person:
        rows = rows.filter(actor_ref=person)
    if object_type:
        rows = rows.filter(object_type=object_type)
    if isinstance(since, dt.datetime):
        rows = rows.filter(at__gte=since)
    elif since is not None:
        rows = rows.filter(at__gte=_day_start(since))
    if until is not None:
        rows = rows.filter(at__lt=_day_start(until + dt.timedelta(days=1)))
    return rows.order_by("-at", "-id")


def people(principal: Principal) -> list[tuple[str, str]]:
    """(actor ID, the name it acted under last) of everyone in the account's log: one query."""
    rows = (
        Entry.objects.filter(account_id=principal.account.pk)
        .values("actor_ref")
        .annotate(name=Max("actor"), kind=Max("actor_kind"))
        .order_by("name")
    )
    choices = []
    for row in rows:
        shown = actor_shown(row["kind"], row["name"], row["actor_ref"])
        kind = Entry.ActorKind(row["kind"]).label
        choices.append((row["actor_ref"], f"{shown} ({kind})" if shown else str(kind)))
    return choices


def object_types(principal: Principal) -> list[tuple[str, str]]:
    types = (
        Entry.objects.filter(account_id=principal.account.pk)
        .exclude(object_type="")
        .values_list("object_type", flat=True)
        .distinct()
        .order_by("object_type")
    )
    return sorted(((t, object_type_label(t)) for t in types), key=lambda pair: pair[1])


class AuditFilterForm(forms.Form):
    """The page's query bar; choices are what the account's log holds."""

    person = forms.ChoiceField(label=_("Person"), required=False, widget=forms.Select(SELECT))
    object_type = forms.ChoiceField(
        label=_("Object type"), required=False, widget=forms.Select(SELECT)
    )
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(DATE))
    until = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(DATE))

    def __init__(self, data, *, principal: Principal):
        super().__init__(data)
        self.fields["person"].choices = [("", _("Everyone")), *people(principal)]
        self.fields["object_type"].choices = [("", _("All objects")), *object_types(principal)]

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["until"] < data["since"]:
            self.add_error("until", RANGE_BACKWARDS)
        return data

    def filters(self) -> dict:
        """The valid filters only: a bad value shows its error and filters nothing."""
        if not self.is_valid():
            return {}
        return {
            key: self.cleaned_data[key]
            for key in ("person", "object_type", "since", "until")
            if self.cleaned_data.get(key)
        }
