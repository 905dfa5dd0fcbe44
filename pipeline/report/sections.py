"""The sections of the analytic report, in the order of the management cycle; each is a
pure function of the context returning HTML."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import math
from typing import Any, Sequence

import pandas as pd
from markupsafe import Markup, escape

from ..config.params import YearParams
from ..core.contract import DECISION_KINDS, FOLLOWUP_STATUSES, LEVELS, PRIORITIES
from ..core.levels import trend, zone_of
from ..core.privacy import small_label
from ..core.russian import fmt_date, fmt_int, fmt_num, fmt_pct, plural, short
from ..core.values import num, text
from ..fast.columns import _each_number, _texts, _values
from ..form.fields import layout
from .context import ReportContext
from .html import bar_cell, figure, h, note, para, section, sub, table, trend_chip, zone_chip
from .labels import SEVERITY_LABEL, TARGET_STATUS_LABEL, TARGET_STATUS_MARK, ZONE_CLASS, rule_name
from .tables import codes_of, cluster_order, _names, _shared, cluster_profile, deficits, followup_summary, history_table, indicator_names, municipal_targets, participation, position_matrix, school_page, school_table, target_school_matrix


# The management cycle the report follows (federal guidance on municipal quality mechanisms):
# anchor, title of the step.
CYCLE: tuple[tuple[str, str], ...] = (
    ("goals", "Цели"),
    ("indicators", "Показатели"),
    ("methods", "Методы сбора информации"),
    ("monitoring", "Мониторинг"),
    ("analysis", "Анализ"),
    ("recommendations", "Адресные рекомендации"),
    ("measures", "Меры"),
    ("decisions", "Управленческие решения"),
    ("effectiveness", "Анализ эффективности принятых мер"),
)


def summary_line(ctx: ReportContext) -> str:
    """One line for the site index: the order, participation, mean score and levels."""
    hd = ctx.params.header
    part = participation(ctx)
    st = school_table(ctx)
    sub_ = st[st["submitted"]]
    levels = {lv: int((sub_["level"].map(text) == lv).sum()) for lv in LEVELS}
    return (f"Приказ {hd.order_number} от {hd.order_date:%d.%m.%Y} · формы представили {part['schools_submitted']} из "
            f"{part['expected']} ОО · средний итоговый балл {fmt_num(sub_['total_score'].mean())} · высокий уровень — "
            f"{levels['высокий']}, средний — {levels['средний']}, зона риска — {levels['низкий']}")


def header_html(params: YearParams) -> str:
    """The order header: organization, approval, title, order number and date, executors."""
    hd = params.header
    approve = h("div", [h("div", "УТВЕРЖДАЮ", class_="approve-title"), h("div", hd.approved_by),
                        h("div", fmt_date(hd.order_date))], class_="approve")
    org = h("div", hd.organization, class_="org")
    order = h("div", f"Приложение к приказу от {hd.order_date:%d.%m.%Y} {hd.order_number}", class_="order")
    title = h("h1", hd.title)
    meta = h("div", f"Мониторинговый год {params.year} · {params.academic_year} учебный год", class_="meta")
    execs = h("div", [h("span", "Исполнители: ", class_="label"), "; ".join(hd.executors)], class_="executors")
    return str(h("header", Markup("").join([org, approve, order, title, meta, execs]), class_="doc-header"))


def cycle_html(ctx: ReportContext) -> str:
    """The management cycle as a row of steps linking to the sections, plus the contents."""
    steps = Markup("").join(
        h("li", h("a", [h("span", str(i), class_="step-no"), h("span", title, class_="step-title")], href=f"#{anchor}"))
        for i, (anchor, title) in enumerate(CYCLE, start=1)
    )
    extra = Markup("").join(
        h("li", h("a", t, href=f"#{a}")) for a, t in (("summary", "Основные итоги"), ("schools", "Страницы школ"),
                                                      ("appendix", "Приложение: методика расчёта"))
    )
    return str(h("nav", [h("div", "Управленческий цикл", class_="cycle-title"), h("ol", steps, class_="cycle"),
                         h("ul", extra, class_="toc-extra")], class_="cycle-nav", aria_label="Содержание"))


def summary_html(ctx: ReportContext) -> str:
    """Key figures and the main findings in plain Russian."""
    p = ctx.params
    part = participation(ctx)
    st = school_table(ctx)
    sub_ = st[st["submitted"]]
    mean_total = sub_["total_score"].mean()
    levels = {lv: int((sub_["level"].map(text) == lv).sum()) for lv in LEVELS}
    tm = municipal_targets(ctx)
    met = int((tm["met"] == True).sum())  # noqa: E712
    known = int(tm["met"].notna().sum())
    recs = ctx.data["recommendations.csv"]
    cards = [
        ("Форм принято", f"{part['schools_submitted']} из {part['expected']}", f"{fmt_pct(part['rate'])} ОО реестра", ""),
        ("Средний итоговый балл", fmt_num(mean_total), f"{zone_of(mean_total, p) or 'нет'} зона", ZONE_CLASS.get(zone_of(mean_total, p), "")),
        ("Высокий уровень", str(levels["высокий"]), plural(levels["высокий"], "школа", "школы", "школ"), "green"),
        ("Средний уровень", str(levels["средний"]), plural(levels["средний"], "школа", "школы", "школ"), "yellow"),
        ("Зона риска (низкий)", str(levels["низкий"]), plural(levels["низкий"], "школа", "школы", "школ"), "red"),
        ("Целевые показатели", f"{met} из {known}", "достигнуто на уровне муниципалитета", ""),
        ("Адресные рекомендации", str(len(recs)), f"из них высокого приоритета — {int((recs['priority'] == 'высокий').sum())}", ""),
    ]
    card_html = Markup("").join(
        h("div", [h("div", label, class_="card-label"), h("div", value, class_="card-value"), h("div", sub_text, class_="card-sub")],
          class_=f"card {cls}".strip())
        for label, value, sub_text, cls in cards
    )
    findings = [f"Формы мониторинга представили {part['schools_submitted']} из {part['expected']} ОО реестра "
                f"({fmt_pct(part['rate'])}); отклонено файлов — {part['rejected']}."]
    if not math.isnan(mean_total):
        findings.append(f"Средний итоговый балл — {fmt_num(mean_total)} ({zone_of(mean_total, p)} зона); "
                        f"высокий уровень — {levels['высокий']}, средний — {levels['средний']}, "
                        f"низкий (зона риска) — {levels['низкий']} ОО.")
    prev = ctx.previous
    if prev is not None:
        pt = pd.to_numeric(prev["scores.csv"]["total_score"], errors="coerce").mean()
        if not math.isnan(pt) and not math.isnan(mean_total):
            mark, _, words = trend(mean_total - pt, p.report.trend_threshold)
            findings.append(f"По сравнению с {prev.year} годом средний балл: {fmt_num(pt)} → {fmt_num(mean_total)} "
                            f"({words}{' ' + mark if mark else ''}).")
    d = deficits(ctx)
    if not d.empty and d["n"].max() > 0:
        worst = d.sort_values(["share_below", "zero"], ascending=False).head(3)
        findings.append("Наиболее частые дефициты (доля ОО, не набравших максимум): " + "; ".join(
            f"{r.position} «{r.short}» — {fmt_pct(r.share_below, 0)}" for r in worst.itertuples()) + ".")
    findings.append(f"На уровне муниципалитета достигнуто целевых показателей: {met} из {known}.")
    fu = ctx.data["followup.csv"]
    if not fu.empty:
        fixed = int((fu["status"].map(text).isin(["устранён", "улучшение"])).sum())
        findings.append(f"Из {len(fu)} рекомендаций прошлого года устранено или улучшено {fixed} "
                        f"({fmt_pct(fixed * 100 / len(fu))}).")
    items = Markup("").join(h("li", f) for f in findings)
    return section("summary", "", "Основные итоги", h("div", card_html, class_="cards"),
                   sub("Выводы", h("ul", items, class_="findings")))


def goals_html(ctx: ReportContext) -> str:
    """1. Цели — what the monitoring is for."""
    p = ctx.params
    goals = [
        "получение объективной информации о состоянии и динамике методической работы в общеобразовательных организациях (ОО);",
        "выявление дефицитов в деятельности школьных методических служб по обеспечению системной методической работы;",
        "разработка адресных рекомендаций школам и управленческих решений муниципального уровня;",
        "оценка эффективности мер, принятых по итогам мониторинга прошлого года.",
    ]
    return section(
        "goals", "1", "Цели мониторинга",
        para(f"Мониторинг эффективности деятельности школьных методических служб проводится ежегодно "
             f"по итогам учебного года; настоящая справка подводит итоги {p.academic_year} учебного года. Цели:"),
        h("ul", Markup("").join(h("li", g) for g in goals)),
    )


def indicators_html(ctx: ReportContext) -> str:
    """2. Показатели — criteria, shares and this year's target values."""
    m, p = ctx.methodology, ctx.params
    counts = {c.code: sum(1 for x in m.positions if x.criterion == c.code) for c in m.criteria}
    maxes = {c.code: sum(x.max_points for x in m.positions if x.criterion == c.code) for c in m.criteria}
    crit = table(["Код", "Критерий", "Позиций", "Макс. балл"],
                 [[c.code, c.name, counts[c.code], maxes[c.code]] for c in m.criteria], num_cols=(2, 3))
    shares = table(["Код", "Показатель", "Расчёт", "В индексе активности"],
                   [[s.code, s.name, f"{s.numerator} / {s.denominator} × 100 %", "да" if s.in_activity_index else "нет"]
                    for s in m.shares], nowrap=(2,))
    trows = []
    for t in m.targets:
        tv = p.targets.get(t.code)
        scope = ", ".join({"school": "ОО", "municipal": "муниципалитет"}[s] for s in t.scope)
        trows.append([t.code, t.name, f"≥ {fmt_num(tv, 0)} {t.unit}".strip() if tv is not None else "—", scope])
    targets = table(["Код", "Целевой показатель", f"Значение {p.year} г.", "Уровень"], trows)
    return section(
        "indicators", "2", "Показатели",
        para(f"Самооценка ОО по {len(m.positions)} позициям, сгруппированным в {len(m.criteria)} критериев "
             f"(максимум {m.max_points} баллов), доли педагогов по сведениям о кадрах и целевые показатели года."),
        sub("Критерии", crit), sub("Доли педагогов", shares), sub("Целевые показатели года", targets),
    )


