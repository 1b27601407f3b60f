"""The Permission Approval pages (rules §9): a RAM user without ram:ListUsers requests it from the
New Contact panel; the account owner approves or rejects on the Permission Approval page, where
a RAM user follows (and may withdraw) its own requests.

Thin views over ram_directory.approvals, which checks every rule again (only the owner decides,
only the requester withdraws, a decided request stays decided): a forged POST changes nothing.
Another account's request, and for a RAM user anybody else's, answers 404; a RAM user's approve
or reject answers 403 whatever the ID.

As everywhere in the console, every dialog is also a plain page and every action a plain POST.
With htmx the Reject dialog opens in #modal-host; Request permission and Withdraw, opened from
the New Contact panel (their `next`), take the place of the panel's content and give it back,
showing the request's new state, when done or cancelled. These pages show account data and
carry Cache-Control: no-store (rules §13).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from ram_directory import approval_reach, approvals, selectors
from ram_directory.access import console_view
from ram_directory.approval_forms import PermissionRequestForm, RejectForm
from ram_directory.models import PermissionRequest
from ram_directory.views import ram_view

PAGE_SIZE = 25
NEXT_MAX_LENGTH = 200
PENDING = PermissionRequest.Status.PENDING

# Dialog titles.
REQUEST = gettext_noop("Request permission")
REJECT = gettext_noop("Reject")
WITHDRAW = gettext_noop("Withdraw")

REQUESTED = gettext_noop(
    "Your request for {permission} was sent; the Alibaba Cloud account approves or rejects it."
)
APPROVED = gettext_noop("Approved: {user} now holds {permission}.")


def approval_view(*methods: str) -> Callable:
    """A console page of this module: no-store, 403 as a page, signed in, these methods."""

    def decorate(view: Callable) -> Callable:
        return never_cache(ram_view(console_view(require_http_methods(list(methods))(view))))

    return decorate


def _next_url(request: HttpRequest) -> str:
    """The page a dialog returns to (the New Contact panel), if it is a path of this site."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if (
        len(target) > NEXT_MAX_LENGTH
        or not target.startswith("/")
        or not target.isprintable()  # NUL and other control characters
        or not url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return ""
    return target


def _dialog(request: HttpRequest, name: str, title: str, context: dict, *, status: int = 200):
    """For htmx the dialog's `#modal` partial: a modal dialog shown in #modal-host or, opened
    from the New Contact panel (a `next`), framed as that side panel and swapped in place of
    its content ([data-dialog-content]); otherwise the plain page."""
    template = f"ram_directory/approvals_{name}.html"
    next_url = _next_url(request)
    in_panel = bool(request.htmx) and bool(next_url)
    context = {
        **context,
        "title": title,
        "form_template": f"{template}#form",
        "in_modal": bool(request.htmx),
        "in_panel": in_panel,
        "frame": "partials/panel.html" if in_panel else "partials/dialog.html",
        "next": next_url,
    }
    return render(
        request, f"{template}#modal" if request.htmx else template, context, status=status
    )


def _done(request: HttpRequest, message: str, *, level: int = messages.SUCCESS) -> HttpResponse:
    """After an action (or a refusal that leaves nothing to do): htmx in place goes back to the
    panel, which shows the request's new state itself; htmx on this page closes the dialog and
    reloads the rows with the message; a plain POST redirects with the message."""
    target = _next_url(request)
    if request.htmx and target:
        return redirect(target)
    messages.add_message(request, level, message)
    if request.htmx:
        trigger = json.dumps({"closeModal": True, "approvalsChanged": True})
        return HttpResponse(status=204, headers={"HX-Trigger": trigger})
    return redirect(target or "ram:approval_list")


def _already_decided(permission_request: PermissionRequest) -> str:
    status = permission_request.get_status_display().lower()
    return _(approvals.NOT_PENDING).format(status=status)


def _to_decide(request: HttpRequest, pk: int) -> PermissionRequest:
    """Only the account owner decides: a RAM user is refused whatever the ID (403)."""
    if not request.principal.is_owner:
        raise PermissionDenied(_(approvals.ONLY_OWNER_DECIDES))
    return selectors.permission_request_for_view(request.principal, pk)


# --- the page ------------------------------------------------------------------------------


