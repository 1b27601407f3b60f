"""The console's own settings, plus one URL the benchmark needs and production must not have:
a bare view (`/bench/bare/`) that renders a trivial template through the same middleware, the
framework's limit on this machine. Only the benchmark's server is started with these settings
(DJANGO_SETTINGS_MODULE=bench.settings); nothing else differs from `sae_console.settings`."""

from __future__ import annotations

from sae_console.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
INSTALLED_APPS = [*INSTALLED_APPS, "bench"]  # noqa: F405  (its template directory)
