"""rules §8, §10: `send_test`, `deliveries` and `rotate_secrets` — results per channel, masked
targets, one clear line and a non-zero exit on bad input."""

from __future__ import annotations

import io
import json

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings

from arms_sync.models import ArmsContact
from arms_sync.notify.models import Delivery
from contacts import services as contact_services
from contacts.models import Contact
from ram_directory.principal import Principal
from tests.commands import manage, run

pytestmark = pytest.mark.django_db
PHONE = "+8613800000321"
SECRET = "SEC" + "s3cr3t" * 8


@pytest.fixture
def contact(account, robot_sink):
    return contact_services.create_contact(
        principal=Principal(account),
        ram_user=None,
        phone=PHONE,
        mailbox="owner@example.com",
        dingtalk_webhook=robot_sink.url("dingtalk", "ok-command-robot-token"),
        dingtalk_secret=SECRET,
        wecom_webhook=robot_sink.url("wecom", "err93000-command-key"),
    )


def test_send_test_prints_each_channels_answer_and_fails_when_one_failed(
    account, contact, robot_sink
):
    robot_sink.secrets["ok-command-robot-token"] = SECRET  # the sink checks the signature
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 of 3 channel"):
        call_command("send_test", account.account_id, "138 0000 0321", stdout=out)
    lines = {line.split()[0]: line for line in out.getvalue().splitlines()}
    assert set(lines) == {"email", "dingtalk", "wecom"}
    assert " sent " in lines["email"] and " sent " in lines["dingtalk"]
    assert " FAILED " in lines["wecom"] and "errcode 93000" in lines["wecom"]
    assert "token is invalid" in lines["wecom"]  # the plain hint
    for secret in ("ok-command-robot-token", "err93000-command-key", SECRET):
        assert secret not in out.getvalue()
    assert len(robot_sink.received("ok-command-robot-token")) == 1
    assert len(robot_sink.received("err93000-command-key")) == 1


def test_send_test_json_reports_every_channel_without_secrets(account, robot_sink):
    contact_services.create_contact(
        principal=Principal(account),
        ram_user=None,
        phone=PHONE,
        dingtalk_webhook=robot_sink.url("dingtalk", "ok-json-robot-token"),
    )
    data = json.loads(run("send_test", account.account_id, PHONE, "--json"))
    (row,) = data["results"]
    assert row["ok"] is True and row["channel"] == "dingtalk" and row["status"] == "sent"
    assert "ok-json-robot-token" not in json.dumps(data)
    listing = run("deliveries", account.account_id, "--json")
    assert "ok-json-robot-token" not in listing
    (delivery,) = json.loads(listing)["deliveries"]
    assert delivery["status"] == "sent" and delivery["event"] == "test"


def test_deliveries_filters_and_masks(account, contact, robot_sink):
    with pytest.raises(CommandError):
        run("send_test", account.account_id, PHONE)
    failed = run("deliveries", account.account_id, "--status", "failed")
    assert "wecom" in failed and "dingtalk" not in failed
    assert "93000" in failed
    everything = run("deliveries", account.account_id)
    assert len(everything.strip().splitlines()) == 3
    for secret in ("ok-command-robot-token", "err93000-command-key", SECRET):
        assert secret not in everything


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["send_test", "9999999999999999", PHONE], "no account with ID 9999999999999999"),
        (
            ["send_test", "{account}", "12345"],
            "phone: A mainland mobile number has 11 digits; this one has 5.",
        ),
        (["send_test", "{account}", "+8613900000000"], "has no contact with phone"),
        (["deliveries", "{account}", "--status", "lost"], "--status must be one of"),
        (["deliveries", "{account}", "--channel", "sms"], "--channel must be one of"),
    ],
)
def test_bad_input_is_one_line_and_a_non_zero_exit(account, args, message):
    args = [a.format(account=account.account_id) for a in args]
    with pytest.raises(CommandError, match=message.replace("+", r"\+")):
        run(*args)


@pytest.mark.django_db(transaction=True)
def test_from_the_shell_a_bad_phone_is_one_line_on_stderr(account):
    result = manage("send_test", account.account_id, "not-a-phone")
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert result.stderr.startswith("error: phone:")


def test_a_contact_without_channels_is_refused(account):
    contact_services.create_contact(principal=Principal(account), ram_user=None, phone=PHONE)
    with pytest.raises(CommandError, match="no mailbox"):
        run("send_test", account.account_id, PHONE)


def raw_columns(table: str, columns: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {table}")
        return " ".join(str(v) for row in cursor.fetchall() for v in row)


def test_rotate_secrets_re_encrypts_under_the_new_key(account, contact, settings):
    """rules §8: secrets are encrypted at rest; keys rotate (new first, old kept to decrypt)."""
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    before = raw_columns("contacts_contact", "dingtalk_webhook, dingtalk_secret, wecom_webhook")
    assert "ok-command-robot-token" not in before and SECRET not in before
    new_key = Fernet.generate_key().decode()
    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key, old_key]):
        data = json.loads(run("rotate_secrets", "--json"))
        assert data["reencrypted"]["contacts.Contact"] == 1
        assert data["reencrypted"]["arms_sync.ArmsContact"] == 1
    # The old key is gone: everything still reads.
    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key]):
        again = Contact.objects.get(pk=contact.pk)
        assert again.dingtalk_secret == SECRET
        assert ArmsContact.objects.get(sae_contact=contact).ding_robot_secret == SECRET
    assert raw_columns("contacts_contact", "dingtalk_secret") != before
    assert Delivery.objects.count() == 0
