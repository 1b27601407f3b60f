"""rules §12 with the keyboard alone: the side panels New Contact and Add Authorization, the
dialogs Edit, Delete, Merge Contacts and Create Policy (its step 2, over the Script Editor).
Focus moves into the panel or dialog when it opens and Tab keeps it inside; a
refused submit leaves focus in the dialog, on the first invalid field, and its errors are read
out (the dialog's live region); Escape closes; focus goes back to what opened it, after Escape
and after a Confirm that succeeded (found again when the list it was in was reloaded); the
confirmation is appended to the messages live region.

Each test reaches the opener with focus() (where Tab would take a person) and from there uses
only the keyboard."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, expect

from contacts.models import Contact
from ram_directory.models import Policy
from tests.browser import tour
from tests.browser.test_accessibility import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

MODAL = tour.DIALOG  # whichever is open: a modal dialog or a side panel
FOCUS_IN_DIALOG = (
    f"() => {{ const m = document.querySelector({tour.DIALOG!r});"
    " return !!m && m.contains(document.activeElement); }"
)
ACTIVE = "() => document.activeElement"


@pytest.fixture
def demo():
    return tour.demo_console(pending_request=False)


@pytest.fixture
def owner_page(browser, request, live_server, demo) -> Page:
    context = browser.new_context(
        viewport={"width": 1360, "height": 900}, locale="en-US", reduced_motion="reduce"
    )
    request.addfinalizer(context.close)
    page = context.new_page()
    sign_in(page, live_server.url, tour.OWNER, "en")
    return page


def press_to_open(page: Page, opener) -> None:
    opener.focus()
    page.keyboard.press("Enter")
    expect(page.locator(MODAL)).to_be_visible()
    page.wait_for_function(FOCUS_IN_DIALOG)


def assert_tab_stays_inside(page: Page, presses: int = 25) -> None:
    for _ in range(presses):
        page.keyboard.press("Tab")
        assert page.evaluate(FOCUS_IN_DIALOG), "Tab left the open dialog"
    for _ in range(3):
        page.keyboard.press("Shift+Tab")
        assert page.evaluate(FOCUS_IN_DIALOG), "Shift+Tab left the open dialog"


def tab_to(page: Page, selector: str, limit: int = 40) -> None:
    """Tab (inside the dialog) until the element matching selector has focus."""
    for _ in range(limit):
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def tab_and_type(page: Page, selector: str, text: str) -> None:
    """Tab to the field matching selector and type `text` there."""
    tab_to(page, selector)
    page.keyboard.type(text)


def assert_refused_in_place(page: Page, field: str, error: str) -> None:
    """The submit was refused: the dialog is open, its first invalid field has focus (its
    message is read with it), and the dialog's live region says what to check."""
    expect(page.locator(MODAL)).to_be_visible()
    invalid = page.locator(tour.inside(field)).first
    expect(invalid).to_be_focused()
    expect(invalid).to_have_attribute("aria-invalid", "true")
    announcer = page.locator(tour.inside("[data-dialog-announcer]"))
    expect(announcer).to_have_attribute("aria-live", "assertive")
    expect(announcer).to_contain_text(error)


def close_with_escape(page: Page) -> None:
    page.keyboard.press("Escape")
    expect(page.locator(MODAL)).to_have_count(0)


def assert_closed_with_focus_on(page: Page, target) -> None:
    """A Confirm that succeeded closed the dialog and focus went to `target`."""
    expect(page.locator(MODAL)).to_have_count(0)
    expect(target).to_be_focused()


def escape_and_reopen(page: Page, opener, *, presses: int) -> None:
    """Tab and Shift+Tab stay in the open dialog, Escape closes it and gives focus back to
    `opener`, and Enter there opens the dialog again."""
    assert_tab_stays_inside(page, presses=presses)
    close_with_escape(page)
    expect(opener).to_be_focused()
    press_to_open(page, opener)


