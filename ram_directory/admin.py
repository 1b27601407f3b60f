"""The RAM directory in the Django admin: the platform operator's view (rules §10).

Policies and attachments are written only through ram_directory.services, so the console's
rules hold here too: system policies are read-only, a policy in use is not deleted, a policy
is attached only within its account, documents are validated. The forms run the checks that
need no write and show them beside the fields; a refusal that comes from the write itself is
shown as an error message, and nothing of that request is saved (history entries included).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from ram_directory import services
from ram_directory.admin_lists import (
    CappedCountPaginator,
    LargeListAdmin,
    account_filter,
    count_column,
    count_of,
)
from ram_directory.models import Account, Policy, PolicyAttachment, RamUser, User
from ram_directory.policy import PolicyDocumentError, validate_document


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ("account_id", "login_name", "alias", "ram_user_count", "created_at")
    search_fields = ("account_id", "login_name", "alias")
    list_filter = ("created_at",)
    ordering = ("account_id",)
    show_full_result_count = False
    paginator = CappedCountPaginator

    def get_queryset(self, request: HttpRequest) -> QuerySet[Account]:
        return super().get_queryset(request).annotate(ram_user_count=count_of(RamUser, "account"))

    ram_user_count = count_column("ram_user_count", _("RAM users"))


POLICY_OF_OTHER_ACCOUNT = services.POLICY_OF_OTHER_ACCOUNT


class ServiceRefused(Exception):
    """A service refused an admin write; raised out of Django's transaction so it rolls back."""

    def __init__(self, obj: Model, error: ValidationError | PolicyDocumentError):
        errors = error.errors if isinstance(error, PolicyDocumentError) else error.messages
        super().__init__(f"{obj}: {' '.join(errors)}")


def _refused(obj: Model, write) -> Any:
    """Run one service write; its refusal becomes ServiceRefused."""
    try:
        return write()
    except (ValidationError, PolicyDocumentError) as exc:
        raise ServiceRefused(obj, exc) from exc


@admin.action(description=_("Delete selected %(verbose_name_plural)s"), permissions=["delete"])
def delete_selected(modeladmin, request, queryset):
    """Django's bulk delete, each row through the service: all of them, or none and why."""
    try:
        with transaction.atomic():
            return django_delete_selected(modeladmin, request, queryset)
    except ServiceRefused as refused:
        modeladmin.message_user(request, str(refused), messages.ERROR)
        return None


class RefusalsShownAdmin(admin.ModelAdmin):
    """A ServiceRefused out of the add/change or delete page: Django's transaction for the
    page has rolled back; the operator sees why, on the form (or object) again."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceRefused as refused:
            self.message_user(request, str(refused), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def delete_view(self, request, object_id, extra_context=None) -> HttpResponse:
        try:
            return super().delete_view(request, object_id, extra_context)
        except ServiceRefused as refused:
            self.message_user(request, str(refused), messages.ERROR)
            opts = self.opts
            change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[object_id])
            return HttpResponseRedirect(change)


class ServiceWritesAdmin(RefusalsShownAdmin):
    """Saves and deletes call `write(obj, form)` / `delete(obj)`, which call the services."""

    actions = [delete_selected]

    def write(self, obj: Model, form: forms.ModelForm, change: bool) -> None:
        raise NotImplementedError

    def delete(self, obj: Model) -> None:
        raise NotImplementedError

    def save_model(self, request, obj, form, change):
        _refused(obj, lambda: self.write(obj, form, change))

    def delete_model(self, request, obj):
        _refused(obj, lambda: self.delete(obj))

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


class PolicyAttachmentForm(forms.ModelForm):
    """A policy is attached only to a RAM user of its own account (rules §1)."""

    class Meta:
        model = PolicyAttachment
        fields = ("ram_user", "policy")

    def clean(self):
        cleaned = super().clean()
        ram_user = cleaned.get("ram_user") or getattr(self.instance, "ram_user", None)
        policy = cleaned.get("policy")
        if ram_user is not None and policy is not None:
            try:
                services.ensure_same_account(ram_user=ram_user, policy=policy)
            except ValidationError as exc:
                raise ValidationError({"policy": exc.messages}) from None
        return cleaned


class PolicyAttachmentInline(admin.TabularInline):
    """Attach (new rows) and detach (Delete ticks); an attachment itself is not edited."""

    model = PolicyAttachment
    form = PolicyAttachmentForm
    extra = 0
    fields = ("policy", "attached_at")
    readonly_fields = ("attached_at",)
    autocomplete_fields = ("policy",)

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(RamUser)
class RamUserAdmin(RefusalsShownAdmin, LargeListAdmin):
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
    list_filter = (account_filter("account"), "created_at")
    autocomplete_fields = ("account",)
    inlines = (PolicyAttachmentInline,)

    def save_formset(self, request, form, formset, change):
        if formset.model is not PolicyAttachment:
            return super().save_formset(request, form, formset, change)
        # The attachments go through services.attach_policy / detach_policy; what
        # construct_change_message reads afterwards is set as formset.save() would set it.
        ram_user = form.instance
        formset.deleted_objects, formset.new_objects, formset.changed_objects = [], [], []
        for inline_form in formset.deleted_forms:
            attachment = inline_form.instance
            if attachment.pk is None:
                continue
            _refused(
                attachment,
                lambda a=attachment: services.detach_policy(ram_user=ram_user, policy=a.policy),
            )
            formset.deleted_objects.append(attachment)
        for inline_form in formset.extra_forms:
            if not inline_form.has_changed() or inline_form in formset.deleted_forms:
                continue
            policy = inline_form.cleaned_data["policy"]
            formset.new_objects.append(
                _refused(
                    inline_form.instance,
                    lambda p=policy: services.attach_policy(ram_user=ram_user, policy=p),
                )
            )
        return None


class PolicyAdminForm(forms.ModelForm):
    """The admin applies the Script Editor's validation to the document too (rules §2)."""

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

    def clean(self):
        if self.instance.pk is not None:
            services.ensure_policy_editable(self.instance)  # a system policy: a form error
        return super().clean()


