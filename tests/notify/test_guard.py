"""rules §4: the robot webhook guard. Hostile URLs are refused when saved and again when sent;
at send time every address the host resolves to must be public (unless the setting allows
otherwise), the client connects to exactly the address checked, and a refused webhook opens no
connection at all: canary listeners on 127.0.0.1 count every connection."""

from __future__ import annotations

import ipaddress

import pytest
import urllib3.util.connection
from django.core.checks import run_checks
from django.core.exceptions import ValidationError
from django.test import override_settings

from arms_sync.checks import ALLOW_HTTP_ON, ALLOW_PRIVATE_ON
from arms_sync.notify import base
from arms_sync.notify.base import Message, Target
from arms_sync.notify.guard import GuardRefused, is_public_address, resolve_robot
from arms_sync.notify.transports import get_transport
from contacts import services
from contacts.models import Contact
from contacts.validators import check_robot_url

TOKEN = "ok-hostile-token-1"
KEY = "ok-hostile-key-1"
MESSAGE = Message(subject="告警", text="告警 test")
PRODUCTION = {
    "ROBOT_WEBHOOK_ALLOW_HTTP": False,
    "ROBOT_WEBHOOK_ALLOW_PRIVATE": False,
    "ROBOT_WEBHOOK_HOSTS": {"dingtalk": ["oapi.dingtalk.com"], "wecom": ["qyapi.weixin.qq.com"]},
}
D = "/robot/send?access_token=" + TOKEN
W = "/cgi-bin/webhook/send?key=" + KEY

# Refused by check_robot_url under the production settings. {canary} is the canary's port, so
# that a URL the guard wrongly let through would knock on it.
HOSTILE_URLS = [
    ("dingtalk", "https://127.0.0.1" + D),
    ("dingtalk", "https://127.0.0.1:{canary}" + D),
    ("dingtalk", "http://127.0.0.1:{canary}" + D),
    ("dingtalk", "https://127.1:{canary}" + D),
    ("dingtalk", "https://2130706433:{canary}" + D),
    ("dingtalk", "https://0x7f000001:{canary}" + D),
    ("dingtalk", "https://0177.0.0.1:{canary}" + D),
    ("dingtalk", "https://0.0.0.0:{canary}" + D),
    ("dingtalk", "https://localhost:{canary}" + D),
    ("dingtalk", "https://[::1]:{canary}" + D),
    ("dingtalk", "https://[::ffff:127.0.0.1]:{canary}" + D),
    ("dingtalk", "https://[::ffff:7f00:1]:{canary}" + D),
    ("dingtalk", "https://169.254.169.254" + D),
    ("dingtalk", "https://[::ffff:a9fe:a9fe]" + D),
    ("dingtalk", "https://100.100.100.200" + D),
    ("dingtalk", "https://10.0.0.1" + D),
    ("dingtalk", "https://172.16.0.1" + D),
    ("dingtalk", "https://192.168.1.1" + D),
    ("dingtalk", "https://[fd00::1]" + D),
    ("dingtalk", "https://[fe80::1]" + D),
    ("dingtalk", "https://oapi.dingtalk.com@127.0.0.1:{canary}" + D),
    ("dingtalk", "https://oapi.dingtalk.com:443@127.0.0.1:{canary}" + D),
    ("dingtalk", "https://127.0.0.1:{canary}#@oapi.dingtalk.com" + D),
    ("dingtalk", "https://oapi.dingtalk.com.evil.example" + D),
    ("dingtalk", "https://oapi-dingtalk.com" + D),
    ("dingtalk", "https://oapi.dingtalk.com:8443" + D),
    ("dingtalk", "http://oapi.dingtalk.com" + D),
    ("dingtalk", "https://\u043eapi.dingtalk.com" + D),  # a Cyrillic o
    ("dingtalk", "https://oapi.dingtalk.com\uff0e127.0.0.1" + D),  # a full-width dot
    ("dingtalk", "https://oapi.dingtalk.com\\@127.0.0.1:{canary}" + D),
    ("dingtalk", "https://127.0.0.1:{canary}\\oapi.dingtalk.com" + D),
    ("dingtalk", "https://oapi.dingtalk.com%2F@127.0.0.1:{canary}" + D),
    ("dingtalk", "//127.0.0.1:{canary}" + D),
    ("dingtalk", "https://oapi.dingtalk.com" + D + "&redirect=http://127.0.0.1:{canary}/"),
    ("dingtalk", "https://oapi.dingtalk.com" + D + "%0d%0aHost:%20127.0.0.1"),
    ("dingtalk", "https://oapi.dingtalk.com/robot/send/../x?access_token=" + TOKEN),
    ("dingtalk", "https://oapi.dingtalk.com/robot/send/..%2F..%2Fx?access_token=" + TOKEN),
    ("wecom", "https://127.0.0.1:{canary}" + W),
    ("wecom", "https://qyapi.weixin.qq.com@127.0.0.1:{canary}" + W),
    ("wecom", "http://qyapi.weixin.qq.com" + W),
    ("wecom", "https://qyapi.weixin.qq.com.evil.example" + W),
    ("wecom", "https://oapi.dingtalk.com" + W),
]

