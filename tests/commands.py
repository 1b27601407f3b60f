"""Helpers for the operator command tests (SPEC 10): in-process runs and real shell runs."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.db import connection


def write_json(tmp_path: Path, data: Any, name: str) -> Path:
    """An import file: `data` as JSON, or a string written as it is (for broken files)."""
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def run(*args: Any) -> str:
    """The command's stdout, run in-process (its errors raise CommandError)."""
    out = io.StringIO()
    call_command(*[str(a) for a in args], stdout=out, stderr=io.StringIO())
    return out.getvalue()


def database_url() -> str:
    """The test database as a DATABASE_URL, so a subprocess sees this test's committed rows."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def manage(*args: str) -> subprocess.CompletedProcess[str]:
    """`manage.py <args>` from the shell, as an operator runs it (exit code, stderr lines)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sae_console.test_settings",
        "DATABASE_URL": database_url(),
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