def methods_html(ctx: ReportContext) -> str:
    """3. Методы сбора информации — what the year's form asks, as the methodology declares it."""
    m = ctx.methodology
    form = layout(m)
    scale = "/".join(str(s) for s in sorted({s for p in m.positions for s in p.scale}, reverse=True))
    items = [
        f"Самооценка ОО по единой форме (лист «Показатели»): балл {scale} по каждой позиции с указанием "
        "названия и реквизитов подтверждающего документа и ссылки на его размещение на сайте ОО.",
    ]
    if form.staff:
        items.append("Сведения о кадрах (лист «Кадры»), число педагогов: "
                     + "; ".join(f"{code} — {label}" for code, label in form.staff) + ".")
    shown_fields = [f.label[:1].lower() + f.label[1:] if f.label[1:2].islower() else f.label
                    for f in form.declared if not f.personal]
    items.append("Сведения об ОО (лист «Сведения»): " + ", ".join(["тип ОО", *shown_fields]) + ".")
    items += [
        "Аудит документационного обеспечения: балл без подтверждающего документа не засчитывается "
        "(«не подтверждено»), ссылка, не являющаяся адресом http(s), не используется.",
        "Автоматическая проверка форм: каждое замечание к данным фиксируется с указанием файла, листа и ячейки.",
    ]
    return section("methods", "3", "Методы сбора информации", h("ul", Markup("").join(h("li", i) for i in items)))


