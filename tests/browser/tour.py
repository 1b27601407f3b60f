"""A walk through every console page and every open panel and dialog, for the checks that must
hold on all of them (rules §12: axe-core, keyboard, reflow, the Chinese interface).

`demo_console()` builds the data (the seed's demo account, plus what the pages need to show
something: a failed delivery, an alert, a pending permission request); `Tour` signs one
principal in, in one language, on one page, and calls `visit(stop)` at each stop: after a page
loaded, and with each panel or dialog open (and again once a refused submit has shown its
errors). CONSOLE_PAGES names every GET page of the URLconf; test_tour_covers_the_urlconf keeps
that list complete.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from io import StringIO

from django.contrib import admin
from django.db import transaction
from django.test import Client, RequestFactory
from django.urls import reverse
from playwright.sync_api import Page, expect

from arms_sync.intake.models import Alert
from arms_sync.management.commands import seed_demo
from arms_sync.models import ArmsContact, ContactGroup
from arms_sync.notify.models import Delivery
from contacts import services as contact_services
from contacts.models import Contact
from ram_directory import approvals
from ram_directory.models import Account, Policy, RamUser, User
from ram_directory.principal import Principal
from tests.intake.support import post_alerts

PASSWORD = seed_demo.DEFAULT_DEMO_PASSWORD
SEED_POLICY = json.dumps(
    {
        "Version": "1",
        "Statement": [
            {"Effect": "Allow", "Action": ["ram:ListUsers", "ram:GetUser"], "Resource": "*"}
        ],
    },
    indent=2,
)
# An open dialog of #modal-host: a modal (partials/dialog.html) or a side panel (panel.html).
MODAL = "#modal-host .modal.show"
PANEL = "#modal-host .offcanvas.offcanvas-end.show"
DIALOG = f"{MODAL}, {PANEL}"


def inside(selector: str) -> str:
    """A CSS selector for `selector` inside the open dialog, modal or side panel."""
    return ", ".join(f"{dialog} {selector}" for dialog in (MODAL, PANEL))


# It has finished coming in: a modal's fade is over, a panel's slide too (Bootstrap adds .show
# to an offcanvas only then).
DIALOG_OPEN = (
    "() => { const m = document.querySelector('#modal-host .modal.show');"
    " if (m) return getComputedStyle(m).opacity === '1';"
    " return !!document.querySelector('#modal-host .offcanvas.show:not(.hiding)'); }"
)
LANGUAGES = ("en", "zh-hans")
OWNER = "owner@demo.example.com"
CAROL = "carol@demo.onaliyun.com"

# Every URL name of the console that answers GET with a page, by the principal whose tour
# shows it (carol: a RAM user without ram:ListUsers). A page that answers carol 403 is in her
# tour too: the 403 page is a page.
CONSOLE_PAGES = {
    "signin": "anonymous",
    "contacts:list": "both",
    "contacts:new": "both",
    "contacts:edit": "both",
    "contacts:delete": "both",
    "arms:contact_list": "both",
    "arms:contact_delete": "owner",
    "arms:group_list": "owner",
    "arms:group_detail": "owner",
    "arms:policy_list": "owner",
    "arms:merge_contacts": "owner",
    "notify:delivery_list": "both",
    "notify:delivery_detail": "owner",
    "alerts:alert_list": "owner",
    "alerts:alert_detail": "owner",
    "alerts:intake": "owner",
    "cloud:connection": "owner",
    "audit:list": "both",
    "ram:user_list": "both",
    "ram:user_detail": "both",
    "ram:user_authorize": "owner",
    "ram:user_detach": "owner",
    "ram:policy_list": "both",
    "ram:policy_create": "owner",
    "ram:policy_detail": "owner",
    "ram:policy_edit": "owner",
    "ram:policy_delete": "owner",
    "ram:approval_list": "both",
    "ram:approval_reject": "owner",
    "ram:approval_request": "carol",
    "ram:approval_withdraw": "carol",
}
# URL names that are not pages: POST-only actions, redirects, the intake endpoint, the admin
# (walked on its own) and Django's language switch (a POST).
NOT_PAGES = {
    "home": "redirects to contacts:list",
    "signout": "POST only",
    "set_language": "POST only (the language switch)",
    "intake_alertmanager": "Alertmanager's webhook endpoint (POST, bearer token)",
    "ram:approval_approve": "POST only (Approve)",
    "notify:delivery_resend": "POST only (Resend)",
    "alerts:alert_acknowledge": "POST only (Acknowledge)",
    "alerts:intake_test": "POST only (Send test alert)",
    "ram:policy_authorize": "redirects to ram:user_authorize with the policy checked",
    "notify:contact_test": "the Test dialog (GET, then its POST), walked from a row",
    "notify:contact_test_values": "POST only; its answer is walked in the Edit Contact dialog",
    "cloud:check": "POST only (Check); its answer is the Cloud Connection page, walked",
    "cloud:disconnect": "POST only (Disconnect), then the Cloud Connection page",
}


@dataclass
class Demo:
    """The demo account and the objects the tour's URLs name."""

    account: Account
    users: dict[str, RamUser]
    contacts: dict[str, Contact]
    delivery: Delivery
    pending_request_pk: int
    unlinked_arms: ArmsContact
    managed_group: ContactGroup
    custom_policy: Policy
    alert_pk: int = 0


