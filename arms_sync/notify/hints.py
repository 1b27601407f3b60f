"""Plain words for what a provider answered (the Deliveries page, the Test result, commands)."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from arms_sync.notify import base

HINTS = {
    base.HINT_OK: gettext_noop("Accepted by the provider."),
    base.HINT_KEYWORD_OR_SIGNATURE: gettext_noop(
        "The robot refused the message for its security settings: the message lacks the "
        "robot's custom keyword, or the signing secret is wrong. Check the keyword and the "
        "secret (SEC…) in the robot's Security Settings."
    ),
    base.HINT_THROTTLED: gettext_noop(
        "The robot is throttling messages (at most 20 a minute); it will be retried."
    ),
    base.HINT_INVALID_ROBOT: gettext_noop(
        "The robot does not exist or its token is invalid: it was removed or the webhook URL "
        "was copied wrongly. Copy the webhook URL again from the group's robot settings."
    ),
    base.HINT_TIMEOUT: gettext_noop("The provider did not answer in time; it will be retried."),
    base.HINT_NETWORK: gettext_noop(
        "The provider could not be reached (connection refused, reset or name not found)."
    ),
    base.HINT_SERVER_ERROR: gettext_noop("The provider had a server error; it will be retried."),
    base.HINT_REDIRECT: gettext_noop(
        "The provider answered with a redirect, which is never followed: check the webhook URL."
    ),
    base.HINT_TOO_LARGE: gettext_noop("The provider's answer was too large and was not read."),
    base.HINT_BAD_ANSWER: gettext_noop("The provider's answer was not the JSON its API returns."),
    base.HINT_REFUSED_BY_GUARD: gettext_noop(
        "Not sent: the webhook address is not allowed (only the robot's official HTTPS host, "
        "resolving to a public address)."
    ),
    base.HINT_REJECTED: gettext_noop("The provider refused the message."),
    base.HINT_MAILBOX_REFUSED: gettext_noop(
        "The mail server refused the recipient: check the mailbox address."
    ),
    base.HINT_RATE_LIMITED: gettext_noop(
        "Not sent yet: this robot already received 20 messages in the last minute (the "
        "console's own limit, shared by all workers)."
    ),
    "lease_expired": gettext_noop(
        "The worker sending it stopped before finishing; another worker takes it over."
    ),
    "resent": gettext_noop("Resent from the console."),
}


def hint_text(code: str) -> str:
    return _(HINTS[code]) if code in HINTS else ""


def said(*, http_status=None, errcode=None, errmsg: str = "", hint: str = "") -> str:
    """One line for an attempt: what the provider said (no secrets ever reach it)."""
    parts = []
    if http_status is not None:
        parts.append(f"HTTP {http_status}")
    if errcode is not None:
        parts.append(f"errcode {errcode}")
    if errmsg and errmsg != f"HTTP {http_status}":
        parts.append(errmsg)
    return ": ".join(parts) if parts else hint_text(hint)


def describe(answer: base.Answer) -> str:
    return said(
        http_status=answer.http_status,
        errcode=answer.errcode,
        errmsg=answer.errmsg,
        hint=answer.hint,
    )


def describe_row(row: dict) -> str:
    """A command's line for a result row, with the hint's plain words."""
    line = said(
        http_status=row["http_status"], errcode=row["errcode"], errmsg=row["errmsg"], hint=""
    )
    return f"{line} - {row['hint_text']}" if line else row["hint_text"]


# A network failure is recorded as the exception said it, in English, for operators and logs
# (`name resolution failed: [Errno -2] Name or service not known`). People read it in plain
# words of the page's language instead: the first pattern that matches the recorded text (an
# exception class, an errno, its C library message) names the cause. Ordered: specific first.
NETWORK_WORDS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"name resolution|Errno -[2-5]\b|Name or service not known|nodename nor servname|"
            r"getaddrinfo|No address associated",
            re.I,
        ),
        gettext_noop("The robot's host name could not be found (DNS): check the address."),
    ),
    (
        re.compile(r"Errno 111\b|ConnectionRefused|Connection refused", re.I),
        gettext_noop("The provider's server refused the connection."),
    ),
    (
        re.compile(
            r"Errno 104\b|ConnectionReset|Connection reset|RemoteDisconnected|"
            r"ProtocolError|Connection aborted",
            re.I,
        ),
        gettext_noop("The connection was cut before the provider answered."),
    ),
    (
        re.compile(r"Errno 10[13]\b|Errno 113\b|Network is unreachable|No route to host", re.I),
        gettext_noop("The network path to the provider is down (network unreachable)."),
    ),
    (
        re.compile(r"SSL|TLS|CERTIFICATE", re.I),
        gettext_noop("The secure connection (TLS) to the provider failed."),
    ),
    (
        re.compile(r"no answer within ([0-9.]+) s \(connecting\)", re.I),
        gettext_noop("The provider did not accept a connection within {seconds} s."),
    ),
    (
        re.compile(r"no answer within ([0-9.]+) s", re.I),
        gettext_noop("The provider did not answer within {seconds} s."),
    ),
    (
        re.compile(r"\[Errno "),
        gettext_noop("The provider could not be reached."),
    ),
)


def plain_error(text: str) -> str:
    """`text` (a recorded error) in plain words of the active language when it is a network
    failure; anything else (a provider's own errcode and errmsg) is returned as it is."""
    if not text or text.startswith(("HTTP ", "errcode ")):
        return text
    for pattern, words in NETWORK_WORDS:
        match = pattern.search(text)
        if match:
            seconds = match.group(1) if match.groups() else ""
            return _(words).format(seconds=seconds)
    return text
