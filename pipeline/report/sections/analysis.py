"""5. Анализ: the distribution of totals, clusters and ranking, the deficit heat map, the
criterion profile, the targets and the dynamics against earlier years."""

from __future__ import annotations
from typing import Any
from markupsafe import Markup
from ...core.privacy import small_label
from ...core.russian import fmt_int, fmt_num, fmt_pct, plural, short
from ...core.values import text
from ..context import ReportContext
from ..html import bar_cell, chart_data, figure, h, note, para, section, sub, table, trend_chip, zone_chip, zone_legend
from ..labels import TARGET_STATUS_LABEL, TARGET_STATUS_MARK
from ..tables import school_page, cluster_order, cluster_profile, deficits, history_table, municipal_targets, position_matrix, published_school_table, target_school_matrix


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
    hist = charts.histogram(sub_, ctx.params)
    levels = charts.cluster_levels(sub_, cluster_order(ctx))
    totals = levels.sum()
    alt = (f"Гистограмма итоговых баллов {len(sub_)} ОО (от {fmt_num(desc['min'])} до {fmt_num(desc['max'])}, медиана "
           f"{fmt_num(sub_['total_score'].median())}) и уровни по кластерам: "
           + ", ".join(f"{lv} — {int(totals[lv])}" for lv in levels.columns) + " ОО.")
    hrows = [[f"{int(r['from'])}–{int(r['to'])}", r["zone"], int(r["count"])]
             for r in hist.to_dict("records") if r["count"]]
    lrows = [[cl, *[int(v) for v in row], int(sum(row))] for cl, row in zip(levels.index, levels.to_numpy())]
    data = (chart_data("распределение итоговых баллов", ["Итоговый балл", "Зона", "Число ОО"], hrows, num_cols=(2,))
            + chart_data("уровни по кластерам (число ОО)", ["Кластер", *[c.capitalize() for c in levels.columns], "Всего"],
                         lrows, num_cols=tuple(range(1, 2 + len(levels.columns)))))
    return sub("Распределение итоговых баллов", para(text_),
               figure(uri, alt, "Слева — число ОО по интервалам итогового балла, справа — уровни ОО в каждом кластере. "
                      f"Зоны: зелёная (без штриховки) — высокий уровень (≥ {fmt_num(ctx.params.levels.high, 0)}), жёлтая "
                      f"(штриховка ///) — средний (≥ {fmt_num(ctx.params.levels.medium, 0)}), красная (штриховка ×××) — "
                      "низкий (зона риска).", data, width=charts.WIDTH_PX), anchor="distribution")


def total_rule(ctx: ReportContext) -> str:
    """How the total is made, in words, for the methodology's parts."""
    m, w = ctx.methodology, ctx.params.weights.checklist
    if m.has_checklist and m.index_shares:
        return f"Итог = {fmt_num(w, 2)} × самооценка + {fmt_num(1 - w, 2)} × индекс активности."
    return "Итог = процент самооценки." if m.has_checklist else "Итог = индекс активности."


def ranking_table(ctx: ReportContext, g: Any, prefix: str = "schools/") -> Markup:
    """The ranking of these schools (rows of published_school_table, one cluster): place, zone,
    bar and trend mark; the checklist and activity-index columns only where the methodology
    has them. prefix: the school pages' folder as seen from the page."""
    p, m = ctx.params, ctx.methodology
    thr = p.report.trend_threshold
    small = small_label(ctx.n_small)
    parts = [("Само­оценка", m.has_checklist, "11%"), ("Индекс актив­ности", bool(m.index_shares), "10%")]
    head = ["Место", "ОО", "Итог", Markup('<span class="sr-only">Итог на шкале 0–100</span>'), "Уровень", *[t for t, on, _ in parts if on], f"К {p.year - 1} г."]
    spare = sum(int(w[:-1]) for _, on, w in parts if not on)   # a column the methodology lacks widens «ОО»
    widths = ("6%", f"{29 + spare}%", "9%", "16%", "9%", *[w for _, on, w in parts if on], "10%")
    rows, classes = [], []
    for r in g.itertuples():
        link = h("a", text(r.school_name), href=f"{prefix}{r.page}")
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
    return table(head, rows, num_cols=tuple(range(5, len(head) - 1)), cls="data ranking", row_classes=classes,
                 nowrap=(2, len(head) - 1), widths=widths)


