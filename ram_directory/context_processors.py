from functools import cache

from ram_directory import approvals


def principal(request):
    principal = getattr(request, "principal", None)

    @cache
    def pending_approvals() -> int:
        """The owner's Permission Approval badge: one COUNT, run only when a page's menu
        shows it (templates call it); RAM users and partials never pay for it."""
        if not principal or not principal.is_owner:
            return 0
        return approvals.pending_count(principal.account)

    return {"principal": principal, "pending_approvals": pending_approvals}
