"""The normalising gate (rules §13): text from outside becomes what the models hold here.

Forms, the import commands and the Script Editor pass what they receive through these
functions before anything reaches a model, so the rules are written once:

- a text is a `str` without NUL (PostgreSQL cannot store it) and without lone surrogates
  (not valid Unicode: no database, page or log line can encode them), of bounded length;
- an integer is an `int` or a string of ASCII digits (never `True`, `1.5`, full-width digits
  or `"²"`), its digits counted *before* it is converted (Python refuses to convert more than
  4,300) and its value bounded (a database column holds 64 bits);
- a date-time is ISO 8601 / RFC 3339 as written by the cloud APIs and a real calendar date;
- JSON is capped in size and depth, its numbers finite and bounded, its texts as above.

A refusal is a `GateError`: a `ValidationError` (forms show it next to the field, operator
commands print it as their one `error:` line) whose message names where the bad value was
(`Users.User[2].DisplayName`, `Statement[0].Resource`).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, tzinfo
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.fields import InvalidJSONInput
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

# What a JSON document from outside may be: deep enough for every shape the console reads
# (a policy's Condition values sit 6 levels down), far from the parser's recursion limit.
MAX_JSON_DEPTH = 32
# Digits of an integer in JSON or a text field: a 64-bit column holds 19.
MAX_INTEGER_DIGITS = 20
MAX_BIGINT = 2**63 - 1

# The refusals raised at more than one place; the others are written where they are raised.
TEXT_EXPECTED = gettext_noop("{where}: must be a string.")
TOO_LONG = gettext_noop("{where}: longer than {limit} characters.")
INTEGER_EXPECTED = gettext_noop("{where}: must be a whole number written with the digits 0-9.")
NUMBER_TOO_LONG = gettext_noop("{where}: a number of more than {limit} digits.")

_DIGITS = re.compile(r"[0-9]+", re.ASCII)
# ISO 8601 as the cloud APIs write it: 2015-01-23T12:33:18Z, with optional fraction (up to
# nanoseconds, as Go writes them) and offset; a space may stand for the T.
_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})?",
    re.ASCII | re.IGNORECASE,
)
_SURROGATE = re.compile("[\ud800-\udfff]")
# What a single-line text may not hold: C0 and C1 controls (tab and line breaks included), line
# and paragraph separators. Format characters such as bidi marks are text; pages escape them.
_LINE_BREAKING = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class GateError(ValidationError):
    """A value refused at the gate; `where` is the place it was found. `message` is translated
    already (like a ValidationError's), its `{where}` and other fields filled from here."""

    def __init__(self, message: str, *, code: str, where: str = "", **params: Any):
        self.where = where
        # Without a `where`, the problem is the JSON document itself.
        where_shown = where or _("The JSON text")
        super().__init__(message.format(where=where_shown, **params), code=code)

    def __str__(self) -> str:
        return self.message


def shown(value: str, limit: int = 40) -> str:
    """A text from outside, fit to quote in a message: short, on one line, and encodable
    (controls, NUL and lone surrogates written as escapes)."""
    cut = value[:limit] + ("…" if len(value) > limit else "")
    return "".join(ch if ch.isprintable() or ch == " " else _escape(ch) for ch in cut)


def _escape(ch: str) -> str:
    return f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}"


def check_text(
    value: Any,
    *,
    where: str,
    max_length: int | None = None,
    single_line: bool = False,
    required: bool = False,
) -> str:
    """A text as a model may hold it (stripped); GateError if it cannot be."""
    if not isinstance(value, str):
        raise GateError(_(TEXT_EXPECTED), code="not_text", where=where)
    value = value.strip()
    if required and not value:
        raise GateError(_("{where}: missing."), code="required", where=where)
    if max_length is not None and len(value) > max_length:
        raise GateError(_(TOO_LONG), code="too_long", where=where, limit=max_length)
    check_characters(value, where=where, single_line=single_line)
    return value


