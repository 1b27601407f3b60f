"""What DingTalk and WeCom robots have in common (rules §8): one POST of JSON through the guarded
HTTP client, and one reading of the answer. Both answer HTTP 200 with an `errcode`, and only
errcode 0 is success; each robot module says what its other errcodes mean.

Retry classification, written once here:
- 429 and 5xx, timeouts and network errors: the provider or the path is busy or down for now,
  so another try later may well succeed (the worker backs off, attempts are bounded).
- 3xx: a robot API never redirects; a redirect means the URL is not (or no longer) a robot
  endpoint, and we never follow one, so trying again cannot help.
- other 4xx: the provider refused this request as such.
- an answer past the size cap: no robot API answers that much, so this is not a robot (or is
  hostile); reading it again would only cost the same.
- HTTP 200 that is not the robot's JSON: retried. It is most likely an edge or gateway page
  served while the provider is overloaded; a lost alert is worse than the bounded duplicates a
  retry may cause if the provider did accept the message behind that page.
- the guard's refusal: the URL or where it points is not allowed; only a person can fix that.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

from arms_sync.notify import base
from arms_sync.notify.base import Answer, Message, Target
from arms_sync.notify.http import (
    GuardRefused,
    HttpError,
    HttpNetworkError,
    HttpResult,
    HttpTimeout,
    HttpTooLarge,
    post_json,
)
from contacts.validators import mask_secrets_in, robot_token

ERRMSG_MAX_CHARS = 512
HTTP_STATUS_TEXT = "HTTP {status}"
REDIRECT_NOT_FOLLOWED = "HTTP {status}: redirects are not followed"
NOT_ROBOT_JSON = "HTTP {status}: the answer is not the robot API's JSON"

# (retryable, hint) per failure of the HTTP client; see the module docstring for why.
_HTTP_FAILURES: dict[type[HttpError], tuple[bool, str]] = {
    HttpTimeout: (True, base.HINT_TIMEOUT),
    HttpNetworkError: (True, base.HINT_NETWORK),
    HttpTooLarge: (False, base.HINT_TOO_LARGE),
}


def mention_numbers(message: Message) -> list[str]:
    """The national numbers (13811112222) to @mention, each once, in the message's order."""
    return list(dict.fromkeys(base.national_mobile(phone) for phone in message.mentions))


class RobotTransport:
    """A robot webhook transport: subclasses say how to build the JSON body and what their
    nonzero errcodes mean; sending and reading the answer are the same for every robot."""

    channel: ClassVar[str]

    def payload(self, target: Target, message: Message) -> dict[str, Any]:
        raise NotImplementedError

    def fits(self, target: Target, message: Message) -> bool:
        """Whether `message` goes to this robot whole (a digest grows until it would not)."""
        raise NotImplementedError

    def query(self, target: Target) -> dict[str, str] | None:
        """Query parameters added to the saved URL for this one request (DingTalk's sign)."""
        return None

    def errcode_verdict(self, errcode: int) -> tuple[bool, str]:
        """(retryable, hint) for a nonzero errcode in an HTTP 200 answer."""
        raise NotImplementedError

    def send(self, target: Target, message: Message) -> Answer:
        started = time.monotonic()
        try:
            result = post_json(
                self.channel,
                target.address,
                self.payload(target, message),
                query=self.query(target),
            )
        except GuardRefused as exc:
            return Answer(
                ok=False,
                retryable=False,
                hint=base.HINT_REFUSED_BY_GUARD,
                errmsg=exc.reason[:ERRMSG_MAX_CHARS],
                duration_ms=int((time.monotonic() - started) * 1000),
            )
        except HttpError as exc:
            retryable, hint = _HTTP_FAILURES[type(exc)]
            return Answer(
                ok=False,
                retryable=retryable,
                hint=hint,
                errmsg=self._clean(exc.message, target),
                duration_ms=exc.duration_ms,
            )
        return self.classify(result, target)

    def classify(self, result: HttpResult, target: Target) -> Answer:
        status = result.status
        answer = result.json if isinstance(result.json, dict) else {}
        errcode = answer.get("errcode")
        if not isinstance(errcode, int) or isinstance(errcode, bool):
            errcode = None
        errmsg = answer.get("errmsg")
        errmsg = errmsg if isinstance(errmsg, str) and errmsg else ""

        if 300 <= status < 400:
            retryable, hint = False, base.HINT_REDIRECT
            errmsg = REDIRECT_NOT_FOLLOWED.format(status=status)
        elif status == 429:
            retryable, hint = True, base.HINT_THROTTLED
        elif status >= 500:
            retryable, hint = True, base.HINT_SERVER_ERROR
        elif status != 200:
            retryable, hint = False, base.HINT_REJECTED
        elif errcode is None:
            retryable, hint = True, base.HINT_BAD_ANSWER
            errmsg = NOT_ROBOT_JSON.format(status=status)
        elif errcode == 0:
            return Answer(
                ok=True,
                http_status=status,
                errcode=0,
                errmsg=self._clean(errmsg, target),
                duration_ms=result.duration_ms,
            )
        else:
            retryable, hint = self.errcode_verdict(errcode)
        return Answer(
            ok=False,
            retryable=retryable,
            hint=hint,
            http_status=status,
            errcode=errcode,
            errmsg=self._clean(errmsg or HTTP_STATUS_TEXT.format(status=status), target),
            duration_ms=result.duration_ms,
        )

    def _clean(self, text: str, target: Target) -> str:
        """Provider or library text as recorded: cut, with the robot's token and secret
        masked should the text ever echo them."""
        token = robot_token(self.channel, target.address)
        return mask_secrets_in(text, token, target.secret)[:ERRMSG_MAX_CHARS]
