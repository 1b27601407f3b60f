"""Who a permission request reaches (rules §9, §15): asked by the request page and the Permission
Approval page so that they say what happened instead of promising.

ram_directory does not know contacts or channels (it imports neither contacts nor arms_sync):
arms_sync registers the function that answers, in its AppConfig.ready(). Without one (a project
without arms_sync) the pages say nothing either way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

APPROVERS = "approvers"  # the approvers, on their channels
OWNER_EMAIL = "owner_email"  # nobody has a channel: the owner's sign-in address
NOBODY = "nobody"


@dataclass(frozen=True)
class Reach:
    kind: str
    # The approvers reached (names), or the owner's address.
    names: tuple[str, ...] = ()

    @property
    def reaches_someone(self) -> bool:
        return self.kind != NOBODY


_answer: Callable[[object], Reach] | None = None


def register(answer: Callable[[object], Reach]) -> None:
    global _answer
    _answer = answer


def reach(account) -> Reach | None:
    return _answer(account) if _answer is not None else None