def monitoring_html(ctx: ReportContext) -> str:
    """4. Мониторинг — participation and data quality."""
    part = participation(ctx)
    names = _names(ctx)
    rows = [
        ["ОО в реестре (ожидалось форм)", part["expected"]],
        ["Получено файлов форм", part["received"]],
        ["Принято (по одной на ОО)", part["accepted"]],
        ["Отклонено", part["rejected"]],
        ["Заменено более поздней формой той же ОО", part["superseded"]],
        ["ОО без принятой формы", len(part["missing_schools"])],
    ]
    blocks: list[Any] = [sub("Участие ОО", table(["", "Количество"], rows, num_cols=(1,), cls="data compact")),
                         para(f"Охват мониторингом: {fmt_pct(part['rate'])} ОО реестра.")]
    if len(part["rejected_files"]):
        blocks.append(sub("Отклонённые файлы", table(
            ["Файл", "Причина"], [[text(r.file), text(r.reason)] for r in part["rejected_files"].itertuples()])))
    if len(part["superseded_files"]):
        blocks.append(sub("Заменённые файлы", table(
            ["Файл", "ОО", "Дата заполнения", "Причина"],
            [[text(r.file), names.get(text(r.school_code), text(r.school_code)), text(r.filled_date), text(r.reason)]
             for r in part["superseded_files"].itertuples()])))
    if len(part["missing_schools"]):
        blocks.append(sub("ОО, не представившие форму", h("ul", Markup("").join(
            h("li", f"{text(r.school_code)} — {text(r.school_name)}") for r in part["missing_schools"].itertuples()),
            class_="cols")))
    blocks.append(data_quality_html(ctx))
    return section("monitoring", "4", "Мониторинг", *blocks,
                   lead="Кто представил формы, какие файлы не приняты и почему, какие замечания к данным найдены.")


def data_quality_html(ctx: ReportContext) -> Markup:
    """Issues by rule and severity (no values: they may carry personal data)."""
    iss = ctx.data["issues.csv"]
    if iss.empty:
        return sub("Качество данных", para("Замечаний к данным нет."))
    g = iss.assign(rule=iss["rule"].map(text), severity=iss["severity"].map(text), action=iss["action"].map(text),
                   school_code=iss["school_code"].map(text))
    rows = []
    for (rule, sev), grp in g.groupby(["rule", "severity"], sort=True):
        actions = "; ".join(sorted({a for a in grp["action"] if a}))
        rows.append([h("span", rule_name(rule), title=rule), SEVERITY_LABEL.get(sev, sev), len(grp),
                     grp.loc[grp["school_code"] != "", "school_code"].nunique(), actions])
    rows.sort(key=lambda r: (r[1] != "ошибка", -r[2], str(r[0])))
    n_err = int((g["severity"] == "error").sum())
    n_warn = int((g["severity"] == "warning").sum())
    return sub("Качество данных", para(
        f"Всего замечаний: {len(g)} (ошибок — {n_err}, предупреждений — {n_warn}). Ошибка: значение или форма не "
        "использованы; предупреждение: значение использовано, но требует внимания. Полный перечень с файлами, "
        "листами и ячейками передан ОО и приведён в служебной таблице results.xlsx."),
        table(["Правило проверки", "Вид", "Замечаний", "ОО", "Принятые меры"], rows, num_cols=(2, 3)))


