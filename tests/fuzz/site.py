"""The console as the fuzz suite sees it: every URL pattern from the URLconf, the pages a crawl
reaches from them as each role, the forms on those pages, and raw requests of any shape.

Nothing here is a hand-kept list: endpoints come from walking `get_resolver()`, real IDs and
form fields from crawling the pages each role can open, so a view added tomorrow is attacked
tomorrow.
"""

from __future__ import annotations

import contextlib
import copy
import json
import re
import traceback
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote_from_bytes, urljoin, urlsplit

from django.apps import apps
from django.db import connection, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404

from tests.fuzz import stats

# The apps whose tables a refused request must leave exactly as they were.
APP_LABELS = ("ram_directory", "contacts", "arms_sync", "django_tasks_database")
_SERIAL = ("AutoField", "BigAutoField")
_CONVERTER = re.compile(r"<(?:(?P<kind>[^>:]+):)?(?P<name>[^>]+)>")


@dataclass(frozen=True)
class Endpoint:
    """One URL pattern: its route as Django reports it (`ResolverMatch.route`), its name."""

    route: str
    name: str
    is_regex: bool
    regex: str  # the full pattern, for generating paths of regex routes
    params: tuple[tuple[str, str], ...]  # (name, converter kind) of route patterns

    @property
    def label(self) -> str:
        return self.name or self.route

    @property
    def is_admin(self) -> bool:
        return self.route.startswith("admin/")

    def path(self, values: dict[str, str]) -> str:
        """The URL path with these parameter values (percent-encoded as a client sends them;
        lone surrogates as the bytes a broken client writes)."""

        def fill(match: re.Match) -> str:
            value = values[match["name"]]
            return quote_from_bytes(value.encode("utf-8", "surrogatepass"), safe="/")

        return "/" + _CONVERTER.sub(fill, self.route)


def _join(route1: str, route2: str) -> str:
    return route2 if not route1 else route1 + route2.removeprefix("^")


def _regex_of(pattern) -> str:
    return pattern.regex.pattern.removeprefix("^").removesuffix(r"\Z").removesuffix("$")


def walk_urlconf() -> list[Endpoint]:
    """Every URL pattern of the project, depth first, as `resolve()` names its route."""
    endpoints: list[Endpoint] = []

    def visit(resolver: URLResolver, route: str, regex: str, namespace: str, is_regex: bool):
        for entry in resolver.url_patterns:
            sub_route = _join(route, str(entry.pattern))
            sub_regex = regex + _regex_of(entry.pattern)
            sub_is_regex = is_regex or entry.pattern.__class__.__name__ == "RegexPattern"
            if isinstance(entry, URLResolver):
                inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                visit(entry, sub_route, sub_regex, inner, sub_is_regex)
            elif isinstance(entry, URLPattern):
                params = tuple(
                    (m["name"], m["kind"] or "str") for m in _CONVERTER.finditer(sub_route)
                )
                name = f"{namespace}{entry.name}" if entry.name else ""
                endpoints.append(
                    Endpoint(
                        route=sub_route,
                        name=name,
                        is_regex=sub_is_regex,
                        regex=sub_regex,
                        params=() if sub_is_regex else params,
                    )
                )

    visit(get_resolver(), "", "", "", False)
    return endpoints


ENDPOINTS = walk_urlconf()
BY_ROUTE = {endpoint.route: endpoint for endpoint in ENDPOINTS}


def route_of(path: str) -> str | None:
    try:
        return resolve(urlsplit(path).path).route
    except Resolver404:
        return None


# --- pages and their forms -------------------------------------------------------------------


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


# --- requests --------------------------------------------------------------------------------


@dataclass
class Outcome:
    role: str
    method: str
    url: str
    status: int
    cache_control: str
    problem: str  # the traceback of a 5xx, else ""


def problem_of(response) -> str:
    if response.status_code < 500:
        return ""
    exc_info = getattr(response, "exc_info", None)
    if exc_info and exc_info[0]:
        return "".join(traceback.format_exception(*exc_info))
    return response.content[:2000].decode("utf-8", "replace")


def outcome_of(response, role: str, method: str, url: str) -> Outcome:
    return Outcome(
        role=role,
        method=method,
        url=url,
        status=response.status_code,
        cache_control=response.get("Cache-Control", ""),
        problem=problem_of(response),
    )


