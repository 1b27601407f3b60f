"""The console pages of alert intake (SPEC 8): the Alerts page (every alert received, its
labels, the policies that matched it and its deliveries) and the Intake page (the endpoint,
the token and the Alertmanager snippet; the owner rotates the token).

Who sees them: whoever sees deliveries (the owner and RAM users allowed ram:ListUsers). Only
the owner rotates the token; a new token is shown once, on the page that answers the POST.
"""

from __future__ import annotations

from collections import defaultdict

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from arms_sync.intake import services
from arms_sync.intake.models import IntakeToken, ReceivedAlert
from arms_sync.notify.models import Delivery
from arms_sync.notify.selectors import ensure_may_view
from ram_directory.access import console_view

PAGE_SIZE = 25
ONLY_OWNER_ROTATES = gettext_noop("Only the Alibaba Cloud account can create or rotate the token.")


def intake_url(request: HttpRequest) -> str:
    path = reverse("intake_alertmanager")
    return (
        f"{settings.PUBLIC_URL}{path}" if settings.PUBLIC_URL else request.build_absolute_uri(path)
    )


def _deliveries_by_alert(alerts: list[ReceivedAlert]) -> dict[int, list[Delivery]]:
    """Each alert's deliveries: those of its event that carry it (one query for the page)."""
    by_event = defaultdict(list)
    rows = (
        Delivery.objects.filter(event_id__in={a.event_id for a in alerts})
        .defer("target", "target_secret")
        .order_by("channel", "id")
    )
    for delivery in rows:
        by_event[delivery.event_id].append(delivery)
    return {
        alert.pk: [
            d
            for d in by_event[alert.event_id]
            if "alerts" not in d.context or alert.position in d.context["alerts"]
        ]
        for alert in alerts
    }


@console_view
@never_cache
@require_http_methods(["GET"])
def alert_list(request: HttpRequest) -> HttpResponse:
    ensure_may_view(request.principal)
    status = request.GET.get("status", "")
    alerts = ReceivedAlert.objects.for_account(request.principal.account).order_by(
        "-received_at", "-id"
    )
    if status in ReceivedAlert.Status.values:
        alerts = alerts.filter(status=status)
    else:
        status = ""
    page = Paginator(alerts, PAGE_SIZE).get_page(request.GET.get("page"))
    deliveries = _deliveries_by_alert(list(page))
    rows = [(alert, deliveries[alert.pk]) for alert in page]
    context = {
        "page": page,
        "rows": rows,
        "status": status,
        "statuses": ReceivedAlert.Status.choices,
        "has_token": IntakeToken.objects.filter(account=request.principal.account).exists(),
    }
    return render(request, "arms_sync/alert_list.html", context)


@console_view
@never_cache
@require_http_methods(["GET", "POST"])
def intake(request: HttpRequest) -> HttpResponse:
    ensure_may_view(request.principal)
    new_token = ""
    if request.method == "POST":
        if not request.principal.is_owner:
            raise PermissionDenied(_(ONLY_OWNER_ROTATES))
        new_token = services.rotate_token(
            account=request.principal.account,
            created_by=request.principal.sign_in_name,
            actor=request.principal,
        )
    token = IntakeToken.objects.filter(account=request.principal.account).first()
    url = intake_url(request)
    context = {
        "token": token,
        "new_token": new_token,
        "url": url,
        "snippet": services.snippet(url=url, token=new_token or "<token>"),
        "may_rotate": request.principal.is_owner,
    }
    return render(request, "arms_sync/intake.html", context)