def distribution_html(ctx: ReportContext) -> Markup:
    from . import charts

    st = school_table(ctx)
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


def ranking_html(ctx: ReportContext) -> Markup:
    """Clusters and ranking: one table per cluster with zone, bar and trend mark."""
    st = school_table(ctx)
    p = ctx.params
    thr = p.report.trend_threshold
    small = small_label(ctx.n_small)
    blocks = []
    for cl in [c for c in cluster_order(ctx) if c in set(st["cluster"].map(text))]:
        g = st[st["cluster"].map(text) == cl]
        rows, classes = [], []
        for r in g.itertuples():
            link = h("a", text(r.school_name), href=f"schools/{r.page}")
            if not r.submitted:
                rows.append(["—", link, Markup('<span class="muted">форма не представлена</span>'), "", "", "", "", ""])
                classes.append("no-data")
                continue
            total = zone_chip(r.total_score, p) if not r.small else h("span", small, class_="chip none")
            rows.append([
                fmt_int(r.rank_in_cluster), link, total, bar_cell(r.total_score if not r.small else None, p),
                text(r.level), fmt_pct(r.checklist_pct), small if r.small else fmt_num(r.activity_index),
                trend_chip(r.delta, thr) if not r.small else "—",
            ])
            classes.append("")
        n_sub = int(g["submitted"].sum())
        blocks.append(sub(f"Кластер «{cl}» — {n_sub} {plural(n_sub, 'школа', 'школы', 'школ')}", table(
            ["Место", "ОО", "Итог", "", "Уровень", "Само­оценка", "Индекс актив­ности", f"К {p.year - 1} г."],
            rows, num_cols=(0, 5, 6), cls="data ranking", row_classes=classes, nowrap=(2, 7),
            widths=("6%", "29%", "9%", "16%", "9%", "11%", "10%", "10%"))))
    return sub("Кластеры и рейтинг", para(
        f"ОО сравниваются внутри кластера: {ctx.methodology.cluster_rule.describe(p.cluster_threshold)}. "
        f"Итог = {fmt_num(p.weights.checklist, 2)} × самооценка + {fmt_num(1 - p.weights.checklist, 2)} × индекс "
        f"активности. Отметка тренда ▲/▼ — изменение более чем на {fmt_num(thr, 0)} баллов к прошлому году."),
        *blocks, anchor="ranking")


def heatmap_html(ctx: ReportContext) -> Markup:
    from . import charts

    pos = position_matrix(ctx)
    if pos.empty:
        return sub("Карта дефицитов", para("Нет данных самооценки."), anchor="heatmap")
    st = school_table(ctx)
    uri, height = charts.heatmap_chart(pos, st, ctx.methodology)
    d = deficits(ctx)
    rows = [[r.position, r.short, r.criterion, r.n, r.zero, r.unconfirmed, fmt_pct(r.share_below, 0)]
            for r in d.sort_values(["share_below", "zero"], ascending=False).itertuples()]
    return sub("Карта дефицитов (ОО × позиции самооценки)",
               figure(uri, "Тепловая карта баллов ОО по позициям самооценки",
                      "Цвет — засчитанный балл позиции: зелёный — максимальный, жёлтый — частично, красный — 0. "
                      "Знак × — балл заявлен, но не подтверждён документом (засчитан 0).", width=charts.WIDTH_PX),
               table(["Позиция", "Содержание", "Критерий", "ОО", "С 0 баллов", "Не подтверждено", "Не на максимуме"],
                     rows, num_cols=(3, 4, 5, 6)), anchor="heatmap")