def assert_side_panel(page: Page, title: str) -> None:
    """What is open is the product page's side panel: a modal dialog named by its title, at
    the right edge, with the page still in view beside it; not a centred modal."""
    panel = page.locator(tour.PANEL)
    expect(panel).to_have_count(1)
    expect(page.locator(tour.MODAL)).to_have_count(0)
    expect(panel).to_have_attribute("role", "dialog")
    expect(panel).to_have_attribute("aria-modal", "true")
    expect(page.get_by_role("dialog", name=title)).to_have_count(1)
    box = panel.bounding_box()
    viewport = page.viewport_size
    assert box and abs(box["x"] + box["width"] - viewport["width"]) <= 1, box  # at the right
    assert 0 < box["width"] <= 640 and box["height"] >= viewport["height"] - 1, box
    # The page's heading starts well to the left of the panel: the page is in view beside it.
    heading = page.locator("#main h1").bounding_box()
    assert heading and heading["x"] + 200 < box["x"], "the panel hides the page"


def open_side_panel(page: Page, opener, title: str) -> None:
    """Enter on `opener` opens the side panel `title`; Tab and Shift+Tab stay inside it."""
    press_to_open(page, opener)
    assert_side_panel(page, title)
    assert_tab_stays_inside(page)


def test_new_contact_with_the_keyboard(owner_page, live_server, demo, shot):
    page = owner_page
    page.goto(f"{live_server.url}/contacts/")
    opener = page.get_by_test_id("create-contact")
    open_side_panel(page, opener, "New Contact")
    # Phone typed, no RAM user chosen: Enter in the field submits; refused.
    tab_and_type(page, "input[name=phone]", "13899990000")
    page.keyboard.press("Enter")
    assert_refused_in_place(page, "select[name=ram_user]", "Not saved. Check: RAM user")
    shot("new-contact-refused")
    # Again, to the end: erin has no contact yet (her RAM phone is Hong Kong's).
    escape_and_reopen(page, opener, presses=5)
    tab_and_type(page, "select[name=ram_user]", "erin")
    tab_and_type(page, "input[name=phone]", "13899990000")
    page.keyboard.press("Enter")
    assert_closed_with_focus_on(page, opener)
    expect(page.locator("#messages")).to_contain_text("Contact erin created.")
    expect(page.locator("#messages")).to_have_attribute("aria-live", "polite")
    shot("new-contact-created")


def test_edit_with_the_keyboard(owner_page, live_server, demo):
    page = owner_page
    alice = demo.contacts["alice"]
    page.goto(f"{live_server.url}/contacts/")
    edit = f"#contact-rows a[href='/contacts/{alice.pk}/edit/']"
    press_to_open(page, page.locator(edit))
    assert_tab_stays_inside(page)
    tab_to(page, "input[name=phone]")
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("12345")
    page.keyboard.press("Enter")
    assert_refused_in_place(page, "input[name=phone]", "Not saved. Check: Phone Number.")
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("13811110000")
    page.keyboard.press("Enter")
    # The rows were reloaded: the same row's Edit (a new element) has focus.
    assert_closed_with_focus_on(page, page.locator(edit))
    expect(page.locator("#messages")).to_contain_text("alice")
    alice.refresh_from_db()
    assert alice.phone.as_e164 == "+8613811110000"


