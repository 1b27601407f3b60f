"""`audit ACCOUNT_ID [--since] [--json]`: the log as text or JSON; bad input is one line."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from audit.models import Entry
from audit.services import Actor, record
from tests.commands import run, run_as_shell

pytestmark = pytest.mark.django_db


def _entry(account, note: str, *, days_ago: int = 0):
    entry = record(
        account=account,
        actor=Actor.operator("ops"),
        action="policy.update",
        obj=account,
        changes={"description": ["old", "new"]},
        note=note,
    )
    if days_ago:
        at = timezone.now() - dt.timedelta(days=days_ago)
        Entry.objects.filter(pk=entry.pk).update(at=at)
    return entry


def test_prints_the_log_newest_first(account, other_account):
    _entry(account, "older", days_ago=3)
    _entry(account, "newer")
    _entry(other_account, "not this account's")
    out = run("audit", account.account_id)
    lines = out.splitlines()
    assert len(lines) == 2
    assert "newer" in lines[0] and "older" in lines[1]
    assert "operator ops  policy.update" in lines[0]
    assert "description: old -> new" in lines[0]


def test_json_and_since(account):
    _entry(account, "older", days_ago=3)
    _entry(account, "newer")
    data = json.loads(run("audit", account.account_id, "--json"))
    assert data["account_id"] == account.account_id
    assert [e["note"] for e in data["entries"]] == ["newer", "older"]
    assert data["entries"][0]["changes"] == {"description": ["old", "new"]}
    assert data["entries"][0]["actor_kind"] == "operator"
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    since_day = json.loads(run("audit", account.account_id, "--since", yesterday, "--json"))
    assert [e["note"] for e in since_day["entries"]] == ["newer"]
    moment = (timezone.now() - dt.timedelta(days=4)).isoformat()
    assert (
        len(json.loads(run("audit", account.account_id, "--since", moment, "--json"))["entries"])
        == 2
    )
    assert run("audit", account.account_id, "--since", "2999-01-01") == "no entries\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["audit", "9999999999999999"], "error: no account with ID 9999999999999999"),
        (["audit", "{account}", "--since", "yesterday"], "error: --since must be a date"),
        (["audit", "{account}", "--since", "2026-13-45"], "error: --since must be a date"),
        (["audit", "{account}", "--limit", "0"], "error: --limit must be between 1 and 10000"),
    ],
)
def test_bad_input_is_one_error_line(account, argv, message):
    argv = [a.format(account=account.account_id) for a in argv]
    code, out, err, problem = run_as_shell(argv)
    assert (code, out, problem) == (1, "", "")
    assert err.count("\n") == 1 and err.startswith(message)
