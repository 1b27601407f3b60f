"""Deploy checks (`manage.py check --deploy`) for settings that must stay off in production.

The robot-webhook switches exist so that tests can point robots at a loopback sink; left on in
production they would let a saved webhook reach the console's own network (rules §4).
"""

from __future__ import annotations

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register

ALLOW_PRIVATE_ON = (
    "SAE_ROBOT_ALLOW_PRIVATE is on: robot webhooks may reach loopback, private and link-local "
    "addresses (cloud metadata included)."
)
ALLOW_HTTP_ON = (
    "SAE_ROBOT_ALLOW_HTTP is on: robot webhooks may use plain http:// on any port, so robot "
    "tokens and messages cross the network unencrypted."
)
TEST_SINKS_ONLY = "Turn it off outside tests: it exists for loopback test sinks only."


@register(Tags.security, deploy=True)
def check_robot_webhook_switches(app_configs=None, **kwargs) -> list[CheckMessage]:
    warnings: list[CheckMessage] = []
    if settings.ROBOT_WEBHOOK_ALLOW_PRIVATE:
        warnings.append(Warning(ALLOW_PRIVATE_ON, hint=TEST_SINKS_ONLY, id="sae.W001"))
    if settings.ROBOT_WEBHOOK_ALLOW_HTTP:
        warnings.append(Warning(ALLOW_HTTP_ON, hint=TEST_SINKS_ONLY, id="sae.W002"))
    return warnings
