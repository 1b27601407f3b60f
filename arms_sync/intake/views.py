"""The console pages of alert intake (rules §8, §15): the Alerts page (one row per alert and its
state), an alert's page (labels, annotations, source link, the timeline of posts and
deliveries, Acknowledge) and the Intake page (the endpoint, the token and the Alertmanager
snippet, the traffic, Send test alert; the owner rotates the token).

Who sees them, and acknowledges: whoever sees deliveries (the owner and RAM users allowed
ram:ListUsers). Only the owner rotates the token and sends a test alert (it notifies every
contact); a new token is shown once, on the page that answers the POST.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from arms_sync.intake import selectors, services
from arms_sync.intake.forms import AlertFilterForm
from arms_sync.intake.models import IntakeToken
from arms_sync.notify.selectors import ensure_may_view
from ram_directory.access import console_view

PAGE_SIZE = 25


def intake_url(request: HttpRequest) -> str:
    path = reverse("intake_alertmanager")
    return (
        f"{settings.PUBLIC_URL}{path}" if settings.PUBLIC_URL else request.build_absolute_uri(path)
    )


@console_view
@never_cache
@require_http_methods(["GET"])
def alert_list(request: HttpRequest) -> HttpResponse:
    """One row per alert (not per post): Firing first, newest first within a state."""
    principal = request.principal
    ensure_may_view(principal)
    form = AlertFilterForm(request.GET, severities=selectors.severities(principal))
    filters = form.filters()
    rows = selectors.alerts_for_list(principal, **filters)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "filtered": any(filters.values()),
        "has_token": IntakeToken.objects.filter(account=principal.account).exists(),
    }
    if request.htmx and request.htmx.target == "alert-rows":
        return render(request, "arms_sync/alert_list.html#rows", context)
    return render(request, "arms_sync/alert_list.html", context)


@console_view
@never_cache
@require_http_methods(["GET"])
def alert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    alert = selectors.alert_for_view(request.principal, pk)
    context = {"alert": alert, "timeline": selectors.timeline(alert)}
    return render(request, "arms_sync/alert_detail.html", context)


@console_view
@require_http_methods(["POST"])
def alert_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    alert = selectors.alert_for_view(request.principal, pk)
    try:
        services.acknowledge(alert=alert, by=request.principal.sign_in_name)
    except ValidationError as exc:
        messages.warning(request, " ".join(exc.messages))
    else:
        message = _("{name} acknowledged: no repeats are sent until its state changes.")
        messages.success(request, message.format(name=alert.name))
    return redirect("alerts:alert_detail", pk=alert.pk)


def _intake_context(request: HttpRequest, new_token: str = "") -> dict:
    account = request.principal.account
    url = intake_url(request)
    return {
        "token": IntakeToken.objects.filter(account=account).first(),
        "new_token": new_token,
        "url": url,
        "snippet": services.snippet(url=url, token=new_token or "<token>"),
        "may_rotate": request.principal.is_owner,
        "traffic": services.traffic(account),
    }


@console_view
@never_cache
@require_http_methods(["GET", "POST"])
def intake(request: HttpRequest) -> HttpResponse:
    """The endpoint, the token and the snippet. Rotating asks first: Alertmanager keeps
    presenting the old token until its configuration is changed, and is refused meanwhile."""
    ensure_may_view(request.principal)
    new_token = ""
    confirming = False
    if request.method == "POST":
        if not request.principal.is_owner:
            raise PermissionDenied(
                _("Only the Alibaba Cloud account can create or rotate the token.")
            )
        exists = IntakeToken.objects.filter(account=request.principal.account).exists()
        if exists and request.POST.get("confirm") != "rotate":
            confirming = True
        else:
            new_token = services.rotate_token(
                account=request.principal.account,
                created_by=request.principal.sign_in_name,
                actor=request.principal,
            )
    context = _intake_context(request, new_token) | {"confirming": confirming}
    return render(request, "arms_sync/intake.html", context)


@console_view
@require_http_methods(["POST"])
def intake_test(request: HttpRequest) -> HttpResponse:
    """Send test alert: firing then resolved, through the intake's own path."""
    ensure_may_view(request.principal)
    if not request.principal.is_owner:
        raise PermissionDenied(_("Only the Alibaba Cloud account can send a test alert."))
    received = services.send_test_alert(account=request.principal.account)
    deliveries = sum(r.deliveries for r in received)
    messages.success(
        request,
        _(
            "A test alert was received, firing then resolved: {deliveries} deliveries. It is "
            "listed with the resolved alerts, labelled test."
        ).format(deliveries=deliveries),
    )
    return redirect("alerts:alert_list")
