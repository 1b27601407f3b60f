"""Email (rules §8): one message through Django's default mailer (settings.MAILERS), a text body
with an HTML alternative when the message has one.

Retry classification: an SMTP 5xx is the server's final word (the mailbox or the message is
refused), so it fails at once; a 4xx (greylisting, a full queue), a dropped connection, a
timeout or any other socket error is temporary and worth another try later.
"""

from __future__ import annotations

import contextlib
import smtplib
import time
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers

from arms_sync.notify import base
from arms_sync.notify.base import Answer, Message, Target

ERRMSG_MAX_CHARS = 512
SMTP_ANSWER = "SMTP {code} {text}"
REDACTED = "***"
NOTHING_SENT = "the mail backend sent nothing (an error it was told to keep silent)"


def _smtp_text(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return SMTP_ANSWER.format(code=code, text=text)


def _verdict(exc: Exception) -> tuple[bool, str, str]:
    """(retryable, hint, errmsg) for what sending raised."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        answers = list(exc.recipients.values())
        text = "; ".join(_smtp_text(code, reply) for code, reply in answers)
        if answers and all(500 <= code < 600 for code, _reply in answers):
            return False, base.HINT_MAILBOX_REFUSED, text
        return True, base.HINT_NETWORK, text
    if isinstance(exc, smtplib.SMTPResponseException):
        # Sender refused, data refused, authentication failed, HELO refused, connect refused.
        text = _smtp_text(exc.smtp_code, exc.smtp_error)
        if 500 <= exc.smtp_code < 600:
            return False, base.HINT_REJECTED, text
        return True, base.HINT_NETWORK, text
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        # The server lacks STARTTLS or AUTH that the settings ask for: a configuration error.
        return False, base.HINT_REJECTED, text
    # socket.timeout is TimeoutError; smtplib turns a timeout while reading a reply into
    # SMTPServerDisconnected, raised while handling the timeout.
    if isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError):
        return True, base.HINT_TIMEOUT, text
    if isinstance(exc, ValueError) and not isinstance(exc, OSError):
        # The SMTP backend refuses an address it cannot encode (or a header injection). A
        # certificate that fails verification is a ValueError too, but also an OSError: below.
        return False, base.HINT_REJECTED, text
    # SMTPServerDisconnected, other SMTPException, ConnectionError, TLS and other OSError.
    return True, base.HINT_NETWORK, text


def _without_credentials(text: str, mailer: Any) -> str:
    """A server's answer may echo the user name; a password should never appear, but if it
    ever did it must not reach the Deliveries page."""
    for credential in (getattr(mailer, "password", ""), getattr(mailer, "username", "")):
        if credential:
            text = text.replace(str(credential), REDACTED)
    return text


class EmailTransport:
    channel = base.EMAIL
    parts = frozenset({base.SUBJECT, base.TEXT, base.HTML})

    def build(self, target: Target, message: Message) -> EmailMultiAlternatives:
        mail = EmailMultiAlternatives(
            subject=message.subject,
            body=message.text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[target.address],
        )
        if message.html:
            mail.attach_alternative(message.html, "text/html")
        return mail

    def fits(self, target: Target, message: Message) -> bool:
        return True  # mail has no byte limit that a digest would meet

    def send(self, target: Target, message: Message, *, mailer: Any = None) -> Answer:
        """Send through `mailer` when given (a connection the batch keeps open), else through
        a connection of its own."""
        started = time.monotonic()
        mail = self.build(target, message)
        # mailers.default rather than get_connection(): Django 6.1 deprecates the latter.
        shared = mailer is not None
        mailer = mailer if shared else mailers.default
        try:
            sent = mailer.send_messages([mail])
        except (smtplib.SMTPException, OSError, ValueError) as exc:
            if shared:
                # The kept connection may be broken: the next message opens a fresh one.
                with contextlib.suppress(Exception):
                    mailer.close()
            retryable, hint, errmsg = _verdict(exc)
            return Answer(
                ok=False,
                retryable=retryable,
                hint=hint,
                errmsg=_without_credentials(errmsg, mailer)[:ERRMSG_MAX_CHARS],
                duration_ms=int((time.monotonic() - started) * 1000),
            )
        duration_ms = int((time.monotonic() - started) * 1000)
        if not sent:
            return Answer(
                ok=False,
                retryable=True,
                hint=base.HINT_NETWORK,
                errmsg=NOTHING_SENT,
                duration_ms=duration_ms,
            )
        return Answer(ok=True, duration_ms=duration_ms)
