"""The contacts -> ARMS bridge (ARCHITECTURE): the contacts app sends model signals and knows
nothing of ARMS; these receivers, connected in ArmsSyncConfig.ready(), keep ARMS in step.

`QuerySet.update()` and `bulk_create()` send no signals: no code path may write contacts that
way (contacts.services is the only writer)."""

from __future__ import annotations

from arms_sync import linking


def contact_saved(sender, instance, created, raw=False, **kwargs):
    if raw:  # loaddata: fixtures carry both sides already
        return
    if created:
        linking.link_new_contact(instance)
    else:
        linking.propagate_edit(instance)


def contact_deleting(sender, instance, **kwargs):
    # pre_delete, not post_delete: once the contact row is gone, SET_NULL would already have
    # unlinked the ARMS contact and we could no longer find it.
    linking.delete_linked(instance)
