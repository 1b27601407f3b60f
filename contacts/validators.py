"""Input rules of the New Contact panel (rules §4): mainland mobiles, robot webhooks, secrets.

Used by the forms, the services (the last word: a caller that skips the form still meets the
rules), merge (RAM profiles' mobile phones) and the send-time guard of the notifier, which calls
`check_robot_url` again right before it connects.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import parse_qsl, urlsplit

import phonenumbers
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from phonenumber_field.phonenumber import PhoneNumber

# The seed's own words under Phone Number.
INVALID_MAINLAND_MOBILE = gettext_noop(
    "Enter a valid phone number from the Chinese mainland (excluding Hong Kong, Macao, and "
    "Taiwan), such as 1381111****."
)
REGION_NAMES = {
    "HK": gettext_noop("Hong Kong"),
    "MO": gettext_noop("Macao"),
    "TW": gettext_noop("Taiwan"),
}
INVALID_MAILBOX = gettext_noop("Enter a valid email format, such as username@example.com.")
ROBOT_URL_NOT_HTTPS = gettext_noop("A robot webhook URL must start with https://.")
ROBOT_URL_BAD_PORT = gettext_noop("A robot webhook URL may only use the standard HTTPS port 443.")
ROBOT_URL_USERINFO = gettext_noop("A robot webhook URL must not contain a user name or password.")
ROBOT_URL_FRAGMENT = gettext_noop("A robot webhook URL must not contain a #fragment.")
INVALID_DINGTALK_SECRET = gettext_noop(
    "A DingTalk signing secret starts with SEC followed by 40-80 letters and digits "
    "(copy it from the robot's Security Settings > Additional Signature)."
)

ROBOT_URL_MAX_LENGTH = 512
DEFAULT_PORTS = {"https": 443, "http": 80}

# What a person may type around the digits of a phone number: anything else (letters, which
# libphonenumber would read as a vanity number, or an extension marker) is refused outright.
_PHONE_CHARS = re.compile(r"^[0-9+\-().\s]{1,40}$")
_MOBILE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{8,256}$")
_DINGTALK_SECRET = re.compile(r"^SEC[A-Za-z0-9]{40,80}$")


def normalize_mainland_mobile(text: str | PhoneNumber) -> PhoneNumber:
    """Parse a mainland-China mobile however it is typed and return it (E.164 `+86…`).

    `PhoneNumberField(region="CN")` alone only sets the default region, so a Hong Kong number
    passes it; the number must also be of region CN, of a mobile type and carry no extension
    (STACK.md). Full-width digits and RAM's `86-138…` form are accepted.
    """
    if isinstance(text, phonenumbers.PhoneNumber):
        text = phonenumbers.format_number(text, phonenumbers.PhoneNumberFormat.E164)
    cleaned = unicodedata.normalize("NFKC", str(text or "")).strip()
    if not cleaned:
        raise _phone_error()
    if not _PHONE_CHARS.match(cleaned):
        raise _phone_error(
            _("Only digits, spaces, hyphens, brackets and a leading + may be typed.")
        )
    try:
        number = PhoneNumber.from_string(cleaned, region="CN")
    except (phonenumbers.NumberParseException, ValueError):
        raise _phone_error(_digit_count(cleaned)) from None
    if number.extension:
        raise _phone_error(_("A phone number with an extension cannot be used."))
    region = phonenumbers.region_code_for_number(number)
    if region in REGION_NAMES:
        region_name = _(REGION_NAMES[region])
        raise _phone_error(_("This is a {region} number.").format(region=region_name))
    if region not in ("CN", None) or (region is None and number.country_code != 86):
        raise _phone_error(_("This number is not from the Chinese mainland."))
    if not phonenumbers.is_valid_number(number):
        raise _phone_error(_digit_count(cleaned))
    if phonenumbers.number_type(number) not in _MOBILE_TYPES:
        raise _phone_error(_("This is a landline number, not a mobile one."))
    return number


def _phone_error(problem: str = "") -> ValidationError:
    """A refused phone number: what is wrong, when more is known than the seed's sentence says
    (issue 18: "phone errors say what is wrong"), then the seed's own sentence of what to type."""
    words = _(INVALID_MAINLAND_MOBILE)
    return ValidationError(f"{problem} {words}" if problem else words, code="invalid_phone")


