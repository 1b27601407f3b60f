"""Deploy check: plain HTTP to the OpenAPI endpoints exists for a loopback fake only."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register

CLOUD_HTTP_ON = (
    "SAE_CLOUD_ALLOW_HTTP is on: cloud connections may use plain http://, so OpenAPI requests "
    "(signed with the account's AccessKey) and answers cross the network unencrypted."
)
FAKE_ONLY = "Turn it off outside tests: it exists for the loopback OpenAPI fake only."


@register(Tags.security, deploy=True)
def check_cloud_http(app_configs=None, **kwargs) -> list[CheckMessage]:
    if settings.CLOUD_ALLOW_HTTP:
        return [Warning(CLOUD_HTTP_ON, hint=FAKE_ONLY, id="sae.W010")]
    return []
