"""`POST /intake/alertmanager/`: Alertmanager's webhook receiver (rules §8).

Authenticated by `Authorization: Bearer <token>` (Alertmanager's
`http_config.authorization.credentials`); the token names the account. No session, so no CSRF
and no sign-in throttling; a per-token rate limit instead. Every refusal is a JSON answer with
the reason, and writes nothing:

- 401 + `WWW-Authenticate` for a missing, wrong or revoked token;
- 405 for another method, 415 for a body that is not JSON, 413 over SAE_INTAKE_MAX_BYTES;
- 411 for a chunked body (no Content-Length) the server cannot hand over whole (one that does,
  such as gunicorn, sets `wsgi.input_terminated`, and then the body is read up to the cap);
- 400 for malformed JSON or a body that is not an Alertmanager webhook;
- 429 + `Retry-After` past SAE_INTAKE_POSTS_PER_MINUTE. Only a post that is otherwise
  accepted counts against the token's rate: a refused one (401, 413, 415, 400) does not.
"""

from __future__ import annotations

import logging
import math

from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from arms_sync.intake import services
from arms_sync.intake.payload import PayloadError, parse
from core.metrics import counts_intake_posts

logger = logging.getLogger("arms_sync.intake")
REALM = 'Bearer realm="sae-intake"'


def _refuse(status: int, error: str, **headers: str) -> JsonResponse:
    response = JsonResponse({"status": "refused", "error": error}, status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    response["Cache-Control"] = "no-store"
    return response


def _bearer(request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else ""


LENGTH_REQUIRED = object()


def _is_chunked(request) -> bool:
    encoding = request.META.get("HTTP_TRANSFER_ENCODING", "")
    return "chunked" in encoding.lower() and not request.META.get("CONTENT_LENGTH")


def _read_body(request):
    """The body; None when it is larger than the cap (read no further than the cap); or
    LENGTH_REQUIRED for a chunked body the server cannot hand over. Django reads a request
    only as far as its Content-Length, so a chunked body (which has none) is read from the
    server's own stream, and only when the server says it ends there."""
    cap = settings.INTAKE_MAX_BYTES
    if _is_chunked(request):
        if not request.META.get("wsgi.input_terminated"):
            return LENGTH_REQUIRED
        body = request.META["wsgi.input"].read(cap + 1)
        return None if len(body) > cap else body
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > cap:
        return None
    body = request.read(cap + 1)
    return None if len(body) > cap else body


@csrf_exempt
@counts_intake_posts  # /metrics: sae_intake_posts_total{code}
def alertmanager(request):
    if request.method != "POST":
        return _refuse(405, "only POST is accepted", Allow="POST")
    presented = _bearer(request)
    if not presented:
        return _refuse(401, "missing bearer token", WWW_Authenticate=REALM)
    token = services.token_for(presented)
    if token is None:
        return _refuse(
            401,
            "invalid or revoked token",
            WWW_Authenticate=f'{REALM}, error="invalid_token"',
        )
    content_type = request.content_type or ""
    if content_type != "application/json" and not content_type.endswith("+json"):
        return _refuse(415, "the body must be application/json")
    body = _read_body(request)
    if body is LENGTH_REQUIRED:
        return _refuse(411, "send a Content-Length (this server does not read chunked bodies)")
    if body is None:
        return _refuse(413, f"the body is larger than {settings.INTAKE_MAX_BYTES} bytes")
    try:
        post = parse(body)
    except PayloadError as exc:
        return _refuse(400, str(exc))
    wait = services.take_rate(token)
    if wait:
        return _refuse(429, "too many posts for this token", Retry_After=str(math.ceil(wait)))
    received = services.receive(account=token.account, post=post, body=body)
    logger.info(
        "intake %s: %s alert(s), %s deliveries%s",
        token.account.account_id,
        received.alerts,
        received.deliveries,
        " (replay)" if received.replayed else "",
    )
    response = JsonResponse(received.as_dict())
    response["Cache-Control"] = "no-store"
    return response
