"""Numbers, percentages, dates and plurals as a Russian reader expects them.

One formatter for every human-facing output (the report, the school pages, the
recommendations' texts, Excel headers, documents): a decimal comma, the minus sign «−»,
thin groups of thousands, «15 июня 2026 г.».
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .values import num, text


MONTHS_GEN = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября",
              "октября", "ноября", "декабря")


def fmt_num(v: Any, digits: int = 1) -> str:
    """72,5 — Russian decimal comma; '—' for empty."""
    f = num(v)
    if f is None:
        return "—"
    s = f"{f:.{digits}f}".replace(".", ",").replace("-", "−")
    return s


def fmt_int(v: Any) -> str:
    f = num(v)
    return "—" if f is None else f"{int(round(f)):,}".replace(",", "\u00a0")


def fmt_pct(v: Any, digits: int = 1) -> str:
    f = num(v)
    return "—" if f is None else f"{fmt_num(f, digits)}\u00a0%"


def fmt_date(d: dt.date) -> str:
    """15 июня 2026 г."""
    return f"{d.day} {MONTHS_GEN[d.month - 1]} {d.year}\u00a0г."


def plural(n: int, one: str, few: str, many: str) -> str:
    """Russian plural: 1 школа, 2 школы, 5 школ."""
    n = abs(int(n))
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


def short(s: str, n: int = 48) -> str:
    s = text(s)
    return s if len(s) <= n else s[: n - 1].rstrip() + "…"
