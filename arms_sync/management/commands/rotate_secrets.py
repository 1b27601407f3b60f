"""`rotate_secrets [--json]`: re-encrypt every secret column under the newest key.

Rotation: put a new key first in SAE_FIELD_ENCRYPTION_KEYS (keep the old ones after it),
restart, run this, then drop the old keys."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db import transaction

from core.fields import EncryptedTextField
from ram_directory.management.base import OperatorCommand


def encrypted_fields():
    for model in apps.get_models():
        names = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if names:
            yield model, names


class Command(OperatorCommand):
    help = (
        "Re-encrypt robot tokens and signing secrets (every encrypted column) under the first "
        "key of SAE_FIELD_ENCRYPTION_KEYS."
    )
    reports = True

    def handle(self, *args: Any, **options: Any) -> None:
        counts = {}
        for model, names in encrypted_fields():
            done = 0
            # Row by row through update(): no model signals (a contact's save would propagate
            # to ARMS), and get_prep_value encrypts with the newest key.
            for row in model._base_manager.values("pk", *names).iterator(chunk_size=500):
                values = {name: row[name] for name in names if row[name]}
                if values:
                    with transaction.atomic():
                        model._base_manager.filter(pk=row["pk"]).update(**values)
                    done += 1
            counts[model._meta.label] = done
        if options["as_json"]:
            self.print_json({"reencrypted": counts})
        else:
            for label, done in counts.items():
                self.stdout.write(f"{label}: {done} row(s) re-encrypted")
