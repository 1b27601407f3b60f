"""Sign-in throttling with django-axes (rules §1 sign-in; rules §10 operator surface).

Axes is off in the test settings (tests sign in hundreds of times); these tests switch it on.
After AXES_FAILURE_LIMIT (5) failures for one sign-in name from one address, even the right
password is refused with the locked-out page (HTTP 429) until the cool-off ends.
"""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.test import override_settings
from django.urls import reverse

from tests.factories import PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("axes_on")]

LOCKED_OUT_TEXT = "Too many failed sign-ins"
WRONG = "not-the-password"


@pytest.fixture
def axes_on(settings):
    with override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=5):
        yield


def sign_in(client, username: str, password: str, address: str = "203.0.113.7"):
    return client.post(
        reverse("signin"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def fail_times(client, username: str, times: int, address: str = "203.0.113.7") -> list[int]:
    return [sign_in(client, username, WRONG, address).status_code for _ in range(times)]


def test_five_failures_then_the_right_password_is_refused_with_the_locked_out_page(client, account):
    statuses = fail_times(client, account.login_name, 4)
    assert statuses == [200, 200, 200, 200]  # the form again, with its error

    fifth = sign_in(client, account.login_name, WRONG)
    assert fifth.status_code == 429

    right = sign_in(client, account.login_name, PASSWORD)
    assert right.status_code == 429
    assert LOCKED_OUT_TEXT in right.text
    assert "_auth_user_id" not in client.session
    # The locked-out page is ours (base layout, CSP), not axes' plain text.
    assert "Content-Security-Policy" in right.headers


def test_ram_user_signing_in_with_its_upn_is_locked_out_too(client, ram_user):
    upn = ram_user.upn
    fail_times(client, upn, 5)
    response = sign_in(client, upn, PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_changing_the_case_of_the_sign_in_name_does_not_dodge_the_lock(client, account):
    """Sign-in names match without regard to case, so the failure count does as well."""
    fail_times(client, account.login_name.lower(), 5)
    response = sign_in(client, account.login_name.upper(), PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_lock_is_per_sign_in_name_and_address(client, account, other_account):
    fail_times(client, account.login_name, 5)

    other_user = sign_in(client, other_account.login_name, PASSWORD)
    assert other_user.status_code == 302
    client.logout()
    same_user_elsewhere = sign_in(client, account.login_name, PASSWORD, address="198.51.100.9")
    assert same_user_elsewhere.status_code == 302


def test_success_before_the_limit_resets_the_count(client, account):
    fail_times(client, account.login_name, 4)
    assert sign_in(client, account.login_name, PASSWORD).status_code == 302
    client.logout()
    fail_times(client, account.login_name, 4)
    assert sign_in(client, account.login_name, PASSWORD).status_code == 302


def test_failures_are_recorded_without_the_password(client, account):
    fail_times(client, account.login_name, 2)
    attempt = AccessAttempt.objects.get()
    assert attempt.failures_since_start == 2
    assert WRONG not in attempt.post_data


PROXY = "10.0.0.2"


def sign_in_via_proxy(client, username: str, password: str, forwarded_for: str):
    return client.post(
        reverse("signin"),
        {"username": username, "password": password},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=forwarded_for,
    )


@override_settings(SAE_TRUSTED_PROXY_COUNT=1)
def test_behind_a_proxy_one_attackers_failures_do_not_lock_out_another_client(client, account):
    """Behind a proxy every request comes from the proxy: the client is the address the proxy
    saw, so an attacker cannot lock the owner out for everybody by failing from elsewhere."""
    for _ in range(5):
        sign_in_via_proxy(client, account.login_name, WRONG, "198.51.100.9")
    assert (
        sign_in_via_proxy(client, account.login_name, PASSWORD, "198.51.100.9").status_code == 429
    )
    owner = sign_in_via_proxy(client, account.login_name, PASSWORD, "203.0.113.50")
    assert owner.status_code == 302


@override_settings(SAE_TRUSTED_PROXY_COUNT=1)
def test_a_forged_forwarded_for_entry_does_not_dodge_the_lockout(client, account):
    """Entries left of the trusted proxy's are the client's to write: varying them changes
    nothing, the address the proxy appended is the one counted."""
    for n in range(5):
        sign_in_via_proxy(client, account.login_name, WRONG, f"192.0.2.{n}, 198.51.100.9")
    locked = sign_in_via_proxy(client, account.login_name, PASSWORD, "192.0.2.77, 198.51.100.9")
    assert locked.status_code == 429
