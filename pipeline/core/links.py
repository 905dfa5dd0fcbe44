"""Which text from a form is a web address that may be shown as a link: the one rule.

An absolute http(s) address with a host that has a dot in it, and no spaces or control
characters. Anything else («см. папку на диске», ftp://…, javascript:…) is kept as text,
flagged in issues.csv (checklist.bad_link), and never rendered as a link.
pipeline/fast/links.py answers the same question sooner for the plain addresses most forms
hold; tests/test_fast.py checks that the two agree.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f]")


def link_ok(text: str) -> bool:
    """Whether the (stripped) text is an address that may be rendered as a link."""
    t = (text or "").strip()
    if not t or _SPACE_OR_CONTROL.search(t):
        return False
    try:
        parts = urlsplit(t)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc) and "." in parts.netloc
