"""Trigram indexes (PostgreSQL's pg_trgm) for the admin's substring search over large tables.

Django's `icontains` is `UPPER(col::text) LIKE UPPER('%term%')` on PostgreSQL, so the index is
on that expression. Other databases get nothing (the migration does nothing there)."""

from __future__ import annotations

import logging

from django.db import DatabaseError, migrations, transaction

logger = logging.getLogger(__name__)


def _name(table: str, column: str) -> str:
    return f"{table}_{column}_trgm"[:63]


def trigram_indexes(table: str, columns: list[str]) -> migrations.RunPython:
    """A migration operation that creates (and reverses) the indexes on PostgreSQL only."""

    def forward(apps, schema_editor):
        connection = schema_editor.connection
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            try:
                with transaction.atomic(using=connection.alias):
                    cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            except DatabaseError:
                # A role that may not create it: searches stay correct, only slower.
                logger.warning("pg_trgm is not available: the admin's search is not indexed")
                return
            for column in columns:
                cursor.execute(
                    f'CREATE INDEX IF NOT EXISTS "{_name(table, column)}" ON "{table}" '
                    f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
                )

    def backward(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        with schema_editor.connection.cursor() as cursor:
            for column in columns:
                cursor.execute(f'DROP INDEX IF EXISTS "{_name(table, column)}"')

    return migrations.RunPython(forward, backward, elidable=False)
