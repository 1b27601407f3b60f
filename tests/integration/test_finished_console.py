"""Issue 18, the server-side parts: New Contact validates every field in one pass, the
username radio decides which input counts, RAM users with a contact are marked; network errors
read in plain words; the Test headline; the compact robot cells; one breadcrumb everywhere."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.urls import reverse
from django.utils import translation

from arms_sync import linking
from arms_sync.models import ArmsContact
from arms_sync.notify import hints
from contacts import services
from contacts.forms import HAS_CONTACT_SUFFIX
from contacts.models import Contact
from contacts.validators import INVALID_MAILBOX
from tests.factories import ArmsContactFactory, ContactFactory
from tests.integration.contacts_support import (
    DINGTALK_URL,
    counts,
    mobile,
    new_contact_post,
    ram_user_named,
)

pytestmark = pytest.mark.django_db


def errors_of(response) -> dict:
    return response.context["form"].errors


# --- New Contact: one pass ----------------------------------------------------------------------


def test_every_error_shows_at_once_even_when_the_username_fails(owner_client, account):
    """A wrong account name, a phone another contact holds and a bad mailbox: all three in the
    first answer, not one round each."""
    ContactFactory(account=account, phone=mobile(1))
    response = owner_client.post(
        reverse("contacts:new"),
        new_contact_post(
            username_kind="account", username="someone-else", phone=mobile(1), mailbox="nope"
        ),
    )
    assert response.status_code == 422
    errors = errors_of(response)
    assert set(errors) == {"username", "phone", "mailbox"}
    assert errors["phone"] == [services.PHONE_TAKEN]
    assert errors["mailbox"] == [INVALID_MAILBOX]
    assert counts(account)[0] == 1


def test_a_taken_username_and_a_taken_phone_are_refused_together(
    owner_client, account, owner_principal
):
    alice = ram_user_named(account, "alice")
    services.create_contact(principal=owner_principal, ram_user=alice, phone=mobile(1))
    response = owner_client.post(
        reverse("contacts:new"), new_contact_post(ram_user=alice.pk, phone=mobile(1))
    )
    errors = errors_of(response)
    assert errors["ram_user"] == [services.USERNAME_TAKEN.format(username="alice")]
    assert errors["phone"] == [services.PHONE_TAKEN]


def test_the_service_refuses_a_taken_username_and_phone_in_one_error(account, owner_principal):
    """The service's own check (under the account's lock) names both fields too."""
    alice = ram_user_named(account, "alice")
    services.create_contact(principal=owner_principal, ram_user=alice, phone=mobile(1))
    with pytest.raises(services.ValidationError) as refused:
        services.create_contact(principal=owner_principal, ram_user=alice, phone=mobile(1))
    assert set(refused.value.message_dict) == {"username", "phone"}


def new_contact_with_a_bad_robot(owner_client, account, mailbox: str):
    """(alice, the answer): New Contact for a new RAM user alice with phone mobile(2), this
    mailbox, and a DingTalk URL the form itself refuses."""
    alice = ram_user_named(account, "alice")
    response = owner_client.post(
        reverse("contacts:new"),
        new_contact_post(
            ram_user=alice.pk,
            phone=mobile(2),
            mailbox=mailbox,
            dingtalk_webhook="https://example.com/not-a-robot",
        ),
    )
    return alice, response


def test_the_arms_side_refusals_come_with_the_forms_own_errors(owner_client, account):
    """rules §5: a phone whose ARMS contact another contact holds, and a mailbox another ARMS
    contact holds, are said in the same answer as a field the form itself refuses (here a bad
    DingTalk URL), not after it is fixed."""
    # Another contact's ARMS contact whose phone was changed on the ARMS side (rules §5, case 3).
    linked_to = ContactFactory(account=account, phone=mobile(9))
    ArmsContact.objects.filter(sae_contact=linked_to).update(phone=mobile(2))
    ArmsContactFactory(account=account, phone=mobile(3), email="taken@example.com")
    alice, response = new_contact_with_a_bad_robot(owner_client, account, "taken@example.com")
    assert response.status_code == 422
    errors = errors_of(response)
    assert set(errors) == {"phone", "mailbox", "dingtalk_webhook"}
    assert errors["phone"] == [linking.LINKED_PHONE_TAKEN]
    assert errors["mailbox"] == [linking.ARMS_MAILBOX_TAKEN]
    assert not Contact.objects.filter(ram_user=alice).exists()


def test_a_free_arms_contact_with_the_phone_is_no_error(owner_client, account):
    """Case 2 of rules §5 links the ARMS contact that has the phone, mailbox included."""
    ArmsContactFactory(account=account, phone=mobile(2), email="mine@example.com")
    _, response = new_contact_with_a_bad_robot(owner_client, account, "mine@example.com")
    assert set(errors_of(response)) == {"dingtalk_webhook"}


def test_an_edit_shows_the_arms_side_refusal_with_the_forms_own_errors(
    owner_client, account, owner_principal
):
    alice = ram_user_named(account, "alice")
    contact = services.create_contact(principal=owner_principal, ram_user=alice, phone=mobile(1))
    ArmsContactFactory(account=account, phone=mobile(3), email="taken@example.com")
    response = owner_client.post(
        reverse("contacts:edit", args=[contact.pk]),
        {"phone": mobile(1), "mailbox": "taken@example.com", "wecom_webhook": "nope"},
    )
    assert response.status_code == 422
    errors = errors_of(response)
    assert errors["mailbox"] == [linking.ARMS_MAILBOX_TAKEN]
    assert "wecom_webhook" in errors
    contact.refresh_from_db()
    assert contact.mailbox == ""


# --- New Contact: the username radio -----------------------------------------------------------


def test_the_inactive_input_is_ignored_on_the_server(owner_client, account):
    """Alibaba Cloud account chosen: a RAM user id posted beside it (even a forged one) does not
    count and raises no error; the contact is the account's own."""
    response = owner_client.post(
        reverse("contacts:new"),
        new_contact_post(
            username_kind="account", username=account.login_name, ram_user="999999", phone=mobile(2)
        ),
    )
    assert response.status_code == 302
    assert Contact.objects.get(account=account).ram_user is None


