"""rules §8: the DingTalk and WeCom transports against a real loopback robot API (tests/notify/
sink.py): what each answer comes to, signing and keywords, payload shapes and @mentions, byte
limits, redirects, timeouts, oversized answers and kept-alive connections."""

from __future__ import annotations

import dataclasses
import json
import socket
import time
from collections.abc import Iterator

import pytest

from arms_sync.notify import base, dingtalk, http, wecom
from arms_sync.notify.base import Message, Target
from arms_sync.notify.transports import get_transport
from tests.notify.certs import self_signed_certificate, server_context
from tests.notify.sink import KEYWORD_MISSING, RobotSink, dingtalk_sign

SECRET = "SEC" + "3f9a" * 16
PHONE = "+8613811112222"
ALERT = Message(
    subject="CPU usage high",
    text="告警 CPU usage is 97% on app-1",
    markdown="### 告警\n**CPU** usage is 97% on app-1",
)


def send(sink, kind: str, token: str, message: Message = ALERT, **target) -> base.Answer:
    return get_transport(kind).send(Target(kind, sink.url(kind, token), **target), message)


def only_body(sink, token: str) -> dict:
    (received,) = sink.received(token)
    return received.body


@pytest.mark.parametrize(
    ("kind", "token", "retryable", "hint", "errcode"),
    [
        ("dingtalk", "err130101-a", True, base.HINT_THROTTLED, 130101),
        ("dingtalk", "err310000-a", False, base.HINT_KEYWORD_OR_SIGNATURE, 310000),
        ("dingtalk", "err300001-a", False, base.HINT_INVALID_ROBOT, 300001),
        ("dingtalk", "err400102-a", False, base.HINT_INVALID_ROBOT, 400102),
        ("dingtalk", "err12345-aa", False, base.HINT_REJECTED, 12345),
        ("wecom", "err93000-aa", False, base.HINT_INVALID_ROBOT, 93000),
        ("wecom", "err45009-aa", True, base.HINT_THROTTLED, 45009),
        ("wecom", "err40058-aa", False, base.HINT_INVALID_ROBOT, 40058),
        ("wecom", "err12345-aa", False, base.HINT_REJECTED, 12345),
    ],
)
def test_only_errcode_zero_is_success_and_each_errcode_is_classified(
    robot_sink, kind, token, retryable, hint, errcode
):
    """rules §8: robots answer HTTP 200 with an errcode; only 0 is success; rate limits retry,
    invalid tokens and keyword/signature refusals fail at once."""
    answer = send(robot_sink, kind, token)
    assert (answer.ok, answer.retryable, answer.hint) == (False, retryable, hint)
    assert (answer.http_status, answer.errcode) == (200, errcode)
    assert answer.errmsg == f"sink errcode {errcode}"
    assert len(robot_sink.received(token)) == 1


@pytest.mark.parametrize("kind", ["dingtalk", "wecom"])
def test_errcode_zero_is_accepted(robot_sink, kind):
    """rules §8: HTTP 200 and errcode 0 is the one success."""
    answer = send(robot_sink, kind, "ok-accepted")
    assert answer.ok and answer.hint == base.HINT_OK
    assert (answer.http_status, answer.errcode, answer.errmsg) == (200, 0, "ok")


@pytest.mark.parametrize("kind", ["dingtalk", "wecom"])
@pytest.mark.parametrize(
    ("token", "retryable", "hint", "status"),
    [
        ("http500-aa", True, base.HINT_SERVER_ERROR, 500),
        ("http503-aa", True, base.HINT_SERVER_ERROR, 503),
        ("http429-aa", True, base.HINT_THROTTLED, 429),
        ("http403-aa", False, base.HINT_REJECTED, 403),
        ("http404-aa", False, base.HINT_REJECTED, 404),
        ("html-page-1", True, base.HINT_BAD_ANSWER, 200),
    ],
)
def test_http_status_rules(robot_sink, kind, token, retryable, hint, status):
    """rules §8: 5xx and 429 are retried with backoff; other 4xx fail; a 200 that is not the
    robot's JSON is retried (see arms_sync.notify.robot)."""
    answer = send(robot_sink, kind, token)
    assert (answer.ok, answer.retryable, answer.hint) == (False, retryable, hint)
    assert answer.http_status == status and answer.errcode is None


def test_read_timeout_is_retryable_and_bounded(robot_sink):
    """rules §4: timeouts apply (the sink answers a second after the 0.5 s read timeout)."""
    started = time.monotonic()
    answer = send(robot_sink, "dingtalk", "slow-answer")
    assert time.monotonic() - started < 1.4
    assert (answer.ok, answer.retryable, answer.hint) == (False, True, base.HINT_TIMEOUT)
    assert answer.http_status is None and 400 <= answer.duration_ms < 1400


