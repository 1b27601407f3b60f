"""factory_boy factories for every model; tests build their data with these."""

from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from arms_sync.models import ArmsContact, ContactGroup, NotificationPolicy
from contacts import services as contact_services
from contacts.models import Contact
from ram_directory import services as ram_services
from ram_directory.models import Account, Policy, RamUser, User
from ram_directory.policy import LIST_USERS_DOCUMENT
from ram_directory.principal import Principal

PASSWORD = "correct-horse-battery-staple"


class AccountFactory(DjangoModelFactory):
    """An account with its owner sign-in (password PASSWORD) and the system policies."""

    class Meta:
        model = Account

    account_id = factory.Sequence(lambda n: f"{1000000000000000 + n:016d}")
    login_name = factory.Sequence(lambda n: f"owner{n}@example.com")
    alias = factory.Sequence(lambda n: f"corp{n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return ram_services.create_account(password=PASSWORD, **kwargs)


class RamUserFactory(DjangoModelFactory):
    class Meta:
        model = RamUser
        skip_postgeneration_save = True

    account = factory.SubFactory(AccountFactory)
    user_id = factory.Sequence(lambda n: f"{200000000000000000 + n}")
    user_name = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.LazyAttribute(lambda o: o.user_name.title())
    mobile_phone = factory.Sequence(lambda n: f"86-139{n:08d}")
    email = factory.LazyAttribute(lambda o: f"{o.user_name}@example.com")

    @factory.post_generation
    def sign_in(obj, create, extracted, **kwargs):
        """Give every RAM user a console sign-in (its UPN, password PASSWORD)."""
        if create and extracted is not False:
            ram_services.set_console_password(ram_user=obj, password=PASSWORD)


class PolicyFactory(DjangoModelFactory):
    class Meta:
        model = Policy

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"CustomPolicy{n}")
    policy_type = Policy.PolicyType.CUSTOM
    description = "A custom policy"
    document = factory.LazyFunction(lambda: dict(LIST_USERS_DOCUMENT))


def owner_of(account: Account) -> User:
    return User.objects.get(account=account, ram_user__isnull=True)


class ContactFactory(DjangoModelFactory):
    """A contact saved directly (no services): for reads. Writes under test use services."""

    class Meta:
        model = Contact

    account = factory.SubFactory(AccountFactory)
    ram_user = factory.SubFactory(RamUserFactory, account=factory.SelfAttribute("..account"))
    phone = factory.Sequence(lambda n: f"+86138{n:08d}")
    mailbox = factory.LazyAttribute(
        lambda o: f"{o.ram_user.user_name}@example.com" if o.ram_user else "owner@example.com"
    )


def owners_contact(account: Account, *, phone: str, **fields) -> Contact:
    """The account owner's own contact (no RAM user), made by the owner through the service, so
    it is linked to ARMS and notified like any contact a person would create."""
    return contact_services.create_contact(
        principal=Principal(account), ram_user=None, phone=phone, **fields
    )


class ArmsContactFactory(DjangoModelFactory):
    class Meta:
        model = ArmsContact

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"oncall-{n}")
    phone = factory.Sequence(lambda n: f"+86137{n:08d}")
    email = factory.LazyAttribute(lambda o: f"{o.name}@alerts.example.com")


class ContactGroupFactory(DjangoModelFactory):
    class Meta:
        model = ContactGroup

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"group-{n}")


class NotificationPolicyFactory(DjangoModelFactory):
    class Meta:
        model = NotificationPolicy

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"policy-{n}")
