"""The ARMS pages of the console (read-only views of the account's alerting set-up, rules §7) and
the Merge Contacts dialog (rules §6). Every page also works as a plain page without JavaScript;
with htmx the dialogs load into #modal-host."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_http_methods

from arms_sync import merge, selectors, services
from arms_sync.forms import ArmsContactQueryForm
from ram_directory.access import console_view

MERGED = gettext_noop("Merge Contacts finished: {summary}.")
ARMS_CONTACT_DELETED = gettext_noop("The ARMS contact {name} was deleted.")
LINKED_CONTACT_NOT_DELETABLE = gettext_noop(
    "This ARMS contact is linked to an SAE contact: delete the SAE contact on the Contact "
    "Management page instead, or use the ARMS console (admin) with confirmation."
)


def _htmx_redirect(request, url: str):
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


@console_view
def contact_list(request):
    form = ArmsContactQueryForm(request.GET or None)
    field, query = form.query()
    contacts = selectors.arms_contacts_for_list(request.principal, field=field, query=query)
    ctx = {
        "form": form,
        "contacts": contacts,
        "can_delete": selectors.can_delete_contact(request.principal),
        "not_linked": selectors.not_linked_contacts_count(request.principal),
        "can_merge": merge.may_merge(request.principal),
    }
    if request.htmx and request.htmx.target == "arms-contact-rows":
        return render(request, "arms_sync/contact_list.html#rows", ctx)
    return render(request, "arms_sync/contact_list.html", ctx)


@console_view
@require_http_methods(["GET", "POST"])
def contact_delete(request, pk: int):
    arms = selectors.arms_contact_for_delete(request.principal, pk)
    if arms.sae_contact_id is not None:
        # Visible but not deletable here: the SAE side owns linked ARMS contacts (rules §7).
        raise PermissionDenied(_(LINKED_CONTACT_NOT_DELETABLE))
    if request.method == "POST":
        try:
            services.delete_arms_contact(arms_contact=arms)
        except ValidationError:
            # Linked to an SAE contact since the page was read: refused as above.
            raise PermissionDenied(_(LINKED_CONTACT_NOT_DELETABLE)) from None
        messages.success(request, _(ARMS_CONTACT_DELETED).format(name=arms.name))
        return _htmx_redirect(request, reverse("arms:contact_list"))
    template = "arms_sync/contact_delete.html#dialog" if request.htmx else None
    return render(request, template or "arms_sync/contact_delete.html", {"arms": arms})


@console_view
def group_list(request):
    groups = selectors.groups_for_list(request.principal)
    return render(request, "arms_sync/group_list.html", {"groups": groups})


@console_view
def group_detail(request, pk: int):
    group = selectors.group_for_view(request.principal, pk)
    ctx = {
        "group": group,
        "members": selectors.group_members(group),
        "policies": selectors.group_policies(group),
    }
    return render(request, "arms_sync/group_detail.html", ctx)


@console_view
def policy_list(request):
    policies = selectors.policies_for_list(request.principal)
    return render(request, "arms_sync/policy_list.html", {"policies": policies})


def _merge_preview(request, plan, *, status: int = 200, error: str = ""):
    ctx = {"plan": plan, "error": error, "labels": merge.ACTION_LABELS}
    template = "arms_sync/merge.html#dialog" if request.htmx else "arms_sync/merge.html"
    return render(request, template, ctx, status=status)


@console_view
@require_http_methods(["GET", "POST"])
def merge_contacts(request):
    """GET: the preview (the dialog, or a plain page without JS). POST: Confirm."""
    principal = request.principal
    if request.method == "GET":
        return _merge_preview(request, merge.plan_merge(principal=principal))
    try:
        report = merge.apply_merge(
            principal=principal, expected_digest=request.POST.get("digest") or None
        )
    except merge.PlanChanged:
        plan = merge.plan_merge(principal=principal)
        return _merge_preview(request, plan, status=422, error=_(merge.PLAN_CHANGED))
    except merge.MergeFailed as exc:
        plan = merge.plan_merge(principal=principal)
        return _merge_preview(request, plan, status=422, error=str(exc))
    summary = _(MERGED).format(summary=report.summary())
    # The report stays in the dialog (what was linked, created, skipped and why) until it is
    # closed; Close goes back to the page the dialog was opened on, reloaded. Its summary is
    # the report's headline (a message too on the plain page, which shows messages).
    ctx = {
        "plan": report,
        "done": True,
        "summary": summary,
        "labels": merge.ACTION_LABELS,
        "back_url": _back(request),
    }
    if request.htmx:
        response = render(request, "arms_sync/merge.html#body", ctx)
        response["HX-Trigger"] = "contactsChanged"
        return response
    messages.success(request, summary)
    return render(request, "arms_sync/merge.html", ctx)


def _back(request) -> str:
    """The console page the Merge dialog was opened on (htmx tells), else Contact Management."""
    current = request.htmx.current_url_abs_path if request.htmx else None
    allowed = (reverse("contacts:list"), reverse("arms:contact_list"))
    if current and current.split("?", 1)[0] in allowed:
        return current
    return reverse("contacts:list")
