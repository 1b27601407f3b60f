"""RAM (version 2015-05-01): users, groups, policies and their attachments, in memory.

Error codes are RAM's own: EntityNotExist.User / .Group / .Policy / .PolicyVersion /
.User.Policy (404), EntityAlreadyExists.Policy / .User.Policy (409), MalformedPolicyDocument
(400), InvalidParameter.* (400), LimitExceeded.* (409).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from ram_directory.system_policies import SYSTEM_POLICIES as CONSOLE_SYSTEM_POLICIES

from .common import marker_answer, now_iso, required
from .errors import ApiError

# The console's system policies (rules §2) as RAM answers them: its read-only policy also
# allows GenerateCredentialReport, and ARMS adds its own two.
SYSTEM_POLICIES = {
    **CONSOLE_SYSTEM_POLICIES,
    "AliyunRAMReadOnlyAccess": (
        "Provides read-only access to Resource Access Management (RAM).",
        {
            "Version": "1",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["ram:Get*", "ram:List*", "ram:GenerateCredentialReport"],
                    "Resource": "*",
                }
            ],
        },
    ),
    "AliyunARMSFullAccess": (
        "Provides full access to Application Real-Time Monitoring Service (ARMS).",
        {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "arms:*", "Resource": "*"}]},
    ),
    "AliyunARMSReadOnlyAccess": (
        "Provides read-only access to Application Real-Time Monitoring Service (ARMS).",
        {
            "Version": "1",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["arms:Describe*", "arms:List*", "arms:Get*", "arms:Search*"],
                    "Resource": "*",
                }
            ],
        },
    ),
}

# Bounds, so that a runaway test or a loop cannot eat the machine.
MAX_USERS = 100_000
MAX_GROUPS = 10_000
MAX_POLICIES = 10_000
MAX_DOCUMENT_BYTES = 6144  # RAM's limit for a policy document
NAME_RE = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")
POLICY_NAME_RE = re.compile(r"^[A-Za-z0-9-]{1,128}$")
POLICY_TYPES = ("System", "Custom")


def check_document(document: str) -> None:
    """Refuses what RAM refuses: not JSON, no statements, an effect or action missing."""
    if len(document.encode("utf-8")) > MAX_DOCUMENT_BYTES:
        raise ApiError(
            400,
            "LimitExceeded.Policy.Document",
            f"The policy document exceeds {MAX_DOCUMENT_BYTES} bytes.",
        )
    try:
        doc = json.loads(document)
    except ValueError as exc:
        raise ApiError(
            400, "MalformedPolicyDocument", f"The policy document is not valid JSON: {exc}"
        ) from None
    statements = doc.get("Statement") if isinstance(doc, dict) else None
    if not isinstance(statements, list) or not statements:
        raise ApiError(
            400, "MalformedPolicyDocument", "The policy document needs a Statement list."
        )
    for index, st in enumerate(statements, 1):
        if not isinstance(st, dict) or st.get("Effect") not in ("Allow", "Deny"):
            raise ApiError(
                400,
                "MalformedPolicyDocument",
                f"Statement {index}: Effect must be Allow or Deny.",
            )
        actions = st.get("Action")
        if isinstance(actions, str):
            actions = [actions]
        if not actions or not all(isinstance(a, str) and a for a in actions):
            raise ApiError(400, "MalformedPolicyDocument", f"Statement {index}: Action is missing.")


def document_text(document: dict | str) -> str:
    return document if isinstance(document, str) else json.dumps(document, ensure_ascii=False)


def later_than(stamp: str) -> str:
    """Now, or a second after ``stamp`` if that is not earlier: RAM's dates have whole seconds,
    and a reader that trusts UpdateDate to see a change must see this one even within a
    second of the last."""
    now = now_iso()
    if now > stamp:
        return now
    moved = dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ") + dt.timedelta(seconds=1)
    return moved.strftime("%Y-%m-%dT%H:%M:%SZ")


class RamState:
    """One account's RAM. Callers hold the FakeCloud lock (the seed helpers take it)."""

    def __init__(self, lock):
        self._lock = lock
        self._seq = 0
        self.users: dict[str, dict[str, Any]] = {}
        self.groups: dict[str, dict[str, Any]] = {}
        self.policies: dict[str, dict[str, Any]] = {}
        # user name -> group names; (user or group name) -> {(type, policy): attach date}
        self.memberships: dict[str, list[str]] = {}
        self.user_policies: dict[str, dict[tuple[str, str], str]] = {}
        self.group_policies: dict[str, dict[tuple[str, str], str]] = {}
        self._order: dict[str, int] = {}  # user name -> sequence, for ListUsers' Marker
        self._policy_order: dict[str, int] = {}
        for name, (description, document) in SYSTEM_POLICIES.items():
            self._new_policy(name, document_text(document), "System", description)

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    # --- seed helpers (the test's and the CLI's way in) ------------------------------------

    def add_user(
        self,
        name: str,
        display_name: str | None = None,
        mobile_phone: str | None = None,
        email: str | None = None,
        comments: str = "",
        groups=(),
        policies=(),
    ) -> dict:
        with self._lock:
            if name in self.users:
                raise ValueError(f"RAM user {name!r} exists")
            if len(self.users) >= MAX_USERS:
                raise ValueError("too many RAM users")
            policies = list(policies)
            kinds = [self._policy_type(policy) for policy in policies]  # all known, or nothing
            seq = self._next()
            stamp = now_iso()
            user = {
                # 16 digits like RAM's, in a range of their own (28…): the benchmark's data
                # builder numbers its local RAM users from 2000…, and user IDs are unique.
                "UserId": f"28{seq:014d}",
                "UserName": name,
                "DisplayName": display_name or name,
                "MobilePhone": mobile_phone or "",
                "Email": email or "",
                "Comments": comments,
                "CreateDate": stamp,
                "UpdateDate": stamp,
                "LastLoginDate": "",
            }
            self.users[name] = user
            self._order[name] = seq
            self.memberships[name] = []
            self.user_policies[name] = {}
            for group in groups:
                if group not in self.groups:
                    self.add_group(group)
                self.memberships[name].append(group)
            for policy, kind in zip(policies, kinds, strict=True):
                self.attach(policy, name, policy_type=kind)
            return user

    def remove_user(self, name: str) -> None:
        with self._lock:
            self.users.pop(name)
            self._order.pop(name, None)
            self.memberships.pop(name, None)
            self.user_policies.pop(name, None)

    def add_group(self, name: str, policies=(), comments: str = "") -> dict:
        with self._lock:
            if name in self.groups:
                raise ValueError(f"RAM group {name!r} exists")
            if len(self.groups) >= MAX_GROUPS:
                raise ValueError("too many RAM groups")
            stamp = now_iso()
            group = {
                "GroupId": f"{self._next():016d}",
                "GroupName": name,
                "Comments": comments,
                "CreateDate": stamp,
                "UpdateDate": stamp,
            }
            self.groups[name] = group
            self.group_policies[name] = {}
            for policy in policies:
                self.group_policies[name][(self._policy_type(policy), policy)] = now_iso()
            return group

    def _policy_type(self, policy_name: str) -> str:
        policy = self.policies.get(policy_name)
        if policy is None:
            raise ValueError(f"no RAM policy {policy_name!r}: add_policy() it first")
        return policy["PolicyType"]

    def add_to_group(self, user_name: str, group_name: str) -> None:
        with self._lock:
            if group_name not in self.groups:
                raise ValueError(f"no RAM group {group_name!r}")
            if group_name not in self.memberships[user_name]:
                self.memberships[user_name].append(group_name)

    def add_policy(
        self, name: str, document: dict | str, policy_type: str = "Custom", description: str = ""
    ) -> dict:
        with self._lock:
            if name in self.policies:
                raise ValueError(f"RAM policy {name!r} exists")
            text = document_text(document)
            check_document(text)
            return self._new_policy(name, text, policy_type, description)

    def _new_policy(self, name: str, text: str, policy_type: str, description: str) -> dict:
        if len(self.policies) >= MAX_POLICIES:
            raise ApiError(409, "LimitExceeded.Policy", "The count of policies exceeds the limit.")
        stamp = now_iso()
        policy = {
            "PolicyName": name,
            "PolicyType": policy_type,
            "Description": description,
            "DefaultVersion": "v1",
            "CreateDate": stamp,
            "UpdateDate": stamp,
            "Versions": {"v1": {"VersionId": "v1", "PolicyDocument": text, "CreateDate": stamp}},
        }
        self.policies[name] = policy
        self._policy_order[name] = self._next()
        return policy

    def attach(self, policy_name: str, user_name: str, policy_type: str | None = None) -> None:
        """Attach a policy to a user (its type is looked up when not given)."""
        with self._lock:
            if user_name not in self.users:
                raise ValueError(f"no RAM user {user_name!r}")
            policy_type = policy_type or self._policy_type(policy_name)
            self.user_policies[user_name][(policy_type, policy_name)] = now_iso()

    def attach_to_group(self, policy_name: str, group_name: str) -> None:
        with self._lock:
            if group_name not in self.groups:
                raise ValueError(f"no RAM group {group_name!r}")
            key = (self._policy_type(policy_name), policy_name)
            self.group_policies[group_name][key] = now_iso()

    def detach_from_group(self, policy_name: str, group_name: str) -> None:
        with self._lock:
            self.group_policies[group_name].pop((self._policy_type(policy_name), policy_name), None)

    def detach(self, policy_name: str, user_name: str) -> None:
        with self._lock:
            self.user_policies[user_name].pop((self._policy_type(policy_name), policy_name), None)

    def remove_from_group(self, user_name: str, group_name: str) -> None:
        with self._lock:
            if group_name in self.memberships.get(user_name, []):
                self.memberships[user_name].remove(group_name)

    def update_user(self, name: str, **fields) -> dict:
        """Change what RAM would answer for a user: display_name, mobile_phone, email, comments."""
        names = {
            "display_name": "DisplayName",
            "mobile_phone": "MobilePhone",
            "email": "Email",
            "comments": "Comments",
        }
        with self._lock:
            user = self.users[name]
            for key, value in fields.items():
                user[names[key]] = value
            user["UpdateDate"] = later_than(user["UpdateDate"])
            return user

    def groups_of(self, user_name: str) -> list[str]:
        with self._lock:
            return list(self.memberships.get(user_name, ()))

    def policies_of(self, user_name: str) -> list[tuple[str, str]]:
        """(type, name) attached to the user directly."""
        with self._lock:
            return list(self.user_policies.get(user_name, {}))

    # --- the API ----------------------------------------------------------------------------

    def _user(self, params) -> dict:
        name = required(params, "UserName")
        user = self.users.get(name)
        if user is None:
            raise ApiError(404, "EntityNotExist.User", "The user does not exist.")
        return user

    def _policy(self, params) -> dict:
        name = required(params, "PolicyName")
        kind = required(params, "PolicyType")
        if kind not in POLICY_TYPES:
            raise ApiError(
                400, "InvalidParameter.PolicyType", "PolicyType must be System or Custom."
            )
        policy = self.policies.get(name)
        if policy is None or policy["PolicyType"] != kind:
            raise ApiError(404, "EntityNotExist.Policy", "The policy does not exist.")
        return policy

    def _public_policy(self, policy: dict) -> dict:
        out = {k: v for k, v in policy.items() if k != "Versions"}
        out["AttachmentCount"] = self._attachment_count(policy)
        return out

    def _attachment_count(self, policy: dict) -> int:
        key = (policy["PolicyType"], policy["PolicyName"])
        return sum(key in a for a in self.user_policies.values()) + sum(
            key in a for a in self.group_policies.values()
        )

    def GetUser(self, params):
        return {"User": dict(self._user(params))}

    def ListUsers(self, params):
        # ListUsers leaves LastLoginDate out (GetUser has it).
        ordered = [
            (self._order[name], {k: v for k, v in user.items() if k != "LastLoginDate"})
            for name, user in self.users.items()
        ]
        ordered.sort(key=lambda pair: pair[0])
        return marker_answer(ordered, params, "Users", "User")

    def ListGroupsForUser(self, params):
        user = self._user(params)
        groups = []
        for name in self.memberships.get(user["UserName"], ()):
            group = self.groups[name]
            groups.append(
                {
                    "GroupId": group["GroupId"],
                    "GroupName": name,
                    "Comments": group["Comments"],
                    "JoinDate": group["CreateDate"],
                }
            )
        return {"Groups": {"Group": groups}}

    def _attached(self, attachments: dict[tuple[str, str], str]) -> dict:
        out = []
        for (kind, name), attach_date in attachments.items():
            policy = self.policies.get(name)
            if policy is None:
                continue
            out.append(
                {
                    "PolicyName": name,
                    "PolicyType": kind,
                    "Description": policy["Description"],
                    "DefaultVersion": policy["DefaultVersion"],
                    "AttachDate": attach_date,
                }
            )
        return {"Policies": {"Policy": out}}

    def ListPoliciesForUser(self, params):
        user = self._user(params)
        return self._attached(self.user_policies.get(user["UserName"], {}))

    def _group_name(self, params) -> str:
        name = required(params, "GroupName")
        if name not in self.groups:
            raise ApiError(404, "EntityNotExist.Group", "The group does not exist.")
        return name

    def ListPoliciesForGroup(self, params):
        name = self._group_name(params)
        return self._attached(self.group_policies[name])

    def ListGroups(self, params):
        ordered = [(int(g["GroupId"]), dict(g)) for g in self.groups.values()]
        return marker_answer(ordered, params, "Groups", "Group")

    def ListUsersForGroup(self, params):
        name = self._group_name(params)
        members = [
            (self._order[u], {"UserName": u, "DisplayName": self.users[u]["DisplayName"]})
            for u, groups in self.memberships.items()
            if name in groups
        ]
        members.sort(key=lambda pair: pair[0])
        return marker_answer(members, params, "Users", "User")

    def GetPolicy(self, params):
        policy = self._policy(params)
        version = policy["Versions"][policy["DefaultVersion"]]
        return {
            "Policy": self._public_policy(policy),
            "DefaultPolicyVersion": {**version, "IsDefaultVersion": True},
        }

    def GetPolicyVersion(self, params):
        policy = self._policy(params)
        version_id = required(params, "VersionId")
        version = policy["Versions"].get(version_id)
        if version is None:
            raise ApiError(
                404, "EntityNotExist.PolicyVersion", "The policy version does not exist."
            )
        return {
            "PolicyVersion": {
                **version,
                "IsDefaultVersion": version_id == policy["DefaultVersion"],
            }
        }

    def ListPolicies(self, params):
        kind = params.get("PolicyType") or None
        if kind is not None and kind not in POLICY_TYPES:
            raise ApiError(
                400, "InvalidParameter.PolicyType", "PolicyType must be System or Custom."
            )
        ordered = [
            (self._policy_order[name], self._public_policy(policy))
            for name, policy in self.policies.items()
            if kind is None or policy["PolicyType"] == kind
        ]
        ordered.sort(key=lambda pair: pair[0])
        return marker_answer(ordered, params, "Policies", "Policy")

    def CreatePolicy(self, params):
        name = required(params, "PolicyName")
        document = required(params, "PolicyDocument")
        description = params.get("Description", "")
        if not POLICY_NAME_RE.match(name):
            raise ApiError(
                400,
                "InvalidParameter.PolicyName.InvalidChars",
                "The policy name may hold only letters, digits and hyphens (1 to 128).",
            )
        if len(description) > 1024:
            raise ApiError(
                400, "InvalidParameter.Description.Length", "The description is too long."
            )
        if name in self.policies:
            raise ApiError(409, "EntityAlreadyExists.Policy", "The policy already exists.")
        check_document(document)
        policy = self._new_policy(name, document, "Custom", description)
        public = self._public_policy(policy)
        return {
            "Policy": {
                k: public[k]
                for k in ("PolicyName", "PolicyType", "Description", "DefaultVersion", "CreateDate")
            }
        }

    def DeletePolicy(self, params):
        name = required(params, "PolicyName")
        policy = self.policies.get(name)
        if policy is None or policy["PolicyType"] != "Custom":
            raise ApiError(404, "EntityNotExist.Policy", "The policy does not exist.")
        if self._attachment_count(policy):
            raise ApiError(
                409, "DeleteConflict.Policy.User", "The policy is still attached to principals."
            )
        del self.policies[name]
        self._policy_order.pop(name, None)
        return {}

    def _user_attachment(self, params) -> tuple[dict[tuple[str, str], str], tuple[str, str]]:
        """The policies attached to the user `params` names, and the key of the policy it names
        (each 404 when it does not exist)."""
        policy = self._policy(params)
        user = self._user(params)
        key = (policy["PolicyType"], policy["PolicyName"])
        return self.user_policies[user["UserName"]], key

    def AttachPolicyToUser(self, params):
        attachments, key = self._user_attachment(params)
        if key in attachments:
            raise ApiError(
                409,
                "EntityAlreadyExists.User.Policy",
                "The policy has already been attached to the user.",
            )
        attachments[key] = now_iso()
        return {}

    def DetachPolicyFromUser(self, params):
        attachments, key = self._user_attachment(params)
        if key not in attachments:
            raise ApiError(
                404,
                "EntityNotExist.User.Policy",
                "The policy has not been attached to the user.",
            )
        del attachments[key]
        return {}

    def GetAccountAlias(self, params):
        return {"AccountAlias": "fake"}


ACTIONS = {
    name for name in dir(RamState) if name[:1].isupper() and callable(getattr(RamState, name))
}
