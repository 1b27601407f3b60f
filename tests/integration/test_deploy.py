"""Deploy hardening (docs/architecture.md, "Data and infrastructure"; rules §10's operator surface).

The production settings (`sae_console.settings`, not the test settings) are loaded in a clean
interpreter, the way gunicorn or `manage.py` loads them on a server.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
import subprocess
import sys

import pytest
from django.conf import settings
from django.urls import reverse

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "sae_console.settings",
    "DJANGO_DEBUG": "0",
    "DJANGO_ALLOWED_HOSTS": "console.example.com",
}


def clean_env(**overrides: str | None) -> dict[str, str]:
    """The current environment without any project setting, plus production's and overrides."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "AXES_", "SAE_")) and k != "DATABASE_URL"
    }
    env.update(PRODUCTION_ENV)
    env["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(64)
    env["SAE_FIELD_ENCRYPTION_KEYS"] = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run_python(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def printed_after_setup(*lines: str, env: dict[str, str]) -> list[str]:
    """What `lines` print (split into words), run after django.setup() under `env`; they must
    run without error."""
    code = "\n".join(["import django; django.setup()", *lines])
    result = run_python(["-c", code], env)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_python(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)


def test_check_deploy_is_clean_with_debug_off():
    result = check_deploy(clean_env())
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues (0 silenced)." in output
    assert "WARNING" not in output
    assert "security." not in output


def test_check_deploy_fails_on_a_weak_secret_key():
    """The check above is a real gate: a short key makes it fail (security.W009)."""
    result = check_deploy(clean_env(DJANGO_SECRET_KEY="too-short"))
    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr


@pytest.mark.parametrize("secret", [None, ""], ids=["unset", "empty"])
def test_settings_refuse_to_load_with_debug_off_and_no_secret_key(secret):
    env = clean_env(DJANGO_SECRET_KEY=secret)
    result = run_python(["-c", "import django; django.setup()"], env)
    assert result.returncode != 0
    assert "django.core.exceptions.ImproperlyConfigured" in result.stderr
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_debug_mode_loads_without_a_secret_key():
    """The development switch still works (so the refusal above is about debug being off)."""
    env = clean_env(DJANGO_SECRET_KEY=None, DJANGO_DEBUG="1")
    printed = printed_after_setup(
        "from django.conf import settings", "print(settings.DEBUG)", env=env
    )
    assert printed == ["True"]


def test_production_password_hasher_is_argon2():
    printed = printed_after_setup(
        "from django.contrib.auth.hashers import get_hasher, make_password",
        "print(get_hasher().algorithm)",
        "print(make_password('a console password').split('$')[0])",
        env=clean_env(),
    )
    assert printed == ["argon2", "argon2"]


def test_production_security_settings_are_on():
    printed = printed_after_setup(
        "from django.conf import settings as s",
        "print(s.DEBUG, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE,"
        " s.SECURE_HSTS_SECONDS >= 31536000, s.X_FRAME_OPTIONS)",
        env=clean_env(),
    )
    assert printed == ["False", "True", "True", "True", "True", "DENY"]


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc=)([^>]*)>", re.IGNORECASE)


def assert_strict_csp(response) -> None:
    policy = response.headers.get("Content-Security-Policy", "")
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy
    script_src = next(d for d in policy.split(";") if d.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script_src
    nonce = re.search(r"'nonce-([^']+)'", script_src)
    assert nonce, policy
    # Every inline script on the page carries this response's nonce; no inline style attributes.
    html = response.content.decode()
    for attributes in INLINE_SCRIPT.findall(html):
        assert f'nonce="{nonce.group(1)}"' in attributes, attributes
    assert ' style="' not in html


@pytest.mark.django_db
def test_sign_in_page_has_a_content_security_policy(client):
    response = client.get(reverse("signin"))
    assert response.status_code == 200
    assert_strict_csp(response)


@pytest.mark.django_db
def test_console_page_has_a_content_security_policy(owner_client):
    response = owner_client.get(reverse("ram:user_list"))
    assert response.status_code == 200
    assert_strict_csp(response)
