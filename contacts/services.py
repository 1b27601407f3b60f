"""Every write of an SAE contact (rules §3, §4, §5). Views, the admin and merge call these; nothing
else saves a Contact, so the rules below and the ARMS receivers (post_save / pre_delete, see
arms_sync.receivers) always run.

Each function is one transaction: a refusal anywhere, including a ValidationError raised by an
ARMS receiver (rules §5 case 3, a mailbox another ARMS contact holds), rolls back all of it.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

import audit.services as audit
from contacts import channels, selectors
from contacts.channels.base import without_address_error
from contacts.models import Contact
from contacts.selectors import NOT_ALLOWED_TO_MANAGE
from contacts.signals import contact_checking, contact_creating
from contacts.validators import normalize_mainland_mobile
from ram_directory.models import Account, RamUser
from ram_directory.principal import Principal

CONTACT_LIMIT_REACHED = gettext_noop(
    "This account already has {limit} contacts, the most it can hold. Delete a contact before "
    "you create another."
)
USERNAME_TAKEN = gettext_noop(
    "{username} already has a contact. Each username can have only one contact."
)
USERNAME_NOT_ALLOWED = gettext_noop("You cannot add {username} as a contact.")
ACCOUNT_ITSELF_NOT_ALLOWED = gettext_noop(
    "Only the Alibaba Cloud account itself can add the Alibaba Cloud account as a contact."
)
OTHER_USER_NOT_ALLOWED = gettext_noop(
    "Without the ram:ListUsers permission you can only add yourself as a contact."
)
PHONE_TAKEN = gettext_noop(
    "This phone number is already used by another contact. Each phone number can only be used "
    "for one contact."
)


def _audited_fields() -> list[str]:
    """What the audit log keeps of a contact: the phone and every channel field."""
    return ["phone", *channels.field_names()]


def _audit_masks() -> dict:
    """How each secret is masked there (its channel says)."""
    return {f.name: f.mask for f in channels.all_fields() if f.is_secret}


def _audit_changes(before: dict, contact: Contact) -> dict:
    return audit.diff(before, audit.snapshot(contact, _audited_fields()), mask=_audit_masks())


# Passed as a channel field to update_contact (the DingTalk signing secret, say): keep the
# stored value (the edit form never shows a secret, so a blank field means "unchanged").
KEEP_SECRET = None


def contact_limit() -> int:
    return settings.SAE_MAX_CONTACTS


def _clean_channels(phone, values: dict[str, str | None]) -> dict:
    """Validate the phone and every channel field given (None: keep the stored value),
    collecting all errors at once (the form shows each next to its field). The forms ran the
    same validators; this is the last word for other callers. A companion (signing secret,
    keyword) needs its channel's address."""
    unknown = set(values) - set(channels.field_names())
    if unknown:
        raise TypeError(f"unknown contact fields: {sorted(unknown)}")
    errors: dict[str, list] = {}
    cleaned: dict = {}

    def run(field, func, value):
        try:
            cleaned[field] = func(value)
        except ValidationError as exc:
            errors.setdefault(field, []).extend(exc.error_list)

    run("phone", normalize_mainland_mobile, phone)
    for channel in channels.all_channels():
        given = values.get(channel.address.name)
        address = (given or "").strip()
        if given is not None:
            run(channel.address.name, channel.address.clean, address)
        for companion in channel.companions:
            value = values.get(companion.name)
            if value is None:
                continue
            if value.strip() and given is not None and not address:
                errors.setdefault(companion.name, []).append(without_address_error(companion))
            else:
                run(companion.name, companion.clean, value)
    if errors:
        raise ValidationError(errors)
    return cleaned


def _check_username_choice(principal: Principal, ram_user: RamUser | None) -> None:
    """rules §3's first column, on the server: a forged choice is a form error on Username."""
    choices = selectors.username_choices(principal)
    if ram_user is None:
        if not choices.account_itself:
            raise ValidationError({"username": _(ACCOUNT_ITSELF_NOT_ALLOWED)}, code="not_allowed")
        return
    if ram_user.account_id != principal.account.pk:
        # Another account's user: word it as for any name it may not pick (no hint it exists).
        raise ValidationError(
            {"username": _(USERNAME_NOT_ALLOWED).format(username=ram_user.user_name)},
            code="not_allowed",
        )
    if choices.only_itself and ram_user.pk != principal.ram_user.pk:
        raise ValidationError({"username": _(OTHER_USER_NOT_ALLOWED)}, code="not_allowed")


def _integrity_to_validation(exc: IntegrityError, username: str) -> ValidationError:
    """Two requests raced past the friendly checks; the constraint picked the winner."""
    if "phone" in str(exc):
        return ValidationError({"phone": _(PHONE_TAKEN)}, code="phone_taken")
    return ValidationError(
        {"username": _(USERNAME_TAKEN).format(username=username)}, code="username_taken"
    )


def link_errors(*, account, contact=None, phone=None, mailbox: str = "") -> dict[str, str]:
    """What the listeners of `contact_checking` would refuse (the ARMS side, rules §5), for a form
    that shows them beside its own errors."""
    errors: dict[str, str] = {}
    replies = contact_checking.send(
        sender=Contact, account=account, contact=contact, phone=phone, mailbox=mailbox
    )
    for _receiver, answer in replies:
        for field, message in (answer or {}).items():
            errors.setdefault(field, message)
    return errors


