"""Who is signed in: the account owner or one RAM user, and what they may do (rules §2, §3)."""

from __future__ import annotations

from functools import cached_property

from django.db.models import Q

from ram_directory.models import Account, Policy, RamUser
from ram_directory.policy import Statement, evaluate, statements_of

# The RAM API action that lets a RAM user see (and pick) every RAM user of the account.
LIST_USERS = "ram:ListUsers"


class Principal:
    def __init__(self, account: Account, ram_user: RamUser | None = None):
        if ram_user is not None and ram_user.account_id != account.pk:
            raise ValueError("a RAM user acts only inside its own account")
        self.account = account
        self.ram_user = ram_user

    def __repr__(self) -> str:
        return f"<Principal {self.sign_in_name}>"

    @property
    def is_owner(self) -> bool:
        return self.ram_user is None

    @property
    def name(self) -> str:
        """The name shown for this principal: the login name or the RAM user name."""
        return self.account.login_name if self.ram_user is None else self.ram_user.user_name

    @property
    def sign_in_name(self) -> str:
        return self.account.login_name if self.ram_user is None else self.ram_user.upn

    @cached_property
    def statements(self) -> list[Statement]:
        """Every statement of every policy attached to the RAM user, directly or through one
        of its RAM groups (one query; a policy held both ways counts once)."""
        if self.ram_user is None:
            return []
        held = Q(attachments__ram_user=self.ram_user) | Q(ram_groups__members=self.ram_user)
        documents = dict(Policy.objects.filter(held).values_list("pk", "document"))
        return [s for document in documents.values() for s in statements_of(document)]

    def resource_arn(self, kind: str = "*", name: str = "*") -> str:
        return f"acs:ram:*:{self.account.account_id}:{kind}/{name}" if kind != "*" else "*"

    def can(self, action: str, resource: str = "*") -> bool:
        """rules §2's is_allowed: the owner always; a RAM user by its policies."""
        if self.is_owner:
            return True
        return evaluate(self.statements, action, resource)

    def can_list_users(self) -> bool:
        """rules §3: allowed ram:ListUsers on acs:ram:*:<account_id>:user/* (the owner always).

        The one place this rule is written: the Users page, the contact list's visibility and
        Username drop-down, Merge Contacts and the ARMS pages all ask here."""
        return self.can(LIST_USERS, self.resource_arn("user", "*"))

    def forget_permissions(self) -> None:
        """Drop the cached statements after attaching or detaching a policy."""
        self.__dict__.pop("statements", None)


def is_allowed(principal: Principal, action: str, resource: str = "*") -> bool:
    return principal.can(action, resource)
