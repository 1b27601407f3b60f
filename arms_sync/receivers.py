"""The contacts -> ARMS bridge (docs/architecture.md): the contacts app sends model signals and
knows nothing of ARMS; these receivers, connected in ArmsSyncConfig.ready(), keep ARMS in step.

`QuerySet.update()` and `bulk_create()` send no signals: no code path may write contacts that
way (contacts.services is the only writer)."""

from __future__ import annotations

from arms_sync import cloud, linking


def contact_saved(sender, instance, created, raw=False, **kwargs):
    if raw:  # loaddata: fixtures carry both sides already
        return
    arms = linking.link_new_contact(instance) if created else linking.propagate_edit(instance)
    # A connected account's outbox row commits with the change (arms_sync.cloud).
    cloud.port().contact_linked(instance, arms)


def contact_deleting(sender, instance, **kwargs):
    # pre_delete, not post_delete: once the contact row is gone, SET_NULL would already have
    # unlinked the ARMS contact and we could no longer find it. The cloud hears first, while
    # the linked ARMS contact (and its remote ID) is still there.
    cloud.port().contact_deleting(instance)
    linking.delete_linked(instance)


def contact_checking(sender, account, contact, phone, mailbox, **kwargs):
    return linking.link_errors(account_id=account.pk, contact=contact, phone=phone, mailbox=mailbox)


def contact_creating(sender, account, phone, **kwargs):
    # Before New Contact's transaction: a connected account asks its real ARMS who holds the
    # phone (arms_sync.cloud); the local port does nothing.
    cloud.port().prepare_new_contact(account.pk, phone.as_e164 if phone else "")
