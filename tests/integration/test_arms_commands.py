"""ARMS operator commands (rules §10): import_arms_contacts, merge_contacts (rules §6) and
reconcile_arms (rules §7). Each has --help, --json, and refuses bad input with one clear line,
a non-zero exit and no change."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from arms_sync.linking import LINKED_PHONE_TAKEN
from arms_sync.management.commands import seed_demo
from arms_sync.merge import CREATED, plan_merge
from arms_sync.models import ArmsContact, ContactGroup
from contacts.models import Contact
from contacts.services import create_contact
from ram_directory.models import Account, RamUser
from ram_directory.principal import Principal
from tests import commands
from tests.commands import manage, run
from tests.factories import AccountFactory, RamUserFactory

pytestmark = pytest.mark.django_db

DING = "https://oapi.dingtalk.com/robot/send?access_token=0123456789abcdef"
WECOM = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0"

SEARCH_ANSWER = {
    "RequestId": "6C2D8A42-DD4C-4B6A-A8F5-5A1A5B8C7E21",
    "PageBean": {
        "Total": 3,
        "Page": 1,
        "Size": 100,
        "Contacts": [
            {
                "ContactId": 1201,
                "ContactName": "Zhang San",
                "Phone": "13811112222",
                "Email": "zhangsan@example.com",
                "DingRobot": DING,
            },
            {
                "ContactId": "1202",
                "ContactName": "Li Si",
                "Phone": "+852 5123 4567",
                "Email": "lisi@example.com",
                "WebhookUrl": WECOM,
            },
            {"ContactId": 1203, "ContactName": "NOC mailbox", "Email": "noc@example.com"},
        ],
    },
}


def write_json(tmp_path: Path, data: Any, name: str = "contacts.json") -> Path:
    return commands.write_json(tmp_path, data, name)


def arms_snapshot(account) -> list:
    return sorted(
        ArmsContact.objects.for_account(account).values_list(
            "contact_id",
            "name",
            "phone",
            "email",
            "ding_robot_url",
            "wecom_robot_url",
            "sae_contact_id",
        )
    )


@pytest.mark.parametrize("name", ["import_arms_contacts", "merge_contacts", "reconcile_arms"])
def test_every_arms_command_has_help(name, capsys):
    """rules §10: each command has --help."""
    with pytest.raises(SystemExit) as exit_info:
        call_command(name, "--help")
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "--json" in out and "ACCOUNT_ID" in out


def test_reconcile_help_states_the_exit_codes(capsys):
    with pytest.raises(SystemExit):
        call_command("reconcile_arms", "--help")
    assert "1 when drift remains" in " ".join(capsys.readouterr().out.split())


# --- import_arms_contacts ------------------------------------------------------------------


def test_import_stores_e164_phones_and_robots_and_is_idempotent(account, tmp_path):
    """rules §10: import upserts by ContactId; importing the same file twice changes nothing."""
    path = write_json(tmp_path, SEARCH_ANSWER)
    first = json.loads(run("import_arms_contacts", account.account_id, path, "--json"))
    assert (first["created"], first["updated"], first["unchanged"]) == (3, 0, 0)
    snapshot = arms_snapshot(account)
    second = json.loads(run("import_arms_contacts", account.account_id, path, "--json"))
    assert (second["created"], second["updated"], second["unchanged"]) == (0, 0, 3)
    assert arms_snapshot(account) == snapshot
    zhang = ArmsContact.objects.get(account=account, contact_id=1201)
    assert (str(zhang.phone), zhang.ding_robot_url) == ("+8613811112222", DING)
    li = ArmsContact.objects.get(account=account, contact_id=1202)
    assert (str(li.phone), li.wecom_robot_url) == ("+85251234567", WECOM)
    assert ArmsContact.objects.get(account=account, contact_id=1203).phone == ""


def test_import_accepts_the_alert_contacts_shape_and_matches_by_phone(account, tmp_path):
    run("import_arms_contacts", account.account_id, write_json(tmp_path, SEARCH_ANSWER))
    answer = {
        "PageBean": {
            "AlertContacts": [
                {"ContactName": "Zhang San (ops)", "Phone": "+86 138 1111 2222"},
            ]
        }
    }
    out = run("import_arms_contacts", account.account_id, write_json(tmp_path, answer, "b.json"))
    assert "0 created, 1 updated" in out
    zhang = ArmsContact.objects.get(account=account, contact_id=1201)
    assert zhang.name == "Zhang San (ops)"


def test_import_does_not_link_and_keeps_linked_contacts_values(account, owner_principal, tmp_path):
    """rules §5 / rules §10: importing does not link; an ARMS contact linked to an SAE contact
    keeps SAE's values."""
    alice = RamUserFactory(account=account, user_name="alice")
    contact = create_contact(principal=owner_principal, ram_user=alice, phone="13811112222")
    report = json.loads(
        run(
            "import_arms_contacts",
            account.account_id,
            write_json(tmp_path, SEARCH_ANSWER),
            "--json",
        )
    )
    assert report["kept_linked"] == 1 and report["created"] == 2
    arms = ArmsContact.objects.get(sae_contact=contact)
    assert arms.name == "alice"
    assert ArmsContact.objects.filter(account=account, sae_contact__isnull=True).count() == 2


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"ContactId": 9, "ContactName": "x", "Phone": "12"}, r"\[1\]\.Phone: '12' is not"),
        ({"ContactId": 9, "ContactName": "x", "Email": "nope"}, r"\[1\]\.Email: 'nope'"),
        ({"ContactId": 9, "Phone": "13900000000"}, r"\[1\]\.ContactName: missing"),
        ({"ContactId": -1, "ContactName": "x"}, r"\[1\]\.ContactId: must be a whole number from 1"),
        ({"ContactId": 9, "ContactName": "x", "DingRobot": "http://x"}, r"\[1\]\.DingRobot"),
        (
            {"ContactId": 9, "ContactName": "x", "Email": "zhangsan@example.com"},
            r"\[1\]\.Email: the same as entry 0",
        ),
    ],
)
def test_malformed_entry_refuses_the_whole_file_and_changes_nothing(
    account, tmp_path, entry, message
):
    """rules §10: the whole file is validated first; a bad file changes nothing."""
    good = SEARCH_ANSWER["PageBean"]["Contacts"][0]
    data = {"PageBean": {"Contacts": [good, entry]}}
    with pytest.raises(CommandError, match=message):
        run("import_arms_contacts", account.account_id, write_json(tmp_path, data))
    assert arms_snapshot(account) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", r"^Invalid JSON at line 1"),
        ('{"Contacts": []}', r"^PageBean: missing"),
        ('{"PageBean": {"Contacts": {}}}', r"^PageBean.Contacts: missing or not a list"),
        # rules §10, one clear line: a NUL character (PostgreSQL cannot store it) and nesting
        # deeper than the JSON parser follows used to end in a traceback.
        (
            '{"PageBean": {"Contacts": [{"ContactId": 9, "ContactName": "x\\u0000"}]}}',
            r"^PageBean\.Contacts\[0\]\.ContactName: contains a NUL character",
        ),
        ("[" * 100_000, r"^The JSON text: nested too deeply"),
    ],
)
def test_malformed_file_is_one_clear_line(account, tmp_path, text, message):
    with pytest.raises(CommandError, match=message):
        run("import_arms_contacts", account.account_id, write_json(tmp_path, text))


