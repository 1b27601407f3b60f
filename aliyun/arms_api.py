"""ARMS Alert Management calls the console makes, as plain functions over one connection:
each paced (SAE_CLOUD_QPS), each answer as the API's JSON, each failure a CloudError."""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass

from alibabacloud_arms20190808 import models as m

from aliyun import clients, pacing
from aliyun.clients import ARMS, CloudError
from aliyun.models import CloudConnection

PAGE_SIZE = 100  # DescribeContacts' largest page
MAX_PAGES = 500


@dataclass(frozen=True)
class RemoteContact:
    contact_id: int
    name: str
    phone: str  # E.164 (+86...) when it is a mainland mobile, else as ARMS gave it
    email: str
    ding_robot_url: str = ""


def arms_phone(e164: str) -> str:
    """The console's +8613812345678 as ARMS writes mainland phones: 13812345678."""
    digits = re.sub(r"\D", "", e164 or "")
    return digits[2:] if digits.startswith("86") and len(digits) == 13 else digits


def e164(phone: str) -> str:
    digits = re.sub(r"\D", "", phone or "")
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) == 11:
            digits = digits[len(prefix) :]
    return f"+86{digits}" if len(digits) == 11 and digits.startswith("1") else (phone or "")


def _remote(item: dict) -> RemoteContact:
    return RemoteContact(
        contact_id=int(item.get("ContactId") or item.get("ArmsContactId")),
        name=str(item.get("ContactName") or ""),
        phone=e164(str(item.get("Phone") or "")),
        email=str(item.get("Email") or ""),
        ding_robot_url=str(item.get("DingRobotUrl") or ""),
    )


class Arms:
    """One connection's ARMS client, every call paced."""

    def __init__(self, connection: CloudConnection, *, read_timeout: float | None = None):
        self.connection = connection
        self.client = clients.arms_client(connection, read_timeout=read_timeout)
        self.paced = connection.pk is not None

    def call(self, method: str, request) -> dict:
        if self.paced:
            pacing.take_slot(self.connection.account_id)
        return clients.call(self.client, ARMS, method, request)

    # --- contacts -------------------------------------------------------------------------
    def contact_for_phone(self, phone_e164: str) -> RemoteContact | None:
        answer = self.call(
            "describe_contacts",
            m.DescribeContactsRequest(phone=arms_phone(phone_e164), page=1, size=10),
        )
        found = [_remote(c) for c in (answer.get("PageBean") or {}).get("AlertContacts") or []]
        wanted = e164(phone_e164)
        return next((c for c in found if c.phone == wanted), None)

    def all_contacts(self) -> list[RemoteContact]:
        contacts: list[RemoteContact] = []
        for page in range(1, MAX_PAGES + 1):
            answer = self.call(
                "describe_contacts", m.DescribeContactsRequest(page=page, size=PAGE_SIZE)
            )
            bean = answer.get("PageBean") or {}
            items = bean.get("AlertContacts") or []
            contacts.extend(_remote(c) for c in items)
            if not items or len(contacts) >= int(bean.get("Total") or 0):
                break
        return contacts

    def save_contact(
        self, *, contact_id: int | None, name: str, phone: str, email: str, ding_robot_url: str
    ) -> int:
        """CreateOrUpdateContact; returns the ContactId (a new one when `contact_id` is None).
        Empty values are sent empty: ARMS clears them (a robot removed here goes there)."""
        answer = self.call(
            "create_or_update_contact",
            m.CreateOrUpdateContactRequest(
                contact_id=contact_id,
                contact_name=name,
                phone=arms_phone(phone),
                email=email,
                ding_robot_url=ding_robot_url,
            ),
        )
        return int((answer.get("AlertContact") or {}).get("ContactId") or contact_id)

    def delete_contact(self, contact_id: int) -> bool:
        """DeleteContact; False when ARMS no longer has it (already deleted: done)."""
        try:
            self.call("delete_contact", m.DeleteContactRequest(contact_id=contact_id))
        except CloudError as error:
            if error.code.endswith("NotFound") or error.status == 404:
                return False
            raise
        return True

    # --- IM robots (a contact's WeCom robot) ---------------------------------------------------
    def save_robot(self, *, robot_id: int | None, name: str, address: str) -> int:
        answer = self.call(
            "create_or_update_imrobot",
            m.CreateOrUpdateIMRobotRequest(
                robot_id=robot_id, robot_name=name[:128], robot_address=address, type="wechat"
            ),
        )
        return int((answer.get("AlertRobot") or {}).get("RobotId") or robot_id)

    def delete_robot(self, robot_id: int) -> None:
        try:
            self.call("delete_imrobot", m.DeleteIMRobotRequest(robot_id=robot_id))
        except CloudError as error:
            if not (error.code.endswith("NotFound") or error.status == 404):
                raise

    # --- groups and policies ----------------------------------------------------------------
    def group_named(self, name: str) -> dict | None:
        answer = self.call(
            "describe_contact_groups",
            m.DescribeContactGroupsRequest(
                contact_group_name=name, is_detail=True, page=1, size=PAGE_SIZE
            ),
        )
        groups = (answer.get("PageBean") or {}).get("AlertContactGroups") or []
        return next((g for g in groups if g.get("ContactGroupName") == name), None)

    def save_group(self, *, group_id: int | None, name: str, contact_ids: list[int]) -> int:
        answer = self.call(
            "create_or_update_contact_group",
            m.CreateOrUpdateContactGroupRequest(
                contact_group_id=group_id,
                contact_group_name=name,
                contact_ids=",".join(str(i) for i in sorted(contact_ids)),
            ),
        )
        return int((answer.get("AlertContactGroup") or {}).get("ContactGroupId") or group_id)

    def policy_named(self, name: str) -> dict | None:
        answer = self.call(
            "list_notification_policies",
            m.ListNotificationPoliciesRequest(name=name, page=1, size=PAGE_SIZE, is_detail=True),
        )
        policies = (answer.get("PageBean") or {}).get("NotificationPolicies") or []
        return next((p for p in policies if p.get("Name") == name), None)

    def save_policy(self, *, policy_id: int | None, name: str, group_id: int) -> int:
        rule = {
            "NotifyStartTime": "00:00",
            "NotifyEndTime": "23:59",
            "NotifyChannels": ["dingRobot", "email", "sms"],
            "NotifyObjects": [{"NotifyObjectType": "CONTACT_GROUP", "NotifyObjectId": group_id}],
        }
        answer = self.call(
            "create_or_update_notification_policy",
            m.CreateOrUpdateNotificationPolicyRequest(
                id=policy_id, name=name, notify_rule=json.dumps(rule)
            ),
        )
        return int((answer.get("NotificationPolicy") or {}).get("Id") or policy_id)


def policy_group_ids(policy: dict) -> set[int]:
    rule = policy.get("NotifyRule") or {}
    if isinstance(rule, str):
        try:
            rule = json.loads(rule)
        except ValueError:
            return set()
    ids = set()
    for obj in rule.get("NotifyObjects") or []:
        if str(obj.get("NotifyObjectType", "")).upper() == "CONTACT_GROUP":
            with contextlib.suppress(TypeError, ValueError):
                ids.add(int(obj.get("NotifyObjectId")))
    return ids
