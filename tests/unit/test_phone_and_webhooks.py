"""rules §4: Phone Number (a Chinese-mainland mobile, stored as E.164), Mailbox, and the robot
webhook guard (https, port 443, the robot's host and path, a token; no userinfo, no fragment)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from contacts.validators import (
    INVALID_DINGTALK_SECRET,
    INVALID_MAILBOX,
    INVALID_MAINLAND_MOBILE,
    ROBOT_URL_BAD_PORT,
    ROBOT_URL_FRAGMENT,
    ROBOT_URL_NOT_HTTPS,
    ROBOT_URL_USERINFO,
    check_robot_url,
    mask_dingtalk_secret,
    mask_robot_url,
    normalize_mainland_mobile,
    validate_dingtalk_secret,
    validate_mailbox,
)
from tests.integration.contacts_support import ONE_MOBILE_TYPED

DING = "https://oapi.dingtalk.com/robot/send?access_token="
WECOM = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key="
TOKEN = "3f2a" + "ab" * 28 + "9c1d"
KEY = "693a91f6-7aaa-4bc4-97a0-0ec2fafa5aaa"


@pytest.mark.parametrize("typed", ONE_MOBILE_TYPED)
def test_every_accepted_form_of_a_mainland_mobile_is_one_e164_value(typed):
    assert normalize_mainland_mobile(typed).as_e164 == "+8613811112222"


@pytest.mark.parametrize(
    ("typed", "what_is_wrong"),
    [
        ("+852 5123 4567", "This is a Hong Kong number."),
        ("+853 6612 3456", "This is a Macao number."),
        ("+886 912 345 678", "This is a Taiwan number."),
        ("010-12345678", "This is a landline number, not a mobile one."),
        ("1381111222", "A mainland mobile number has 11 digits; this one has 10."),
        ("138111122223", "A mainland mobile number has 11 digits; this one has 12."),
        ("+86 138 1111 222", "A mainland mobile number has 11 digits; this one has 10."),
        ("13811112222 x12", "Only digits, spaces, hyphens, brackets and a leading + may be typed."),
        ("13811112222 ext. 12", "Only digits, spaces"),
        ("1381111CALL", "Only digits, spaces"),  # libphonenumber would read a vanity number
        ("garbage", "Only digits, spaces"),
        ("", ""),
        ("+1 650 253 0000", "This number is not from the Chinese mainland."),
        ("+86", ""),
        ("1" * 50, "Only digits, spaces"),
    ],
)
def test_anything_but_a_mainland_mobile_is_refused_saying_what_is_wrong(typed, what_is_wrong):
    """Issue 18: the message says what is wrong (a Hong Kong / Macao / Taiwan number, a
    landline, the wrong number of digits), then the seed's own sentence of what to type."""
    with pytest.raises(ValidationError) as exc:
        normalize_mainland_mobile(typed)
    [message] = exc.value.messages
    assert message.endswith(INVALID_MAINLAND_MOBILE)
    assert message.startswith(what_is_wrong)
    if not what_is_wrong:
        assert message == INVALID_MAINLAND_MOBILE


@pytest.mark.parametrize("value", ["ops@example.com", "Li.Lei+alerts@sub.example.cn"])
def test_valid_mailbox_is_accepted(value):
    assert validate_mailbox(value) == value


@pytest.mark.parametrize(
    "value", ["ops", "ops@", "@example.com", "ops@example", "a b@example.com", "x" * 250 + "@e.com"]
)
def test_invalid_mailbox_is_refused_with_the_seeds_hint(value):
    with pytest.raises(ValidationError) as exc:
        validate_mailbox(value)
    assert exc.value.messages == [INVALID_MAILBOX]


@pytest.mark.parametrize(
    ("kind", "url"),
    [
        ("dingtalk", DING + TOKEN),
        ("dingtalk", "https://oapi.dingtalk.com:443/robot/send?access_token=" + TOKEN),
        ("dingtalk", "HTTPS://OAPI.DINGTALK.COM/robot/send?access_token=" + TOKEN),
        ("wecom", WECOM + KEY),
        ("wecom", "https://qyapi.weixin.qq.com:443/cgi-bin/webhook/send?key=" + KEY),
    ],
)
def test_official_robot_urls_are_accepted(kind, url):
    assert check_robot_url(kind, url) == url


