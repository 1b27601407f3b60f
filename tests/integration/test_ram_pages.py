"""The RAM console pages: Users, Permission Management, Policies, Script Editor (rules §1, §2)."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse
from django.utils.html import escape

from ram_directory import services
from ram_directory.forms import ALREADY_ATTACHED, NOTHING_CHOSEN, POLICY_NAME_RESERVED
from ram_directory.models import Policy, PolicyAttachment
from ram_directory.policy import LIST_USERS_DOCUMENT
from ram_directory.principal import Principal
from ram_directory.selectors import (
    ATTACH_POLICY,
    CREATE_POLICY,
    DELETE_POLICY,
    DETACH_POLICY,
    GET_POLICY,
    GET_USER,
    LIST_POLICIES,
    LIST_USERS,
    UPDATE_POLICY,
)
from ram_directory.services import POLICY_IN_USE, POLICY_NAME_TAKEN, SYSTEM_POLICY_READ_ONLY
from ram_directory.views import ATTACHED
from tests.factories import PolicyFactory, RamUserFactory

pytestmark = pytest.mark.django_db

SEED_POLICY_TEXT = (
    '{"Version":"1","Statement":[{"Effect":"Allow","Action":["ram:ListUsers","ram:GetUser"],'
    '"Resource":"*"}]}'
)
HTMX = {"HX-Request": "true"}


def attach(ram_user, name: str) -> None:
    services.attach_policy(
        ram_user=ram_user, policy=Policy.objects.get(account=ram_user.account, name=name)
    )


def policy_count(account) -> int:
    return Policy.objects.for_account(account).count()


# --- Users list ----------------------------------------------------------------------------


def test_owner_sees_users_list_with_profile_columns(owner_client, account):
    """rules §1: the Users list shows user name, display name, ID, phone, email, created."""
    bob = RamUserFactory(
        account=account,
        user_name="bob",
        display_name="Bob Builder",
        mobile_phone="86-13811112222",
        email="bob@example.com",
    )
    response = owner_client.get(reverse("ram:user_list"))
    assert response.status_code == 200
    for text in (
        bob.upn,
        "Bob Builder",
        bob.user_id,
        "86-13811112222",
        "bob@example.com",
        reverse("ram:user_detail", args=[bob.user_id]),
    ):
        assert text in response.text


def test_users_list_shows_only_own_account(owner_client, account, other_account):
    """rules §1: every page sees only the principal's account."""
    RamUserFactory(account=account, user_name="mine")
    RamUserFactory(account=other_account, user_name="theirs")
    response = owner_client.get(reverse("ram:user_list"))
    assert "mine@" in response.text
    assert "theirs" not in response.text


@pytest.mark.parametrize("query", ["ALI", "ali", "lic", "Wonder"])
def test_users_search_by_user_or_display_name_ignores_case(owner_client, account, query):
    """rules §1: the search box matches user name or display name, case-insensitive substring."""
    RamUserFactory(account=account, user_name="alice", display_name="Wonderland Alice")
    RamUserFactory(account=account, user_name="bob", display_name="Builder")
    response = owner_client.get(reverse("ram:user_list"), {"q": query})
    assert "alice@" in response.text
    assert "bob@" not in response.text


def test_ram_user_without_list_users_gets_403_naming_the_permission(sign_in, ram_user):
    """rules §2: a RAM user without ram:ListUsers may not see the Users list; 403 explains."""
    response = sign_in(ram_user).get(reverse("ram:user_list"))
    assert response.status_code == 403
    assert LIST_USERS in response.text
    assert f"acs:ram:*:{ram_user.account.account_id}:user/*" in response.text


def test_ram_user_with_list_users_sees_users_list(sign_in, account, ram_user):
    """rules §2: ram:ListUsers on the account's users lets a RAM user see the list."""
    services.attach_policy(ram_user=ram_user, policy=PolicyFactory(account=account))
    response = sign_in(ram_user).get(reverse("ram:user_list"))
    assert response.status_code == 200
    assert ram_user.upn in response.text


