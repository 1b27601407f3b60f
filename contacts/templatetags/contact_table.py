"""`{% contact_rows rows %}`: the rows of the Contact Management table.

A hundred rows of about twenty-five values each were 2,500 template nodes a page, and the
template engine's cost per node was most of the page's time (issue 11's profile). The row's
markup is therefore written once here and filled by Python, each value escaped as `{{ }}`
escapes it; the labels are translated and the CSRF field made once per page, not per row.
The rest of the page stays in contacts/list.html.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape as html_escape

from django import template
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import get_current_timezone
from django.utils.translation import gettext, gettext_noop

from contacts import channels

register = template.Library()

_EMPTY = "—"  # a cell with nothing in it
_WHOLE = 16  # an address this long or shorter is never broken

# The row's words, translated and escaped once a page (contact_rows).
_LABELS = {
    "account": gettext_noop("Alibaba Cloud account"),
    "ram_user": gettext_noop("RAM user"),
    "not_linked": gettext_noop("Not linked"),
    "ram_deleted": gettext_noop("RAM user deleted"),
    "pending": gettext_noop("Pending"),
    "synced": gettext_noop("Synced"),
    "failed": gettext_noop("Failed"),
    "remote_id": gettext_noop("ARMS ID"),
    "edit": gettext_noop("Edit"),
    "delete": gettext_noop("Delete"),
    "test": gettext_noop("Test"),
    "configured": gettext_noop("Configured"),
}


def _escape(value: str) -> str:
    # What `{{ value }}` does to a plain string (django.utils.html.escape is this, behind a
    # lazy-string wrapper that a thousand calls a page notice).
    return html_escape(value)


def _text(value: str) -> str:
    return _address(value) if value else _EMPTY


def _address(value: str, head: str = "", tail: str = "") -> str:
    """A login name, mailbox or name, escaped, on at most two lines: it may break once, after
    an "@" or before a ".", where the longer of its two halves is shortest
    (carol@1234567890123456 / .onaliyun.com), never inside a word (issue 18). `head` (an
    icon) stays on the first half's line and `tail` (a badge) on the second's, so the cell is
    two lines at most. The halves are one .address, which tests read as one text."""
    cuts = [i + 1 for i, c in enumerate(value) if c == "@"] + [
        i for i, c in enumerate(value) if c == "." and i > 0
    ]
    # A short one stays whole (a name such as Alice.Wang; a break would only make
    # the row taller and the text harder to find on the page).
    cut = min(cuts, key=lambda i: max(i, len(value) - i), default=0) if len(value) > _WHOLE else 0
    if not cut:
        return f'<span class="text-nowrap">{head}{_escape(value)}{tail}</span>'
    return (
        f'<span class="address"><span class="text-nowrap">{head}{_escape(value[:cut])}</span>'
        f'<wbr><span class="text-nowrap">{_escape(value[cut:])}{tail}</span></span>'
    )


def _robot(masked: str, label: str) -> str:
    """A configured robot as one short line, "Configured · …9c1d" (the token's last characters
    tell two robots apart); the whole masked URL is the title, the tooltip a focus shows, and
    text for screen readers. A full URL here wrapped into a seven-line block (issue 18)."""
    if not masked:
        return _EMPTY
    full = _escape(masked)
    tail = _escape(masked[-5:]) if "…" in masked[-6:] else ""
    return (
        f'<span class="robot-configured" tabindex="0" data-bs-toggle="tooltip" title="{full}">'
        f"{label}"
        + (f' · <span class="robot-tail">{tail}</span>' if tail else "")
        + f'<span class="visually-hidden">: {full}</span></span>'
    )


def _time(value, zone) -> str:
    """A <time> in the console's time zone, as the other tables write it (Y-m-d H:i:s); the
    date and the time may go on two lines, so a narrow table stays narrow. The zone is looked
    up once a page and the text cut from the ISO form: localtime() and two strftime calls per
    row were 7% of the page (pyinstrument, issue 11)."""
    iso = value.astimezone(zone).isoformat()  # 2026-12-02T16:35:44.123456+08:00
    return (
        f'<time datetime="{iso}"><span class="text-nowrap">{iso[:10]}</span>'
        f' <span class="text-nowrap">{iso[11:19]}</span></time>'
    )


@register.simple_tag(takes_context=True)
def contact_rows(context, rows) -> SafeString:
    labels = {key: conditional_escape(gettext(text)) for key, text in _LABELS.items()}
    token = context.get("csrf_token")
    csrf = (
        format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', token)
        if token and token != "NOTPROVIDED"
        else ""
    )
    zone = get_current_timezone()
    badges = {
        c.name: conditional_escape(gettext(c.badge_label))
        for c in channels.all_channels()
        if c.badge_label
    }
    shown = _Channels(badges, {c.name for c in channels.all_channels() if c.address.is_secret})
    # Every value is escaped in _row.
    return mark_safe("".join(_row(row, labels, csrf, zone, shown) for row in rows))


@dataclass(frozen=True)
class _Channels:
    badges: dict[str, str]  # channel -> its badge's title
    robots: set[str]  # the channels shown masked, as a robot


def _channel_cell(cell, labels: dict[str, str], shown: _Channels) -> str:
    """A channel's cell: a mailbox as it is, a robot as "Configured · …9c1d" with its badge."""
    if cell.channel not in shown.robots:
        return f'\n          <td class="address-cell">{_text(cell.value)}</td>'
    badge = (
        f' <span class="badge text-bg-light" title="{shown.badges[cell.channel]}">'
        '<i class="bi bi-key"></i></span>'
        if cell.badge
        else ""
    )
    robot = _robot(cell.value, labels["configured"])
    return f'\n          <td class="secret-mask robot-cell">{robot}{badge}</td>'


