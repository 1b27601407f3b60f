"""The port to a real ARMS (docs/architecture.md, "Cloud connection"): arms_sync never imports the
cloud app; an app that connects accounts to Alibaba Cloud (aliyun) registers an implementation
in its AppConfig.ready(). The local one, the default, does nothing: the working copy (this
app's tables) is the whole truth for an account that is not connected.

What the port is asked, and when:
- `prepare_new_contact(account_id, phone)`: before New Contact's transaction opens, "which
  ARMS contact holds this phone?": the answer is written into the working copy, so that
  linking (arms_sync.linking) decides the three creation cases on what ARMS really holds.
- `prepare_merge(account_id)`: before Merge Contacts plans, "all ARMS contacts", likewise.
- `contact_linked` / `contact_deleting` / `arms_changed`: inside the local change's
  transaction, so that a connected account's outbox row commits with the change.
- `periodic()`: each notify_worker sweep round (the cloud's own sweeper and schedules).
- `compare_remote(account_id, fix=...)`: `reconcile_arms --remote`: drift between the working
  copy and the real ARMS (`sae:` objects deleted or edited in the ARMS console), repaired with
  `fix`; a dict with `found`, `fixed` and `remaining` lists, or None when not connected.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

from core.ports import Port

if TYPE_CHECKING:
    from arms_sync.models import ArmsContact
    from contacts.models import Contact


class ArmsCloud(Protocol):
    def prepare_new_contact(self, account_id: int, phone: str) -> None: ...

    def prepare_merge(self, account_id: int) -> None: ...

    def contact_linked(self, contact: Contact, arms: ArmsContact | None) -> None: ...

    def contact_deleting(self, contact: Contact) -> None: ...

    def arms_changed(self, account_id: int, arms_pks: Iterable[int]) -> None: ...

    def periodic(self) -> None: ...

    def compare_remote(self, account_id: int, *, fix: bool) -> dict | None: ...


class LocalArms:
    """Not connected: nothing to ask, nothing to push."""

    def prepare_new_contact(self, account_id: int, phone: str) -> None:
        return None

    def prepare_merge(self, account_id: int) -> None:
        return None

    def contact_linked(self, contact: Contact, arms: ArmsContact | None) -> None:
        return None

    def contact_deleting(self, contact: Contact) -> None:
        return None

    def arms_changed(self, account_id: int, arms_pks: Iterable[int]) -> None:
        return None

    def periodic(self) -> None:
        return None

    def compare_remote(self, account_id: int, *, fix: bool) -> dict | None:
        """None: there is no remote ARMS to compare with."""
        return None


port = Port[ArmsCloud](LocalArms())
register = port.register
