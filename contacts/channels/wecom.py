"""WeCom group robot: the webhook URL (its key a secret, rules §4), copied to the ARMS
contact (rules §5; aliyun/push.py makes it an ARMS IM robot), sent by arms_sync.notify.wecom
(rules §8)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from contacts.channels.base import RobotUrl, robot_channel

CHANNEL = robot_channel(
    robot=RobotUrl(
        kind="wecom",
        name=gettext_noop("WeCom Robot"),
        path="/cgi-bin/webhook/send",
        token_param="key",
        invalid=gettext_noop(
            "Enter the webhook URL of the WeCom Robot, such as "
            "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=<key>."
        ),
    ),
    transport="arms_sync.notify.wecom.WeComTransport",
    label=_("WeCom Robot"),
    form_label=_("Wecom Robot"),  # the seed's New Contact label
    help_text=_(
        "Enter the webhook URL of the WeCom Robot: "
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…"
    ),
    clear_label=_("Remove the WeCom Robot"),
    arms_field="wecom_robot_url",
    recipient_key="wecom_url",
)
