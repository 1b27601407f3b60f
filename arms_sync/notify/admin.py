"""Deliveries in the ARMS console (the admin): read-only records of what was sent, across
accounts, for the platform operator. Targets are shown masked; the encrypted columns are
never loaded into a form."""

from __future__ import annotations

from django.contrib import admin

from arms_sync.intake.models import Alert
from arms_sync.notify.models import Delivery, DeliveryAttempt, Event


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records, not settings: written by the outbox and the workers only."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class AttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    fields = (
        "number",
        "started_at",
        "outcome",
        "hint",
        "http_status",
        "errcode",
        "errmsg",
        "duration_ms",
        "worker",
    )
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("title", "kind", "account", "created_at")
    list_filter = ("kind", "account")
    search_fields = ("title", "account__account_id", "account__login_name")
    list_select_related = ("account",)
    fields = ("account", "kind", "title", "payload", "dedup_key", "created_at")
    readonly_fields = fields


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "status",
        "channel",
        "target_masked",
        "event",
        "account",
        "attempts",
        "last_hint",
        "created_at",
        "sent_at",
    )
    list_filter = ("status", "channel", "event__kind", "account")
    search_fields = ("target_masked", "event__title", "account__account_id")
    list_select_related = ("event", "account")
    inlines = [AttemptInline]
    fields = (
        "account",
        "event",
        "channel",
        "target_masked",
        "recipients",
        "status",
        "attempts",
        "next_attempt_at",
        "claimed_by",
        "lease_until",
        "last_hint",
        "last_error",
        "sent_at",
        "digest",
        "created_at",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).defer("target", "target_secret")


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    """Alerts and their state (rules §15): written by the intake and Acknowledge only."""

    list_display = ("name", "status", "severity", "account", "last_received_at")
    list_filter = ("status", "account")
    search_fields = ("name", "fingerprint", "label_text", "account__account_id")
    list_select_related = ("account",)
    fields = (
        "account",
        "fingerprint",
        "status",
        "name",
        "severity",
        "labels",
        "annotations",
        "starts_at",
        "ends_at",
        "generator_url",
        "matched_policies",
        "first_received_at",
        "last_received_at",
        "last_notified_at",
        "notified_count",
        "acknowledged_at",
        "acknowledged_by",
    )
    readonly_fields = fields