def test_entry_whose_email_another_arms_contact_holds_is_refused(account, tmp_path):
    run("import_arms_contacts", account.account_id, write_json(tmp_path, SEARCH_ANSWER))
    before = arms_snapshot(account)
    data = {
        "PageBean": {
            "Contacts": [{"ContactId": 77, "ContactName": "y", "Email": "noc@example.com"}]
        }
    }
    with pytest.raises(CommandError, match=r"Email: already belongs to the ARMS contact NOC"):
        run("import_arms_contacts", account.account_id, write_json(tmp_path, data, "b.json"))
    assert arms_snapshot(account) == before


def test_import_into_an_unknown_account_is_refused(db, tmp_path):
    with pytest.raises(CommandError, match=r"^no account with ID 9999999999999999$"):
        run("import_arms_contacts", "9999999999999999", write_json(tmp_path, SEARCH_ANSWER))


def test_import_touches_only_the_named_account(account, other_account, tmp_path):
    run("import_arms_contacts", account.account_id, write_json(tmp_path, SEARCH_ANSWER))
    assert arms_snapshot(other_account) == []


# --- merge_contacts ------------------------------------------------------------------------


@pytest.fixture
def mergeable(account):
    RamUserFactory(account=account, user_name="bob", mobile_phone="86-13800000002")
    RamUserFactory(account=account, user_name="hk", mobile_phone="852-51234567")


def test_merge_dry_run_prints_the_plan_and_changes_nothing(account, mergeable):
    out = run("merge_contacts", account.account_id, "--dry-run")
    assert "USERNAME" in out and "bob" in out and "no mainland mobile phone" in out
    assert "would be (dry run): contact created: 1, skipped: 2" in out
    assert not Contact.objects.filter(account=account).exists()


def test_merge_applies_and_json_parses_and_a_second_run_changes_nothing(account, mergeable):
    """rules §6: the report has the preview's rows; a second merge changes nothing."""
    plan = json.loads(run("merge_contacts", account.account_id, "--dry-run", "--json"))
    report = json.loads(run("merge_contacts", account.account_id, "--json"))
    assert report["rows"] == plan["rows"] and report["counts"] == plan["counts"]
    assert report["dry_run"] is False
    assert Contact.objects.filter(account=account, ram_user__user_name="bob").exists()
    again = json.loads(run("merge_contacts", account.account_id, "--json"))
    assert again["counts"]["created"] == 0
    assert {row["action"] for row in again["rows"]} == {"unchanged", "skipped"}


def test_merge_unknown_account_is_refused(db):
    with pytest.raises(CommandError, match=r"^no account with ID 1234$"):
        run("merge_contacts", "1234")


