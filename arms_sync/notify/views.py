"""The console pages of notification delivery (rules §8): the Deliveries page with each
delivery's attempts and Resend, and the Test action of a contact (from its row on the Contact
Management page, and from the Edit Contact dialog with the values typed, before saving).

As everywhere in the console, every page also works without JavaScript: the detail is a plain
page, Resend and Test are plain POSTs. With htmx the detail and the Test result open in
#modal-host, the filters and pages swap the rows only, and Resend reloads them. These pages
show account data and carry Cache-Control: no-store (rules §13).
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from arms_sync.intake.selectors import alert_ids_of_deliveries
from arms_sync.notify import hints, selectors, services
from arms_sync.notify.forms import DeliveryFilterForm
from arms_sync.notify.models import Delivery
from arms_sync.notify.outbox import Recipient
from arms_sync.notify.sending import Result
from contacts import channels
from contacts.forms import EditContactForm
from contacts.models import Contact
from contacts.selectors import contact_to_manage
from contacts.views import edit_dialog_context
from ram_directory.access import console_view
from ram_directory.principal import Principal

PAGE_SIZE = 25
RESENT = gettext_noop("The delivery to {target} was queued again.")
NOTHING_SENT_FIX_ERRORS = gettext_noop("Nothing was sent: correct the values marked above.")
TEST_RESULTS_TEMPLATE = "arms_sync/_test_results.html"
CONTACT_TEST_TITLE = gettext_noop("Test Contact")  # names the dialog and its plain page


def _page(request: HttpRequest, template: str, context: dict, *, status: int = 200):
    """A dialog's partial for htmx (`#modal`, into #modal-host), else the plain page."""
    context = {**context, "in_modal": bool(request.htmx)}
    return render(
        request, f"{template}#modal" if request.htmx else template, context, status=status
    )


# --- Deliveries --------------------------------------------------------------------------------


def _link_alerts(deliveries) -> None:
    """Give each delivery of an alert the alert it carried (`alert_pk`), for its link."""
    deliveries = list(deliveries)
    found = alert_ids_of_deliveries(deliveries)
    for delivery in deliveries:
        delivery.alert_pk = found.get(delivery.pk)


@console_view
@never_cache
@require_http_methods(["GET"])
def delivery_list(request: HttpRequest) -> HttpResponse:
    form = DeliveryFilterForm(request.GET)
    filters = form.filters()
    rows = selectors.deliveries_for_list(request.principal, **filters)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    _link_alerts(page.object_list)
    context = {"form": form, "page": page, "filtered": any(filters.values())}
    if request.htmx and request.htmx.target == "delivery-rows":
        return render(request, "arms_sync/delivery_list.html#refresh", context)
    return render(request, "arms_sync/delivery_list.html", context)