def ranking_html(ctx: ReportContext) -> Markup:
    """Clusters and ranking: one table per cluster (on the pages of the clusters when the
    municipality is large: per_school.split)."""
    from .per_school import cluster_summary, split

    st = published_school_table(ctx)
    p, m = ctx.params, ctx.methodology
    lead = para(f"ОО сравниваются внутри кластера: {m.cluster_rule.describe(p.cluster_threshold)}. {total_rule(ctx)} "
                f"Отметка тренда ▲/▼ — изменение более чем на {fmt_num(p.report.trend_threshold, 0)} баллов к прошлому году.")
    if split(ctx):
        return sub("Кластеры и рейтинг", lead, *cluster_summary(ctx, "рейтинг ОО"), anchor="ranking")
    blocks = []
    for cl in [c for c in cluster_order(ctx) if c in set(st["cluster"].map(text))]:
        g = st[st["cluster"].map(text) == cl]
        n_sub = int(g["submitted"].sum())
        blocks.append(sub(f"Кластер «{cl}» — {n_sub} {plural(n_sub, 'школа', 'школы', 'школ')}", ranking_table(ctx, g)))
    return sub("Кластеры и рейтинг", lead, zone_legend(p), *blocks, anchor="ranking")


def heatmap_rows(ctx: ReportContext, codes: Any, prefix: str | None = None) -> list[list[Any]]:
    """The heat map's data, a row per school of codes (those with a form): code, name, cluster
    and the counted points of every position with its mark; with a prefix (the school pages'
    folder as seen from the page) the name links to the school's page."""
    from .. import charts

    hm = heatmap(ctx)
    if "heatmap_arrays" not in ctx.cache:   # once per context: the pages of the clusters ask per page
        ctx.cache["heatmap_arrays"] = ({c: i for i, c in enumerate(hm.codes)}, hm.points.to_numpy(dtype=object),
                                       hm.unconfirmed.to_numpy(dtype=object))
    at, points, unconfirmed = ctx.cache["heatmap_arrays"]
    marks = charts.CELL_MARKS
    rows = []
    for code in codes:
        i = at.get(code)
        if i is None:
            continue
        name = text(hm.names.get(code, ""))
        row: list[Any] = [code, name if prefix is None else h("a", name, href=f"{prefix}{school_page(code)}"), hm.clusters[code]]
        for j in range(len(hm.positions)):
            v, u = points[i, j], unconfirmed[i, j]
            state = charts.CELL_STATES[int(hm.cat[i, j])]
            row.append("—" if state == "none" else ("× " if bool(u) and u == u else f"{marks[state]} ") + fmt_num(v, 0))
        rows.append(row)
    return rows


def heatmap(ctx: ReportContext) -> Any:
    """charts.heatmap_data of the year, computed once."""
    from .. import charts

    if "heatmap_data" not in ctx.cache:
        ctx.cache["heatmap_data"] = charts.heatmap_data(position_matrix(ctx), published_school_table(ctx), ctx.methodology)
    return ctx.cache["heatmap_data"]


HEATMAP_HEAD = ["Код", "ОО", "Кластер"]


