"""Signals ram_directory sends for other apps to act on (it imports neither of them):
arms_sync turns permission requests and decisions into `approval` notifications (rules §9).

Both are sent inside the transaction that changed the request, so a receiver's writes (the
notification outbox) commit or roll back with it.
"""

from django.dispatch import Signal

# sender=PermissionRequest, request=<PermissionRequest>
permission_requested = Signal()
# sender=PermissionRequest, request=<PermissionRequest> (approved, rejected or withdrawn)
permission_decided = Signal()