def criteria_html(ctx: ReportContext) -> Markup:
    from . import charts

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
    from . import charts

    p = ctx.params
    tm = municipal_targets(ctx)
    small = small_label(ctx.n_small)
    rows, classes = [], []
    for r in tm.itertuples():
        how = r.how
        value = small if r.small else fmt_pct(r.value)
        status = "н/д" if r.met is None or r.small else ("достигнут" if r.met else "не достигнут")
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
        st = school_table(ctx)
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
    from . import charts

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
        trows = []
        for c in tcodes:
            trows.append([c, short(ctx.methodology.target(c).name, 70)] + [fmt_pct(getattr(r, f"target_{c}", None)) if hasattr(r, f"target_{c}") else "—"
                                                                           for r in with_data.itertuples()])
        blocks.append(sub("Муниципальные целевые показатели по годам",
                          table(["Код", "Показатель", *[str(y) for y in with_data["year"]]], trows,
                                num_cols=tuple(range(2, 2 + len(with_data))))))
        crows = []
        for c in ctx.methodology.criteria:
            vals = [with_data[f"crit_{c.code}"].iloc[i] if f"crit_{c.code}" in with_data else None for i in range(len(with_data))]
            crows.append([c.code, short(c.name, 70)] + [zone_chip(v, ctx.params, fmt_pct(v)) for v in vals])
        blocks.append(sub("Средний процент выполнения критериев по годам",
                          table(["Код", "Критерий", *[str(y) for y in with_data["year"]]], crows,
                                num_cols=tuple(range(2, 2 + len(with_data))))))
    if len(absent):
        blocks.append(note("Не вошли в динамику: " + "; ".join(f"{r.year} год — {r.note}" for r in absent.itertuples()) + "."))
    return sub("Динамика", *blocks, anchor="dynamics")


def analysis_html(ctx: ReportContext) -> str:
    """5. Анализ — distribution, ranking, heat map, criteria, targets, dynamics."""
    return section("analysis", "5", "Анализ", distribution_html(ctx), ranking_html(ctx), heatmap_html(ctx),
                   criteria_html(ctx), targets_html(ctx), dynamics_html(ctx))


def recommendations_html(ctx: ReportContext) -> str:
    """6. Адресные рекомендации — the most frequent deficits and the per-school summary."""
    recs = ctx.data["recommendations.csv"]
    names = indicator_names(ctx.methodology)
    if recs.empty:
        return section("recommendations", "6", "Адресные рекомендации", para("Рекомендаций нет."))
    ct = pd.crosstab(recs["indicator_code"].map(text), recs["priority"].map(text))
    for pr in PRIORITIES:
        if pr not in ct:
            ct[pr] = 0
    ct["всего"] = ct[list(PRIORITIES)].sum(axis=1)
    order = {c: i for i, c in enumerate([p.code for p in ctx.methodology.positions] + [t.code for t in ctx.methodology.targets])}
    top = ct.reset_index().assign(_o=lambda d: d["indicator_code"].map(lambda c: order.get(c, 999)))
    top = top.sort_values(["всего", "_o"], ascending=[False, True]).head(10)
    rows = [[r["indicator_code"], names.get(r["indicator_code"], r["indicator_code"]), int(r["высокий"]), int(r["средний"]), int(r["всего"])]
            for _, r in top.iterrows()]
    st = school_table(ctx)
    high: dict[str, list[str]] = {}
    for c, pr, ind in zip(recs["school_code"].map(text), recs["priority"], recs["indicator_code"]):
        if pr == "высокий":
            high.setdefault(c, []).append(text(ind))
    srows = []
    for r in st[st["submitted"]].itertuples():
        hi = high.get(r.school_code, [])
        srows.append([h("a", text(r.school_name), href=f"schools/{r.page}"), r.rec_высокий, r.rec_средний,
                      ", ".join(hi[:8]) + (" …" if len(hi) > 8 else "") or "—"])
    return section(
        "recommendations", "6", "Адресные рекомендации",
        para(f"Каждая ОО получила адресные рекомендации по позициям и целевым показателям, по которым не достигнут "
             f"максимум: приоритет «высокий» — 0 баллов, балл не подтверждён документом или целевой показатель не "
             f"достигнут; «средний» — балл ниже максимального. Всего рекомендаций: {len(recs)} для "
             f"{recs['school_code'].nunique()} ОО. Тексты рекомендаций — на страницах школ."),
        sub("Наиболее частые дефициты", table(["Код", "Показатель", "Высокий", "Средний", "Всего ОО"], rows, num_cols=(2, 3, 4))),
        sub("Рекомендации по ОО", table(["ОО", "Высокий приоритет", "Средний приоритет", "Показатели высокого приоритета"],
                                         srows, num_cols=(1, 2))),
    )


def _school_list(codes: str, names: dict[str, str]) -> str:
    items = [c.strip() for c in text(codes).split(";") if c.strip()]
    if not items:
        return "—"
    return ", ".join(names.get(c, c) for c in items)



def _school_links(codes: Sequence[str], names: dict[str, str]) -> Markup:
    return Markup(", ").join(h("a", names.get(c, c), href=f"schools/{school_page(c)}") for c in codes)


def _who_when(g: pd.DataFrame) -> tuple[Markup, bool]:
    """«Ответственные: …; срок: …» once for a group whose rows share them."""
    pairs = {(text(r), text(d)) for r, d in zip(g["responsible"], g["due"])}
    if len(pairs) == 1:
        r, d = pairs.pop()
        return h("p", [h("span", "Ответственные: ", class_="label"), r, h("span", "; срок: ", class_="label"), d]), True
    return Markup(""), False