def test_list_users_on_another_account_arn_is_not_enough(sign_in, account, ram_user):
    """rules §2: the resource ARN carries the account ID; another account's ARN grants nothing."""
    document = {
        "Version": "1",
        "Statement": [
            {"Effect": "Allow", "Action": "ram:ListUsers", "Resource": "acs:ram:*:1:user/*"}
        ],
    }
    policy = PolicyFactory(account=account, document=document)
    services.attach_policy(ram_user=ram_user, policy=policy)
    assert sign_in(ram_user).get(reverse("ram:user_list")).status_code == 403


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(reverse("ram:user_list"))
    assert response.status_code == 302
    assert reverse("signin") in response["Location"]


def _count_queries(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("as_ram_user", [False, True], ids=["owner", "ram user"])
def test_users_list_query_count_is_fixed(
    client, account, owner, as_ram_user, django_assert_num_queries
):
    """rules §1 / docs/architecture.md: the Users list costs the same queries for 1 and 50 users."""
    viewer = RamUserFactory(account=account, user_name="viewer")
    attach(viewer, "AliyunRAMReadOnlyAccess")
    client.force_login(viewer.sign_in if as_ram_user else owner)
    url = reverse("ram:user_list")
    with_one = _count_queries(client, url)
    RamUserFactory.create_batch(49, account=account, sign_in=False)
    with django_assert_num_queries(with_one):
        response = client.get(url)
    assert response.text.count("/ram/users/") >= 50


def test_policies_list_query_count_is_fixed(owner_client, account, django_assert_num_queries):
    """rules §2: the Policies list with attached-to counts has a fixed cost."""
    user = RamUserFactory(account=account)
    PolicyFactory(account=account)
    url = reverse("ram:policy_list")
    with_few = _count_queries(owner_client, url)
    for policy in PolicyFactory.create_batch(40, account=account):
        services.attach_policy(ram_user=user, policy=policy)
    with django_assert_num_queries(with_few):
        response = owner_client.get(url)
    assert response.text.count("Custom Policy") >= 41


def test_user_detail_query_count_is_fixed(owner_client, account, django_assert_max_num_queries):
    """Personal Permissions costs the same for 1 and many attached policies (fixed queries)."""
    user = RamUserFactory(account=account)
    attach(user, "AdministratorAccess")
    url = reverse("ram:user_detail", args=[user.user_id]) + "?tab=permissions"
    with_one = _count_queries(owner_client, url)
    for policy in PolicyFactory.create_batch(20, account=account):
        services.attach_policy(ram_user=user, policy=policy)
    with django_assert_max_num_queries(with_one):
        owner_client.get(url)


# --- User detail and Permission Management ------------------------------------------------


def test_user_detail_shows_basic_info_by_ram_user_id(owner_client, account):
    """rules §1: the detail page is addressed by the RAM user ID and shows the profile."""
    bob = RamUserFactory(account=account, user_name="bob", comments="on call")
    response = owner_client.get(reverse("ram:user_detail", args=[bob.user_id]))
    assert response.status_code == 200
    assert bob.upn in response.text
    assert "on call" in response.text
    assert owner_client.get(reverse("ram:user_detail", args=[str(bob.pk)])).status_code == 404


def test_personal_permissions_lists_every_policy_held(owner_client, account):
    """rules §2: the Permission Management tab lists every policy the user holds."""
    bob = RamUserFactory(account=account)
    custom = PolicyFactory(account=account, name="SeeUsers", description="lists users")
    services.attach_policy(ram_user=bob, policy=custom)
    attach(bob, "AliyunRAMReadOnlyAccess")
    response = owner_client.get(
        reverse("ram:user_detail", args=[bob.user_id]), {"tab": "permissions"}
    )
    text = response.text
    assert "Personal Permissions" in text
    assert "SeeUsers" in text and "lists users" in text and "Custom Policy" in text
    assert "AliyunRAMReadOnlyAccess" in text and "System Policy" in text
    assert reverse("ram:user_detach", args=[bob.user_id, "SeeUsers"]) in text
    assert reverse("ram:user_authorize", args=[bob.user_id]) in text


def test_ram_user_may_always_view_its_own_detail(sign_in, ram_user):
    """rules §2: a RAM user sees its own page without ram:GetUser, but no Add Authorization."""
    response = sign_in(ram_user).get(
        reverse("ram:user_detail", args=[ram_user.user_id]), {"tab": "permissions"}
    )
    assert response.status_code == 200
    assert "Add Authorization" not in response.text


def test_ram_user_without_get_user_gets_403_on_another_users_detail(sign_in, account, ram_user):
    """rules §2: viewing another user's detail needs ram:GetUser."""
    bob = RamUserFactory(account=account)
    response = sign_in(ram_user).get(reverse("ram:user_detail", args=[bob.user_id]))
    assert response.status_code == 403
    assert GET_USER in response.text


def test_ram_user_with_get_user_views_another_user(sign_in, account, ram_user):
    """rules §2: the seed's policy (ListUsers + GetUser) opens other users' detail pages."""
    services.attach_policy(ram_user=ram_user, policy=PolicyFactory(account=account))
    bob = RamUserFactory(account=account)
    assert sign_in(ram_user).get(reverse("ram:user_detail", args=[bob.user_id])).status_code == 200


# --- Add Authorization (attach) ------------------------------------------------------------


def test_authorize_panel_filters_by_type_and_disables_attached(owner_client, account):
    """rules §2: the panel's permission type drop-down filters; attached policies are disabled."""
    bob = RamUserFactory(account=account)
    PolicyFactory(account=account, name="SeeUsers")
    attach(bob, "AdministratorAccess")
    url = reverse("ram:user_authorize", args=[bob.user_id])
    system = owner_client.get(url).text
    assert "AliyunRAMFullAccess" in system and "SeeUsers" not in system
    assert 'value="AdministratorAccess" id="choice-' in system
    admin_input = system.split('value="AdministratorAccess"')[1].split(">")[0]
    assert "disabled" in admin_input
    custom = owner_client.get(url, {"type": "Custom"}).text
    assert "SeeUsers" in custom and "AliyunRAMFullAccess" not in custom
    # Choosing a type is not a submission: no "check a policy" error yet.
    assert NOTHING_CHOSEN not in system and NOTHING_CHOSEN not in custom


def test_authorize_panel_htmx_opens_the_side_panel_and_filter_swaps_its_form(owner_client, account):
    """rules §2 (seed: "the pop-up Add Authorization panel"): with htmx a side panel fragment, a
    modal dialog from the right (offcanvas); the type filter re-renders the form in it."""
    bob = RamUserFactory(account=account)
    PolicyFactory(account=account, name="SeeUsers")
    url = reverse("ram:user_authorize", args=[bob.user_id])
    dialog = owner_client.get(url, headers=HTMX)
    assert dialog.text.lstrip().startswith('<div class="offcanvas offcanvas-end')
    assert 'role="dialog" aria-modal="true" aria-labelledby="authorize-title"' in dialog.text
    assert 'id="authorize-title"' in dialog.text and "<html" not in dialog.text
    assert 'class="modal' not in dialog.text
    assert (
        'data-bs-dismiss="offcanvas"' in dialog.text
        and 'data-bs-dismiss="modal"' not in dialog.text
    )
    panel = owner_client.get(
        url, {"type": "Custom"}, headers={**HTMX, "HX-Target": "authorize-panel"}
    )
    assert 'id="authorize-panel"' in panel.text and 'class="offcanvas' not in panel.text
    assert 'data-bs-dismiss="offcanvas"' in panel.text  # its Cancel still closes the panel
    assert "SeeUsers" in panel.text
    assert NOTHING_CHOSEN not in panel.text


def test_attach_plain_post_attaches_several_and_redirects(owner_client, account):
    """rules §2: Confirm Add Authorization attaches every checked policy (no JavaScript)."""
    bob = RamUserFactory(account=account)
    PolicyFactory(account=account, name="SeeUsers")
    url = reverse("ram:user_authorize", args=[bob.user_id])
    response = owner_client.post(
        url, {"type": "Custom", "policies": ["SeeUsers", "AliyunRAMReadOnlyAccess"]}
    )
    assert response.status_code == 302
    assert response["Location"].endswith(
        reverse("ram:user_detail", args=[bob.user_id]) + "?tab=permissions"
    )
    assert set(bob.policies.values_list("name", flat=True)) == {
        "SeeUsers",
        "AliyunRAMReadOnlyAccess",
    }
    page = owner_client.get(response["Location"])
    assert ATTACHED.format(names="SeeUsers, AliyunRAMReadOnlyAccess") in page.text


def test_attach_htmx_swaps_personal_permissions_and_closes_dialog(owner_client, account):
    """rules §2: with htmx, attaching refreshes the Personal Permissions list in place."""
    bob = RamUserFactory(account=account)
    PolicyFactory(account=account, name="SeeUsers")
    response = owner_client.post(
        reverse("ram:user_authorize", args=[bob.user_id]),
        {"type": "Custom", "policies": ["SeeUsers"]},
        headers={**HTMX, "HX-Target": "authorize-panel"},
    )
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#personal-permissions"
    assert response["HX-Trigger"] == "closeModal"
    assert 'id="personal-permissions"' in response.text and "SeeUsers" in response.text
    assert bob.policies.filter(name="SeeUsers").exists()


def test_attach_nothing_checked_shows_error_and_changes_nothing(owner_client, account):
    bob = RamUserFactory(account=account)
    url = reverse("ram:user_authorize", args=[bob.user_id])
    response = owner_client.post(
        url, {"type": "System"}, headers={**HTMX, "HX-Target": "authorize-panel"}
    )
    assert response.status_code == 422
    assert NOTHING_CHOSEN in response.text
    assert not PolicyAttachment.objects.filter(ram_user=bob).exists()


def test_attach_already_attached_is_refused_and_nothing_changes(owner_client, account):
    """rules §2: a forged POST re-attaching a held policy is a form error; nothing is attached."""
    bob = RamUserFactory(account=account)
    attach(bob, "AdministratorAccess")
    response = owner_client.post(
        reverse("ram:user_authorize", args=[bob.user_id]),
        {"policies": ["AliyunRAMFullAccess", "AdministratorAccess"]},
    )
    assert response.status_code == 422
    assert ALREADY_ATTACHED.format(names="AdministratorAccess") in response.text
    assert list(bob.policies.values_list("name", flat=True)) == ["AdministratorAccess"]


def test_attach_a_policy_name_of_another_account_is_refused(owner_client, account, other_account):
    """rules §1: a policy of another account is not a choice; nothing is attached."""
    bob = RamUserFactory(account=account)
    PolicyFactory(account=other_account, name="TheirPolicy")
    response = owner_client.post(
        reverse("ram:user_authorize", args=[bob.user_id]), {"policies": ["TheirPolicy"]}
    )
    assert response.status_code == 422
    assert not PolicyAttachment.objects.filter(ram_user=bob).exists()


# --- Remove (detach) -----------------------------------------------------------------------


def test_detach_asks_for_confirmation_then_removes_plain(owner_client, account):
    """rules §2: Remove shows a confirmation (GET changes nothing); Confirm detaches."""
    bob = RamUserFactory(account=account)
    attach(bob, "AdministratorAccess")
    url = reverse("ram:user_detach", args=[bob.user_id, "AdministratorAccess"])
    confirm = owner_client.get(url)
    assert confirm.status_code == 200 and "Confirm" in confirm.text
    assert bob.policies.exists()
    response = owner_client.post(url)
    assert response.status_code == 302
    assert not bob.policies.exists()


def test_detach_htmx_swaps_personal_permissions(owner_client, account):
    bob = RamUserFactory(account=account)
    attach(bob, "AdministratorAccess")
    attach(bob, "AliyunRAMFullAccess")
    url = reverse("ram:user_detach", args=[bob.user_id, "AdministratorAccess"])
    assert 'class="modal' in owner_client.get(url, headers=HTMX).text
    response = owner_client.post(url, headers=HTMX)
    assert response.status_code == 200
    assert response["HX-Trigger"] == "closeModal"
    assert "AliyunRAMFullAccess" in response.text
    assert 'data-policy="AdministratorAccess"' not in response.text
    assert list(bob.policies.values_list("name", flat=True)) == ["AliyunRAMFullAccess"]


def test_detach_of_a_policy_not_held_is_404(owner_client, account):
    bob = RamUserFactory(account=account)
    url = reverse("ram:user_detach", args=[bob.user_id, "AdministratorAccess"])
    assert owner_client.post(url).status_code == 404


# --- Permission checks on writes ------------------------------------------------------------


@pytest.fixture
def bob(account):
    user = RamUserFactory(account=account, user_name="bob")
    attach(user, "AliyunRAMReadOnlyAccess")
    return user


def _writes(account, bob):
    """(name, method, url, data, action, what to check unchanged) for each RAM write."""
    custom = PolicyFactory(account=account, name="Spare")
    return [
        (
            "create",
            reverse("ram:policy_create"),
            {"name": "New", "description": "", "document": SEED_POLICY_TEXT},
            CREATE_POLICY,
            lambda: Policy.objects.filter(account=account, name="New").exists(),
        ),
        (
            "attach",
            reverse("ram:user_authorize", args=[bob.user_id]),
            {"policies": ["AdministratorAccess"]},
            ATTACH_POLICY,
            lambda: bob.policies.filter(name="AdministratorAccess").exists(),
        ),
        (
            "detach",
            reverse("ram:user_detach", args=[bob.user_id, "AliyunRAMReadOnlyAccess"]),
            {},
            DETACH_POLICY,
            lambda: not bob.policies.filter(name="AliyunRAMReadOnlyAccess").exists(),
        ),
        (
            "edit",
            reverse("ram:policy_edit", args=["Spare"]),
            {"document": json.dumps({**LIST_USERS_DOCUMENT, "Version": "1"}), "description": "x"},
            UPDATE_POLICY,
            lambda: Policy.objects.get(pk=custom.pk).description == "x",
        ),
        (
            "delete",
            reverse("ram:policy_delete", args=["Spare"]),
            {},
            DELETE_POLICY,
            lambda: not Policy.objects.filter(pk=custom.pk).exists(),
        ),
    ]


@pytest.mark.parametrize("index", range(5), ids=["create", "attach", "detach", "edit", "delete"])
def test_ram_user_without_permission_gets_403_and_nothing_changes(
    sign_in, account, ram_user, bob, index
):
    """rules §2: each write needs its RAM action; read-only access is 403 and changes nothing."""
    attach(ram_user, "AliyunRAMReadOnlyAccess")
    _name, url, data, action, changed = _writes(account, bob)[index]
    client = sign_in(ram_user)
    assert client.get(url).status_code == 403
    response = client.post(url, data)
    assert response.status_code == 403
    assert action in response.text
    assert not changed()


@pytest.mark.parametrize("index", range(5), ids=["create", "attach", "detach", "edit", "delete"])
def test_ram_user_with_ram_full_access_may_write(sign_in, account, ram_user, bob, index):
    """rules §2: AliyunRAMFullAccess (ram:*) allows every RAM write."""
    attach(ram_user, "AliyunRAMFullAccess")
    _name, url, data, _action, changed = _writes(account, bob)[index]
    response = sign_in(ram_user).post(url, data)
    assert response.status_code == 302, response.text[:2000]
    assert changed()


def test_deny_statement_overrides_full_access_on_the_page(sign_in, account, ram_user, bob):
    """rules §2: an explicit Deny in another attached policy beats AliyunRAMFullAccess."""
    attach(ram_user, "AliyunRAMFullAccess")
    document = {
        "Version": "1",
        "Statement": [{"Effect": "Deny", "Action": "ram:Attach*", "Resource": "*"}],
    }
    services.attach_policy(
        ram_user=ram_user, policy=PolicyFactory(account=account, document=document)
    )
    url = reverse("ram:user_authorize", args=[bob.user_id])
    response = sign_in(ram_user).post(url, {"policies": ["AdministratorAccess"]})
    assert response.status_code == 403
    assert not bob.policies.filter(name="AdministratorAccess").exists()


# --- Policies list and detail ---------------------------------------------------------------


def test_policies_list_shows_types_counts_and_filters(owner_client, account):
    """rules §2: name, type, description, attached-to count; a type filter and a search."""
    bob = RamUserFactory(account=account)
    PolicyFactory(account=account, name="SeeUsers", description="lists users")
    attach(bob, "AdministratorAccess")
    url = reverse("ram:policy_list")
    text = owner_client.get(url).text
    for name in ("AdministratorAccess", "AliyunRAMFullAccess", "AliyunRAMReadOnlyAccess"):
        assert name in text
    assert "SeeUsers" in text and "lists users" in text
    row = text.split(">AdministratorAccess<")[1].split("</tr>")[0]
    assert "<td>1</td>" in row
    custom = owner_client.get(url, {"type": "Custom"}).text
    assert "SeeUsers" in custom and "AdministratorAccess" not in custom
    found = owner_client.get(url, {"q": "readonly"}).text
    assert "AliyunRAMReadOnlyAccess" in found and "AliyunRAMFullAccess" not in found


def test_policies_list_needs_list_policies(sign_in, ram_user):
    """rules §2: the Policies page needs ram:ListPolicies."""
    response = sign_in(ram_user).get(reverse("ram:policy_list"))
    assert response.status_code == 403
    assert LIST_POLICIES in response.text


def test_policy_detail_pretty_prints_document_and_lists_users(owner_client, account):
    """rules §2: policy detail shows the JSON document and the users it is attached to."""
    bob = RamUserFactory(account=account, user_name="bob")
    attach(bob, "AliyunRAMReadOnlyAccess")
    response = owner_client.get(reverse("ram:policy_detail", args=["AliyunRAMReadOnlyAccess"]))
    assert response.status_code == 200
    assert "&quot;Version&quot;: &quot;1&quot;" in response.text
    assert "\n  &quot;Statement&quot;" in response.text  # indented, one key a line
    assert reverse("ram:user_detail", args=[bob.user_id]) in response.text
    assert "Modify Policy Document" not in response.text  # system policies are read-only


def test_policy_detail_needs_get_policy(sign_in, ram_user):
    response = sign_in(ram_user).get(reverse("ram:policy_detail", args=["AdministratorAccess"]))
    assert response.status_code == 403
    assert GET_POLICY in response.text


# --- Create Policy: the Script Editor -------------------------------------------------------


def test_create_page_prefills_a_version_1_skeleton(owner_client):
    response = owner_client.get(reverse("ram:policy_create"))
    assert "Script Editor" in response.text
    assert "&quot;Version&quot;: &quot;1&quot;" in response.text


INVALID_DOCUMENTS = [
    ("invalid JSON", '{"Version": "1",\n "Statement": [', "Invalid JSON at line 2, column"),
    (
        "missing Version",
        '{"Statement": [{"Effect": "Allow", "Action": "ram:*", "Resource": "*"}]}',
        "Version: missing; it must be &quot;1&quot;.",
    ),
    (
        "bad Effect",
        '{"Version": "1", "Statement": [{"Effect": "Permit", "Action": "ram:*", "Resource": "*"}]}',
        "Statement[0].Effect: must be &quot;Allow&quot; or &quot;Deny&quot; "
        "(got &quot;Permit&quot;).",
    ),
    (
        "empty Action",
        '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": [], "Resource": "*"}]}',
        "Statement[0].Action: must not be empty.",
    ),
    (
        "Action without service",
        '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "ListUsers", '
        '"Resource": "*"}]}',
        "Statement[0].Action: &quot;ListUsers&quot; is not of the form service:Action",
    ),
    (
        "unknown key",
        '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "ram:*", "Resource": "*", '
        '"Sid": "x"}]}',
        "Statement[0]: unknown key(s) Sid.",
    ),
]


@pytest.mark.parametrize(
    ("text", "message"), [pytest.param(*row[1:], id=row[0]) for row in INVALID_DOCUMENTS]
)
def test_script_editor_shows_its_error_keeps_input_and_saves_nothing(
    owner_client, account, text, message
):
    """rules §2: an invalid document is refused, on the Script Editor's Confirm (step 1 of
    Create Policy), with what and where; the text is kept; nothing is saved."""
    before = policy_count(account)
    response = owner_client.post(
        reverse("ram:policy_create"), {"step": "document", "document": text}
    )
    assert response.status_code == 422
    assert message in response.text
    assert 'data-testid="document-errors"' in response.text  # next to the editor
    assert re.search(r'<textarea[^>]*aria-invalid="true"', response.text)
    assert escape(text) in response.text  # what was typed, kept
    assert 'name="name"' not in response.text  # Name is asked in step 2 only
    assert policy_count(account) == before


def test_seed_policy_saves_and_grants_list_users_once_attached(owner_client, account, ram_user):
    """rules §2 (seed Step 1): the seed's policy saves; attached, the user may ListUsers."""
    response = owner_client.post(
        reverse("ram:policy_create"),
        {"name": "ListUsersPolicy", "description": "seed step 1", "document": SEED_POLICY_TEXT},
    )
    assert response.status_code == 302
    policy = Policy.objects.get(account=account, name="ListUsersPolicy")
    assert policy.policy_type == Policy.PolicyType.CUSTOM
    assert policy.document == json.loads(SEED_POLICY_TEXT)
    assert not Principal(account, ram_user).can("ram:ListUsers")
    owner_client.post(
        reverse("ram:user_authorize", args=[ram_user.user_id]),
        {"type": "Custom", "policies": ["ListUsersPolicy"]},
    )
    assert Principal(account, ram_user).can("ram:ListUsers")
    assert Principal(account, ram_user).can("ram:GetUser")
    assert not Principal(account, ram_user).can("ram:AttachPolicyToUser")


def test_duplicate_policy_name_is_an_error_on_name(owner_client, account):
    """rules §2: a name already used in the account is refused on Name; nothing is saved."""
    before = policy_count(account)
    response = owner_client.post(
        reverse("ram:policy_create"),
        {"name": "AdministratorAccess", "description": "", "document": SEED_POLICY_TEXT},
    )
    assert response.status_code == 422
    assert POLICY_NAME_TAKEN in response.text.split('data-testid="name-errors"')[1]
    assert policy_count(account) == before


def test_same_policy_name_in_another_account_is_fine(owner_client, other_account):
    PolicyFactory(account=other_account, name="Shared")
    response = owner_client.post(
        reverse("ram:policy_create"),
        {"name": "Shared", "description": "", "document": SEED_POLICY_TEXT},
    )
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("name", "message"),
    [("bad name!", "A policy name is 1-128 letters"), ("create", POLICY_NAME_RESERVED)],
)
def test_invalid_policy_name_is_refused(owner_client, account, name, message):
    before = policy_count(account)
    response = owner_client.post(
        reverse("ram:policy_create"), {"name": name, "document": SEED_POLICY_TEXT}
    )
    assert response.status_code == 422
    assert message in response.text
    assert policy_count(account) == before