def heatmap_html(ctx: ReportContext) -> Markup:
    from .. import charts

    pos = position_matrix(ctx)
    if pos.empty:
        return sub("Карта дефицитов", para("Нет данных самооценки."), anchor="heatmap")
    st = published_school_table(ctx)
    uri, height = charts.heatmap_chart(pos, st, ctx.methodology, heatmap(ctx))
    d = deficits(ctx)
    rows = [[r.position, r.short, r.criterion, r.n, r.zero, r.unconfirmed, fmt_pct(r.share_below, 0)]
            for r in d.sort_values(["share_below", "zero"], ascending=False).itertuples()]
    hm = heatmap(ctx)
    partial = any(len(x.scale) > 2 for x in ctx.methodology.positions)
    cells = {state: int((hm.cat == k).sum()) for k, state in enumerate(charts.CELL_STATES)}
    unconfirmed = int(sum(bool(v) and v == v for v in hm.unconfirmed.to_numpy(dtype=object).ravel()))
    alt = (f"Карта дефицитов: {len(hm.codes)} ОО × {len(hm.positions)} позиций самооценки; клеток с максимальным баллом — "
           f"{cells['full']}, " + (f"частично — {cells['part']}, " if partial else "") + f"с 0 баллов — {cells['zero']} "
           f"(из них не подтверждено документом — {unconfirmed}), без данных — {cells['none']}. "
           "Баллы каждой ОО — в таблице «Данные диаграммы».")
    caption = ("Цвет и знак — засчитанный балл позиции: зелёный ● — максимальный, "
               + ("жёлтый ◐ — частично, " if partial else "") + "красный ○ — 0, серый без знака — нет данных. "
               "Знак × — балл заявлен, но не подтверждён документом (засчитан 0).")
    from .per_school import cluster_link, split

    more: list[Any] = []
    if len(hm.codes) <= charts.HEATMAP_NAMED_ROWS and not split(ctx):
        data = chart_data("засчитанные баллы ОО по позициям самооценки", [*HEATMAP_HEAD, *hm.positions],
                          heatmap_rows(ctx, hm.codes))
    else:   # a region's thousands of schools: the counts per position (the table below repeats them)
        caption += " Школы слишком многочисленны для таблицы по каждой: данные — число ОО по позициям."
        alt = alt.replace("Баллы каждой ОО — в таблице «Данные диаграммы».", "Баллы каждой ОО — на страницах кластеров."
                          if split(ctx) else "Баллы каждой ОО — на страницах школ.")
        data = chart_data("число ОО по позициям самооценки", ["Позиция", "Содержание", "Критерий", "ОО", "С 0 баллов",
                                                               "Не подтверждено", "Не на максимуме"], rows, num_cols=(3, 4, 5, 6))
        if split(ctx):
            more.append(cluster_link(ctx, "Баллы каждой ОО по позициям — на страницах кластеров"))
    return sub("Карта дефицитов (ОО × позиции самооценки)",
               figure(uri, alt, caption, data, width=charts.WIDTH_PX), *more,
               table(["Позиция", "Содержание", "Критерий", "ОО", "С 0 баллов", "Не подтверждено", "Не на максимуме"],
                     rows, num_cols=(3, 4, 5, 6), caption="Дефициты по позициям самооценки"), anchor="heatmap")


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
    overall = "все ОО" if "все ОО" in prof.columns else prof.columns[0]
    alt = (f"Средний процент выполнения {len(prof)} критериев по кластерам ({', '.join(map(str, prof.columns))}); "
           f"{'по всем ОО' if overall == 'все ОО' else overall}: "
           + "; ".join(f"{c} — {fmt_pct(prof.loc[c, overall], 0)}" for c in prof.index) + ".")
    data = chart_data("средний процент выполнения критериев по кластерам", ["Код", *prof.columns],
                      [[c, *[fmt_pct(prof.loc[c, col]) for col in prof.columns]] for c in prof.index],
                      num_cols=tuple(range(1, 1 + len(prof.columns))))
    return sub("Профиль по критериям", para("Средний процент выполнения каждого критерия в кластере; цвет и буква — зона."),
               figure(uri, alt, "Столбцы — кластеры (цвет и штриховка — кластер, по легенде), чёрная отметка — среднее по всем "
                      "ОО; фон — зоны уровней.", data, width=charts.WIDTH_PX),
               zone_legend(ctx.params),
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
        drows = []
        for r in tm.itertuples():
            small_ = bool(r.small) or r.value != r.value
            status = "н/д" if small_ or r.met is None else ("достигнут" if r.met else "не достигнут")
            drows.append([r.target, "н/д" if small_ else fmt_pct(r.value), fmt_pct(r.target_value, 0), status])
        alt = ("Муниципальные целевые показатели, значение и цель: "
               + "; ".join(f"{c} — {v} при цели {g} ({st_})" for c, v, g, st_ in drows) + ".")
        blocks.append(figure(charts.targets_chart(tm, ctx.params), alt,
                             "Полоса — значение показателя (зелёная ✓ — достигнут, красная со штриховкой ✗ — не достигнут, "
                             "серая — н/д), чёрная отметка — целевое значение.",
                             chart_data("муниципальные целевые показатели", ["Код", "Значение", "Цель", "Итог"], drows,
                                        num_cols=(1, 2)), width=charts.WIDTH_PX))
        blocks.append(table(["Код", "Показатель", "Расчёт", "Значение", "Цель", "Итог"], rows, num_cols=(3, 4), nowrap=(5,)))
    # school matrix
    if not target_school_matrix(ctx).empty:
        from .per_school import cluster_link, split

        what = para("✓ — достигнут, ✗ — не достигнут, — — не применяется (например, нет молодых педагогов или ОО не "
                    "относится к ШНОР), · — форма не представлена.")
        blocks.append(sub("Целевые показатели по ОО", what, cluster_link(ctx, "Целевые показатели каждой ОО — на страницах кластеров")
                          if split(ctx) else targets_table(ctx, published_school_table(ctx))))
    return sub("Целевые показатели", *blocks, anchor="targets")


def targets_table(ctx: ReportContext, st: Any, prefix: str = "schools/") -> Markup:
    """The targets of these schools (rows of published_school_table): a mark per target and
    the number met."""
    if "target_status" not in ctx.cache:   # once per context: the pages of the clusters ask per page
        mat = target_school_matrix(ctx)
        codes = [t.code for t in ctx.methodology.targets if t.code in mat.columns]
        status = {code: [text(v) for v in values] for code, values in zip(mat.index, mat[codes].to_numpy(dtype=object))}
        marks = {s: h("span", TARGET_STATUS_MARK.get(s, "?"), class_=f"tstat {s}", title=TARGET_STATUS_LABEL.get(s, s))
                 for s in {v for values in status.values() for v in values}}
        ctx.cache["target_status"] = codes, status, marks
    codes, status, marks = ctx.cache["target_status"]
    if not status:
        return Markup("")
    head = ["ОО", *codes, "Достигнуто"]
    mrows = []
    for code, name, page in zip(st["school_code"], st["school_name"], st["page"]):
        if code not in status:
            continue
        values = status[code]
        met, total = sum(v == "met" for v in values), sum(v in ("met", "not_met") for v in values)
        mrows.append([h("a", text(name), href=f"{prefix}{page}"), *[marks[v] for v in values],
                      f"{met} из {total}" if total else "—"])
    return table(head, mrows, cls="data matrix", num_cols=(len(head) - 1,))


def dynamics_html(ctx: ReportContext) -> Markup:
    from .. import charts

    ht = history_table(ctx)
    with_data = ht[ht["note"] == ""]
    absent = ht[ht["note"] != ""]
    blocks: list[Any] = []
    if len(with_data) < 2:
        blocks.append(para("Динамика по годам появится, когда будут обработаны данные как минимум двух лет мониторинга."))
    else:
        clusters = [cl for cl in cluster_order(ctx) if f"mean_{cl}" in with_data and with_data[f"mean_{cl}"].notna().any()]
        shares = charts.level_shares(with_data)
        years = [str(y) for y in with_data["year"]]
        alt = ("Средний итоговый балл по годам: " + "; ".join(f"{y} — {fmt_num(v)}" for y, v in zip(years, with_data["mean_total"]))
               + ". Доля ОО высокого уровня: " + "; ".join(f"{y} — {fmt_pct(v, 0)}" for y, v in zip(years, shares["высокий"]))
               + ", низкого: " + "; ".join(f"{y} — {fmt_pct(v, 0)}" for y, v in zip(years, shares["низкий"])) + ".")
        dhead = ["Год", "Все ОО", *clusters, *[f"{lv.capitalize()}, %" for lv in shares.columns]]
        drows = [[y, fmt_num(r["mean_total"]), *[fmt_num(r[f"mean_{cl}"]) for cl in clusters],
                  *[fmt_num(shares.iloc[i][lv], 0) for lv in shares.columns]]
                 for i, (y, r) in enumerate(zip(years, with_data.to_dict("records")))]
        blocks.append(figure(charts.dynamics_chart(with_data, ctx.params, cluster_order(ctx)), alt,
                             "Слева — средний итоговый балл по годам: все ОО (чёрная линия) и кластеры (пунктир, форма "
                             "маркера — кластер); справа — доли ОО каждого уровня.",
                             chart_data("средний итоговый балл и доли уровней по годам", dhead, drows,
                                        num_cols=tuple(range(1, len(dhead)))), width=charts.WIDTH_PX))
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