def measures_html(ctx: ReportContext) -> str:
    """7. Меры — the municipal measures of decisions.csv: seminar topics with the schools that
    failed them, methodological visits, requests for forms, other municipal measures."""
    dec = ctx.data["decisions.csv"]
    names = _names(ctx)
    ind = indicator_names(ctx.methodology)
    thr = ctx.params.decisions.share_threshold
    lead = para(f"Темой муниципального семинара (заседания РМО) становится позиция или целевой показатель, не "
                f"выполненные не менее чем {fmt_num(thr, 0)} % ОО; каждая ОО с низким уровнем и каждая ШНОР без "
                f"методической поддержки получает методический выезд; у ОО без принятой формы форма запрашивается.")
    if dec.empty:
        return section("measures", "7", "Меры", lead, para("Мер муниципального уровня не потребовалось."))
    kinds = dec["kind"].map(text)
    blocks: list[Any] = []
    sem = dec[kinds == "seminar"].copy()
    if len(sem):
        if "share_failed" in sem:
            sem["_share"] = pd.to_numeric(sem["share_failed"], errors="coerce")
            sem = sem.sort_values("_share", ascending=False, kind="mergesort")
        who, same = _who_when(sem)
        rows = []
        for r in sem.to_dict("records"):
            code = text(r.get("indicator_code", ""))
            codes = codes_of(r["schools"])
            n, of = num(r.get("n_schools")), num(r.get("n_concerned"))
            failed = (f"{fmt_int(n)} из {fmt_int(of)} ({fmt_pct(r.get('share_failed'), 0)})" if n is not None and of
                      else str(len(codes)))
            topic = Markup(f"<strong>{escape(code)}</strong> {escape(ind.get(code, ''))}") if code in ind else escape(text(r["topic"]))
            schools = h("details", [h("summary", f"{len(codes)} {plural(len(codes), 'ОО', 'ОО', 'ОО')}"),
                                    h("div", _school_links(codes, names), class_="school-links")]) if codes else "—"
            row = [topic, failed, schools]
            if not same:
                row += [text(r["responsible"]), text(r["due"])]
            rows.append(row)
        head = ["Тема семинара", "Не выполнили", "ОО"] + ([] if same else ["Ответственные", "Срок"])
        blocks.append(sub(f"{DECISION_KINDS['seminar']}: тем — {len(sem)}", who,
                          table(head, rows, num_cols=(1,), nowrap=(1,))))
    for kind in ("visit", "request"):
        g = dec[kinds == kind]
        if g.empty:
            continue
        who, same = _who_when(g)
        rows = []
        for r in g.to_dict("records"):
            codes = codes_of(r["schools"])
            basis = text(r.get("basis", "")) or text(r["topic"])
            row = [_school_links(codes, names) if codes else "—", basis]
            if not same:
                row += [text(r["responsible"]), text(r["due"])]
            rows.append(row)
        head = ["ОО", "Основание"] + ([] if same else ["Ответственные", "Срок"])
        blocks.append(sub(f"{DECISION_KINDS[kind]} — {len(g)}", who, table(head, rows)))
    other = dec[~kinds.isin(["seminar", "visit", "request"])]
    if len(other):
        rows = [[DECISION_KINDS.get(text(r.kind), text(r.kind)), text(r.topic), text(r.responsible), text(r.due)]
                for r in other.itertuples()]
        blocks.append(sub("Другие меры муниципального уровня", table(["Вид", "Мера", "Ответственные", "Срок"], rows)))
    return section("measures", "7", "Меры", lead, *blocks)


def decisions_html(ctx: ReportContext) -> str:
    """8. Управленческие решения — the draft decisions of the order."""
    p = ctx.params
    dec = ctx.data["decisions.csv"]
    names = _names(ctx)
    items = [f"Принять к сведению результаты мониторинга эффективности деятельности школьных методических служб "
             f"за {p.academic_year} учебный год."]
    kinds = dec["kind"].map(text) if not dec.empty else pd.Series(dtype="object")
    sem = dec[kinds == "seminar"]
    if len(sem):
        ind = indicator_names(ctx.methodology)
        topics = Markup("").join(
            h("li", f"{text(r.get('indicator_code', ''))} «{ind[text(r.get('indicator_code', ''))]}»"
                    if text(r.get("indicator_code", "")) in ind else text(r["topic"]))
            for r in sem.to_dict("records"))
        items.append(Markup(escape(f"Провести муниципальные семинары (заседания РМО) по темам ({len(sem)}); ответственные: "
                                   f"{text(sem['responsible'].iloc[0])}; срок: {text(sem['due'].iloc[0])}:"))
                     + h("ul", topics, class_="cols topics"))
    vis = dec[kinds == "visit"]
    if len(vis):
        items.append(f"Организовать методические выезды в ОО: {_school_list(';'.join(vis['schools'].map(text)), names)}. "
                     f"Ответственные: {text(vis['responsible'].iloc[0])}; срок: {text(vis['due'].iloc[0])}.")
    req = dec[kinds == "request"]
    if len(req):
        items.append(f"Получить формы мониторинга от ОО, не представивших их: {_school_list(';'.join(req['schools'].map(text)), names)}.")
    mea = dec[kinds == "measure"]
    for r in mea.itertuples():
        items.append(f"{text(r.topic)} Ответственные: {text(r.responsible)}; срок: {text(r.due)}.")
    items.append("Руководителям ОО рассмотреть адресные рекомендации на заседаниях методических советов и внести "
                 f"изменения в планы методической работы на {p.year}-{p.year + 1} учебный год.")
    items.append(f"Провести повторный мониторинг по итогам {p.year}-{p.year + 1} учебного года и оценить "
                 "эффективность принятых мер.")
    return section("decisions", "8", "Управленческие решения",
                   para("Предлагаемые управленческие решения по итогам мониторинга:"),
                   h("ol", Markup("").join(h("li", i) for i in items), class_="decisions"))