def check_characters(value: str, *, where: str, single_line: bool = False) -> None:
    """A text from outside holds neither NUL nor a lone surrogate (nor, single-line, a
    control character); nothing is changed."""
    if "\x00" in value:
        raise GateError(
            _("{where}: contains a NUL character, which cannot be stored."), code="nul", where=where
        )
    if not value.isascii() and (found := _SURROGATE.search(value)):
        raise GateError(
            _("{where}: contains a lone surrogate ({char}), which is not valid Unicode."),
            code="surrogate",
            where=where,
            char=_escape(found[0]),
        )
    if single_line and (found := _LINE_BREAKING.search(value)):
        raise GateError(
            _("{where}: contains a control character ({char})."),
            code="control",
            where=where,
            char=_escape(found[0]),
        )


def check_integer(
    value: Any, *, where: str, minimum: int | None = None, maximum: int = MAX_BIGINT
) -> int:
    """An integer from JSON (`12`) or a text (`"12"`, ASCII digits), within the bounds."""
    if isinstance(value, str):
        text = value.strip()
        if not _DIGITS.fullmatch(text):
            raise GateError(_(INTEGER_EXPECTED), code="not_integer", where=where)
        if len(text.lstrip("0")) > MAX_INTEGER_DIGITS:
            raise GateError(
                _(NUMBER_TOO_LONG), code="too_long", where=where, limit=MAX_INTEGER_DIGITS
            )
        value = int(text)
    elif isinstance(value, bool) or not isinstance(value, int):
        raise GateError(_(INTEGER_EXPECTED), code="not_integer", where=where)
    if (minimum is not None and value < minimum) or value > maximum:
        lowest = minimum if minimum is not None else -maximum - 1
        raise GateError(
            _("{where}: must be a whole number from {minimum} to {maximum}."),
            code="out_of_range",
            where=where,
            minimum=lowest,
            maximum=maximum,
        )
    return value


def check_identifier(value: Any, *, where: str, max_length: int) -> str:
    """An ID the cloud writes as a number or as a text (RAM's UserId): the text of it."""
    if isinstance(value, int) and not isinstance(value, bool):
        # Count the digits without converting: str() refuses more than 4,300 of them.
        if value.bit_length() > max_length * 3.33:
            raise GateError(_(TOO_LONG), code="too_long", where=where, limit=max_length)
        value = str(value)
    return check_text(value, where=where, max_length=max_length, single_line=True)


def check_datetime(value: Any, *, where: str, default_tz: tzinfo = UTC) -> datetime:
    """An ISO 8601 date-time (RFC 3339 profile), a real one; without an offset it is taken in
    `default_tz`. Never the lenient guesses of `dateutil` nor a ValueError."""
    if not isinstance(value, str):
        raise GateError(_(TEXT_EXPECTED), code="not_text", where=where)
    match = _DATETIME.fullmatch(value.strip())
    if match is None:
        raise GateError(
            _("{where}: {value} is not an ISO 8601 date-time (such as 2020-02-29T08:00:00Z)."),
            code="datetime",
            where=where,
            value=repr(shown(value)),
        )
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    try:
        zone = default_tz
        if offset and offset.upper() != "Z":
            zone = datetime.fromisoformat(f"2000-01-01T00:00:00{offset}").tzinfo
        elif offset:
            zone = UTC
        parsed = datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            int((fraction or "0")[:6].ljust(6, "0")),
            tzinfo=zone,
        )
        # Also a real instant: 0001-01-01T00:00:00+01:00 is before the first one there is.
        parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise GateError(
            _("{where}: {value} is not a real date and time."),
            code="datetime",
            where=where,
            value=repr(shown(value)),
        ) from None
    return parsed


# --- JSON -------------------------------------------------------------------------------------

# The JSON refusals raised at more than one place (loads, its parse hooks, check_json).
NUMBER_NOT_FINITE = gettext_noop("{where}: {value} is not a number JSON allows.")
JSON_TOO_DEEP = gettext_noop("{where}: nested too deeply (more than {limit} levels).")


class _NumberRefused(Exception):
    def __init__(self, message: str, code: str, **params: Any):
        self.message, self.code, self.params = message, code, params


def _parse_int(text: str) -> int:
    if len(text.lstrip("-").lstrip("0")) > MAX_INTEGER_DIGITS:
        raise _NumberRefused(_(NUMBER_TOO_LONG), "too_long", limit=MAX_INTEGER_DIGITS)
    return int(text)


