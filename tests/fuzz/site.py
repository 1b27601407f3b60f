"""The console as the fuzz suite sees it: every URL pattern from the URLconf (not a hand-kept
list: a view added tomorrow is attacked tomorrow), requests of any shape and what they may
change, and the form values an attack draws from.
"""

from __future__ import annotations

import contextlib
import copy
import json
import re
import traceback
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_from_bytes, urlsplit

from django.apps import apps
from django.db import connection, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404
from hypothesis import strategies as st

from tests.fuzz import hostile, stats

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


def route_of(path: str) -> str | None:
    try:
        return resolve(urlsplit(path).path).route
    except Resolver404:
        return None


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
    """Count the answer, then hold it to rules §13: never a 5xx, and a refusal wrote nothing."""
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


# --- what an attack sends -------------------------------------------------------------------


HOSTILE_BY_KIND = {
    "json": hostile.json_field_values,
    "number": hostile.number_field_values,
    "text": hostile.text_values,
}


def field_kind(offered: list[str]) -> str:
    """What a field takes, judged by what its page offers: JSON (a textarea holding a
    document), a number (IDs of a select, a count) or text."""
    shown = [value.strip() for value in offered if value.strip()]
    if any(value.startswith(("{", "[")) for value in shown):
        return "json"
    if shown and all(value.isascii() and value.isdigit() for value in shown):
        return "number"
    return "text"


def plausible(offered: list[str], kind: str, *, prefer_offered: bool = True):
    """A value the form could accept: one it offers, else a short name (so that a form whose
    name field is empty on the page can still be saved, and what is saved be shown)."""
    filled = [value for value in offered if value.strip()]
    if filled and (prefer_offered or kind != "text"):
        return st.sampled_from(filled)
    return st.from_regex(r"[A-Za-z][A-Za-z0-9-]{2,12}", fullmatch=True)


def follow(client, role: str, response):
    """GET where an accepted request leads: its redirect, or the page htmx is sent to."""
    target = response.get("Location") or response.get("HX-Redirect")
    if not target or urlsplit(target).netloc not in ("", "testserver"):
        return None
    return request(client, role, "GET", urlsplit(target).path)


def attempt(
    client: Client, role: str, method: str, url: str, before: dict, **kwargs: Any
) -> tuple[Outcome, dict]:
    """One attack, rolled back: its outcome and the rows after it (read when it was refused,
    the only answer that must have written nothing; else `before`). What an accepted write
    must show too, the page it leads to, is opened: a failure there is the outcome (a policy
    saved with a lone surrogate used to answer 500 there, not on the POST)."""
    with rolled_back(client):
        response = client.generic(method, url, **kwargs)
        outcome = outcome_of(response, role, method, url)
        after = fingerprint() if 400 <= outcome.status < 500 else before
        if outcome.status < 400 and method != "GET":
            shown = follow(client, role, response)
            if shown is not None and shown.status >= 500:
                outcome = shown
    return outcome, after
