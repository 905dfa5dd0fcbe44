"""Numbers, percentages, dates and plurals as a Russian reader expects them.

One formatter for every human-facing output (the report, the school pages, the
recommendations' texts, Excel, documents): a decimal comma, the minus sign «−», groups of
thousands with a no-break space, «15 июня 2026 г.». Rounding is half up on the number as
written (42,25 → 42,3), the same everywhere.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any

from .values import num, text

MONTHS_GEN = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября",
              "октября", "ноября", "декабря")
MONTHS = ("январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь",
          "октябрь", "ноябрь", "декабрь")


_WIDE = Context(prec=400)  # every digit of any float (1e308 has 309 before the point)


def _rounded(f: float, digits: int) -> str:
    """f rounded half up to `digits` decimals, as text with a point («42.3», «-0.0»)."""
    d = Decimal(repr(f)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP, context=_WIDE)
    return f"{d:.{digits}f}"


def fmt_num(v: Any, digits: int = 1) -> str:
    """72,5 — Russian decimal comma; '—' for empty."""
    f = num(v)
    if f is None:
        return "—"
    if f in (float("inf"), float("-inf")):
        return "—"
    return _rounded(f, digits).replace(".", ",").replace("-", "−")


def fmt_number(v: Any) -> str:
    """A number in running text: one decimal, none when it is whole (42,3; 40; 0)."""
    text_ = fmt_num(v, 1)
    if text_.endswith(",0"):
        text_ = text_[:-2]
    return "0" if text_ == "−0" else text_


def fmt_int(v: Any) -> str:
    f = num(v)
    if f is None or f in (float("inf"), float("-inf")):
        return "—"
    return f"{int(_rounded(f, 0)):,}".replace(",", "\u00a0").replace("-", "−")


def fmt_pct(v: Any, digits: int = 1) -> str:
    f = num(v)
    return "—" if f is None else f"{fmt_num(f, digits)}\u00a0%"


def fmt_date(d: dt.date) -> str:
    """15 июня 2026 г."""
    return f"{d.day} {MONTHS_GEN[d.month - 1]} {d.year}\u00a0г."


def fmt_month(year_month: str) -> str:
    """«2026-10» → «октябрь 2026» (a roadmap's «Срок исполнения (месяц, год)»)."""
    year, month = (int(x) for x in str(year_month).split("-"))
    return f"{MONTHS[month - 1]} {year}"


def fmt_day(d: dt.date) -> str:
    """15.06.2026"""
    return d.strftime("%d.%m.%Y")


def plural(n: int, one: str, few: str, many: str) -> str:
    """Russian plural: 1 школа, 2 школы, 5 школ."""
    n = abs(int(n))
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


def short(s: Any, n: int = 48) -> str:
    """A text cut to n characters with «…»."""
    s = text(s)
    return s if len(s) <= n else s[: n - 1].rstrip() + "…"