# --- Edit and Delete of custom policies -----------------------------------------------------


def test_edit_custom_policy_document(owner_client, account):
    """rules §2: a custom policy's document is edited in the Script Editor, validated."""
    PolicyFactory(account=account, name="SeeUsers")
    url = reverse("ram:policy_edit", args=["SeeUsers"])
    assert "ram:ListUsers" in owner_client.get(url).text
    bad = owner_client.post(url, {"document": '{"Version": "1"}', "description": ""})
    assert bad.status_code == 422
    assert "Statement: missing" in bad.text
    new = {"Version": "1", "Statement": [{"Effect": "Deny", "Action": "ram:*", "Resource": "*"}]}
    response = owner_client.post(url, {"document": json.dumps(new), "description": "now denies"})
    assert response.status_code == 302
    policy = Policy.objects.get(account=account, name="SeeUsers")
    assert policy.document == new and policy.description == "now denies"


@pytest.mark.parametrize("view", ["ram:policy_edit", "ram:policy_delete"])
def test_system_policies_are_read_only(owner_client, account, view):
    """rules §2: system policies cannot be edited or deleted, not even by the owner."""
    url = reverse(view, args=["AdministratorAccess"])
    response = owner_client.post(
        url, {"document": json.dumps(LIST_USERS_DOCUMENT), "description": ""}
    )
    assert response.status_code == 403
    assert SYSTEM_POLICY_READ_ONLY in response.text
    policy = Policy.objects.get(account=account, name="AdministratorAccess")
    assert policy.document["Statement"][0]["Action"] == "*"