def test_redirect_is_not_followed(robot_sink, canary):
    """rules §4: redirects are never followed: the other host gets nothing."""
    robot_sink.redirect_location = f"http://127.0.0.1:{canary.port}/robot/send?access_token=x1"
    answer = send(robot_sink, "dingtalk", "redirect-elsewhere")
    assert (answer.ok, answer.retryable, answer.hint) == (False, False, base.HINT_REDIRECT)
    assert answer.http_status == 302
    assert canary.connections == 0


@pytest.mark.parametrize("token", ["huge-chunked", "hugelen-declared"])
def test_a_10_mb_answer_is_not_read(robot_sink, token, settings):
    """rules §4: a response-size cap applies; the client stops at the cap, it does not read on."""
    url = robot_sink.url("dingtalk", token)
    started = time.monotonic()
    with pytest.raises(http.HttpTooLarge) as exc:
        http.post_json("dingtalk", url, {"msgtype": "text", "text": {"content": "告警"}})
    assert exc.value.nbytes <= settings.ROBOT_HTTP_MAX_RESPONSE_BYTES + 1
    assert time.monotonic() - started < 2
    answer = send(robot_sink, "dingtalk", token)
    assert (answer.ok, answer.retryable, answer.hint) == (False, False, base.HINT_TOO_LARGE)


def test_signature_is_checked_like_dingtalk(robot_sink):
    """rules §8: with a secret, the request carries timestamp (ms) and sign; the sink computes
    the signature as DingTalk does and accepts it."""
    robot_sink.secrets["ok-signed-robot"] = SECRET
    before = time.time() * 1000
    answer = send(robot_sink, "dingtalk", "ok-signed-robot", secret=SECRET)
    assert answer.ok
    (received,) = robot_sink.received("ok-signed-robot")
    timestamp = received.query["timestamp"]
    assert before - 1000 <= int(timestamp) <= time.time() * 1000 + 1000
    assert received.query["sign"] == dingtalk_sign(SECRET, timestamp)
    assert dingtalk.sign(SECRET, int(timestamp)) == dingtalk_sign(SECRET, timestamp)


def test_signature_is_fresh_per_request(robot_sink):
    """rules §8: timestamp and sign are computed for each request, not stored with the URL."""
    robot_sink.secrets["ok-signed-twice"] = SECRET
    assert send(robot_sink, "dingtalk", "ok-signed-twice", secret=SECRET).ok
    time.sleep(0.005)
    assert send(robot_sink, "dingtalk", "ok-signed-twice", secret=SECRET).ok
    first, second = robot_sink.received("ok-signed-twice")
    assert first.query["timestamp"] != second.query["timestamp"]
    assert first.query["sign"] != second.query["sign"]


@pytest.mark.parametrize("secret", ["SEC" + "0" * 64, ""])
def test_wrong_or_missing_signature_is_a_permanent_keyword_or_signature_failure(robot_sink, secret):
    """rules §8: DingTalk answers 310000 to a bad signature: the hint says so, no retry."""
    robot_sink.secrets["ok-signed-wrong"] = SECRET
    answer = send(robot_sink, "dingtalk", "ok-signed-wrong", secret=secret)
    assert (answer.ok, answer.retryable) == (False, False)
    assert (answer.errcode, answer.hint) == (310000, base.HINT_KEYWORD_OR_SIGNATURE)
    assert SECRET not in answer.errmsg


def test_sink_refuses_a_message_without_the_keyword(robot_sink):
    """The sink's keyword check is real: a body without the keyword gets 310000."""
    robot_sink.keywords["ok-keyword-raw"] = "告警"
    url = robot_sink.url("dingtalk", "ok-keyword-raw")
    result = http.post_json("dingtalk", url, {"msgtype": "text", "text": {"content": "CPU"}})
    assert result.json == {"errcode": 310000, "errmsg": KEYWORD_MISSING}


@pytest.mark.parametrize("markdown", ["", "**CPU** usage is 97%"])
def test_keyword_is_added_to_every_dingtalk_message(robot_sink, markdown):
    """rules §8: robots protected by keywords: every message contains the keyword (default 告警)."""
    robot_sink.keywords["ok-keyword-1"] = "告警"
    message = Message(subject="CPU usage high", text="CPU usage is 97%", markdown=markdown)
    assert send(robot_sink, "dingtalk", "ok-keyword-1", message).ok
    body = only_body(robot_sink, "ok-keyword-1")
    if markdown:
        assert body["markdown"]["title"] == "【告警】CPU usage high"
        assert body["markdown"]["text"] == "【告警】**CPU** usage is 97%"
    else:
        assert body["text"]["content"] == "【告警】CPU usage is 97%"


