"""Accounts (tenants), their RAM users, RAM policies, and the console's sign-in identity."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from core.console_texts import shown_in_reader_language
from core.relations import optional_key

account_id_validator = RegexValidator(
    r"^\d{16}$", _("An account ID is exactly 16 digits."), code="account_id"
)
alias_validator = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$",
    _("An alias is 1-50 lowercase letters, digits and hyphens, not starting or ending with '-'."),
    code="alias",
)
user_name_validator = RegexValidator(
    r"^[A-Za-z0-9._-]{1,64}$",
    _("A user name is 1-64 characters of a-z, A-Z, 0-9, '.', '_' and '-'."),
    code="user_name",
)
ram_mobile_validator = RegexValidator(
    r"^\d{1,4}-\d{4,15}$",
    _("A RAM mobile phone is written as <country code>-<number>, e.g. 86-13811112222."),
    code="ram_mobile",
)

UPN_SUFFIX = ".onaliyun.com"

# The system policies' descriptions (rules §2): stored in every account as these English texts
# (ram_directory.system_policies.SYSTEM_POLICIES, data the same everywhere), shown in the reader's
# language (Policy.display_description); a test keeps the two in step.
SYSTEM_POLICY_DESCRIPTIONS = {
    "AdministratorAccess": gettext_noop(
        "Provides full access to Alibaba Cloud services and resources."
    ),
    "AliyunRAMFullAccess": gettext_noop(
        "Provides full access to Resource Access Management (RAM)."
    ),
    "AliyunRAMReadOnlyAccess": gettext_noop(
        "Provides read-only access to Resource Access Management (RAM)."
    ),
}
# The custom policy the console itself creates to grant an approved permission request
# (ram_directory.approvals): its description is written and shown the same way.
GRANT_POLICY_NAME = "SAEContactsListUsers"
# The demo's custom policy (seed_demo): stored in English like any description, shown in the
# page's language while it keeps the text the demo wrote.
DEMO_LIST_USERS_POLICY = "SAEContactListUsers"
DEMO_POLICY_DESCRIPTIONS = {
    DEMO_LIST_USERS_POLICY: gettext_noop(
        "Lets a RAM user list RAM users, so it may pick any of them as an SAE contact."
    ),
}
CONSOLE_POLICY_DESCRIPTIONS = {
    **SYSTEM_POLICY_DESCRIPTIONS,
    **DEMO_POLICY_DESCRIPTIONS,
    GRANT_POLICY_NAME: gettext_noop("Granted by SAE permission approval: list and read RAM users."),
}


class Account(models.Model):
    """An Alibaba Cloud account (the main account): the tenant every other row belongs to."""

    account_id = models.CharField(
        _("account ID"), max_length=16, unique=True, validators=[account_id_validator]
    )
    login_name = models.CharField(_("login name"), max_length=128, unique=True)
    alias = models.CharField(_("alias"), max_length=50, unique=True, validators=[alias_validator])
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["account_id"]
        verbose_name = _("account")
        verbose_name_plural = _("accounts")

    def __str__(self) -> str:
        return f"{self.login_name} ({self.account_id})"

    @property
    def upn_domain(self) -> str:
        return f"{self.alias}{UPN_SUFFIX}"


class AccountScopedQuerySet(models.QuerySet):
    def for_account(self, account: Account) -> AccountScopedQuerySet:
        return self.filter(account=account)


class AccountScoped(models.Model):
    """A row that belongs to one account (its `account` field, `account_key`): every read of
    tenant data starts from `objects.for_account(account)`."""

    objects = AccountScopedQuerySet.as_manager()

    class Meta:
        abstract = True


def account_key(related_name: str) -> models.ForeignKey:
    """The `account` field of an account-scoped row: deleting the account deletes the row."""
    return models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name=related_name, verbose_name=_("account")
    )


def unique_in_account(*fields: str, name: str, **options: Any) -> models.UniqueConstraint:
    """At most one row of an account per value of `fields` (`condition=` narrows it)."""
    return models.UniqueConstraint(fields=["account", *fields], name=name, **options)


class Policy(AccountScoped):
    class PolicyType(models.TextChoices):
        SYSTEM = "System", _("System")
        CUSTOM = "Custom", _("Custom")

    account = account_key("policies")
    name = models.CharField(
        _("name"),
        max_length=128,
        validators=[
            RegexValidator(
                r"^[A-Za-z0-9-]{1,128}$",
                _("A policy name is 1-128 letters, digits and hyphens."),
                code="policy_name",
            )
        ],
    )
    policy_type = models.CharField(
        _("type"), max_length=8, choices=PolicyType.choices, default=PolicyType.CUSTOM
    )
    description = models.CharField(_("description"), max_length=1024, blank=True)
    document = models.JSONField(_("policy document"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["policy_type", "name"]
        verbose_name = _("policy")
        verbose_name_plural = _("policies")
        constraints = [unique_in_account("name", name="policy_name_unique_in_account")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_system(self) -> bool:
        return self.policy_type == self.PolicyType.SYSTEM

    @property
    def display_description(self) -> str:
        """The description as pages and the admin show it: a text the console wrote (a system
        policy's, the approval grant's), keyed by the policy's name, is translated."""
        console_text = CONSOLE_POLICY_DESCRIPTIONS.get(self.name)
        return shown_in_reader_language(self.description, console_text)


