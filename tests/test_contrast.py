"""Colour contrast (WCAG 2.2 AA) of the palette the charts (pipeline/report/charts.py) and the
stylesheet (pipeline/report/templates/style.css) use, computed with the WCAG relative
luminance formula: text ≥ 4.5:1 against its background (1.4.3), marks that carry meaning
≥ 3:1 against the white page (1.4.11) or outlined by a colour that is."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.report import charts

CSS = (Path(charts.__file__).parent / "templates" / "style.css").read_text(encoding="utf-8")
WHITE = "#ffffff"


def _vars() -> dict[str, str]:
    root = re.search(r":root\s*\{(.*?)\}", CSS, re.S).group(1)
    return dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})", root))


def _rule_colour(selector: str) -> str:
    """The `color:` of a rule of style.css, resolving var(--x)."""
    body = re.search(re.escape(selector) + r"\s*\{([^}]*)\}", CSS).group(1)
    value = re.search(r"(?<![-\w])color:\s*([^;]+);", body).group(1).strip()
    ref = re.fullmatch(r"var\(--([\w-]+)\)", value)
    return _vars()[ref.group(1)] if ref else value


def test_the_formula():
    assert charts.contrast("#000000", WHITE) == pytest.approx(21)
    assert charts.contrast(WHITE, WHITE) == pytest.approx(1)
    assert charts.contrast("#767676", WHITE) == pytest.approx(4.54, abs=0.01)   # the known AA grey
    assert charts.contrast("#3f8a4d", "#fafbfc") < 4.5    # the «улучшение» axe-core found


@pytest.mark.parametrize("colour", [charts.GREEN, charts.YELLOW, charts.RED, charts.INK, charts.OUTLINE,
                                    *charts.CLUSTER_PALETTE])
def test_chart_marks_stand_out_from_the_page(colour):
    assert charts.contrast(colour, WHITE) >= 3, colour


def test_light_marks_are_outlined_and_told_by_a_pattern():
    """The follow-up statuses include light colours: each is drawn with the outline, and the
    statuses of one light colour family differ by hatch."""
    assert charts.contrast(charts.OUTLINE, WHITE) >= 3
    light = [s for s, c in charts.FOLLOWUP_COLOURS.items() if charts.contrast(c, WHITE) < 3]
    assert light, "the test should see the light statuses"
    patterns = [(charts.FOLLOWUP_COLOURS[s], charts.FOLLOWUP_HATCH[s]) for s in charts.FOLLOWUP_STATUSES]
    assert len(set(patterns)) == len(patterns)
    assert len(set(charts.ZONE_HATCH.values())) == len(charts.ZONE_HATCH)


@pytest.mark.parametrize("colour", [charts.GREEN, charts.YELLOW, charts.RED, charts.EMPTY])
def test_text_on_a_mark_is_readable(colour):
    """Numbers and heat-map symbols are drawn on zone-coloured marks in ink_on's colour."""
    assert charts.contrast(charts.ink_on(colour), colour) >= 4.5, colour


def test_the_stylesheet_zone_colours_are_the_charts():
    v = _vars()
    assert (v["green"], v["yellow"], v["red"]) == (charts.GREEN, charts.YELLOW, charts.RED)


@pytest.mark.parametrize("fg, bg", [
    ("ink", "paper"), ("ink", "soft"), ("muted", "paper"), ("muted", "soft"), ("accent", "paper"),
    ("accent", "accent-soft"), ("green-ink", "green-bg"), ("yellow-ink", "yellow-bg"), ("red-ink", "red-bg"),
    ("green-ink", "paper"), ("red-ink", "paper"),
])
def test_stylesheet_text_pairs(fg, bg):
    v = _vars()
    assert charts.contrast(v[fg], v[bg]) >= 4.5, (fg, bg)


@pytest.mark.parametrize("selector", [".fu.better", ".fu.fixed", ".trend.up", ".trend.down", ".status.met"])
def test_status_words_are_readable_on_table_rows(selector):
    colour = _rule_colour(selector)
    for row in (WHITE, "#fafbfc", "#f1f5fa"):   # table rows: plain, striped, hovered
        assert charts.contrast(colour, row) >= 4.5, (selector, colour, row)


def test_zone_bars_stand_out_from_their_track():
    track = re.search(r"\.bar \{[^}]*background:\s*(#[0-9a-fA-F]{6})", CSS).group(1)
    for colour in (charts.GREEN, charts.YELLOW, charts.RED):
        assert charts.contrast(colour, track) >= 3
