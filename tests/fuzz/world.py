"""The data the fuzz suite attacks: two accounts with one of everything, and who signs in.

Account A holds the owner, a RAM user allowed ram:ListUsers (alice), one allowed nothing
(carol), a read-only one (bob), custom policies (one attached, one spare), contacts of each,
an unlinked ARMS contact, a contact group and notification policy of its own beside the `sae:`
ones, an intake token, received alerts with their deliveries (one failed, for Resend) and a
pending permission request. Account B holds the same kinds of objects, so that every URL can
be tried with another account's IDs. The platform operator has no account.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.test import Client

from arms_sync import services as arms_services
from arms_sync.intake import services as intake_services
from arms_sync.intake.payload import parse
from arms_sync.managed import ensure_managed
from arms_sync.models import ArmsContact, ContactGroup, NotificationPolicy
from arms_sync.notify.models import Delivery
from contacts import services as contact_services
from ram_directory import approvals
from ram_directory import services as ram_services
from ram_directory.models import Account, RamUser, User
from ram_directory.policy import LIST_USERS_DOCUMENT
from ram_directory.principal import Principal
from tests.factories import AccountFactory, PolicyFactory, RamUserFactory, owner_of

# Who the suite signs in as: rules §3's three kinds of principal, another account's owner, and
# the platform operator (plus nobody).
ROLES = ("anonymous", "owner", "ram_list", "ram_plain", "other_owner", "operator")
ACCOUNT_A_ROLES = ("owner", "ram_list", "ram_plain")

ALERT_POST = (
    b'{"version": "4", "status": "firing", "receiver": "fuzz", "groupKey": "{}:{}", '
    b'"commonLabels": {"alertname": "Fuzz"}, "alerts": [{"status": "firing", '
    b'"labels": {"alertname": "Fuzz", "severity": "critical"}, '
    b'"annotations": {"summary": "fuzz"}, "startsAt": "2026-01-01T00:00:00Z"}]}'
)


@dataclass
class World:
    account: Account
    other_account: Account
    users: dict[str, User]  # role -> sign-in (no entry for anonymous)
    tokens: dict[str, str]  # account_id -> intake token
    clients: dict[str, Client] = field(default_factory=dict)


def _account(suffix: str, *, list_user: str, plain_user: str, extra_user: str | None) -> Account:
    account = AccountFactory(login_name=f"fuzz-owner-{suffix}@example.com", alias=f"fuzz-{suffix}")
    owner = Principal(account)
    listing = RamUserFactory(account=account, user_name=list_user)
    plain = RamUserFactory(account=account, user_name=plain_user)
    listing_policy = PolicyFactory(
        account=account, name=f"FuzzListUsers-{suffix}", document=dict(LIST_USERS_DOCUMENT)
    )
    PolicyFactory(account=account, name=f"FuzzSpare-{suffix}", document=dict(LIST_USERS_DOCUMENT))
    ram_services.attach_policy(ram_user=listing, policy=listing_policy)
    people = [(None, "13800000001"), (listing, "13800000002"), (plain, "13800000003")]
    if extra_user:
        reader = RamUserFactory(account=account, user_name=extra_user)
        ram_services.attach_policy(
            ram_user=reader,
            policy=account.policies.get(name="AliyunRAMReadOnlyAccess"),
        )
        people.append((reader, "13800000004"))
    for ram_user, phone in people:
        # Each contact created by its own principal, so RAM users may manage their own.
        principal = owner if ram_user is None else Principal(account, ram_user)
        contact_services.create_contact(
            principal=principal,
            ram_user=ram_user,
            phone=phone,
            mailbox=f"{ram_user.user_name if ram_user else 'owner'}-{suffix}@example.com",
        )
    managed = ensure_managed(account)
    spare = ArmsContact(account=account, name=f"fuzz-oncall-{suffix}", phone="+8613900000009")
    arms_services.save_arms_contact(arms_contact=spare)
    group = ContactGroup(account=account, name=f"fuzz-group-{suffix}")
    arms_services.save_group(group=group, members=[spare])
    policy = NotificationPolicy(account=account, name=f"fuzz-policy-{suffix}")
    arms_services.save_policy(policy=policy, groups=[group, managed.contacts_group])
    approvals.request_permission(principal=Principal(account, plain), reason="fuzzing")
    return account


def build_world() -> World:
    """Create (and commit: the caller runs outside any test transaction) the world."""
    account = _account("a", list_user="alice", plain_user="carol", extra_user="bob")
    other = _account("b", list_user="dave", plain_user="erin", extra_user=None)
    tokens = {}
    for acct in (account, other):
        token = intake_services.rotate_token(account=acct, created_by="fuzz")
        intake_services.receive(account=acct, post=parse(ALERT_POST), body=ALERT_POST)
        tokens[acct.account_id] = token
        # One failed delivery per account: the Resend button's object.
        first = Delivery.objects.filter(account=acct).order_by("id").first()
        if first is not None:
            Delivery.objects.filter(pk=first.pk).update(status=Delivery.Status.FAILED)
    operator = ram_services.ensure_platform_superuser(
        username="fuzz-operator", password="fuzz-operator-password"
    )
    users = {
        "owner": owner_of(account),
        "ram_list": RamUser.objects.get(account=account, user_name="alice").sign_in,
        "ram_plain": RamUser.objects.get(account=account, user_name="carol").sign_in,
        "other_owner": owner_of(other),
        "operator": operator,
    }
    world = World(account=account, other_account=other, users=users, tokens=tokens)
    for role in ROLES:
        client = Client(raise_request_exception=False)
        if role in users:
            client.force_login(users[role])
        world.clients[role] = client
    return world
