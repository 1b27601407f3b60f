"""Texts the console itself writes into rows (the descriptions of the system policies, of the
policy an approval grants, of its `sae:` groups): stored in English, the same in every account
and language, and shown in the reader's language. What an operator wrote is shown as written."""

from __future__ import annotations

from django.utils.translation import gettext


def shown_in_reader_language(stored: str, console_text: str | None) -> str:
    """`stored` as pages and the admin show it: translated when it is still `console_text` (the
    English text the console wrote there), else as written, also when an operator wrote over
    the console's text. Translating at display time keeps the stored row the same everywhere."""
    if console_text and stored == console_text:
        return gettext(console_text)
    return stored
