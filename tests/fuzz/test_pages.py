"""rules §13 over every URL of the URLconf: no input reaches a 5xx, a refused request writes
nothing, and responses to a signed-in user are not stored.

1. A crawl from every parameterless URL, as each role (nobody, the owner, a RAM user with and
   without ram:ListUsers, another account's owner, the platform operator), opens every page
   each can reach: none answers 5xx; every answer to a signed-in user says no-store.
2. Every URL any role reached is opened by every other role: never a 5xx, the operator gets
   403 on console pages, and another account's ID answers exactly as an ID that does not
   exist (rules §1).
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
from django.urls import resolve
from hypothesis import event, given
from hypothesis import strategies as st

from tests.fuzz import hostile, stats
from tests.fuzz.conftest import fuzz_settings
from tests.fuzz.crawl import Crawl
from tests.fuzz.site import (
    ENDPOINTS,
    HOSTILE_BY_KIND,
    Endpoint,
    attempt,
    encode_body,
    field_kind,
    fingerprint,
    judge,
    plausible,
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


def _problems(outcomes) -> list[str]:
    return [
        f"{o.role} {o.method} {o.url} -> {o.status}\n{o.problem}"
        for o in outcomes
        if o.status >= 500
    ]


# --- 1. the crawl ----------------------------------------------------------------------------


def test_every_page_each_role_reaches_answers_without_5xx(crawled: Crawl):
    routes = {o for by_route in crawled.urls.values() for o in by_route}
    stats.cover("URL patterns in the URLconf", *(e.route for e in ENDPOINTS))
    stats.cover("URL patterns reached by the crawl", *routes)
    stats.cover("URL patterns with a form on a page (crawl)", *(route for route in crawled.forms))
    stats.cover(
        "URL patterns not reached by the crawl",
        *(e.route for e in ENDPOINTS if e.route not in routes),
    )
    stats.count("crawl: GET requests", len(crawled.outcomes))
    stats.count("5xx answers seen", sum(o.status >= 500 for o in crawled.outcomes))
    assert not _problems(crawled.outcomes), "\n\n".join(_problems(crawled.outcomes))
    # The crawl reaches every console page kind, or the suite is attacking less than it says.
    assert len(routes) >= 60, sorted(routes)


def test_every_answer_to_a_signed_in_user_is_not_stored(crawled: Crawl):
    """rules §13: pages, fragments, redirects, 403 and 404 pages all show account data."""
    stored = [
        f"{o.role} {o.url} -> {o.status}, Cache-Control: {o.cache_control!r}"
        for o in crawled.outcomes
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


def test_every_url_answers_every_role_and_foreign_ids_as_if_absent(world: World, crawled: Crawl):
    # Of each route, a URL each side reached: account A's, account B's, the operator's.
    sides = (("anonymous", *ACCOUNT_A_ROLES), ("other_owner",), ("operator",))
    everything = sorted(
        {
            url
            for route in {r for by_route in crawled.urls.values() for r in by_route}
            for side in sides
            for url in crawled.known_urls(route, side)[:1]
        }
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

    # rules §1: another account's ID answers exactly as an ID that does not exist.
    own_values: dict[str, set[str]] = {}
    for role in ACCOUNT_A_ROLES:
        for urls in crawled.urls[role].values():
            for url in urls:
                match = resolve(urlsplit(url).path)
                for name, value in match.kwargs.items():
                    own_values.setdefault(f"{match.route}|{name}", set()).add(str(value))
    leaks, checked = [], 0
    with rolled_back(*world.clients.values()):
        for urls in crawled.urls["other_owner"].values():
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


def _url_strategy(endpoint: Endpoint, crawled: Crawl, pools: dict[str, list[str]]):
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
    known = crawled.known_urls(endpoint.route)
    return st.one_of(st.sampled_from(known), generated) if known else generated


def _field_pairs(fields: dict[str, list[str]], extra_names: list[str]):
    """(name, value) pairs: each field the form has offered, hostile or missing or twice;
    plus a few fields the form does not have."""

    kinds = {name: field_kind(offered) for name, offered in fields.items()}

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
                value = draw(plausible(offered, kinds[name], prefer_offered=how == "offered"))
            result.append((name, value))
            if how == "twice":
                result.append((name, draw(hostile_values)))
        names = st.sampled_from(extra_names) if extra_names else hostile.short_ascii
        for _ in range(draw(st.integers(min_value=0, max_value=2 if fields else 4))):
            result.append((draw(st.one_of(names, hostile.short_ascii)), draw(hostile.text_values)))
        return result

    return pairs()


def _examples(endpoint: Endpoint, fields: dict[str, list[str]]) -> int:
    """The console's own forms get most, and any form with a JSON field (the only way
    surrogates, huge numbers or NaN get through a form); the admin (the operator's, Django's
    own views) and pages without a form fewer."""
    if any(field_kind(offered) == "json" for offered in fields.values()):
        return 30  # and 40 more documents each in the JSON fields' own test
    if fields:
        return 6 if endpoint.is_admin else 40
    return 2 if endpoint.is_admin else 8


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e.label for e in ENDPOINTS])
def test_hostile_requests_never_answer_5xx_and_a_refusal_writes_nothing(
    endpoint: Endpoint, world: World, crawled: Crawl, pools: dict[str, list[str]]
):
    fields = crawled.fields_for(endpoint.route)
    query_fields = list(crawled.fields_for(endpoint.route, "GET")) + QUERY_NAMES
    all_fields = sorted(
        {name for forms in crawled.forms.values() for f in forms for name in f.fields}
    )
    stats.cover("URL patterns attacked", endpoint.route)
    if fields:
        stats.cover("forms attacked (URL patterns with a POST form)", endpoint.route)

    # Every attack starts from the same rows (each is rolled back): the state before it.
    before = fingerprint()

    @fuzz_settings(_examples(endpoint, fields))
    @given(
        role=st.sampled_from(_weights(endpoint)),
        url=_url_strategy(endpoint, crawled, pools),
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
        outcome, after = attempt(client, role, method, url, before, **kwargs)
        event(f"{role} {method} -> {outcome.status}")
        judge(outcome, before, after, kind="hostile requests", what=f"{role} {method} {url}")

    attack()
