"""Each person's console language, remembered on their sign-in (rules §15): what is sent to them
is written in it. Set when they use the language switcher, and at sign-in from the language
the session (the switcher's cookie, else the browser) was already in."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import check_for_language, get_language_from_request
from django.views.i18n import set_language

LANGUAGE_CODES = {code for code, _name in settings.LANGUAGES}


def remember(user, language: str) -> None:
    """Store `language` on the sign-in when it is one of the console's and has changed."""
    if not getattr(user, "is_authenticated", False) or getattr(user, "pk", None) is None:
        return
    language = (language or "").lower()
    if language not in LANGUAGE_CODES or user.language == language:
        return
    user.language = language
    user.save(update_fields=["language"])


def switch_language(request):
    """Django's set_language, and the choice remembered on the sign-in."""
    response = set_language(request)
    chosen = request.POST.get("language", "") if request.method == "POST" else ""
    if chosen and check_for_language(chosen):
        remember(request.user, chosen)
    return response


def signed_in(sender, request, user, **kwargs) -> None:
    """user_logged_in: the language the person was using when they signed in."""
    if request is not None:
        remember(user, get_language_from_request(request))
