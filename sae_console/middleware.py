"""Project-wide middleware."""

from __future__ import annotations

from django.utils.cache import add_never_cache_headers


class NoStoreMiddleware:
    """rules §13: a response that shows account data is never stored by a browser or a proxy.

    Every response to a signed-in user shows account data (pages, dialogs, htmx fragments,
    redirects after a write, the admin, the 403 and 404 pages), so each carries
    `Cache-Control: no-store` (with `no-cache, must-revalidate, private, max-age=0`, as
    `never_cache` writes it). Static files never reach this far: WhiteNoise answers them first,
    with their own long-lived caching.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
        return response
