"""The Audit Log page (Enterprise Features): who changed what in the account, 25 a page."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from ram_directory import audit_log
from ram_directory.access import console_view
from ram_directory.views import ram_view

PAGE_SIZE = 25


@never_cache
@ram_view
@console_view
@require_http_methods(["GET"])
def audit_list(request: HttpRequest) -> HttpResponse:
    audit_log.ensure_may_read(request.principal)
    form = audit_log.AuditFilterForm(request.GET or None, principal=request.principal)
    filters = form.filters()
    rows = audit_log.entries(request.principal, **filters)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "filtered": bool(filters)}
    return render(request, "ram_directory/audit_log.html", context)
