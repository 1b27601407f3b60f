"""Signals of the contacts app beyond the model's own (docs/architecture.md: contacts knows
nothing of ARMS; arms_sync listens)."""

from __future__ import annotations

from django.dispatch import Signal

# Sent by create_contact once the fields are valid and before its transaction opens, with
# `account` and `phone` (the normalised number): a listener that must ask a remote system
# about the phone (a connected account's real ARMS) does it here, outside the transaction.
contact_creating = Signal()

# Sent by New Contact and Edit when the form already has errors of its own, with `account`,
# `contact` (None when new), `phone` (normalised, or None when the field is invalid) and
# `mailbox`: a listener answers {field: message} for what it would refuse, read without locks,
# so every field's error is shown at once instead of in rounds. The service checks again inside
# its transaction: that check, not this one, is the final word.
contact_checking = Signal()
