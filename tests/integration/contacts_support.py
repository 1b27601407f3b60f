"""Shared set-up for the contacts tests: principals per row of rules §3's table, valid inputs."""

from __future__ import annotations

from arms_sync.models import ArmsContact
from contacts import services
from contacts.models import Contact
from ram_directory import services as ram_services
from ram_directory.models import Account, RamUser
from ram_directory.principal import Principal
from tests.factories import PolicyFactory, RamUserFactory

DINGTALK_TOKEN = "3f2a" + "0" * 56 + "9c1d"
WECOM_KEY = "693a91f6-7aaa-4bc4-97a0-0ec2fafa5aaa"
DINGTALK_URL = f"https://oapi.dingtalk.com/robot/send?access_token={DINGTALK_TOKEN}"
WECOM_URL = f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={WECOM_KEY}"
DINGTALK_SECRET = "SEC" + "a1b2c3d4" * 8
# Both robots, the DingTalk one with its signing secret, as create_contact takes them.
EVERY_ROBOT = {
    "dingtalk_webhook": DINGTALK_URL,
    "dingtalk_secret": DINGTALK_SECRET,
    "wecom_webhook": WECOM_URL,
}


def full_width(text: str) -> str:
    """The same text in full-width characters, as a Chinese input method types it."""
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)


# One mainland mobile, +8613811112222, in every spelling rules §4 accepts for it.
ONE_MOBILE_TYPED = [
    "13811112222",
    "+86 138 1111 2222",
    "+8613811112222",
    "86-13811112222",
    "008613811112222",
    "(+86)13811112222",
    "138-1111-2222",
    "+86-138-1111-2222",
    "0086 138 1111 2222",
    " 138 1111 2222 ",
    " 13811112222 ",
    full_width("13811112222"),
    full_width("+86 138 1111 2222"),
]


def mobile(n: int) -> str:
    """A valid mainland mobile in E.164, distinct from the factories' 137/138/139 ranges."""
    return f"+86136{n:08d}"


def grant_list_users(ram_user: RamUser) -> RamUser:
    """Attach a custom policy allowing ram:ListUsers and ram:GetUser (seed step 1)."""
    policy = PolicyFactory(account=ram_user.account)
    ram_services.attach_policy(ram_user=ram_user, policy=policy)
    return ram_user


def ram_user_named(account: Account, name: str, *, list_users: bool = False) -> RamUser:
    user = RamUserFactory(account=account, user_name=name)
    return grant_list_users(user) if list_users else user


def principal_of(account: Account, ram_user: RamUser | None = None) -> Principal:
    return Principal(account, ram_user)


def contact_of_new_user(account: Account, user_name: str, *, phone: str, **fields) -> Contact:
    """The contact of a new RAM user `user_name`, created by the account's owner."""
    return services.create_contact(
        principal=principal_of(account),
        ram_user=ram_user_named(account, user_name),
        phone=phone,
        **fields,
    )


def alice_with_every_channel(account: Account) -> Contact:
    """alice's contact (phone mobile(1)) with a mailbox, a DingTalk robot with its secret and a
    WeCom robot."""
    return contact_of_new_user(
        account,
        "alice",
        phone=mobile(1),
        mailbox="alice@example.com",
        **EVERY_ROBOT,
    )


def contacts_of_new_users(
    account: Account, how_many: int, *, prefix: str = "filler", start: int = 0
) -> list[Contact]:
    """`how_many` contacts the owner creates, each for a new RAM user named `prefix` and its
    number (from `start`), each with its own phone."""
    return [
        contact_of_new_user(account, f"{prefix}{start + i:03d}", phone=mobile(start + i))
        for i in range(how_many)
    ]


def counts(account: Account) -> tuple[int, int]:
    """(SAE contacts, ARMS contacts) of the account: "nothing saved" compares these."""
    return (
        Contact.objects.filter(account=account).count(),
        ArmsContact.objects.filter(account=account).count(),
    )


def new_contact_post(**overrides) -> dict[str, str]:
    data = {
        "username_kind": "ram_user",
        "username": "",
        "ram_user": "",
        "phone": "",
        "mailbox": "",
        "dingtalk_webhook": "",
        "dingtalk_secret": "",
        "wecom_webhook": "",
    }
    data.update({k: str(v) for k, v in overrides.items()})
    return data
