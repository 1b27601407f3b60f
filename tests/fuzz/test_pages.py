"""SPEC 13 over every URL of the URLconf: no input reaches a 5xx, a refused request writes
nothing, and responses to a signed-in user are not stored.

1. A crawl from every parameterless URL, as each role (nobody, the owner, a RAM user with and
   without ram:ListUsers, another account's owner, the platform operator), opens every page
   each can reach: none answers 5xx; every answer to a signed-in user says no-store.
2. Every URL any role reached is opened by every other role: never a 5xx, the operator gets
   403 on console pages, and another account's ID answers exactly as an ID that does not
   exist (SPEC 1).
3. For every URL pattern, hypothesis sends hostile requests: GET with hostile query strings,
   POST (and other methods) of hostile values for every field of every form that posts there
   (huge integers, lone surrogates, NUL, controls, bidi, full-width digits, 1 MB strings,
   deep or wrong-typed JSON, missing fields), in any encoding, with hostile headers, as any
   role, to real IDs of both accounts and to generated ones. Never a 5xx; a 4xx answer changes
   no row of any app table.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote_from_bytes, urlsplit

import pytest
from django.apps import apps
from django.urls import resolve
from hypothesis import event, given
from hypothesis import strategies as st

from ram_directory.models import Policy, RamUser
from tests.fuzz import hostile, stats
from tests.fuzz.conftest import fuzz_settings
from tests.fuzz.site import (
    APP_LABELS,
    ENDPOINTS,
    Crawl,
    Endpoint,
    crawl,
    encode_body,
    fingerprint,
    judge,
    outcome_of,
    request,
    rolled_back,
)
from tests.fuzz.world import ACCOUNT_A_ROLES, World

pytestmark = pytest.mark.django_db

# The console's namespaces: pages for one account, which a platform operator may not open.
CONSOLE_NAMESPACES = ("contacts:", "ram:", "arms:", "notify:", "alerts:")
# Query parameters the console's and the admin's views read, beside their GET forms' fields.
QUERY_NAMES = [
    "q",
    "page",
    "field",
    "status",
    "channel",
    "event",
    "type",
    "tab",
    "next",
    "o",
    "p",
    "all",
    "e",
    "_changelist_filters",
    "_popup",
    "_to_field",
    "term",
    "app_label",
    "model_name",
    "field_name",
]
HEADERS = ["HX-Request", "HX-Target", "HX-Current-URL", "Accept-Language", "Referer"]
MISSING_INT, MISSING_STR = "987654321", "fuzz-no-such-thing"


@pytest.fixture(scope="module")
def site(world: World, django_db_blocker) -> Crawl:
    with django_db_blocker.unblock():
        return crawl(world.clients)


@pytest.fixture(scope="module")
def pools(world: World, django_db_blocker) -> dict[str, list[str]]:
    """Values for URL parameters: primary keys of every app table, RAM user IDs and names,
    policy names (of both accounts)."""
    with django_db_blocker.unblock():
        ints: set[str] = set()
        for model in apps.get_models():
            if model._meta.app_label in APP_LABELS and model._meta.pk.get_internal_type() in (
                "AutoField",
                "BigAutoField",
            ):
                ints.update(str(pk) for pk in model._base_manager.values_list("pk", flat=True))
        texts = {
            *RamUser.objects.values_list("user_id", flat=True),
            *RamUser.objects.values_list("user_name", flat=True),
            *Policy.objects.values_list("name", flat=True),
        }
    return {"int": sorted(ints, key=int), "str": sorted(texts)}


def _problems(outcomes) -> list[str]:
    return [
        f"{o.role} {o.method} {o.url} -> {o.status}\n{o.problem}"
        for o in outcomes
        if o.status >= 500
    ]


# --- 1. the crawl ----------------------------------------------------------------------------


def test_every_page_each_role_reaches_answers_without_5xx(site: Crawl):
    routes = {o for by_route in site.urls.values() for o in by_route}
    stats.cover("URL patterns in the URLconf", *(e.route for e in ENDPOINTS))
    stats.cover("URL patterns reached by the crawl", *routes)
    stats.cover("URL patterns with a form on a page (crawl)", *(route for route in site.forms))
    stats.cover(
        "URL patterns not reached by the crawl",
        *(e.route for e in ENDPOINTS if e.route not in routes),
    )
    stats.count("crawl: GET requests", len(site.outcomes))
    stats.count("5xx answers seen", sum(o.status >= 500 for o in site.outcomes))
    assert not _problems(site.outcomes), "\n\n".join(_problems(site.outcomes))
    # The crawl reaches every console page kind, or the suite is attacking less than it says.
    assert len(routes) >= 60, sorted(routes)


def test_every_answer_to_a_signed_in_user_is_not_stored(site: Crawl):
    """SPEC 13: pages, fragments, redirects, 403 and 404 pages all show account data."""
    stored = [
        f"{o.role} {o.url} -> {o.status}, Cache-Control: {o.cache_control!r}"
        for o in site.outcomes
        if o.role != "anonymous" and "no-store" not in o.cache_control
    ]
    assert not stored, "\n".join(stored)


# --- 2. every URL as every role --------------------------------------------------------------


def _absent(url: str, foreign: dict[str, str]) -> str:
    """The same URL with another account's IDs replaced by IDs that do not exist."""
    match = resolve(urlsplit(url).path)
    endpoint = next(e for e in ENDPOINTS if e.route == match.route)
    values = {name: str(value) for name, value in match.kwargs.items()}
    for name in foreign:
        values[name] = MISSING_INT if values[name].isdigit() else MISSING_STR
    return endpoint.path(values)


