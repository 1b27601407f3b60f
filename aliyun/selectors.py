"""Reads with rules: who may open the Cloud Connection page."""

from __future__ import annotations

from django.http import Http404

from ram_directory.principal import Principal


def ensure_owner(principal: Principal) -> None:
    """The Cloud Connection page is the account owner's: to a RAM user it does not exist
    (404, as for another account's objects: its credentials are not a RAM user's business)."""
    if not principal.is_owner:
        raise Http404
