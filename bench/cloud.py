"""The benchmark's cloud phase (`--only cloud`, and the `cloud` key of the full report): the
connection against the loopback fake of Alibaba Cloud's OpenAPI (aliyun.fake) answering each
call after 20 ms, through the real SDK: sync_ram of 1,000 RAM users (again unchanged, and again
under throttling, 5xx and lost answers, retried in line), then a push of 100 new
contacts under SAE_CLOUD_QPS, then faults (throttling, 5xx, lost answers, ARMS away) and what
the outbox recovered, with the fake's call counts."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

LATENCY_S = 0.02
RAM_USERS = 1000
PUSHED_CONTACTS = 100
FAULT_CONTACTS = 20
CLOUD_ACCOUNT = 900_001


def _delta(before: Counter, after: Counter) -> dict[str, int]:
    return {k: after[k] - before.get(k, 0) for k in sorted(after) if after[k] - before.get(k, 0)}


def _push_all(account_pk: int, timeout: float = 300) -> tuple[float, dict]:
    from aliyun.models import ArmsPush
    from aliyun.push import push_account

    started = time.perf_counter()
    totals = Counter()
    first = True
    while time.perf_counter() - started < timeout:
        report = push_account(account_pk, now=first)
        first = False
        totals.update({"done": report.done, "failed": report.failed, "retried": report.retried})
        if not ArmsPush.objects.filter(account_id=account_pk, status="pending").exists():
            break
        time.sleep(0.05)
    return time.perf_counter() - started, dict(totals)


def run() -> dict[str, Any]:
    from django.conf import settings

    from aliyun.fake import FakeCloud
    from aliyun.models import ArmsContactSync, ArmsPush, CloudConnection
    from aliyun.ram_sync import sync_ram
    from bench import data
    from contacts import services
    from ram_directory.models import RamUser
    from ram_directory.principal import Principal

    settings.CLOUD_ALLOW_HTTP = True  # the fake speaks plain HTTP on loopback
    key, secret = "LTAI5tBenchKey0001", "bench-secret-not-a-real-one"
    fake = FakeCloud(access_keys={key: secret}, account_id="1234567890123456")
    fake.start()
    try:
        fake.seed_users(RAM_USERS)
        fake.latency = LATENCY_S
        data.build(CLOUD_ACCOUNT, CLOUD_ACCOUNT + 1, ram_users=0, contacts=0)
        account = data.account(CLOUD_ACCOUNT)
        connection = CloudConnection.objects.create(
            account=account,
            access_key_id=key,
            access_key_secret=secret,
            ram_endpoint=fake.endpoint,
            arms_endpoint=fake.endpoint,
            sts_endpoint=fake.endpoint,
            protocol="http",
        )
        figures: dict[str, Any] = {
            "latency_ms": LATENCY_S * 1000,
            "qps_cap": settings.CLOUD_QPS,
            "ram_sync_threads": settings.RAM_SYNC_THREADS,
        }

        before = Counter(fake.calls)
        started = time.perf_counter()
        report = sync_ram(connection=connection)
        figures["sync_ram"] = {
            "users": RAM_USERS,
            "seconds": round(time.perf_counter() - started, 2),
            "added": len(report.added),
            "calls": _delta(before, fake.calls),
        }
        before = Counter(fake.calls)
        started = time.perf_counter()
        again = sync_ram(connection=connection)
        figures["sync_ram_again"] = {
            "seconds": round(time.perf_counter() - started, 2),
            "unchanged": len(again.unchanged),
            "calls": sum(_delta(before, fake.calls).values()),
        }
        # RAM faults during a sync: each call is tried again in line (aliyun.retry).
        fake.throttle(5, retry_after_ms=200, actions=["GetUser", "ListGroupsForUser"])
        fake.fail(3, status=503, actions=["ListPoliciesForUser"])
        fake.lose_answers(2, actions=["ListGroupsForUser"])
        backoff = settings.CLOUD_PUSH_BACKOFF_SECONDS
        settings.CLOUD_PUSH_BACKOFF_SECONDS = 0.1
        before = Counter(fake.calls)
        started = time.perf_counter()
        faulted = sync_ram(connection=connection)
        settings.CLOUD_PUSH_BACKOFF_SECONDS = backoff
        figures["sync_ram_faults"] = {
            "tried": {"throttled": 5, "5xx": 3, "answer_lost": 2},
            "retried": faulted.retried,
            "seconds": round(time.perf_counter() - started, 2),
            "unchanged": len(faulted.unchanged),
            "calls": sum(_delta(before, fake.calls).values()),
        }

        owner = Principal(account)
        users = list(RamUser.objects.for_account(account).order_by("user_name"))
        before = Counter(fake.calls)
        started = time.perf_counter()
        for user in users[:PUSHED_CONTACTS]:
            services.create_contact(
                principal=owner, ram_user=user, phone=user.mobile_phone.split("-", 1)[1]
            )
        created_s = time.perf_counter() - started
        lookups = _delta(before, fake.calls)
        before = Counter(fake.calls)
        seconds, totals = _push_all(account.pk)
        figures["push"] = {
            "contacts": PUSHED_CONTACTS,
            "new_contact_s_each": round(created_s / PUSHED_CONTACTS, 3),
            "new_contact_calls": lookups,
            "seconds": round(seconds, 2),
            "pushes_per_s": round(totals.get("done", 0) / seconds, 1) if seconds else 0,
            "outbox": totals,
            "calls": _delta(before, fake.calls),
            "arms_contacts": len(fake.arms.contacts),
        }

        # Room under the 100-contact limit: delete some (their deletes are pushed too).
        from contacts.models import Contact

        doomed = list(Contact.objects.for_account(account).order_by("-id")[: FAULT_CONTACTS + 1])
        before = Counter(fake.calls)
        for contact in doomed:
            services.delete_contact(principal=owner, contact=contact)
        seconds, totals = _push_all(account.pk)
        figures["delete"] = {
            "contacts": len(doomed),
            "seconds": round(seconds, 2),
            "outbox": totals,
            "calls": _delta(before, fake.calls),
            "arms_contacts": len(fake.arms.contacts),
        }
        users = users[PUSHED_CONTACTS:]  # never contacts yet

        # Faults while pushing FAULT_CONTACTS more: each is tried and must be recovered.
        fake.throttle(5, retry_after_ms=200, actions=["CreateOrUpdateContact"])
        fake.fail(3, status=503, actions=["CreateOrUpdateContact"])
        fake.lose_answers(2, actions=["CreateOrUpdateContact"])
        settings.CLOUD_PUSH_BACKOFF_SECONDS = 0.1
        for user in users[:FAULT_CONTACTS]:
            services.create_contact(
                principal=owner, ram_user=user, phone=user.mobile_phone.split("-", 1)[1]
            )
        before = Counter(fake.calls)
        seconds, totals = _push_all(account.pk)
        fake.go_down()
        user = users[FAULT_CONTACTS]
        services.create_contact(
            principal=owner, ram_user=user, phone=user.mobile_phone.split("-", 1)[1]
        )
        down = _push_once(account.pk)
        fake.come_back()
        up_s, up = _push_all(account.pk)
        phones = Counter(c["Phone"] for c in fake.arms.contacts.values())
        figures["faults"] = {
            "tried": {"throttled": 5, "5xx": 3, "answer_lost": 2, "arms_down": 1},
            "seconds": round(seconds, 2),
            "outbox": totals,
            "down_then_up": {"while_down": down, "after": up, "seconds": round(up_s, 2)},
            "calls": _delta(before, fake.calls),
            "arms_contacts": len(fake.arms.contacts),
            "duplicated_phones": sum(1 for n in phones.values() if n > 1),
            "failed_rows": ArmsPush.objects.filter(
                account=account, status=ArmsPush.Status.FAILED
            ).count(),
            "synced": ArmsContactSync.objects.filter(
                arms_contact__account=account, state="synced"
            ).count(),
        }
        return figures
    finally:
        fake.close()


def _push_once(account_pk: int) -> dict:
    from aliyun.push import push_account

    report = push_account(account_pk, now=True)
    return {"done": report.done, "retried": report.retried, "pending": report.pending}