def test_every_url_answers_every_role_and_foreign_ids_as_if_absent(world: World, site: Crawl):
    everything = sorted(
        {u for by_route in site.urls.values() for urls in by_route.values() for u in urls}
    )
    outcomes = []
    with rolled_back(*world.clients.values()):
        for url in everything:
            for role, client in world.clients.items():
                outcomes.append(request(client, role, "GET", url))
    stats.count("sweep: GET requests", len(outcomes))
    stats.count("5xx answers seen", sum(o.status >= 500 for o in outcomes))
    assert not _problems(outcomes), "\n\n".join(_problems(outcomes))

    operator_pages = [
        o
        for o in outcomes
        if o.role == "operator"
        and (resolve(urlsplit(o.url).path).view_name or "").startswith(CONSOLE_NAMESPACES)
    ]
    assert operator_pages
    assert {o.status for o in operator_pages} == {403}, [
        (o.url, o.status) for o in operator_pages if o.status != 403
    ]

    # SPEC 1: another account's ID answers exactly as an ID that does not exist.
    own_values: dict[str, set[str]] = {}
    for role in ACCOUNT_A_ROLES:
        for urls in site.urls[role].values():
            for url in urls:
                match = resolve(urlsplit(url).path)
                for name, value in match.kwargs.items():
                    own_values.setdefault(f"{match.route}|{name}", set()).add(str(value))
    leaks, checked = [], 0
    with rolled_back(*world.clients.values()):
        for urls in site.urls["other_owner"].values():
            for url in urls:
                match = resolve(urlsplit(url).path)
                if match.route.startswith("admin/"):
                    continue
                foreign = {
                    name: str(value)
                    for name, value in match.kwargs.items()
                    if str(value) not in own_values.get(f"{match.route}|{name}", set())
                }
                if not foreign:
                    continue
                absent = _absent(url, foreign)
                for role in ACCOUNT_A_ROLES:
                    client = world.clients[role]
                    got = client.get(urlsplit(url).path).status_code
                    expected = client.get(absent).status_code
                    checked += 1
                    if got != expected:
                        leaks.append(f"{role} {url} -> {got}, but {absent} -> {expected}")
    stats.count("isolation: foreign IDs tried", checked)
    assert checked >= 10
    assert not leaks, "\n".join(leaks)


# --- 3. hostile requests to every URL pattern ------------------------------------------------


def _weights(endpoint: Endpoint) -> list[str]:
    if endpoint.is_admin:
        return ["operator"] * 6 + ["owner", "anonymous"]
    return (
        ["owner"] * 3
        + ["ram_list"] * 2
        + ["ram_plain"] * 2
        + [
            "other_owner",
            "operator",
            "anonymous",
        ]
    )


def _encode_path(path: str) -> str:
    return "/" + quote_from_bytes(path.lstrip("/").encode("utf-8", "surrogatepass"), safe="/")