# Hosts that only the address check stops: the allow-list names them (as a test sink's would)
# and http is on, but ALLOW_PRIVATE is off.
NON_PUBLIC_HOSTS = [
    "127.0.0.1",
    "127.1",
    "2130706433",
    "0x7f000001",
    "0177.0.0.1",
    "0.0.0.0",
    "localhost",
    "[::1]",
    "[::ffff:127.0.0.1]",
    "[::ffff:7f00:1]",
    "[64:ff9b::7f00:1]",
    "[2002:7f00:1::]",
    "169.254.169.254",
    "100.100.100.200",
    "10.0.0.1",
    "172.16.0.1",
    "192.168.1.1",
    "198.18.0.1",
    "224.0.0.1",
    "255.255.255.255",
    "[::]",
    "[fd00::1]",
    "[fe80::1]",
    "[ff02::1]",
]


@pytest.fixture
def connects(monkeypatch) -> list[tuple]:
    """Every TCP connection the HTTP client opens, recorded before it is made."""
    made: list[tuple] = []
    real = urllib3.util.connection.create_connection

    def spy(address, *args, **kwargs):
        made.append(address)
        return real(address, *args, **kwargs)

    monkeypatch.setattr(urllib3.util.connection, "create_connection", spy)
    return made


def send(kind: str, url: str) -> base.Answer:
    return get_transport(kind).send(Target(kind, url, secret=""), MESSAGE)


# --- deploy checks -------------------------------------------------------------------------


def deploy_warnings() -> dict[str, str]:
    # Only the security checks: the model checks would open the database (no db fixture here).
    found = run_checks(tags=["security"], include_deployment_checks=True)
    return {m.id: m.msg for m in found if m.id[:4] == "sae."}


def test_deploy_check_is_quiet_with_both_switches_off():
    """rules §4: the defaults are safe; check --deploy says nothing about robots."""
    with override_settings(ROBOT_WEBHOOK_ALLOW_PRIVATE=False, ROBOT_WEBHOOK_ALLOW_HTTP=False):
        assert deploy_warnings() == {}


def test_deploy_check_warns_while_a_test_sink_switch_is_on():
    """rules §4: non-public addresses and plain http are for test sinks; deploy warns."""
    with override_settings(ROBOT_WEBHOOK_ALLOW_PRIVATE=True, ROBOT_WEBHOOK_ALLOW_HTTP=False):
        assert deploy_warnings() == {"sae.W001": ALLOW_PRIVATE_ON}
    with override_settings(ROBOT_WEBHOOK_ALLOW_PRIVATE=False, ROBOT_WEBHOOK_ALLOW_HTTP=True):
        assert deploy_warnings() == {"sae.W002": ALLOW_HTTP_ON}


