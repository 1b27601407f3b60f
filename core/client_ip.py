"""The client's address, for sign-in throttling.

Behind a reverse proxy every request arrives from the proxy, so throttling by REMOTE_ADDR
would let anyone lock a user out for everybody. With `DJANGO_BEHIND_PROXY` on, the address is
taken from X-Forwarded-For, counting `DJANGO_PROXY_COUNT` trusted proxies from the right (the
entries further left are the client's to forge, so they are never used).
"""

from __future__ import annotations

from django.conf import settings


def client_ip(request) -> str | None:
    remote = request.META.get("REMOTE_ADDR")
    count = getattr(settings, "SAE_TRUSTED_PROXY_COUNT", 0)
    if not count:
        return remote
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [a for a in forwarded if a]
    # The last proxy appended the address it saw; with N proxies the client is N from the right.
    if len(forwarded) >= count:
        return forwarded[-count]
    return remote
