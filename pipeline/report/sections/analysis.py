"""5. Анализ: the distribution of totals, clusters and ranking, the deficit heat map, the
criterion profile, the targets and the dynamics against earlier years."""

from __future__ import annotations
from typing import Any
from markupsafe import Markup
from ...core.privacy import small_label
from ...core.russian import fmt_int, fmt_num, fmt_pct, plural, short
from ...core.values import text
from ..context import ReportContext
from ..html import bar_cell, figure, h, note, para, section, sub, table, trend_chip, zone_chip
from ..labels import TARGET_STATUS_LABEL, TARGET_STATUS_MARK
from ..tables import cluster_order, cluster_profile, deficits, history_table, municipal_targets, position_matrix, published_school_table, target_school_matrix


def distribution_html(ctx: ReportContext) -> Markup:
    from .. import charts

    st = published_school_table(ctx)
    sub_ = st[st["submitted"] & st["total_score"].notna()]
    if sub_.empty:
        return sub("Распределение итоговых баллов", para("Нет ОО с рассчитанным итоговым баллом."), anchor="distribution")
    uri = charts.distribution_chart(sub_, ctx.params, cluster_order(ctx))
    desc = sub_["total_score"].describe()
    text_ = (f"Итоговый балл рассчитан для {len(sub_)} ОО: минимум {fmt_num(desc['min'])}, медиана "
             f"{fmt_num(sub_['total_score'].median())}, максимум {fmt_num(desc['max'])}, среднее {fmt_num(desc['mean'])}.")
    return sub("Распределение итоговых баллов", para(text_),
               figure(uri, "Гистограмма итоговых баллов и уровни по кластерам",
                      f"Зоны: зелёная — высокий уровень (≥ {fmt_num(ctx.params.levels.high, 0)}), жёлтая — средний "
                      f"(≥ {fmt_num(ctx.params.levels.medium, 0)}), красная — низкий (зона риска).",
                      width=charts.WIDTH_PX), anchor="distribution")


def total_rule(ctx: ReportContext) -> str:
    """How the total is made, in words, for the methodology's parts."""
    m, w = ctx.methodology, ctx.params.weights.checklist
    if m.has_checklist and m.index_shares:
        return f"Итог = {fmt_num(w, 2)} × самооценка + {fmt_num(1 - w, 2)} × индекс активности."
    return "Итог = процент самооценки." if m.has_checklist else "Итог = индекс активности."


def ranking_html(ctx: ReportContext) -> Markup:
    """Clusters and ranking: one table per cluster with zone, bar and trend mark; the checklist
    and activity-index columns only where the methodology has them."""
    st = published_school_table(ctx)
    p, m = ctx.params, ctx.methodology
    thr = p.report.trend_threshold
    small = small_label(ctx.n_small)
    parts = [("Само­оценка", m.has_checklist, "11%"), ("Индекс актив­ности", bool(m.index_shares), "10%")]
    head = ["Место", "ОО", "Итог", "", "Уровень", *[t for t, on, _ in parts if on], f"К {p.year - 1} г."]
    spare = sum(int(w[:-1]) for _, on, w in parts if not on)   # a column the methodology lacks widens «ОО»
    widths = ("6%", f"{29 + spare}%", "9%", "16%", "9%", *[w for _, on, w in parts if on], "10%")
    blocks = []
    for cl in [c for c in cluster_order(ctx) if c in set(st["cluster"].map(text))]:
        g = st[st["cluster"].map(text) == cl]
        rows, classes = [], []
        for r in g.itertuples():
            link = h("a", text(r.school_name), href=f"schools/{r.page}")
            if not r.submitted:
                rows.append(["—", link, Markup('<span class="muted">форма не представлена</span>')] + [""] * (len(head) - 3))
                classes.append("no-data")
                continue
            total = zone_chip(r.total_score, p) if not r.small else h("span", small, class_="chip none")
            values = [fmt_pct(r.checklist_pct), small if r.small else fmt_num(r.activity_index)]
            rows.append([fmt_int(r.rank_in_cluster), link, total, bar_cell(r.total_score if not r.small else None, p),
                         text(r.level), *[v for v, (_, on, _) in zip(values, parts) if on],
                         trend_chip(r.delta, thr) if not r.small else "—"])
            classes.append("")
        n_sub = int(g["submitted"].sum())
        blocks.append(sub(f"Кластер «{cl}» — {n_sub} {plural(n_sub, 'школа', 'школы', 'школ')}", table(
            head, rows, num_cols=tuple(range(5, len(head) - 1)), cls="data ranking", row_classes=classes,
            nowrap=(2, len(head) - 1), widths=widths)))
    return sub("Кластеры и рейтинг", para(
        f"ОО сравниваются внутри кластера: {m.cluster_rule.describe(p.cluster_threshold)}. {total_rule(ctx)} "
        f"Отметка тренда ▲/▼ — изменение более чем на {fmt_num(thr, 0)} баллов к прошлому году."),
        *blocks, anchor="ranking")