def test_a_robots_own_keyword_is_used_and_not_doubled(robot_sink):
    """rules §8: the configured keyword; a message that already has it is left as it is."""
    robot_sink.keywords["ok-keyword-2"] = "监控"
    message = Message(subject="监控: CPU", text="x", markdown="监控 CPU usage")
    assert send(robot_sink, "dingtalk", "ok-keyword-2", message, keyword="监控").ok
    body = only_body(robot_sink, "ok-keyword-2")
    assert body["markdown"] == {"title": "监控: CPU", "text": "监控 CPU usage"}


def test_dingtalk_markdown_payload_and_mentions(robot_sink):
    """rules §8: DingTalk at.atMobiles (national numbers) plus @<phone> in the text."""
    message = Message(
        subject="告警 CPU",
        text="plain",
        markdown="### 告警 CPU",
        mentions=(PHONE, "+8613900001111", PHONE),
    )
    assert send(robot_sink, "dingtalk", "ok-mentions", message).ok
    body = only_body(robot_sink, "ok-mentions")
    assert body == {
        "msgtype": "markdown",
        "markdown": {"title": "告警 CPU", "text": "### 告警 CPU\n\n@13811112222 @13900001111"},
        "at": {"atMobiles": ["13811112222", "13900001111"], "isAtAll": False},
    }


def test_dingtalk_sends_text_when_there_is_no_markdown(robot_sink):
    message = Message(subject="s", text="告警 plain text", mentions=(PHONE,))
    assert send(robot_sink, "dingtalk", "ok-text-only", message).ok
    body = only_body(robot_sink, "ok-text-only")
    assert body == {
        "msgtype": "text",
        "text": {"content": "告警 plain text\n\n@13811112222"},
        "at": {"atMobiles": ["13811112222"], "isAtAll": False},
    }


def test_request_is_utf8_json_with_the_webhooks_host(robot_sink):
    assert send(robot_sink, "dingtalk", "ok-headers").ok
    (received,) = robot_sink.received("ok-headers")
    assert received.headers["Content-Type"] == "application/json;charset=utf-8"
    assert received.headers["Host"] == f"127.0.0.1:{robot_sink.port}"
    assert "告警".encode() in received.raw  # UTF-8, not \\u escapes
    assert received.query == {"access_token": "ok-headers"}  # no signature without a secret


def test_wecom_mentions_go_in_a_text_message(robot_sink):
    """rules §8: WeCom text messages carry mentioned_mobile_list (markdown cannot mention)."""
    message = dataclasses.replace(ALERT, mentions=(PHONE,))
    assert send(robot_sink, "wecom", "ok-wecom-text", message).ok
    assert only_body(robot_sink, "ok-wecom-text") == {
        "msgtype": "text",
        "text": {"content": ALERT.text, "mentioned_mobile_list": ["13811112222"]},
    }


def test_wecom_without_mentions_sends_markdown(robot_sink):
    assert send(robot_sink, "wecom", "ok-wecom-md").ok
    assert only_body(robot_sink, "ok-wecom-md") == {
        "msgtype": "markdown",
        "markdown": {"content": ALERT.markdown},
    }


def test_dingtalk_body_is_cut_to_20000_bytes_on_a_character_boundary(robot_sink):
    """rules §8: bodies are cut to the robot's byte limit, never mid-character; the keyword and
    the @mentions survive the cut."""
    long_text = "告警" * 5000  # 30,000 bytes
    message = Message(subject="告警", text=long_text, markdown=long_text, mentions=(PHONE,))
    assert send(robot_sink, "dingtalk", "ok-long-body", message).ok
    (received,) = robot_sink.received("ok-long-body")
    assert 19_900 <= len(received.raw) <= dingtalk.BODY_LIMIT
    body = json.loads(received.raw.decode("utf-8"))  # strict UTF-8: no broken character
    text = body["markdown"]["text"]
    assert text.startswith("告警告警") and text.endswith("…\n\n@13811112222")
    assert body["at"]["atMobiles"] == ["13811112222"]


def test_dingtalk_cut_counts_json_escapes(robot_sink):
    """Quotes and newlines grow when escaped: the whole JSON body still fits."""
    text = '"\n\\' * 10_000
    assert send(robot_sink, "dingtalk", "ok-escapes", Message(subject="告警", text=text)).ok
    (received,) = robot_sink.received("ok-escapes")
    assert 19_900 <= len(received.raw) <= dingtalk.BODY_LIMIT
    assert json.loads(received.raw)["text"]["content"].startswith("【告警】" + text[:30])


