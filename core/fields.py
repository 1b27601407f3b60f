"""Encryption at rest for secrets in model fields (rules §8: robot tokens, signing secrets).

`settings.FIELD_ENCRYPTION_KEYS` holds Fernet keys, newest first: the first encrypts, all of
them decrypt (MultiFernet), so a key is rotated by putting a new one first, re-encrypting
(`manage.py rotate_secrets`), then dropping the old one. A `derive:<text>` entry (debug mode
only, see settings) is turned into a key by hashing the text.

The column holds Fernet tokens; the empty string stays empty so that "has a robot" remains a
plain `!= ""` filter. Nothing may filter on the plaintext of an encrypted column.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.signals import setting_changed
from django.db import models
from django.dispatch import receiver


def _fernet(entry: str) -> Fernet:
    if entry.startswith("derive:"):
        digest = hashlib.sha256(b"sae-field-encryption:" + entry[7:].encode()).digest()
        return Fernet(base64.urlsafe_b64encode(digest))
    return Fernet(entry.encode())


@cache
def field_cipher() -> MultiFernet:
    return MultiFernet([_fernet(entry) for entry in settings.FIELD_ENCRYPTION_KEYS])


@receiver(setting_changed)
def _keys_changed(setting, **kwargs):
    if setting == "FIELD_ENCRYPTION_KEYS":
        field_cipher.cache_clear()


def encrypt_text(value: str) -> str:
    return field_cipher().encrypt(value.encode()).decode() if value else ""


def decrypt_text(value: str) -> str:
    if not value:
        return ""
    try:
        return field_cipher().decrypt(value.encode()).decode()
    except InvalidToken:
        # A key was dropped before its rows were re-encrypted: say so instead of a bare
        # traceback deep in the ORM.
        raise InvalidToken(
            "An encrypted field cannot be decrypted with SAE_FIELD_ENCRYPTION_KEYS: "
            "was a key removed before `manage.py rotate_secrets` ran?"
        ) from None


def reencrypt_text(value: str) -> str:
    """The same secret under the newest key (MultiFernet.rotate)."""
    return field_cipher().rotate(value.encode()).decode() if value else ""


class EncryptedTextField(models.TextField):
    """A text column stored as a Fernet token; Python code sees plaintext."""

    def from_db_value(self, value, expression, connection):
        return decrypt_text(value) if value is not None else value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return encrypt_text(value) if value else value


def encrypt_columns_migration(table: str, columns: list[str]):
    """A data migration's (forward, backward) pair that encrypts the plaintext already stored in
    `columns` of `table` (when a column becomes an EncryptedTextField), or decrypts it back.
    Raw SQL: the historical model would already try to decrypt what it reads."""

    def convert(schema_editor, transform) -> None:
        quote = schema_editor.connection.ops.quote_name
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(f"SELECT id, {', '.join(map(quote, columns))} FROM {quote(table)}")
            rows = cursor.fetchall()
            sets = ", ".join(f"{quote(c)} = %s" for c in columns)
            for pk, *values in rows:
                new = [transform(v) if v else (v or "") for v in values]
                cursor.execute(f"UPDATE {quote(table)} SET {sets} WHERE id = %s", [*new, pk])

    def forward(apps, schema_editor):
        convert(schema_editor, encrypt_text)

    def backward(apps, schema_editor):
        convert(schema_editor, decrypt_text)

    return forward, backward
