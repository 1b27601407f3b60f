"""rules §13, the defects of issue 9 (each once answered 500 or printed a traceback) and the ones
the fuzz suite found next: a platform operator on console pages, policy documents with huge
integers, lone surrogates, NaN or no end, import files with impossible values, arguments that
are not UTF-8, the admin's relation fields, request size caps and Cache-Control."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.contrib import admin
from django.db import connection
from django.test import Client
from django.urls import reverse

from arms_sync.intake import services as intake_services
from arms_sync.intake.payload import parse
from arms_sync.models import ArmsContact, NotificationPolicy
from arms_sync.notify.models import Delivery
from contacts import services as contact_services
from ram_directory.models import Policy, RamUser
from ram_directory.policy import LIST_USERS_DOCUMENT, MAX_DOCUMENT_LENGTH, document_length
from ram_directory.principal import Principal
from sae_console.admin_guards import GatedAdmin
from tests.commands import manage, run_as_shell, write_json
from tests.factories import PASSWORD, AccountFactory, PolicyFactory, owner_of
from tests.fuzz.world import ALERT_POST

pytestmark = pytest.mark.django_db

OPERATOR_PASSWORD = "pw-operator-123"


def _policy_text(**statement_extra) -> str:
    statement = {"Effect": "Allow", "Action": "ram:ListUsers", "Resource": "*", **statement_extra}
    return json.dumps({"Version": "1", "Statement": [statement]})


# --- 1. the platform operator --------------------------------------------------------------


def test_operator_gets_403_on_every_console_page_that_answered_500(operator_client, account):
    """Issue 9, defect 1: a sign-in with no account answered 500 (AttributeError) here."""
    contact = contact_services.create_contact(
        principal=Principal(account), ram_user=None, phone="13811112222"
    )
    pages = [
        ("get", reverse("contacts:list")),
        ("get", reverse("contacts:new")),
        ("post", reverse("contacts:new")),
        ("get", reverse("contacts:edit", args=[contact.pk])),
        ("get", reverse("ram:user_list")),
        ("get", reverse("arms:merge_contacts")),
    ]
    for method, url in pages:
        response = getattr(operator_client, method)(url)
        assert response.status_code == 403, (method, url, response.status_code)
        assert "no-store" in response["Cache-Control"]


def test_operator_sign_in_lands_on_the_admin(client, operator_client):
    operator_client.logout()
    response = client.post(
        reverse("signin"), {"username": "operator", "password": OPERATOR_PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")
    # Signed in already, the sign-in page sends the operator to the admin too.
    assert client.get(reverse("signin"))["Location"] == reverse("admin:index")


def test_operator_sign_in_keeps_a_next_inside_the_admin_only(client, operator_client):
    operator_client.logout()
    credentials = {"username": "operator", "password": OPERATOR_PASSWORD}
    inside = reverse("admin:ram_directory_ramuser_changelist")
    response = client.post(reverse("signin") + f"?next={inside}", credentials)
    assert response["Location"] == inside
    client.logout()
    response = client.post(reverse("signin") + f"?next={reverse('contacts:list')}", credentials)
    assert response["Location"] == reverse("admin:index")


def test_account_owner_sign_in_still_lands_on_contact_management(client, account):
    response = client.post(
        reverse("signin"), {"username": account.login_name, "password": PASSWORD}
    )
    assert response["Location"] == reverse("contacts:list")


# --- 2, 3, 5. policy documents -------------------------------------------------------------


HOSTILE_DOCUMENTS = [
    pytest.param(
        '{"Version": "1", "Statement": [{"Sid": ' + "9" * 5000 + ', "Effect": "Allow", '
        '"Action": "ram:ListUsers", "Resource": "*"}]}',
        "a number of more than 20 digits",
        id="integer of 5000 digits",
    ),
    pytest.param(
        _policy_text(Resource="\ud800"),
        "Statement[0].Resource: contains a lone surrogate (\\ud800), which is not valid Unicode.",
        id="lone surrogate",
    ),
    pytest.param(
        _policy_text(Resource="\ud800").replace('"Resource"', '"\\udfff"'),
        "Statement[0].\\udfff: contains a lone surrogate (\\udfff)",
        id="lone surrogate in a key",
    ),
    pytest.param(
        _policy_text(Condition={"NumericEquals": {"a": 1}}).replace(": 1}", ": NaN}"),
        "NaN is not a number JSON allows",
        id="NaN (PostgreSQL's jsonb refuses it)",
    ),
    pytest.param(
        _policy_text(Condition={"NumericEquals": {"a": 1}}).replace(": 1}", ": 1e999}"),
        "1e999 is not a number JSON allows",
        id="infinite number",
    ),
    pytest.param(
        _policy_text(Resource=["acs:ram:*:1:user/" + "x" * 40 for _ in range(200)]),
        "RAM allows at most 6144",
        id="longer than RAM's 6,144 characters",
    ),
    pytest.param("x" * 100_000, "longer than 65536 characters", id="100,000 characters"),
]


@pytest.mark.parametrize(("text", "message"), HOSTILE_DOCUMENTS)
def test_create_policy_refuses_hostile_documents_and_saves_nothing(
    owner_client, account, text, message
):
    before = Policy.objects.count()
    response = owner_client.post(
        reverse("ram:policy_create"), {"name": "Hostile", "document": text}
    )
    assert response.status_code == 422
    assert message in response.content.decode()
    assert Policy.objects.count() == before


@pytest.mark.parametrize(("text", "message"), HOSTILE_DOCUMENTS)
def test_edit_policy_refuses_hostile_documents_and_changes_nothing(
    owner_client, account, text, message
):
    policy = PolicyFactory(account=account, name="Spare")
    response = owner_client.post(reverse("ram:policy_edit", args=["Spare"]), {"document": text})
    assert response.status_code == 422
    assert message in response.content.decode()
    policy.refresh_from_db()
    assert policy.document == LIST_USERS_DOCUMENT


def test_a_document_of_6144_characters_is_accepted_however_it_is_indented(owner_client, account):
    """RAM's limit counts the document written compactly: the Script Editor's indentation (and
    the edit page's pretty-printing) costs nothing."""
    resource = "x" * 6000
    filler = MAX_DOCUMENT_LENGTH - document_length(json.loads(_policy_text(Resource=resource)))
    document = json.loads(_policy_text(Resource=resource + "y" * filler))
    assert document_length(document) == MAX_DOCUMENT_LENGTH
    response = owner_client.post(
        reverse("ram:policy_create"),
        {"name": "Longest", "document": json.dumps(document, indent=8)},
    )
    assert response.status_code == 302
    # Saving it unchanged from the edit page (pretty-printed) is accepted too.
    edit = owner_client.get(reverse("ram:policy_edit", args=["Longest"]))
    shown = edit.context["form"]["document"].value()
    assert len(shown) > MAX_DOCUMENT_LENGTH  # pretty-printed
    response = owner_client.post(reverse("ram:policy_edit", args=["Longest"]), {"document": shown})
    assert response.status_code == 302


@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="PostgreSQL's jsonb never held a lone surrogate"
)
def test_a_document_stored_with_a_lone_surrogate_still_shows(owner_client, account):
    """Before the gate, SQLite stored `\\ud800` escaped; its pages must not answer 500."""
    PolicyFactory(
        account=account,
        name="Stored",
        document={"Version": "1", "Statement": [{"Effect": "Allow", "Resource": "\ud800"}]},
    )
    for view in ("ram:policy_detail", "ram:policy_edit"):
        response = owner_client.get(reverse(view, args=["Stored"]))
        assert response.status_code == 200
        assert "\\ud800" in response.content.decode()