@approval_view("GET")
def approval_list(request: HttpRequest) -> HttpResponse:
    """Pending requests first (every one: at most one per RAM user and permission), then the
    decided ones, newest decision first, a page at a time, each with its steps."""
    principal = request.principal
    rows = selectors.permission_requests(principal)
    decided = rows.exclude(status=PENDING).prefetch_related("steps").order_by("-decided_at", "-id")
    pending = list(rows.filter(status=PENDING))
    context = {
        "reach": approval_reach.reach(principal.account),
        "pending": pending,
        "decided": Paginator(decided, PAGE_SIZE).get_page(request.GET.get("page")),
        "may_request": principal.ram_user is not None
        and not principal.can_list_users()
        and not pending,
    }
    if request.htmx and request.htmx.target == "approval-rows":
        return render(request, "ram_directory/approvals.html#refresh", context)
    return render(request, "ram_directory/approvals.html", context)


# --- the owner's decisions -----------------------------------------------------------------


@approval_view("POST")
def approval_approve(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve: the requester gets the SAEContactsListUsers policy (ram:ListUsers, ram:GetUser)."""
    permission_request = _to_decide(request, pk)
    try:
        approvals.approve(principal=request.principal, request=permission_request)
    except ValidationError as exc:
        return _done(request, " ".join(exc.messages), level=messages.WARNING)
    message = _(APPROVED).format(
        user=permission_request.requester.user_name, permission=permission_request.permission
    )
    return _done(request, message)


@approval_view("GET", "POST")
def approval_reject(request: HttpRequest, pk: int) -> HttpResponse:
    """Reject, with a reason the requester sees: a dialog (or page) asking for it."""
    permission_request = _to_decide(request, pk)
    if permission_request.status != PENDING:
        return _done(request, _already_decided(permission_request), level=messages.WARNING)
    form = RejectForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            approvals.reject(
                principal=request.principal,
                request=permission_request,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            if getattr(exc, "code", None) == "decided":  # decided meanwhile, in another tab
                return _done(request, " ".join(exc.messages), level=messages.WARNING)
            form.add_error(None, exc)
        else:
            message = _("Rejected the request of {user} for {permission}.").format(
                user=permission_request.requester.user_name,
                permission=permission_request.permission,
            )
            return _done(request, message)
    context = {"form": form, "permission_request": permission_request}
    status = 422 if form.is_bound else 200
    return _dialog(request, "reject", REJECT, context, status=status)


# --- the requester's -----------------------------------------------------------------------


@approval_view("GET", "POST")
def approval_request(request: HttpRequest) -> HttpResponse:
    """Request permission (ram:ListUsers) with a reason: the approvers are notified."""
    principal = request.principal
    if principal.ram_user is None:
        raise PermissionDenied(_(approvals.ONLY_RAM_USERS))
    form = PermissionRequestForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            created = approvals.request_permission(
                principal=principal, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            form.add_error(None, exc)  # the reason, or already pending / already allowed
        else:
            reach = approval_reach.reach(principal.account)
            if reach is not None and not reach.reaches_someone:
                message = _(
                    "Your request for {permission} was recorded, but no approver can be "
                    "reached: nobody was notified. Tell the Alibaba Cloud account yourself."
                ).format(permission=created.permission)
                return _done(request, message, level=messages.WARNING)
            return _done(request, _(REQUESTED).format(permission=created.permission))
    status = 422 if form.is_bound else 200
    context = {"form": form, "reach": approval_reach.reach(principal.account)}
    return _dialog(request, "request", REQUEST, context, status=status)


@approval_view("GET", "POST")
def approval_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    """Withdraw a pending request: asks first (dialog or page), then POST."""
    principal = request.principal
    permission_request = selectors.permission_request_for_view(principal, pk)
    if principal.ram_user is None:  # the owner sees every request but withdraws none
        raise PermissionDenied(_(approvals.ONLY_REQUESTER_WITHDRAWS))
    if permission_request.status != PENDING:
        return _done(request, _already_decided(permission_request), level=messages.WARNING)
    if request.method == "POST":
        try:
            approvals.withdraw(principal=principal, request=permission_request)
        except ValidationError as exc:
            return _done(request, " ".join(exc.messages), level=messages.WARNING)
        message = _("Your request for {permission} was withdrawn.")
        return _done(request, message.format(permission=permission_request.permission))
    context = {"permission_request": permission_request}
    return _dialog(request, "withdraw", WITHDRAW, context)