def request(client: Client, role: str, method: str, url: str, **kwargs: Any) -> Outcome:
    return outcome_of(client.generic(method, url, **kwargs), role, method, url)


def encode_body(data: list[tuple[str, str]], encoding: str) -> tuple[bytes, str]:
    """A request body of these fields, as bytes an attacker's client could send: UTF-8 with
    lone surrogates written as their (invalid) three bytes, NUL and controls as they are."""

    def raw(text: str) -> bytes:
        return text.encode("utf-8", "surrogatepass")

    if encoding == "urlencoded":
        body = "&".join(
            f"{quote_from_bytes(raw(k), safe='')}={quote_from_bytes(raw(v), safe='')}"
            for k, v in data
        )
        return body.encode("ascii"), "application/x-www-form-urlencoded"
    if encoding == "json":
        return raw(json.dumps(dict(data))), "application/json"
    if encoding == "garbage":
        return raw("".join(k + v for k, v in data))[:4096], "multipart/form-data; boundary=x"
    boundary = uuid.uuid4().hex
    parts = []
    for key, value in data:
        parts.append(
            b'--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n'
            % (boundary.encode(), raw(key).replace(b'"', b"%22"), raw(value))
        )
    parts.append(b"--%s--\r\n" % boundary.encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


# --- what a request may not change -----------------------------------------------------------


def _app_models() -> list:
    return [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.app_label in APP_LABELS
    ]


def fingerprint() -> dict[str, tuple]:
    """Per app table: the row count, the highest primary key and, where the model has one, the
    latest `updated_at`: a refused request may change none of them. (One query: it runs
    after every refused attack.)"""
    selects = []
    for model in _app_models():
        opts = model._meta
        pk = connection.ops.quote_name(opts.pk.column)
        last = f"CAST(MAX({pk}) AS TEXT)" if opts.pk.get_internal_type() in _SERIAL else "NULL"
        updated = next((f for f in opts.concrete_fields if f.name == "updated_at"), None)
        latest = (
            f"CAST(MAX({connection.ops.quote_name(updated.column)}) AS TEXT)" if updated else "NULL"
        )
        selects.append(
            f"SELECT '{opts.label}', COUNT(*), {last}, {latest} "
            f"FROM {connection.ops.quote_name(opts.db_table)}"
        )
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(selects))
        return {label: tuple(rest) for label, *rest in cursor.fetchall()}


def changed_tables(before: dict, after: dict) -> list[str]:
    return [
        f"{label}: {before[label]} -> {after[label]}"
        for label in before
        if before[label] != after[label]
    ]


def judge(outcome: Outcome, before: dict, after: dict, *, kind: str, what: str) -> None:
    """Count the answer, then hold it to SPEC 13: never a 5xx, and a refusal wrote nothing."""
    stats.count(f"{kind} sent")
    stats.count(f"{kind} answered {outcome.status // 100}xx")
    if outcome.status >= 500:
        stats.count("5xx answers seen")
    assert outcome.status < 500, f"{what}\n{outcome.problem}"
    changed = changed_tables(before, after)
    assert not changed, f"{what} -> {outcome.status} wrote: {changed}"


@contextlib.contextmanager
def rolled_back(*clients: Client) -> Iterator[None]:
    """Run one attack and undo it: the database (a savepoint rolled back) and the clients'
    cookies (a sign-out or a language switch must not leak into the next attack)."""
    saved = [copy.deepcopy(client.cookies) for client in clients]
    try:
        with transaction.atomic():
            yield
            transaction.set_rollback(True)
    finally:
        for client, cookies in zip(clients, saved, strict=True):
            client.cookies = cookies


# --- the crawl -------------------------------------------------------------------------------


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
    most `per_route` distinct URLs per route and role."""
    result = Crawl()
    for role, client in clients.items():
        queue = list(dict.fromkeys(seeds()))
        seen: set[str] = set()
        while queue:
            url = queue.pop(0)
            if url in seen:
                continue
            seen.add(url)
            route = route_of(url)
            if route is None:
                continue
            cap = admin_per_route if route.startswith("admin/") else per_route
            taken = result.urls[role][route]
            if len(taken) >= cap:
                continue
            taken.append(url)
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