def _row(row, labels: dict[str, str], csrf: str, zone, shown: _Channels) -> str:
    escape = _escape
    kind = (
        f'<span class="badge text-bg-warning">{labels["account"]}</span>'
        if row.is_account_itself
        else f'<span class="badge text-bg-secondary">{labels["ram_user"]}</span>'
    )
    deleted = (
        ' <span class="badge text-bg-danger" data-testid="ram-deleted">'
        f"{labels['ram_deleted']}</span>"
        if row.ram_deleted
        else ""
    )
    arms = (
        f'<span class="badge text-bg-danger" data-testid="not-linked">{labels["not_linked"]}</span>'
        if row.arms_name is None
        else _address(row.arms_name, head='<i class="bi bi-link-45deg"></i> ')
    ) + _cloud_state(row, labels)
    cells = "".join(_channel_cell(cell, labels, shown) for cell in row.channels)
    if row.may_manage:
        edit, delete = escape(row.edit_url), escape(row.delete_url)
        actions = (
            f'\n            <a href="{edit}" hx-get="{edit}" hx-target="#modal-host">'
            f"{labels['edit']}</a>"
            '\n            <span class="text-secondary">|</span>'
            f'\n            <a href="{delete}" hx-get="{delete}" hx-target="#modal-host"'
            f' class="text-danger">{labels["delete"]}</a>'
        )
        if row.test_url:
            test = escape(row.test_url)
            actions += (
                '\n            <span class="text-secondary">|</span>'
                f'\n            <form class="d-inline" method="post" action="{test}"'
                f' hx-get="{test}" hx-params="none" hx-target="#modal-host"'
                ' hx-disabled-elt="find button">'
                f"{csrf}"
                '\n              <button type="submit" class="btn btn-link btn-inline-link"'
                f' data-testid="test-contact">{labels["test"]}</button>'
                "\n            </form>"
            )
        actions += "\n            "
    else:
        actions = '\n            <span class="text-secondary">—</span>'
    return (
        f'\n        <tr data-contact-id="{row.pk}">'
        f'\n          <td class="address-cell">{_address(row.username, tail=" " + kind)}{deleted}'
        "\n          </td>"
        f'\n          <td class="text-nowrap">{escape(row.phone)}</td>'
        f"{cells}"
        f'\n          <td class="address-cell">{arms}</td>'
        f'\n          <td class="address-cell contact-meta d-none d-lg-table-cell">'
        f"{_address(row.created_by)}</td>"
        f'\n          <td class="contact-meta d-none d-lg-table-cell">'
        f"{_time(row.created_at, zone)}</td>"
        f'\n          <td class="contact-actions">{actions}\n          </td>'
        "\n        </tr>"
    )


_STATE_BADGES = {
    "synced": "text-bg-success",
    "pending": "text-bg-warning",
    "failed": "text-bg-danger",
}


def _cloud_state(row, labels: dict[str, str]) -> str:
    """A connected account's ARMS state of the linked contact: Synced / Pending / Failed with
    ARMS's reason, and the remote contact ID (nothing for an account that is not connected)."""
    if not getattr(row, "arms_state", None) or row.arms_state not in _STATE_BADGES:
        return ""
    html = (
        f' <span class="badge {_STATE_BADGES[row.arms_state]}" data-testid="arms-state">'
        f"{labels[row.arms_state]}</span>"
    )
    if row.arms_state == "failed" and row.arms_error:
        html += (
            ' <span class="small text-danger" data-testid="arms-error">'
            f"{_escape(row.arms_error)}</span>"
        )
    if row.arms_remote_id:
        html += (
            f' <span class="small text-secondary" data-testid="arms-remote-id">'
            f"{labels['remote_id']} {row.arms_remote_id}</span>"
        )
    return html
