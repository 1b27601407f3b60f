from __future__ import annotations

import os

import pytest
from django.utils import translation

from ram_directory import services as ram_services
from ram_directory.models import RamUser
from ram_directory.principal import Principal
from tests.factories import PASSWORD, AccountFactory, RamUserFactory, owner_of

# pytest-django's live_server runs in a thread next to Playwright's sync API.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _no_language_left_over():
    """A request in another language leaves that language active in the thread (Django's
    LocaleMiddleware activates it and does not undo it): every test starts in the default, so
    none depends on the one run before it."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture
def account(db):
    return AccountFactory()


@pytest.fixture
def other_account(db):
    return AccountFactory()


@pytest.fixture
def owner(account):
    return owner_of(account)


@pytest.fixture
def owner_principal(account):
    return Principal(account)


@pytest.fixture
def ram_user(account):
    return RamUserFactory(account=account, user_name="alice")


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def operator_client(client, db):
    """A platform operator signed in: a superuser with no account (the Django admin's user)."""
    client.force_login(
        ram_services.ensure_platform_superuser(username="operator", password="pw-operator-123")
    )
    return client


@pytest.fixture
def sign_in(client):
    """sign_in(user_or_ram_user) -> the test client, signed in as that principal."""

    def _sign_in(who):
        user = who.sign_in if isinstance(who, RamUser) else who
        client.force_login(user)
        return client

    return _sign_in


@pytest.fixture
def password():
    return PASSWORD
