"""`record(...)`: write one audit entry, inside the caller's transaction.

Called by every write service right after its change and before its transaction commits, so a
write that is refused (and rolled back) leaves no entry, and one that commits always has one.
The caller masks secrets (it knows which of its fields are secret): `diff(..., mask=...)`
compares the real values and stores only the masked ones.
"""

from __future__ import annotations

import contextlib
import getpass
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.db import models

from audit.models import Entry

NOTE_MAX = 500
LABEL_MAX = 255


@dataclass(frozen=True)
class Actor:
    kind: str
    name: str
    ref: str = ""

    @classmethod
    def operator(cls, username: str | None = None) -> Actor:
        """A platform operator: the admin's user, or the shell user who ran a command."""
        username = username or _shell_user()
        return cls(Entry.ActorKind.OPERATOR, f"operator {username}", username)

    @classmethod
    def system(cls) -> Actor:
        return cls(Entry.ActorKind.SYSTEM, "system", "system")


def _shell_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (a container's arbitrary uid)
        return "unknown"


# Who acts where a service is not handed an actor: set around a whole admin request or
# command (`with acting(...)`), so deep calls (the ARMS-side services) still name the person.
_acting: ContextVar[Actor | None] = ContextVar("audit_acting", default=None)


@contextlib.contextmanager
def acting(actor: Actor) -> Iterator[None]:
    token = _acting.set(actor)
    try:
        yield
    finally:
        _acting.reset(token)


def actor_of(who: Any) -> Actor:
    """An Actor from what services receive: an Actor; else whoever `acting()` names (the
    admin and the commands act through the owner's Principal, but the person is the
    operator); else a Principal (duck-typed: `account` and `ram_user`, so this app imports
    none of the project's); else (None) the system: the worker."""
    if isinstance(who, Actor):
        return who
    if (around := _acting.get()) is not None:
        return around
    if who is None:
        return Actor.system()
    if who.ram_user is None:
        return Actor(Entry.ActorKind.OWNER, who.account.login_name, who.account.account_id)
    return Actor(Entry.ActorKind.RAM_USER, who.ram_user.upn, who.ram_user.user_id)


def plain(value: Any) -> Any:
    """A value as JSON can hold it (phone numbers, dates and the like become text)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return str(value)


def snapshot(obj: models.Model, fields: list[str]) -> dict[str, Any]:
    return {field: getattr(obj, field) for field in fields}


def diff(
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    *,
    mask: Mapping[str, Callable[[Any], Any]] | None = None,
) -> dict[str, list[Any]]:
    """{field: [from, to]} for each field whose real value changed; a field in `mask` is
    stored through its masking function (a rotated secret shows as changed, masked)."""
    mask = mask or {}
    changes = {}
    for field in after:
        old, new = before.get(field), after[field]
        if plain(old) == plain(new):
            continue
        show = mask.get(field)
        changes[field] = [
            plain(show(old) if show and old else old),
            plain(show(new) if show and new else new),
        ]
    return changes


def record(
    *,
    account: Any,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    changes: Mapping[str, Any] | None = None,
    note: str = "",
) -> Entry:
    """One entry for `account` (an Account or its pk). Call it inside the write's transaction."""
    who = actor_of(actor)
    return Entry.objects.create(
        account_id=getattr(account, "pk", account),
        actor_kind=who.kind,
        actor=who.name[:LABEL_MAX],
        actor_ref=who.ref[:LABEL_MAX],
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
        object_label=str(obj)[:LABEL_MAX] if obj is not None else "",
        changes=plain(dict(changes or {})),
        note=" ".join(note.split())[:NOTE_MAX],
    )