# --- 4. import files and arguments ---------------------------------------------------------


def _ram_answer(user: dict) -> dict:
    return {"Users": {"User": [{"UserName": "bob", **user}]}}


def _arms_answer(contact: dict) -> dict:
    return {"PageBean": {"Contacts": [{"ContactId": 77, "ContactName": "bob", **contact}]}}


def _raw(data: dict, **raw_numbers: str) -> str:
    """`data` as JSON with some values written out as raw number tokens (no JSON library
    writes an integer of thousands of digits)."""
    text = json.dumps(data)
    for key, token in raw_numbers.items():
        text = text.replace(f'"__{key}__"', token)
    return text


IMPORTS = [
    pytest.param(
        "import_ram_users",
        json.dumps(_ram_answer({"DisplayName": "\ud800"})),
        "error: Users.User[0].DisplayName: contains a lone surrogate (\\ud800)",
        id="ram: DisplayName lone surrogate",
    ),
    pytest.param(
        "import_ram_users",
        json.dumps(_ram_answer({"CreateDate": "2020-02-30T00:00:00Z"})),
        "error: Users.User[0].CreateDate: '2020-02-30T00:00:00Z' is not a real date and time.",
        id="ram: CreateDate that does not exist",
    ),
    pytest.param(
        "import_ram_users",
        _raw(_ram_answer({"UserId": "__ID__"}), ID="9" * 4301),
        "error: The JSON text: a number of more than 20 digits.",
        id="ram: UserId of 4301 digits",
    ),
    pytest.param(
        "import_ram_users",
        json.dumps(_ram_answer({"UserId": "9" * 40})),
        "error: Users.User[0].UserId: longer than 32 characters.",
        id="ram: UserId of 40 digits",
    ),
    pytest.param(
        "import_arms_contacts",
        _raw(_arms_answer({"ContactId": "__ID__"}), ID="9" * 4301),
        "error: The JSON text: a number of more than 20 digits.",
        id="arms: ContactId of 4301 digits",
    ),
    pytest.param(
        "import_arms_contacts",
        _raw(_arms_answer({"ContactId": "__ID__"}), ID="9" * 30),
        "error: The JSON text: a number of more than 20 digits.",
        id="arms: ContactId of 30 digits",
    ),
    pytest.param(
        "import_arms_contacts",
        json.dumps(_arms_answer({"ContactId": "9" * 19})),
        "error: PageBean.Contacts[0].ContactId: must be a whole number from 1 to "
        "9223372036854775807.",
        id="arms: ContactId past 64 bits",
    ),
    pytest.param(
        "import_arms_contacts",
        json.dumps(_arms_answer({"ContactId": "\u00b2"})),
        "error: PageBean.Contacts[0].ContactId: must be a whole number written with the "
        "digits 0-9.",
        id="arms: ContactId of a superscript digit",
    ),
    pytest.param(
        "import_arms_contacts",
        json.dumps(_arms_answer({"ContactName": "\ud800x"})),
        "error: PageBean.Contacts[0].ContactName: contains a lone surrogate (\\ud800)",
        id="arms: ContactName lone surrogate",
    ),
]


