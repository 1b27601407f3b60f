"""The cloud side of the ARMS console (the Django admin, rules §7, §14): each account's cloud
connection, the ARMS push outbox and where each ARMS contact stands in the cloud, and the RAM
groups a sync brought in.

What the cloud owns is not edited here: a connection is made (and its credentials checked) by
the Cloud Connection page or `cloud_connect`, RAM groups come from RAM. The admin shows them,
disconnects (aliyun.services.disconnect), and tries failed pushes again (aliyun.push). The
AccessKey secret is never shown, not even encrypted: a fixed mask stands for it. Lists run a
fixed number of queries whatever the rows (list_select_related, counts as subqueries) and hold
rows of every account like the other ARMS lists (ram_directory.admin_lists).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from aliyun import push, services
from aliyun.models import ArmsContactSync, ArmsPush, CloudConnection
from ram_directory.admin_lists import LargeListAdmin, account_filter, count_column, count_of
from ram_directory.models import RamGroup

SECRET_MASK = "********"
RETRIED = gettext_noop("Queued again: {count}.")
DISCONNECTED = gettext_noop("Disconnected: {count}.")


class ReadOnlyAdmin(LargeListAdmin):
    """Shown, never added or edited here (the cloud, or the console's own pages, own them)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.action(description=_("Disconnect the selected accounts"), permissions=["delete"])
def disconnect_selected(modeladmin, request, queryset):
    count = sum(
        services.disconnect(account=connection.account, actor=None)
        for connection in queryset.select_related("account")
    )
    modeladmin.message_user(request, gettext(DISCONNECTED).format(count=count), messages.SUCCESS)


# Who the connection is (the secret's place taken by a fixed mask).
_IDENTITY = ("account", "access_key_id", "secret_shown", "role_arn", "cloud_account_id", "region")


@admin.register(CloudConnection)
class CloudConnectionAdmin(ReadOnlyAdmin):
    list_display = (
        *_IDENTITY,
        "ram_synced_at",
        "ram_sync_ok",
        "arms_pushed_at",
        "arms_push_ok",
        "pending_pushes",
    )
    list_select_related = ("account",)
    list_filter = (account_filter("account"), "ram_sync_ok", "arms_push_ok")
    # Every field but the secret.
    fields = (
        *_IDENTITY,
        "ram_endpoint",
        "arms_endpoint",
        "sts_endpoint",
        "protocol",
        "proxy",
        "created_at",
        "updated_at",
        "ram_synced_at",
        "ram_sync_ok",
        "ram_sync_result",
        "arms_pushed_at",
        "arms_push_ok",
        "arms_push_result",
        "reconciled_at",
        "drift",
    )
    readonly_fields = fields
    actions = [disconnect_selected]

    def get_queryset(self, request: HttpRequest) -> QuerySet[CloudConnection]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                pending_count=count_of(
                    ArmsPush, "account_id", outer="account_id", status=ArmsPush.Status.PENDING
                )
            )
        )

    @admin.display(description=_("AccessKey secret"))
    def secret_shown(self, connection: CloudConnection) -> str:
        return SECRET_MASK

    pending_pushes = count_column("pending_count", _("pending pushes"))

    def delete_model(self, request, obj: CloudConnection) -> None:
        # As the Cloud Connection page's Disconnect: pending pushes go too, and it is audited
        # (the admin names the operator as the actor).
        services.disconnect(account=obj.account, actor=None)

    def delete_queryset(self, request, queryset) -> None:
        for connection in queryset.select_related("account"):
            services.disconnect(account=connection.account, actor=None)


class RetryPermission:
    """Trying a push again is a write of the outbox: it needs the right to change it."""

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("aliyun.change_armspush")


def _requeue(name: str, description, service):
    """An admin action (`name`) handing the selected rows to a push service, saying how many
    went."""

    @admin.action(description=description, permissions=["retry"])
    def action(modeladmin, request, queryset):
        count = service(queryset)
        modeladmin.message_user(request, gettext(RETRIED).format(count=count), messages.SUCCESS)

    action.__name__ = name
    return action


retry_pushes = _requeue(
    "retry_pushes", _("Try the selected failed pushes again"), push.retry_failed
)


@admin.register(ArmsPush)
class ArmsPushAdmin(RetryPermission, ReadOnlyAdmin):
    list_display = (
        "pk",
        "account",
        "kind",
        "status",
        "attempts",
        "throttled",
        "error_code",
        "error",
        "next_attempt_at",
        "created_at",
        "done_at",
    )
    list_display_links = ("pk",)
    search_fields = ("error_code",)
    list_select_related = ("account",)
    list_filter = (account_filter("account"), "status", "kind")
    actions = [retry_pushes]

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # the outbox is the truth of what the cloud still owes


push_contacts_again = _requeue(
    "push_contacts_again", _("Push the selected failed contacts again"), push.push_again
)


@admin.register(ArmsContactSync)
class ArmsContactSyncAdmin(RetryPermission, ReadOnlyAdmin):
    list_display = ("arms_contact", "account", "remote_id", "state", "error", "updated_at")
    list_select_related = ("arms_contact__account",)
    list_filter = (account_filter("arms_contact__account"), "state")
    actions = [push_contacts_again]

    @admin.display(description=_("account"), ordering="arms_contact__account")
    def account(self, sync: ArmsContactSync):
        return sync.arms_contact.account

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(RamGroup)
class RamGroupAdmin(ReadOnlyAdmin):
    list_display = ("group_name", "account", "member_count", "policy_count")
    search_fields = ("group_name",)
    list_select_related = ("account",)
    list_filter = (account_filter("account"),)
    fields = ("account", "group_name", "members_shown", "policies_shown")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[RamGroup]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                members_n=count_of(RamGroup.members.through, "ramgroup"),
                policies_n=count_of(RamGroup.policies.through, "ramgroup"),
            )
        )

    member_count = count_column("members_n", _("members"))
    policy_count = count_column("policies_n", _("policies"))

    @admin.display(description=_("members"))
    def members_shown(self, group: RamGroup) -> str:
        return ", ".join(group.members.order_by("user_name").values_list("user_name", flat=True))

    @admin.display(description=_("policies"))
    def policies_shown(self, group: RamGroup) -> str:
        return ", ".join(group.policies.order_by("name").values_list("name", flat=True))

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # RAM's groups: removed by the next sync when RAM removes them
