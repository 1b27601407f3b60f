"""Settings, read from the environment.

Defaults are safe for production (debug off, secure cookies, HSTS); `DJANGO_DEBUG=1` is the
development switch. With debug off, `DJANGO_SECRET_KEY` and `DJANGO_ALLOWED_HOSTS` must be set.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG")

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")
    SECRET_KEY = "django-insecure-development-only-key-never-used-in-production-0123456789"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # django.contrib.admin, every model admin gated against input no row can hold (rules §13).
    "sae_console.admin_apps.ConsoleAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "crispy_forms",
    "crispy_bootstrap5",
    "phonenumber_field",
    "axes",
    "django_tasks_db",
    "audit",
    "ram_directory",
    "contacts",
    "arms_sync",
    "aliyun",
]

MIDDLEWARE = [
    # /healthz, /readyz, /metrics: probes from load balancers and Prometheus, answered before
    # host validation and the HTTPS redirect (they reach a node by its address, over HTTP).
    "sae_console.probes.ProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Cache-Control: no-store on every response to a signed-in user (rules §13).
    "sae_console.middleware.NoStoreMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "ram_directory.middleware.PrincipalMiddleware",
    # Axes last: it inspects the response of a failed sign-in.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "sae_console.urls"
WSGI_APPLICATION = "sae_console.wsgi.application"
ASGI_APPLICATION = "sae_console.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "ram_directory.context_processors.principal",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# SQLite is the zero-set-up default. IMMEDIATE transactions take the write lock at BEGIN, so
# two requests racing for the last contact place queue up instead of failing with
# "database is locked" half-way; WAL lets readers go on meanwhile.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Identity -------------------------------------------------------------------------------
AUTH_USER_MODEL = "ram_directory.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "ram_directory.backends.ConsoleSignInBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "signin"
LOGIN_REDIRECT_URL = "contacts:list"
LOGOUT_REDIRECT_URL = "signin"

# Sign-in throttling: after 5 failures for one (username, address) pair, 15 minutes locked.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Counted under the name as the backend matches it (case-insensitive), not as typed.
AXES_USERNAME_CALLABLE = "ram_directory.backends.axes_username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
AXES_ENABLED = env_bool("AXES_ENABLED", True)

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("DJANGO_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True
PHONENUMBER_DEFAULT_REGION = "CN"
PHONENUMBER_DB_FORMAT = "E164"

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if DEBUG:
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Background tasks -----------------------------------------------------------------------
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# --- Email ----------------------------------------------------------------------------------
# Django 6.1's MAILERS; SMTP in production. While debugging (make run) every email is written
# to a file in DEMO_MAIL_DIR (.demo-mail/ by default: one .log file per sending connection), so
# the demo's emails can be read there instead of in the server's output.
DEMO_MAIL_DIR = os.environ.get("SAE_DEMO_MAIL_DIR", str(BASE_DIR / ".demo-mail"))
_smtp_options = {
    "host": os.environ.get("EMAIL_HOST", "localhost"),
    "port": int(os.environ.get("EMAIL_PORT", "25")),
    "username": os.environ.get("EMAIL_HOST_USER", ""),
    "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
    "use_tls": env_bool("EMAIL_USE_TLS"),
    "use_ssl": env_bool("EMAIL_USE_SSL"),
    "timeout": 10,
}
_email_backend = os.environ.get(
    "DJANGO_EMAIL_BACKEND",
    "django.core.mail.backends.filebased.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
_mailer_options = {
    "smtp.EmailBackend": _smtp_options,
    "filebased.EmailBackend": {"file_path": DEMO_MAIL_DIR},
}
MAILERS = {
    "default": {
        "BACKEND": _email_backend,
        "OPTIONS": next(
            (o for end, o in _mailer_options.items() if _email_backend.endswith(end)), {}
        ),
    }
}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "SAE Contact Console <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Robot webhooks (rules §4) ----------------------------------------------------------------
# Hosts a robot webhook may point at. Tests widen this to a loopback sink.
ROBOT_WEBHOOK_HOSTS = {
    "dingtalk": env_list("SAE_DINGTALK_HOSTS", "oapi.dingtalk.com"),
    "wecom": env_list("SAE_WECOM_HOSTS", "qyapi.weixin.qq.com"),
}
# Hosts may be `host` (port 443) or `host:port` entries. The two switches below exist for
# test sinks only; `check --deploy` warns while either is on.
# Whether a webhook may resolve to a non-public address (loopback sink in tests only).
ROBOT_WEBHOOK_ALLOW_PRIVATE = env_bool("SAE_ROBOT_ALLOW_PRIVATE")
# Whether a webhook may be plain http:// on any port (loopback sink in tests only).
ROBOT_WEBHOOK_ALLOW_HTTP = env_bool("SAE_ROBOT_ALLOW_HTTP")

# --- Notification delivery (rules §8) ---------------------------------------------------------
# Outbound HTTP to robots: timeouts (seconds) and the most of an answer that is read.
ROBOT_HTTP_CONNECT_TIMEOUT = float(os.environ.get("SAE_ROBOT_CONNECT_TIMEOUT", "3"))
ROBOT_HTTP_READ_TIMEOUT = float(os.environ.get("SAE_ROBOT_READ_TIMEOUT", "10"))
ROBOT_HTTP_MAX_RESPONSE_BYTES = 64 * 1024
# At most this many messages per robot in any window of this many seconds, across all workers
# (DingTalk and WeCom both allow 20 a minute). Tests shorten the window.
ROBOT_RATE_LIMIT = int(os.environ.get("SAE_ROBOT_RATE_LIMIT", "20"))
ROBOT_RATE_WINDOW_SECONDS = float(os.environ.get("SAE_ROBOT_RATE_WINDOW", "60"))
# When more messages wait for one robot than a window can carry, send them as one digest.
ROBOT_DIGEST = env_bool("SAE_ROBOT_DIGEST", True)
# Attempts per delivery (the first send included), and the backoff base (seconds, doubled per
# attempt, with full jitter, capped).
NOTIFY_MAX_ATTEMPTS = int(os.environ.get("SAE_NOTIFY_MAX_ATTEMPTS", "6"))
NOTIFY_BACKOFF_SECONDS = float(os.environ.get("SAE_NOTIFY_BACKOFF", "10"))
NOTIFY_BACKOFF_MAX_SECONDS = float(os.environ.get("SAE_NOTIFY_BACKOFF_MAX", "900"))
# Deliveries per send task: a worker claims them together and sends them concurrently.
NOTIFY_BATCH_SIZE = int(os.environ.get("SAE_NOTIFY_BATCH_SIZE", "50"))
# Sends one worker keeps in flight (robots), and connections it keeps to the mail server.
NOTIFY_CONCURRENCY = max(1, int(os.environ.get("SAE_NOTIFY_CONCURRENCY", "64")))
NOTIFY_SMTP_CONNECTIONS = max(1, int(os.environ.get("SAE_NOTIFY_SMTP_CONNECTIONS", "4")))
# How long the guard may reuse a robot host's resolved addresses (every send still checks
# them); bounded so a changed DNS answer is seen within seconds.
ROBOT_DNS_CACHE_SECONDS = min(
    300.0, max(0.0, float(os.environ.get("SAE_ROBOT_DNS_CACHE_SECONDS", "30")))
)
# A worker holds a claimed delivery this long; past it the sweeper hands the row to another
# worker (a worker killed mid-send). Longer than connect + read timeouts.
NOTIFY_LEASE_SECONDS = float(os.environ.get("SAE_NOTIFY_LEASE", "60"))
# How often notify_worker's sweeper looks for rows a lost task left behind, and how long a
# pending row may wait for its task before the sweeper enqueues another.
NOTIFY_SWEEP_SECONDS = float(os.environ.get("SAE_NOTIFY_SWEEP", "5"))
NOTIFY_REQUEUE_AFTER_SECONDS = float(os.environ.get("SAE_NOTIFY_REQUEUE_AFTER", "30"))
# Test sends a person may make in a minute (the Test button may name any mailbox).
NOTIFY_TESTS_PER_MINUTE = int(os.environ.get("SAE_NOTIFY_TESTS_PER_MINUTE", "10"))
# Language of notification messages: zh-hans (the console's default) or en.
NOTIFY_LANGUAGE = os.environ.get("SAE_NOTIFY_LANGUAGE", "zh-hans")

# Alert intake (POST /intake/alertmanager/): the largest body read, posts per minute per
# token, and how long an identical post counts as Alertmanager retrying (notified once).
INTAKE_MAX_BYTES = int(os.environ.get("SAE_INTAKE_MAX_BYTES", str(1024 * 1024)))
INTAKE_POSTS_PER_MINUTE = int(os.environ.get("SAE_INTAKE_POSTS_PER_MINUTE", "120"))
INTAKE_DEDUP_SECONDS = int(os.environ.get("SAE_INTAKE_DEDUP_SECONDS", "600"))
# The console's address as Alertmanager reaches it, for the snippet (default: the request's).
PUBLIC_URL = os.environ.get("SAE_PUBLIC_URL", "").rstrip("/")

# --- Cloud connection (rules §14, aliyun/) -----------------------------------------------------
# Plain http to the OpenAPI endpoints: for a loopback fake only (`check --deploy` warns).
CLOUD_ALLOW_HTTP = env_bool("SAE_CLOUD_ALLOW_HTTP")
# OpenAPI calls per second per account, shared by every worker (paced in the database).
CLOUD_QPS = float(os.environ.get("SAE_CLOUD_QPS", "10"))
# Timeouts of each OpenAPI call, seconds; New Contact's lookup by phone waits at most the
# shorter one before falling back to the working copy.
CLOUD_CONNECT_TIMEOUT = float(os.environ.get("SAE_CLOUD_CONNECT_TIMEOUT", "3"))
CLOUD_READ_TIMEOUT = float(os.environ.get("SAE_CLOUD_READ_TIMEOUT", "10"))
CLOUD_LOOKUP_TIMEOUT = float(os.environ.get("SAE_CLOUD_LOOKUP_TIMEOUT", "3"))
# How often the worker pulls RAM and compares with ARMS, per connected account (seconds).
RAM_SYNC_INTERVAL = float(os.environ.get("SAE_RAM_SYNC_INTERVAL", "300"))
ARMS_RECONCILE_INTERVAL = float(os.environ.get("SAE_ARMS_RECONCILE_INTERVAL", "900"))
# RAM calls of one sync in flight at once (GetUser and the lists, per user).
RAM_SYNC_THREADS = int(os.environ.get("SAE_RAM_SYNC_THREADS", "8"))
# Seconds one RAM call may spend waiting out throttling, 5xx and network errors before the
# sync (or the form's RAM write) gives up (aliyun.retry).
RAM_SYNC_RETRY_BUDGET = float(os.environ.get("SAE_RAM_SYNC_RETRY_BUDGET", "60"))
RAM_WRITE_RETRY_BUDGET = float(os.environ.get("SAE_RAM_WRITE_RETRY_BUDGET", "5"))
# ARMS pushes: attempts before a retryable failure counts as failed, and the backoff (seconds).
CLOUD_PUSH_MAX_ATTEMPTS = int(os.environ.get("SAE_CLOUD_PUSH_MAX_ATTEMPTS", "8"))
CLOUD_PUSH_BACKOFF_SECONDS = float(os.environ.get("SAE_CLOUD_PUSH_BACKOFF", "2"))
CLOUD_PUSH_BACKOFF_MAX_SECONDS = float(os.environ.get("SAE_CLOUD_PUSH_BACKOFF_MAX", "300"))

# Robot tokens and signing secrets are encrypted at rest (MultiFernet): the first key encrypts,
# every key decrypts, so a new key goes first and old ones stay until re-encrypted
# (`manage.py rotate_secrets`). Debug mode derives a key from SECRET_KEY.
FIELD_ENCRYPTION_KEYS = env_list("SAE_FIELD_ENCRYPTION_KEYS")
if not FIELD_ENCRYPTION_KEYS:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SAE_FIELD_ENCRYPTION_KEYS must be set when DJANGO_DEBUG is off "
            "(generate one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())')."
        )
    FIELD_ENCRYPTION_KEYS = ["derive:" + SECRET_KEY]

SAE_MAX_CONTACTS = 100

# Request size caps (rules §13). The largest form the console has is the Script Editor: a policy
# document of at most 6,144 characters plus its description, well under 64 KiB even
# URL-encoded; the admin's bulk actions post at most a page of IDs. Anything bigger is refused
# with 400 before a form sees it. No page takes a file upload. (The alert intake reads its JSON
# body itself, up to SAE_INTAKE_MAX_BYTES.)
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
DATA_UPLOAD_MAX_NUMBER_FILES = 0

# --- Security -------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
SESSION_COOKIE_SECURE = not DEBUG and env_bool("DJANGO_SECURE_COOKIES", True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = not DEBUG and env_bool("DJANGO_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = 0 if DEBUG else int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SAE_TRUSTED_PROXY_COUNT = 0
if env_bool("DJANGO_BEHIND_PROXY"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SAE_TRUSTED_PROXY_COUNT = int(os.environ.get("DJANGO_PROXY_COUNT", "1"))
AXES_CLIENT_IP_CALLABLE = "core.client_ip.client_ip"

# Every page carries a Content-Security-Policy: only our own scripts and styles (nonce'd
# where inline), no framing, no plugins.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        # urllib3 logs every request's URL at DEBUG, and a robot's URL carries its token
        # (rules §8: secrets never in a log line). Our own log lines use the masked target.
        "urllib3": {"level": "WARNING"},
    },
}