def _rows() -> tuple:
    return (
        sorted(RamUser.objects.values_list("user_id", "user_name", "display_name")),
        sorted(ArmsContact.objects.values_list("contact_id", "name")),
    )


@pytest.mark.parametrize(("command", "content", "message"), IMPORTS)
def test_impossible_values_in_import_files_are_one_error_line(
    account, tmp_path, command, content, message
):
    """Issue 9, defect 4: each printed a traceback; now one `error:` line, nothing written."""
    before = _rows()
    path = write_json(tmp_path, content, "answer.json")
    code, out, err, problem = run_as_shell([command, account.account_id, str(path)])
    assert not problem
    assert code == 1
    assert len(err.splitlines()) == 1
    assert err.startswith(message), err
    assert out == ""
    assert _rows() == before


def test_a_webhook_url_that_is_no_url_is_ignored_not_a_traceback(account, tmp_path):
    path = write_json(tmp_path, _arms_answer({"WebhookUrl": "http://[oops"}), "answer.json")
    code, _out, err, problem = run_as_shell(["import_arms_contacts", account.account_id, str(path)])
    assert (code, problem) == (0, "")
    assert "WebhookUrl: not a DingTalk or WeCom robot, ignored" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["attach_policy", "\udcff", "alice", "AliyunRAMReadOnlyAccess"],
        ["create_cloud_account", "1234567890123456", "--login-name", "ops\udcff@example.com"],
        ["send_test", "1234567890123456", "138\udcff"],
    ],
    ids=["account ID", "login name", "phone"],
)
def test_arguments_that_are_not_utf8_are_one_error_line(account, argv):
    """A shell passes bytes that are not UTF-8 as lone surrogates: no database or stdout can
    take them, so the gate refuses them before the command runs."""
    code, out, err, problem = run_as_shell(argv)
    assert not problem
    assert code == 1
    assert err.startswith("error: argument ")
    assert "contains a lone surrogate (\\udcff)" in err
    assert len(err.splitlines()) == 1
    assert out == ""


