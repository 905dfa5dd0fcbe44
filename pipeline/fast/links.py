"""link_ok (pipeline/core/links.py) for the addresses most forms hold, without urlsplit: an
http(s) address with a plain ASCII host that has a dot (letters, digits, «-», dots: no
«@» of a user name or password, no port, no letters of another alphabet), then nothing or a
path, query or fragment of visible ASCII, is certainly a link; anything else (a refusal, a
port, a Russian host) is asked of the plain rule."""

from __future__ import annotations

import functools
import re

from ..core.links import link_ok as plain_link_ok

_PLAIN_LINK = re.compile(r"(?i:https?)://[A-Za-z0-9-]*\.[A-Za-z0-9.-]*(?:[/?#][!-~]*)?")


@functools.lru_cache(maxsize=1 << 14)
def link_ok(text: str) -> bool:
    """Whether the text is an address that may be rendered as a link (same answer as the plain
    rule; remembered: a year's forms repeat their addresses)."""
    return True if _PLAIN_LINK.fullmatch(text) else plain_link_ok(text)
