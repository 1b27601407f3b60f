"""rules §12, reflow (WCAG 1.4.10): at 320 px and at 1366 px no console page, panel or dialog
scrolls the page sideways. Wide tables scroll inside their own card at 320 px (a data table
may; the page may not), and at 1366 px the contact table fits whole, Created At included: a
contact with a DingTalk robot (its URL masked, a long word) leaves Edit | Delete | Test in view.
The top bar wraps (Sign out stays on screen) and the query box keeps a usable width."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from contacts.models import Contact
from tests.browser import tour
from tests.browser.conftest import SCREENSHOT_DIR
from tests.browser.test_accessibility import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

DINGTALK = "https://oapi.dingtalk.com/robot/send?access_token=" + "3f2a" * 16
WECOM = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + "9c1d" * 9

# The page's width beyond the viewport, and what sticks out to the right of it.
_OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const over = document.documentElement.scrollWidth - width;
  const out = [];
  if (over > 0) {
    for (const el of document.querySelectorAll("body *")) {
      const r = el.getBoundingClientRect();
      if (r.width && r.right > width + 1 && !el.closest(".table-responsive, .console-card")) {
        out.push((el.id ? "#" + el.id : el.tagName.toLowerCase() + "." +
          [...el.classList].join(".")) + " right=" + Math.round(r.right));
      }
    }
  }
  return {over, out: out.slice(0, 6)};
}"""


def reflow_page(browser, request, width: int) -> Page:
    context = browser.new_context(
        viewport={"width": width, "height": 800}, locale="en-US", reduced_motion="reduce"
    )
    request.addfinalizer(context.close)
    return context.new_page()


def with_robots(demo: tour.Demo) -> Contact:
    """dave's contact gets both robots, so his row carries the longest words there are (the
    walk's Test button is alice's: nothing is sent to them)."""
    from contacts import services
    from ram_directory.principal import Principal

    dave = demo.contacts["dave"]
    return services.update_contact(
        principal=Principal(demo.account),
        contact=dave,
        phone=dave.phone.as_e164,
        mailbox=dave.mailbox,
        dingtalk_webhook=DINGTALK,
        dingtalk_secret=None,
        wecom_webhook=WECOM,
    )


@pytest.mark.parametrize("width", [320, 1366])
def test_no_page_or_dialog_scrolls_sideways(browser, request, live_server, width):
    demo = tour.demo_console(pending_request=True)
    with_robots(demo)
    problems = []
    for who, login in (("owner", tour.OWNER), ("carol", tour.CAROL)):
        page = reflow_page(browser, request, width)
        sign_in(page, live_server.url, login, "en")

        def visit(stop, page=page, who=who):
            result = page.evaluate(_OVERFLOW)
            if result["over"] > 0:
                problems.append(f"{who} {stop}: {result['over']}px too wide {result['out']}")

        getattr(tour.Tour(page, live_server.url, demo, visit=visit), who)()
    anonymous = reflow_page(browser, request, width)
    anonymous.goto(f"{live_server.url}/signin/")
    if anonymous.evaluate(_OVERFLOW)["over"] > 0:
        problems.append("sign-in page")
    assert problems == []


def test_the_contact_table_and_the_top_bar_fit(browser, request, live_server):
    demo = tour.demo_console(pending_request=False)
    dave = with_robots(demo)
    for width in (1366, 320):
        page = reflow_page(browser, request, width)
        sign_in(page, live_server.url, tour.OWNER, "en")
        page.goto(f"{live_server.url}/contacts/")
        row = page.locator(f"tr[data-contact-id='{dave.pk}']")
        expect(row).to_contain_text("3f2a…3f2a")
        sign_out = page.get_by_role("button", name="Sign out")
        box = sign_out.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, "Sign out is cut off"
        query = page.locator("#contact-query input[name=q]").bounding_box()
        assert query and query["width"] >= 120, f"query box {query and query['width']}px wide"
        actions = [
            row.get_by_role("link", name="Edit"),
            row.get_by_role("link", name="Delete"),
            row.get_by_role("button", name="Test"),
        ]
        if width == 1366:
            # The whole row is in view: nothing to scroll, inside the card or out of it (the
            # table's own scroll box would clip the last column without moving it out of the
            # card, so its edge is the one that counts).
            scroller = page.locator("#contact-rows .table-responsive")
            over = scroller.evaluate("el => el.scrollWidth - el.clientWidth")
            assert over <= 0, f"the contact table scrolls sideways by {over}px"
            box = scroller.bounding_box()
            for action in actions:
                r = action.bounding_box()
                assert r and r["x"] + r["width"] <= box["x"] + box["width"], "Actions cut off"
        else:
            # Narrow: the table scrolls in its card, and each action scrolls into view.
            for action in actions:
                action.focus()
                r = action.bounding_box()
                assert r and r["x"] >= 0 and r["x"] + r["width"] <= width
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT_DIR / f"reflow-contacts-{width}.png"), full_page=True)