@console_view
@never_cache
@require_http_methods(["GET"])
def delivery_detail(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = selectors.delivery_for_view(request.principal, pk)
    _link_alerts([delivery])
    return _page(request, "arms_sync/delivery_detail.html", {"delivery": delivery})


def _back(request: HttpRequest) -> str:
    """Where a plain (no-JavaScript) Resend returns: the page it came from, if it is ours."""
    target = request.POST.get("next", "")
    # A path of this site only, and nothing a Location header cannot carry (NUL, newlines).
    if (
        target.startswith("/")
        and target.isprintable()
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return target
    return "notify:delivery_list"


@console_view
@never_cache
@require_http_methods(["POST"])
def delivery_resend(request: HttpRequest, pk: int) -> HttpResponse:
    """Queue a failed delivery again. One that is no longer failed (resent meanwhile from
    another tab) changes nothing: the page reloads and says so."""
    delivery = selectors.delivery_for_view(request.principal, pk)
    try:
        services.resend(delivery=delivery)
    except PermissionDenied:
        messages.warning(request, _(services.ONLY_FAILED_RESEND))
    else:
        messages.success(request, _(RESENT).format(target=delivery.target_masked))
    if request.htmx:
        trigger = json.dumps({"closeModal": True, "deliveriesChanged": True})
        return HttpResponse(status=204, headers={"HX-Trigger": trigger})
    return redirect(_back(request))


# --- Test ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelResult:
    """One channel's result, as the Test dialog shows it: never a token or secret."""

    channel: str
    target: str
    sent: bool
    answer: str  # what the provider said: "HTTP 200: errcode 310000: keywords not in content"
    hint: str  # what it means, in plain words
    duration_ms: int

    @classmethod
    def of(cls, result: Result) -> ChannelResult:
        answer = result.answer
        said = answer.http_status is not None or answer.errcode is not None or answer.errmsg
        return cls(
            channel=result.delivery.get_channel_display(),
            target=result.delivery.target_masked,
            sent=result.delivery.status == Delivery.Status.SENT,
            answer=hints.plain_error(hints.describe(answer)) if said else "",
            hint=hints.hint_text(answer.hint),
            duration_ms=answer.duration_ms,
        )


def _send_test(principal: Principal, recipient: Recipient, **only) -> dict:
    """Send the test now and say how each channel went (context of _test_results.html).
    `only`: services.send_test's channel and run (one channel of the Test dialog)."""
    try:
        _event, results = services.send_test(principal=principal, recipient=recipient, **only)
    except services.TestRefused as refused:
        return {"test_error": refused.message()}
    channel_results = [ChannelResult.of(result) for result in results]
    return {
        "results": channel_results,
        # The headline says what happened: "1 of 3 channels succeeded", never "Sent" alone.
        "sent_count": sum(result.sent for result in channel_results),
        "channel_count": len(channel_results),
        "may_view_deliveries": selectors.may_view_deliveries(principal),
    }


def _pending_channels(contact: Contact) -> list[tuple[str, str, str]]:
    """(channel, its label, masked target) of each saved channel, from the stored masked
    columns (nothing decrypted): the Test dialog's rows while each channel is sent."""
    labels = dict(Delivery.Channel.choices)
    found = [(c.name, c.list_value(contact)) for c in channels.all_channels()]
    return [(name, labels[name], target) for name, target in found if target]


RUN = re.compile(r"[0-9a-f]{32}")


@console_view
@never_cache
@require_http_methods(["GET", "POST"])
def contact_test(request: HttpRequest, pk: int) -> HttpResponse:
    """The Test action of a contact's row: every saved channel, now (rules §8).

    GET opens the dialog at once with one row per channel, "Sending…"; with htmx each row
    posts its own channel (hx-trigger=load, `channel` and the dialog's `run`) and is replaced
    by its answer, so a quick mailbox says Sent while a slow robot still says Sending… The
    answer that completes the run brings the headline ("2 of 3 channels succeeded") out of
    band. Without JavaScript GET is a page with a Send button, and its POST sends every
    channel at once and answers them all."""
    contact = contact_to_manage(request.principal, pk)
    if request.method == "GET":
        context = {
            "contact": contact,
            "title": CONTACT_TEST_TITLE,
            "pending": _pending_channels(contact),
            "run": uuid.uuid4().hex,
            "may_view_deliveries": selectors.may_view_deliveries(request.principal),
        }
        return _page(request, "arms_sync/contact_test.html", context)
    channel = request.POST.get("channel")
    if channel is not None:
        return _contact_test_channel(request, contact, channel)
    outcome = _send_test(request.principal, Recipient.from_contact(contact))
    context = {"contact": contact, "title": CONTACT_TEST_TITLE, **outcome}
    status = 422 if "test_error" in outcome else 200
    if request.htmx and request.htmx.target == "contact-test-body":
        context["in_modal"] = True
        return render(request, "arms_sync/contact_test.html#body", context, status=status)
    return _page(request, "arms_sync/contact_test.html", context, status=status)


def _contact_test_channel(request: HttpRequest, contact: Contact, channel: str) -> HttpResponse:
    """One row of the Test dialog: send `channel` of the contact and answer its row; with the
    headline when every channel of the run has its answer (each row counts after its own
    send is recorded, so the last to finish sees them all)."""
    pending = {key: (label, target) for key, label, target in _pending_channels(contact)}
    if channel not in pending:
        return HttpResponseBadRequest(_("This contact has no such channel to test."))
    run = request.POST.get("run", "")
    run = run if RUN.fullmatch(run) else ""
    outcome = _send_test(
        request.principal, Recipient.from_contact(contact), channel=channel, run=run
    )
    label, target = pending[channel]
    context = {"contact": contact, "channel_label": label, "target": target, **outcome}
    if run and "results" in outcome:
        sent, answered = selectors.tally_of_test_run(request.principal, run)
        if answered >= len(pending):
            context.update(headline=True, sent_count=sent, channel_count=answered)
    return render(request, f"{TEST_RESULTS_TEMPLATE}#channel", context)


def _typed_recipient(contact: Contact, form: EditContactForm) -> Recipient:
    """The recipient the Edit Contact dialog would save: a blank robot or secret field keeps
    the saved one (which never went to the browser), a Remove tick leaves it out."""
    phone = str(form.cleaned_data["phone"])
    return Recipient.from_values(contact.username, phone, form.typed_values())


@console_view
@never_cache
@require_http_methods(["POST"])
def contact_test_values(request: HttpRequest, pk: int) -> HttpResponse:
    """Test these values (Edit Contact dialog): the values typed, checked by the edit form's
    rules, sent before anything is saved. Answers the form again, with the results under the
    button (htmx: the dialog's form; without JavaScript: the plain Edit Contact page)."""
    contact = contact_to_manage(request.principal, pk)
    form = EditContactForm(request.POST, contact=contact)
    if form.is_valid():
        outcome = _send_test(request.principal, _typed_recipient(contact, form))
    else:
        outcome = {"test_error": _(NOTHING_SENT_FIX_ERRORS)}
    context = {
        **edit_dialog_context(contact, form),
        **outcome,
        "test_results_template": TEST_RESULTS_TEMPLATE,
        "in_modal": bool(request.htmx),
    }
    status = 422 if "test_error" in outcome else 200
    template = "contacts/contact_form.html"
    return render(request, f"{template}#form" if request.htmx else template, context, status=status)
