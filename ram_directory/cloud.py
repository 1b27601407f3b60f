"""The port to a real RAM (docs/architecture.md, "Floors"): for a connected account, policy
writes go to RAM first and RAM's refusal is the form's error, nothing saved here. The local
implementation, the default, does nothing; the cloud app (aliyun) registers its own in its
AppConfig.ready(). ram_directory never imports it.

Each call happens before the local write; a refusal raises RamRefused with RAM's message."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from core.ports import Port

if TYPE_CHECKING:
    from ram_directory.models import Account, Policy, RamUser


class RamRefused(Exception):
    """RAM refused the write: `message` is what the form shows (RAM's code and message)."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class RamWrites(Protocol):
    def create_policy(
        self, *, account: Account, name: str, document: dict[str, Any], description: str
    ) -> None: ...

    def attach(self, *, ram_user: RamUser, policy: Policy) -> None: ...

    def detach(self, *, ram_user: RamUser, policy: Policy) -> None: ...


class LocalRam:
    def create_policy(self, **kwargs) -> None:
        return None

    def attach(self, **kwargs) -> None:
        return None

    def detach(self, **kwargs) -> None:
        return None


port = Port[RamWrites](LocalRam())
register = port.register
