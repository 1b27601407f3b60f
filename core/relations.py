"""Model relations declared the same way in several apps."""

from __future__ import annotations

from typing import Any

from django.db import models


def optional_key(
    to: type[models.Model] | str, on_delete, *, one_to_one: bool = False, **options: Any
) -> models.ForeignKey:
    """A link a row may lack: NULL in the database, blank in forms (who created a contact, the
    SAE contact an ARMS contact is linked to, the policy an approval granted). `one_to_one`
    makes it a OneToOneField: at most one row links to each target."""
    field = models.OneToOneField if one_to_one else models.ForeignKey
    return field(to, on_delete=on_delete, null=True, blank=True, **options)