def _digit_count(cleaned: str) -> str:
    """The wrong number of digits, when the typed number looks like a mainland mobile with too
    many or too few (after a +86 / 0086 / 86- prefix); else nothing (the seed's sentence says
    it alone)."""
    digits = re.sub(r"\D", "", cleaned)
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) > 11:
            digits = digits[len(prefix) :]
            break
    if digits.startswith("1") and len(digits) != 11:
        message = _("A mainland mobile number has 11 digits; this one has {count}.")
        return message.format(count=len(digits))
    return ""


def validate_mailbox(value: str) -> str:
    """Mailbox (optional): a valid email address, at most 254 characters."""
    value = (value or "").strip()
    if not value:
        return ""
    if len(value) > 254:
        raise ValidationError(_(INVALID_MAILBOX), code="invalid_mailbox")
    try:
        validate_email(value)
    except ValidationError:
        raise ValidationError(_(INVALID_MAILBOX), code="invalid_mailbox") from None
    return value


def _robot_error(kind: str, message: str, code: str) -> ValidationError:
    return ValidationError(message, code=code, params={"kind": kind})


def _host_entry(entry: str) -> tuple[str, int | None]:
    """`host`, `host:port`, `[v6]`, `[v6]:port` (or a bare IPv6 literal) -> (host, port or
    None), the host lowercased without brackets or a trailing dot, as urlsplit gives it."""
    entry = entry.strip().lower()
    port = ""
    if entry.startswith("["):
        host, _bracket, rest = entry[1:].partition("]")
        port = rest.removeprefix(":")
    elif entry.count(":") == 1:
        host, port = entry.split(":")
    else:
        host = entry
    if port and not port.isdigit():
        raise ImproperlyConfigured(f"ROBOT_WEBHOOK_HOSTS: bad port in {entry!r}")
    return host.rstrip("."), int(port) if port else None


def _host_allowed(kind: str, host: str, port: int, scheme: str) -> bool:
    """A `host` entry matches only the scheme's default port; `host:port` exactly that port."""
    for entry in settings.ROBOT_WEBHOOK_HOSTS.get(kind, []):
        allowed_host, allowed_port = _host_entry(entry)
        if host == allowed_host and port == (allowed_port or DEFAULT_PORTS[scheme]):
            return True
    return False


def _robot_shape(kind: str):
    """The robot's URL shape, as its channel module (contacts/channels) describes it."""
    from contacts import channels  # the channel modules import this one

    return channels.robot(kind)


