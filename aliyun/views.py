"""Enterprise Features > Cloud Connection (the account owner only): the form, Check,
Disconnect, the last sync of each direction, drift, and the policy the AccessKey needs."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from aliyun import services
from aliyun.check import all_ok
from aliyun.forms import ConnectionForm
from aliyun.policy import REQUIRED_POLICY
from aliyun.reconcile import shown
from aliyun.selectors import ensure_owner
from ram_directory.access import console_view

CONNECTED = gettext_noop("Connected: RAM and ARMS both answered.")
NOT_CONNECTED = gettext_noop("Not saved: the check failed. See what each API answered.")
DISCONNECTED = gettext_noop("Disconnected. The console's own tables are the working copy again.")


def _page(request, form, *, results=None, status=200) -> HttpResponse:
    connection = services.connection_for(request.principal.account)
    context = {
        "form": form,
        "connection": connection,
        "drift": shown(connection.drift) if connection else [],
        "results": results,
        "policy_document": json.dumps(REQUIRED_POLICY, indent=2),
    }
    return render(request, "aliyun/connection.html", context, status=status)


@console_view
@never_cache
@require_http_methods(["GET", "POST"])
def connection(request: HttpRequest) -> HttpResponse:
    ensure_owner(request.principal)
    account = request.principal.account
    saved = services.connection_for(account)
    if request.method == "GET":
        return _page(request, ConnectionForm(connection=saved))
    form = ConnectionForm(request.POST, connection=saved)
    if not form.is_valid():
        return _page(request, form, status=422)
    values = dict(form.cleaned_data)
    if not values["access_key_secret"] and saved is not None:
        values["access_key_secret"] = saved.access_key_secret
    try:
        connected, results = services.connect(account=account, actor=request.principal, **values)
    except ValidationError as exc:
        if not hasattr(exc, "error_dict"):  # about the connection as a whole
            form.add_error(None, exc)
            return _page(request, form, status=422)
        for field, errors in exc.message_dict.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
        return _page(request, form, status=422)
    if connected is None:
        form.add_error(None, _(NOT_CONNECTED))
        return _page(request, form, results=results, status=422)
    messages.success(request, _(CONNECTED))
    return redirect("cloud:connection")


@console_view
@never_cache
@require_POST
def check(request: HttpRequest) -> HttpResponse:
    ensure_owner(request.principal)
    saved = services.connection_for(request.principal.account)
    if saved is None:
        return redirect("cloud:connection")
    results = services.check(saved)
    status = 200 if all_ok(results) else 422
    return _page(request, ConnectionForm(connection=saved), results=results, status=status)


@console_view
@never_cache
@require_POST
def disconnect(request: HttpRequest) -> HttpResponse:
    ensure_owner(request.principal)
    services.disconnect(account=request.principal.account, actor=request.principal)
    messages.success(request, _(DISCONNECTED))
    return redirect("cloud:connection")
