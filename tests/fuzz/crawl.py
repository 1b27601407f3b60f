"""The crawl: from every parameterless URL, as each role, every page it can reach, the links
on them and the forms (each field and the values the page offers for it). Real IDs of both
accounts and the fields of every form come from here, not from a hand-kept list.
"""

from __future__ import annotations

import contextlib
import copy
from collections import defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

from django.test import Client

from tests.fuzz.site import ENDPOINTS, Outcome, outcome_of, route_of


@dataclass
class Form:
    method: str
    action: str  # absolute path (and query) the form posts to
    fields: dict[str, list[str]] = field(default_factory=dict)  # name -> values offered


class PageParser(HTMLParser):
    """Links (href, hx-get, GET form actions) and forms (with every named field and the
    values the page offers for it) of one page."""

    def __init__(self, url: str):
        super().__init__(convert_charrefs=True)
        self.url = url
        self.links: list[str] = []
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._formactions: list[str] = []
        self._select: str | None = None
        self._textarea: str | None = None

    def _absolute(self, href: str) -> str | None:
        if not href or href.startswith(("#", "javascript:", "mailto:", "data:")):
            return None
        target = urlsplit(urljoin(self.url, href))
        if target.netloc not in ("", "testserver") or target.path.startswith("/static/"):
            return None
        return target.path + (f"?{target.query}" if target.query else "")

    def _offer(self, name: str | None, value: str | None) -> None:
        if self._form is not None and name:
            values = self._form.fields.setdefault(name, [])
            if value is not None and value not in values:
                values.append(value)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        for key in ("href", "hx-get"):
            if key in a and (link := self._absolute(a[key])):
                self.links.append(link)
        if tag == "form":
            method = (a.get("method") or "get").upper()
            action = self._absolute(a.get("action") or self.url) or self.url
            self._form = Form(method=method, action=action)
            self._formactions = []
            if "hx-post" in a and (target := self._absolute(a["hx-post"])):
                self._formactions.append(target)
        elif self._form is None:
            return
        elif tag in ("input", "button"):
            kind = a.get("type", "text" if tag == "input" else "submit").lower()
            if a.get("formaction") and (target := self._absolute(a["formaction"])):
                self._formactions.append(target)
            if kind in ("checkbox", "radio"):
                self._offer(a.get("name"), a.get("value") or "on")
            elif kind not in ("file", "image", "reset"):
                self._offer(a.get("name"), a.get("value", ""))
        elif tag == "select":
            self._select = a.get("name")
            self._offer(self._select, None)
        elif tag == "option" and self._select:
            self._offer(self._select, a.get("value", ""))
        elif tag == "textarea":
            self._textarea = a.get("name")
            self._offer(self._textarea, None)

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self._offer(self._textarea, data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form" and self._form is not None:
            form = self._form
            self.forms.append(form)
            for action in dict.fromkeys(self._formactions):
                if action != form.action:
                    self.forms.append(Form(form.method, action, copy.deepcopy(form.fields)))
            if form.method == "GET":
                query = "&".join(f"{name}=" for name in form.fields)
                self.links.append(form.action.split("?")[0] + (f"?{query}" if query else ""))
            self._form = None


def parse_page(url: str, html: str) -> PageParser:
    parser = PageParser(url)
    with contextlib.suppress(AssertionError):  # malformed markup ends the parse, not the test
        parser.feed(html)
    return parser


def _by_role_and_route() -> dict[str, dict[str, list[str]]]:
    return defaultdict(lambda: defaultdict(list))


@dataclass
class Crawl:
    """What each role reached: every GET and its outcome, the URLs per route, the forms."""

    outcomes: list[Outcome] = field(default_factory=list)
    # role -> route -> URLs: opened with GET, and the targets of the POST forms seen.
    urls: dict[str, dict[str, list[str]]] = field(default_factory=_by_role_and_route)
    actions: dict[str, dict[str, list[str]]] = field(default_factory=_by_role_and_route)
    forms: dict[str, list[Form]] = field(default_factory=lambda: defaultdict(list))  # route

    def fields_for(self, route: str, method: str = "POST") -> dict[str, list[str]]:
        merged: dict[str, list[str]] = {}
        for form in self.forms.get(route, []):
            if form.method != method:
                continue
            for name, values in form.fields.items():
                merged.setdefault(name, [])
                merged[name].extend(v for v in values if v not in merged[name])
        return merged

    def known_urls(self, route: str, roles: tuple[str, ...] | None = None) -> list[str]:
        found: list[str] = []
        for table in (self.urls, self.actions):
            for role, by_route in table.items():
                if roles is None or role in roles:
                    found.extend(u for u in by_route.get(route, []) if u not in found)
        return found


def seeds() -> list[str]:
    return ["/"] + [
        "/" + e.route for e in ENDPOINTS if not e.params and not e.is_regex and "<" not in e.route
    ]


def crawl(clients: dict[str, Client], *, per_route: int = 2, admin_per_route: int = 1) -> Crawl:
    """Breadth first from every parameterless URL, following links within the console, at
    most `per_route` distinct URLs per route and role, and as many again for each other set of
    query parameters (`?tab=permissions` shows another page than the user's first tab); in the
    admin `admin_per_route`."""
    result = Crawl()
    for role, client in clients.items():
        queue = list(dict.fromkeys(seeds()))
        seen: set[str] = set()
        taken: dict[tuple, int] = defaultdict(int)
        while queue:
            url = queue.pop(0)
            if url in seen:
                continue
            seen.add(url)
            route = route_of(url)
            if route is None:
                continue
            # The admin's sorting and filter links are many and alike: one URL per route.
            if route.startswith("admin/"):
                cap, kind = admin_per_route, (route,)
            else:
                query = parse_qs(urlsplit(url).query, keep_blank_values=True)
                cap, kind = per_route, (route, *sorted(query))
            if taken[kind] >= cap:
                continue
            taken[kind] += 1
            result.urls[role][route].append(url)
            response = client.get(url)
            result.outcomes.append(outcome_of(response, role, "GET", url))
            if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
                continue
            page = parse_page(url, response.content.decode("utf-8", "replace"))
            for form in page.forms:
                form_route = route_of(form.action)
                if form_route is not None:
                    result.forms[form_route].append(form)
                    actions = result.actions[role][form_route]
                    if form.method == "POST" and form.action not in actions:
                        actions.append(form.action)
            queue.extend(link for link in page.links if link not in seen)
    return result