def _receive_alert(token: str) -> None:
    body = {
        "version": "4",
        "status": "firing",
        "receiver": "sae-console",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "HighLatency", "severity": "critical", "team": "db"},
                "annotations": {"summary": "p99 latency above 1s"},
                "startsAt": "2026-12-01T10:00:00Z",
                "generatorURL": "http://prometheus.example:9090/graph",
            }
        ],
    }
    post_alerts(Client(), token, body)


def demo_console(*, pending_request: bool = True) -> Demo:
    """seed_demo's accounts, plus carol's own contact, a failed delivery, an alert and (with
    pending_request) carol's pending request for ram:ListUsers."""
    from tests.notify.console_support import make_delivery

    report = seed_demo.Command(stdout=StringIO()).seed(PASSWORD)
    account = Account.objects.get(account_id=seed_demo.DEMO.account_id)
    users = {u.user_name: u for u in RamUser.objects.for_account(account)}
    carol = users["carol"]
    with transaction.atomic():
        contact_services.create_contact(
            principal=Principal(account, carol),
            ram_user=carol,
            phone="13733334444",
            mailbox="carol@demo.example.com",
        )
    delivery = make_delivery(account)
    _receive_alert(report["intake_token"])
    pk = 0
    if pending_request:
        pk = approvals.request_permission(
            principal=Principal(account, carol), reason="I add the on-call rotation."
        ).pk
    contacts = {
        (c.ram_user.user_name if c.ram_user_id else "owner"): c
        for c in Contact.objects.for_account(account).select_related("ram_user")
    }
    return Demo(
        account=account,
        users=users,
        contacts=contacts,
        delivery=delivery,
        pending_request_pk=pk,
        unlinked_arms=ArmsContact.objects.get(account=account, contact_id=900003),
        managed_group=ContactGroup.objects.get(account=account, name="sae:contacts"),
        custom_policy=Policy.objects.get(account=account, name=seed_demo.LIST_USERS_POLICY),
        alert_pk=Alert.objects.get(account=account, name="HighLatency").pk,
    )


@dataclass
class Stop:
    """Where the tour is: a page (dialog None) or a panel or dialog open on it."""

    url_name: str
    label: str
    dialog: str | None = None

    def __str__(self) -> str:
        return self.label


