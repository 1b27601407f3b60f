"""The Contact Management page and its dialogs (rules §3, §4; seed steps 2 and 3).

Every dialog is also a plain page: without JavaScript the links open it, the form POSTs and
the view redirects back to the list (POST-redirect-GET). With htmx the dialog loads into
#modal-host (New Contact as the side panel, Edit and Delete as modal dialogs); a refused submit
answers 422 with the form (errors next to each field, input kept); a successful one answers 204
with HX-Trigger closeModal + contactsChanged, and the table reloads itself with the current
query.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_http_methods

from contacts import channels, selectors, services
from contacts.forms import EditContactForm, NewContactForm
from contacts.models import Contact
from ram_directory import selectors as ram_selectors
from ram_directory.access import console_view

CONTACT_CREATED = gettext_noop("Contact {username} created.")
CONTACT_UPDATED = gettext_noop("Contact {username} updated.")
CONTACT_DELETED = gettext_noop("Contact {username} deleted, with its linked ARMS contact.")
QUERY_MAX_LENGTH = 128


@dataclass(frozen=True, slots=True)
class Row:
    """What one row of the Contact Management table shows (contacts/templatetags/contact_table
    renders it)."""

    pk: int
    username: str
    is_account_itself: bool
    phone: str
    channels: tuple[selectors.ChannelCell, ...]  # masked
    arms_name: str | None  # None: "Not linked"
    created_by: str
    created_at: datetime
    may_manage: bool
    edit_url: str
    delete_url: str
    test_url: str  # "" when notifications are not installed
    ram_deleted: bool = False
    arms_state: str | None = None  # a connected account's: pending / synced / failed
    arms_remote_id: int | None = None
    arms_error: str = ""


# A pk no real row has: reverse() runs once per page with it, and each row's URL is the result
# with its own pk in its place (reverse() per row and per link was a fifth of the page's time).
_PK_PLACEHOLDER = 987654321012


def _url_for_pk(name: str) -> Callable[[int], str]:
    try:
        head, tail = reverse(name, args=[_PK_PLACEHOLDER]).split(str(_PK_PLACEHOLDER), 1)
    except NoReverseMatch:
        return lambda pk: ""
    return lambda pk: f"{head}{pk}{tail}"


def _rows(principal, contacts: list[selectors.ContactRow]) -> list[Row]:
    edit_url = _url_for_pk("contacts:edit")
    delete_url = _url_for_pk("contacts:delete")
    # The Test action belongs to arms_sync's notifications; the page offers it when installed.
    test_url = _url_for_pk("notify:contact_test")
    return [
        Row(
            pk=c.pk,
            username=c.username,
            is_account_itself=c.is_account_itself,
            phone=c.phone,
            channels=c.channels,
            arms_name=c.arms_name,
            created_by=c.created_by,
            created_at=c.created_at,
            may_manage=selectors.can_manage(principal, c),
            edit_url=edit_url(c.pk),
            delete_url=delete_url(c.pk),
            # Test is offered only where there is something to send to.
            test_url=test_url(c.pk) if any(cell.value for cell in c.channels) else "",
            ram_deleted=c.ram_deleted,
            arms_state=c.arms_state,
            arms_remote_id=c.arms_remote_id,
            arms_error=c.arms_error,
        )
        for c in contacts
    ]


def _query(request: HttpRequest) -> tuple[str, str]:
    field = request.GET.get("field", selectors.DEFAULT_QUERY_FIELD)
    if field not in selectors.QUERY_FIELDS:
        field = selectors.DEFAULT_QUERY_FIELD
    return field, request.GET.get("q", "")[:QUERY_MAX_LENGTH]


@dataclass(frozen=True, slots=True)
class SortHeader:
    """A sortable column's header: what a click asks for, and (for screen readers) how the
    table is sorted now."""

    key: str  # the column's key in selectors.SORT_COLUMNS
    next: str  # the `?sort=` value a click asks for
    aria_sort: str  # "ascending" / "descending" on the sorted column, "" on the others
    next_is_descending: bool


def _sort_headers(sort: selectors.ContactSort) -> dict[str, SortHeader]:
    headers = {}
    for key in selectors.SORT_COLUMNS:
        click = sort.next_for(key)
        current = ("descending" if sort.descending else "ascending") if key == sort.key else ""
        headers[key] = SortHeader(
            key=key, next=click.param, aria_sort=current, next_is_descending=click.descending
        )
    return headers


@console_view
@require_http_methods(["GET"])
def contact_list(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    field, value = _query(request)
    sort = selectors.ContactSort.parse(request.GET.get("sort"))
    context = {
        "rows": _rows(principal, selectors.contact_rows(principal, field, value, sort)),
        "sort": sort,
        "sort_headers": _sort_headers(sort),
        "channel_columns": [c.column_label for c in channels.all_channels()],
        "total": Contact.objects.for_account(principal.account).count(),
        "limit": services.contact_limit(),
        "can_merge": selectors.can_merge(principal),
        "query_fields": selectors.QUERY_FIELDS,
        "field": field,
        "q": value,
    }
    if request.htmx and request.htmx.target == "contact-rows":
        return render(request, "contacts/list.html#refresh", context)
    return render(request, "contacts/list.html", context)


def _posted(request: HttpRequest):
    # Not `request.POST or None`: an empty POST is still a submission (and refused).
    return request.POST if request.method == "POST" else None


def _done(request: HttpRequest) -> HttpResponse:
    """Success: close the dialog and reload the table (htmx), or back to the list."""
    if request.htmx:
        trigger = json.dumps({"closeModal": True, "contactsChanged": True})
        return HttpResponse(status=204, headers={"HX-Trigger": trigger})
    return redirect("contacts:list")


def _dialog(
    request: HttpRequest,
    template: str,
    context: dict,
    *,
    invalid: bool = False,
    panel: bool = False,
):
    """The dialog as a modal, or with `panel` as the side panel (htmx GET), its form alone
    (htmx re-render, 422 when refused), or a plain page (no JavaScript)."""
    in_panel = bool(request.htmx) and panel
    context = {**context, "in_modal": bool(request.htmx), "in_panel": in_panel}
    if request.htmx:
        part = "form" if request.method == "POST" else ("panel" if in_panel else "modal")
        return render(request, f"{template}#{part}", context, status=422 if invalid else 200)
    return render(request, template, context, status=422 if invalid else 200)


def _add_link_errors(form, *, account, contact=None) -> None:
    """A form refused for its own reasons also shows what the ARMS side would refuse (a phone
    linked to another contact, a mailbox another ARMS contact holds), so nothing comes in a
    second round."""
    data = form.cleaned_data
    errors = services.link_errors(
        account=account,
        contact=contact,
        phone=data.get("phone"),
        mailbox=data.get("mailbox") or "",
    )
    for field, message in errors.items():
        if field not in form.errors:
            form.add_error(field, message)


@console_view
@require_http_methods(["GET", "POST"])
def contact_new(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    limit = services.contact_limit()
    form = NewContactForm(_posted(request), principal=principal, limit=limit)
    if request.method == "POST" and form.is_valid():
        try:
            contact = services.create_contact(principal=principal, **form.service_kwargs())
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _(CONTACT_CREATED).format(username=contact.username))
            return _done(request)
    elif request.method == "POST":
        _add_link_errors(form, account=principal.account)
    total = Contact.objects.for_account(principal.account).count()
    context = {
        "form": form,
        "title": gettext_noop("New Contact"),
        "action": reverse("contacts:new"),
        "limit": limit,
        "full": total >= limit,
        "only_itself": form.choices.only_itself,
        # A RAM user limited to itself whose contact exists is told so, not given a form it
        # could never submit.
        "own_contact": form.own_contact_exists,
        # rules §9: the panel offers Request permission, or shows the request's state.
        "permission_request": (
            ram_selectors.latest_permission_request(principal) if form.choices.only_itself else None
        ),
    }
    return _dialog(
        request, "contacts/contact_form.html", context, invalid=form.is_bound, panel=True
    )


def _managed_contact(request: HttpRequest, pk: int) -> Contact:
    """404 for another account's contact and for one the principal may not see (rules §1, §3);
    403 for one it sees but may not manage (the rule is contacts.selectors')."""
    return selectors.contact_to_manage(request.principal, pk)


def edit_dialog_context(contact: Contact, form: EditContactForm) -> dict:
    """What contacts/contact_form.html needs to show the Edit Contact dialog (also used by
    arms_sync's Test these values, which answers the same form)."""
    return {
        "form": form,
        "contact": contact,
        "title": gettext_noop("Edit Contact"),
        "action": reverse("contacts:edit", args=[contact.pk]),
    }


@console_view
@require_http_methods(["GET", "POST"])
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    principal = request.principal
    contact = _managed_contact(request, pk)
    form = EditContactForm(_posted(request), contact=contact)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_contact(principal=principal, contact=contact, **form.service_kwargs())
        except ValidationError as exc:
            form.add_service_errors(exc)
        except Contact.DoesNotExist:
            # Deleted by someone else since the lookup above: as if it never existed.
            raise Http404 from None
        else:
            messages.success(request, _(CONTACT_UPDATED).format(username=contact.username))
            return _done(request)
    elif request.method == "POST":
        _add_link_errors(form, account=principal.account, contact=contact)
    context = edit_dialog_context(contact, form)
    return _dialog(request, "contacts/contact_form.html", context, invalid=form.is_bound)


@console_view
@require_http_methods(["GET", "POST"])
def contact_delete(request: HttpRequest, pk: int) -> HttpResponse:
    principal = request.principal
    contact = _managed_contact(request, pk)
    if request.method == "POST":
        username = contact.username
        services.delete_contact(principal=principal, contact=contact)
        messages.success(request, _(CONTACT_DELETED).format(username=username))
        return _done(request)
    context = {
        "contact": contact,
        # Only a linked contact takes an ARMS contact with it: the dialog says so only then.
        "linked": selectors.is_linked(contact),
        "title": gettext_noop("Delete Contact"),
        "action": reverse("contacts:delete", args=[contact.pk]),
    }
    return _dialog(request, "contacts/contact_delete.html", context)
