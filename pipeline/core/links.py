"""Which text from a form is a web address that may be shown as a link: the one rule.

Only a plain address is a link: http:// or https://, then a host, an optional :port, then
nothing or a path, query or fragment; no spaces or control characters anywhere. The host is a
name with a dot made of ASCII letters, digits, «-», «_» and dots, or a name written wholly in
Russian letters (with digits, «-» and dots; e.g. «школа7.рф»).

Refused (kept as text, flagged in issues.csv as checklist.bad_link, never rendered as a link):
anything that is not http(s) («см. папку на диске», ftp://…, data:, javascript:, vbscript:,
file:), a protocol-relative «//host», a user name or password before the host
(«https://user:pass@host» — the part before «@» looks like the site to a reader), and a host
that mixes alphabets or uses letters of another alphabet («pаypal.com» with a Cyrillic «а»:
a look-alike of another site). A host written in punycode («xn--…», ASCII) is allowed: the
report shows the address as written, so a reader sees «xn--…», not a look-alike.

pipeline/fast/links.py answers the same question sooner for the plain addresses most forms
hold; tests/test_fast.py checks that the two agree.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f]")
# the host and an optional port: one alphabet per host (ASCII, or Russian letters)
_ASCII_HOST = re.compile(r"[A-Za-z0-9._-]+(?::[0-9]*)?")
_RUSSIAN_HOST = re.compile(r"[а-яёА-ЯЁ0-9.-]+(?::[0-9]*)?")


def link_ok(text: str) -> bool:
    """Whether the (stripped) text is an address that may be rendered as a link."""
    t = (text or "").strip()
    if not t or _SPACE_OR_CONTROL.search(t):
        return False
    try:
        parts = urlsplit(t)
    except ValueError:
        return False
    if parts.scheme.lower() not in ("http", "https"):
        return False
    netloc = parts.netloc  # "" for «http:x», «//host» has no scheme; a «@» (user, password) fails both
    if "." not in netloc.partition(":")[0]:
        return False
    return bool(_ASCII_HOST.fullmatch(netloc) or _RUSSIAN_HOST.fullmatch(netloc))
