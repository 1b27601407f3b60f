"""The audit log in the Django admin: read-only (an entry is never edited or removed by hand)."""

from __future__ import annotations

from django.contrib import admin

from audit.models import Entry


@admin.register(Entry)
class EntryAdmin(admin.ModelAdmin):
    list_display = ("at", "account", "actor", "action", "object_type", "object_label")
    list_select_related = ("account",)
    list_filter = ("action", "actor_kind")
    # Exact matches only: each is served by an index, whatever the size of the log.
    search_fields = ("=account__account_id", "=actor_ref")
    show_full_result_count = False
    ordering = ("-pk",)
    readonly_fields = [f.name for f in Entry._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
