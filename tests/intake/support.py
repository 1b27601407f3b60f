"""Posting to the Alertmanager intake as Alertmanager does, for tests of every area."""

from __future__ import annotations

import json

URL = "/intake/alertmanager/"


def post_alerts(client, token: str, body: dict, *, status: int = 200):
    """POST `body` as JSON with the account's bearer token; the answer must have `status`."""
    response = client.post(
        URL,
        data=json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == status, response.content
    return response
