"""Report assembly: formatting, zones, trends, suppression, escaping, the sections and the
school view, on a hand-built processed history."""

from __future__ import annotations

import pandas as pd
import pytest
from markupsafe import escape

from pipeline.core.links import link_ok
from bs4 import BeautifulSoup


from pipeline.config.params import load_params
from report_data import HOSTILE_LINK, HOSTILE_SCRIPT, RESPONSIBLE, write_history
from pipeline.core import levels as core_levels
from pipeline.core import privacy
from pipeline.core import russian
from pipeline.core import values as core_values
from pipeline.fast import columns as fast_columns
from pipeline.report import context as report_context
from pipeline.report import school as report_school
from pipeline.report import sections as report_sections
from pipeline.report import tables as report_tables


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    return report_context.build_context(load_params(write_history(folder, hostile=True), check_files=False))


@pytest.fixture(scope="module")
def first_year(tmp_path_factory):
    folder = tmp_path_factory.mktemp("first")
    return report_context.build_context(load_params(write_history(folder, years=(2025,)), check_files=False))


def test_russian_number_formats():
    assert russian.fmt_num(72.45) == "72,5"
    assert russian.fmt_num(-3.0) == "−3,0"
    assert russian.fmt_num(None) == "—" and russian.fmt_num(float("nan")) == "—"
    assert russian.fmt_pct(45) == "45,0\u00a0%"
    assert russian.fmt_int(12345) == "12\u00a0345"
    assert [russian.plural(n, "школа", "школы", "школ") for n in (1, 2, 5, 11, 21, 22, 25)] == [
        "школа", "школы", "школ", "школ", "школа", "школы", "школ"]


def test_zones_follow_the_level_thresholds(ctx):
    p = ctx.params
    assert core_levels.zone_of(p.levels.high, p) == "зелёная"
    assert core_levels.zone_of(p.levels.high - 0.01, p) == "жёлтая"
    assert core_levels.zone_of(p.levels.medium, p) == "жёлтая"
    assert core_levels.zone_of(p.levels.medium - 0.01, p) == "красная"
    assert core_levels.zone_of(None, p) == ""


def test_trend_marks_only_beyond_the_threshold():
    assert core_levels.trend(5.01, 5)[0] == "▲"
    assert core_levels.trend(-5.01, 5)[0] == "▼"
    assert core_levels.trend(5.0, 5)[0] == "→" and core_levels.trend(-5.0, 5)[0] == "→"
    assert core_levels.trend(None, 5)[0] == ""


@pytest.mark.parametrize("url, ok", [
    ("https://school.example.ru/doc", True), ("http://a.ru", True), (" https://a.ru/x ", True),
    (HOSTILE_LINK, False), ("JaVaScRiPt:alert(1)", False), ("java\tscript:alert(1)", False),
    ("data:text/html,<b>", False), ("ftp://a.ru", False), ("школа.рф/док", False), ("//evil.ru", False),
    ("https://", False), ("", False), (None, False), ('https://a.ru/"><script>', True),
])
def test_only_http_links_are_links(url, ok):
    assert link_ok(url) is ok


def test_formatting_by_distinct_number_is_exact():
    """Numbers formatted once per distinct value give what formatting each value gives."""
    import numpy as np
    import pandas as pd

    for values in ([1.0, 1.0, np.nan, -0.0, 0.0, 2.5, -7.25], [3, 0, 3, 7], [True, False, True],
                   ["1", None, 2.0, "x", 1, -0.0], [0.0, 12.5, np.nan]):
        column = pd.Series(values)
        for fn in (russian.fmt_int, russian.fmt_num, russian.fmt_pct, core_values.num):
            assert list(fast_columns._each_number(column, fn)) == [fn(v) for v in values], (values, fn)


def test_small_groups(ctx):
    assert privacy.is_small(4, 5) and not privacy.is_small(5, 5)
    assert not privacy.is_small(0, 5)  # not applicable, not small
    assert privacy.small_label(5) == "н/д (менее 5)"
    st = report_tables.school_table(ctx).set_index("school_code")
    assert bool(st.loc["008", "small"]) and not bool(st.loc["001", "small"])


def test_school_table_and_trends(ctx):
    st = report_tables.school_table(ctx)
    assert len(st) == 9
    assert list(st["cluster"].drop_duplicates()) == ["СОШ>500", "СОШ≤500", "ООШ"]
    row = st.set_index("school_code").loc["001"]
    assert row["delta"] == pytest.approx(row["total_score"] - row["prev_total"])
    assert not bool(st.set_index("school_code").loc["009", "submitted"])


def test_history_follows_previous_params(ctx, first_year):
    assert [h.year for h in ctx.history] == [2025, 2026]
    assert all(h.data is not None for h in ctx.history)
    assert [h.year for h in first_year.history] == [2025]


def test_history_says_when_a_year_has_no_data(tmp_path):
    import shutil

    params = load_params(write_history(tmp_path), check_files=False)
    shutil.rmtree(tmp_path / "processed" / "2025")
    ctx = report_context.build_context(params)
    assert ctx.history[0].data is None and "не найдены" in ctx.history[0].note
    html = report_sections.dynamics_html(ctx)
    assert "2025 год — обработанные данные не найдены" in str(html)
    assert "не выполнен" in report_sections.effectiveness_html(ctx)