# --- the URL rule's host entries -------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "url", "accepted"),
    [
        ("127.0.0.1:8125", "http://127.0.0.1:8125" + D, True),
        ("127.0.0.1:8125", "http://127.0.0.1:8126" + D, False),
        ("127.0.0.1:8125", "http://127.0.0.1" + D, False),
        ("127.0.0.1", "http://127.0.0.1" + D, True),  # a bare host: port 80 for http
        ("127.0.0.1", "http://127.0.0.1:8125" + D, False),
        ("127.0.0.1", "https://127.0.0.1" + D, True),  # and 443 for https
        ("sink.test:443", "https://sink.test" + D, True),
        ("[::1]:8125", "http://[::1]:8125" + D, True),
        ("[::1]:8125", "http://[::2]:8125" + D, False),
        ("[::1]", "https://[::1]" + D, True),
        ("SINK.test:8125", "http://sink.TEST:8125" + D, True),
    ],
)
def test_host_entries_name_a_host_and_optionally_a_port(entry, url, accepted):
    """rules §4: allowed hosts come from a setting; `host:port` entries serve test sinks."""
    with override_settings(
        ROBOT_WEBHOOK_ALLOW_HTTP=True, ROBOT_WEBHOOK_HOSTS={"dingtalk": [entry]}
    ):
        if accepted:
            assert check_robot_url("dingtalk", url) == url
        else:
            with pytest.raises(ValidationError):
                check_robot_url("dingtalk", url)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8125" + D, "https://127.0.0.1:8125" + D, "http://127.0.0.1" + D]
)
def test_without_allow_http_a_host_port_entry_does_not_open_http_or_another_port(url):
    """rules §4: https on port 443 only, whatever the host list says, unless ALLOW_HTTP."""
    with (
        override_settings(
            ROBOT_WEBHOOK_ALLOW_HTTP=False,
            ROBOT_WEBHOOK_HOSTS={"dingtalk": ["127.0.0.1:8125", "127.0.0.1"]},
        ),
        pytest.raises(ValidationError),
    ):
        check_robot_url("dingtalk", url)


# --- hostile URLs: refused on save and on send ----------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("kind", "template"), HOSTILE_URLS)
def test_hostile_url_is_refused_on_save(kind, template, canary, owner_principal):
    """rules §4: the guard runs when a URL is saved: the validator and the contact service."""
    url = template.format(canary=canary.port)
    with override_settings(**PRODUCTION):
        with pytest.raises(ValidationError):
            check_robot_url(kind, url)
        with pytest.raises(ValidationError) as exc:
            services.create_contact(
                principal=owner_principal,
                ram_user=None,
                phone="13811112222",
                **{f"{kind}_webhook": url},
            )
    assert f"{kind}_webhook" in exc.value.error_dict
    assert not Contact.objects.filter(account=owner_principal.account).exists()


@pytest.mark.parametrize(("kind", "template"), HOSTILE_URLS)
def test_hostile_url_is_refused_on_send_without_a_connection(kind, template, canary, connects):
    """rules §4: the same guard runs again when the URL is sent (a URL stored before a rule
    changed, or written around the service): refused, and nothing is connected to."""
    url = template.format(canary=canary.port)
    with override_settings(**PRODUCTION):
        answer = send(kind, url)
    assert (answer.ok, answer.retryable) == (False, False)
    assert answer.hint == base.HINT_REFUSED_BY_GUARD
    assert TOKEN not in answer.errmsg and KEY not in answer.errmsg
    assert connects == []
    assert canary.connections == 0


def test_there_are_at_least_thirty_hostile_urls():
    assert len(HOSTILE_URLS) >= 30


# --- the address check ------------------------------------------------------------------------


@pytest.mark.parametrize("host", NON_PUBLIC_HOSTS)
def test_a_non_public_address_is_refused_on_send_even_when_the_host_is_allowed(
    host, canary, connects
):
    """rules §4: at send time the address actually connected to must be public (decimal, octal
    and hex IPv4 forms, and IPv4 inside IPv6, are judged by the address they reach)."""
    url = f"http://{host}:{canary.port}" + D
    with override_settings(
        ROBOT_WEBHOOK_ALLOW_HTTP=True,
        ROBOT_WEBHOOK_ALLOW_PRIVATE=False,
        ROBOT_WEBHOOK_HOSTS={"dingtalk": [f"{host}:{canary.port}"]},
    ):
        assert check_robot_url("dingtalk", url) == url  # the allow-list lets it be saved
        answer = send("dingtalk", url)
    assert (answer.hint, answer.retryable) == (base.HINT_REFUSED_BY_GUARD, False)
    assert "not a public address" in answer.errmsg and TOKEN not in answer.errmsg
    assert connects == []
    assert canary.connections == 0


@pytest.mark.parametrize(
    "ips",
    [("10.0.0.5",), ("127.0.0.1",), ("100.100.100.200",), ("93.184.215.14", "10.0.0.5")],
    ids=["private", "loopback", "metadata", "one-of-two"],
)
def test_an_allowed_name_that_resolves_to_a_private_address_is_refused(
    ips, canary, connects, resolve_as
):
    """rules §4: the host is on the list, but DNS (someone else's) points it inside: refused,
    and every address counts, not only the first."""
    asked = resolve_as("robot.test", *ips)
    url = f"http://robot.test:{canary.port}" + D
    with override_settings(
        ROBOT_WEBHOOK_ALLOW_HTTP=True,
        ROBOT_WEBHOOK_ALLOW_PRIVATE=False,
        ROBOT_WEBHOOK_HOSTS={"dingtalk": [f"robot.test:{canary.port}"]},
    ):
        answer = send("dingtalk", url)
    assert answer.hint == base.HINT_REFUSED_BY_GUARD
    assert asked == ["robot.test"]
    assert connects == []
    assert canary.connections == 0


