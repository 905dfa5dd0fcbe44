"""Runs of spaces and tabs made one space, without a regular expression: the same bytes as
`re.sub(rb"[ \\t]+", b" ", data)` (the plain twin) at a fraction of the cost — a run halves at
every pass, and 10,000 school pages are hashed per run (pipeline/run/manifest.py)."""

from __future__ import annotations

import re

_SPACES = re.compile(rb"[ \t]+")


def collapse_spaces(data: bytes) -> bytes:
    """Every run of spaces and tabs as one space."""
    data = data.replace(b"\t", b" ")
    while b"  " in data:
        data = data.replace(b"  ", b" ")
    return data


def collapse_spaces_plain(data: bytes) -> bytes:
    """collapse_spaces as a regular expression (the reference it must equal)."""
    return _SPACES.sub(b" ", data)
