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

import itertools
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


def page_answer(key: str, matches: list, params, shown=lambda item: item) -> dict:
    """An ARMS list's answer: one Page/Size page of `matches` (each as `shown` gives it) under
    PageBean[key], with the page number, the page size and the total."""
    page, number, size = page_of(matches, params, default_size=10, max_size=MAX_PAGE_SIZE)
    return {
        "PageBean": {
            key: [shown(item) for item in page],
            "Page": number,
            "Size": size,
            "Total": len(matches),
        }
    }


def shown_policy(policy: dict) -> dict:
    """A notification policy as ARMS answers it: the fields that have a value."""
    return {k: v for k, v in policy.items() if v is not None}


class ArmsState:
    """One account's ARMS alert objects. Callers hold the FakeCloud lock."""

    def __init__(self, lock):
        self._lock = lock
        self.contacts: dict[int, dict[str, Any]] = {}
        self.groups: dict[int, dict[str, Any]] = {}
        self.policies: dict[int, dict[str, Any]] = {}
        self.robots: dict[int, dict[str, Any]] = {}
        self._contact_counter = itertools.count(100001)
        self._group_counter = itertools.count(200001)
        self._policy_counter = itertools.count(300001)
        self._robot_counter = itertools.count(400001)

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

    # --- what every kind of object shares ----------------------------------------------------

    def _existing(self, store: dict, object_id: int, kind: str) -> dict:
        """The object an update names; 404 for an ID that does not exist."""
        found = store.get(object_id)
        if found is None:
            raise not_found(kind)
        return found

    def _delete(self, store: dict, params, id_param: str, kind: str) -> int:
        """A Delete action: the object `params[id_param]` names leaves `store`; 404 for none."""
        object_id = as_int(params, id_param)
        if object_id is None:
            required(params, id_param)
        if store.pop(object_id, None) is None:
            raise not_found(kind)
        return object_id

    def _matching(self, store: dict, params, name: str, ids: str) -> list[dict]:
        """A Describe/List action's filters, each applied when sent: the `name` parameter as a
        case-insensitive substring of the object's `name`, the `ids` parameter as a list of
        IDs. In ID order."""
        wanted = (params.get(name) or "").strip().lower()
        id_filter = id_list(params, ids)
        return [
            obj
            for object_id, obj in sorted(store.items())
            if (not wanted or wanted in obj[name].lower())
            and (id_filter is None or object_id in id_filter)
        ]

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
            current = dict(self._existing(self.contacts, contact_id, "Contact"))
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
            contact_id = next(self._contact_counter)
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
        contact_id = self._delete(self.contacts, params, "ContactId", "Contact")
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
        # A filter sent is a filter applied: a phone with no digits matches nothing, not all.
        phone = phone_key(params["Phone"]) if (params.get("Phone") or "").strip() else None
        email = email_key(params["Email"]) if (params.get("Email") or "").strip() else None
        matches = [
            c
            for c in self._matching(self.contacts, params, "ContactName", "ContactIds")
            if (phone is None or (phone and phone_key(c["Phone"]) == phone))
            and (email is None or email_key(c["Email"]) == email)
        ]
        return page_answer("AlertContacts", matches, params, self._listed_contact)

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
            group = self._existing(self.groups, group_id, "ContactGroup")
            if "ContactGroupName" in params:
                group["ContactGroupName"] = required(params, "ContactGroupName")
            if "ContactIds" in params:
                group["ContactIds"] = self._contact_ids(params)
        else:
            if len(self.groups) >= MAX_GROUPS:
                raise ApiError(400, "LimitExceeded.ContactGroup", "Too many contact groups.")
            name = required(params, "ContactGroupName")
            ids = self._contact_ids(params)
            group_id = next(self._group_counter)
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
        self._delete(self.groups, params, "ContactGroupId", "ContactGroup")
        return {"IsSuccess": True}

    def _listed_group(self, group: dict, detail: bool) -> dict:
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
        return item

    def DescribeContactGroups(self, params):
        matches = self._matching(self.groups, params, "ContactGroupName", "GroupIds")
        detail = as_bool(params, "IsDetail")
        return page_answer(
            "AlertContactGroups", matches, params, lambda group: self._listed_group(group, detail)
        )

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
            policy = dict(self._existing(self.policies, policy_id, "NotificationPolicy"))
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
            policy_id = next(self._policy_counter)
        policy["Id"] = policy_id
        self.policies[policy_id] = policy
        return {"NotificationPolicy": shown_policy(policy)}

    def ListNotificationPolicies(self, params):
        matches = self._matching(self.policies, params, "Name", "Ids")
        return page_answer("NotificationPolicies", matches, params, shown_policy)

    def DeleteNotificationPolicy(self, params):
        self._delete(self.policies, params, "Id", "NotificationPolicy")
        return {"IsSuccess": True}

    # --- IM robots ------------------------------------------------------------------------------

    def CreateOrUpdateIMRobot(self, params):
        robot_id = as_int(params, "RobotId")
        if robot_id is not None:
            robot = dict(self._existing(self.robots, robot_id, "IMRobot"))
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
            robot_id = next(self._robot_counter)
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

    @staticmethod
    def _listed_robot(robot: dict) -> dict:
        return {
            "RobotId": robot["RobotId"],
            "RobotName": robot["RobotName"],
            "RobotAddr": robot["RobotAddress"],  # sic: DescribeIMRobots says RobotAddr
            "Type": robot["Type"],
            "DingSignKey": robot["DingSignKey"],
            "DailyNoc": robot["DailyNoc"],
            "DailyNocTime": robot["DailyNocTime"],
            "CreateTime": robot["CreateTime"],
            "DispatchRules": [],
        }

    def DescribeIMRobots(self, params):
        matches = self._matching(self.robots, params, "RobotName", "RobotIds")
        return page_answer("AlertIMRobots", matches, params, self._listed_robot)

    def DeleteIMRobot(self, params):
        self._delete(self.robots, params, "RobotId", "IMRobot")
        return {"IsSuccess": True}


ACTIONS = {
    name for name in dir(ArmsState) if name[:1].isupper() and callable(getattr(ArmsState, name))
}
