"""rules §4 "bad input of any kind gets a message next to the field": hypothesis-generated POSTs
to the New Contact panel and the Edit Contact dialog never answer 500; a refused POST saves
nothing, an accepted one saves exactly one contact that obeys every rule."""

from __future__ import annotations

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from contacts import services
from contacts.models import Contact
from contacts.validators import normalize_mainland_mobile
from tests.integration.contacts_support import (
    DINGTALK_URL,
    ONE_MOBILE_TYPED,
    WECOM_URL,
    mobile,
    principal_of,
    ram_user_named,
)

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Arbitrary text, biased towards the near-misses that matter: numbers, URLs, secrets.
anything = st.one_of(
    st.text(max_size=80),
    st.text(alphabet="0123456789 +-()x\uff18\uff16", max_size=25),
    st.sampled_from(
        [
            "",
            "13811112222",
            "+852 5123 4567",
            DINGTALK_URL,
            WECOM_URL,
            DINGTALK_URL.replace("https", "http"),
            "https://oapi.dingtalk.com:8443/robot/send?access_token=abcdefgh",
            "SEC" + "a" * 64,
            "a@b.co",
            "\x00",
            "' OR 1=1 --",
            "<script>alert(1)</script>",
        ]
    ),
)
kinds = st.one_of(
    st.sampled_from(["account", "ram_user", "", "RAM_USER", "owner"]), st.text(max_size=10)
)


@FUZZ
@given(
    kind=kinds,
    username=anything,
    ram_user=st.one_of(st.text(max_size=12), st.integers(-5, 10**12).map(str), st.just("OWN")),
    phone=anything,
    mailbox=anything,
    dingtalk_webhook=anything,
    dingtalk_secret=anything,
    wecom_webhook=anything,
    htmx=st.booleans(),
)
def test_new_contact_posts_never_answer_500(
    owner_client,
    account,
    kind,
    username,
    ram_user,
    phone,
    mailbox,
    dingtalk_webhook,
    dingtalk_secret,
    wecom_webhook,
    htmx,
):
    alice = (
        ram_user_named(account, "alice")
        if not account.ram_users.exists()
        else account.ram_users.get()
    )
    data = {
        "username_kind": kind,
        "username": username,
        "ram_user": str(alice.pk) if ram_user == "OWN" else ram_user,
        "phone": phone,
        "mailbox": mailbox,
        "dingtalk_webhook": dingtalk_webhook,
        "dingtalk_secret": dingtalk_secret,
        "wecom_webhook": wecom_webhook,
    }
    # The test client cannot send NUL in form data any more than a browser would.
    data = {k: v.replace("\x00", "") for k, v in data.items()}
    before = Contact.objects.filter(account=account).count()
    headers = {"HX-Request": "true"} if htmx else {}
    response = owner_client.post(reverse("contacts:new"), data, headers=headers)
    event(f"new contact: {response.status_code}")  # --hypothesis-show-statistics
    assert response.status_code in (204, 302, 422), response.status_code
    after = Contact.objects.filter(account=account).count()
    if response.status_code == 422:
        assert after == before
    else:
        assert after == before + 1
        contact = Contact.objects.filter(account=account).order_by("-pk").first()
        assert normalize_mainland_mobile(contact.phone).as_e164 == contact.phone.as_e164
        Contact.objects.filter(pk=contact.pk).get().delete()  # next example starts clean


@FUZZ
@given(
    phone=anything,
    mailbox=anything,
    dingtalk_webhook=anything,
    dingtalk_secret=anything,
    clear=st.sampled_from(["", "on", "x"]),
    wecom_webhook=anything,
)
def test_edit_contact_posts_never_answer_500(
    owner_client, account, phone, mailbox, dingtalk_webhook, dingtalk_secret, clear, wecom_webhook
):
    contact = Contact.objects.filter(account=account).first() or services.create_contact(
        principal=principal_of(account), ram_user=None, phone=mobile(1)
    )
    data = {
        "phone": phone,
        "mailbox": mailbox,
        "dingtalk_webhook": dingtalk_webhook,
        "dingtalk_secret": dingtalk_secret,
        "clear_dingtalk_secret": clear,
        "wecom_webhook": wecom_webhook,
    }
    data = {k: v.replace("\x00", "") for k, v in data.items()}
    response = owner_client.post(reverse("contacts:edit", args=[contact.pk]), data)
    event(f"edit: {response.status_code}")
    assert response.status_code in (302, 422), response.status_code


@FUZZ
@given(
    kind=st.sampled_from(["account", "ram_user"]),
    account_name=st.sampled_from(["LOGIN", "ID", "login-upper"]),
    phone=st.sampled_from(ONE_MOBILE_TYPED),
    mailbox=st.sampled_from(["", "a@example.com", "Li.Lei+x@sub.example.cn"]),
    dingtalk=st.sampled_from(["", DINGTALK_URL]),
    secret=st.sampled_from(["", "SEC" + "ab" * 32]),
    wecom=st.sampled_from(["", WECOM_URL]),
    htmx=st.booleans(),
)
def test_valid_variants_of_every_field_are_saved_as_one_contact(
    owner_client, account, kind, account_name, phone, mailbox, dingtalk, secret, wecom, htmx
):
    """The other side of the fuzz: well-formed input in any accepted spelling is saved."""
    alice = account.ram_users.first() or ram_user_named(account, "alice")
    typed = {
        "LOGIN": account.login_name,
        "ID": account.account_id,
        "login-upper": account.login_name.upper(),
    }[account_name]
    data = {
        "username_kind": kind,
        "username": typed,
        "ram_user": str(alice.pk),
        "phone": phone,
        "mailbox": mailbox,
        "dingtalk_webhook": dingtalk,
        "dingtalk_secret": secret if dingtalk else "",
        "wecom_webhook": wecom,
    }
    headers = {"HX-Request": "true"} if htmx else {}
    response = owner_client.post(reverse("contacts:new"), data, headers=headers)
    assert response.status_code == (204 if htmx else 302)
    contact = Contact.objects.get(account=account)
    assert contact.phone.as_e164 == "+8613811112222"
    assert contact.ram_user == (alice if kind == "ram_user" else None)
    assert (contact.mailbox, contact.dingtalk_webhook, contact.wecom_webhook) == (
        mailbox,
        dingtalk,
        wecom,
    )
    contact.delete()  # next example starts clean (pre_delete removes the ARMS contact)
