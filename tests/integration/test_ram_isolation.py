"""rules §1: an ID from another account answers 404, exactly as an ID that does not exist.

Every RAM URL that takes an ID is asked, with GET and POST, by principals of account A (the
owner, a RAM user allowed everything, a RAM user allowed nothing) with IDs of account B; the
answer must be the same 404 as for an ID that exists nowhere, and nothing in B changes.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from ram_directory import services
from ram_directory.models import Policy, PolicyAttachment
from tests.factories import AccountFactory, PolicyFactory, RamUserFactory, owner_of
from tests.pages import comparable

pytestmark = pytest.mark.django_db

MISSING_USER_ID = "999999999999999999"
MISSING_POLICY = "NoSuchPolicy"


@pytest.fixture
def world():
    a, b = AccountFactory(), AccountFactory()
    a_admin = RamUserFactory(account=a, user_name="a-admin")
    services.attach_policy(
        ram_user=a_admin, policy=Policy.objects.get(account=a, name="AdministratorAccess")
    )
    a_nobody = RamUserFactory(account=a, user_name="a-nobody")
    a_user = RamUserFactory(account=a, user_name="a-user")
    a_policy = PolicyFactory(account=a, name="APolicy")
    b_user = RamUserFactory(account=b, user_name="b-user")
    b_policy = PolicyFactory(account=b, name="BPolicy")
    services.attach_policy(ram_user=b_user, policy=b_policy)
    return {
        "a": a,
        "b": b,
        "principals": {
            "owner": owner_of(a),
            "ram admin": a_admin.sign_in,
            "ram nobody": a_nobody.sign_in,
        },
        "a_user": a_user,
        "a_policy": a_policy,
        "b_user": b_user,
        "b_policy": b_policy,
    }


# (name, url name, args with B's IDs, args with IDs that exist nowhere, POST data)
def cases(w):
    b_user, b_policy = w["b_user"].user_id, w["b_policy"].name
    a_user = w["a_user"].user_id
    doc = '{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
    return [
        ("user detail", "ram:user_detail", [b_user], [MISSING_USER_ID], {}),
        (
            "authorize",
            "ram:user_authorize",
            [b_user],
            [MISSING_USER_ID],
            {"policies": ["AdministratorAccess"]},
        ),
        (
            "detach (B's user, B's policy)",
            "ram:user_detach",
            [b_user, b_policy],
            [MISSING_USER_ID, b_policy],
            {},
        ),
        (
            "detach (A's user, B's policy name)",
            "ram:user_detach",
            [a_user, b_policy],
            [a_user, MISSING_POLICY],
            {},
        ),
        ("policy detail", "ram:policy_detail", [b_policy], [MISSING_POLICY], {}),
        (
            "policy edit",
            "ram:policy_edit",
            [b_policy],
            [MISSING_POLICY],
            {"document": doc, "description": "hijacked"},
        ),
        ("policy delete", "ram:policy_delete", [b_policy], [MISSING_POLICY], {}),
    ]


CASE_IDS = [
    "user detail",
    "authorize",
    "detach B/B",
    "detach A/B",
    "policy detail",
    "policy edit",
    "policy delete",
]


def b_state(w):
    return (
        sorted(Policy.objects.filter(account=w["b"]).values_list("name", "description")),
        sorted(
            PolicyAttachment.objects.filter(ram_user__account=w["b"]).values_list(
                "ram_user__user_name", "policy__name"
            )
        ),
    )


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("who", ["owner", "ram admin", "ram nobody"])
@pytest.mark.parametrize("index", range(len(CASE_IDS)), ids=CASE_IDS)
def test_other_accounts_id_is_404_like_a_missing_id(client, world, index, who, method):
    """rules §1: another account's ID is 404, identical to a non-existent ID, GET and POST."""
    _name, url_name, b_args, missing_args, data = cases(world)[index]
    client.force_login(world["principals"][who])
    before = b_state(world)
    send = getattr(client, method)
    kwargs = {"data": data} if method == "post" else {}
    foreign = send(reverse(url_name, args=b_args), **kwargs)
    missing = send(reverse(url_name, args=missing_args), **kwargs)
    assert foreign.status_code == 404
    assert missing.status_code == 404
    assert comparable(foreign.content) == comparable(missing.content)
    assert b_state(world) == before


@pytest.mark.parametrize("method", ["get", "post"])
def test_htmx_requests_are_404_too(client, world, method):
    """rules §1: the htmx panel and dialog paths look up the same way (404, nothing changes)."""
    client.force_login(world["principals"]["owner"])
    headers = {"HX-Request": "true", "HX-Target": "authorize-panel"}
    b_user, b_policy = world["b_user"].user_id, world["b_policy"].name
    before = b_state(world)
    for url in (
        reverse("ram:user_authorize", args=[b_user]),
        reverse("ram:user_detach", args=[b_user, b_policy]),
    ):
        response = getattr(client, method)(url, {"policies": ["BPolicy"]}, headers=headers)
        assert response.status_code == 404
    assert b_state(world) == before


def test_own_account_ids_are_found(client, world):
    """The control: the same URLs with the principal's own IDs answer (the 404 is specific)."""
    client.force_login(world["principals"]["owner"])
    a_user, a_policy = world["a_user"].user_id, world["a_policy"].name
    for url in (
        reverse("ram:user_detail", args=[a_user]),
        reverse("ram:user_authorize", args=[a_user]),
        reverse("ram:policy_detail", args=[a_policy]),
        reverse("ram:policy_edit", args=[a_policy]),
        reverse("ram:policy_delete", args=[a_policy]),
    ):
        assert client.get(url).status_code == 200, url


def test_lists_never_show_the_other_account(client, world):
    """rules §1: the lists show only the principal's account."""
    client.force_login(world["principals"]["owner"])
    users = client.get(reverse("ram:user_list")).text
    policies = client.get(reverse("ram:policy_list")).text
    assert "b-user" not in users and world["b_user"].user_id not in users
    assert "BPolicy" not in policies
