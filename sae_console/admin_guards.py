"""The admin, safe against input that cannot be stored or looked up (rules §13).

Django's admin answered 500 (found by the fuzz suite, tests/fuzz) to:

- an autocomplete field (`autocomplete_fields`) re-rendering a refused form: it looks the
  posted value up to show it as selected, and a value that is not a number (`" "`) raises
  `ValueError` in that query;
- a many-to-many field (`filter_horizontal`, a group's permissions) or the change list's
  selected rows (`_selected_action`) looked up with `IN (...)`: a number past 64 bits cannot
  even be sent to SQLite (`OverflowError`), a text is a `ValueError`;
- a JSON field (a policy document, a notification policy's match labels) holding a number of
  5,000 digits, NaN or nesting past the parser; and it stored lone surrogates, whose pages then
  answered 500;
- `?_to_field=` (empty) on a change or delete page (`FieldDoesNotExist`).

`ConsoleAdminSite` is the project's admin site (`admin.site`, through
`sae_console.admin_apps.ConsoleAdminConfig` in INSTALLED_APPS): every model admin registered
on it, Django's and other apps' included, gets `GatedAdmin` mixed in, and so do their inlines.
No admin class has to remember it.
"""

from __future__ import annotations

from functools import cache, wraps
from typing import Any

from django import forms
from django.contrib.admin import AdminSite, helpers
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.core.exceptions import ValidationError
from django.db import models

from audit.services import Actor, acting
from core import gate

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
    """For a ModelAdmin or an InlineModelAdmin (mixed in by `gated`, which also puts the gate
    on JSON fields): the guarded widgets and field above, and look-ups that cannot fail on
    what was posted."""

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

    def get_inlines(self, request, obj):
        return [gated(inline) for inline in super().get_inlines(request, obj)]

    def get_object(self, request, object_id, from_field=None):
        # `?_to_field=` (empty) is no field: the primary key, as without it.
        return super().get_object(request, object_id, from_field or None)

    def response_action(self, request, queryset, *args, **kwargs):
        selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        possible = [pk for pk in selected if could_exist(self.model._meta.pk, pk)]
        if possible != selected:
            # Rows that cannot exist are not selected (as rows deleted meanwhile are not).
            request.POST = request.POST.copy()
            request.POST.setlist(helpers.ACTION_CHECKBOX_NAME, possible)
        return super().response_action(request, queryset, *args, **kwargs)


@cache
def gated(admin_class: type) -> type:
    """`admin_class` with GatedAdmin mixed in (itself if it has it already)."""
    if issubclass(admin_class, GatedAdmin):
        return admin_class
    overrides = dict(admin_class.formfield_overrides)
    overrides[models.JSONField] = {
        **overrides.get(models.JSONField, {}),
        "form_class": gate.JSONFormField,
    }
    return type(
        admin_class.__name__,
        (GatedAdmin, admin_class),
        {
            "__module__": admin_class.__module__,
            "__qualname__": admin_class.__qualname__,
            "formfield_overrides": overrides,
        },
    )


class ConsoleAdminSite(AdminSite):
    """Django's admin site, every model admin registered on it gated."""

    def register(self, model_or_iterable, admin_class=None, **options):
        from django.contrib.admin import ModelAdmin

        return super().register(model_or_iterable, gated(admin_class or ModelAdmin), **options)

    def admin_view(self, view, cacheable=False):
        """Every admin view acts as the operator signed in: the audit log names them for
        whatever the services write meanwhile."""
        inner = super().admin_view(view, cacheable)

        @wraps(inner)
        def as_operator(request, *args, **kwargs):
            with acting(Actor.operator(request.user.get_username() or "anonymous")):
                return inner(request, *args, **kwargs)

        return as_operator
