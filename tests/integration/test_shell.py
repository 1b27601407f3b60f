"""The console shell: sign-in by login name or UPN, navigation, CSP (rules §1)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_owner_signs_in_with_login_name_in_any_case(client, account):
    response = client.post(
        reverse("signin"), {"username": account.login_name.upper(), "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.wsgi_request.user.account == account


def test_ram_user_signs_in_with_upn(client, ram_user):
    upn = f"alice@{ram_user.account.alias}.onaliyun.com"
    response = client.post(reverse("signin"), {"username": upn, "password": PASSWORD})
    assert response.status_code == 302
    assert response.wsgi_request.user.ram_user == ram_user


def test_wrong_password_is_refused(client, account):
    response = client.post(reverse("signin"), {"username": account.login_name, "password": "x"})
    assert response.status_code == 200
    assert "Enter a correct login name and password." in response.text


@pytest.mark.parametrize(
    "name",
    [
        "contacts:list",
        "ram:user_list",
        "ram:policy_list",
        "arms:contact_list",
        "arms:group_list",
        "arms:policy_list",
    ],
)
def test_every_navigation_link_answers(owner_client, name):
    response = owner_client.get(reverse(name))
    assert response.status_code == 200
    assert "Content-Security-Policy" in response.headers


def test_console_requires_sign_in(client, db):
    response = client.get(reverse("contacts:list"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("signin"))
