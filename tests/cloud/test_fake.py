"""The loopback fake of Alibaba Cloud's OpenAPI, driven by the real SDK clients.

What the rest of tests/cloud relies on: the fake checks the SDK's ACS3 signatures, keeps state,
pages like RAM (Marker) and ARMS (PageBean), keeps one ARMS contact per phone and per email,
and its faults (throttling, 5xx, a refused connection, a denied action) reach the caller as the
SDK's own exceptions.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from alibabacloud_arms20190808 import models as arms_models
from alibabacloud_arms20190808.client import Client as ArmsClient
from alibabacloud_ram20150501 import models as ram_models
from alibabacloud_ram20150501.client import Client as RamClient
from alibabacloud_tea_openapi.exceptions import (
    ClientException,
    ServerException,
    ThrottlingException,
)
from alibabacloud_tea_openapi.utils_models import Config, OpenApiRequest
from darabonba.exceptions import UnretryableException
from darabonba.runtime import RuntimeOptions

from aliyun.clients import rpc_params
from aliyun.fake import FakeCloud
from tests.cloud.conftest import CLOUD_AK_ID, CLOUD_AK_SECRET

ROOT = Path(__file__).resolve().parents[2]

# The SDK stamps its requests with datetime.utcnow(), which Python 3.12 deprecates.
pytestmark = pytest.mark.filterwarnings("ignore:datetime.datetime.utcnow:DeprecationWarning")


def config(endpoint: str, *, key=CLOUD_AK_ID, secret=CLOUD_AK_SECRET, proxy=None) -> Config:
    return Config(
        access_key_id=key,
        access_key_secret=secret,
        endpoint=endpoint,
        protocol="http",
        region_id="cn-hangzhou",
        http_proxy=proxy,
        connect_timeout=2000,
        # These tests check what the fake answers, not how fast: with the two suites side by
        # side, a page of 1,000 users once took the fake over 5 s to sign and serialise.
        read_timeout=30_000,
    )


def ram_client(fake: FakeCloud, **kwargs) -> RamClient:
    return RamClient(config(fake.endpoint, **kwargs))


def arms_client(fake: FakeCloud, **kwargs) -> ArmsClient:
    return ArmsClient(config(fake.endpoint, **kwargs))


def new_contact(client: ArmsClient, name: str, **fields):
    request = arms_models.CreateOrUpdateContactRequest(contact_name=name, **fields)
    return client.create_or_update_contact(request).body.alert_contact


class TamperingProxy:
    """An HTTP proxy on loopback that changes a request on its way to the fake.

    The SDK is pointed at it through its own ``http_proxy`` setting, so the request it builds
    and signs is the real one; ``tamper(url, headers, body)`` returns what is forwarded (a list:
    more than one item replays the request), and the last answer goes back to the SDK.
    """

    def __init__(self, tamper):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def do_POST(self):
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "proxy-connection"}
                status, answer_headers, answer = 502, {}, b"{}"
                for url, sent_headers, sent_body in proxy.tamper(self.path, headers, body):
                    parts = urlsplit(url)
                    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
                    sent_headers = {
                        k: v for k, v in sent_headers.items() if k.lower() != "content-length"
                    }
                    sent_headers["Content-Length"] = str(len(sent_body))
                    target = parts.path + (f"?{parts.query}" if parts.query else "")
                    conn.request("POST", target, body=sent_body, headers=sent_headers)
                    reply = conn.getresponse()
                    status, answer = reply.status, reply.read()
                    answer_headers = dict(reply.getheaders())
                    conn.close()
                self.send_response(status)
                for name, value in answer_headers.items():
                    if name.lower() not in ("content-length", "connection", "server", "date"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.tamper = tamper
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def error_of(call) -> ClientException | ServerException | ThrottlingException:
    with pytest.raises((ClientException, ServerException, ThrottlingException)) as info:
        call()
    return info.value


# --- signatures -----------------------------------------------------------------------------


def test_a_good_call_is_answered_in_the_shape_the_sdk_models_read(cloud_fake):
    cloud_fake.ram.add_user(
        "alice", display_name="Alice Wang", mobile_phone="86-13811112222", email="a@x.example"
    )

    user = ram_client(cloud_fake).get_user(ram_models.GetUserRequest(user_name="alice")).body.user

    assert (user.user_name, user.display_name) == ("alice", "Alice Wang")
    assert (user.mobile_phone, user.email) == ("86-13811112222", "a@x.example")
    assert user.user_id
    assert cloud_fake.calls == {"GetUser": 1}
    assert cloud_fake.requests == [("GetUser", {"UserName": "alice"})]


def test_a_wrong_secret_or_an_unknown_key_is_refused_and_nothing_changes(cloud_fake):
    wrong = arms_client(cloud_fake, secret=CLOUD_AK_SECRET + "x")
    refused = error_of(lambda: new_contact(wrong, "mallory", phone="13800000001"))
    assert (refused.status_code, refused.code) == (400, "SignatureDoesNotMatch")

    unknown = arms_client(cloud_fake, key="LTAI5tUnknownKey")
    refused = error_of(lambda: new_contact(unknown, "mallory", phone="13800000001"))
    assert (refused.status_code, refused.code) == (404, "InvalidAccessKeyId.NotFound")
    assert refused.data["HostId"] and refused.data["RequestId"]

    assert cloud_fake.arms.contacts == {}
    assert cloud_fake.calls == {"CreateOrUpdateContact": 2}


def _body_changed(url, headers, body):
    # Same length, another name: only the body's hash can tell.
    return [(url, headers, body.replace(b"alice", b"mallo"))]


def _body_changed_and_rehashed(url, headers, body):
    body = body.replace(b"alice", b"mallo")
    headers = {**headers, "x-acs-content-sha256": hashlib.sha256(body).hexdigest()}
    return [(url, headers, body)]


def _query_changed(url, headers, body):
    return [(url.replace("DingRobotUrl=https", "DingRobotUrl=http"), headers, body)]


def _action_swapped(url, headers, body):
    # A signed header: the same parameters sent to another action.
    return [(url, {**headers, "x-acs-action": "DeleteContact"}, body)]


@pytest.mark.parametrize(
    "tamper",
    [_body_changed, _body_changed_and_rehashed, _query_changed, _action_swapped],
    ids=lambda f: f.__name__,
)
def test_a_request_changed_on_the_way_is_refused(cloud_fake, tamper):
    with TamperingProxy(tamper) as proxy:
        client = arms_client(cloud_fake, proxy=proxy.url)
        refused = error_of(
            lambda: new_contact(
                client, "alice", phone="13811112222", ding_robot_url="https://oapi.example/x"
            )
        )

    assert (refused.status_code, refused.code) == (400, "SignatureDoesNotMatch")
    assert cloud_fake.arms.contacts == {}


def test_an_unsigned_acs_header_is_refused(cloud_fake):
    def add_header(url, headers, body):
        return [(url, {**headers, "x-acs-resource-group-id": "rg-1"}, body)]

    with TamperingProxy(add_header) as proxy:
        client = arms_client(cloud_fake, proxy=proxy.url)
        refused = error_of(lambda: new_contact(client, "alice", phone="13811112222"))

    assert (refused.status_code, refused.code) == (400, "IncompleteSignature")
    assert "x-acs-resource-group-id" in refused.data["Message"]
    assert cloud_fake.arms.contacts == {}


def test_the_untouched_request_through_the_proxy_passes_and_a_replay_is_refused(cloud_fake):
    with TamperingProxy(lambda url, headers, body: [(url, headers, body)]) as proxy:
        contact = new_contact(
            arms_client(cloud_fake, proxy=proxy.url), "alice", phone="13811112222"
        )
    assert cloud_fake.arms.contacts[int(contact.contact_id)]["ContactName"] == "alice"

    with TamperingProxy(lambda url, headers, body: [(url, headers, body)] * 2) as proxy:
        client = arms_client(cloud_fake, proxy=proxy.url)
        refused = error_of(lambda: new_contact(client, "bob", phone="13922223333"))
    assert (refused.status_code, refused.code) == (400, "SignatureNonceUsed")
    assert sorted(c["ContactName"] for c in cloud_fake.arms.contacts.values()) == ["alice", "bob"]


# --- RAM ------------------------------------------------------------------------------------


def test_list_users_pages_2500_users_in_three_pages_by_marker(cloud_fake):
    cloud_fake.seed_users(2500)
    client = ram_client(cloud_fake)

    names, markers, marker = [], [], None
    for _ in range(10):  # bounded: three pages are expected
        body = client.list_users(ram_models.ListUsersRequest(max_items=1000, marker=marker)).body
        names += [u.user_name for u in body.users.user]
        if not body.is_truncated:
            break
        marker = body.marker
        markers.append(marker)

    assert cloud_fake.calls == {"ListUsers": 3}
    assert len(markers) == 2 and len(set(markers)) == 2
    assert names == sorted(cloud_fake.ram.users) and len(names) == 2500
    refused = error_of(lambda: client.list_users(ram_models.ListUsersRequest(max_items=1001)))
    assert refused.code == "InvalidParameter.MaxItems"


def test_a_user_removed_between_pages_does_not_shift_the_next_page(cloud_fake):
    cloud_fake.seed_users(30)
    client = ram_client(cloud_fake)
    first = client.list_users(ram_models.ListUsersRequest(max_items=10)).body
    cloud_fake.ram.remove_user("user0005")
    second = client.list_users(ram_models.ListUsersRequest(max_items=10, marker=first.marker)).body

    assert [u.user_name for u in second.users.user] == [f"user{i:04d}" for i in range(11, 21)]


def test_groups_policies_and_documents_as_ram_answers_them(cloud_fake):
    cloud_fake.seed_demo()
    client = ram_client(cloud_fake)

    groups = client.list_groups_for_user(ram_models.ListGroupsForUserRequest(user_name="alice"))
    [group] = groups.body.groups.group
    policies = client.list_policies_for_group(
        ram_models.ListPoliciesForGroupRequest(group_name=group.group_name)
    ).body.policies.policy
    [custom] = [p for p in policies if p.policy_type == "Custom"]
    got = client.get_policy(
        ram_models.GetPolicyRequest(policy_name=custom.policy_name, policy_type="Custom")
    ).body
    version = client.get_policy_version(
        ram_models.GetPolicyVersionRequest(
            policy_name=custom.policy_name,
            policy_type="Custom",
            version_id=got.default_policy_version.version_id,
        )
    ).body.policy_version
    direct = client.list_policies_for_user(ram_models.ListPoliciesForUserRequest(user_name="bob"))

    assert (
        "ram:ListUsers"
        in json.loads(got.default_policy_version.policy_document)["Statement"][0]["Action"]
    )
    assert version.policy_document == got.default_policy_version.policy_document
    assert version.is_default_version is True
    assert [(p.policy_type, p.policy_name) for p in direct.body.policies.policy] == [
        ("System", "AliyunRAMReadOnlyAccess")
    ]
    missing = error_of(lambda: client.get_user(ram_models.GetUserRequest(user_name="nobody")))
    assert (missing.status_code, missing.code) == (404, "EntityNotExist.User")


def test_policy_writes_and_their_refusals(cloud_fake):
    cloud_fake.ram.add_user("carol")
    client = ram_client(cloud_fake)
    document = json.dumps(
        {
            "Version": "1",
            "Statement": [{"Effect": "Allow", "Action": "ram:ListUsers", "Resource": "*"}],
        }
    )
    create = ram_models.CreatePolicyRequest(policy_name="ListUsersOnly", policy_document=document)

    created = client.create_policy(create).body.policy
    duplicate = error_of(lambda: client.create_policy(create))
    malformed = error_of(
        lambda: client.create_policy(
            ram_models.CreatePolicyRequest(policy_name="Broken", policy_document='{"Statement": [')
        )
    )
    attach = ram_models.AttachPolicyToUserRequest(
        policy_name="ListUsersOnly", policy_type="Custom", user_name="carol"
    )
    client.attach_policy_to_user(attach)
    twice = error_of(lambda: client.attach_policy_to_user(attach))
    detach = ram_models.DetachPolicyFromUserRequest(
        policy_name="ListUsersOnly", policy_type="Custom", user_name="carol"
    )
    client.detach_policy_from_user(detach)
    not_attached = error_of(lambda: client.detach_policy_from_user(detach))

    assert (created.policy_name, created.policy_type, created.default_version) == (
        "ListUsersOnly",
        "Custom",
        "v1",
    )
    assert (duplicate.status_code, duplicate.code) == (409, "EntityAlreadyExists.Policy")
    assert (malformed.status_code, malformed.code) == (400, "MalformedPolicyDocument")
    assert "Broken" not in cloud_fake.ram.policies
    assert twice.code == "EntityAlreadyExists.User.Policy"
    assert not_attached.code == "EntityNotExist.User.Policy"
    assert cloud_fake.ram.policies_of("carol") == []
    listed = client.list_policies(ram_models.ListPoliciesRequest(policy_type="Custom")).body
    assert [p.policy_name for p in listed.policies.policy] == ["ListUsersOnly"]


# --- ARMS -----------------------------------------------------------------------------------


def test_describe_contacts_pages_and_filters(cloud_fake):
    for i in range(25):
        cloud_fake.arms.add_contact(f"contact {i:02d}", phone=f"1380000{i:04d}")
    client = arms_client(cloud_fake)

    pages = [
        client.describe_contacts(
            arms_models.DescribeContactsRequest(page=p, size=10)
        ).body.page_bean
        for p in (1, 2, 3)
    ]
    by_phone = client.describe_contacts(
        arms_models.DescribeContactsRequest(page=1, size=10, phone="+86 138 0000 0007")
    ).body.page_bean
    no_digits = client.describe_contacts(
        arms_models.DescribeContactsRequest(page=1, size=10, phone="n/a")
    ).body.page_bean
    too_big = error_of(
        lambda: client.describe_contacts(arms_models.DescribeContactsRequest(page=1, size=101))
    )

    assert [len(p.alert_contacts) for p in pages] == [10, 10, 5]
    assert {p.total for p in pages} == {25}
    assert {int(c.contact_id) for p in pages for c in p.alert_contacts} == set(
        cloud_fake.arms.contacts
    )
    assert [(c.contact_name, c.phone) for c in by_phone.alert_contacts] == [
        ("contact 07", "13800000007")
    ]
    assert (no_digits.total, no_digits.alert_contacts) == (0, [])
    assert too_big.code == "InvalidParameter.Size"


def test_one_contact_per_phone_and_per_email(cloud_fake):
    client = arms_client(cloud_fake)
    first = new_contact(client, "alice", phone="13811112222", email="alice@x.example")
    second = new_contact(client, "bob", phone="13922223333")

    same_phone = error_of(lambda: new_contact(client, "other", phone="+86 138-1111-2222"))
    same_email = error_of(lambda: new_contact(client, "other", email="ALICE@x.example"))
    taking = error_of(
        lambda: client.create_or_update_contact(
            arms_models.CreateOrUpdateContactRequest(
                contact_id=int(second.contact_id), contact_name="bob", phone="8613811112222"
            )
        )
    )
    # Its own phone again is no conflict; a rename keeps the phone it did not send.
    renamed = client.create_or_update_contact(
        arms_models.CreateOrUpdateContactRequest(
            contact_id=int(first.contact_id), contact_name="Alice Wang", phone="13811112222"
        )
    ).body.alert_contact

    assert (same_phone.status_code, same_phone.code) == (400, "Contact.Phone.Duplicate")
    assert (same_email.status_code, same_email.code) == (400, "Contact.Email.Duplicate")
    assert taking.code == "Contact.Phone.Duplicate"
    assert cloud_fake.arms.contacts[int(second.contact_id)]["Phone"] == "13922223333"
    assert (renamed.contact_name, renamed.email) == ("Alice Wang", "alice@x.example")
    assert len(cloud_fake.arms.contacts) == 2


def test_delete_contact_then_not_found(cloud_fake):
    client = arms_client(cloud_fake)
    contact = new_contact(client, "alice", phone="13811112222")
    request = arms_models.DeleteContactRequest(contact_id=int(contact.contact_id))

    assert client.delete_contact(request).body.is_success is True
    gone = error_of(lambda: client.delete_contact(request))
    assert (gone.status_code, gone.code) == (404, "Contact.NotFound")
    assert cloud_fake.arms.contacts == {}


def test_groups_notification_policies_and_robots(cloud_fake):
    client = arms_client(cloud_fake)
    a = int(new_contact(client, "alice", phone="13811112222").contact_id)
    b = int(new_contact(client, "bob", phone="13922223333").contact_id)

    group = client.create_or_update_contact_group(
        arms_models.CreateOrUpdateContactGroupRequest(
            contact_group_name="sae:all", contact_ids=f"{a},{b}"
        )
    ).body.alert_contact_group
    group_id = int(group.contact_group_id)
    client.delete_contact(arms_models.DeleteContactRequest(contact_id=b))
    [listed] = client.describe_contact_groups(
        arms_models.DescribeContactGroupsRequest(is_detail=True, page=1, size=10)
    ).body.page_bean.alert_contact_groups
    rule = {
        "NotifyObjects": [{"NotifyObjectType": "CONTACT_GROUP", "NotifyObjectId": group_id}],
        "NotifyChannels": ["dingTalk", "email"],
        "NotifyStartTime": "00:00",
        "NotifyEndTime": "23:59",
    }
    policy = client.create_or_update_notification_policy(
        arms_models.CreateOrUpdateNotificationPolicyRequest(
            name="sae:default", notify_rule=json.dumps(rule), send_recover_message=True
        )
    ).body.notification_policy
    dangling = error_of(
        lambda: client.create_or_update_notification_policy(
            arms_models.CreateOrUpdateNotificationPolicyRequest(
                name="broken",
                notify_rule=json.dumps(
                    {"NotifyObjects": [{"NotifyObjectType": "CONTACT", "NotifyObjectId": b}]}
                ),
            )
        )
    )
    policies = client.list_notification_policies(
        arms_models.ListNotificationPoliciesRequest(page=1, size=10, is_detail=True)
    ).body.page_bean
    robot = client.create_or_update_imrobot(
        arms_models.CreateOrUpdateIMRobotRequest(
            robot_name="sae:ops",
            robot_address="https://oapi.dingtalk.com/robot/send?t=1",
            type="dingding",
        )
    ).body.alert_robot
    robots = client.describe_imrobots(arms_models.DescribeIMRobotsRequest(page=1, size=10))

    assert (listed.contact_group_name, [int(c.contact_id) for c in listed.contacts]) == (
        "sae:all",
        [a],
    )
    assert policy.notify_rule.notify_objects[0].notify_object_id == group_id
    assert policy.send_recover_message is True
    assert dangling.code == "InvalidParameter.NotifyRule"
    assert [p.name for p in policies.notification_policies] == ["sae:default"]
    assert [r.robot_addr for r in robots.body.page_bean.alert_imrobots] == [robot.robot_address]
    client.delete_imrobot(arms_models.DeleteIMRobotRequest(robot_id=int(robot.robot_id)))
    client.delete_notification_policy(
        arms_models.DeleteNotificationPolicyRequest(id=int(policy.id))
    )
    client.delete_contact_group(arms_models.DeleteContactGroupRequest(contact_group_id=group_id))
    assert (cloud_fake.arms.robots, cloud_fake.arms.policies, cloud_fake.arms.groups) == (
        {},
        {},
        {},
    )


# --- faults ---------------------------------------------------------------------------------


def test_throttling_surfaces_as_the_sdk_throttling_exception_with_retry_after(cloud_fake):
    client = ram_client(cloud_fake)
    cloud_fake.ram.add_user("alice")
    cloud_fake.throttle(2, retry_after_ms=250)

    throttled = [
        error_of(lambda: client.get_user(ram_models.GetUserRequest(user_name="alice")))
        for _ in range(2)
    ]
    after = client.get_user(ram_models.GetUserRequest(user_name="alice")).body.user

    assert all(isinstance(e, ThrottlingException) for e in throttled)
    assert {(e.status_code, e.code, e.retry_after) for e in throttled} == {
        (400, "Throttling.User", 250)
    }
    assert after.user_name == "alice"
    assert cloud_fake.calls == {"GetUser": 3}


def test_faults_limited_to_some_actions(cloud_fake):
    cloud_fake.ram.add_user("alice")
    cloud_fake.throttle(5, actions=["arms:DescribeContacts"])

    ram_client(cloud_fake).get_user(ram_models.GetUserRequest(user_name="alice"))
    throttled = error_of(
        lambda: arms_client(cloud_fake).describe_contacts(
            arms_models.DescribeContactsRequest(page=1, size=1)
        )
    )
    cloud_fake.reset_faults()
    arms_client(cloud_fake).describe_contacts(arms_models.DescribeContactsRequest(page=1, size=1))

    assert isinstance(throttled, ThrottlingException)


def test_fail_answers_5xx_then_recovers(cloud_fake):
    client = arms_client(cloud_fake)
    cloud_fake.fail(1, status=503)
    failed = error_of(lambda: new_contact(client, "alice", phone="13811112222"))
    cloud_fake.fail(1, status=500)
    internal = error_of(lambda: new_contact(client, "alice", phone="13811112222"))
    new_contact(client, "alice", phone="13811112222")

    assert isinstance(failed, ServerException)
    assert (failed.status_code, failed.code) == (503, "ServiceUnavailable")
    assert (internal.status_code, internal.code) == (500, "InternalError")
    assert len(cloud_fake.arms.contacts) == 1
    assert cloud_fake.calls == {"CreateOrUpdateContact": 3}


def test_go_down_refuses_connections_and_come_back_listens_on_the_same_port(cloud_fake):
    cloud_fake.ram.add_user("alice")
    client = ram_client(cloud_fake)
    endpoint = cloud_fake.endpoint
    request = ram_models.GetUserRequest(user_name="alice")
    client.get_user(request)

    cloud_fake.go_down()
    with pytest.raises(UnretryableException) as down:
        client.get_user(request)
    cloud_fake.come_back()
    again = client.get_user(request).body.user

    assert "refused" in str(down.value).lower()
    assert cloud_fake.endpoint == endpoint
    assert again.user_name == "alice"
    assert cloud_fake.calls == {"GetUser": 2}


def test_deny_refuses_those_actions_to_that_key_only(cloud_fake):
    cloud_fake.access_keys["LTAI5tOtherKey"] = "other-secret"
    cloud_fake.ram.add_user("alice")
    cloud_fake.deny(CLOUD_AK_ID, "ram:ListUsers", "arms:DescribeContacts")
    ram = ram_client(cloud_fake)
    arms = arms_client(cloud_fake)

    ram_denied = error_of(lambda: ram.list_users(ram_models.ListUsersRequest(max_items=1)))
    arms_denied = error_of(
        lambda: arms.describe_contacts(arms_models.DescribeContactsRequest(page=1, size=1))
    )
    ram.get_user(ram_models.GetUserRequest(user_name="alice"))
    other = ram_client(cloud_fake, key="LTAI5tOtherKey", secret="other-secret")
    listed = other.list_users(ram_models.ListUsersRequest(max_items=1)).body.users.user

    assert (ram_denied.status_code, ram_denied.code) == (403, "NoPermission")
    assert (arms_denied.status_code, arms_denied.code) == (403, "Forbidden.RAM")
    assert [u.user_name for u in listed] == ["alice"]


def test_latency_delays_every_answer(cloud_fake):
    cloud_fake.latency = 0.05
    client = arms_client(cloud_fake)
    started = time.monotonic()
    for _ in range(3):
        client.describe_contacts(arms_models.DescribeContactsRequest(page=1, size=1))
    assert time.monotonic() - started >= 0.15


# --- the command ----------------------------------------------------------------------------


def test_the_command_serves_the_demo_until_interrupted():
    env = {k: v for k, v in os.environ.items() if not k.upper().endswith("_PROXY")}
    env["PYTHONPATH"] = str(ROOT)
    process = subprocess.Popen(
        [sys.executable, "-m", "aliyun.fake", "--port", "0", "--seed", "demo"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("Ready"):
                break
        printed = "".join(lines)
        values = dict(
            line.split(":", 1) for line in lines if line.startswith(("  endpoint", "  AccessKey"))
        )
        endpoint = values["  endpoint"].strip()
        key = values["  AccessKey ID"].strip()
        secret = values["  AccessKey secret"].strip()
        client = RamClient(config(endpoint, key=key, secret=secret))
        users = client.list_users(ram_models.ListUsersRequest(max_items=100)).body.users.user
        assert {"alice", "bob", "carol"} <= {u.user_name for u in users}
        assert f"--ram-endpoint {endpoint}" in printed and "cloud_connect" in printed
    finally:
        process.send_signal(signal.SIGINT)
        try:
            _out, err = process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise
    assert process.returncode == 0, err
    assert secret not in err  # the request log says actions and statuses only


def test_a_lost_answer_leaves_the_work_done_and_the_caller_in_doubt(cloud_fake):
    client = arms_client(cloud_fake)
    cloud_fake.lose_answers(1, actions=["CreateOrUpdateContact"])

    with pytest.raises(UnretryableException):
        new_contact(client, "alice", phone="13811112222")
    # The contact exists although the caller saw only a broken connection: looking the phone up
    # finds it, and creating again is refused rather than duplicated.
    found = client.describe_contacts(
        arms_models.DescribeContactsRequest(page=1, size=10, phone="13811112222")
    ).body.page_bean.alert_contacts
    again = error_of(lambda: new_contact(client, "alice", phone="13811112222"))

    assert [c.contact_name for c in found] == ["alice"]
    assert again.code == "Contact.Phone.Duplicate"
    assert len(cloud_fake.arms.contacts) == 1


def test_concurrent_creates_keep_one_contact_per_phone(cloud_fake):
    client = arms_client(cloud_fake)
    outcomes: list[str] = []
    lock = threading.Lock()

    def create(i: int) -> None:
        # Every thread tries one shared phone and one of its own.
        for name, phone in ((f"shared {i}", "13800000000"), (f"own {i}", f"1390000{i:04d}")):
            try:
                new_contact(client, name, phone=phone)
                result = "created"
            except ClientException as exc:
                result = exc.code
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["Contact.Phone.Duplicate"] * 7 + ["created"] * 9
    assert len(cloud_fake.arms.find_by_phone("13800000000")) == 1
    assert len(cloud_fake.arms.contacts) == 9


def _run_command(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "aliyun.fake", *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_the_command_refuses_bad_input_in_one_line(cloud_fake):
    bad_seed = _run_command("--seed", "users:lots")
    busy = _run_command("--port", str(cloud_fake.port), "--quiet")

    assert bad_seed.returncode == 2
    [line] = bad_seed.stderr.strip().splitlines()
    assert line.startswith("error: argument --seed: --seed takes demo, none or users:N")
    assert busy.returncode == 1
    assert busy.stderr.strip() == (
        f"error: cannot listen on 127.0.0.1:{cloud_fake.port}: Address already in use"
    )


def test_a_bug_of_the_fake_answers_500_and_is_kept_apart_from_asked_faults(cloud_fake, capsys):
    def broken(params):
        raise RuntimeError(f"secret {params}")

    cloud_fake.arms.DescribeContacts = broken
    failed = error_of(
        lambda: arms_client(cloud_fake).describe_contacts(
            arms_models.DescribeContactsRequest(page=1, size=1, email="hidden@x.example")
        )
    )

    assert (failed.status_code, failed.code) == (500, "InternalError")
    [where] = cloud_fake.internal_errors
    assert "RuntimeError" in where and "hidden@x.example" not in where
    assert "hidden@x.example" not in capsys.readouterr().err
    cloud_fake.internal_errors.clear()  # seen: the fixture's own check would fail the test


def test_the_command_says_where_it_listens_in_json():
    process = subprocess.Popen(
        [sys.executable, "-m", "aliyun.fake", "--port", "0", "--seed", "users:20", "--json"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        ready = json.loads(process.stdout.readline())
        client = RamClient(
            config(ready["endpoint"], key=ready["access_key_id"], secret=ready["access_key_secret"])
        )
        body = client.list_users(ram_models.ListUsersRequest(max_items=1000)).body
    finally:
        process.terminate()  # SIGTERM stops it as cleanly as Ctrl-C
        process.communicate(timeout=10)
    assert (ready["ram_users"], ready["arms_contacts"]) == (20, 0)
    assert len(body.users.user) == 20
    assert process.returncode == 0


@pytest.mark.parametrize(
    ("action", "version", "status", "code"),
    [
        ("NoSuchAction", "2015-05-01", 404, "InvalidAction.NotFound"),
        ("ListUsers", "2099-01-01", 400, "InvalidVersion"),
    ],
)
def test_an_unknown_action_or_version_is_refused(cloud_fake, action, version, status, code):
    params = rpc_params(action, version)
    client = ram_client(cloud_fake)
    refused = error_of(lambda: client.call_api(params, OpenApiRequest(), RuntimeOptions()))

    assert (refused.status_code, refused.code) == (status, code)
    assert sum(cloud_fake.calls.values()) == 1


def test_a_user_changed_in_ram_gets_a_later_update_date_even_within_a_second(cloud_fake):
    cloud_fake.ram.add_user("alice", mobile_phone="86-13811112222")
    client = ram_client(cloud_fake)
    request = ram_models.ListUsersRequest(max_items=10)
    before = client.list_users(request).body.users.user[0].update_date

    cloud_fake.ram.update_user("alice", mobile_phone="86-13900001111")
    cloud_fake.ram.update_user("alice", email="alice@x.example")
    [after] = client.list_users(request).body.users.user

    assert after.update_date > before
    assert (after.mobile_phone, after.email) == ("86-13900001111", "alice@x.example")