def test_the_typed_account_name_is_ignored_when_a_ram_user_is_chosen(owner_client, account):
    alice = ram_user_named(account, "alice")
    response = owner_client.post(
        reverse("contacts:new"),
        new_contact_post(username="not-the-account", ram_user=alice.pk, phone=mobile(3)),
    )
    assert response.status_code == 302
    assert Contact.objects.get(account=account).ram_user == alice


def test_ram_users_with_a_contact_are_marked_and_cannot_be_chosen(
    owner_client, account, owner_principal
):
    alice = ram_user_named(account, "alice")
    bob = ram_user_named(account, "bob")
    services.create_contact(principal=owner_principal, ram_user=alice, phone=mobile(1))
    panel = owner_client.get(reverse("contacts:new")).text
    assert f'<option value="{alice.pk}" disabled>alice {HAS_CONTACT_SUFFIX}</option>' in panel
    assert f'<option value="{bob.pk}">bob</option>' in panel


# --- Plain words for network errors --------------------------------------------------------------


@pytest.mark.parametrize(
    ("recorded", "words"),
    [
        ("name resolution failed: [Errno -2] Name or service not known", "host name"),
        (
            "NewConnectionError: <HTTPSConnection>: Failed to establish a new connection: "
            "[Errno 111] Connection refused",
            "refused the connection",
        ),
        ("ProtocolError: ('Connection aborted.', RemoteDisconnected())", "was cut"),
        ("SSLError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed", "TLS"),
        ("no answer within 3 s (connecting)", "accept a connection within 3 s"),
        ("no answer within 10 s (reading)", "answer within 10 s"),
        ("OSError: [Errno 101] Network is unreachable", "network unreachable"),
    ],
)
def test_network_errors_are_said_in_plain_words(recorded, words):
    plain = hints.plain_error(recorded)
    assert words in plain
    assert "Errno" not in plain


def test_network_errors_are_said_in_the_pages_language():
    with translation.override("zh-hans"):
        plain = hints.plain_error("name resolution failed: [Errno -2] Name or service not known")
    assert "Errno" not in plain
    assert "DNS" in plain and plain != hints.NETWORK_WORDS[0][1]


def test_a_providers_own_answer_is_left_as_it_is():
    answer = "HTTP 200: errcode 310000: keywords not in content"
    assert hints.plain_error(answer) == answer


# --- The Contact Management table -------------------------------------------------------------


