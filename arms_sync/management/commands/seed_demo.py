"""`seed_demo`: demo accounts to click through, and the sign-ins to do it with (rules §10).

Idempotent: running it again creates nothing twice, resets the demo passwords and puts back
any demo field, policy or attachment that was changed or removed (it removes nothing). It
lives in arms_sync because it seeds all three apps; each app's part is one small function.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction

from arms_sync import services as arms_services
from arms_sync.intake import services as intake_services
from arms_sync.managed import ensure_managed
from arms_sync.models import ArmsContact, ContactGroup, NotificationPolicy
from arms_sync.services import ArmsContactRecord
from contacts.models import Contact
from contacts.services import create_contact
from ram_directory import ram_import
from ram_directory import services as ram_services
from ram_directory.management.base import OperatorCommand
from ram_directory.models import (
    DEMO_LIST_USERS_POLICY,
    DEMO_POLICY_DESCRIPTIONS,
    Account,
    Policy,
    RamUser,
)
from ram_directory.policy import LIST_USERS_DOCUMENT
from ram_directory.principal import Principal

DEFAULT_DEMO_PASSWORD = "Demo-Console-2026"
PASSWORD_ENV = "SAE_DEMO_PASSWORD"
ADMIN_USERNAME = "admin"

LIST_USERS_POLICY = DEMO_LIST_USERS_POLICY
LIST_USERS_POLICY_DESCRIPTION = DEMO_POLICY_DESCRIPTIONS[DEMO_LIST_USERS_POLICY]
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
    "": "no ram:ListUsers: only itself as a contact",
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

    ram_import.import_ram_users(
        account=account,
        records=[
            ram_import.RamUserRecord(
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
# Each SAE contact is created once, through contacts.services, so rules §5's linking runs as in
# the console; the ARMS side goes through arms_sync.services (the import upserts by ContactId).
# A step that breaks a link on purpose (the "Not linked" contact, the ARMS-side phone change)
# runs only right after that contact's creation, so running seed_demo again removes nothing.

DEMO_ARMS_CONTACTS = (
    # rules §5 case 2: bob's contact links to this one, and it is renamed "bob".
    ArmsContactRecord(name="Bob (on-call pager)", contact_id=900001, phone="+8613922223333"),
    # The merge candidate: carol has no contact yet; Merge Contacts creates hers and links it.
    ArmsContactRecord(name="Carol Z (ARMS)", contact_id=900002, phone="+8613733334444"),
    # An ARMS-only contact, in an ordinary group routed by an ordinary policy.
    ArmsContactRecord(
        name="NOC duty phone",
        contact_id=900003,
        phone="+8613600009999",
        email="noc@demo.example.com",
    ),
)
NIGHT_SHIFT_GROUP = "night-shift"
DB_ALERTS_POLICY = "db-alerts"
# The owner's ARMS contact gets this phone "on the ARMS side", for rules §5 case 3.
OWNER_ARMS_SIDE_PHONE = "+8613600002222"

DEMO_CONTACT_NOTES = [
    {
        "case": "rules §5 case 1: no ARMS contact had the phone",
        "contact": "alice 13811112222",
        "arms": "a new ARMS contact 'alice' was created and linked",
    },
    {
        "case": "rules §5 case 2: a free ARMS contact had the phone",
        "contact": "bob 13922223333",
        "arms": "'Bob (on-call pager)' was linked and renamed 'bob'",
    },
    {
        "case": "rules §5 case 3: an ARMS contact linked to another contact has the phone",
        "contact": "owner@demo.example.com 13600001111",
        "arms": "its ARMS contact's phone was changed on the ARMS side to 13600002222: "
        "creating a contact with 13600002222 is refused (reconcile_arms reports the drift)",
    },
    {
        "case": "Not linked",
        "contact": "dave 13500006666",
        "arms": "its ARMS contact was deleted on the ARMS side; Merge Contacts repairs it",
    },
    {
        "case": "Merge candidate",
        "contact": "carol (no contact yet; RAM phone 86-13733334444)",
        "arms": "Merge Contacts creates her contact and links 'Carol Z (ARMS)'",
    },
    {
        "case": "Skipped by Merge Contacts",
        "contact": "erin (no contact; Hong Kong mobile 852-51234567 in RAM)",
        "arms": "no mainland mobile phone",
    },
]


def _ensure_contact(principal: Principal, ram_user: RamUser | None, **fields: str):
    """The contact of `ram_user` (None: the account itself), created if missing; and whether
    it was created now."""
    existing = Contact.objects.for_account(principal.account).filter(ram_user=ram_user).first()
    if existing is not None:
        return existing, False
    return create_contact(principal=principal, ram_user=ram_user, **fields), True


def seed_arms_side(account: Account) -> None:
    """ARMS contacts, the `sae:` objects and an ordinary group and policy."""
    ensure_managed(account)
    arms_services.import_arms_contacts(account=account, records=list(DEMO_ARMS_CONTACTS))
    noc = ArmsContact.objects.get(account=account, contact_id=900003)
    group = ContactGroup.objects.for_account(account).filter(name=NIGHT_SHIFT_GROUP).first()
    if group is None:
        group = ContactGroup(
            account=account, name=NIGHT_SHIFT_GROUP, description="Night on-call rotation."
        )
        arms_services.save_group(group=group, members=[noc])
    policy = NotificationPolicy.objects.for_account(account).filter(name=DB_ALERTS_POLICY).first()
    if policy is None:
        policy = NotificationPolicy(account=account, name=DB_ALERTS_POLICY)
        policy.match_labels = {"team": "db"}
        arms_services.save_policy(policy=policy, groups=[group])


def seed_contacts(account: Account) -> None:
    """SAE contacts showing rules §5's three linking cases, a Not-linked contact and a merge
    candidate (see DEMO_CONTACT_NOTES)."""
    owner = Principal(account)
    users = {u.user_name: u for u in RamUser.objects.for_account(account).select_related("account")}
    _ensure_contact(owner, users["alice"], phone="13811112222", mailbox="alice@demo.example.com")
    _ensure_contact(owner, users["bob"], phone="13922223333", mailbox="bob@demo.example.com")
    itself, created = _ensure_contact(owner, None, phone="13600001111")
    if created:
        arms = ArmsContact.objects.get(sae_contact=itself)
        arms.phone = OWNER_ARMS_SIDE_PHONE
        arms_services.save_arms_contact(arms_contact=arms)
    dave, created = _ensure_contact(
        owner, users["dave"], phone="13500006666", mailbox="dave@demo.example.com"
    )
    if created:
        arms_services.delete_arms_contact(
            arms_contact=ArmsContact.objects.get(sae_contact=dave), confirm_break=True
        )


def seed_other_contacts(account: Account) -> None:
    users = {u.user_name: u for u in RamUser.objects.for_account(account)}
    _ensure_contact(Principal(account), users["alice"], phone="13544445555")


class Command(OperatorCommand):
    help = (
        "Load demo data: account 1234567890123456 (owner@demo.example.com, alias demo) with "
        "five RAM users, the seed's SAEContactListUsers policy, SAE contacts and ARMS contacts "
        "showing each linking case (plus a Not-linked contact and a merge candidate), a "
        "second account to show isolation, and a platform superuser 'admin'. Safe to run "
        "again. Every sign-in uses "
        f"the demo password, {DEFAULT_DEMO_PASSWORD!r} unless ${PASSWORD_ENV} is set."
    )
    reports = True

    @transaction.atomic
    def seed(self, password: str) -> dict[str, Any]:
        demo, demo_sign_ins = seed_ram(DEMO, password=password)
        other, other_sign_ins = seed_ram(OTHER, password=password)
        admin = seed_admin(password=password)
        seed_arms_side(demo)
        seed_contacts(demo)
        seed_other_contacts(other)
        # A fresh intake token each run (only its hash is kept), so the demo can take alerts.
        token = intake_services.rotate_token(account=demo, created_by="seed_demo")
        return {
            "intake_token": token,
            "accounts": [
                {"account_id": a.account_id, "login_name": a.login_name, "alias": a.alias}
                for a in (demo, other)
            ],
            "sign_ins": [vars(s) for s in (*demo_sign_ins, *other_sign_ins, admin)],
            "demo_contacts": DEMO_CONTACT_NOTES,
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
        self.stdout.write("Demo contacts (account 1234567890123456):")
        for note in report["demo_contacts"]:
            self.stdout.write(f"  {note['case']}: {note['contact']} -> {note['arms']}")
        self.stdout.write(
            "Alertmanager intake token of the demo account (shown once; Enterprise Features > "
            f"Alerts > Alertmanager intake rotates it):\n  {report['intake_token']}\n"
            "Post a sample alert (the demo contacts are notified by email; with make run the "
            f"emails are files in {settings.DEMO_MAIL_DIR}):\n"
            f"  curl -X POST {intake_services.endpoint_url()} "
            f"-H 'Authorization: Bearer {report['intake_token']}' "
            "-H 'Content-Type: application/json' "
            '-d \'{"status":"firing","alerts":[{"status":"firing",'
            '"labels":{"alertname":"HighCPU","severity":"critical"},'
            '"annotations":{"summary":"CPU above 90%"}}]}\''
        )
