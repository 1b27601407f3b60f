"""RAM policy documents: validation (the Script Editor) and evaluation (rules §2).

A document is `{"Version": "1", "Statement": [{"Effect", "Action", "Resource", "Condition"?}]}`.
Actions match without regard to case; resources match as written. Both take `*` (any run of
characters) and `?` (one character).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core import gate

# \Z, not $: `$` also matches before a trailing newline, which would let "ram:X\n" through.
ACTION_RE = re.compile(r"^(\*|[A-Za-z0-9*?-]+:[A-Za-z0-9*?]+)\Z")
ALLOWED_STATEMENT_KEYS = {"Effect", "Action", "Resource", "Condition"}
# RAM's limit for a custom policy document; the text typed may be longer by its indentation,
# up to a cap that keeps the parser's work small.
MAX_DOCUMENT_LENGTH = 6144
MAX_DOCUMENT_TEXT_LENGTH = 64 * 1024
DOCUMENT_TOO_LONG = gettext_noop(
    "The policy document has {length} characters; RAM allows at most {limit} (counted without "
    "the spaces and line breaks between its parts)."
)


class PolicyDocumentError(ValueError):
    """A document the Script Editor refuses; `errors` say what is wrong and where."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class Statement:
    effect: str  # "Allow" or "Deny"
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    has_condition: bool = False


def parse_document_text(text: str) -> dict[str, Any]:
    """Parse the Script Editor's text and validate it; raise PolicyDocumentError."""
    try:
        document = gate.loads(text, max_length=MAX_DOCUMENT_TEXT_LENGTH)
    except gate.GateError as exc:
        raise PolicyDocumentError([exc.message]) from None
    validate_document(document)
    return document


def document_length(document: Any) -> int:
    """A document's length as RAM's limit counts it: written compactly (no spaces or line
    breaks between its parts), so the Script Editor's indentation costs nothing."""
    return len(json.dumps(document, ensure_ascii=False, separators=(",", ":")))


