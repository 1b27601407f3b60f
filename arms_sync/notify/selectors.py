"""Reads of notifications with rules: who sees deliveries, filters, one delivery's attempts.

Who sees (a decision where the rules are silent): deliveries name every contact's channels, so the
Deliveries page is open to whoever sees every contact of the account (the owner, and RAM users
allowed ram:ListUsers, rules §3). Another account's delivery is 404.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from arms_sync.notify.models import Delivery, DeliveryAttempt, Event
from ram_directory.access import get_for_account
from ram_directory.principal import Principal

NOT_ALLOWED = gettext_noop(
    "You need the RAM permission ram:ListUsers to view deliveries. Ask the Alibaba Cloud "
    "account owner to attach a policy that allows it."
)


def may_view_deliveries(principal: Principal) -> bool:
    return principal.can_list_users()


def ensure_may_view(principal: Principal) -> None:
    if not may_view_deliveries(principal):
        raise PermissionDenied(_(NOT_ALLOWED))


def deliveries_for_list(
    principal: Principal, *, status: str = "", channel: str = "", kind: str = ""
) -> QuerySet[Delivery]:
    ensure_may_view(principal)
    rows = Delivery.objects.for_account(principal.account).select_related("event")
    if status in Delivery.Status.values:
        rows = rows.filter(status=status)
    if channel in Delivery.Channel.values:
        rows = rows.filter(channel=channel)
    if kind in Event.Kind.values:
        rows = rows.filter(event__kind=kind)
    # The list never needs the encrypted target: skip decrypting it for every row.
    return rows.defer("target", "target_secret").order_by("-created_at", "-id")


def delivery_for_view(principal: Principal, pk) -> Delivery:
    ensure_may_view(principal)
    rows = (
        Delivery.objects.select_related("event", "digest")
        .defer("target", "target_secret")
        .prefetch_related(
            Prefetch("attempt_log", queryset=DeliveryAttempt.objects.order_by("number", "id"))
        )
    )
    return get_for_account(rows, principal, pk=pk)


def tally_of_test_run(principal: Principal, run: str) -> tuple[int, int]:
    """(sent, answered): the deliveries of the Test dialog's run `run` (services.send_test)
    that were sent, and that have their answer (sent or failed), in the principal's account."""
    statuses = list(
        Delivery.objects.filter(
            account=principal.account,
            event__kind=Event.Kind.TEST,
            event__payload__run=run,
            status__in=(Delivery.Status.SENT, Delivery.Status.FAILED),
        ).values_list("status", flat=True)
    )
    return statuses.count(Delivery.Status.SENT), len(statuses)
