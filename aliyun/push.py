"""The ARMS outbox (rules §14): a row per local change, written in the change's transaction; a
task enqueued on commit pushes the account's rows, one worker at a time (a lease on the
connection), strictly in order (a delete never overtakes the create it undoes); the row, not
the queue, is the truth, and the sweeper (aliyun.worker) enqueues what is left.

Idempotent: a contact push updates the remote ID it knows; it creates only when it knows none,
and after a failure whose outcome is unknown (a timeout, a 5xx) it first looks the phone up,
so a retry never creates twice. A delete of a contact ARMS no longer has is done. Retries:
throttling (after x-acs-retry-after), 5xx and network errors, with exponential backoff; any
other refusal is permanent and shown on the contact's row with ARMS's message.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from aliyun import retry
from aliyun.arms_api import Arms, policy_group_ids
from aliyun.clients import CloudError
from aliyun.models import ArmsContactSync, ArmsPush, CloudConnection
from arms_sync.linking import LINKED_PHONE_TAKEN
from arms_sync.models import APPROVERS_GROUP, CONTACTS_GROUP, DEFAULT_POLICY, ArmsContact

logger = logging.getLogger(__name__)

LEASE = timedelta(seconds=120)


# --- writing the outbox (inside the local change's transaction) -----------------------------


def is_connected(account_pk: int) -> bool:
    return CloudConnection.objects.filter(account_id=account_pk).exists()


def _mark_pending(arms_pks: list[int]) -> None:
    known = set(
        ArmsContactSync.objects.filter(arms_contact_id__in=arms_pks).values_list(
            "arms_contact_id", flat=True
        )
    )
    ArmsContactSync.objects.filter(arms_contact_id__in=known).update(
        state=ArmsContactSync.State.PENDING, error="", updated_at=timezone.now()
    )
    ArmsContactSync.objects.bulk_create(
        [ArmsContactSync(arms_contact_id=pk) for pk in arms_pks if pk not in known]
    )


def _then_groups(account_pk: int) -> None:
    """The `sae:` groups and policy follow every contact change: one pending push of them per
    account, the newest (it reads the groups as they are when it runs)."""
    ArmsPush.objects.filter(
        account_id=account_pk, kind=ArmsPush.Kind.GROUPS, status=ArmsPush.Status.PENDING
    ).delete()
    ArmsPush.objects.create(account_id=account_pk, kind=ArmsPush.Kind.GROUPS)


def enqueue_on_commit(account_pk: int) -> None:
    from aliyun.tasks import push_arms

    transaction.on_commit(lambda: push_arms.enqueue(account_pk), robust=True)


def record_contacts(account_pk: int, arms_pks: list[int], contact_pks: dict[int, int]) -> None:
    """Contacts created, edited, linked or renamed: push these ARMS contacts."""
    arms_pks = [pk for pk in arms_pks if pk is not None]
    if not arms_pks or not is_connected(account_pk):
        return
    _mark_pending(arms_pks)
    ArmsPush.objects.bulk_create(
        ArmsPush(
            account_id=account_pk,
            kind=ArmsPush.Kind.CONTACT,
            arms_contact_id=pk,
            contact_id=contact_pks.get(pk),
        )
        for pk in arms_pks
    )
    _then_groups(account_pk)
    enqueue_on_commit(account_pk)


def record_groups(account_pk: int) -> None:
    """Only the `sae:` groups and policy (reconcile found them changed in ARMS)."""
    if is_connected(account_pk):
        _then_groups(account_pk)
        enqueue_on_commit(account_pk)


def record_delete(contact) -> None:
    """Before the contact (and its linked ARMS contact) go: what identifies it in ARMS."""
    if not is_connected(contact.account_id):
        return
    arms = ArmsContact.objects.filter(sae_contact=contact).select_related("cloud").first()
    if arms is None:
        return
    sync = getattr(arms, "cloud", None)
    ArmsPush.objects.create(
        account_id=contact.account_id,
        kind=ArmsPush.Kind.DELETE,
        remote_id=sync.remote_id if sync else None,
        robot_id=sync.wecom_robot_id if sync else None,
        phone=arms.phone.as_e164 if arms.phone else "",
    )
    _then_groups(contact.account_id)
    enqueue_on_commit(contact.account_id)


def retry_failed(rows) -> int:
    """Failed outbox rows (the admin's retry action) become pending again: due now, their
    counts reset, their contacts shown Pending, the accounts' pushes enqueued on commit.
    Returns how many rows will be tried again."""
    with transaction.atomic():
        failed = list(
            rows.filter(status=ArmsPush.Status.FAILED).values_list(
                "pk", "account_id", "arms_contact_id"
            )
        )
        ArmsPush.objects.filter(pk__in=[pk for pk, _a, _c in failed]).update(
            status=ArmsPush.Status.PENDING,
            attempts=0,
            throttled=0,
            next_attempt_at=timezone.now(),
            enqueued_at=None,
            error_code="",
            error="",
            done_at=None,
        )
        ArmsContactSync.objects.filter(
            arms_contact_id__in=[c for _p, _a, c in failed if c is not None]
        ).update(state=ArmsContactSync.State.PENDING, error="", updated_at=timezone.now())
        for account_pk in sorted({a for _p, a, _c in failed}):
            enqueue_on_commit(account_pk)
    return len(failed)


def push_again(syncs) -> int:
    """ARMS contacts whose push failed (the admin's retry action): a new push of each, as if
    changed here, for the accounts still connected. Returns how many were queued."""
    queued = 0
    with transaction.atomic():
        failed = syncs.filter(state=ArmsContactSync.State.FAILED).values_list(
            "arms_contact__account_id", "arms_contact_id", "arms_contact__sae_contact_id"
        )
        by_account: dict[int, dict[int, int | None]] = {}
        for account_pk, arms_pk, contact_pk in failed:
            by_account.setdefault(account_pk, {})[arms_pk] = contact_pk
        for account_pk, contacts in sorted(by_account.items()):
            if is_connected(account_pk):
                record_contacts(account_pk, list(contacts), contacts)
                queued += len(contacts)
    return queued


# --- pushing (a worker, outside any transaction) -------------------------------------------


@dataclass
class PushReport:
    done: int = 0
    failed: int = 0
    retried: int = 0
    pending: int = 0
    busy: bool = False
    calls: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "done": self.done,
            "failed": self.failed,
            "retried": self.retried,
            "pending": self.pending,
            "errors": self.errors[:20],
        }


class _Retry(Exception):
    pass


def _take_lease(account_pk: int) -> bool:
    now = timezone.now()
    free = CloudConnection.objects.filter(account_id=account_pk).filter(
        Q(push_lease_until__isnull=True) | Q(push_lease_until__lt=now)
    )
    return bool(free.update(push_lease_until=now + LEASE))


def _release_lease(account_pk: int) -> None:
    CloudConnection.objects.filter(account_id=account_pk).update(push_lease_until=None)


class _Pusher:
    def __init__(self, connection: CloudConnection):
        self.connection = connection
        self.account_pk = connection.account_id
        self.arms = Arms(connection)
        self.report = PushReport()

    def call_counted(self, name: str) -> None:
        self.report.calls[name] += 1

    # --- one row ---------------------------------------------------------------------------
    def push(self, row: ArmsPush) -> bool:
        """Push one row; False when it waits for a retry (the rows after it wait too)."""
        try:
            if row.kind == ArmsPush.Kind.CONTACT:
                self._contact(row)
            elif row.kind == ArmsPush.Kind.DELETE:
                self._delete(row)
            else:
                self._groups()
        except CloudError as error:
            return self._failed(row, error)
        ArmsPush.objects.filter(pk=row.pk).update(
            status=ArmsPush.Status.DONE,
            attempts=row.attempts + 1,
            done_at=timezone.now(),
            error_code="",
            error="",
        )
        self.report.done += 1
        return True

    def _failed(self, row: ArmsPush, error: CloudError) -> bool:
        state = retry.Attempts(attempts=row.attempts, throttled=row.throttled)
        again = state.failed(error)
        attempts = state.attempts
        message = f"{error.code}: {error.message}"[:500]
        if again:
            ArmsPush.objects.filter(pk=row.pk).update(
                attempts=attempts,
                throttled=state.throttled,
                next_attempt_at=timezone.now() + timedelta(seconds=state.wait(error)),
                enqueued_at=None,
                error_code=error.code[:128],
                error=message,
            )
            self.report.retried += 1
            logger.info("ARMS push %s: retry %s: %s", row.pk, attempts, error.code)
            return False
        ArmsPush.objects.filter(pk=row.pk).update(
            status=ArmsPush.Status.FAILED,
            attempts=attempts,
            error_code=error.code[:128],
            error=message,
        )
        if row.kind == ArmsPush.Kind.CONTACT and row.arms_contact_id:
            ArmsContactSync.objects.filter(arms_contact_id=row.arms_contact_id).update(
                state=ArmsContactSync.State.FAILED, error=message
            )
        self.report.failed += 1
        self.report.errors.append(f"{row.kind} #{row.pk}: {message}")
        logger.warning("ARMS push %s failed: %s", row.pk, error.code)
        return True

    def _contact(self, row: ArmsPush) -> None:
        arms = ArmsContact.objects.filter(pk=row.arms_contact_id).select_related("cloud").first()
        if arms is None:
            return  # deleted since: its delete row follows
        sync = getattr(arms, "cloud", None) or ArmsContactSync.objects.create(arms_contact=arms)
        remote_id = sync.remote_id
        phone = arms.phone.as_e164 if arms.phone else ""
        if remote_id is None and row.attempts > 0 and phone:
            # An earlier attempt may have created it before failing: find it, never twice.
            found = self.arms.contact_for_phone(phone)
            remote_id = found.contact_id if found else None
        try:
            remote_id = self._save(arms, remote_id)
        except CloudError as error:
            if remote_id is not None and error.code.endswith("NotFound"):
                # Deleted in the ARMS console: created again (the link is the console's).
                remote_id = self._save(arms, None)
            elif "Phone.Duplicate" in error.code and phone:
                remote_id = self._adopt(arms, phone, error)
            else:
                raise
        robot_id = self._robot(arms, sync.wecom_robot_id)
        ArmsContactSync.objects.filter(pk=sync.pk).update(
            remote_id=remote_id,
            wecom_robot_id=robot_id,
            state=ArmsContactSync.State.SYNCED,
            error="",
        )
        if arms.contact_id != remote_id:
            try:
                with transaction.atomic():
                    ArmsContact.objects.filter(pk=arms.pk).update(contact_id=remote_id)
            except IntegrityError:
                pass  # a local-only ID equal to it: the remote ID stays on the sync row

    def _robot(self, arms: ArmsContact, robot_id: int | None) -> int | None:
        """The contact's WeCom robot as an ARMS IM robot (`sae:<name>`): created, updated, or
        deleted with the robot."""
        if not arms.wecom_robot_url:
            if robot_id is not None:
                self.arms.delete_robot(robot_id)
            return None
        name = f"sae:{arms.name}"
        try:
            return self.arms.save_robot(robot_id=robot_id, name=name, address=arms.wecom_robot_url)
        except CloudError as error:
            if robot_id is None or not error.code.endswith("NotFound"):
                raise
            return self.arms.save_robot(robot_id=None, name=name, address=arms.wecom_robot_url)

    def _save(self, arms: ArmsContact, remote_id: int | None) -> int:
        return self.arms.save_contact(
            contact_id=remote_id,
            name=arms.name,
            phone=arms.phone.as_e164 if arms.phone else "",
            email=arms.email,
            ding_robot_url=arms.ding_robot_url,
        )

    def _adopt(self, arms: ArmsContact, phone: str, error: CloudError) -> int:
        """ARMS holds the phone already (created there since New Contact looked): the SAE
        contact links to that one, unless another SAE contact is linked to it (rules §5)."""
        found = self.arms.contact_for_phone(phone)
        if found is None:
            raise error
        taken = (
            ArmsContactSync.objects.filter(
                remote_id=found.contact_id,
                arms_contact__account_id=self.account_pk,
                arms_contact__sae_contact__isnull=False,
            )
            .exclude(arms_contact=arms)
            .exists()
        )
        if taken:
            raise CloudError("arms", "CreateOrUpdateContact", error.code, _(LINKED_PHONE_TAKEN))
        return self._save(arms, found.contact_id)

    def _delete(self, row: ArmsPush) -> None:
        remote_id = row.remote_id
        if remote_id is None and row.phone:
            found = self.arms.contact_for_phone(row.phone)
            remote_id = found.contact_id if found else None
        if remote_id is not None:
            self.arms.delete_contact(remote_id)
        if row.robot_id is not None:
            self.arms.delete_robot(row.robot_id)

    def _groups(self) -> None:
        """`sae:contacts` and `sae:approvers` hold the remote IDs of their members here;
        `sae:default` routes to `sae:contacts`."""
        groups = {}
        for name in (CONTACTS_GROUP, APPROVERS_GROUP):
            wanted = set(
                ArmsContactSync.objects.filter(
                    arms_contact__groups__account_id=self.account_pk,
                    arms_contact__groups__name=name,
                    remote_id__isnull=False,
                ).values_list("remote_id", flat=True)
            )
            remote = self.arms.group_named(name)
            have = {int(c["ContactId"]) for c in (remote or {}).get("Contacts") or []}
            if remote is not None and have == wanted:
                groups[name] = int(remote["ContactGroupId"])
                continue
            groups[name] = self.arms.save_group(
                group_id=int(remote["ContactGroupId"]) if remote else None,
                name=name,
                contact_ids=sorted(wanted),
            )
        policy = self.arms.policy_named(DEFAULT_POLICY)
        if policy is None or groups[CONTACTS_GROUP] not in policy_group_ids(policy):
            self.arms.save_policy(
                policy_id=int(policy["Id"]) if policy else None,
                name=DEFAULT_POLICY,
                group_id=groups[CONTACTS_GROUP],
            )


def push_account(account_pk: int, *, now: bool = False) -> PushReport:
    """Push the account's pending rows in order until one must wait. `now` (sync_arms) also
    pushes rows waiting out a backoff. Nothing happens while another worker holds the lease."""
    connection = CloudConnection.objects.filter(account_id=account_pk).first()
    report = PushReport()
    if connection is None:
        return report
    if not _take_lease(account_pk):
        report.busy = True
        return report
    pusher = _Pusher(connection)
    try:
        pending = ArmsPush.objects.filter(account_id=account_pk, status=ArmsPush.Status.PENDING)
        if now:
            pending.update(next_attempt_at=timezone.now())
        while True:
            row = pending.order_by("id").first()
            if row is None or row.next_attempt_at > timezone.now():
                break
            CloudConnection.objects.filter(account_id=account_pk).update(
                push_lease_until=timezone.now() + LEASE
            )
            if not pusher.push(row):
                break
    finally:
        _release_lease(account_pk)
    report = pusher.report
    report.pending = ArmsPush.objects.filter(
        account_id=account_pk, status=ArmsPush.Status.PENDING
    ).count()
    if report.done or report.failed or report.retried:
        CloudConnection.objects.filter(account_id=account_pk).update(
            arms_pushed_at=timezone.now(),
            arms_push_ok=not report.failed and not report.retried,
            arms_push_result={
                **report.as_dict(),
                "error": "; ".join(report.errors[:3]) or "",
            },
        )
    return report