def document_text(document: Any) -> str:
    """The document as the Script Editor and the policy page show it (indented). A lone
    surrogate that an earlier version let into the database is shown as its escape, so the
    page still renders and the editor can save the document corrected."""
    text = json.dumps(document, indent=2, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(document, indent=2)
    return text


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def validate_document(document: Any) -> None:
    errors: list[str] = []
    try:
        # What can be stored and shown at all (texts, numbers, depth) before what RAM means.
        gate.check_json(document)
    except gate.GateError as exc:
        raise PolicyDocumentError([exc.message]) from None
    if not isinstance(document, dict):
        raise PolicyDocumentError([_("The policy document must be a JSON object.")])
    length = document_length(document)
    if length > MAX_DOCUMENT_LENGTH:
        raise PolicyDocumentError(
            [_(DOCUMENT_TOO_LONG).format(limit=MAX_DOCUMENT_LENGTH, length=length)]
        )
    unknown = set(document) - {"Version", "Statement"}
    if unknown:
        errors.append(
            _("Unknown top-level key(s): {keys}.").format(keys=", ".join(sorted(unknown)))
        )
    if "Version" not in document:
        errors.append(_('Version: missing; it must be "1".'))
    elif document["Version"] != "1":
        errors.append(
            _('Version: must be "1", got {value}.').format(value=json.dumps(document["Version"]))
        )
    statements = document.get("Statement")
    if statements is None:
        errors.append(_("Statement: missing; it must be a list of statements."))
    elif not isinstance(statements, list) or not statements:
        errors.append(_("Statement: must be a non-empty list of statements."))
    else:
        for index, statement in enumerate(statements):
            errors.extend(_statement_errors(f"Statement[{index}]", statement))
    if errors:
        raise PolicyDocumentError(errors)


def _statement_errors(where: str, statement: Any) -> list[str]:
    if not isinstance(statement, dict):
        return [_("{where}: must be an object.").format(where=where)]
    errors: list[str] = []
    unknown = set(statement) - ALLOWED_STATEMENT_KEYS
    if unknown:
        errors.append(
            _("{where}: unknown key(s) {keys}.").format(
                where=where, keys=", ".join(sorted(unknown))
            )
        )
    effect = statement.get("Effect")
    if effect not in ("Allow", "Deny"):
        got = _("missing") if effect is None else _("got {value}").format(value=json.dumps(effect))
        errors.append(
            _('{where}.Effect: must be "Allow" or "Deny" ({got}).').format(where=where, got=got)
        )
    errors.extend(_pattern_list_errors(f"{where}.Action", statement.get("Action"), ACTION_RE))
    errors.extend(_pattern_list_errors(f"{where}.Resource", statement.get("Resource"), None))
    if "Condition" in statement:
        errors.extend(_condition_errors(f"{where}.Condition", statement["Condition"]))
    return errors


def _pattern_list_errors(where: str, value: Any, pattern: re.Pattern[str] | None) -> list[str]:
    if value is None:
        return [_("{where}: missing.").format(where=where)]
    items = _as_list(value)
    if not items:
        return [_("{where}: must not be empty.").format(where=where)]
    errors = []
    for i, item in enumerate(items):
        at = f"{where}[{i}]" if isinstance(value, list) else where
        if not isinstance(item, str) or not item.strip():
            errors.append(_("{where}: must be a non-empty string.").format(where=at))
        elif pattern is not None and not pattern.match(item):
            errors.append(
                _(
                    '{where}: "{item}" is not of the form service:Action (e.g. ram:ListUsers).'
                ).format(where=at, item=item)
            )
    return errors


def _condition_errors(where: str, condition: Any) -> list[str]:
    if not isinstance(condition, dict) or not condition:
        return [
            _("{where}: must be an object of operator -> {{key: value(s)}}.").format(where=where)
        ]
    errors = []
    for operator, clause in condition.items():
        if not isinstance(clause, dict) or not clause:
            errors.append(
                _("{where}: must be an object of key -> value(s).").format(
                    where=f"{where}.{operator}"
                )
            )
            continue
        for key, values in clause.items():
            if not all(isinstance(v, str | int | float | bool) for v in _as_list(values)):
                errors.append(
                    _("{where}: values must be strings or numbers.").format(
                        where=f"{where}.{operator}.{key}"
                    )
                )
    return errors


def statements_of(document: dict[str, Any]) -> list[Statement]:
    return [
        Statement(
            effect=s["Effect"],
            actions=tuple(_as_list(s["Action"])),
            resources=tuple(_as_list(s["Resource"])),
            has_condition=bool(s.get("Condition")),
        )
        for s in document.get("Statement", [])
    ]


@lru_cache(maxsize=1024)
def _wildcard_regex(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    # \Z, not $: `$` also matches before a final newline ("ram:ListUsers\n" would match).
    return re.compile(f"^{body}\\Z", re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def wildcard_match(pattern: str, value: str, *, ignore_case: bool) -> bool:
    return _wildcard_regex(pattern, ignore_case).match(value) is not None


def _matches(statement: Statement, action: str, resource: str) -> bool:
    return any(wildcard_match(p, action, ignore_case=True) for p in statement.actions) and any(
        wildcard_match(p, resource, ignore_case=False) for p in statement.resources
    )


def evaluate(statements: Iterable[Statement], action: str, resource: str = "*") -> bool:
    """Explicit Deny beats Allow; no matching Allow means denied.

    The console has no request context to test conditions against, so it fails closed: a
    conditional Deny is applied as if its condition held, a conditional Allow grants nothing.
    """
    allowed = False
    for statement in statements:
        if not _matches(statement, action, resource):
            continue
        if statement.effect == "Deny":
            return False
        if not statement.has_condition:
            allowed = True
    return allowed


# The policy the console attaches when a permission request is approved (rules §9), and the
# document the seed's Step 1 pastes into the Script Editor.
LIST_USERS_DOCUMENT: dict[str, Any] = {
    "Version": "1",
    "Statement": [{"Effect": "Allow", "Action": ["ram:ListUsers", "ram:GetUser"], "Resource": "*"}],
}
