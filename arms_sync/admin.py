"""The ARMS console is the Django admin (rules §7, §10): ARMS contacts, contact groups and
notification policies of every account, searchable, filtered by account and by "managed".

The `sae:` protections: renaming an `sae:` group or policy, or an ARMS contact linked to an
SAE contact, is a form error unless "I understand SAE notifications will break" is ticked;
deleting one (alone or in bulk) goes through a confirmation page that requires the same tick,
and without it nothing is deleted. Changing the members of an `sae:` group saves, with a
warning. Every write goes through arms_sync.services, which enforces the same rules.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.contrib.admin.utils import unquote
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from arms_sync import services
from arms_sync.forms import (
    SECRET_FIELD_MASKS,
    ArmsContactAdminForm,
    ContactGroupAdminForm,
    NotificationPolicyAdminForm,
    clear_field_name,
)
from arms_sync.models import MANAGED_PREFIX, ArmsContact, ContactGroup, NotificationPolicy
from ram_directory.admin_lists import LargeListAdmin, account_filter, count_column, count_of

# {verb} ("is"/"are") is English grammar; a translation may leave it out, so msgfmt must not
# require it.
DELETE_NOT_CONFIRMED = gettext_noop(
    # xgettext:no-python-brace-format
    "Nothing was deleted: {names} {verb} managed by SAE. Tick “I understand SAE notifications "
    "will break” to delete."
)


def _confirmed(request: HttpRequest) -> bool:
    return request.POST.get("confirm_break") in ("on", "1", "true", "yes")


@admin.action(description=_("Delete selected %(verbose_name_plural)s"), permissions=["delete"])
def delete_selected(modeladmin, request, queryset):
    """Django's bulk delete, but objects SAE manages need the confirmation tick."""
    protected = [obj for obj in queryset if services.breaks_sae(obj)]
    if request.POST.get("post") and protected and not _confirmed(request):
        names = ", ".join(str(obj) for obj in protected)
        verb = "is" if len(protected) == 1 else "are"
        modeladmin.message_user(
            request, gettext(DELETE_NOT_CONFIRMED).format(names=names, verb=verb), messages.ERROR
        )
        # Show the confirmation page again instead of deleting.
        request.POST = request.POST.copy()
        del request.POST["post"]
    return django_delete_selected(modeladmin, request, queryset)


class ManagedFilter(admin.SimpleListFilter):
    title = _("managed by SAE")
    parameter_name = "managed"

    def lookups(self, request, model_admin):
        return (("yes", _("Managed by SAE")), ("no", _("Not managed")))

    def queryset(self, request, queryset):
        managed = (
            Q(sae_contact__isnull=False)
            if queryset.model is ArmsContact
            else Q(name__startswith=MANAGED_PREFIX)
        )
        if self.value() == "yes":
            return queryset.filter(managed)
        if self.value() == "no":
            return queryset.exclude(managed)
        return queryset


class SaeProtectedAdmin(LargeListAdmin):
    """What the three ARMS models share: the confirmation tick and protected deletes, and
    lists that hold at 10,000 accounts (ram_directory.admin_lists)."""

    actions = [delete_selected]
    list_filter = (account_filter("account"), ManagedFilter)
    autocomplete_fields = ("account",)
    delete_confirmation_template = "admin/arms_sync/delete_confirmation.html"
    delete_selected_confirmation_template = "admin/arms_sync/delete_selected_confirmation.html"

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        return [*readonly, "account"] if obj is not None else readonly

    def get_form(self, request, obj=None, change=False, **kwargs):
        # The many-to-many choices are limited to the object's account (formfield hooks below).
        request._arms_account_id = obj.account_id if obj is not None else None
        form = super().get_form(request, obj, change=change, **kwargs)
        form.editing = obj
        return form

    def _same_account(self, request, queryset: QuerySet) -> QuerySet:
        account_id = getattr(request, "_arms_account_id", None)
        return queryset.filter(account_id=account_id) if account_id else queryset

    def delete_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        protected = obj is not None and services.breaks_sae(obj)
        if protected and request.method == "POST" and not _confirmed(request):
            self.message_user(
                request,
                gettext(DELETE_NOT_CONFIRMED).format(names=str(obj), verb="is"),
                messages.ERROR,
            )
            return HttpResponseRedirect(request.get_full_path())
        context = {
            **(extra_context or {}),
            "sae_protected": protected,
            "sae_protection_message": services.protection_message(obj) if protected else "",
            "confirm_break_label": gettext(services.CONFIRM_BREAK_LABEL),
        }
        return super().delete_view(request, object_id, context)

    def changelist_view(self, request, extra_context=None):
        context = {
            **(extra_context or {}),
            "confirm_break_label": gettext(services.CONFIRM_BREAK_LABEL),
        }
        return super().changelist_view(request, context)

    def delete_queryset(self, request, queryset):
        services.delete_objects(list(queryset), confirm_break=_confirmed(request))


