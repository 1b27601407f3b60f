from django.apps import AppConfig
from django.db.models.signals import post_save, pre_delete
from django.utils.translation import gettext_lazy as _


class ArmsSyncConfig(AppConfig):
    name = "arms_sync"
    verbose_name = _("ARMS")

    def ready(self) -> None:
        import arms_sync.checks  # noqa: F401 (registers the deploy checks on import)
        from arms_sync import metrics, receivers
        from arms_sync.notify import approvals
        from contacts.models import Contact
        from contacts.signals import contact_checking, contact_creating
        from ram_directory import approval_reach
        from ram_directory.models import PermissionRequest
        from ram_directory.signals import permission_decided, permission_requested

        post_save.connect(
            receivers.contact_saved, sender=Contact, dispatch_uid="arms_sync.contact_saved"
        )
        pre_delete.connect(
            receivers.contact_deleting, sender=Contact, dispatch_uid="arms_sync.contact_deleting"
        )
        contact_creating.connect(
            receivers.contact_creating, sender=Contact, dispatch_uid="arms_sync.contact_creating"
        )
        contact_checking.connect(
            receivers.contact_checking, sender=Contact, dispatch_uid="arms_sync.contact_checking"
        )
        permission_requested.connect(
            approvals.request_received,
            sender=PermissionRequest,
            dispatch_uid="arms_sync.permission_requested",
        )
        permission_decided.connect(
            approvals.request_decided,
            sender=PermissionRequest,
            dispatch_uid="arms_sync.permission_decided",
        )
        # The gauges /metrics computes from this app's tables when scraped.
        metrics.register()
        approval_reach.register(approvals.reach)