@pytest.mark.django_db(transaction=True)
def test_from_a_real_shell_too(tmp_path):
    account = AccountFactory()
    before = _rows()
    bad = write_json(tmp_path, json.dumps(_ram_answer({"DisplayName": "\ud800"})), "a.json")
    result = manage("import_ram_users", account.account_id, str(bad))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: Users.User[0].DisplayName: contains a lone surrogate (\\ud800), which is not "
        "valid Unicode."
    ]
    result = manage("attach_policy", "\udcff", "alice", "AliyunRAMReadOnlyAccess")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: argument account_id: contains a lone surrogate (\\udcff), which is not valid "
        "Unicode."
    ]
    assert _rows() == before


# --- 5. Cache-Control, the sign-in message, request caps ---------------------------------


def test_every_response_to_a_signed_in_user_says_no_store(owner_client, account):
    for url in (
        reverse("contacts:list"),
        reverse("ram:user_list"),
        reverse("ram:user_detail", args=["no-such-user"]),  # 404 page
        reverse("home"),  # a redirect
    ):
        cache_control = owner_client.get(url)["Cache-Control"]
        assert "no-store" in cache_control and "private" in cache_control, url


def test_static_files_keep_their_own_caching_for_a_signed_in_user(owner_client):
    static = owner_client.get(settings.STATIC_URL + "css/console.css")
    assert static.status_code == 200
    assert "no-store" not in static.get("Cache-Control", "")


def test_wrong_password_message_says_only_the_password_is_case_sensitive(client, account):
    response = client.post(
        reverse("signin"), {"username": account.login_name.upper(), "password": "wrong"}
    )
    page = response.content.decode()
    assert "The password is case-sensitive; the login name is not." in page
    assert "may be case-sensitive" not in page


def test_request_size_caps_are_stated_in_settings():
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == 256 * 1024
    assert settings.DATA_UPLOAD_MAX_NUMBER_FIELDS == 1000
    assert settings.DATA_UPLOAD_MAX_NUMBER_FILES == 0


def test_a_body_past_the_cap_is_refused_with_400_and_saves_nothing(owner_client, account):
    before = Policy.objects.count()
    response = owner_client.post(
        reverse("ram:policy_create"),
        {"name": "Big", "document": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)},
    )
    assert response.status_code == 400
    assert Policy.objects.count() == before


# --- the admin's relation fields (found by the fuzz suite) ---------------------------------