@admin.register(ArmsContact)
class ArmsContactAdmin(SaeProtectedAdmin):
    form = ArmsContactAdminForm
    list_display = ("name", "phone", "email", "linked_to", "account", "contact_id", "updated_at")
    list_select_related = ("account", "sae_contact__ram_user", "sae_contact__account")
    search_fields = (
        "name",
        "phone",
        "email",
        "contact_id",
        "sae_contact__ram_user__user_name",
        "account__account_id",
        "account__login_name",
    )
    readonly_fields = ("linked_to",)
    fieldsets = (
        (None, {"fields": ("account", "contact_id", "name", "linked_to")}),
        (
            _("Channels"),
            {
                "fields": (
                    "phone",
                    "email",
                    "ding_robot_url",
                    "ding_robot_secret",
                    "ding_robot_keyword",
                )
            },
        ),
        (None, {"fields": ("wecom_robot_url", "confirm_break")}),
    )

    def get_fieldsets(self, request, obj=None):
        # A "Remove" tick next to each robot field and the secret that holds a stored value
        # (those fields are never pre-filled: blank keeps the value).
        fieldsets = super().get_fieldsets(request, obj)
        held = [n for n in SECRET_FIELD_MASKS if obj is not None and getattr(obj, n)]
        if not held:
            return fieldsets
        return (*fieldsets, (_("Remove"), {"fields": [clear_field_name(n) for n in held]}))

    @admin.display(description=_("SAE contact"))
    def linked_to(self, arms: ArmsContact) -> str:
        return arms.sae_contact.username if arms.sae_contact_id else gettext("— (not linked)")

    def save_model(self, request, obj, form, change):
        services.save_arms_contact(
            arms_contact=obj, confirm_break=form.cleaned_data.get("confirm_break", False)
        )

    def delete_model(self, request, obj):
        services.delete_arms_contact(arms_contact=obj, confirm_break=_confirmed(request))


@admin.register(ContactGroup)
class ContactGroupAdmin(SaeProtectedAdmin):
    form = ContactGroupAdminForm
    list_display = ("name", "managed", "member_count", "account", "description_shown")
    list_select_related = ("account",)
    search_fields = ("name", "description", "account__account_id", "account__login_name")
    filter_horizontal = ("members",)
    fieldsets = (
        (None, {"fields": ("account", "name", "description", "members", "confirm_break")}),
    )

    def get_queryset(self, request):
        members = ContactGroup.members.through
        return (
            super().get_queryset(request).annotate(member_total=count_of(members, "contactgroup"))
        )

    member_count = count_column("member_total", _("members"))

    @admin.display(description=_("Managed by SAE"), boolean=True)
    def managed(self, group: ContactGroup) -> bool:
        return group.is_managed

    # The `sae:` groups' own descriptions are stored in English and shown translated
    # (ContactGroup.display_description); what an operator wrote is shown as written.
    @admin.display(description=_("description"), ordering="description")
    def description_shown(self, group: ContactGroup) -> str:
        return group.display_description

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "members":
            kwargs["queryset"] = self._same_account(request, ArmsContact.objects.all())
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        services.save_group(group=obj, confirm_break=form.cleaned_data.get("confirm_break", False))

    def save_related(self, request, form, formsets, change):
        saved = services.save_group(
            group=form.instance,
            members=form.cleaned_data.get("members", []),
            confirm_break=False,  # the name was already checked and saved by save_model
        )
        if saved.warning:
            self.message_user(request, saved.warning, messages.WARNING)
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request, obj):
        services.delete_group(group=obj, confirm_break=_confirmed(request))


@admin.register(NotificationPolicy)
class NotificationPolicyAdmin(SaeProtectedAdmin):
    form = NotificationPolicyAdminForm
    list_display = ("name", "managed", "match_labels", "group_names", "enabled", "account")
    list_select_related = ("account",)
    search_fields = ("name", "account__account_id", "account__login_name")
    filter_horizontal = ("groups",)
    fieldsets = (
        (
            None,
            {"fields": ("account", "name", "match_labels", "groups", "enabled", "repeat_interval")},
        ),
        (None, {"fields": ("confirm_break",)}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description=_("Managed by SAE"), boolean=True)
    def managed(self, policy: NotificationPolicy) -> bool:
        return policy.is_managed

    @admin.display(description=_("contact groups"))
    def group_names(self, policy: NotificationPolicy) -> str:
        return ", ".join(g.name for g in policy.groups.all()) or "—"

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "groups":
            kwargs["queryset"] = self._same_account(request, ContactGroup.objects.all())
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        services.save_policy(
            policy=obj, confirm_break=form.cleaned_data.get("confirm_break", False)
        )

    def save_related(self, request, form, formsets, change):
        services.save_policy(policy=form.instance, groups=form.cleaned_data.get("groups", []))
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request, obj):
        services.delete_policy(policy=obj, confirm_break=_confirmed(request))


# The notification records (arms_sync.notify) register themselves here.
from arms_sync.notify import admin as notify_admin  # noqa: E402, F401
