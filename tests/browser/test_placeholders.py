"""Issue 18: "placeholders that fit their boxes". Every text box with a placeholder, on the pages
that have one, shows it whole at 1366 px and 375 px, in English and Chinese: the placeholder's
width in the box's own font is no wider than the box's content area."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD, AccountFactory

pytestmark = pytest.mark.django_db(transaction=True)

PAGES = (
    "/contacts/",
    "/contacts/new/",
    "/arms/contacts/",
    "/alerts/",
    "/notify/deliveries/",
    "/ram/users/",
    "/ram/policies/",
)

# [placeholder, its width, the box's content width] of each visible box whose placeholder is
# cut (measured with a canvas in the box's computed font).
CUT_PLACEHOLDERS = """() => {
  const ctx = document.createElement('canvas').getContext('2d');
  const cut = [];
  for (const el of document.querySelectorAll('input[placeholder], textarea[placeholder]')) {
    if (!el.offsetParent || !el.placeholder) continue;
    const s = getComputedStyle(el);
    ctx.font = `${s.fontStyle} ${s.fontWeight} ${s.fontSize} ${s.fontFamily}`;
    const text = ctx.measureText(el.placeholder).width;
    const room = el.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight);
    if (text > room + 0.5) cut.push([el.placeholder, Math.round(text), Math.round(room)]);
  }
  return cut;
}"""


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_every_placeholder_fits_its_box(page, live_server, signin_page, language):
    account = AccountFactory(login_name="ops@example.com")
    signin_page(account.login_name, PASSWORD)
    page.context.add_cookies(
        [{"name": "django_language", "value": language, "url": live_server.url}]
    )
    cut = {}
    for width in (1366, 375):
        page.set_viewport_size({"width": width, "height": 900})
        for path in PAGES:
            page.goto(f"{live_server.url}{path}")
            found = page.evaluate(CUT_PLACEHOLDERS)
            if found:
                cut[f"{path} at {width} px"] = found
    assert not cut, cut