def _url_strategy(endpoint: Endpoint, site: Crawl, pools: dict[str, list[str]]):
    if endpoint.is_regex:
        generated = st.from_regex(endpoint.regex, fullmatch=True).map(_encode_path)
    else:
        values: dict[str, Any] = {}
        for name, kind in endpoint.params:
            pool = pools["int"] if kind == "int" else pools["str"] + pools["int"]
            hostile_value = (
                st.integers(min_value=0, max_value=2**80).map(str)
                if kind == "int"
                else hostile.any_text.filter(lambda t: t and "/" not in t and t not in (".", ".."))
            )
            values[name] = st.one_of(st.sampled_from(pool), hostile_value)
        generated = st.fixed_dictionaries(values).map(endpoint.path)
    known = site.known_urls(endpoint.route)
    return st.one_of(st.sampled_from(known), generated) if known else generated


HOSTILE_BY_KIND = {
    "json": hostile.json_field_values,
    "number": hostile.number_field_values,
    "text": hostile.text_values,
}


def _kind(offered: list[str]) -> str:
    """What a field takes, judged by what its page offers: JSON (a textarea holding a
    document), a number (IDs of a select, a count) or text."""
    shown = [value.strip() for value in offered if value.strip()]
    if any(value.startswith(("{", "[")) for value in shown):
        return "json"
    if shown and all(value.isascii() and value.isdigit() for value in shown):
        return "number"
    return "text"


def _plausible(offered: list[str], kind: str, *, prefer_offered: bool = True):
    """A value the form could accept: one it offers, else a short name (so that a form whose
    name field is empty on the page can still be saved, and what is saved be shown)."""
    filled = [value for value in offered if value.strip()]
    if filled and (prefer_offered or kind != "text"):
        return st.sampled_from(filled)
    return st.from_regex(r"[A-Za-z][A-Za-z0-9-]{2,12}", fullmatch=True)


def _field_pairs(fields: dict[str, list[str]], extra_names: list[str]):
    """(name, value) pairs: each field the form has offered, hostile or missing or twice;
    plus a few fields the form does not have."""

    kinds = {name: _kind(offered) for name, offered in fields.items()}

    @st.composite
    def pairs(draw):
        result = []
        for name, offered in fields.items():
            how = draw(
                st.sampled_from(["offered", "plausible", "hostile", "hostile", "missing", "twice"])
            )
            if how == "missing":
                continue
            hostile_values = HOSTILE_BY_KIND[kinds[name]]
            if kinds[name] == "json":
                # Mostly the page's own document with hostile values in it.
                hostile_values = st.one_of(
                    hostile.mutated_texts(offered), hostile.mutated_texts(offered), hostile_values
                )
            if how == "hostile":
                value = draw(hostile_values)
            else:
                value = draw(_plausible(offered, kinds[name], prefer_offered=how == "offered"))
            result.append((name, value))
            if how == "twice":
                result.append((name, draw(hostile_values)))
        names = st.sampled_from(extra_names) if extra_names else hostile.short_ascii
        for _ in range(draw(st.integers(min_value=0, max_value=2 if fields else 4))):
            result.append((draw(st.one_of(names, hostile.short_ascii)), draw(hostile.text_values)))
        return result

    return pairs()


def _follow(client, role: str, response):
    """GET where an accepted request leads: its redirect, or the page htmx is sent to."""
    target = response.get("Location") or response.get("HX-Redirect")
    if not target or urlsplit(target).netloc not in ("", "testserver"):
        return None
    return request(client, role, "GET", urlsplit(target).path)


def _examples(endpoint: Endpoint, fields: dict[str, list[str]]) -> int:
    """The console's own forms get most, and any form with a JSON field (the only way
    surrogates, huge numbers or NaN get through a form); the admin (the operator's, Django's
    own views) and pages without a form fewer."""
    if any(_kind(offered) == "json" for offered in fields.values()):
        return 30  # and 40 more documents each in the JSON fields' own test
    if fields:
        return 6 if endpoint.is_admin else 40
    return 2 if endpoint.is_admin else 8


# Findings in code this change does not own, reported to its owner; each stays here (so CI
# stays green) only until it is fixed. See also test_hostile_input.py.
KNOWN_FINDINGS: dict[str, str] = {}


def _marks(endpoint: Endpoint) -> list:
    reason = KNOWN_FINDINGS.get(endpoint.label)
    return [pytest.mark.xfail(reason=reason, strict=False)] if reason else []


