"""Levels, zones and trend marks: the one reading of a total score against the year's
thresholds (высокий/зелёная ≥ high, средний/жёлтая ≥ medium, else низкий/красная) and of a
change against the previous year."""

from __future__ import annotations

from typing import Any

from .contract import ZONES
from .russian import fmt_num
from .values import num

# a zone told by a letter as well as by its colour (WCAG 1.4.1): the initial of its level
# (высокий, средний, низкий) — letters render in every font, unlike ◐
ZONE_MARK = dict(zip(ZONES, ("В", "С", "Н")))


def zone_of(value: Any, params: Any) -> str:
    """зелёная / жёлтая / красная from the level thresholds; '' for empty."""
    f = num(value)
    if f is None:
        return ""
    f = round(f, 9)
    if f >= params.levels.high:
        return ZONES[0]
    if f >= params.levels.medium:
        return ZONES[1]
    return ZONES[2]


def trend(delta: Any, threshold: float) -> tuple[str, str, str]:
    """(mark, css class, words) of a change against the previous year."""
    d = num(delta)
    if d is None:
        return "", "none", "нет данных за прошлый год"
    if d > threshold:
        return "▲", "up", f"рост на {fmt_num(d)}"
    if d < -threshold:
        return "▼", "down", f"снижение на {fmt_num(-d)}"
    return "→", "flat", "без существенных изменений"
