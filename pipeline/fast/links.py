"""Which text from a form may be rendered as a link: the quick regular-expression answer for
plain http(s) addresses, urlsplit for everything else (the plain twin)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from ..core.values import text


_NOT_IN_LINK = re.compile(r"[\x00-\x1f\x7f ]")  # control characters and the space


# an http(s) address with a plain ASCII host: what urlsplit accepts, without calling it
_PLAIN_LINK = re.compile(r"[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9._~!$&'()*+,;=:@%-]+(?:[/?#]|\Z)")


# the same, already stripped and without control characters or spaces: the address as it is
_SIMPLE_LINK = re.compile(r"[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9._~!$&'()*+,;=:@%-]+"
                          r"(?:[/?#](?:[^\x00-\x20\x7f]*[^\s\x00-\x20\x7f])?)?")


def safe_link(url: Any) -> str | None:
    """The address if it is an http(s) URL that is safe to render as a link; else None."""
    s = text(url)
    if _SIMPLE_LINK.fullmatch(s):
        return s
    s = s.strip()
    if not s or _NOT_IN_LINK.search(s):
        return None
    if _PLAIN_LINK.match(s):
        return s
    try:
        parts = urlsplit(s)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return s
