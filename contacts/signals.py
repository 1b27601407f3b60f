"""Signals of the contacts app beyond the model's own (docs/architecture.md: contacts knows
nothing of ARMS; arms_sync listens)."""

from __future__ import annotations

from django.dispatch import Signal

# Sent by create_contact once the fields are valid and before its transaction opens, with
# `account` and `phone` (the normalised number): a listener that must ask a remote system
# about the phone (a connected account's real ARMS) does it here, outside the transaction.
contact_creating = Signal()