def effectiveness_html(ctx: ReportContext) -> str:
    """9. Анализ эффективности принятых мер — the follow-up of last year's recommendations."""
    from . import charts

    p = ctx.params
    fu = ctx.data["followup.csv"]
    if p.previous_params is None:
        return section("effectiveness", "9", "Анализ эффективности принятых мер", para(
            f"{p.year} год — первый год мониторинга: рекомендаций прошлого года нет. Анализ эффективности мер, "
            f"принятых по итогам этой справки, будет выполнен при мониторинге {p.year + 1} года."))
    if ctx.previous is None or fu.empty:
        why = ("обработанные данные прошлого года не найдены" if ctx.previous is None
               else "в прошлом году рекомендаций не было")
        return section("effectiveness", "9", "Анализ эффективности принятых мер",
                       para(f"Анализ эффективности мер не выполнен: {why}."))
    summ = followup_summary(ctx)
    total = summ.iloc[-1]
    lead = (f"Рекомендации {p.year - 1} года ({int(total['n'])}) сопоставлены с результатами {p.year} года: "
            f"устранено — {fmt_pct(total['устранён'])}, улучшение — {fmt_pct(total['улучшение'])}, без изменений — "
            f"{fmt_pct(total['без изменений'])}, ухудшение — {fmt_pct(total['ухудшение'])}, нет данных — "
            f"{fmt_pct(total['нет данных'])}.")
    rows = []
    for r in summ.to_dict("records"):
        rows.append([r["indicator_code"], r["name"], r["n"]] + [fmt_pct(r[s], 0) for s in FOLLOWUP_STATUSES])
    classes = [""] * (len(rows) - 1) + ["total"]
    return section(
        "effectiveness", "9", "Анализ эффективности принятых мер", para(lead),
        figure(charts.followup_chart(summ), "Что стало с рекомендациями прошлого года", None, width=charts.WIDTH_PX),
        table(["Код", "Показатель", "Рекомендаций", *[s.capitalize() for s in FOLLOWUP_STATUSES]], rows,
              num_cols=tuple(range(2, 3 + len(FOLLOWUP_STATUSES))), row_classes=classes),
    )


def schools_html(ctx: ReportContext) -> str:
    """The list of school pages."""
    st = _shared(ctx, school_table).sort_values("school_code")
    chips: dict[tuple[str, str], Markup] = {}  # a chip is one of a few: made once each
    items = []
    for code, name, page, zone, level, submitted, small in zip(
            _texts(st["school_code"]), _texts(st["school_name"]), _texts(st["page"]),
            _each_number(st["total_score"], lambda v: zone_of(v, ctx.params)), _texts(st["level"]),
            _values(st["submitted"]), _values(st["small"])):
        key = (zone, level) if submitted and not small else ("", "нет данных" if not submitted else level)
        chip = chips.get(key)
        if chip is None:
            chip = chips[key] = (h("span", level, class_=f"chip {ZONE_CLASS[zone]}", title=f"{zone} зона") if key[0]
                                 else h("span", key[1], class_="chip none"))
        # h("li", [h("a", …, href=…), " ", chip]), written out
        items.append(f'<li><a href="{escape("schools/" + page)}">{escape(f"{code} — {name}")}</a> {chip}</li>')
    return section("schools", "", "Страницы школ", para(
        "Для каждой ОО — итоговый балл, место в кластере, профиль по критериям, динамика, адресные рекомендации "
        "и подтверждающие документы."), h("ul", Markup("".join(items)), class_="school-list"))


def _share_formulas(m: Any) -> list[str]:
    """Each share as the methodology computes it, in words."""
    labels = layout(m).staff_labels
    return [f"{sh.code} = {sh.numerator} / {sh.denominator} × 100 % ({sh.numerator} — {labels.get(sh.numerator, '')}; "
            f"{sh.denominator} — {labels.get(sh.denominator, '')}); при {sh.denominator} = 0 не применяется"
            for sh in m.shares]


