"""One audit entry per write: who acted, when, on what, which fields from what to what.

A ground-floor app: it imports no app of the project (the account is a string reference), so
every service above may record into it without bending the dependency direction.
"""

from __future__ import annotations

from django.apps import apps
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from audit.actions import LABELS


class Entry(models.Model):
    class ActorKind(models.TextChoices):
        OWNER = "owner", _("Alibaba Cloud account")
        RAM_USER = "ram_user", _("RAM user")
        OPERATOR = "operator", _("Operator")
        SYSTEM = "system", _("System")

    account = models.ForeignKey(
        "ram_directory.Account",
        on_delete=models.CASCADE,
        related_name="audit_entries",
        verbose_name=_("account"),
    )
    at = models.DateTimeField(_("time"), default=timezone.now)
    actor_kind = models.CharField(_("actor kind"), max_length=16, choices=ActorKind.choices)
    # The principal as shown (sign-in name, "operator <username>", "system") and its stable id
    # (the account ID, the RAM user's UserId, the operator's username), so a renamed RAM user
    # is still one person in the filter.
    actor = models.CharField(_("actor"), max_length=255)
    actor_ref = models.CharField(_("actor ID"), max_length=255, blank=True)
    action = models.CharField(_("action"), max_length=64, choices=list(LABELS.items()))
    object_type = models.CharField(_("object type"), max_length=100, blank=True)
    object_id = models.CharField(_("object ID"), max_length=64, blank=True)
    object_label = models.CharField(_("object"), max_length=255, blank=True)
    # {field: [from, to]}, secrets already masked by the service that recorded it.
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-at", "-id"]
        indexes = [
            # The page: an account's entries newest first, optionally by person or object type.
            models.Index(fields=["account", "-at", "-id"], name="audit_account_at"),
            models.Index(fields=["account", "actor_ref", "-at"], name="audit_account_actor"),
            models.Index(fields=["account", "object_type", "-at"], name="audit_account_type"),
        ]

    def __str__(self) -> str:
        # Translated words only (the admin's titles show it): the time, the action, the object.
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.action_label} {self.object_label}".strip()

    @property
    def object_type_label(self) -> str:
        return object_type_label(self.object_type)

    @property
    def change_rows(self) -> list[tuple[str, object, object]]:
        """(label, from, to) per change. A key is the object's field (shown by its verbose
        name) or an English text of the catalogue (shown translated)."""
        try:
            fields = {f.name: f for f in apps.get_model(self.object_type)._meta.get_fields()}
        except (LookupError, ValueError):
            fields = {}
        rows = []
        for key, (old, new) in (self.changes or {}).items():
            field = fields.get(key)
            label = getattr(field, "verbose_name", None) or gettext(key)
            rows.append((str(label), old, new))
        return rows

    @property
    def action_label(self) -> str:
        return str(LABELS.get(self.action, self.action))

    @property
    def actor_shown(self) -> str:
        """The person as the page names them: the sign-in name, the operator's username, or
        nothing for the system (its kind says it); the stored `actor` stays English text."""
        return actor_shown(self.actor_kind, self.actor, self.actor_ref)

    @property
    def actor_kind_label(self) -> str:
        return str(self.ActorKind(self.actor_kind).label) if self.actor_kind else ""


def actor_shown(kind: str, actor: str, ref: str) -> str:
    if kind == Entry.ActorKind.OPERATOR:
        return ref
    if kind == Entry.ActorKind.SYSTEM:
        return ""
    return actor


def object_type_label(label: str) -> str:
    """A model's verbose name (translated) from its `app_label.model_name`."""
    try:
        return str(apps.get_model(label)._meta.verbose_name)
    except (LookupError, ValueError):
        return label
