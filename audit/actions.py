"""The actions the log records, with the words the page shows for each."""

from django.utils.translation import gettext_lazy as _

LABELS = {
    "contact.create": _("Created contact"),
    "contact.update": _("Edited contact"),
    "contact.delete": _("Deleted contact"),
    "contact.merge": _("Merged contacts"),
    "policy.create": _("Created policy"),
    "policy.update": _("Edited policy"),
    "policy.delete": _("Deleted policy"),
    "policy.attach": _("Attached policy"),
    "policy.detach": _("Detached policy"),
    "approval.requested": _("Requested permission"),
    "approval.approved": _("Approved request"),
    "approval.rejected": _("Rejected request"),
    "approval.withdrawn": _("Withdrew request"),
    "intake_token.create": _("Created intake token"),
    "intake_token.rotate": _("Rotated intake token"),
    "cloud.connect": _("Connected to Alibaba Cloud"),
    "cloud.update": _("Changed the cloud connection"),
    "cloud.disconnect": _("Disconnected from Alibaba Cloud"),
    "arms.forced_rename": _("Renamed an SAE-managed object (confirmed)"),
    "arms.forced_delete": _("Deleted an SAE-managed object (confirmed)"),
}
