"""The admin's form fields, safe against input that cannot be stored (SPEC 13).

Django's admin answers 500 to two kinds of posted ID that no row can have:

- an autocomplete field (`autocomplete_fields`) re-rendering a refused form looks the posted
  value up to show it as selected, and a value that is not a number (`" "`, `"x"`) raises
  `ValueError` in that query;
- a many-to-many field (`filter_horizontal`) looks its values up with `IN (...)`, and a number
  past 64 bits cannot even be sent to SQLite (`OverflowError`).

and its JSON fields (a policy document, a notification policy's match labels) took a number
of 5,000 digits, NaN or nesting past the parser for a 500, and lone surrogates for storage.

`GatedAdmin` gives every relation field of an admin (and of its inlines) the guarded
widgets and field below, so that an impossible ID is an ordinary "select a valid choice" error
and is not shown as selected, and every JSON field the gate (`sae_console.gate.JSONFormField`).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.core.exceptions import ValidationError
from django.db import models

from sae_console import gate

MAX_ID = 2**63 - 1


def could_exist(target: models.Field, value: Any) -> bool:
    """Whether `value` (as posted) could be the `target` column of some row."""
    if isinstance(value, models.Model):
        return True
    try:
        python = target.to_python(value)
    except (ValidationError, ValueError, TypeError):
        return False
    if isinstance(python, int) and not -MAX_ID - 1 <= python <= MAX_ID:
        return False
    return not (isinstance(python, str) and "\x00" in python)


def _target(field: models.Field) -> models.Field:
    remote = field.remote_field
    name = getattr(remote, "field_name", None) or remote.model._meta.pk.name
    return remote.model._meta.get_field(name)


class _GuardedAutocomplete:
    def optgroups(self, name, value, attr=None):
        target = _target(self.field)
        return super().optgroups(name, [v for v in value if could_exist(target, v)], attr)


class GuardedAutocompleteSelect(_GuardedAutocomplete, AutocompleteSelect):
    pass


class GuardedAutocompleteSelectMultiple(_GuardedAutocomplete, AutocompleteSelectMultiple):
    pass


class GuardedModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    def _check_values(self, value):
        model = self.queryset.model
        target = model._meta.get_field(self.to_field_name) if self.to_field_name else model._meta.pk
        for item in value if isinstance(value, list | tuple) else ():
            if isinstance(item, str) and not could_exist(target, item):
                raise ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": item},
                )
        return super()._check_values(value)


class GatedAdmin:
    """For a ModelAdmin or an InlineModelAdmin: the guarded widgets and fields above."""

    formfield_overrides = {models.JSONField: {"form_class": gate.JSONFormField}}

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = GuardedAutocompleteSelect(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = GuardedAutocompleteSelectMultiple(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        kwargs.setdefault("form_class", GuardedModelMultipleChoiceField)
        return super().formfield_for_manytomany(db_field, request, **kwargs)
