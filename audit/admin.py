"""The audit log in the Django admin: read-only (an entry is never edited or removed by hand).
What it shows is translated like the console's page: the person, the action, the object's kind
and the fields changed by their names; values (data) as stored, in code."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from audit.models import Entry


@admin.register(Entry)
class EntryAdmin(admin.ModelAdmin):
    list_display = ("at", "account", "person", "action", "object_kind", "object_label")
    list_select_related = ("account",)
    list_filter = ("action", "actor_kind")
    # Exact matches only: each is served by an index, whatever the size of the log.
    search_fields = ("=account__account_id", "=actor_ref")
    show_full_result_count = False
    ordering = ("-pk",)
    fields = (
        "at",
        "account",
        "person",
        "actor_kind",
        "action",
        "object_kind",
        "object_id",
        "object_label",
        "changes_shown",
        "note",
    )
    readonly_fields = fields

    @admin.display(description=_("actor"))
    def person(self, entry: Entry) -> str:
        return entry.actor_shown or entry.actor_kind_label

    @admin.display(description=_("object type"))
    def object_kind(self, entry: Entry) -> str:
        return entry.object_type_label if entry.object_type else ""

    @admin.display(description=_("changes"))
    def changes_shown(self, entry: Entry) -> str:
        return format_html_join(
            "",
            "<div>{}: <code>{}</code> → <code>{}</code></div>",
            ((label, _value(old), _value(new)) for label, old, new in entry.change_rows),
        ) or format_html("—")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _value(value) -> str:
    return "—" if value is None or value == "" else str(value)