class RamUser(AccountScoped):
    """A RAM user: a sub-account of one account."""

    account = account_key("ram_users")
    user_id = models.CharField(_("user ID"), max_length=32, unique=True)
    user_name = models.CharField(_("user name"), max_length=64, validators=[user_name_validator])
    display_name = models.CharField(_("display name"), max_length=128, blank=True)
    mobile_phone = models.CharField(
        _("mobile phone"), max_length=24, blank=True, validators=[ram_mobile_validator]
    )
    email = models.EmailField(_("email"), blank=True)
    comments = models.CharField(_("comments"), max_length=128, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    policies = models.ManyToManyField(
        Policy,
        through="PolicyAttachment",
        related_name="ram_users",
        blank=True,
        verbose_name=_("policies"),
    )

    # Set when a sync with the cloud (aliyun) no longer finds the user in RAM: its sign-in is
    # disabled and its contact kept, marked "RAM user deleted" (rules §14).
    deleted_in_ram_at = models.DateTimeField(_("deleted in RAM"), null=True, blank=True)

    class Meta:
        ordering = ["user_name"]
        verbose_name = _("RAM user")
        verbose_name_plural = _("RAM users")
        constraints = [unique_in_account("user_name", name="ram_user_name_unique_in_account")]

    def __str__(self) -> str:
        return self.user_name

    @property
    def upn(self) -> str:
        """The sign-in name, `user_name@<alias>.onaliyun.com`."""
        return f"{self.user_name}@{self.account.upn_domain}"


class PolicyAttachment(models.Model):
    ram_user = models.ForeignKey(
        RamUser, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("RAM user")
    )
    policy = models.ForeignKey(
        Policy, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("policy")
    )
    attached_at = models.DateTimeField(_("attached at"), default=timezone.now)

    class Meta:
        ordering = ["attached_at", "id"]
        verbose_name = _("policy attachment")
        verbose_name_plural = _("policy attachments")
        constraints = [
            models.UniqueConstraint(fields=["ram_user", "policy"], name="policy_attached_once")
        ]

    def __str__(self) -> str:
        return f"{self.policy} -> {self.ram_user}"


class RamGroup(AccountScoped):
    """A RAM user group: its members hold the policies attached to it (read from RAM by a
    connected account; policy evaluation counts them like the user's own)."""

    account = account_key("ram_groups")
    group_name = models.CharField(_("group name"), max_length=128)
    comments = models.CharField(_("comments"), max_length=128, blank=True)
    members = models.ManyToManyField(
        RamUser, related_name="ram_groups", blank=True, verbose_name=_("members")
    )
    policies = models.ManyToManyField(
        Policy, related_name="ram_groups", blank=True, verbose_name=_("policies")
    )

    class Meta:
        ordering = ["group_name"]
        verbose_name = _("RAM user group")
        verbose_name_plural = _("RAM user groups")
        constraints = [unique_in_account("group_name", name="ram_group_name_unique_in_account")]

    def __str__(self) -> str:
        return self.group_name


class User(AbstractUser):
    """A console sign-in.

    `username` is what the person types: the account's login name for the account owner, the
    UPN for a RAM user. A user with no account is a platform operator (Django admin only).
    """

    account = optional_key(
        Account, models.CASCADE, related_name="sign_ins", verbose_name=_("account")
    )
    ram_user = optional_key(
        RamUser, models.CASCADE, one_to_one=True, related_name="sign_in", verbose_name=_("RAM user")
    )
    # The console language this person last chose (the language switcher, or the session's
    # language at sign-in): what is sent to them is written in it (rules §15). Empty: the
    # account's default, SAE_NOTIFY_LANGUAGE.
    language = models.CharField(_("language"), max_length=16, blank=True)

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        constraints = [
            # A RAM user's sign-in always belongs to an account; at most one owner sign-in per
            # account.
            models.CheckConstraint(
                condition=models.Q(ram_user__isnull=True) | models.Q(account__isnull=False),
                name="ram_user_sign_in_has_account",
            ),
            models.UniqueConstraint(
                fields=["account"],
                condition=models.Q(ram_user__isnull=True, account__isnull=False),
                name="one_owner_sign_in_per_account",
            ),
        ]


class PermissionRequest(AccountScoped):
    """rules §9: a RAM user asks the account owner for a permission (today: ram:ListUsers, so it
    may pick any RAM user in New Contact). Every step is a PermissionRequestStep."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    account = account_key("permission_requests")
    requester = models.ForeignKey(
        RamUser,
        on_delete=models.CASCADE,
        related_name="permission_requests",
        verbose_name=_("requester"),
    )
    permission = models.CharField(_("permission"), max_length=64)
    reason = models.CharField(_("reason"), max_length=500)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    created_at = models.DateTimeField(_("requested"), default=timezone.now)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.CharField(_("decided by"), max_length=200, blank=True)
    decision_reason = models.CharField(_("decision reason"), max_length=500, blank=True)
    granted_policy = optional_key(
        Policy, models.SET_NULL, related_name="+", verbose_name=_("granted policy")
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("permission request")
        verbose_name_plural = _("permission requests")
        constraints = [
            # One pending request per user and permission, also when two requests race.
            models.UniqueConstraint(
                fields=["requester", "permission"],
                condition=models.Q(status="pending"),
                name="one_pending_request_per_permission",
            )
        ]

    def __str__(self) -> str:
        return f"{self.requester} -> {self.permission} ({self.status})"


class PermissionRequestStep(models.Model):
    """Who did what to a permission request, and when (the request's record)."""

    class Action(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    request = models.ForeignKey(
        PermissionRequest,
        on_delete=models.CASCADE,
        related_name="steps",
        verbose_name=_("permission request"),
    )
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    actor = models.CharField(_("by"), max_length=200)
    note = models.CharField(_("note"), max_length=500, blank=True)
    at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("permission request step")
        verbose_name_plural = _("permission request steps")

    def __str__(self) -> str:
        return f"{self.action} by {self.actor}"
