"""Settings for the test suite: the production settings with what tests need changed."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-secret-key-not-for-production-" + "x" * 20)
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
# A fixed key, so worker processes that tests start read what the tests wrote.
os.environ.setdefault("SAE_FIELD_ENCRYPTION_KEYS", "xptF9EXyZR8FBRSYaGDz1tOsc4I2zdzbocXVushgqzs=")

from sae_console.settings import *  # noqa: F403

# Plain static storage: no collectstatic needed before the suite.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# The test client and live_server speak plain HTTP.
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
# Argon2 is deliberately slow; tests sign in hundreds of times.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
AXES_ENABLED = False

# A file database, so the concurrency tests meet SQLite's real locking (memory hides it).
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.environ.get("SAE_SQLITE_TEST_DB", str(BASE_DIR / ".test-db.sqlite3"))  # noqa: F405
    }