def create_contact(
    *,
    principal: Principal,
    ram_user: RamUser | None,
    phone,
    **values: str,
) -> Contact:
    """Create a contact for `ram_user` (None: the Alibaba Cloud account itself), with the
    channel fields given by name (`mailbox`, `dingtalk_webhook`, …: contacts/channels).

    Refuses, as a ValidationError naming the field: a username the principal may not choose,
    the 101st contact (non-field), a username or phone that already has a contact, and
    whatever the ARMS link refuses (rules §5).
    """
    _check_username_choice(principal, ram_user)
    given = {name: values.get(name) or "" for name in channels.field_names()}
    cleaned = _clean_channels(phone, {**values, **given})
    account = principal.account
    username = ram_user.user_name if ram_user is not None else account.login_name
    contact_creating.send(sender=Contact, account=account, phone=cleaned["phone"])
    with transaction.atomic():
        # Serialise the account's contact creations (PostgreSQL row lock; on SQLite the
        # IMMEDIATE transaction already holds the write lock), so the count below is exact
        # even when many requests race for the last place. The count is a statement of its
        # own, after the lock: in READ COMMITTED only a later statement sees what the
        # transaction we waited for committed.
        Account.objects.select_for_update().filter(pk=account.pk).values_list("pk").get()
        # The limit, the username and the phone in one round trip (an account has at most
        # 100 contacts, so counting them is cheap).
        taken = Contact.objects.filter(account_id=account.pk).aggregate(
            total=Count("pk"),
            username=Count("pk", filter=Q(ram_user=ram_user)),
            phone=Count("pk", filter=Q(phone=cleaned["phone"])),
        )
        if taken["total"] >= contact_limit():
            raise ValidationError(
                _(CONTACT_LIMIT_REACHED).format(limit=contact_limit()), code="limit_reached"
            )
        # Both refusals at once, so that the form shows every error in one round.
        refused = {}
        if taken["username"]:
            refused["username"] = ValidationError(
                _(USERNAME_TAKEN).format(username=username), code="username_taken"
            )
        if taken["phone"]:
            refused["phone"] = ValidationError(_(PHONE_TAKEN), code="phone_taken")
        if refused:
            raise ValidationError(refused)
        contact = Contact(
            account=account,
            ram_user=ram_user,
            phone=cleaned["phone"],
            **{name: cleaned[name] for name in channels.field_names()},
            created_by=principal.ram_user,
        )
        try:
            # post_save links the contact on the ARMS side (arms_sync.receivers). No savepoint
            # of its own: a refusal leaves the atomic() above, which rolls all of it back.
            contact.save()
        except IntegrityError as exc:
            raise _integrity_to_validation(exc, username) from None
        audit.record(
            account=account,
            actor=principal,
            action="contact.create",
            obj=contact,
            changes=_audit_changes({}, contact),
        )
    return contact


def _ensure_may_manage(principal: Principal, contact: Contact) -> None:
    if not selectors.can_manage(principal, contact):
        raise PermissionDenied(_(NOT_ALLOWED_TO_MANAGE))


def update_contact(
    *,
    principal: Principal,
    contact: Contact,
    phone,
    **values: str | None,
) -> Contact:
    """Edit a contact's phone and channels (the username is not editable). Each channel field
    by name: a new value, "" to remove it, or None (KEEP_SECRET; omitted likewise) to keep the
    stored one. A companion (the DingTalk signing secret and keyword) goes when its address
    goes. The linked ARMS contact follows (rules §5); a conflict there is refused on its field
    and nothing changes."""
    _ensure_may_manage(principal, contact)
    cleaned = _clean_channels(phone, values)
    with transaction.atomic():
        # of=self: PostgreSQL cannot lock the nullable side (ram_user) of an outer join.
        locked = Contact.objects.select_for_update(of=("self",)).select_related(
            "account", "ram_user"
        )
        contact_now = locked.get(pk=contact.pk)
        before = audit.snapshot(contact_now, _audited_fields())
        others = Contact.objects.filter(account_id=contact_now.account_id).exclude(pk=contact.pk)
        if others.filter(phone=cleaned["phone"]).exists():
            raise ValidationError({"phone": _(PHONE_TAKEN)}, code="phone_taken")
        contact_now.phone = cleaned["phone"]
        for channel in channels.all_channels():
            for field in channel.fields:
                if field.name in cleaned:  # else KEEP_SECRET
                    setattr(contact_now, field.name, cleaned[field.name])
            if not getattr(contact_now, channel.address.name):
                # A signing secret or keyword without its robot means nothing: it goes with it.
                for companion in channel.companions:
                    setattr(contact_now, companion.name, "")
        try:
            # post_save propagates the edit to the linked ARMS contact (no savepoint needed:
            # a refusal leaves the atomic() above).
            contact_now.save()
        except IntegrityError as exc:
            raise _integrity_to_validation(exc, contact_now.username) from None
        audit.record(
            account=contact_now.account_id,
            actor=principal,
            action="contact.update",
            obj=contact_now,
            changes=_audit_changes(before, contact_now),
        )
    return contact_now


def delete_contact(*, principal: Principal, contact: Contact) -> None:
    """Delete a contact; pre_delete removes its linked ARMS contact and group memberships."""
    _ensure_may_manage(principal, contact)
    with transaction.atomic():
        current = Contact.objects.filter(pk=contact.pk).select_for_update().first()
        audit.record(
            account=contact.account_id,
            actor=principal,
            action="contact.delete",
            obj=contact,
            changes=audit.diff(
                audit.snapshot(current or contact, _audited_fields()),
                dict.fromkeys(_audited_fields(), ""),
                mask=_audit_masks(),
            ),
        )
        contact.delete()
