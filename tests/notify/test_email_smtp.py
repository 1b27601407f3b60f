"""rules §8: the email transport against a real SMTP server (aiosmtpd on 127.0.0.1), through
Django 6.1's MAILERS: delivery of a text + HTML message, STARTTLS, and what refusals, a server
that is down and a server that never answers come to."""

from __future__ import annotations

import contextlib
import email
import email.policy
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from django.core import mail

from arms_sync.notify import base
from arms_sync.notify.base import Message, Target
from arms_sync.notify.transports import get_transport
from tests.notify.certs import self_signed_certificate, server_context

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
PASSWORD = "smtp-Pa55word-not-to-leak"
MESSAGE = Message(
    subject="【告警】CPU usage high",
    text="告警: CPU usage is 97% on app-1",
    html="<p><b>告警</b>: CPU usage is 97% on app-1</p>",
)


class Recorder:
    """aiosmtpd handler: refuses `refused…` recipients for good (550) and `later…` ones for
    now (450, greylisting); keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("refused"):
            return "550 5.1.1 Recipient address rejected: User unknown"
        if address.startswith("later"):
            return "450 4.2.0 Greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(parsed)
        return "250 Message accepted for delivery"


def free_port() -> int:
    """A port nothing listens on (aiosmtpd 1.4 cannot report an ephemeral port it bound)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def use_smtp(settings, port: int, **options) -> None:
    settings.MAILERS = {
        "default": {
            "BACKEND": SMTP_BACKEND,
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5, **options},
        }
    }


@contextlib.contextmanager
def running_smtp(settings, *, options: dict | None = None, **server: Any) -> Iterator[Recorder]:
    """An aiosmtpd server on 127.0.0.1 (`server`: its SMTP options), the default mailer
    pointed at it (`options`: the SMTP backend's), stopped on the way out."""
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port(), **server)
    controller.start()
    try:
        use_smtp(settings, controller.port, **(options or {}))
        yield recorder
    finally:
        controller.stop()


@pytest.fixture
def smtp_server(settings) -> Iterator[Recorder]:
    with running_smtp(settings) as recorder:
        yield recorder


def send(address: str, message: Message = MESSAGE) -> base.Answer:
    return get_transport(base.EMAIL).send(Target(base.EMAIL, address), message)


def test_text_and_html_message_is_delivered(smtp_server, settings):
    """rules §8: email is one of the channels; a text body with an HTML alternative."""
    answer = send("ops@example.com")
    assert answer.ok and answer.hint == base.HINT_OK
    (received,) = smtp_server.messages
    assert received["Subject"] == MESSAGE.subject
    assert received["To"] == "ops@example.com"
    assert received["From"] == settings.DEFAULT_FROM_EMAIL
    assert received.get_body(("plain",)).get_content().strip() == MESSAGE.text
    assert received.get_body(("html",)).get_content().strip() == MESSAGE.html
    assert smtp_server.envelopes[0].rcpt_tos == ["ops@example.com"]


def test_a_message_without_html_is_plain_text(smtp_server):
    assert send("ops@example.com", Message(subject="告警", text="plain only")).ok
    (received,) = smtp_server.messages
    assert received.get_content_type() == "text/plain"
    assert received.get_content().strip() == "plain only"


def test_a_refused_mailbox_fails_at_once(smtp_server):
    """rules §8: an SMTP 5xx for the recipient is final: no retry, a plain hint."""
    answer = send("refused@example.com")
    assert (answer.ok, answer.retryable, answer.hint) == (False, False, base.HINT_MAILBOX_REFUSED)
    assert answer.errmsg.startswith("SMTP 550 ")
    assert smtp_server.messages == []


def test_a_greylisted_mailbox_is_retried(smtp_server):
    """rules §8: a 4xx is temporary: retried with backoff."""
    answer = send("later@example.com")
    assert (answer.ok, answer.retryable, answer.hint) == (False, True, base.HINT_NETWORK)
    assert answer.errmsg.startswith("SMTP 450 ")


def test_a_server_that_is_down_is_a_retryable_network_error(settings):
    """rules §8: network errors are retried."""
    use_smtp(settings, free_port())
    answer = send("ops@example.com")
    assert (answer.ok, answer.retryable, answer.hint) == (False, True, base.HINT_NETWORK)
    assert "ConnectionRefusedError" in answer.errmsg


def test_a_server_that_never_answers_is_a_retryable_timeout(settings):
    """rules §8: timeouts apply and are retried (the listener completes TCP, never greets)."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        use_smtp(settings, silent.getsockname()[1], timeout=0.5)
        answer = send("ops@example.com")
    assert (answer.ok, answer.retryable, answer.hint) == (False, True, base.HINT_TIMEOUT)
    assert answer.duration_ms < 3000


def test_refused_credentials_fail_at_once_and_are_not_recorded(settings):
    """rules §8: an authentication failure (535) is final; the error keeps no credentials."""

    def refuse(server, session, envelope, mechanism, auth_data):
        return AuthResult(success=False, handled=False)

    credentials = {"username": "mailer@example.com", "password": PASSWORD}
    with running_smtp(settings, options=credentials, authenticator=refuse, auth_require_tls=False):
        answer = send("ops@example.com")
    assert (answer.ok, answer.retryable, answer.hint) == (False, False, base.HINT_REJECTED)
    assert answer.errmsg.startswith("SMTP 535 ")
    assert PASSWORD not in answer.errmsg


def test_starttls_delivers_with_a_verified_certificate(settings, tmp_path, monkeypatch):
    """rules §8: STARTTLS (use_tls) through the SMTP backend, the server's certificate checked
    against the trust store (here a self-signed one made trusted for the test)."""
    cert, key = self_signed_certificate(tmp_path, ips=("127.0.0.1",))
    context = server_context(cert, key)
    with running_smtp(
        settings, options={"use_tls": True}, tls_context=context, require_starttls=True
    ) as recorder:
        monkeypatch.setenv("SSL_CERT_FILE", cert)
        assert send("ops@example.com").ok
        (tmp_path / "empty.pem").write_text("")
        monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "empty.pem"))
        untrusted = send("ops@example.com")
    assert len(recorder.messages) == 1
    assert (untrusted.ok, untrusted.retryable, untrusted.hint) == (False, True, base.HINT_NETWORK)
    assert "CERTIFICATE_VERIFY_FAILED" in untrusted.errmsg


def test_without_a_server_the_test_mailer_collects_the_message():
    """The suite's default mailer (locmem) gets the same message the SMTP server would."""
    assert send("ops@example.com").ok
    (sent,) = mail.outbox
    assert sent.subject == MESSAGE.subject and sent.to == ["ops@example.com"]
    assert sent.alternatives[0].content == MESSAGE.html


def test_an_address_with_a_header_injection_fails_at_once():
    """A stored address the mail library refuses is a permanent failure, not a crash."""
    answer = send("ops@example.com\nBcc: spy@example.net")
    assert (answer.ok, answer.retryable, answer.hint) == (False, False, base.HINT_REJECTED)
    assert mail.outbox == []