@pytest.mark.parametrize("value", [" ", "x", "9" * 30])
def test_admin_autocomplete_field_with_an_impossible_id_is_a_form_error(operator_client, value):
    """Django's autocomplete widget looked the posted value up to show it: 500."""
    response = operator_client.post(
        reverse("admin:ram_directory_policy_add"),
        {"account": value, "name": "P", "document": _policy_text()},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Policy.objects.filter(name="P").exists()


def test_admin_many_to_many_field_with_an_id_past_64_bits_is_a_form_error(operator_client, account):
    """`IN (...)` with such a number cannot even be sent to SQLite: 500."""
    response = operator_client.post(
        reverse("admin:arms_sync_notificationpolicy_add"),
        {"account": account.pk, "name": "p", "match_labels": "{}", "groups": ["9" * 30]},
    )
    assert response.status_code == 200
    assert not NotificationPolicy.objects.filter(name="p").exists()


@pytest.mark.parametrize(
    "text",
    [
        '{"Version": ' + "9" * 5000 + "}",
        '{"a": NaN}',
        "[" * 100_000,
        '{"a": "\\ud800"}',
        '{"\\udfff": "x"}',
    ],
    ids=["integer of 5000 digits", "NaN", "nested too deeply", "lone surrogate", "in a key"],
)
def test_admin_json_fields_refuse_what_cannot_be_stored_or_shown(operator_client, account, text):
    """Django's form JSONField answered 500 to the first three and stored the last two (whose
    pages then answered 500): a policy document, a notification policy's match labels."""
    forms = [
        (
            "admin:ram_directory_policy_add",
            {"account": account.pk, "name": "P", "document": text, "description": ""},
        ),
        (
            "admin:arms_sync_notificationpolicy_add",
            {"account": account.pk, "name": "p", "match_labels": text, "enabled": "on"},
        ),
    ]
    for view, data in forms:
        response = operator_client.post(reverse(view), data)
        assert response.status_code == 200, view
        assert "errorlist" in response.content.decode()
    assert not Policy.objects.filter(name="P").exists()
    assert not NotificationPolicy.objects.filter(name="p").exists()


def test_admin_group_permissions_with_an_id_past_64_bits_is_a_form_error(operator_client):
    response = operator_client.post(
        reverse("admin:auth_group_add"), {"name": "g", "permissions": ["9" * 30]}
    )
    assert response.status_code == 200


def test_admin_change_page_with_an_empty_to_field_is_the_page(operator_client, account):
    """`?_to_field=` (empty) was taken for a field named "": FieldDoesNotExist, 500."""
    policy = Policy.objects.filter(account=account).first()
    for view in ("admin:ram_directory_policy_change", "admin:ram_directory_policy_delete"):
        response = operator_client.get(reverse(view, args=[policy.pk]) + "?_to_field=")
        assert response.status_code == 200, view


def test_admin_action_on_rows_that_cannot_exist_changes_nothing(operator_client, account):
    """`_selected_action` values that no primary key can be were a 500 (ValueError, or
    OverflowError on SQLite); they select nothing."""
    before = RamUser.objects.count()
    response = operator_client.post(
        reverse("admin:ram_directory_ramuser_changelist"),
        {"action": "delete_selected", "_selected_action": ["9" * 30, "x", " "]},
    )
    assert response.status_code == 302
    assert RamUser.objects.count() == before


def test_every_model_admin_is_gated_django_s_and_other_apps_included():
    assert all(isinstance(a, GatedAdmin) for a in admin.site._registry.values())


# --- found by the fuzz suite (fixed meanwhile by the notifications' owner) ---------------


def test_resend_with_a_next_that_is_not_a_path_goes_back_to_the_deliveries(account):
    """`next=abc` was taken for a view name by redirect(): NoReverseMatch, 500."""
    contact_services.create_contact(
        principal=Principal(account), ram_user=None, phone="13811112222", mailbox="a@example.com"
    )
    intake_services.receive(account=account, post=parse(ALERT_POST), body=ALERT_POST)
    delivery = Delivery.objects.filter(account=account).first()
    Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.FAILED)
    client = Client(raise_request_exception=False)
    client.force_login(owner_of(account))
    response = client.post(reverse("notify:delivery_resend", args=[delivery.pk]), {"next": "abc"})
    assert response.status_code == 302
    assert response["Location"] == reverse("notify:delivery_list")