@pytest.mark.parametrize(
    "endpoint", [pytest.param(e, id=e.label, marks=_marks(e)) for e in ENDPOINTS]
)
def test_hostile_requests_never_answer_5xx_and_a_refusal_writes_nothing(
    endpoint: Endpoint, world: World, site: Crawl, pools: dict[str, list[str]]
):
    fields = site.fields_for(endpoint.route)
    query_fields = list(site.fields_for(endpoint.route, "GET")) + QUERY_NAMES
    all_fields = sorted({name for forms in site.forms.values() for f in forms for name in f.fields})
    stats.cover("URL patterns attacked", endpoint.route)
    if fields:
        stats.cover("forms attacked (URL patterns with a POST form)", endpoint.route)

    # Every attack starts from the same rows (each is rolled back): the state before it.
    before = fingerprint()

    @fuzz_settings(_examples(endpoint, fields))
    @given(
        role=st.sampled_from(_weights(endpoint)),
        url=_url_strategy(endpoint, site, pools),
        method=st.sampled_from(["POST"] * 6 + ["GET"] * 3 + ["PUT", "DELETE", "HEAD"]),
        query=st.lists(st.tuples(st.sampled_from(query_fields), hostile.text_values), max_size=3),
        body=_field_pairs(fields, all_fields),
        encoding=st.sampled_from(["multipart"] * 3 + ["urlencoded"] * 3 + ["json", "garbage"]),
        headers=st.dictionaries(st.sampled_from(HEADERS), hostile.header_values, max_size=2),
    )
    def attack(role, url, method, query, body, encoding, headers):
        client = world.clients[role]
        if query:
            url = (
                url.split("?")[0]
                + "?"
                + "&".join(
                    f"{quote_from_bytes(k.encode(), safe='')}="
                    f"{quote_from_bytes(v.encode('utf-8', 'surrogatepass'), safe='')}"
                    for k, v in query
                )
            )
        kwargs: dict[str, Any] = {"headers": headers}
        if method not in ("GET", "HEAD"):
            kwargs["data"], kwargs["content_type"] = encode_body(body, encoding)
        with rolled_back(client):
            response = client.generic(method, url, **kwargs)
            outcome = outcome_of(response, role, method, url)
            after = fingerprint() if 400 <= outcome.status < 500 else before
            if outcome.status < 400 and method != "GET":
                # What was accepted must show too: the page it leads to (a policy saved with
                # a lone surrogate used to answer 500 there, not on the POST).
                shown = _follow(client, role, response)
                if shown is not None and shown.status >= 500:
                    outcome = shown
        event(f"{role} {method} -> {outcome.status}")
        judge(outcome, before, after, kind="hostile requests", what=f"{role} {method} {url}")

    attack()


def test_every_json_field_takes_any_document_without_5xx(world: World, site: Crawl):
    """The only way a lone surrogate, NaN or a number past any column gets in through a form is
    a JSON field (a policy document, match labels): every such field the crawl found gets
    documents mutated from the one its page shows, the rest of its form filled plausibly so
    that the document is checked, saved, and shown."""
    found = [
        (route, name, fields)
        for route in sorted(site.forms)
        for fields in [site.fields_for(route)]
        for name, offered in fields.items()
        if _kind(offered) == "json"
    ]
    stats.cover("JSON fields attacked", *(f"{route} {name}" for route, name, _ in found))
    assert len(found) >= 4, found  # the Script Editor twice, the admin's policy and labels
    before = fingerprint()
    failures = []
    for route, json_name, fields in found:
        role = "operator" if route.startswith("admin/") else "owner"
        urls = site.known_urls(route, (role,))
        try:
            if urls:
                _attack_json_field(world.clients[role], role, urls, json_name, fields, before)
        except Exception as failure:  # every field is attacked; all failures are reported
            failures.append(f"{route} {json_name}: {failure}")
    assert not failures, "\n\n".join(failures)


def _attack_json_field(client, role, urls, json_name, fields, before) -> None:
    @fuzz_settings(40)
    @given(
        url=st.sampled_from(urls),
        document=hostile.mutated_texts(fields[json_name]),
        others=st.fixed_dictionaries(
            {
                name: _plausible(offered, _kind(offered))
                for name, offered in fields.items()
                if name != json_name
            }
        ),
    )
    def attack(url, document, others):
        data, content_type = encode_body([*others.items(), (json_name, document)], "urlencoded")
        with rolled_back(client):
            response = client.generic("POST", url, data=data, content_type=content_type)
            outcome = outcome_of(response, role, "POST", url)
            after = fingerprint() if 400 <= outcome.status < 500 else before
            if outcome.status < 400:
                outcome = _follow(client, role, response) or outcome
        judge(outcome, before, after, kind="JSON documents", what=f"{url} {document[:300]!r}")

    attack()
