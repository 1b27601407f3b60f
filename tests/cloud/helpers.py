"""What the cloud tests share: an account connected to the fake (saved directly, as
cloud_connect would after its check), what cloud_connect's check reports when every call
passes, and New Contact as the service makes it."""

from __future__ import annotations

from aliyun.models import CloudConnection
from contacts import services as contact_services
from ram_directory.principal import Principal
from tests.cloud.conftest import CLOUD_AK_ID, CLOUD_AK_SECRET


def fields(fake, **changes) -> dict[str, str]:
    """A connection's settings pointing at the fake, as the form and connect() take them."""
    return {
        "access_key_id": CLOUD_AK_ID,
        "access_key_secret": CLOUD_AK_SECRET,
        "region": "cn-hangzhou",
        "ram_endpoint": fake.endpoint,
        "arms_endpoint": fake.endpoint,
        "sts_endpoint": fake.endpoint,
        "protocol": "http",
        **changes,
    }


def connect_args(account, fake, *extra: str, secret_env="SAE_TEST_CLOUD_SECRET") -> list[str]:
    """cloud_connect's arguments for the fake (the secret read from `secret_env`)."""
    return [
        "cloud_connect",
        account.account_id,
        "--access-key-id",
        CLOUD_AK_ID,
        "--secret-env",
        secret_env,
        *("--ram-endpoint", fake.endpoint, "--arms-endpoint", fake.endpoint),
        *("--sts-endpoint", fake.endpoint, "--protocol", "http"),
        *extra,
    ]


# What a connect's check calls, in order, when every call answers (rules §14); through a RAM
# role an STS AssumeRole comes first.
EVERY_CHECK_PASSED = [
    ("RAM", "ListUsers", True),
    ("RAM", "GetUser", True),
    ("ARMS", "DescribeContacts", True),
    ("STS", "GetCallerIdentity", True),
]


def checks_of(report: dict) -> list[tuple[str, str, bool]]:
    """(API, action, passed) of each call in cloud_connect's --json report."""
    return [(c["api"], c["action"], c["ok"]) for c in report["checks"]]


def connect(account, fake) -> CloudConnection:
    """Saved directly, as cloud_connect would after its check."""
    return CloudConnection.objects.create(account=account, **fields(fake))


def new_contact(account, ram_user, phone, mailbox=""):
    return contact_services.create_contact(
        principal=Principal(account), ram_user=ram_user, phone=phone, mailbox=mailbox
    )


def arms_phones(fake) -> dict[str, dict]:
    """The fake ARMS's contacts by phone (as ARMS writes it: 138...)."""
    return {c["Phone"]: c for c in fake.arms.contacts.values()}
