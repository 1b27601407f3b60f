"""ARMS Alert Management (version 2019-08-08): contacts, contact groups, notification policies
and IM robots, in memory.

What ARMS does not document, and this fake chose (the callers must not depend on more):
- One contact per phone and one per email. A create or an update that would give a second
  contact a phone (compared by its digits, ``+86``/``86``/``0086`` dropped) or an email
  (compared case-insensitively) that another contact holds is refused with HTTP 400 and code
  ``Contact.Phone.Duplicate`` / ``Contact.Email.Duplicate``; the message does not say which
  contact holds it (look it up with DescribeContacts).
- An ID that does not exist: 404 with ``Contact.NotFound``, ``ContactGroup.NotFound``,
  ``NotificationPolicy.NotFound`` or ``IMRobot.NotFound`` (DeleteContact of a missing contact
  included: "not found" means "already deleted" to an idempotent caller).
- CreateOrUpdate*: a parameter left out keeps its value on update; one sent empty clears it.
- DescribeContacts filters: ContactName is a case-insensitive substring, Phone and Email match
  exactly (after the normalisation above), ContactIds is comma-separated. Page sizes go up to 100.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .common import as_bool, as_int, id_list, now_iso, page_of, required
from .errors import ApiError, invalid

MAX_CONTACTS = 50_000
MAX_GROUPS = 5_000
MAX_POLICIES = 5_000
MAX_ROBOTS = 5_000
MAX_PAGE_SIZE = 100
ROBOT_TYPES = ("dingding", "wechat", "lark", "slack")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def phone_key(phone: str | None) -> str:
    """The digits that make two spellings of one phone equal."""
    digits = re.sub(r"\D", "", phone or "")
    for prefix in ("0086", "86"):
        rest = digits[len(prefix) :]
        if digits.startswith(prefix) and len(rest) == 11 and rest.startswith("1"):
            return rest
    return digits


def email_key(email: str | None) -> str:
    return (email or "").strip().lower()


def not_found(kind: str) -> ApiError:
    return ApiError(404, f"{kind}.NotFound", f"The {kind} does not exist.")


class ArmsState:
    """One account's ARMS alert objects. Callers hold the FakeCloud lock."""

    def __init__(self, lock):
        self._lock = lock
        self.contacts: dict[int, dict[str, Any]] = {}
        self.groups: dict[int, dict[str, Any]] = {}
        self.policies: dict[int, dict[str, Any]] = {}
        self.robots: dict[int, dict[str, Any]] = {}
        self._next_contact = 100001
        self._next_group = 200001
        self._next_policy = 300001
        self._next_robot = 400001

    # --- seed helpers -------------------------------------------------------------------------

    def add_contact(
        self,
        name: str,
        phone: str | None = None,
        email: str | None = None,
        ding_robot_url: str | None = None,
    ) -> dict:
        with self._lock:
            params = {"ContactName": name}
            for key, value in (
                ("Phone", phone),
                ("Email", email),
                ("DingRobotUrl", ding_robot_url),
            ):
                if value is not None:
                    params[key] = value
            answer = self.CreateOrUpdateContact(params)["AlertContact"]
            return self.contacts[
                answer["ContactId"]
            ]  # the stored dict: edit it as the console would

    def add_group(self, name: str, contact_ids=()) -> dict:
        with self._lock:
            params = {"ContactGroupName": name, "ContactIds": ",".join(map(str, contact_ids))}
            return self.CreateOrUpdateContactGroup(params)["AlertContactGroup"]

    def find_by_phone(self, phone: str) -> list[dict]:
        with self._lock:
            key = phone_key(phone)
            return [c for c in self.contacts.values() if phone_key(c["Phone"]) == key]

    # --- contacts -----------------------------------------------------------------------------

    def _check_unique(self, contact_id: int | None, phone: str, email: str) -> None:
        pkey, ekey = phone_key(phone), email_key(email)
        for other in self.contacts.values():
            if other["ContactId"] == contact_id:
                continue
            if pkey and phone_key(other["Phone"]) == pkey:
                raise ApiError(
                    400,
                    "Contact.Phone.Duplicate",
                    "The phone number is already used by another alert contact.",
                )
            if ekey and email_key(other["Email"]) == ekey:
                raise ApiError(
                    400,
                    "Contact.Email.Duplicate",
                    "The email address is already used by another alert contact.",
                )

    def CreateOrUpdateContact(self, params):
        contact_id = as_int(params, "ContactId")
        if contact_id is not None:
            existing = self.contacts.get(contact_id)
            if existing is None:
                raise not_found("Contact")
            current = dict(existing)
        else:
            if len(self.contacts) >= MAX_CONTACTS:
                raise ApiError(400, "LimitExceeded.Contact", "Too many alert contacts.")
            current = {
                "ContactName": "",
                "Phone": "",
                "Email": "",
                "DingRobotUrl": "",
                "CorpUserId": "",
                "IsVerify": False,
                "IsEmailVerify": False,
                "ReissueSendNotice": 0,
            }
        if contact_id is None or "ContactName" in params:
            current["ContactName"] = required(params, "ContactName")
        if len(current["ContactName"]) > 128:
            raise invalid("ContactName", "at most 128 characters.")
        for key in ("Phone", "Email", "DingRobotUrl", "CorpUserId"):
            if key in params:
                current[key] = params[key].strip()
        if current["Phone"] and not re.fullmatch(r"[+\d][\d\s-]{4,24}", current["Phone"]):
            raise invalid("Phone", "not a phone number.")
        if current["Email"] and not EMAIL_RE.match(current["Email"]):
            raise invalid("Email", "not an email address.")
        if "IsEmailVerify" in params:
            current["IsEmailVerify"] = as_bool(params, "IsEmailVerify")
        if "ReissueSendNotice" in params:
            current["ReissueSendNotice"] = as_int(params, "ReissueSendNotice", 0)
        self._check_unique(contact_id, current["Phone"], current["Email"])
        if contact_id is None:
            contact_id = self._next_contact
            self._next_contact += 1
            current["CreateTime"] = now_iso()
        current["ContactId"] = contact_id
        current["ArmsContactId"] = contact_id
        self.contacts[contact_id] = current
        answer = {
            k: current[k]
            for k in (
                "ContactId",
                "ContactName",
                "Phone",
                "Email",
                "DingRobotUrl",
                "IsVerify",
                "ReissueSendNotice",
            )
        }
        answer["isEmailVerify"] = current["IsEmailVerify"]  # sic: ARMS' own spelling here
        return {"AlertContact": answer}

    def DeleteContact(self, params):
        contact_id = as_int(params, "ContactId")
        if contact_id is None:
            required(params, "ContactId")
        if self.contacts.pop(contact_id, None) is None:
            raise not_found("Contact")
        for group in self.groups.values():
            if contact_id in group["ContactIds"]:
                group["ContactIds"].remove(contact_id)
        return {"IsSuccess": True}

    def _listed_contact(self, contact: dict) -> dict:
        return {
            k: contact[k]
            for k in (
                "ContactId",
                "ArmsContactId",
                "ContactName",
                "Phone",
                "Email",
                "IsVerify",
                "IsEmailVerify",
                "ReissueSendNotice",
            )
        }

    def DescribeContacts(self, params):
        name = (params.get("ContactName") or "").strip().lower()
        # A filter sent is a filter applied: a phone with no digits matches nothing, not all.
        phone = phone_key(params["Phone"]) if (params.get("Phone") or "").strip() else None
        email = email_key(params["Email"]) if (params.get("Email") or "").strip() else None
        ids = id_list(params, "ContactIds")
        matches = [
            c
            for _, c in sorted(self.contacts.items())
            if (not name or name in c["ContactName"].lower())
            and (phone is None or (phone and phone_key(c["Phone"]) == phone))
            and (email is None or email_key(c["Email"]) == email)
            and (ids is None or c["ContactId"] in ids)
        ]
        page, number, size = page_of(matches, params, default_size=10, max_size=MAX_PAGE_SIZE)
        return {
            "PageBean": {
                "AlertContacts": [self._listed_contact(c) for c in page],
                "Page": number,
                "Size": size,
                "Total": len(matches),
            }
        }

    # --- contact groups -----------------------------------------------------------------------

    def _contact_ids(self, params) -> list[int]:
        ids = id_list(params, "ContactIds") or []
        unknown = [i for i in ids if i not in self.contacts]
        if unknown:
            raise ApiError(404, "Contact.NotFound", f"These contacts do not exist: {unknown[:10]}")
        return list(dict.fromkeys(ids))

    def CreateOrUpdateContactGroup(self, params):
        group_id = as_int(params, "ContactGroupId")
        if group_id is not None:
            group = self.groups.get(group_id)
            if group is None:
                raise not_found("ContactGroup")
            if "ContactGroupName" in params:
                group["ContactGroupName"] = required(params, "ContactGroupName")
            if "ContactIds" in params:
                group["ContactIds"] = self._contact_ids(params)
        else:
            if len(self.groups) >= MAX_GROUPS:
                raise ApiError(400, "LimitExceeded.ContactGroup", "Too many contact groups.")
            name = required(params, "ContactGroupName")
            ids = self._contact_ids(params)
            group_id = self._next_group
            self._next_group += 1
            group = {"ContactGroupId": group_id, "ContactGroupName": name, "ContactIds": ids}
            self.groups[group_id] = group
        return {
            "AlertContactGroup": {
                "ContactGroupId": group_id,
                "ContactGroupName": group["ContactGroupName"],
                "ContactIds": ",".join(map(str, group["ContactIds"])),
            }
        }

    def DeleteContactGroup(self, params):
        group_id = as_int(params, "ContactGroupId")
        if group_id is None:
            required(params, "ContactGroupId")
        if self.groups.pop(group_id, None) is None:
            raise not_found("ContactGroup")
        return {"IsSuccess": True}

    def DescribeContactGroups(self, params):
        name = (params.get("ContactGroupName") or "").strip().lower()
        ids = id_list(params, "GroupIds")
        detail = as_bool(params, "IsDetail")
        matches = [
            g
            for _, g in sorted(self.groups.items())
            if (not name or name in g["ContactGroupName"].lower())
            and (ids is None or g["ContactGroupId"] in ids)
        ]
        page, number, size = page_of(matches, params, default_size=10, max_size=MAX_PAGE_SIZE)
        listed = []
        for group in page:
            item = {
                "ContactGroupId": group["ContactGroupId"],
                "ArmsContactGroupId": group["ContactGroupId"],
                "ContactGroupName": group["ContactGroupName"],
            }
            if detail:
                item["Contacts"] = [
                    {
                        k: self.contacts[i][k]
                        for k in ("ContactId", "ArmsContactId", "ContactName", "Phone", "Email")
                    }
                    for i in group["ContactIds"]
                    if i in self.contacts
                ]
            listed.append(item)
        return {
            "PageBean": {
                "AlertContactGroups": listed,
                "Page": number,
                "Size": size,
                "Total": len(matches),
            }
        }

    # --- notification policies ----------------------------------------------------------------

    def _json_param(self, params, name: str, default):
        if name not in params or params[name] == "":
            return default
        try:
            return json.loads(params[name])
        except ValueError:
            raise invalid(name, "not valid JSON.") from None

    def _check_notify_rule(self, rule) -> None:
        if not isinstance(rule, dict):
            raise invalid("NotifyRule", "must be a JSON object.")
        objects = rule.get("NotifyObjects") or []
        if not isinstance(objects, list):
            raise invalid("NotifyRule", "NotifyObjects must be a list.")
        for obj in objects:
            kind = str(obj.get("NotifyObjectType", "")).upper() if isinstance(obj, dict) else ""
            try:
                ident = int(obj.get("NotifyObjectId"))
            except (TypeError, ValueError, AttributeError):
                raise invalid("NotifyRule", "a NotifyObject lacks NotifyObjectId.") from None
            if kind == "CONTACT" and ident not in self.contacts:
                raise invalid("NotifyRule", f"contact {ident} does not exist.")
            if kind == "CONTACT_GROUP" and ident not in self.groups:
                raise invalid("NotifyRule", f"contact group {ident} does not exist.")

    def CreateOrUpdateNotificationPolicy(self, params):
        policy_id = as_int(params, "Id")
        if policy_id is not None:
            policy = self.policies.get(policy_id)
            if policy is None:
                raise not_found("NotificationPolicy")
            policy = dict(policy)
        else:
            if len(self.policies) >= MAX_POLICIES:
                raise ApiError(
                    400, "LimitExceeded.NotificationPolicy", "Too many notification policies."
                )
            required(params, "Name")
            required(params, "NotifyRule")
            policy = {
                "Name": "",
                "NotifyRule": {},
                "MatchingRules": [],
                "GroupRule": {},
                "NotifyTemplate": {},
                "SendRecoverMessage": False,
                "Repeat": False,
                "RepeatInterval": 0,
                "State": "enable",
                "DirectedMode": False,
                "EscalationPolicyId": None,
                "IntegrationId": None,
            }
        if "Name" in params:
            policy["Name"] = required(params, "Name")
        rule = self._json_param(params, "NotifyRule", policy["NotifyRule"])
        self._check_notify_rule(rule)
        policy["NotifyRule"] = rule
        for key, default in (("MatchingRules", []), ("GroupRule", {}), ("NotifyTemplate", {})):
            policy[key] = self._json_param(params, key, policy.get(key, default))
        for key in ("SendRecoverMessage", "Repeat", "DirectedMode"):
            if key in params:
                policy[key] = as_bool(params, key)
        for key in ("RepeatInterval", "EscalationPolicyId", "IntegrationId"):
            if key in params:
                policy[key] = as_int(params, key)
        if "State" in params:
            policy["State"] = params["State"]
        if policy_id is None:
            policy_id = self._next_policy
            self._next_policy += 1
        policy["Id"] = policy_id
        self.policies[policy_id] = policy
        return {"NotificationPolicy": {k: v for k, v in policy.items() if v is not None}}

    def ListNotificationPolicies(self, params):
        name = (params.get("Name") or "").strip().lower()
        ids = id_list(params, "Ids")
        matches = [
            p
            for _, p in sorted(self.policies.items())
            if (not name or name in p["Name"].lower()) and (ids is None or p["Id"] in ids)
        ]
        page, number, size = page_of(matches, params, default_size=10, max_size=MAX_PAGE_SIZE)
        return {
            "PageBean": {
                "NotificationPolicies": [
                    {k: v for k, v in p.items() if v is not None} for p in page
                ],
                "Page": number,
                "Size": size,
                "Total": len(matches),
            }
        }

    def DeleteNotificationPolicy(self, params):
        policy_id = as_int(params, "Id")
        if policy_id is None:
            required(params, "Id")
        if self.policies.pop(policy_id, None) is None:
            raise not_found("NotificationPolicy")
        return {"IsSuccess": True}

    # --- IM robots ------------------------------------------------------------------------------

    def CreateOrUpdateIMRobot(self, params):
        robot_id = as_int(params, "RobotId")
        if robot_id is not None:
            robot = self.robots.get(robot_id)
            if robot is None:
                raise not_found("IMRobot")
            robot = dict(robot)
        else:
            if len(self.robots) >= MAX_ROBOTS:
                raise ApiError(400, "LimitExceeded.IMRobot", "Too many IM robots.")
            required(params, "RobotName")
            required(params, "RobotAddress")
            robot = {
                "RobotName": "",
                "RobotAddress": "",
                "Type": "dingding",
                "DingSignKey": "",
                "Token": "",
                "CardTemplate": "",
                "DailyNoc": False,
                "DailyNocTime": "",
                "EnableOutgoing": False,
                "CreateTime": now_iso(),
            }
        for key in (
            "RobotName",
            "RobotAddress",
            "DingSignKey",
            "Token",
            "CardTemplate",
            "DailyNocTime",
        ):
            if key in params:
                robot[key] = params[key]
        if "Type" in params:
            if params["Type"] not in ROBOT_TYPES:
                raise invalid("Type", f"one of {', '.join(ROBOT_TYPES)}.")
            robot["Type"] = params["Type"]
        for key in ("DailyNoc", "EnableOutgoing"):
            if key in params:
                robot[key] = as_bool(params, key)
        if not robot["RobotAddress"].startswith(("http://", "https://")):
            raise invalid("RobotAddress", "must be a webhook URL.")
        if robot_id is None:
            robot_id = self._next_robot
            self._next_robot += 1
        robot["RobotId"] = robot_id
        self.robots[robot_id] = robot
        return {
            "AlertRobot": {
                k: robot[k]
                for k in (
                    "RobotId",
                    "RobotName",
                    "RobotAddress",
                    "Type",
                    "Token",
                    "CardTemplate",
                    "DailyNoc",
                    "DailyNocTime",
                    "EnableOutgoing",
                )
            }
        }

    def DescribeIMRobots(self, params):
        name = (params.get("RobotName") or "").strip().lower()
        ids = id_list(params, "RobotIds")
        matches = [
            r
            for _, r in sorted(self.robots.items())
            if (not name or name in r["RobotName"].lower()) and (ids is None or r["RobotId"] in ids)
        ]
        page, number, size = page_of(matches, params, default_size=10, max_size=MAX_PAGE_SIZE)
        listed = [
            {
                "RobotId": r["RobotId"],
                "RobotName": r["RobotName"],
                "RobotAddr": r["RobotAddress"],  # sic: DescribeIMRobots says RobotAddr
                "Type": r["Type"],
                "DingSignKey": r["DingSignKey"],
                "DailyNoc": r["DailyNoc"],
                "DailyNocTime": r["DailyNocTime"],
                "CreateTime": r["CreateTime"],
                "DispatchRules": [],
            }
            for r in page
        ]
        return {
            "PageBean": {
                "AlertIMRobots": listed,
                "Page": number,
                "Size": size,
                "Total": len(matches),
            }
        }

    def DeleteIMRobot(self, params):
        robot_id = as_int(params, "RobotId")
        if robot_id is None:
            required(params, "RobotId")
        if self.robots.pop(robot_id, None) is None:
            raise not_found("IMRobot")
        return {"IsSuccess": True}


ACTIONS = {
    name for name in dir(ArmsState) if name[:1].isupper() and callable(getattr(ArmsState, name))
}
