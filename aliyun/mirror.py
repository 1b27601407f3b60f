"""The working copy brought up to date with what the real ARMS holds (before New Contact and
Merge Contacts decide, rules §5 and §6, against the cloud).

Rules, so that a pending local change is never overwritten by the older remote state:
- an ARMS contact known by its remote ID and linked to an SAE contact is the console's: the
  push makes the cloud follow it (differences are drift, for reconcile);
- one known but unlinked, with nothing pending, takes the cloud's name, phone and email;
- one the cloud no longer has, unlinked, synced and with nothing pending, is deleted here;
- one the working copy lacks is added (unlinked), with its remote ID;
- an unlinked local one never pushed, with the same phone, is adopted (takes the remote ID).
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Q

from aliyun.arms_api import RemoteContact
from aliyun.models import ArmsContactSync, ArmsPush
from arms_sync.models import ArmsContact


def _pending(account_pk: int) -> set[int]:
    return set(
        ArmsPush.objects.filter(
            account_id=account_pk, status=ArmsPush.Status.PENDING, arms_contact__isnull=False
        ).values_list("arms_contact_id", flat=True)
    )


def _save(arms: ArmsContact) -> bool:
    """Save under a savepoint: a value another local row holds (the working copy is behind
    the cloud there) leaves this one as it was."""
    try:
        with transaction.atomic():
            arms.save()
    except IntegrityError:
        return False
    return True


def _free(account_pk: int, field: str, value, exclude_pk: int | None) -> bool:
    if not value:
        return True
    others = ArmsContact.objects.filter(account_id=account_pk, **{field: value})
    if exclude_pk:
        others = others.exclude(pk=exclude_pk)
    return not others.exists()


def mirror(account_pk: int, remote: list[RemoteContact], *, phone: str | None = None) -> dict:
    """Apply `remote` (every ARMS contact, or those holding `phone` when given) to the
    working copy. Returns counts of what changed."""
    counts = {"added": 0, "updated": 0, "adopted": 0, "removed": 0}
    remote_ids = {r.contact_id for r in remote}
    with transaction.atomic():
        local = ArmsContact.objects.filter(account_id=account_pk).select_related("cloud")
        if phone is not None:
            local = local.filter(
                Q(phone=phone) | Q(cloud__remote_id__in=remote_ids) | Q(contact_id__in=remote_ids)
            )
        local = list(local.select_for_update(of=("self",)))
        pending = _pending(account_pk)
        syncs = {a.pk: getattr(a, "cloud", None) for a in local}
        by_remote = {s.remote_id: a for a in local if (s := syncs[a.pk]) and s.remote_id}
        for item in remote:
            arms = by_remote.get(item.contact_id)
            if arms is None:
                arms = next(
                    (
                        a
                        for a in local
                        if a.sae_contact_id is None
                        and not (syncs[a.pk] and syncs[a.pk].remote_id)
                        and a.phone
                        and a.phone.as_e164 == item.phone
                    ),
                    None,
                )
                if arms is not None:
                    counts["adopted"] += 1
            if (
                arms is not None
                and arms.sae_contact_id is not None
                and phone is not None
                and item.phone == phone
                and (arms.phone.as_e164 if arms.phone else "") != phone
                and _free(account_pk, "phone", phone, arms.pk)
            ):
                # Given this phone in the ARMS console: for New Contact the phone is held by
                # an ARMS contact another SAE contact is linked to (rules §5 case 3). The
                # working copy says so; reconcile reports the edit and --fix reverts it.
                arms.phone = phone
                if _save(arms):
                    counts["updated"] += 1
            if arms is not None and (arms.sae_contact_id is not None or arms.pk in pending):
                if not (syncs[arms.pk] and syncs[arms.pk].remote_id):
                    # Its push will update this remote contact rather than create another.
                    ArmsContactSync.objects.update_or_create(
                        arms_contact=arms, defaults={"remote_id": item.contact_id}
                    )
                continue
            created = arms is None
            if created:
                if item.phone and not _free(account_pk, "phone", item.phone, None):
                    continue  # a local contact with this phone waits for its push
                arms = ArmsContact(account_id=account_pk)
            before = (arms.name, str(arms.phone or ""), arms.email)
            arms.name = item.name[:128] or arms.name or str(item.contact_id)
            if item.phone.startswith("+86") and _free(account_pk, "phone", item.phone, arms.pk):
                arms.phone = item.phone
            email = item.email if _free(account_pk, "email", item.email, arms.pk) else ""
            arms.email = email[:254]
            if _free(account_pk, "contact_id", item.contact_id, arms.pk):
                arms.contact_id = item.contact_id
            if created or before != (arms.name, str(arms.phone or ""), arms.email):
                if not _save(arms):
                    continue
                counts["added" if created else "updated"] += 1
            _remember(arms, item.contact_id)
        for arms in local:
            sync = syncs[arms.pk]
            if (
                sync
                and sync.remote_id
                and sync.remote_id not in remote_ids
                and sync.state == ArmsContactSync.State.SYNCED
                and arms.sae_contact_id is None
                and arms.pk not in pending
            ):
                arms.delete()
                counts["removed"] += 1
    return counts


def _remember(arms: ArmsContact, remote_id: int) -> None:
    ArmsContactSync.objects.update_or_create(
        arms_contact=arms,
        defaults={"remote_id": remote_id, "state": ArmsContactSync.State.SYNCED, "error": ""},
    )