def check_robot_url(kind: str, url: str) -> str:
    """The one guard for robot webhook URLs (save time and send time): https on port 443, an
        allowed host for this robot (`settings.ROBOT_WEBHOOK_HOSTS[kind]`), the robot's exact path
    (its channel's `RobotUrl`),
        exactly one token parameter of sane characters, no user info, no fragment.

        `settings.ROBOT_WEBHOOK_ALLOW_HTTP` (test sinks only) also lets http:// and any port
        through, as long as a `host:port` entry names that port (a bare `host` entry means 443, or
        80 for http).

        Returns the URL, stripped; raises ValidationError with a message saying what is wrong.
    """
    shape = _robot_shape(kind)
    robot, path, param = shape.name, shape.path, shape.token_param
    url = (url or "").strip()
    generic = shape.invalid
    if (
        not url
        or len(url) > ROBOT_URL_MAX_LENGTH
        or any(ch.isspace() or unicodedata.category(ch)[0] == "C" for ch in url)
        or not url.isascii()
    ):
        raise _robot_error(kind, _(generic), "invalid_robot_url")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise _robot_error(kind, _(ROBOT_URL_BAD_PORT), "robot_url_port") from None
    allow_http = settings.ROBOT_WEBHOOK_ALLOW_HTTP
    scheme = parts.scheme.lower()
    if scheme not in (("https", "http") if allow_http else ("https",)):
        raise _robot_error(kind, _(ROBOT_URL_NOT_HTTPS), "robot_url_scheme")
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        raise _robot_error(kind, _(ROBOT_URL_USERINFO), "robot_url_userinfo")
    if port == 0 or (port is not None and port != 443 and not allow_http):
        raise _robot_error(kind, _(ROBOT_URL_BAD_PORT), "robot_url_port")
    if parts.fragment or url.endswith("#"):
        raise _robot_error(kind, _(ROBOT_URL_FRAGMENT), "robot_url_fragment")
    host = (parts.hostname or "").lower().rstrip(".")
    if not _host_allowed(kind, host, port or DEFAULT_PORTS[scheme], scheme):
        hosts = [h.lower() for h in settings.ROBOT_WEBHOOK_HOSTS.get(kind, [])]
        raise _robot_error(
            kind,
            _("The {robot} webhook must be on {hosts}.").format(
                robot=_(robot), hosts=" or ".join(hosts)
            ),
            "robot_host",
        )
    if parts.path != path or ";" in parts.path:
        raise _robot_error(
            kind,
            _("The {robot} webhook path must be {path}.").format(robot=_(robot), path=path),
            "robot_path",
        )
    try:
        query = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        query = []
    if len(query) != 1 or query[0][0] != param or not _TOKEN.match(query[0][1]):
        raise _robot_error(
            kind,
            _(
                "The {robot} webhook URL must carry exactly one {param}=<value> made of letters, "
                "digits, '-' and '_', and nothing else."
            ).format(robot=_(robot), param=param),
            "robot_token",
        )
    return url


INVALID_DINGTALK_KEYWORD = gettext_noop(
    "A DingTalk keyword has at most {limit} characters and no control characters."
)
DINGTALK_KEYWORD_MAX_LENGTH = 20

# What a keyword may not hold: control and format characters (NUL, zero-width, bidi
# overrides), lone surrogates, line and paragraph separators.
_KEYWORD_REFUSED_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def validate_dingtalk_keyword(keyword: str) -> str:
    """The DingTalk robot's custom keyword (its Security Settings); blank means the default
    keyword, 告警. At most 20 characters, none of them a control character."""
    keyword = (keyword or "").strip()
    if len(keyword) > DINGTALK_KEYWORD_MAX_LENGTH or any(
        unicodedata.category(ch) in _KEYWORD_REFUSED_CATEGORIES for ch in keyword
    ):
        raise ValidationError(
            _(INVALID_DINGTALK_KEYWORD).format(limit=DINGTALK_KEYWORD_MAX_LENGTH),
            code="invalid_keyword",
        )
    return keyword


def validate_dingtalk_secret(secret: str) -> str:
    secret = (secret or "").strip()
    if not _DINGTALK_SECRET.match(secret):
        raise ValidationError(_(INVALID_DINGTALK_SECRET), code="invalid_secret")
    return secret


def robot_token(kind: str, url: str) -> str:
    """The token (DingTalk access_token, WeCom key) of a stored webhook URL, or ''."""
    if not url:
        return ""
    param = _robot_shape(kind).token_param
    for name, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        if name == param:
            return value
    return ""


def mask_secret_text(value: str, *, keep: int = 4) -> str:
    """`3f2a…9c1d`: enough to tell two apart, too little to use."""
    if len(value) <= keep * 2:
        return "…"
    return f"{value[:keep]}…{value[-keep:]}"


def mask_secrets_in(text: str, *secrets: str) -> str:
    """`text` (an error message, a provider's answer) with each of `secrets` masked."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, mask_secret_text(secret))
    return text


def mask_robot_url(kind: str, url: str) -> str:
    """The webhook URL with its token masked, for lists, logs and delivery records (rules §8)."""
    if not url:
        return ""
    token = robot_token(kind, url)
    if not token:
        return url
    return url.replace(token, mask_secret_text(token), 1)


def mask_dingtalk_secret(secret: str) -> str:
    return f"SEC…{secret[-4:]}" if len(secret) > 8 else ("SEC…" if secret else "")
