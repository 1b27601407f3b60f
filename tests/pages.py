"""Helpers for comparing rendered pages."""

from __future__ import annotations

import re

# Per-request values that differ between any two renders: CSRF tokens (masked anew each time),
# CSP nonces, and the language switch's return address (the URL asked for). They carry no
# information about whether the object asked for exists.
_PER_REQUEST = [
    (re.compile(rb'nonce="[^"]*"'), b'nonce=""'),
    (re.compile(rb'"X-CSRFToken": "[^"]*"'), b'"X-CSRFToken": ""'),
    (re.compile(rb'name="csrfmiddlewaretoken" value="[^"]*"'), b'name="csrfmiddlewaretoken"'),
    (re.compile(rb'name="next" type="hidden" value="[^"]*"'), b'name="next" type="hidden"'),
]


def comparable(content: bytes) -> bytes:
    """The page with its per-request tokens blanked, so two renders can be compared whole."""
    for pattern, replacement in _PER_REQUEST:
        content = pattern.sub(replacement, content)
    return content
