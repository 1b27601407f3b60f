"""Marks shared by tests of several areas."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.conf import settings

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def postgres_only[T: Callable](reason: str) -> Callable[[T], T]:
    """For a test that runs once, on PostgreSQL: the `postgres_only` mark, and on SQLite a skip
    that says why."""

    def mark(test: T) -> T:
        return pytest.mark.postgres_only(pytest.mark.skipif(not ON_POSTGRES, reason=reason)(test))

    return mark