def test_delete_with_the_keyboard(owner_page, live_server, demo):
    page = owner_page
    bob = demo.contacts["bob"]
    page.goto(f"{live_server.url}/contacts/")
    delete = page.locator(f"#contact-rows a[href='/contacts/{bob.pk}/delete/']")
    press_to_open(page, delete)
    escape_and_reopen(page, delete, presses=6)
    tab_to(page, "button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.locator(MODAL)).to_have_count(0)
    expect(page.locator(f"tr[data-contact-id='{bob.pk}']")).to_have_count(0)
    # The row and its Delete are gone: focus lands on the page's heading, never the body.
    expect(page.get_by_role("heading", name="Contact Management", level=1)).to_be_focused()
    expect(page.locator("#messages")).to_contain_text("bob")
    assert not Contact.objects.filter(pk=bob.pk).exists()


def test_merge_contacts_with_the_keyboard(owner_page, live_server, demo):
    page = owner_page
    page.goto(f"{live_server.url}/contacts/")
    merge = page.get_by_test_id("merge-contacts")
    press_to_open(page, merge)
    escape_and_reopen(page, merge, presses=8)
    tab_to(page, "form button[type=submit]")
    page.keyboard.press("Enter")
    # Confirm keeps the report in the dialog, focus on its summary; Close reloads the page and
    # gives focus back to Merge Contacts there.
    expect(page.get_by_test_id("merge-done")).to_be_focused()
    expect(page.get_by_test_id("merge-done")).to_contain_text("Merge Contacts finished")
    tab_to(page, "[data-testid=merge-close]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_test_id("merge-contacts")).to_be_focused()


def test_add_authorization_with_the_keyboard(owner_page, live_server, demo, shot):
    page = owner_page
    bob = demo.users["bob"]
    page.goto(f"{live_server.url}/ram/users/{bob.user_id}/?tab=permissions")
    opener = page.locator(f"a[href='/ram/users/{bob.user_id}/authorize/']")
    open_side_panel(page, opener, "Add Authorization")
    # Confirm with nothing checked: refused, the first policy's box has focus.
    tab_to(page, "#authorize-form button[type=submit]")
    page.keyboard.press("Enter")
    assert_refused_in_place(
        page, "input[name=policies]:not([disabled])", "Not saved. Check: Policy."
    )
    shot("add-authorization-refused")
    escape_and_reopen(page, opener, presses=5)
    tab_to(page, "input[name=policies]:not([disabled])")
    page.keyboard.press("Space")
    tab_to(page, "#authorize-form button[type=submit]")
    page.keyboard.press("Enter")
    assert_closed_with_focus_on(page, opener)
    expect(page.locator("#messages")).to_contain_text("Authorization added")
    assert bob.policies.count() == 2


SEED_POLICY = (
    '{"Version": "1", "Statement": [{"Effect": "Allow",'
    ' "Action": ["ram:ListUsers", "ram:GetUser"], "Resource": "*"}]}'
)


def test_create_policy_with_the_keyboard(owner_page, live_server, demo, shot):
    """Seed Step 1.1: Script Editor, Confirm, the Create Policy dialog (Name, Description),
    Confirm. A refused document stays in the editor, its field focused; a refused name in the
    dialog, focused and announced; Escape goes back to the editor, on its Confirm."""
    page = owner_page
    page.goto(f"{live_server.url}/ram/policies/create/")
    editor = page.get_by_label("Script Editor")
    confirm = page.locator("#policy-editor button[type=submit]")
    # The skeleton's empty Action list is refused in place: no dialog, the editor focused.
    confirm.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("document-errors")).to_contain_text("must not be empty")
    expect(page.get_by_label("Script Editor")).to_be_focused()
    expect(page.locator(MODAL)).to_have_count(0)
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type(SEED_POLICY)
    page.keyboard.press("Tab")
    expect(confirm).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(tour.MODAL)).to_be_visible()
    page.wait_for_function(FOCUS_IN_DIALOG)
    expect(page.get_by_role("dialog", name="Create Policy")).to_have_count(1)
    assert_tab_stays_inside(page, presses=8)
    tab_to(page, "input[name=name]")
    page.keyboard.press("Enter")  # no name: refused in the dialog
    assert_refused_in_place(page, "input[name=name]", "Not saved. Check: Name.")
    page.keyboard.type("bad name!")
    page.keyboard.press("Enter")
    assert_refused_in_place(page, "input[name=name]", "Not saved. Check: Name.")
    expect(page.locator(MODAL).get_by_test_id("name-errors")).to_contain_text("1-128 letters")
    shot("create-policy-refused")
    close_with_escape(page)
    expect(confirm).to_be_focused()  # back on the Script Editor's Confirm, the text kept
    expect(editor).to_have_value(SEED_POLICY)
    page.keyboard.press("Enter")
    page.wait_for_function(FOCUS_IN_DIALOG)
    tab_and_type(page, "input[name=name]", "KeyboardPolicy")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="KeyboardPolicy")).to_be_visible()
    expect(page.locator("#messages")).to_contain_text("Policy KeyboardPolicy created.")
    assert Policy.objects.get(account=demo.account, name="KeyboardPolicy").document == json.loads(
        SEED_POLICY
    )