def test_robots_show_as_configured_with_the_tokens_tail(owner_client, account):
    ContactFactory(account=account, dingtalk_webhook=DINGTALK_URL)
    page = owner_client.get(reverse("contacts:list")).text
    masked = Contact.objects.get(account=account).dingtalk_masked
    assert f'title="{masked}"' in page
    assert f'Configured · <span class="robot-tail">{masked[-5:]}</span>' in page


def test_test_is_offered_only_for_a_contact_with_a_channel(owner_client, account):
    silent = ContactFactory(account=account, mailbox="")
    reachable = ContactFactory(account=account, mailbox="ops@example.com")
    page = owner_client.get(reverse("contacts:list")).text
    assert reverse("notify:contact_test", args=[reachable.pk]) in page
    assert reverse("notify:contact_test", args=[silent.pk]) not in page


def test_the_test_headline_counts_the_channels_that_succeeded(owner_client, account):
    contact = ContactFactory(account=account, mailbox="ops@example.com")
    page = owner_client.post(reverse("notify:contact_test", args=[contact.pk])).text
    assert "1 of 1 channel succeeded" in page


@pytest.mark.parametrize(
    "url_name", ["arms:contact_list", "arms:group_list", "arms:policy_list", "contacts:list"]
)
def test_every_page_has_the_one_breadcrumb(owner_client, url_name):
    page = owner_client.get(reverse(url_name)).text
    assert page.count('data-testid="breadcrumb"') == 1


def test_deleting_an_unlinked_contact_does_not_claim_to_delete_an_arms_contact(
    owner_client, account, owner_principal
):
    alice = ram_user_named(account, "alice")
    linked = services.create_contact(principal=owner_principal, ram_user=alice, phone=mobile(1))
    unlinked = ContactFactory(account=account)
    ArmsContact.objects.filter(sae_contact=unlinked).delete()  # deleted on the ARMS side
    said = "the corresponding ARMS contact will also be removed"
    assert said in owner_client.get(reverse("contacts:delete", args=[linked.pk])).text
    page = owner_client.get(reverse("contacts:delete", args=[unlinked.pk])).text
    assert said not in page and 'data-testid="delete-not-linked"' in page


def test_in_debug_the_demos_emails_are_files_in_the_demo_mail_folder(tmp_path):
    """README: `make run` writes every email to .demo-mail/ (SAE_DEMO_MAIL_DIR), readable there
    rather than in the server's output."""
    folder = tmp_path / "mail"
    script = (
        "import django; django.setup()\n"
        "from django.core.mail import send_mail\n"
        "send_mail('Test', 'A test message', 'noreply@localhost', ['ops@example.com'])\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sae_console.settings",
        "DJANGO_DEBUG": "1",
        "SAE_DEMO_MAIL_DIR": str(folder),
    }
    env.pop("DJANGO_EMAIL_BACKEND", None)
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=60)
    [written] = list(folder.iterdir())
    assert "To: ops@example.com" in written.read_text()


# --- RAM pages --------------------------------------------------------------------------------


def test_the_policy_page_offers_add_authorization(owner_client, account):
    alice = ram_user_named(account, "alice")
    page = owner_client.get(reverse("ram:policy_detail", args=["AliyunRAMReadOnlyAccess"])).text
    assert 'data-testid="policy-authorize"' in page
    assert f'<option value="{alice.user_id}">alice</option>' in page
    url = reverse("ram:policy_authorize", args=["AliyunRAMReadOnlyAccess"])
    response = owner_client.get(url, {"user": alice.user_id})
    assert response.status_code == 302
    panel = owner_client.get(response.url).text
    checked = 'value="AliyunRAMReadOnlyAccess"'
    assert checked in panel
    tag = panel[
        panel.rindex("<input", 0, panel.index(checked)) : panel.index(">", panel.index(checked))
    ]
    assert "checked" in tag


def test_add_authorization_from_a_policy_page_is_404_for_another_accounts_user(
    owner_client, other_account
):
    stranger = ram_user_named(other_account, "stranger")
    url = reverse("ram:policy_authorize", args=["AliyunRAMReadOnlyAccess"])
    assert owner_client.get(url, {"user": stranger.user_id}).status_code == 404


def test_the_script_editor_offers_no_dead_visual_editor_tab(owner_client):
    page = owner_client.get(reverse("ram:policy_create")).text
    assert "Visual Editor" not in page and "Script Editor" in page