def test_every_section_renders_and_escapes(ctx):
    html = "".join(report_sections.all_sections(ctx))
    soup = BeautifulSoup(html, "html.parser")
    assert not soup.find("script")
    assert HOSTILE_SCRIPT not in html  # the issue message carrying it is not published
    assert RESPONSIBLE not in html
    ids = {s.get("id") for s in soup.find_all("section")}
    assert {a for a, _ in report_sections.CYCLE} <= ids


def test_header_carries_the_order(ctx):
    html = report_sections.header_html(ctx.params)
    hd = ctx.params.header
    for part in (hd.organization, hd.order_number, "15.06.2026", hd.approved_by, "УТВЕРЖДАЮ", *hd.executors):
        assert str(escape(part)) in html or part in html, part


def test_first_year_says_so(first_year):
    html = report_sections.effectiveness_html(first_year)
    assert "первый год мониторинга" in html
    assert "появится" in str(report_sections.dynamics_html(first_year))


def test_followup_summary(ctx):
    summ = report_tables.followup_summary(ctx)
    total = summ.iloc[-1]
    assert total["indicator_code"] == "всего" and total["n"] == len(ctx.data["followup.csv"])
    assert sum(total[s] for s in report_tables.FOLLOWUP_STATUSES) == pytest.approx(100)


def test_school_rows_keep_the_first_row_in_methodology_order(tmp_path):
    """A repeated row of a school counts once (its first), rows come in the methodology's
    order whatever the file's, codes outside the methodology are left out."""
    params = load_params(write_history(tmp_path), check_files=False)
    ctx = report_context.build_context(params)
    cr = ctx.data["criteria.csv"]
    k1 = ctx.methodology.criteria[0].code
    mine = cr[(cr["school_code"] == "004") & (cr["criterion"] == k1)]
    assert len(mine) == 1 and float(mine["pct"].iloc[0]) > 0
    repeat = mine.assign(pct=0.0, points=0)  # the same criterion again, later in the file
    unknown = mine.assign(criterion="K99")
    ctx.data.tables["criteria.csv"] = pd.concat([unknown, cr.iloc[::-1], repeat], ignore_index=True)
    rows = report_school.school_view(ctx, "004")["criteria"]
    assert [r["code"] for r in rows] == [c.code for c in ctx.methodology.criteria]
    assert rows[0]["pct"] == pytest.approx(float(mine["pct"].iloc[0]))


def test_school_view_is_the_page_data_as_dicts(ctx):
    for code in ("004", "008", "009"):
        data, view = report_school.school_page_data(ctx, code), report_school.school_view(ctx, code)
        assert set(view) == set(vars(data))
        for name in report_school.ROW_LISTS:
            assert view[name] == [r._asdict() for r in getattr(data, name)]


def test_school_view(ctx):
    v = report_school.school_view(ctx, "004")
    assert v["submitted"] and v["zone"] in ("зелёная", "жёлтая", "красная")
    assert [c["code"] for c in v["criteria"]] == [c.code for c in ctx.methodology.criteria]
    first = v["positions"][0]
    assert first["link"] == HOSTILE_LINK and first["href"] is None
    assert all(p["href"] is None or p["href"].startswith("https://") for p in v["positions"])
    assert v["recommendations"] and v["recommendations"][0]["priority"] == "высокий"
    assert "responsible" not in {i.get("field") for i in v["issues"]}
    missing = report_school.school_view(ctx, "009")
    assert not missing["submitted"] and missing["level"] == "нет данных" and not missing["positions"]
    small = report_school.school_view(ctx, "008")
    assert small["total"] == "н/д (менее 5)" and small["activity"] == "н/д (менее 5)"
    assert all(h["total"] is None for h in small["history"])


def test_municipal_values_are_ratios_of_sums(ctx):
    tm = report_tables.municipal_targets(ctx).set_index("target")
    st = ctx.data["staff.csv"]
    assert tm.loc["T1", "numerator"] == st["P6"].sum() and tm.loc["T1", "denominator"] == st["P0"].sum()


def test_redact():
    assert privacy.redact("<p>Иванова Мария</p>", ["Иванова Мария"]) == "<p>[скрыто]</p>"
    assert privacy.redact("A & B", ["A & B"]) == "[скрыто]"
    assert privacy.redact("A &amp; B", ["A & B"]) == "A &amp; B"  # plain text, not markup


def test_binary_methodology_renders(tmp_path):
    """A {0,1} methodology: the report still renders (no «частично», max 1 per position)."""
    from pathlib import Path

    binary = Path(__file__).resolve().parents[1] / "methodology" / "binary.yaml"
    if not binary.is_file():
        pytest.skip("no binary methodology in this checkout")
    from pipeline.config.methodology import load_methodology

    params = load_params(write_history(tmp_path), check_files=False)
    ctx = report_context.build_context(params, load_methodology(binary))
    assert "Приложение" in report_sections.appendix_html(ctx)


def test_charts_take_names_as_plain_text(ctx):
    """A «$» or markup in a school's name must not break a chart (no mathtext, no HTML)."""
    from pipeline.report import charts

    pos = report_tables.position_matrix(ctx)
    st = report_tables.school_table(ctx)
    st.loc[0, "school_name"] = "Школа $x^2$ <b>«№ 1»</b> \\frac"
    uri, _ = charts.heatmap_chart(pos, st, ctx.methodology)
    assert uri.startswith("data:image/png;base64,")


def test_charts_are_reproducible(ctx):
    from pipeline.report import charts

    st = report_tables.school_table(ctx)
    sub = st[st["submitted"]]
    order = report_tables.cluster_order(ctx)
    assert charts.distribution_chart(sub, ctx.params, order) == charts.distribution_chart(sub, ctx.params, order)
