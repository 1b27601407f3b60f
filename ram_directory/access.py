"""View helpers: who may open console pages, and 404-not-403 lookups (rules §1, §3)."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404


def console_view(view):
    """Signed in, and acting for an account (platform operators use the admin instead)."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        # `not`, never `is None`: request.principal is a lazy object wrapping None.
        if not request.principal:
            raise PermissionDenied("This sign-in belongs to no account; use the admin site.")
        return view(request, *args, **kwargs)

    return wrapper


def get_for_account[M: Model](queryset: QuerySet[M], principal, **lookup) -> M:
    """The object if it is in the principal's account; otherwise 404, as if it did not exist."""
    if has_nul(*lookup.values()):
        raise Http404  # no row can hold it, and PostgreSQL refuses it in a query (500)
    return get_object_or_404(queryset.filter(account=principal.account), **lookup)


def has_nul(*values: object) -> bool:
    """Whether a text from the URL or query string carries a NUL character: nothing stored
    can match it, and PostgreSQL refuses it in a query."""
    return any(isinstance(value, str) and "\x00" in value for value in values)


def require(principal, action: str, resource: str = "*") -> None:
    """403 unless the principal is allowed the action (use after the object lookup)."""
    if not principal.can(action, resource):
        raise PermissionDenied(f"You are not allowed {action}.")


__all__ = ["Http404", "console_view", "get_for_account", "has_nul", "require"]