# --- reconcile_arms ------------------------------------------------------------------------


@pytest.fixture
def drifted(account, owner_principal):
    alice = RamUserFactory(account=account, user_name="alice")
    contact = create_contact(principal=owner_principal, ram_user=alice, phone="13811112222")
    contact.arms_contact.delete()
    ContactGroup.objects.filter(account=account, name="sae:approvers").delete()
    return contact


def test_reconcile_without_drift_exits_zero(account, owner_principal):
    alice = RamUserFactory(account=account, user_name="alice")
    create_contact(principal=owner_principal, ram_user=alice, phone="13811112222")
    assert run("reconcile_arms", account.account_id).strip() == "no drift"
    data = json.loads(run("reconcile_arms", account.account_id, "--json"))
    assert data["clean"] is True and data["drift"] == []


def test_reconcile_reports_drift_and_exits_one(account, drifted):
    """rules §7: drift is reported; exit 1 while it remains."""
    with pytest.raises(CommandError) as error:
        run("reconcile_arms", account.account_id)
    assert error.value.returncode == 1
    assert "run with --fix" in str(error.value)
    assert not ContactGroup.objects.filter(account=account, name="sae:approvers").exists()


def test_reconcile_fix_repairs_and_exits_zero(account, drifted):
    data = json.loads(run("reconcile_arms", account.account_id, "--fix", "--json"))
    assert data["clean"] is True
    assert {d["kind"] for d in data["fixed"]} == {"missing_group", "not_linked"}
    assert ArmsContact.objects.get(sae_contact=drifted).name == "alice"
    assert run("reconcile_arms", account.account_id).strip() == "no drift"


def test_reconcile_fix_that_cannot_repair_everything_exits_one(account, owner_principal, drifted):
    """rules §5 case 3: a Not-linked contact whose phone is held by an ARMS contact linked to
    another SAE contact is not stolen; drift remains, exit 1."""
    bob = RamUserFactory(account=account, user_name="bob")
    other = create_contact(principal=owner_principal, ram_user=bob, phone="13811113333")
    ArmsContact.objects.filter(sae_contact=other).update(phone="+8613811112222")
    ArmsContact.objects.create(account=account, name="squatter", phone="+8613811113333")
    with pytest.raises(CommandError) as error:
        run("reconcile_arms", account.account_id, "--fix")
    assert error.value.returncode == 1


# --- from the shell ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_shell_exit_codes_and_one_stderr_line(tmp_path):
    """rules §10: non-zero exit and ONE clear line on bad input; reconcile exits 1 on drift and
    0 once --fix repaired it."""
    account = AccountFactory()
    bad = write_json(tmp_path, {"PageBean": {"Contacts": [{"ContactName": "x", "Phone": "1"}]}})
    result = manage("import_arms_contacts", account.account_id, str(bad))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: PageBean.Contacts[0].Phone: '1' is not a phone number (mainland numbers may "
        "omit +86; others need +<code>)"
    ]
    assert ArmsContact.objects.count() == 0

    ContactGroup.objects.create(account=account, name="unrelated")
    drift = manage("reconcile_arms", account.account_id)
    assert drift.returncode == 1
    assert drift.stderr.splitlines() == [
        "error: 3 drift item(s) remain (run with --fix to repair what is safe)"
    ]
    fixed = manage("reconcile_arms", account.account_id, "--fix")
    assert fixed.returncode == 0, fixed.stderr
    assert manage("reconcile_arms", account.account_id).returncode == 0


# --- seed_demo's SAE and ARMS contacts -----------------------------------------------------


def test_seed_demo_shows_each_linking_case_a_not_linked_contact_and_a_merge_candidate(db):
    """rules §5 (cases 1-3, Not linked) and rules §6 (a merge candidate) in the demo data; a
    second run changes nothing on the ARMS side."""
    run("seed_demo")
    demo = Account.objects.get(account_id=seed_demo.DEMO.account_id)
    snapshot = arms_snapshot(demo)
    run("seed_demo")
    assert arms_snapshot(demo) == snapshot

    linked = {
        a.sae_contact.username: a
        for a in ArmsContact.objects.filter(account=demo, sae_contact__isnull=False)
    }
    assert linked["alice"].name == "alice"  # case 1: a new ARMS contact
    assert linked["bob"].contact_id == 900001 and linked["bob"].name == "bob"  # case 2
    owner = Principal(demo)
    carol = RamUser.objects.get(account=demo, user_name="carol")
    with pytest.raises(ValidationError) as refused:  # case 3
        create_contact(principal=owner, ram_user=carol, phone="13600002222")
    assert refused.value.message_dict["phone"] == [LINKED_PHONE_TAKEN]
    dave = Contact.objects.get(account=demo, ram_user__user_name="dave")
    assert not ArmsContact.objects.filter(sae_contact=dave).exists()  # Not linked
    plan = plan_merge(principal=owner)
    carol_row = next(r for r in plan.rows if r.username == "carol")
    assert (carol_row.action, carol_row.arms_name_before) == (CREATED, "Carol Z (ARMS)")
