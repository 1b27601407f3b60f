"""The cloud's side of arms_sync's port (arms_sync.cloud), registered in AliyunConfig.ready():
for a connected account, New Contact and Merge Contacts decide against the real ARMS, and every
local change leaves an outbox row; an account that is not connected is left alone (one
indexed look-up of its connection, no network call)."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings

from aliyun import mirror, push
from aliyun.arms_api import Arms
from aliyun.clients import CloudError
from aliyun.models import CloudConnection
from arms_sync.models import ArmsContact

logger = logging.getLogger(__name__)


def _connection(account_id: int) -> CloudConnection | None:
    return CloudConnection.objects.filter(account_id=account_id).first()


class CloudArms:
    def prepare_new_contact(self, account_id: int, phone: str) -> None:
        """DescribeContacts with the phone, with a short timeout. If the cloud does not
        answer, the working copy decides and the push waits, Pending (README)."""
        connection = _connection(account_id)
        if connection is None or not phone:
            return
        try:
            found = Arms(connection, read_timeout=settings.CLOUD_LOOKUP_TIMEOUT).contact_for_phone(
                phone
            )
        except CloudError as error:
            logger.warning("ARMS lookup by phone failed (%s): the working copy decides", error.code)
            return
        mirror.mirror(account_id, [found] if found else [], phone=phone)

    def prepare_merge(self, account_id: int) -> None:
        """Every ARMS contact, all pages, into the working copy before the merge plans."""
        connection = _connection(account_id)
        if connection is None:
            return
        try:
            contacts = Arms(connection).all_contacts()
        except CloudError as error:
            logger.warning(
                "ARMS contacts could not be read (%s): merging the working copy", error.code
            )
            return
        mirror.mirror(account_id, contacts)

    def contact_linked(self, contact, arms: ArmsContact | None) -> None:
        if arms is not None:
            push.record_contacts(contact.account_id, [arms.pk], {arms.pk: contact.pk})

    def contact_deleting(self, contact) -> None:
        push.record_delete(contact)

    def arms_changed(self, account_id: int, arms_pks: Iterable[int]) -> None:
        if not push.is_connected(account_id):
            return
        pairs = dict(
            ArmsContact.objects.filter(pk__in=list(arms_pks)).values_list("pk", "sae_contact_id")
        )
        push.record_contacts(account_id, list(pairs), {k: v for k, v in pairs.items() if v})

    def compare_remote(self, account_id: int, *, fix: bool) -> dict | None:
        from aliyun.reconcile import reconcile_remote

        connection = _connection(account_id)
        if connection is None:
            return None
        return reconcile_remote(connection=connection, fix=fix).as_dict()

    def periodic(self) -> None:
        from aliyun import worker

        # The long jobs go to this process's cloud thread: the sweeper's round is not held.
        worker.tick(run=worker.background.submit)
