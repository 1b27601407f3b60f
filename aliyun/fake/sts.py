"""STS (version 2015-04-01): AssumeRole and GetCallerIdentity, in memory.

AssumeRole is what alibabacloud-credentials calls for a ``ram_role_arn`` credential: an RPC
request (GET, every parameter in the query) signed with the older signature, HMAC-SHA1 over
``GET&%2F&<percent-encoded sorted query>`` with ``secret + "&"``, base64 in ``Signature``
(signing.verify_rpc). It answers a temporary AccessKey, its secret and a SecurityToken that
expire after ``lifetime`` seconds; RAM and ARMS then accept that key only with its token in
``x-acs-security-token`` (server.py), and refuse it once expired.

Roles are added by the test (``add_role``); a role trusts every AccessKey of the account unless
it names the ones it trusts. Error codes are STS's: EntityNotExist.Role (404), NoPermission
(403), InvalidParameter.* (400), InvalidSecurityToken.Expired / .MismatchWithAccessKey (400).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import secrets
import time
from dataclasses import dataclass

from .common import as_int, required
from .errors import ApiError, invalid

MAX_SESSIONS = 10_000
_ROLE_ARN = re.compile(r"^acs:ram::(\d{16}):role/([A-Za-z0-9._/-]{1,128})$")
_SESSION_NAME = re.compile(r"^[A-Za-z0-9.@_-]{2,64}$")


@dataclass(frozen=True)
class Session:
    secret: str
    token: str
    expires: float  # time.time()
    role_arn: str
    source_key: str


class StsState:
    def __init__(self, lock, account_id: str):
        self.lock = lock
        self.account_id = account_id
        self.roles: dict[str, set[str] | None] = {}  # ARN -> trusted AccessKey IDs (None: all)
        self.sessions: dict[str, Session] = {}  # temporary AccessKey ID -> session
        self.lifetime: float | None = None  # seconds; None: what DurationSeconds asked

    def add_role(self, name: str, *, trusted: list[str] | None = None) -> str:
        arn = f"acs:ram::{self.account_id}:role/{name}"
        with self.lock:
            self.roles[arn.lower()] = set(trusted) if trusted is not None else None
        return arn

    def expire_sessions(self) -> None:
        """Every temporary key handed out so far expires now."""
        with self.lock:
            for key, session in self.sessions.items():
                self.sessions[key] = dataclasses.replace(session, expires=time.time() - 1)

    def secrets(self) -> dict[str, str]:
        with self.lock:
            return {key: s.secret for key, s in self.sessions.items()}

    def session_for(self, access_key_id: str) -> Session | None:
        with self.lock:
            return self.sessions.get(access_key_id)

    def check_token(self, access_key_id: str, token: str | None) -> Session | None:
        """The session a temporary key belongs to (None for a permanent key), or ApiError."""
        session = self.session_for(access_key_id)
        if session is None:
            return None
        if not token or not secrets.compare_digest(token, session.token):
            raise ApiError(
                400,
                "InvalidSecurityToken.MismatchWithAccessKey",
                "The security token you provided does not match the access key.",
            )
        if time.time() >= session.expires:
            raise ApiError(
                400, "InvalidSecurityToken.Expired", "Specified SecurityToken is expired."
            )
        return session

    # --- actions (params, and the AccessKey ID that signed the request) -------------------

    def AssumeRole(self, params: dict[str, str], caller: str) -> dict:
        arn = required(params, "RoleArn")
        session_name = required(params, "RoleSessionName")
        duration = as_int(params, "DurationSeconds", 3600)
        if not _ROLE_ARN.match(arn):
            raise invalid("RoleArn", "it is not a role ARN.")
        if not _SESSION_NAME.match(session_name):
            raise invalid("RoleSessionName", "2 to 64 letters, digits, '.', '@', '-' or '_'.")
        if not 900 <= duration <= 43200:
            raise invalid("DurationSeconds", "must be between 900 and 43200.")
        with self.lock:
            if arn.lower() not in self.roles:
                raise ApiError(404, "EntityNotExist.Role", f"The role not exists: {arn}.")
            trusted = self.roles[arn.lower()]
            if self.sessions.get(caller) is not None or (
                trusted is not None and caller not in trusted
            ):
                raise ApiError(
                    403,
                    "NoPermission",
                    "You are not authorized to do this action. You should be authorized by RAM.",
                )
            lifetime = self.lifetime if self.lifetime is not None else duration
            expires = time.time() + lifetime
            key = "STS.NT" + secrets.token_hex(12)
            session = Session(
                secret=secrets.token_urlsafe(30),
                token="CAIS" + secrets.token_urlsafe(96),
                expires=expires,
                role_arn=arn,
                source_key=caller,
            )
            if len(self.sessions) >= MAX_SESSIONS:
                oldest = min(self.sessions, key=lambda k: self.sessions[k].expires)
                del self.sessions[oldest]
            self.sessions[key] = session
        role_name = _ROLE_ARN.match(arn).group(2)
        expiration = dt.datetime.fromtimestamp(int(expires), dt.UTC)
        return {
            "AssumedRoleUser": {
                "Arn": f"acs:ram::{self.account_id}:role/{role_name}/{session_name}",
                "AssumedRoleId": f"3{abs(hash(arn)) % 10**17:017d}:{session_name}",
            },
            "Credentials": {
                "AccessKeyId": key,
                "AccessKeySecret": session.secret,
                "SecurityToken": session.token,
                "Expiration": expiration.strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
        }

    def GetCallerIdentity(self, params: dict[str, str], caller: str) -> dict:
        session = self.session_for(caller)
        if session is not None:
            return {
                "AccountId": self.account_id,
                "IdentityType": "AssumedRoleUser",
                "Arn": session.role_arn,
                "PrincipalId": caller,
            }
        return {
            "AccountId": self.account_id,
            "IdentityType": "RAMUser",
            "Arn": f"acs:ram::{self.account_id}:user/{caller}",
            "PrincipalId": caller,
        }


ACTIONS = {"AssumeRole", "GetCallerIdentity"}