def _parse_float(text: str) -> float:
    number = float(text)
    if number in (float("inf"), float("-inf")):
        raise _NumberRefused(_(NUMBER_NOT_FINITE), "not_finite", value=shown(text))
    return number


def _parse_constant(text: str) -> Any:
    raise _NumberRefused(_(NUMBER_NOT_FINITE), "not_finite", value=text)


def loads(
    text: str, *, where: str = "", max_length: int | None = None, max_depth: int = MAX_JSON_DEPTH
) -> Any:
    """Parse JSON from outside and pass every value of it through the gate (`check_json`)."""
    if max_length is not None and len(text) > max_length:
        raise GateError(
            _("The JSON text is longer than {limit} characters."),
            code="too_long",
            where=where,
            limit=max_length,
        )
    try:
        data = json.loads(
            text,
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_parse_constant,
        )
    except json.JSONDecodeError as exc:
        raise GateError(
            _("Invalid JSON at line {line}, column {column}: {error}."),
            code="json",
            where=where,
            line=exc.lineno,
            column=exc.colno,
            error=exc.msg,
        ) from None
    except RecursionError:
        raise GateError(_(JSON_TOO_DEEP), code="too_deep", where=where, limit=max_depth) from None
    except _NumberRefused as refused:
        # The scanner does not say where; the number is somewhere in the text.
        raise GateError(refused.message, code=refused.code, where=where, **refused.params) from None
    return check_json(data, where=where, max_depth=max_depth)


def check_json(data: Any, *, where: str = "", max_depth: int = MAX_JSON_DEPTH) -> Any:
    """A decoded JSON value (or one built in code) that can be stored and shown: depth,
    texts (keys too) and numbers as `loads` checks them. Returns `data` unchanged."""
    stack: list[tuple[Any, str, int]] = [(data, where, 0)]
    while stack:
        value, at, depth = stack.pop()
        if isinstance(value, dict | list) and depth >= max_depth:
            raise GateError(_(JSON_TOO_DEEP), code="too_deep", where=at, limit=max_depth)
        if isinstance(value, dict):
            members = []
            for key, item in value.items():
                if not isinstance(key, str):
                    raise GateError(
                        _("{where}: a key must be a string."), code="not_text", where=at
                    )
                inner = _member(at, key)
                check_characters(key, where=inner)
                members.append((item, inner, depth + 1))
            stack.extend(reversed(members))  # so the first problem in the text is reported
        elif isinstance(value, list):
            stack.extend((value[i], f"{at}[{i}]", depth + 1) for i in reversed(range(len(value))))
        elif isinstance(value, str):
            check_characters(value, where=at)
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, int):
            if abs(value) >= 10**MAX_INTEGER_DIGITS:
                raise GateError(
                    _(NUMBER_TOO_LONG), code="too_long", where=at, limit=MAX_INTEGER_DIGITS
                )
        elif isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                raise GateError(_(NUMBER_NOT_FINITE), code="not_finite", where=at, value=value)
        else:
            raise GateError(_(TEXT_EXPECTED), code="not_json", where=at)
    return data


def _member(at: str, key: str) -> str:
    """`at.key`, the key shown so that a message can print it (escapes for what cannot)."""
    name = shown(key, limit=64)
    return f"{at}.{name}" if at else name


class JSONFormField(forms.JSONField):
    """Django's form JSONField with the gate in front: a number Python will not convert, NaN,
    nesting past the parser, a lone surrogate or NUL is a form error saying what and where
    (Django's own answered 500 to the first ones and stored the last ones), and a refused text
    is shown back as it was typed."""

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str) and value not in self.empty_values and not self.disabled:
            try:
                loads(value)
            except GateError as exc:
                raise ValidationError(exc.message, code="invalid") from None
        return super().to_python(value)

    def bound_data(self, data: Any, initial: Any) -> Any:
        if isinstance(data, str) and not self.disabled:
            try:
                loads(data)
            except GateError:
                return InvalidJSONInput(data)
        return super().bound_data(data, initial)
