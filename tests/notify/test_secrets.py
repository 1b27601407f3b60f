"""rules §8: robot tokens and signing secrets are secrets — ciphertext in the database (also
what was stored before encryption existed, through the data migration), and never in a log
line, whatever the send's outcome."""

from __future__ import annotations

import logging

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from arms_sync.notify import outbox, services
from arms_sync.notify.models import Event
from arms_sync.notify.outbox import Recipient
from ram_directory.principal import Principal
from tests.notify.support import run_commit_callbacks

SECRET = "SEC" + "0123456789abcdef" * 3


def test_no_token_or_secret_reaches_a_log_line(
    account, robot_sink, caplog, django_capture_on_commit_callbacks, db
):
    tokens = ["ok-logged-token-1", "err310000-logged-token", "http500-logged-token"]
    robot_sink.secrets[tokens[0]] = SECRET
    caplog.set_level(logging.DEBUG)
    with run_commit_callbacks(django_capture_on_commit_callbacks):
        for token in tokens:
            outbox.record_event(
                account=account,
                kind=Event.Kind.TEST,
                title="logs",
                recipients=[
                    Recipient(
                        name="a",
                        dingtalk_url=robot_sink.url("dingtalk", token),
                        dingtalk_secret=SECRET,
                    )
                ],
            )
    # A URL the guard refuses, sent through the Test button.
    refused = "https://oapi.dingtalk.com.evil.example/robot/send?access_token=guarded-token-1"
    services.send_test(
        principal=Principal(account), recipient=Recipient(name="b", dingtalk_url=refused)
    )
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "delivery" in logged  # the sends were logged at all
    for secret in [*tokens, "guarded-token-1", SECRET]:
        assert secret not in logged


@pytest.mark.django_db(transaction=True)
def test_the_data_migration_encrypts_robots_stored_before_it():
    """Rows written as plaintext before 0003 are ciphertext after it, and read back."""
    executor = MigrationExecutor(connection)
    before = [("contacts", "0002_initial"), ("arms_sync", "0002_initial")]
    after = [("contacts", "0003_encrypt_robot_secrets"), ("arms_sync", "0003_notification_outbox")]
    executor.migrate(before)
    url = "https://oapi.dingtalk.com/robot/send?access_token=plaintext-before-0003"
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ram_directory_account (account_id, login_name, alias, created_at) "
            "VALUES ('1999999999999999', 'mig@example.com', 'mig', CURRENT_TIMESTAMP)"
        )
        cursor.execute("SELECT id FROM ram_directory_account WHERE alias = 'mig'")
        (account_id,) = cursor.fetchone()
        cursor.execute(
            "INSERT INTO contacts_contact (account_id, phone, mailbox, dingtalk_webhook, "
            "dingtalk_secret, wecom_webhook, created_at, updated_at) VALUES "
            "(%s, '+8613800000999', '', %s, %s, '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
            [account_id, url, SECRET],
        )
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(after)
    with connection.cursor() as cursor:
        cursor.execute("SELECT dingtalk_webhook, dingtalk_secret FROM contacts_contact")
        stored = cursor.fetchone()
    assert "plaintext-before-0003" not in stored[0] and stored[1] != SECRET
    assert stored[0].startswith("gAAAAA")
    from contacts.models import Contact

    # Only the columns of 0003's schema (later migrations add others, e.g. the masked robots).
    contact = Contact.objects.only("dingtalk_webhook", "dingtalk_secret").get(
        phone="+8613800000999"
    )
    assert (contact.dingtalk_webhook, contact.dingtalk_secret) == (url, SECRET)
    # And back: reversing the migration restores the plaintext.
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(before)
    with connection.cursor() as cursor:
        cursor.execute("SELECT dingtalk_webhook FROM contacts_contact")
        assert cursor.fetchone()[0] == url
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
