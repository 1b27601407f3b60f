"""The RAM directory in the Django admin: the platform operator's view (SPEC 10)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from ram_directory.models import Account, Policy, PolicyAttachment, RamUser, User
from ram_directory.policy import PolicyDocumentError, validate_document


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ("account_id", "login_name", "alias", "ram_user_count", "created_at")
    search_fields = ("account_id", "login_name", "alias")
    list_filter = ("created_at",)
    ordering = ("account_id",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Account]:
        return super().get_queryset(request).annotate(ram_user_count=Count("ram_users"))

    @admin.display(description="RAM users", ordering="ram_user_count")
    def ram_user_count(self, account: Account) -> int:
        return account.ram_user_count


POLICY_OF_OTHER_ACCOUNT = "The policy belongs to another account than the RAM user."


class PolicyAttachmentForm(forms.ModelForm):
    """A policy is attached only to a RAM user of its own account (SPEC 1)."""

    class Meta:
        model = PolicyAttachment
        fields = ("ram_user", "policy", "attached_at")

    def clean(self):
        cleaned = super().clean()
        ram_user = cleaned.get("ram_user") or getattr(self.instance, "ram_user", None)
        policy = cleaned.get("policy")
        if ram_user is not None and policy is not None and policy.account_id != ram_user.account_id:
            raise ValidationError({"policy": POLICY_OF_OTHER_ACCOUNT})
        return cleaned


class PolicyAttachmentInline(admin.TabularInline):
    model = PolicyAttachment
    form = PolicyAttachmentForm
    extra = 0
    fields = ("policy", "attached_at")
    autocomplete_fields = ("policy",)


@admin.register(RamUser)
class RamUserAdmin(admin.ModelAdmin):
    list_display = (
        "user_name",
        "display_name",
        "user_id",
        "account",
        "mobile_phone",
        "email",
        "created_at",
    )
    list_select_related = ("account",)
    search_fields = (
        "user_name",
        "display_name",
        "user_id",
        "email",
        "mobile_phone",
        "account__account_id",
        "account__login_name",
    )
    list_filter = ("account", "created_at")
    autocomplete_fields = ("account",)
    inlines = (PolicyAttachmentInline,)


class PolicyAdminForm(forms.ModelForm):
    """The admin applies the Script Editor's validation to the document too (SPEC 2)."""

    class Meta:
        model = Policy
        fields = ("account", "name", "policy_type", "description", "document")

    def clean_document(self):
        document = self.cleaned_data["document"]
        try:
            validate_document(document)
        except PolicyDocumentError as exc:
            raise ValidationError(exc.errors, code="policy_document") from None
        return document


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    form = PolicyAdminForm
    list_display = ("name", "policy_type", "account", "description", "attached_count")
    list_select_related = ("account",)
    search_fields = ("name", "description", "account__account_id", "account__login_name")
    list_filter = ("policy_type", "account")
    autocomplete_fields = ("account",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Policy]:
        return super().get_queryset(request).annotate(attached_count=Count("attachments"))

    @admin.display(description="attached to", ordering="attached_count")
    def attached_count(self, policy: Policy) -> int:
        return policy.attached_count


@admin.register(PolicyAttachment)
class PolicyAttachmentAdmin(admin.ModelAdmin):
    form = PolicyAttachmentForm
    list_display = ("ram_user", "policy", "account", "attached_at")
    list_select_related = ("ram_user__account", "policy")
    search_fields = ("ram_user__user_name", "policy__name", "ram_user__account__account_id")
    list_filter = ("policy__policy_type", "ram_user__account")
    autocomplete_fields = ("ram_user", "policy")

    @admin.display(description="account", ordering="ram_user__account")
    def account(self, attachment: PolicyAttachment) -> Account:
        return attachment.ram_user.account


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Console sign-ins: account owners, RAM users' UPNs, and platform operators."""

    list_display = ("username", "account", "ram_user", "is_staff", "is_active", "last_login")
    list_select_related = ("account", "ram_user")
    list_filter = ("is_staff", "is_superuser", "is_active", "account")
    search_fields = (
        "username",
        "email",
        "account__account_id",
        "account__login_name",
        "ram_user__user_name",
    )
    autocomplete_fields = ("account", "ram_user")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("Console identity", {"fields": ("account", "ram_user")}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        ("Console identity", {"fields": ("account", "ram_user")}),
    )
