"""rules §13 in JSON fields: the only way a lone surrogate, NaN or a number past any column gets
in through a form (a policy document, a notification policy's match labels). Every JSON field
the crawl finds gets documents mutated from the one its page shows, with the rest of its form
filled plausibly so that the document is checked, saved when valid, and shown afterwards: never
a 5xx, and a refusal writes nothing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz import hostile, stats
from tests.fuzz.conftest import fuzz_settings
from tests.fuzz.crawl import Crawl
from tests.fuzz.site import (
    attempt,
    encode_body,
    field_kind,
    fingerprint,
    judge,
    plausible,
)
from tests.fuzz.world import World

pytestmark = pytest.mark.django_db


def test_every_json_field_takes_any_document_without_5xx(world: World, crawled: Crawl):
    """The only way a lone surrogate, NaN or a number past any column gets in through a form is
    a JSON field (a policy document, match labels): every such field the crawl found gets
    documents mutated from the one its page shows, the rest of its form filled plausibly so
    that the document is checked, saved, and shown."""
    found = [
        (route, name, fields)
        for route in sorted(crawled.forms)
        for fields in [crawled.fields_for(route)]
        for name, offered in fields.items()
        if field_kind(offered) == "json"
    ]
    stats.cover("JSON fields attacked", *(f"{route} {name}" for route, name, _ in found))
    assert len(found) >= 4, found  # the Script Editor twice, the admin's policy and labels
    before = fingerprint()
    failures = []
    for route, json_name, fields in found:
        role = "operator" if route.startswith("admin/") else "owner"
        urls = crawled.known_urls(route, (role,))
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
                name: plausible(offered, field_kind(offered))
                for name, offered in fields.items()
                if name != json_name
            }
        ),
    )
    def attack(url, document, others):
        data, content_type = encode_body([*others.items(), (json_name, document)], "urlencoded")
        outcome, after = attempt(
            client, role, "POST", url, before, data=data, content_type=content_type
        )
        judge(outcome, before, after, kind="JSON documents", what=f"{url} {document[:300]!r}")

    attack()
