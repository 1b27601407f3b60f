"""The cloud's side of ram_directory's port (ram_directory.cloud): a connected account's policy
writes go to RAM first (CreatePolicy, AttachPolicyToUser, DetachPolicyFromUser); RAM's refusal
becomes the form's error. RAM saying it is already so counts as done (a retry after a lost
answer, or a change made in the RAM console). Throttling, 5xx and network errors are tried
again in line (aliyun.retry) for SAE_RAM_WRITE_RETRY_BUDGET seconds: someone waits on the form."""

from __future__ import annotations

import json

from alibabacloud_ram20150501 import models as m
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from aliyun import clients, retry
from aliyun.clients import RAM, CloudError
from aliyun.models import CloudConnection
from ram_directory.cloud import RamRefused

RAM_REFUSED = gettext_noop("RAM refused it: {code}: {message}")
RAM_UNREACHABLE = gettext_noop(
    "RAM did not answer ({code}); nothing was changed. Try again in a moment."
)
ALREADY = ("EntityAlreadyExists.User.Policy",)
ALREADY_GONE = ("EntityNotExist.User.Policy",)


def _refused(error: CloudError, *, field: str | None = None) -> RamRefused:
    if error.retryable:
        return RamRefused(_(RAM_UNREACHABLE).format(code=error.code))
    return RamRefused(_(RAM_REFUSED).format(code=error.code, message=error.message), field=field)


def _call(client, method: str, request, *, retried: list | None = None) -> dict:
    """One RAM write, tried again while RAM throttles, fails with a 5xx or does not answer
    (each failure tried again is appended to `retried`). A retry after a failure whose outcome
    is unknown may find the write done: the callers take RAM's "already so" for done."""

    def once() -> dict:
        return clients.call(client, RAM, method, request)

    return retry.in_line(
        once,
        budget=settings.RAM_WRITE_RETRY_BUDGET,
        retried=retried.append if retried is not None else None,
    )


class CloudRam:
    def _client(self, account_pk: int):
        connection = CloudConnection.objects.filter(account_id=account_pk).first()
        return clients.ram_client(connection) if connection else None

    def create_policy(self, *, account, name, document, description) -> None:
        client = self._client(account.pk)
        if client is None:
            return
        request = m.CreatePolicyRequest(
            policy_name=name,
            policy_document=json.dumps(document, ensure_ascii=False),
            description=description or None,
        )
        retried: list[CloudError] = []
        try:
            _call(client, "create_policy", request, retried=retried)
        except CloudError as error:
            if retried and error.code == "EntityAlreadyExists.Policy":
                return  # made by the try whose answer was lost
            field = "name" if "AlreadyExists" in error.code else None
            raise _refused(error, field=field) from None

    def _attachment(self, method: str, request_class, done_codes, *, ram_user, policy) -> None:
        client = self._client(ram_user.account_id)
        if client is None:
            return
        request = request_class(
            policy_name=policy.name, policy_type=policy.policy_type, user_name=ram_user.user_name
        )
        try:
            _call(client, method, request)
        except CloudError as error:
            if error.code not in done_codes:
                raise _refused(error) from None

    def attach(self, *, ram_user, policy) -> None:
        self._attachment(
            "attach_policy_to_user",
            m.AttachPolicyToUserRequest,
            ALREADY,
            ram_user=ram_user,
            policy=policy,
        )

    def detach(self, *, ram_user, policy) -> None:
        self._attachment(
            "detach_policy_from_user",
            m.DetachPolicyFromUserRequest,
            ALREADY_GONE,
            ram_user=ram_user,
            policy=policy,
        )
