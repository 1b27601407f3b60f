"""rules §11 and §12 in a browser: every console page, panel and dialog (as the owner and as carol),
the sign-in page and the admin, in zh-Hans, show no English of this project and no English
plural ending on a Chinese word ("RAM 用户s").

What a page shows is its visible text, its accessible names (aria-label, title, placeholder)
and its title. Data is not the interface: every text stored in the database (names, e-mail
addresses, comments, a custom policy's description, alert labels...) is taken out before the
check, except the texts the console itself stores in English and shows translated (the system
policies', the approval grant policy's and the `sae:` groups' descriptions), which must show
translated, in the console and in the admin alike. Left out as well: code and secrets (code, pre,
masked robots), identifiers (ram:ListUsers, URLs, e-mail addresses) and the names that stay
English in the real Chinese console (RAM, ARMS, SAE, ID...). Django's own admin strings come
from Django's catalogue; the few it leaves in English are listed in THIRD_PARTY.
"""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.db import models

from tests.browser import tour

pytestmark = pytest.mark.django_db(transaction=True)

# Names and abbreviations the real Chinese console writes in Latin letters.
KEPT = {
    "Serverless", "RAM", "ARMS", "SAE", "ID", "UID", "UPN", "JSON", "URL", "HTTP", "HTTPS",
    "SMTP", "API", "ARN", "E.164", "Alertmanager", "Prometheus", "Webhook", "webhook",
    "errcode", "errmsg", "ms", "English", "ListUsers", "GetUser", "SEC", "Bearer", "token",
    "Token", "Deny", "Allow", "Version", "Statement", "Effect", "Action", "Resource",
    "Condition", "UTC",
}  # fmt: skip
# Texts of Django's own admin that its zh-Hans catalogue leaves in English (the date
# shortcuts' accessible names, a help text naming keys and LDAP, the sort and filter hints),
# and names that are Django's. Third-party apps' model and field names are collected from
# their models (third_party_names).
THIRD_PARTY = [
    re.compile(r"^(Today|Yesterday|Tomorrow|Now|Midnight|Noon|6 a\.m\.|6 p\.m\.) \("),
    re.compile(r"\((today|yesterday|tomorrow)\)$"),
    re.compile(r"^Filter by "),
    # a password hash or salt, masked by Django's admin: mask_hash shows 2 or 6 characters, and
    # a random salt that begins with six letters read as an English word
    re.compile(r"^\w{2,6}\*+$"),
    re.compile(r"Control 键或 Mac 上的 Command 键"),
    re.compile(r"LDAP"),
    re.compile(r"Django"),
]

THIRD_PARTY_ADMIN = ("/admin/axes/", "/admin/django_tasks_database/")
_TEXTS = """() => {
  const out = [document.title];
  const skip = "script, style, noscript, code, pre, kbd, samp, textarea, option:not(:checked)," +
    " .secret-mask, [data-i18n-data]";
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const addresses = new Set();  // an address split where it may break is read whole
  while (walker.nextNode()) {
    const parent = walker.currentNode.parentElement;
    if (!parent || parent.closest(skip)) continue;
    const address = parent.closest(".address");
    if (address) {
      if (!addresses.has(address)) out.push(address.textContent.replace(/\\s+/g, " ").trim());
      addresses.add(address);
      continue;
    }
    const hidden = !parent.getClientRects().length && !parent.closest(".visually-hidden");
    if (hidden) continue;
    const text = walker.currentNode.textContent.replace(/\\s+/g, " ").trim();
    if (text) out.push(text);
  }
  for (const el of document.querySelectorAll("[aria-label], [title], [placeholder], " +
      "input[type=submit], input[type=button]")) {
    if (el.closest(skip)) continue;
    for (const name of ["aria-label", "title", "placeholder"]) {
      if (el.getAttribute(name)) out.push(el.getAttribute(name));
    }
    if (el.matches("input[type=submit], input[type=button]")) out.push(el.value);
  }
  return out;
}"""
# URLs and e-mail addresses (taken out first: data may be part of one); then, once data is
# out, actions (ram:ListUsers), sae: names, numbers, words with digits, policy names in
# CamelCase (SAEContactsListUsers) and placeholders (<token>).
ADDRESS = re.compile(r"https?://\S+|[\w.+-]+@[\w.-]+|\bacs:\S+")
IDENTIFIER = re.compile(
    r"\b[a-z]+:[A-Za-z*?]+|\bsae:\w+|\+?\d[\d\s-]*|[\w-]*\d[\w-]*|#\d+|<[^>]+>|"
    r"\b[A-Z][a-z]*[A-Z]\w*"
)
ENGLISH_WORD = re.compile(r"[A-Za-z][A-Za-z'\u2019-]*[A-Za-z]")
PLURAL_S = re.compile(r"[\u3400-\u9fff]\s?s\b")