@admin.register(Policy)
class PolicyAdmin(ServiceWritesAdmin, LargeListAdmin):
    form = PolicyAdminForm
    list_display = ("name", "policy_type", "account", "description_shown", "attached_count")
    list_select_related = ("account",)
    search_fields = ("name", "description", "account__account_id", "account__login_name")
    list_filter = ("policy_type", account_filter("account"))
    autocomplete_fields = ("account",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Policy]:
        return (
            super()
            .get_queryset(request)
            .annotate(attached_count=count_of(PolicyAttachment, "policy"))
        )

    attached_count = count_column("attached_count", _("attached to"))

    # A system policy's own description is stored in English, the same in every account, and
    # shown translated (Policy.display_description); a custom one is shown as written.
    @admin.display(description=_("description"), ordering="description")
    def description_shown(self, policy: Policy) -> str:
        return policy.display_description

    def get_readonly_fields(self, request, obj=None):
        # New policies are Custom (system ones come with the account); a policy stays in its
        # account.
        return ("policy_type", "account") if obj is not None else ("policy_type",)

    def write(self, obj: Policy, form: forms.ModelForm, change: bool) -> None:
        data = form.cleaned_data
        if change:
            # `obj` already holds the form's values; the service compares against the row.
            services.update_policy(
                policy=Policy.objects.get(pk=obj.pk),
                name=data["name"],
                description=data["description"],
                document=data["document"],
            )
            return
        created = services.create_policy(
            account=data["account"],
            name=data["name"],
            description=data["description"],
            document=data["document"],
        )
        obj.pk, obj.policy_type = created.pk, created.policy_type

    def delete(self, obj: Policy) -> None:
        services.delete_policy(policy=obj)


@admin.register(PolicyAttachment)
class PolicyAttachmentAdmin(ServiceWritesAdmin, LargeListAdmin):
    """Add = attach, delete = detach; an attachment is not edited (detach and attach)."""

    form = PolicyAttachmentForm
    list_display = ("ram_user", "policy", "account", "attached_at")
    list_select_related = ("ram_user__account", "policy")
    search_fields = ("ram_user__user_name", "policy__name", "ram_user__account__account_id")
    list_filter = ("policy__policy_type", account_filter("ram_user__account"))
    autocomplete_fields = ("ram_user", "policy")

    @admin.display(description=_("account"), ordering="ram_user__account")
    def account(self, attachment: PolicyAttachment) -> Account:
        return attachment.ram_user.account

    def has_change_permission(self, request, obj=None):
        return False

    def write(self, obj: PolicyAttachment, form: forms.ModelForm, change: bool) -> None:
        created = services.attach_policy(ram_user=obj.ram_user, policy=obj.policy)
        obj.pk, obj.attached_at = created.pk, created.attached_at

    def delete(self, obj: PolicyAttachment) -> None:
        services.detach_policy(ram_user=obj.ram_user, policy=obj.policy)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Console sign-ins: account owners, RAM users' UPNs, and platform operators."""

    list_display = ("username", "account", "ram_user", "is_staff", "is_active", "last_login")
    list_select_related = ("account", "ram_user")
    list_filter = ("is_staff", "is_superuser", "is_active", account_filter("account"))
    show_full_result_count = False
    paginator = CappedCountPaginator
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
        (_("Console identity"), {"fields": ("account", "ram_user")}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        (_("Console identity"), {"fields": ("account", "ram_user")}),
    )
