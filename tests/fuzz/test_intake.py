"""rules §8 and §13 at the alert intake: `POST /intake/alertmanager/` with hostile bodies and
headers, with the account's real bearer token or a forged one, never answers 5xx, and a
refused post (4xx) writes nothing.

Bodies are Alertmanager's own webhook JSON with hostile leaves (lone surrogates written as
`\\ud800`, NUL, huge integers written out, NaN, times that do not exist, wrong types, deep
nesting) or not JSON at all, in any content type.
"""

from __future__ import annotations

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from tests.fuzz import hostile
from tests.fuzz.conftest import fuzz_settings
from tests.fuzz.site import fingerprint, judge, request, rolled_back
from tests.fuzz.world import World

pytestmark = pytest.mark.django_db

URL = "/intake/alertmanager/"
ALERT = {
    "status": "firing",
    "labels": {"alertname": "HighLatency", "severity": "critical"},
    "annotations": {"summary": "p99 latency above 1s"},
    "startsAt": "2026-12-01T10:00:00.123456789Z",
    "endsAt": "0001-01-01T00:00:00Z",
    "generatorURL": "http://prometheus.example:9090/graph",
    "fingerprint": "c6a1a1b0e6f0f0e1",
}
POST = {
    "version": "4",
    "groupKey": "{}:{}",
    "status": "firing",
    "receiver": "sae",
    "groupLabels": {"alertname": "HighLatency"},
    "commonLabels": {"alertname": "HighLatency"},
    "commonAnnotations": {},
    "externalURL": "http://alertmanager.example:9093",
    "alerts": [ALERT],
}


@st.composite
def bodies(draw) -> bytes:
    kind = draw(st.sampled_from(["post", "post", "post", "text", "bytes"]))
    if kind == "bytes":
        return draw(st.binary(max_size=256))
    if kind == "text":
        return draw(hostile.text_values).encode("utf-8", "surrogatepass")
    post = dict(POST, alerts=[ALERT] * draw(st.integers(min_value=1, max_value=3)))
    document = draw(hostile.mutated(post, at_least=0, at_most=4))
    return hostile.dumps(document, ensure_ascii=draw(st.booleans())).encode(
        "utf-8", "surrogatepass"
    )


@fuzz_settings(200)
@given(
    body=bodies(),
    auth=st.sampled_from(["token", "token", "token", "none", "other", "forged", "scheme"]),
    content_type=st.sampled_from(
        ["application/json"] * 4
        + ["application/vnd.alertmanager+json", "text/plain", "multipart/form-data", ""]
    ),
    method=st.sampled_from(["POST"] * 8 + ["GET", "PUT"]),
    junk=hostile.header_values,
)
def test_hostile_posts_to_the_intake_never_answer_5xx_and_a_refusal_writes_nothing(
    world: World, body, auth, content_type, method, junk
):
    token = world.tokens[world.account.account_id]
    authorization = {
        "token": f"Bearer {token}",
        "none": "",
        "other": f"Bearer {world.tokens[world.other_account.account_id]}x",
        "forged": f"Bearer sae_{junk}",
        "scheme": f"{junk} {token}",
    }[auth]
    client = world.clients["anonymous"]
    before = fingerprint()
    with rolled_back(client):
        outcome = request(
            client,
            "anonymous",
            method,
            URL,
            data=body,
            content_type=content_type,
            headers={"Authorization": authorization},
        )
        after = fingerprint() if 400 <= outcome.status < 500 else before
    event(f"{auth} -> {outcome.status}")
    judge(outcome, before, after, kind="intake posts", what=f"{auth} {body[:300]!r}")
    assert outcome.cache_control == "no-store"
