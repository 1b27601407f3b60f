"""Reads of alerts with rules (rules §15): who sees them (whoever sees deliveries: the owner and
RAM users allowed ram:ListUsers), the Alerts page's filters and order, one alert's timeline.
Another account's alert is 404, exactly like a missing one."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import QuerySet

from arms_sync.intake.models import Alert, ReceivedAlert
from arms_sync.notify.models import Delivery
from arms_sync.notify.selectors import ensure_may_view
from ram_directory.access import get_for_account
from ram_directory.principal import Principal

SEARCH_MAX = 200


def alerts_for_list(
    principal: Principal, *, status: str = "", severity: str = "", q: str = ""
) -> QuerySet[Alert]:
    """Firing first, then resolved; newest first within each."""
    ensure_may_view(principal)
    rows = Alert.objects.for_account(principal.account).exclude(status="")
    if status in Alert.Status.values:
        rows = rows.filter(status=status)
    if severity:
        rows = rows.filter(severity=severity)
    for word in q.lower().split()[:5]:
        rows = rows.filter(label_text__contains=word)
    return rows.defer("annotations").order_by("status_rank", "-last_received_at", "-id")


def severities(principal: Principal) -> list[str]:
    """The severities the account's alerts carry (the filter's choices; one query)."""
    return sorted(
        Alert.objects.for_account(principal.account)
        .exclude(severity="")
        .values_list("severity", flat=True)
        .distinct()
    )


def alert_for_view(principal: Principal, pk) -> Alert:
    ensure_may_view(principal)
    return get_for_account(Alert.objects.exclude(status=""), principal, pk=pk)


def timeline(alert: Alert) -> list[tuple[ReceivedAlert, list[Delivery]]]:
    """Every post that touched the alert, newest first, each with the deliveries it caused
    (two queries, whatever the length)."""
    posts = list(alert.posts.order_by("-received_at", "-id"))
    by_event: dict[int, list[Delivery]] = defaultdict(list)
    rows = (
        Delivery.objects.filter(event_id__in={p.event_id for p in posts})
        .defer("target", "target_secret")
        .order_by("channel", "id")
    )
    for delivery in rows:
        by_event[delivery.event_id].append(delivery)
    return [
        (
            post,
            [
                d
                for d in by_event[post.event_id]
                if post.notified
                and ("alerts" not in d.context or post.position in d.context["alerts"])
            ],
        )
        for post in posts
    ]


def alert_ids_of_deliveries(deliveries) -> dict[int, int]:
    """Delivery pk -> the alert it carried (the first, when it carried several): one query for
    a page of deliveries, so each row can link to its alert."""
    deliveries = [d for d in deliveries if d.event.kind == "alert"]
    if not deliveries:
        return {}
    posts = ReceivedAlert.objects.filter(
        event_id__in={d.event_id for d in deliveries}, alert__isnull=False, notified=True
    ).values_list("event_id", "position", "alert_id")
    by_event: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for event_id, position, alert_id in posts:
        by_event[event_id].append((position, alert_id))
    found = {}
    for delivery in deliveries:
        carried = (delivery.context or {}).get("alerts")
        for position, alert_id in sorted(by_event[delivery.event_id]):
            if carried is None or position in carried:
                found[delivery.pk] = alert_id
                break
    return found