def heatmap_html(ctx: ReportContext) -> Markup:
    from .. import charts

    pos = position_matrix(ctx)
    if pos.empty:
        return sub("Карта дефицитов", para("Нет данных самооценки."), anchor="heatmap")
    st = published_school_table(ctx)
    uri, height = charts.heatmap_chart(pos, st, ctx.methodology)
    d = deficits(ctx)
    rows = [[r.position, r.short, r.criterion, r.n, r.zero, r.unconfirmed, fmt_pct(r.share_below, 0)]
            for r in d.sort_values(["share_below", "zero"], ascending=False).itertuples()]
    return sub("Карта дефицитов (ОО × позиции самооценки)",
               figure(uri, "Тепловая карта баллов ОО по позициям самооценки",
                      "Цвет — засчитанный балл позиции: зелёный — максимальный, "
                      + ("жёлтый — частично, " if any(len(x.scale) > 2 for x in ctx.methodology.positions) else "")
                      + "красный — 0. "
                      "Знак × — балл заявлен, но не подтверждён документом (засчитан 0).", width=charts.WIDTH_PX),
               table(["Позиция", "Содержание", "Критерий", "ОО", "С 0 баллов", "Не подтверждено", "Не на максимуме"],
                     rows, num_cols=(3, 4, 5, 6)), anchor="heatmap")


def criteria_html(ctx: ReportContext) -> Markup:
    from .. import charts

    prof = cluster_profile(ctx)
    if prof.empty or prof.isna().all().all():
        return sub("Профиль по критериям", para("Нет данных по критериям."), anchor="criteria")
    uri = charts.criteria_chart(prof, ctx.methodology, ctx.params)
    rows = []
    for c in ctx.methodology.criteria:
        rows.append([c.code, c.name] + [zone_chip(prof.loc[c.code, col], ctx.params, fmt_pct(prof.loc[c.code, col]))
                                        for col in prof.columns])
    return sub("Профиль по критериям", para("Средний процент выполнения каждого критерия в кластере; цвет — зона."),
               figure(uri, "Средний процент выполнения критериев по кластерам", None, width=charts.WIDTH_PX),
               table(["Код", "Критерий", *prof.columns], rows, num_cols=tuple(range(2, 2 + len(prof.columns)))),
               anchor="criteria")


def targets_html(ctx: ReportContext) -> Markup:
    from .. import charts

    p = ctx.params
    tm = municipal_targets(ctx)
    small = small_label(ctx.n_small)
    rows, classes = [], []
    for r in tm.itertuples():
        how = r.how
        value = small if r.small else fmt_pct(r.value)
        status = "н/д" if r.met is None or r.small else ("достигнут" if r.met else "не достигнут")
        if r.note:  # not computed (a department target without department.xlsx): the reason
            how, value, status = r.note.partition(": ")[2] or r.note, "нет данных", "нет данных"
        rows.append([r.target, r.name, how, value, f"≥ {fmt_pct(r.target_value, 0)}",
                     h("span", status, class_="status " + ("met" if r.met and not r.small else "not-met" if r.met is False and not r.small else "na"))])
        classes.append("")
    blocks: list[Any] = [para("Значения муниципального уровня рассчитаны по суммарным данным ОО (сумма числителей / "
                              "сумма знаменателей), а не как среднее процентов.")]
    if not tm.empty:
        blocks.append(figure(charts.targets_chart(tm, ctx.params), "Значения муниципальных целевых показателей", None,
                             width=charts.WIDTH_PX))
        blocks.append(table(["Код", "Показатель", "Расчёт", "Значение", "Цель", "Итог"], rows, num_cols=(3, 4), nowrap=(5,)))
    # school matrix
    mat = target_school_matrix(ctx)
    if not mat.empty:
        st = published_school_table(ctx)
        codes = [t.code for t in ctx.methodology.targets if t.code in mat.columns]
        head = ["ОО", *codes, "Достигнуто"]
        mrows = []
        for r in st.itertuples():
            if r.school_code not in mat.index:
                continue
            cells: list[Any] = [h("a", text(r.school_name), href=f"schools/{r.page}")]
            met = total = 0
            for c in codes:
                s = text(mat.loc[r.school_code, c])
                cells.append(h("span", TARGET_STATUS_MARK.get(s, "?"), class_=f"tstat {s}", title=TARGET_STATUS_LABEL.get(s, s)))
                met += s == "met"
                total += s in ("met", "not_met")
            cells.append(f"{met} из {total}" if total else "—")
            mrows.append(cells)
        blocks.append(sub("Целевые показатели по ОО", para(
            "✓ — достигнут, ✗ — не достигнут, — — не применяется (например, нет молодых педагогов или ОО не относится "
            "к ШНОР), · — форма не представлена."),
            table(head, mrows, cls="data matrix", num_cols=(len(head) - 1,))))
    return sub("Целевые показатели", *blocks, anchor="targets")


