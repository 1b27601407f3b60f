"""`seed_demo`: demo accounts to click through, and the sign-ins to do it with (SPEC 10).

Idempotent: running it again creates nothing twice, resets the demo passwords and puts back
any demo field, policy or attachment that was changed or removed (it removes nothing). It
lives in arms_sync because it seeds all three apps; each app's part is one small function.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from ram_directory import services as ram_services
from ram_directory.management.base import OperatorCommand
from ram_directory.models import Account, Policy, RamUser
from ram_directory.policy import LIST_USERS_DOCUMENT

DEFAULT_DEMO_PASSWORD = "Demo-Console-2026"
PASSWORD_ENV = "SAE_DEMO_PASSWORD"
ADMIN_USERNAME = "admin"

LIST_USERS_POLICY = "SAEContactListUsers"
LIST_USERS_POLICY_DESCRIPTION = (
    "Lets a RAM user list RAM users, so it may pick any of them as an SAE contact."
)
READ_ONLY_POLICY = "AliyunRAMReadOnlyAccess"


@dataclass(frozen=True)
class DemoUser:
    user_name: str
    display_name: str
    mobile_phone: str
    email: str
    comments: str
    policies: tuple[str, ...] = ()


@dataclass(frozen=True)
class DemoAccount:
    account_id: str
    login_name: str
    alias: str
    users: tuple[DemoUser, ...]
    custom_policies: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)


DEMO = DemoAccount(
    account_id="1234567890123456",
    login_name="owner@demo.example.com",
    alias="demo",
    custom_policies={LIST_USERS_POLICY: (LIST_USERS_POLICY_DESCRIPTION, LIST_USERS_DOCUMENT)},
    users=(
        DemoUser(
            "alice",
            "Alice Wang",
            "86-13811112222",
            "alice@demo.example.com",
            "SRE lead; holds the seed's ListUsers policy.",
            (LIST_USERS_POLICY,),
        ),
        DemoUser(
            "bob",
            "Bob Li",
            "86-13922223333",
            "bob@demo.example.com",
            "Reads the RAM directory.",
            (READ_ONLY_POLICY,),
        ),
        DemoUser(
            "carol",
            "Carol Zhang",
            "86-13733334444",
            "carol@demo.example.com",
            "Developer without ram:ListUsers.",
        ),
        DemoUser("dave", "Dave Chen", "", "dave@demo.example.com", "No mobile phone on file."),
        DemoUser(
            "erin",
            "Erin Ho",
            "852-51234567",
            "erin@demo.example.com",
            "Hong Kong mobile: not a mainland number.",
        ),
    ),
)

# A second tenant, so the demo shows that accounts never see each other's rows.
OTHER = DemoAccount(
    account_id="6543210987654321",
    login_name="owner@other.example.com",
    alias="other",
    users=(
        DemoUser(
            "alice",
            "Alice (other account)",
            "86-13544445555",
            "alice@other.example.com",
            "Same user name as in the demo account, different tenant.",
        ),
    ),
)

CAN_DO = {
    "owner": "account owner: every contact, Merge Contacts, RAM users and policies",
    LIST_USERS_POLICY: (
        "ram:ListUsers: picks any RAM user as a contact, sees all contacts, may merge"
    ),
    READ_ONLY_POLICY: "ram:Get*/List*: picks any RAM user as a contact, sees all contacts",
    "": "no ram:ListUsers: only itself as a contact; may request the permission",
}


@dataclass
class SignIn:
    login: str
    password: str
    account_id: str | None
    can: str


def seed_ram(spec: DemoAccount, *, password: str) -> tuple[Account, list[SignIn]]:
    """The account, its RAM users (console passwords set), custom policies and attachments."""
    account = Account.objects.filter(account_id=spec.account_id).first()
    if account is None:
        account = ram_services.create_account(
            account_id=spec.account_id,
            login_name=spec.login_name,
            alias=spec.alias,
            password=password,
        )
    else:
        ram_services.ensure_system_policies(account=account)
        ram_services.set_owner_password(account=account, password=password)

    ram_services.import_ram_users(
        account=account,
        records=[
            ram_services.RamUserRecord(
                user_name=u.user_name,
                display_name=u.display_name,
                mobile_phone=u.mobile_phone,
                email=u.email,
                comments=u.comments,
            )
            for u in spec.users
        ],
        password=password,
    )

    for name, (description, document) in spec.custom_policies.items():
        policy = Policy.objects.for_account(account).filter(name=name).first()
        if policy is None:
            ram_services.create_policy(
                account=account, name=name, document=document, description=description
            )
        elif policy.document != document or policy.description != description:
            ram_services.update_policy(policy=policy, document=document, description=description)

    sign_ins = [SignIn(account.login_name, password, account.account_id, CAN_DO["owner"])]
    users = {u.user_name: u for u in RamUser.objects.for_account(account).select_related("account")}
    for spec_user in spec.users:
        ram_user = users[spec_user.user_name]
        held = set(ram_user.policies.values_list("name", flat=True))
        for policy_name in spec_user.policies:
            if policy_name not in held:
                ram_services.attach_policy(
                    ram_user=ram_user,
                    policy=Policy.objects.for_account(account).get(name=policy_name),
                )
        can = CAN_DO[spec_user.policies[0] if spec_user.policies else ""]
        if not spec_user.mobile_phone:
            can += " (no mobile phone)"
        elif not spec_user.mobile_phone.startswith("86-"):
            can += " (Hong Kong mobile, refused as a contact phone)"
        sign_ins.append(SignIn(ram_user.upn.lower(), password, account.account_id, can))
    return account, sign_ins


def seed_admin(*, password: str) -> SignIn:
    ram_services.ensure_platform_superuser(username=ADMIN_USERNAME, password=password)
    return SignIn(ADMIN_USERNAME, password, None, "platform operator: Django admin at /admin/")


# --- SAE contacts and ARMS contacts --------------------------------------------------------
# Seeding of the contacts and arms_sync apps goes here, as functions like seed_ram above
# (e.g. `seed_contacts(account) -> dict` through contacts.services, and ARMS contacts through
# arms_sync's services), called from Command.seed() below, after seed_ram, with their summary
# added to the report.


class Command(OperatorCommand):
    help = (
        "Load demo data: account 1234567890123456 (owner@demo.example.com, alias demo) with "
        "five RAM users, the seed's SAEContactListUsers policy, a second account to show "
        "isolation, and a platform superuser 'admin'. Safe to run again. Every sign-in uses "
        f"the demo password, {DEFAULT_DEMO_PASSWORD!r} unless ${PASSWORD_ENV} is set."
    )
    reports = True

    @transaction.atomic
    def seed(self, password: str) -> dict[str, Any]:
        demo, demo_sign_ins = seed_ram(DEMO, password=password)
        other, other_sign_ins = seed_ram(OTHER, password=password)
        admin = seed_admin(password=password)
        # seed_contacts(demo) and the ARMS side are called here (see the marked section above).
        return {
            "accounts": [
                {"account_id": a.account_id, "login_name": a.login_name, "alias": a.alias}
                for a in (demo, other)
            ],
            "sign_ins": [vars(s) for s in (*demo_sign_ins, *other_sign_ins, admin)],
        }

    def handle(self, *args: Any, **options: Any) -> None:
        password = os.environ.get(PASSWORD_ENV) or DEFAULT_DEMO_PASSWORD
        report = self.seed(password)
        if options["as_json"]:
            self.print_json(report)
            return
        self.stdout.write(self.style.SUCCESS("Demo data is ready. Sign in at /signin/ with:"))
        width = max(len(s["login"]) for s in report["sign_ins"])
        for s in report["sign_ins"]:
            self.stdout.write(f"  {s['login']:<{width}}  {s['password']}  {s['can']}")
        self.stdout.write(
            "RAM users sign in as user_name@<alias>.onaliyun.com; the admin site is /admin/."
        )