def test_the_client_connects_to_the_address_checked(robot_sink, resolve_as, connects):
    """rules §4: no DNS-rebinding window: the name is resolved once, by the guard, and the
    connection goes to that address with the name in the Host header."""
    asked = resolve_as("robot.test", "127.0.0.1")
    robot_sink.reset()
    entry = f"robot.test:{robot_sink.port}"
    with override_settings(ROBOT_WEBHOOK_HOSTS={"dingtalk": [entry], "wecom": [entry]}):
        answer = send("dingtalk", f"http://{entry}/robot/send?access_token=ok-rebind")
    assert answer.ok
    assert asked.count("robot.test") == 1  # urllib3 only "resolves" the IP literal
    assert connects == [("127.0.0.1", robot_sink.port)]
    (received,) = robot_sink.received("ok-rebind")
    assert received.headers["Host"] == entry


def test_loopback_sink_is_refused_without_allow_private_and_reached_with_it(robot_sink, settings):
    """rules §4: a loopback sink on the host list is still refused unless ALLOW_PRIVATE is on;
    with all three settings it receives the message."""
    url = robot_sink.url("dingtalk", "ok-loopback")
    settings.ROBOT_WEBHOOK_ALLOW_PRIVATE = False
    assert send("dingtalk", url).hint == base.HINT_REFUSED_BY_GUARD
    assert robot_sink.connections == 0
    settings.ROBOT_WEBHOOK_ALLOW_PRIVATE = True
    assert send("dingtalk", url).ok
    assert len(robot_sink.received("ok-loopback")) == 1


def test_resolve_robot_returns_the_checked_public_address(resolve_as):
    resolve_as("oapi.dingtalk.com", "203.119.129.12", "2401:b180::1")
    with override_settings(**PRODUCTION):
        pinned = resolve_robot("dingtalk", "https://oapi.dingtalk.com" + D)
    assert (pinned.scheme, pinned.host, pinned.ip, pinned.port) == (
        "https",
        "oapi.dingtalk.com",
        "203.119.129.12",
        443,
    )
    assert pinned.path == D and pinned.host_header == "oapi.dingtalk.com"


def test_guard_refusal_reason_never_holds_the_token():
    with override_settings(**PRODUCTION), pytest.raises(GuardRefused) as exc:
        resolve_robot("dingtalk", "https://evil.example" + D)
    assert TOKEN not in exc.value.reason and TOKEN not in str(exc.value)


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("203.119.129.12", True),
        ("2001:4860:4860::8888", True),
        ("::ffff:8.8.8.8", True),
        ("2002:808:808::1", True),
        ("127.0.0.1", False),
        ("127.255.255.254", False),
        ("0.0.0.0", False),
        ("10.1.2.3", False),
        ("172.31.255.255", False),
        ("192.168.0.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("100.100.100.200", False),
        ("192.0.0.8", False),
        ("192.0.2.1", False),
        ("198.51.100.7", False),
        ("224.0.0.251", False),
        ("239.255.255.250", False),
        ("240.0.0.1", False),
        ("255.255.255.255", False),
        ("::", False),
        ("::1", False),
        ("::127.0.0.1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:169.254.169.254", False),
        ("::ffff:100.100.100.200", False),
        ("64:ff9b::a00:1", False),
        ("64:ff9b::808:808", True),
        ("64:ff9b:1::1", False),
        ("2002:a00:1::1", False),
        ("2002:7f00:1::", False),
        ("2001::1", False),
        ("2001:db8::1", False),
        ("fc00::1", False),
        ("fd12:3456::1", False),
        ("fe80::1", False),
        ("fec0::1", False),
        ("ff02::1", False),
    ],
)
def test_which_addresses_are_public(address, public):
    """rules §4: not loopback, private, link-local, carrier-grade NAT, unspecified, multicast,
    reserved; IPv4 carried in IPv6 is judged by the IPv4 address."""
    assert is_public_address(ipaddress.ip_address(address)) is public
