"""The channel registry (contacts/channels): every channel describes every part once, and a
fourth channel registered here reaches the forms, the services' validation, the audit masks,
linking and the outbox without a change to them (docs/architecture.md, "Channels")."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.module_loading import import_string

from arms_sync import linking
from arms_sync.models import ArmsContact
from arms_sync.notify import base
from arms_sync.notify.models import Delivery
from arms_sync.notify.outbox import Recipient, mask_target, target_key
from arms_sync.notify.transports import get_transport
from contacts import channels, services
from contacts.channels.base import ADDRESS, TARGET_PARTS, Channel, ChannelField, text_input
from contacts.forms import EditContactForm
from contacts.models import Contact

LARK_URL = "https://open.feishu.cn/open-apis/bot/v2/hook/0123456789abcdef"


def test_every_channel_has_every_part():
    assert [c.name for c in channels.all_channels()] == ["email", "dingtalk", "wecom"]
    for channel in channels.all_channels():
        assert channel.name in Delivery.Channel.values
        assert channel.address.part == ADDRESS
        assert channel.column_label
        transport = import_string(channel.transport)
        assert transport.channel == channel.name
        assert get_transport(channel.name).channel == channel.name
        if channel.robot is not None:
            assert channel.robot.kind == channel.name
            assert settings.ROBOT_WEBHOOK_HOSTS[channel.name]
        if channel.badge_field:
            assert channel.badge_field in [f.name for f in channel.companions]
            assert channel.badge_label
        for field in channel.fields:
            assert field.part in TARGET_PARTS
            assert Contact._meta.get_field(field.name).verbose_name
            assert isinstance(field.form_field, forms.Field)
            assert field.recipient_key
            if field.arms_field:
                ArmsContact._meta.get_field(field.arms_field)
            if field.is_secret:
                assert field.saved_help and field.clear_label
            if field.masked_column:
                assert not Contact._meta.get_field(field.masked_column).editable
        for companion in channel.companions:
            assert companion.part != ADDRESS
            assert companion.without_address


def test_every_contact_channel_field_is_copied_to_the_arms_contact():
    copied = linking.copied_fields()
    assert copied == {
        "name": "username",
        "phone": "phone",
        "email": "mailbox",
        "ding_robot_url": "dingtalk_webhook",
        "ding_robot_secret": "dingtalk_secret",
        "ding_robot_keyword": "dingtalk_keyword",
        "wecom_robot_url": "wecom_webhook",
    }


class FakeLarkTransport:
    channel = "lark"

    def send(self, target, message):
        return base.Answer(ok=True)

    def fits(self, target, message):
        return True


def _validate_lark(url: str) -> str:
    if not url.startswith("https://open.feishu.cn/"):
        raise ValidationError("not a Lark robot", code="invalid_robot_url")
    return url


LARK = Channel(
    name="lark",
    transport="tests.unit.test_channels.FakeLarkTransport",
    column_label="Lark Robot",
    fields=(
        ChannelField(
            name="lark_webhook",
            model_field=models.TextField(blank=True),
            form_field=text_input("Lark Robot"),
            validate=_validate_lark,
            arms_field="lark_robot_url",
            recipient_key="lark_url",
            mask=lambda url: url[:30] + "…",
            saved_help="A robot is saved (%(mask)s).",
            clear_label="Remove the Lark Robot",
        ),
    ),
)


@pytest.fixture
def lark(monkeypatch):
    monkeypatch.setitem(channels._REGISTRY, "lark", LARK)
    return LARK


def _contact(**values):
    fields = dict.fromkeys(channels.field_names(), "")
    return SimpleNamespace(username="alice", phone=None, **{**fields, **values})


def test_a_fourth_channel_gets_form_fields_and_their_rule(lark):
    contact = _contact(lark_webhook=LARK_URL)
    form = EditContactForm(data={"phone": "13811112222"}, contact=contact)
    assert "lark_webhook" in form.fields and "clear_lark_webhook" in form.fields
    assert form.fields["lark_webhook"].widget.attrs["placeholder"] == LARK_URL[:30] + "…"
    assert form.is_valid(), form.errors
    # Blank keeps the saved robot, as for the others.
    assert form.service_kwargs()["lark_webhook"] == LARK_URL
    assert form.typed_values()["lark_webhook"] == LARK_URL

    refused = EditContactForm(
        data={"phone": "13811112222", "lark_webhook": "https://evil.example/x"}, contact=contact
    )
    assert not refused.is_valid()
    assert refused.errors["lark_webhook"] == ["not a Lark robot"]


def test_a_fourth_channel_is_validated_and_masked_by_the_services(lark):
    with pytest.raises(ValidationError) as exc:
        services._clean_channels("+8613811112222", {"lark_webhook": "https://evil.example/x"})
    assert exc.value.message_dict == {"lark_webhook": ["not a Lark robot"]}
    cleaned = services._clean_channels("+8613811112222", {"lark_webhook": LARK_URL})
    assert cleaned["lark_webhook"] == LARK_URL
    assert "lark_webhook" in services._audited_fields()
    assert services._audit_masks()["lark_webhook"](LARK_URL) == LARK_URL[:30] + "…"


def test_a_fourth_channel_is_copied_to_the_arms_contact(lark):
    arms = SimpleNamespace()
    linking.copy_contact_fields(arms, _contact(lark_webhook=LARK_URL))
    assert arms.lark_robot_url == LARK_URL
    assert arms.name == "alice"


def test_a_fourth_channel_becomes_a_recipient_target_with_its_transport(lark):
    recipient = Recipient.from_contact(
        _contact(lark_webhook=LARK_URL, mailbox="a@example.com", ram_user_id=1, ram_user=None),
        owner_language="",
    )
    assert recipient.targets() == [
        base.Target("email", "a@example.com"),
        base.Target("lark", LARK_URL),
    ]
    assert Recipient(name="b", lark_url=LARK_URL).targets() == [base.Target("lark", LARK_URL)]
    assert mask_target("lark", LARK_URL) == LARK_URL[:30] + "…"
    assert target_key("lark", LARK_URL) != target_key("lark", LARK_URL + "x")
    assert isinstance(get_transport("lark"), FakeLarkTransport)


def test_an_unknown_channel_value_is_refused():
    with pytest.raises(TypeError):
        Recipient(name="a", lark_url=LARK_URL)
    with pytest.raises(TypeError):
        services._clean_channels("+8613811112222", {"lark_webhook": LARK_URL})
    with pytest.raises(ValueError, match="no transport"):
        get_transport("lark")