def appendix_html(ctx: ReportContext) -> str:
    """Приложение: positions, criteria, formulas and the methodology's warnings — each formula
    from the methodology's declarations."""
    m, p = ctx.methodology, ctx.params
    prow = [[x.code, x.text, x.criterion, "/".join(str(s) for s in sorted(x.scale, reverse=True)),
             "да" if x.evidence_required else "нет"] for x in m.positions]
    index = ", ".join(m.index_shares)
    formulas = [
        f"Процент самооценки = сумма засчитанных баллов / {m.max_points} × 100. Балл выше 0 без подтверждающего "
        "документа засчитывается как 0 («не подтверждено»).",
        *(["Доли педагогов: " + "; ".join(_share_formulas(m)) + "."] if m.shares else []),
        (f"Индекс активности: доли {index} приводятся к шкале 0–1 внутри кластера ((x − min) / (max − min); "
         "при max = min — 1, если max > 0, иначе 0); индекс = среднее × 100.") if index else
        "Индекс активности методикой не предусмотрен: итоговый балл равен проценту самооценки.",
        f"Итоговый балл = {fmt_num(p.weights.checklist, 2)} × процент самооценки + "
        f"{fmt_num(1 - p.weights.checklist, 2)} × индекс активности." if index else
        "Итоговый балл = процент самооценки.",
        f"Кластеры: {m.cluster_rule.describe(p.cluster_threshold)}.",
        "Место в кластере — по итоговому баллу по убыванию; при равенстве баллов ОО делят место (1, 2, 2, 4).",
        f"Уровни и зоны: высокий (зелёная) ≥ {fmt_num(p.levels.high, 0)}, средний (жёлтая) ≥ "
        f"{fmt_num(p.levels.medium, 0)}, низкий (красная, зона риска) < {fmt_num(p.levels.medium, 0)}; "
        "зоны критериев — по тем же порогам от процента выполнения критерия.",
        f"Тренд: ▲ / ▼ — изменение более чем на {fmt_num(p.report.trend_threshold, 0)} баллов к прошлому году, "
        "→ — без существенных изменений.",
        "Муниципальные значения целевых показателей — отношение сумм по ОО (а не среднее процентов).",
        f"Показатели, рассчитанные по группе менее {ctx.n_small} человек, не публикуются («{small_label(ctx.n_small)}»). "
        "Персональные данные (ответственные лица ОО) не публикуются.",
    ]
    warn = [h("div", [h("strong", "Замечание к методике: "), w], class_="callout warning") for w in m.warnings]
    return section(
        "appendix", "", "Приложение: методика расчёта",
        para(f"Методика: {m.name} (версия {m.version})."), *warn,
        sub("Формулы", h("ol", Markup("").join(h("li", f) for f in formulas))),
        sub("Позиции самооценки", table(["Код", "Позиция оценивания", "Критерий", "Шкала", "Документ обязателен"], prow)),
    )


def footer_html(ctx: ReportContext) -> str:
    hd = ctx.params.header
    return str(h("footer", [h("div", [h("span", "Исполнители: ", class_="label"), "; ".join(hd.executors)]),
                            h("div", f"{hd.organization} · {hd.order_number} от {hd.order_date:%d.%m.%Y}")],
                 class_="doc-footer"))


@dataclass(frozen=True)
class Section:
    """One section of the analytic report, in the order of the page."""

    name: str
    what: str                                   # what it shows (the report notebook's comment)
    render: Callable[[ReportContext], str]


# The report, section by section: the published page, the report notebook and the Word
# document are all made from this list (add a section here: see ARCHITECTURE.md).
SECTIONS: tuple[Section, ...] = (
    Section("header", "шапка: орган управления, утверждение, название, номер и дата приказа, исполнители",
            lambda ctx: header_html(ctx.params)),
    Section("cycle", "управленческий цикл и содержание", cycle_html),
    Section("summary", "основные итоги", summary_html),
    Section("goals", "1. Цели", goals_html),
    Section("indicators", "2. Показатели", indicators_html),
    Section("methods", "3. Методы сбора информации", methods_html),
    Section("monitoring", "4. Мониторинг: участие ОО и качество данных", monitoring_html),
    Section("analysis", "5. Анализ: распределение, рейтинг, карта дефицитов, критерии, целевые показатели, динамика",
            analysis_html),
    Section("recommendations", "6. Адресные рекомендации", recommendations_html),
    Section("measures", "7. Меры", measures_html),
    Section("decisions", "8. Управленческие решения", decisions_html),
    Section("effectiveness", "9. Анализ эффективности принятых мер", effectiveness_html),
    Section("schools", "страницы школ", schools_html),
    Section("appendix", "приложение: методика расчёта", appendix_html),
    Section("footer", "исполнители", footer_html),
)


def all_sections(ctx: ReportContext) -> list[str]:
    """Every section of the report, in order."""
    return [section_.render(ctx) for section_ in SECTIONS]
