"""What a published page may not show: personal names from the forms and figures about too
few people.

Two rules, each written once: a figure computed from fewer than `min_group_size` people is
shown as «н/д (менее N)» (`is_small`, `small_label`), and a personal name taken from a form is
replaced with «[скрыто]» (`redact`) in the text the schools supplied, before it is rendered —
never in finished markup, and never in the department's own text.
"""

from __future__ import annotations

import functools
import re
from typing import Any, Callable, Iterable

from .values import num


def small_label(n: int) -> str:
    return f"н/д (менее {n})"


def is_small(denominator: Any, n: int) -> bool:
    """A figure computed from fewer than n people (a known denominator below n, but above 0)."""
    d = num(denominator)
    return d is not None and 0 < d < n


def shown(text: str, denominator: Any, n: int) -> str:
    """A figure as published: its text, or «н/д (менее N)» when it is computed from fewer than
    n people."""
    return small_label(n) if is_small(denominator, n) else text


REDACTED = "[скрыто]"


_TRIE_MAX = 200  # longer names (never real ones) are replaced one by one


def _trie_regex(words: Iterable[str]) -> str:
    """One regular expression matching any of the words, longest first, as a trie: the
    engine follows one branch per character instead of trying every word at every place."""
    trie: dict[str, dict] = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, dict]) -> str:
        alts = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(trie)


@functools.lru_cache(maxsize=4)
def _name_matcher(names: tuple[str, ...]) -> tuple[re.Pattern[str] | None, tuple[str, ...]]:
    forms = {n for n in names if n}
    short = sorted(f for f in forms if len(f) <= _TRIE_MAX)
    long = tuple(sorted((f for f in forms if len(f) > _TRIE_MAX), key=len, reverse=True))
    return (re.compile(_trie_regex(short)) if short else None), long


def redactor(names: Iterable[str]) -> Callable[[str], str]:
    """redact(·, names) with the names' pattern found once, for a caller redacting many texts:
    finding the cached pattern hashes every name (~20 µs a call with 5,000 names, 4 s of the
    179,000 texts of a 10,000-school report), while the pattern's own search takes under 1 µs."""
    pattern, long = _name_matcher(tuple(names))

    def apply(value: str) -> str:
        if not value:
            return value
        for form in long:
            value = value.replace(form, REDACTED)
        return pattern.sub(REDACTED, value) if pattern is not None else value

    return apply


def redact(value: str, names: Iterable[str]) -> str:
    """A school-supplied text (plain, not markup) with every occurrence of a personal name
    replaced by «[скрыто]» (where names overlap, the longest at the leftmost place)."""
    return redactor(names)(value) if value else value
