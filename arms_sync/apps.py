from django.apps import AppConfig
from django.db.models.signals import post_save, pre_delete


class ArmsSyncConfig(AppConfig):
    name = "arms_sync"
    verbose_name = "ARMS"

    def ready(self) -> None:
        from arms_sync import receivers
        from contacts.models import Contact

        post_save.connect(
            receivers.contact_saved, sender=Contact, dispatch_uid="arms_sync.contact_saved"
        )
        pre_delete.connect(
            receivers.contact_deleting, sender=Contact, dispatch_uid="arms_sync.contact_deleting"
        )