def stored_texts() -> set[str]:
    """Every text value in the project's tables (data, not interface), longest first so a
    text is taken out before any text it contains."""
    from arms_sync.models import MANAGED_GROUP_DESCRIPTIONS
    from ram_directory.models import CONSOLE_POLICY_DESCRIPTIONS

    ours = set(CONSOLE_POLICY_DESCRIPTIONS.values()) | set(MANAGED_GROUP_DESCRIPTIONS.values())
    texts: set[str] = set()
    for config in apps.get_app_configs():
        if config.name not in {"ram_directory", "contacts", "arms_sync"}:
            continue
        for model in config.get_models():
            fields = [
                f.attname
                for f in model._meta.concrete_fields
                if isinstance(f, models.CharField | models.TextField | models.JSONField)
            ]
            for row in model._default_manager.values_list(*fields):
                for value in row:
                    texts |= set(_strings(value))
    return {t for t in texts if t and t not in ours}


def third_party_names() -> set[str]:
    """The verbose names of the apps, models and fields of third-party apps (axes,
    django-tasks-db, Django's own): their own strings, translated or not by their catalogues."""
    names: set[str] = set()
    for config in apps.get_app_configs():
        if config.name in {"ram_directory", "contacts", "arms_sync"}:
            continue
        names.add(str(config.verbose_name))
        for model in config.get_models():
            for name in (model._meta.verbose_name, model._meta.verbose_name_plural):
                names |= {str(name), str(name)[:1].upper() + str(name)[1:]}
            for f in model._meta.get_fields():
                if hasattr(f, "verbose_name"):
                    names |= {str(f.verbose_name), str(f.verbose_name).capitalize()}
    return {n for n in names if n}


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value, str(value)]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [] if value is None else [str(value)]


class EnglishLedger:
    def __init__(self):
        self.third_party = third_party_names()
        self.found: dict[str, set[str]] = {}
        self.refresh()

    def refresh(self) -> None:
        """Read the data again (a walk adds some: a reason typed, a merge's contacts)."""
        self.data = sorted(stored_texts() | self.third_party, key=len, reverse=True)

    def english_in(self, text: str) -> list[str]:
        if any(pattern.search(text) for pattern in THIRD_PARTY):
            return []
        problems = [f"plural s: {m.group(0)!r}" for m in PLURAL_S.finditer(text)]
        text = ADDRESS.sub(" ", text)
        for value in self.data:
            if len(value) > 1 and value in text:
                text = re.sub(rf"(?<![A-Za-z]){re.escape(value)}(?![A-Za-z])", " ", text)
        text = IDENTIFIER.sub(" ", text)
        words = [w for w in ENGLISH_WORD.findall(text) if w not in KEPT]
        return problems + ([" ".join(words)] if words else [])

    def check(self, page, where: str) -> None:
        self.refresh()
        for text in page.evaluate(_TEXTS):
            for problem in self.english_in(text):
                self.found.setdefault(f"{problem!s} <- {text!r}", set()).add(where)

    def report(self) -> str:
        return "\n".join(
            f"{problem}   [{', '.join(sorted(where)[:3])}]"
            for problem, where in sorted(self.found.items())
        )


@pytest.fixture
def zh_page(browser, request):
    context = browser.new_context(
        viewport={"width": 1360, "height": 900}, locale="zh-CN", reduced_motion="reduce"
    )
    request.addfinalizer(context.close)
    return context.new_page()


@pytest.mark.parametrize("who", ["owner", "carol"])
def test_the_console_in_chinese_has_no_english_of_this_project(zh_page, live_server, who):
    demo = tour.demo_console(pending_request=who == "owner")
    from tests.browser.test_accessibility import sign_in

    sign_in(zh_page, live_server.url, tour.OWNER if who == "owner" else tour.CAROL, "zh-hans")
    ledger = EnglishLedger()
    walk = tour.Tour(
        zh_page,
        live_server.url,
        demo,
        visit=lambda stop: ledger.check(zh_page, str(stop)),
    )
    getattr(walk, who)()
    assert ledger.found == {}, "\n" + ledger.report()


def test_sign_in_and_the_admin_in_chinese_have_no_english_of_this_project(zh_page, live_server):
    tour.demo_console()
    page = zh_page
    page.context.add_cookies(
        [{"name": "django_language", "value": "zh-hans", "url": live_server.url}]
    )
    ledger = EnglishLedger()
    page.goto(f"{live_server.url}/signin/")
    ledger.check(page, "sign-in")
    page.goto(f"{live_server.url}/admin/login/")
    page.locator("input[name=username]").fill("admin")
    page.locator("input[name=password]").fill(tour.PASSWORD)
    page.locator("input[type=submit]").click()
    page.wait_for_load_state("load")
    for url in tour.admin_urls():
        if url.startswith(THIRD_PARTY_ADMIN):
            continue  # a third-party app's own pages (its names are still checked elsewhere)
        page.goto(live_server.url + url)
        ledger.check(page, url)
    assert ledger.found == {}, "\n" + ledger.report()
