from functools import cache

from ram_directory import approvals, audit_log, selectors


def principal(request):
    principal = getattr(request, "principal", None)

    @cache
    def pending_approvals() -> int:
        """The owner's Permission Approval badge: one COUNT, run only when a page's menu
        shows it (templates call it); RAM users and partials never pay for it."""
        if not principal or not principal.is_owner:
            return 0
        return approvals.pending_count(principal.account)

    return {
        "principal": principal,
        "pending_approvals": pending_approvals,
        "ram_menu": RamMenu(principal),
    }


class RamMenu:
    """The console menu's RAM entries (base.html): shown only to a principal the page lets in
    (a RAM user without ram:ListUsers would get 403 from Users). Asked lazily, so a page
    without the menu (an htmx fragment) evaluates nothing."""

    def __init__(self, principal):
        self.principal = principal

    def users(self) -> bool:
        return bool(self.principal) and self.principal.can_list_users()

    def policies(self) -> bool:
        return bool(self.principal) and self.principal.can(
            selectors.LIST_POLICIES, selectors.Arn(self.principal).policies()
        )

    def audit_log(self) -> bool:
        """Enterprise Features > Audit Log (the owner, actiontrail:LookupEvents)."""
        return audit_log.may_read(self.principal)