def dynamics_html(ctx: ReportContext) -> Markup:
    from .. import charts

    ht = history_table(ctx)
    with_data = ht[ht["note"] == ""]
    absent = ht[ht["note"] != ""]
    blocks: list[Any] = []
    if len(with_data) < 2:
        blocks.append(para("Динамика по годам появится, когда будут обработаны данные как минимум двух лет мониторинга."))
    else:
        blocks.append(figure(charts.dynamics_chart(with_data, ctx.params, cluster_order(ctx)), "Динамика среднего итогового балла и уровней по годам",
                             None, width=charts.WIDTH_PX))
        tcodes = [t.code for t in ctx.methodology.targets if "municipal" in t.scope]
        head = ["Год", "Учебный год", "ОО (форм)", "Средний балл", "Высокий", "Средний", "Низкий", "Целевых достигнуто"]
        rows = []
        prev_mean = None
        for r in with_data.itertuples():
            delta = None if prev_mean is None else r.mean_total - prev_mean
            rows.append([str(r.year), r.academic_year, f"{r.submitted} из {r.schools}",
                         Markup(f"{fmt_num(r.mean_total)} ") + (trend_chip(delta, ctx.params.report.trend_threshold) if delta is not None else Markup("")),
                         r.высокий, r.средний, r.низкий, f"{r.targets_met} из {r.targets_total}"])
            prev_mean = r.mean_total
        blocks.append(table(head, rows, num_cols=(3, 4, 5, 6)))
        trows: list[Any] = []
        for c in tcodes:
            trows.append([c, short(ctx.methodology.target(c).name, 70)] + [fmt_pct(getattr(r, f"target_{c}", None)) if hasattr(r, f"target_{c}") else "—"
                                                                           for r in with_data.itertuples()])
        if trows:
            blocks.append(sub("Муниципальные целевые показатели по годам",
                              table(["Код", "Показатель", *[str(y) for y in with_data["year"]]], trows,
                                    num_cols=tuple(range(2, 2 + len(with_data))))))
        crows = []
        for c in ctx.methodology.criteria:
            vals = [with_data[f"crit_{c.code}"].iloc[i] if f"crit_{c.code}" in with_data else None for i in range(len(with_data))]
            crows.append([c.code, short(c.name, 70)] + [zone_chip(v, ctx.params, fmt_pct(v)) for v in vals])
        if crows:
            blocks.append(sub("Средний процент выполнения критериев по годам",
                              table(["Код", "Критерий", *[str(y) for y in with_data["year"]]], crows,
                                    num_cols=tuple(range(2, 2 + len(with_data))))))
    if len(with_data) >= 2:
        from .actions import methodology_changes_since_last_year

        changes = methodology_changes_since_last_year(ctx)
        if changes:
            blocks.append(note("Методика изменилась по сравнению с прошлым годом: " + " ".join(changes)))
    if len(absent):
        blocks.append(note("Не вошли в динамику: " + "; ".join(f"{r.year} год — {r.note}" for r in absent.itertuples()) + "."))
    return sub("Динамика", *blocks, anchor="dynamics")


def analysis_html(ctx: ReportContext) -> str:
    """5. Анализ — distribution, ranking, heat map, criteria, targets, dynamics."""
    m = ctx.methodology
    parts = [distribution_html(ctx), ranking_html(ctx)] if m.has_total else []
    if m.has_checklist:
        parts += [heatmap_html(ctx), criteria_html(ctx)]
    if m.targets:
        parts.append(targets_html(ctx))
    return section("analysis", "5", "Анализ", *parts, dynamics_html(ctx))