@pytest.mark.parametrize(
    ("kind", "url", "message"),
    [
        (
            "dingtalk",
            "http://oapi.dingtalk.com/robot/send?access_token=" + TOKEN,
            ROBOT_URL_NOT_HTTPS,
        ),
        (
            "dingtalk",
            "https://oapi.dingtalk.com:8443/robot/send?access_token=" + TOKEN,
            ROBOT_URL_BAD_PORT,
        ),
        (
            "dingtalk",
            "https://oapi.dingtalk.com:80/robot/send?access_token=" + TOKEN,
            ROBOT_URL_BAD_PORT,
        ),
        (
            "dingtalk",
            "https://oapi.dingtalk.com:x/robot/send?access_token=" + TOKEN,
            ROBOT_URL_BAD_PORT,
        ),
        (
            "dingtalk",
            "https://user:pw@oapi.dingtalk.com/robot/send?access_token=" + TOKEN,
            ROBOT_URL_USERINFO,
        ),
        (
            "dingtalk",
            "https://oapi.dingtalk.com@evil.example/robot/send?access_token=" + TOKEN,
            ROBOT_URL_USERINFO,
        ),
        ("dingtalk", DING + TOKEN + "#frag", ROBOT_URL_FRAGMENT),
        ("wecom", "ftp://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + KEY, ROBOT_URL_NOT_HTTPS),
        (
            "wecom",
            "https://qyapi.weixin.qq.com:444/cgi-bin/webhook/send?key=" + KEY,
            ROBOT_URL_BAD_PORT,
        ),
    ],
)
def test_robot_url_transport_rules(kind, url, message):
    with pytest.raises(ValidationError) as exc:
        check_robot_url(kind, url)
    assert exc.value.messages == [message]


@pytest.mark.parametrize(
    ("kind", "url", "code"),
    [
        ("dingtalk", "https://evil.example/robot/send?access_token=" + TOKEN, "robot_host"),
        (
            "dingtalk",
            "https://oapi.dingtalk.com.evil.example/robot/send?access_token=" + TOKEN,
            "robot_host",
        ),
        ("dingtalk", "https://qyapi.weixin.qq.com/robot/send?access_token=" + TOKEN, "robot_host"),
        ("dingtalk", "https://127.0.0.1/robot/send?access_token=" + TOKEN, "robot_host"),
        ("dingtalk", "https://oapi.dingtalk.com/robot/sendx?access_token=" + TOKEN, "robot_path"),
        ("dingtalk", "https://oapi.dingtalk.com/robot/send/?access_token=" + TOKEN, "robot_path"),
        ("dingtalk", "https://oapi.dingtalk.com/robot/../send?access_token=" + TOKEN, "robot_path"),
        ("dingtalk", "https://oapi.dingtalk.com/robot/send", "robot_token"),
        ("dingtalk", DING, "robot_token"),
        ("dingtalk", "https://oapi.dingtalk.com/robot/send?key=" + TOKEN, "robot_token"),
        ("dingtalk", DING + "abc", "robot_token"),
        ("dingtalk", DING + "<script>alert(1)</script>", "robot_token"),
        ("dingtalk", DING + TOKEN + "&access_token=" + TOKEN, "robot_token"),
        ("dingtalk", DING + TOKEN + "&redirect=https://evil.example", "robot_token"),
        ("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send", "robot_token"),
        (
            "wecom",
            "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?access_token=" + KEY,
            "robot_token",
        ),
        ("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/post?key=" + KEY, "robot_path"),
        ("wecom", "https://oapi.dingtalk.com/cgi-bin/webhook/send?key=" + KEY, "robot_host"),
        ("wecom", "not a url", "invalid_robot_url"),
        ("wecom", WECOM + "k\ney", "invalid_robot_url"),
        (
            "wecom",
            "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + "k" * 600,
            "invalid_robot_url",
        ),
    ],
)
def test_robot_url_host_path_and_token_rules(kind, url, code):
    with pytest.raises(ValidationError) as exc:
        check_robot_url(kind, url)
    assert exc.value.error_list[0].code == code


@override_settings(ROBOT_WEBHOOK_HOSTS={"dingtalk": ["sink.test"], "wecom": []})
def test_allowed_hosts_come_from_the_setting():
    assert check_robot_url("dingtalk", "https://sink.test/robot/send?access_token=" + TOKEN)
    with pytest.raises(ValidationError):
        check_robot_url("dingtalk", DING + TOKEN)
    with pytest.raises(ValidationError):
        check_robot_url("wecom", WECOM + KEY)


@pytest.mark.parametrize("secret", ["SEC" + "a1" * 20, "SEC" + "0f" * 32, "SEC" + "Z" * 80])
def test_dingtalk_signing_secret_shape_is_accepted(secret):
    assert validate_dingtalk_secret(secret) == secret


@pytest.mark.parametrize(
    "secret",
    ["a1" * 32, "SEC" + "a" * 39, "SEC" + "a" * 81, "SEC" + "a" * 30 + "-" * 20, "sec" + "a" * 64],
)
def test_malformed_dingtalk_signing_secret_is_refused(secret):
    with pytest.raises(ValidationError) as exc:
        validate_dingtalk_secret(secret)
    assert exc.value.messages == [INVALID_DINGTALK_SECRET]


def test_robot_tokens_and_secrets_are_masked():
    """rules §8: robot tokens and signing secrets are never shown in full."""
    masked = mask_robot_url("dingtalk", DING + TOKEN)
    assert masked == DING + "3f2a…9c1d"
    assert TOKEN not in masked
    assert KEY not in mask_robot_url("wecom", WECOM + KEY)
    secret = "SEC" + "0f" * 32
    assert mask_dingtalk_secret(secret) == "SEC…0f0f"
