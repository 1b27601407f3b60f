"""DingTalk custom robot: the webhook URL (its access_token a secret), the optional signing
secret and the optional security keyword (rules §4), all three copied to the ARMS contact
(rules §5), sent by arms_sync.notify.dingtalk (rules §8)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from contacts.channels.base import (
    KEYWORD,
    SECRET,
    ChannelField,
    RobotUrl,
    robot_channel,
    text_input,
)
from contacts.validators import (
    DINGTALK_KEYWORD_MAX_LENGTH,
    mask_dingtalk_secret,
    validate_dingtalk_keyword,
    validate_dingtalk_secret,
)
from core.fields import EncryptedTextField

KIND = "dingtalk"
SECRET_WITHOUT_ROBOT = gettext_noop(
    "A signing secret goes with a DingTalk Robot URL: enter the URL too."
)
KEYWORD_WITHOUT_ROBOT = gettext_noop("A keyword goes with a DingTalk Robot URL: enter the URL too.")

CHANNEL = robot_channel(
    robot=RobotUrl(
        kind=KIND,
        name=gettext_noop("DingTalk Robot"),
        path="/robot/send",
        token_param="access_token",
        invalid=gettext_noop(
            "Enter the webhook URL of the DingTalk Robot, such as "
            "https://oapi.dingtalk.com/robot/send?access_token=<token>."
        ),
    ),
    transport="arms_sync.notify.dingtalk.DingTalkTransport",
    label=_("DingTalk Robot"),
    form_label=_("Dingtalk Robot"),  # the seed's New Contact label
    help_text=_(
        "Enter the webhook URL of the DingTalk Robot: "
        "https://oapi.dingtalk.com/robot/send?access_token=…"
    ),
    clear_label=_("Remove the DingTalk Robot (and its signing secret and keyword)"),
    arms_field="ding_robot_url",
    recipient_key="dingtalk_url",
    badge_field="dingtalk_secret",
    badge_label=_("Signed with a secret"),
    companions=(
        ChannelField(
            name="dingtalk_secret",
            model_field=EncryptedTextField(_("DingTalk signing secret"), blank=True),
            form_field=text_input(
                _("DingTalk signing secret"),
                max_length=128,
                help_text=_(
                    "Optional. If the robot uses Additional Signature security, its secret (SEC…)."
                ),
                placeholder="SEC…",
            ),
            validate=validate_dingtalk_secret,
            part=SECRET,
            arms_field="ding_robot_secret",
            recipient_key="dingtalk_secret",
            mask=mask_dingtalk_secret,
            saved_help=_(
                "A secret is saved (%(mask)s). Leave blank to keep it, or enter a new one."
            ),
            clear_label=_("Remove the signing secret"),
            without_address=(SECRET_WITHOUT_ROBOT, "secret_without_robot"),
        ),
        ChannelField(
            name="dingtalk_keyword",
            # The robot's custom keyword (security setting); empty means the default, 告警.
            model_field=models.CharField(
                _("DingTalk keyword"), max_length=DINGTALK_KEYWORD_MAX_LENGTH, blank=True
            ),
            form_field=text_input(
                _("DingTalk keyword"),
                max_length=DINGTALK_KEYWORD_MAX_LENGTH,
                help_text=_(
                    "Optional. If the robot uses Custom Keywords security, one of its keywords "
                    "(from the robot's Security Settings); every message carries it. "
                    "Default: 告警."
                ),
                placeholder="告警",
            ),
            validate=validate_dingtalk_keyword,
            part=KEYWORD,
            arms_field="ding_robot_keyword",
            recipient_key="dingtalk_keyword",
            without_address=(KEYWORD_WITHOUT_ROBOT, "keyword_without_robot"),
        ),
    ),
)
