"""The console's URLs, then the bare view (last, so every console URL resolves as in
production)."""

from __future__ import annotations

from django.urls import path

from bench.views import bare
from sae_console.urls import urlpatterns as console_urlpatterns

urlpatterns = [*console_urlpatterns, path("bench/bare/", bare, name="bench_bare")]