@pytest.mark.parametrize(
    ("mentions", "field", "limit"),
    [((PHONE,), "text", wecom.TEXT_LIMIT), ((), "markdown", wecom.MARKDOWN_LIMIT)],
)
def test_wecom_content_is_cut_to_its_byte_limit(robot_sink, mentions, field, limit):
    """rules §8: WeCom text 2,048 bytes, markdown 4,096, on a character boundary."""
    long_text = "告警" * 2000  # 12,000 bytes
    message = Message(subject="s", text=long_text, markdown=long_text, mentions=mentions)
    assert send(robot_sink, "wecom", "ok-wecom-long", message).ok
    content = only_body(robot_sink, "ok-wecom-long")[field]["content"]
    assert limit - 3 <= len(content.encode("utf-8")) <= limit
    assert content.endswith("…") and content[:-1] == long_text[: len(content) - 1]


def test_two_sends_reuse_one_kept_alive_connection(robot_sink):
    """Connections are kept alive per process: a burst to one robot opens one TCP connection."""
    assert send(robot_sink, "dingtalk", "ok-keepalive").ok
    assert send(robot_sink, "wecom", "ok-keepalive").ok
    first, second = robot_sink.received("ok-keepalive")
    assert first.client_port == second.client_port
    assert robot_sink.connections == 1


def test_a_closed_port_is_a_retryable_network_error_without_the_token(robot_sink, settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.ROBOT_WEBHOOK_HOSTS = {"dingtalk": [f"127.0.0.1:{port}"]}
    url = f"http://127.0.0.1:{port}/robot/send?access_token=ok-secret-token-123"
    answer = get_transport("dingtalk").send(Target("dingtalk", url), ALERT)
    assert (answer.ok, answer.retryable, answer.hint) == (False, True, base.HINT_NETWORK)
    assert "ok-secret-token-123" not in answer.errmsg


def test_a_name_that_does_not_resolve_is_a_retryable_network_error(
    robot_sink, settings, monkeypatch
):
    settings.ROBOT_WEBHOOK_HOSTS = {"dingtalk": ["robot.test:8125"]}

    def no_such_name(host, *args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_name)
    url = "http://robot.test:8125/robot/send?access_token=ok-unresolved"
    answer = get_transport("dingtalk").send(Target("dingtalk", url), ALERT)
    assert (answer.ok, answer.retryable, answer.hint) == (False, True, base.HINT_NETWORK)
    assert "ok-unresolved" not in answer.errmsg


def test_every_channel_has_a_transport():
    for channel in base.CHANNELS:
        assert get_transport(channel).channel == channel
    with pytest.raises(ValueError):
        get_transport("sms")


@pytest.fixture
def tls_sink(tmp_path, monkeypatch, resolve_as) -> Iterator[RobotSink]:
    """An https sink whose certificate (trusted for the test) names robot.test only; robot.test
    and other.test both resolve to it."""
    cert, key = self_signed_certificate(tmp_path, dns_names=("robot.test",))
    monkeypatch.setenv("SSL_CERT_FILE", cert)
    resolve_as("robot.test", "127.0.0.1")
    resolve_as("other.test", "127.0.0.1")
    http.close_pools()
    with RobotSink(tls_context=server_context(cert, key)) as sink:
        yield sink
    http.close_pools()


def test_https_checks_the_certificate_against_the_webhooks_name(tls_sink, settings):
    """rules §4: the client connects to the address the guard checked, but TLS (SNI and the
    certificate check) and the Host header use the webhook's host name."""
    entries = [f"robot.test:{tls_sink.port}", f"other.test:{tls_sink.port}"]
    settings.ROBOT_WEBHOOK_ALLOW_HTTP = True  # for the port; the scheme is https
    settings.ROBOT_WEBHOOK_ALLOW_PRIVATE = True
    settings.ROBOT_WEBHOOK_HOSTS = {"dingtalk": entries}
    transport = get_transport("dingtalk")

    good = Target("dingtalk", tls_sink.url("dingtalk", "ok-tls-robot", host="robot.test"))
    assert good.address.startswith("https://robot.test:")
    assert transport.send(good, ALERT).ok
    (received,) = tls_sink.received("ok-tls-robot")
    assert received.headers["Host"] == entries[0]
    assert tls_sink.server_names == ["robot.test"]

    wrong = Target("dingtalk", tls_sink.url("dingtalk", "ok-tls-other-name", host="other.test"))
    answer = transport.send(wrong, ALERT)
    assert (answer.ok, answer.retryable, answer.hint) == (False, True, base.HINT_NETWORK)
    assert answer.errmsg.startswith("SSLError") and "other.test" in answer.errmsg
    assert tls_sink.received("ok-tls-other-name") == []
