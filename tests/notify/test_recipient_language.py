"""rules §15: each person's notifications are in the language they chose. The console language
(the switcher) is remembered on the sign-in, also at sign-in from the language the browser was
already in; what is sent to a person is written in it; a contact nobody signs in as gets the
account's default (SAE_NOTIFY_LANGUAGE)."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse

from arms_sync.intake import services as intake_services
from arms_sync.managed import ensure_managed
from arms_sync.models import ArmsContact
from arms_sync.notify import render
from arms_sync.notify.models import Delivery, Event
from arms_sync.notify.tasks import deliver
from contacts import services as contact_services
from ram_directory.principal import Principal
from tests.factories import PASSWORD, RamUserFactory, owner_of, owners_contact
from tests.intake.support import post_alerts
from tests.intake.test_lifecycle import body

pytestmark = pytest.mark.django_db


def test_the_language_switch_is_remembered_on_the_sign_in(owner_client, owner):
    owner_client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    owner.refresh_from_db()
    assert owner.language == "zh-hans"
    owner_client.post(reverse("set_language"), {"language": "en", "next": "/"})
    owner.refresh_from_db()
    assert owner.language == "en"


def test_signing_in_remembers_the_language_the_browser_was_in(account):
    owner = owner_of(account)
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-Hans")
    response = client.post(reverse("signin"), {"username": owner.username, "password": PASSWORD})
    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.language == "zh-hans"


def test_an_unknown_language_is_not_remembered(owner_client, owner):
    owner_client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    owner_client.post(reverse("set_language"), {"language": "xx", "next": "/"})
    owner.refresh_from_db()
    assert owner.language == "zh-hans"


@override_settings(NOTIFY_LANGUAGE="zh-hans")
def test_each_recipient_gets_the_alert_in_their_own_language(client, account):
    owner = owner_of(account)
    owner.language = "en"
    owner.save()
    alice = RamUserFactory(account=account, user_name="alice")
    alice.sign_in.language = "zh-hans"
    alice.sign_in.save()
    owners_contact(account, phone="+8613800000981", mailbox="o@ex.com")
    contact_services.create_contact(
        principal=Principal(account), ram_user=alice, phone="+8613800000982", mailbox="a@ex.com"
    )
    # An ARMS contact nobody signs in as: the account's default.
    stranger = ArmsContact.objects.create(account=account, name="pager", email="p@ex.com")
    ensure_managed(account).contacts_group.members.add(stranger)
    token = intake_services.rotate_token(account=account)
    post_alerts(client, token, body())
    languages = dict(Delivery.objects.values_list("target_masked", "language"))
    assert languages == {"o@ex.com": "en", "a@ex.com": "zh-hans", "p@ex.com": ""}
    deliver.call(list(Delivery.objects.values_list("pk", flat=True)))
    subjects = {m.to[0]: m.subject for m in mail.outbox}
    assert subjects["o@ex.com"] == "[Alert][FIRING:1] DiskFull"
    assert subjects["a@ex.com"] == "【告警】[触发 1] DiskFull"
    assert subjects["p@ex.com"] == "【告警】[触发 1] DiskFull"


@override_settings(NOTIFY_LANGUAGE="en")
def test_without_a_choice_the_accounts_default_applies(account):
    event = Event.objects.create(account=account, kind="test", payload={"contact": "x"})
    assert render.render_event(event, channel="email").subject == "SAE contact test: x"
    assert render.render_event(event, channel="email", lang="fr").subject == "SAE contact test: x"
    zh = render.render_event(event, channel="email", lang="zh-hans").subject
    assert zh == "SAE 联系人测试通知：x"  # noqa: RUF001


def test_the_accounts_own_contact_is_tested_in_the_owners_language(account):
    from arms_sync.notify.outbox import Recipient

    owner = owner_of(account)
    owner.language = "en"
    owner.save()
    contact = owners_contact(account, phone="+8613800000983", mailbox="o@ex.com")
    assert Recipient.from_contact(contact).language == "en"
