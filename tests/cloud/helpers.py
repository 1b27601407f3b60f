"""What the cloud tests share: an account connected to the fake (saved directly, as
cloud_connect would after its check), and New Contact as the service makes it."""

from __future__ import annotations

from aliyun.models import CloudConnection
from contacts import services as contact_services
from ram_directory.principal import Principal
from tests.cloud.conftest import CLOUD_AK_ID, CLOUD_AK_SECRET


def connect(account, fake) -> CloudConnection:
    return CloudConnection.objects.create(
        account=account,
        access_key_id=CLOUD_AK_ID,
        access_key_secret=CLOUD_AK_SECRET,
        ram_endpoint=fake.endpoint,
        arms_endpoint=fake.endpoint,
        protocol="http",
    )


def new_contact(account, ram_user, phone, mailbox=""):
    return contact_services.create_contact(
        principal=Principal(account), ram_user=ram_user, phone=phone, mailbox=mailbox
    )


def arms_phones(fake) -> dict[str, dict]:
    """The fake ARMS's contacts by phone (as ARMS writes it: 138...)."""
    return {c["Phone"]: c for c in fake.arms.contacts.values()}
