from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from ram_directory.principal import Principal


def principal_for(user) -> Principal | None:
    """The principal a signed-in user acts as; None for anonymous users and platform operators."""
    if not user.is_authenticated or user.account_id is None:
        return None
    return Principal(user.account, user.ram_user)


class PrincipalMiddleware:
    """Sets `request.principal`, resolved lazily so pages that never ask pay nothing."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.principal = SimpleLazyObject(lambda: principal_for(request.user))
        return self.get_response(request)