@dataclass
class Tour:
    """One principal's walk, in one language, on one page (signed in already)."""

    page: Page
    base_url: str
    demo: Demo
    visit: Callable[[Stop], None]
    dialogs: bool = True
    seen: set[str] = field(default_factory=set)

    # --- helpers ----------------------------------------------------------------------------

    def goto(self, url_name: str, path: str, label: str = "") -> None:
        self.page.goto(self.base_url + path)
        self.page.wait_for_load_state("load")
        self.seen.add(url_name)
        self.visit(Stop(url_name, label or path))

    def modal(self):
        """The open dialog or side panel, once it has come in."""
        dialog = self.page.locator(DIALOG)
        expect(dialog).to_be_visible()
        self.page.wait_for_function(DIALOG_OPEN)
        return dialog

    def open_dialog(self, url_name: str, opener, label: str):
        opener.click()
        dialog = self.modal()
        self.settled()
        self.visit(Stop(url_name, label, dialog=label))
        return dialog

    def close_dialog(self) -> None:
        # Escape is the keyboard tests' business (test_keyboard.py); here the Close button.
        self.page.locator(inside(".btn-close")).click()
        expect(self.page.locator(DIALOG)).to_have_count(0)

    def settled(self) -> None:
        """htmx has swapped and settled (focus moved, the dialog named by its title)."""
        self.page.wait_for_function(
            "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
        )
        self.page.evaluate("() => new Promise(done => setTimeout(done, 60))")

    def after_swap(self, label: str, url_name: str) -> None:
        self.settled()
        self.visit(Stop(url_name, label, dialog=label))

    def refused(self, label: str, url_name: str) -> None:
        """After a submit that must be refused: its errors are shown, then the visit."""
        self.page.wait_for_selector(
            ", ".join(
                inside(what)
                for what in (
                    "[aria-invalid=true]",
                    "[data-testid=form-errors]",
                    "[data-testid$=-errors]",
                )
            )
        )
        self.after_swap(label, url_name)

    def row_delete_and_test(self, row, contact) -> None:
        """The Delete and Test dialogs of `contact`, each opened from its `row` and closed."""
        self.open_dialog(
            "contacts:delete", row.locator(f"a[href$='/{contact.pk}/delete/']"), "Delete Contact"
        )
        self.close_dialog()
        self.open_dialog("notify:contact_test", row.get_by_test_id("test-contact"), "Test")
        self.close_dialog()

    def contact_pages(self, contact) -> None:
        """New Contact, and Edit and Delete of `contact`, as pages of their own."""
        self.goto("contacts:new", "/contacts/new/")
        self.goto("contacts:edit", f"/contacts/{contact.pk}/edit/")
        self.goto("contacts:delete", f"/contacts/{contact.pk}/delete/")

    # --- the owner --------------------------------------------------------------------------

    def owner(self) -> None:
        d = self.demo
        alice, bob = d.contacts["alice"], d.users["bob"]
        self.goto("contacts:list", "/contacts/", "Contact Management")
        if self.dialogs:
            dialog = self.open_dialog(
                "contacts:new", self.page.get_by_test_id("create-contact"), "New Contact panel"
            )
            dialog.get_by_test_id("contact-form").locator("button[type=submit]").first.click()
            self.refused("New Contact panel, refused", "contacts:new")
            self.close_dialog()
            row = self.page.locator(f"tr[data-contact-id='{alice.pk}']")
            dialog = self.open_dialog(
                "contacts:edit", row.locator(f"a[href$='/{alice.pk}/edit/']"), "Edit Contact"
            )
            dialog.locator("input[name=phone]").fill("12345")
            dialog.get_by_test_id("contact-form").locator("button[type=submit]").first.click()
            self.refused("Edit Contact, refused", "contacts:edit")
            self.close_dialog()
            self.row_delete_and_test(row, alice)
            self.open_dialog(
                "arms:merge_contacts", self.page.get_by_test_id("merge-contacts"), "Merge Contacts"
            )
            self.close_dialog()
        self.contact_pages(alice)
        self.goto("arms:merge_contacts", "/arms/merge/")

        self.goto("notify:delivery_list", "/notify/deliveries/")
        if self.dialogs:
            row = self.page.locator(f"tr[data-delivery-id='{d.delivery.pk}']")
            self.open_dialog(
                "notify:delivery_detail",
                row.locator(f"a[href$='/deliveries/{d.delivery.pk}/']"),
                "Delivery detail",
            )
            self.close_dialog()
        self.goto("notify:delivery_detail", f"/notify/deliveries/{d.delivery.pk}/")
        self.goto("alerts:alert_list", "/alerts/")
        self.goto("alerts:alert_detail", f"/alerts/{d.alert_pk}/")
        self.goto("alerts:intake", "/alerts/intake/")
        self.goto("cloud:connection", "/cloud/")
        self.goto("audit:list", "/audit/", "Audit Log")

        self.goto("ram:approval_list", "/ram/approvals/")
        reject = f"/ram/approvals/{d.pending_request_pk}/reject/"
        if self.dialogs:
            dialog = self.open_dialog(
                "ram:approval_reject", self.page.locator(f"a[href='{reject}']"), "Reject"
            )
            dialog.locator("button[type=submit]").click()
            self.refused("Reject, refused", "ram:approval_reject")
            self.close_dialog()
        self.goto("ram:approval_reject", reject)

        self.goto("ram:user_list", "/ram/users/")
        self.goto("ram:user_detail", f"/ram/users/{bob.user_id}/", "RAM user: basic")
        self.goto(
            "ram:user_detail", f"/ram/users/{bob.user_id}/?tab=permissions", "RAM user: permissions"
        )
        authorize = f"/ram/users/{bob.user_id}/authorize/"
        detach = f"/ram/users/{bob.user_id}/policies/AliyunRAMReadOnlyAccess/detach/"
        if self.dialogs:
            dialog = self.open_dialog(
                "ram:user_authorize",
                self.page.locator(f"a[href='{authorize}']"),
                "Add Authorization",
            )
            dialog.locator("#authorize-form button[type=submit]:visible").click()
            self.refused("Add Authorization, refused", "ram:user_authorize")
            self.close_dialog()
            self.open_dialog(
                "ram:user_detach", self.page.locator(f"a[href='{detach}']"), "Remove policy"
            )
            self.close_dialog()
        self.goto("ram:user_authorize", authorize)
        self.goto("ram:user_detach", detach)

        custom = d.custom_policy.name
        self.goto("ram:policy_list", "/ram/policies/")
        self.goto("ram:policy_create", "/ram/policies/create/")
        if self.dialogs:
            self.create_policy_dialog()
        self.goto("ram:policy_detail", "/ram/policies/AdministratorAccess/", "System policy")
        self.goto("ram:policy_detail", f"/ram/policies/{custom}/", "Custom policy")
        self.goto("ram:policy_edit", f"/ram/policies/{custom}/edit/")
        self.goto("ram:policy_delete", f"/ram/policies/{custom}/delete/")

        self.goto("arms:contact_list", "/arms/contacts/")
        arms_delete = f"/arms/contacts/{d.unlinked_arms.pk}/delete/"
        if self.dialogs:
            self.open_dialog(
                "arms:contact_delete",
                self.page.locator(f"a[href='{arms_delete}']"),
                "Delete ARMS contact",
            )
            self.close_dialog()
        self.goto("arms:contact_delete", arms_delete)
        self.goto("arms:group_list", "/arms/groups/")
        self.goto("arms:group_detail", f"/arms/groups/{d.managed_group.pk}/")
        self.goto("arms:policy_list", "/arms/policies/")
        # The merge's result, last: it changes the demo data.
        if self.dialogs:
            self.page.goto(self.base_url + "/contacts/")
            dialog = self.open_dialog(
                "arms:merge_contacts", self.page.get_by_test_id("merge-contacts"), "Merge Contacts"
            )
            # Confirm keeps the report in the dialog; its Close reloads the page, with the
            # merge's summary as a message.
            dialog.locator("form button[type=submit]").click()
            self.page.get_by_test_id("merge-report").wait_for()
            self.settled()
            self.visit(Stop("arms:merge_contacts", "Merge Contacts, report"))
            with self.page.expect_navigation():
                self.page.get_by_test_id("merge-close").click()
            self.page.wait_for_load_state("load")
            self.visit(Stop("contacts:list", "Merge Contacts, result"))
        self.goto("contacts:list", "/contacts/nothing-here/", "404 page")

    def create_policy_dialog(self) -> None:
        """Create Policy's two steps: the Script Editor refusing the skeleton (its Action list
        is empty), then the Create Policy dialog over it, refused without a name."""
        editor = self.page.locator("#policy-editor")
        editor.locator("button[type=submit]").click()
        self.page.wait_for_selector("#policy-editor [data-testid=document-errors]")
        self.settled()
        self.visit(Stop("ram:policy_create", "Script Editor, refused"))
        editor.locator("textarea[name=document]").fill(SEED_POLICY)
        dialog = self.open_dialog(
            "ram:policy_create", editor.locator("button[type=submit]"), "Create Policy dialog"
        )
        dialog.locator("form button[type=submit]").click()
        self.refused("Create Policy dialog, refused", "ram:policy_create")
        self.close_dialog()

    # --- carol (no ram:ListUsers) -----------------------------------------------------------

    def carol(self) -> None:
        d = self.demo
        own = d.contacts["carol"]
        self.goto("contacts:list", "/contacts/", "Contact Management")
        if self.dialogs:
            dialog = self.open_dialog(
                "contacts:new", self.page.get_by_test_id("create-contact"), "New Contact panel"
            )
            withdraw = dialog.locator("[data-testid=permission-request] a[href*='/withdraw/']")
            if withdraw.count():
                # A request is pending already: Withdraw, in place of the panel, first.
                withdraw.click()
                self.page.wait_for_selector(f"{PANEL} [data-testid=withdraw-form]")
                self.after_swap("Withdraw, in the panel", "ram:approval_withdraw")
                dialog.locator("button[type=submit]").click()
                self.page.wait_for_selector(f"{PANEL} a[href^='/ram/approvals/request/']")
                self.after_swap("New Contact panel, request withdrawn", "contacts:new")
            dialog.locator("a[href^='/ram/approvals/request/']").click()
            self.page.wait_for_selector("#modal-host [data-testid=permission-request-form]")
            self.after_swap("Request permission, in the panel", "ram:approval_request")
            dialog.locator("button[type=submit]").click()
            self.refused("Request permission, refused", "ram:approval_request")
            dialog.locator("textarea").fill("To add the on-call rotation.")
            dialog.locator("button[type=submit]").click()
            self.page.wait_for_selector("#modal-host [data-testid=permission-request-pending]")
            self.after_swap("New Contact panel, request pending", "contacts:new")
            dialog.locator("[data-testid=permission-request] a").click()
            self.page.wait_for_selector("#modal-host [data-testid=withdraw-form]")
            self.after_swap("Withdraw, in the panel", "ram:approval_withdraw")
            self.close_dialog()
            row = self.page.locator(f"tr[data-contact-id='{own.pk}']")
            self.open_dialog(
                "contacts:edit", row.locator(f"a[href$='/{own.pk}/edit/']"), "Edit Contact"
            )
            self.close_dialog()
            self.row_delete_and_test(row, own)
        self.contact_pages(own)
        self.goto("ram:approval_list", "/ram/approvals/")
        pending = approvals.PermissionRequest.objects.filter(
            requester=d.users["carol"], status="pending"
        ).first()
        if pending is None:
            self.goto("ram:approval_request", "/ram/approvals/request/")
        else:
            self.goto("ram:approval_withdraw", f"/ram/approvals/{pending.pk}/withdraw/")
            self.goto("ram:approval_request", "/ram/approvals/request/", "Request (pending: 422)")
        self.goto("ram:user_detail", f"/ram/users/{d.users['carol'].user_id}/", "Herself")
        # Pages carol may not open: each answers with a 403 page.
        self.goto("ram:user_list", "/ram/users/", "403: RAM users")
        self.goto("ram:policy_list", "/ram/policies/", "403: policies")
        self.goto("arms:contact_list", "/arms/contacts/", "403: ARMS contacts")
        self.goto("notify:delivery_list", "/notify/deliveries/", "403: deliveries")
        self.goto("audit:list", "/audit/", "403: audit log")


def admin_urls() -> list[str]:
    """The admin's main pages: the index, each app's index, each model's list and add form,
    and the change form of each model's first row."""
    urls = [reverse("admin:index")]
    apps = set()
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        if meta.app_label not in apps:
            apps.add(meta.app_label)
            urls.append(reverse("admin:app_list", args=[meta.app_label]))
        prefix = f"admin:{meta.app_label}_{meta.model_name}"
        urls.append(reverse(f"{prefix}_changelist"))
        if model_admin.has_add_permission(_superuser_request()):
            urls.append(reverse(f"{prefix}_add"))
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            urls.append(reverse(f"{prefix}_change", args=[first.pk]))
    return urls


def _superuser_request():
    request = RequestFactory().get("/admin/")
    request.user = User.objects.get(username="admin")
    return request