def test_delete_unattached_custom_policy(owner_client, account):
    PolicyFactory(account=account, name="Spare")
    response = owner_client.post(reverse("ram:policy_delete", args=["Spare"]))
    assert response.status_code == 302
    assert not Policy.objects.filter(account=account, name="Spare").exists()


def test_delete_attached_policy_is_refused(owner_client, account):
    """rules §2: a policy still attached to a user cannot be deleted."""
    bob = RamUserFactory(account=account)
    services.attach_policy(ram_user=bob, policy=PolicyFactory(account=account, name="InUse"))
    url = reverse("ram:policy_delete", args=["InUse"])
    assert "Detach it first" in owner_client.get(url).text
    response = owner_client.post(url)
    assert response.status_code == 422
    assert POLICY_IN_USE in response.text
    assert Policy.objects.filter(account=account, name="InUse").exists()


@pytest.mark.parametrize("url_name", ["ram:user_list", "ram:policy_list"])
def test_list_query_with_a_nul_character_answers_200(owner_client, account, url_name):
    """rules §1: bad input never answers 500 (PostgreSQL refuses a NUL character in a query)."""
    RamUserFactory(account=account, user_name="alice")
    response = owner_client.get(reverse(url_name), {"q": "ali\x00"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/ram/users/1%00/",
        "/ram/users/1%00/authorize/",
        "/ram/policies/P%00/",
        "/ram/policies/P%00/edit/",
        "/ram/policies/P%00/delete/",
    ],
)
def test_id_with_a_nul_character_is_404_like_a_missing_id(owner_client, account, path):
    """rules §1: an ID that cannot exist answers 404, exactly as a missing one (not 500)."""
    assert owner_client.get(path).status_code == 404


def test_detach_with_a_nul_character_in_the_policy_name_is_404(owner_client, account):
    """rules §1: 404 for a policy name that cannot exist (not 500)."""
    user = RamUserFactory(account=account, user_name="alice")
    assert owner_client.get(f"/ram/users/{user.user_id}/policies/P%00/detach/").status_code == 404
