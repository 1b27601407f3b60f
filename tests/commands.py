"""Helpers for the operator command tests (rules §10): in-process runs and real shell runs."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import traceback
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import ManagementUtility, call_command
from django.db import connection, connections


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


def as_process_sees(text: str) -> str:
    """An argument or environment value as Python hands it to a process: the bytes a shell
    passes, decoded with surrogateescape (bytes that are not UTF-8 become lone surrogates)."""
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "surrogateescape")


@contextlib.contextmanager
def shell_streams(stdin_text: str):
    """stdin, stdout and stderr as a process has them: stdout strict UTF-8 and stderr
    backslashreplace, so a lone surrogate printed to stdout raises here as it does there."""
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict", write_through=True)
    err = io.TextIOWrapper(
        io.BytesIO(), encoding="utf-8", errors="backslashreplace", write_through=True
    )
    stdin = io.StringIO(stdin_text)
    with (
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
        pytest.MonkeyPatch.context() as patch,
    ):
        patch.setattr(sys, "stdin", stdin)
        # Commands close the connection when they finish (a process's last act); inside the
        # test's transaction that would end the test's own connection.
        patch.setattr(connections, "close_all", lambda: None)
        yield out, err


def run_as_shell(argv: list[str], stdin_text: str = "") -> tuple[int, str, str, str]:
    """(exit status, stdout, stderr, traceback or "") of `manage.py <argv>` as a shell runs it
    (argparse, the one `error:` line, the exit status), but in this process and inside the
    test's transaction, so that hundreds of runs take seconds. `argv` is as the process sees
    it (see `as_process_sees`). An exception that escapes is what a shell would print as a
    traceback."""
    problem = ""
    with shell_streams(stdin_text) as (out, err):
        try:
            ManagementUtility(["manage.py", *argv]).execute()
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        except Exception:
            code, problem = 1, traceback.format_exc()
        texts = []
        for stream in (out, err):
            stream.flush()
            texts.append(stream.buffer.getvalue().decode("utf-8", "replace"))
    return code, texts[0], texts[1], problem
