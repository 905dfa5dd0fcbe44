"""6–9: targeted recommendations, municipal measures, management decisions and the analysis
of the measures taken last year."""

from __future__ import annotations
from typing import Any, Sequence
import pandas as pd
from markupsafe import Markup, escape
from ...core.contract import DECISION_KINDS, FOLLOWUP_STATUSES, PRIORITIES
from ...core.privacy import small_label
from ...core.russian import fmt_int, fmt_num, fmt_pct, plural
from ...core.values import num, text
from ..context import ReportContext
from ..html import chart_data, figure, h, para, section, sub, table
from ..tables import codes_of, _names, followup_summary, indicator_names, school_page, school_table
from ..tables import school_list


def recommendations_html(ctx: ReportContext) -> str:
    """6. Адресные рекомендации — the most frequent deficits and the per-school summary."""
    recs = ctx.data["recommendations.csv"]
    names = indicator_names(ctx.methodology)
    if recs.empty:
        why = ("Рекомендаций нет." if ctx.methodology.positions or ctx.methodology.targets else
               "Адресные рекомендации формируются по позициям самооценки и целевым показателям; в методике года их нет.")
        return section("recommendations", "6", "Адресные рекомендации", para(why))
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
    from .per_school import cluster_link, split

    per_school = (cluster_link(ctx, "Рекомендации по каждой ОО — на страницах кластеров") if split(ctx)
                  else recommendations_table(ctx, school_table(ctx)))
    return section(
        "recommendations", "6", "Адресные рекомендации",
        para(f"Каждая ОО получила адресные рекомендации по позициям и целевым показателям, по которым не достигнут "
             f"максимум: приоритет «высокий» — 0 баллов, балл не подтверждён документом или целевой показатель не "
             f"достигнут; «средний» — балл ниже максимального. Всего рекомендаций: {len(recs)} для "
             f"{recs['school_code'].nunique()} ОО. Тексты рекомендаций — на страницах школ."),
        sub("Наиболее частые дефициты", table(["Код", "Показатель", "Высокий", "Средний", "Всего ОО"], rows, num_cols=(2, 3, 4))),
        sub("Рекомендации по ОО", per_school),
    )


def recommendations_table(ctx: ReportContext, st: pd.DataFrame, prefix: str = "schools/") -> Markup:
    """Per school with a form (rows of school_table): its recommendations by priority and the
    indicators of high priority."""
    if "high_recommendations" not in ctx.cache:
        recs = ctx.data["recommendations.csv"]
        high: dict[str, list[str]] = {}
        for c, pr, ind in zip(recs["school_code"].map(text), recs["priority"], recs["indicator_code"]):
            if pr == "высокий":
                high.setdefault(c, []).append(text(ind))
        ctx.cache["high_recommendations"] = high
    high = ctx.cache["high_recommendations"]
    srows = []
    for r in st[st["submitted"]].itertuples():
        hi = high.get(r.school_code, [])
        srows.append([h("a", text(r.school_name), href=f"{prefix}{r.page}"), r.rec_высокий, r.rec_средний,
                      ", ".join(hi[:8]) + (" …" if len(hi) > 8 else "") or "—"])
    return table(["ОО", "Высокий приоритет", "Средний приоритет", "Показатели высокого приоритета"], srows, num_cols=(1, 2))


def measures_table(ctx: ReportContext, st: pd.DataFrame, prefix: str = "schools/") -> Markup:
    """Per school of st named by a municipal measure (decisions.csv): the seminar topics by code
    (the analytic page names them) and the other measures with their basis."""
    by = ctx.cache.get("measures_by_school")
    if by is None:
        dec = ctx.data["decisions.csv"]
        by = {}
        absent = [""] * len(dec)
        for kind, ind, basis, topic, schools in zip(
                dec["kind"].map(text), dec["indicator_code"].map(text) if "indicator_code" in dec else absent,
                dec["basis"].map(text) if "basis" in dec else absent, dec["topic"].map(text), dec["schools"]):
            for code in dict.fromkeys(codes_of(schools)):
                seminars, other = by.setdefault(code, ([], []))
                if kind == "seminar":
                    seminars.append(ind or topic)
                else:
                    other.append(f"{DECISION_KINDS.get(kind, kind)}: {basis or topic}")
        ctx.cache["measures_by_school"] = by
    rows = [[h("a", text(name), href=f"{prefix}{page}"), ", ".join(by[code][0]) or "—",
             Markup("<br>").join(escape(o) for o in by[code][1]) or "—"]
            for code, name, page in zip(st["school_code"], st["school_name"], st["page"]) if code in by]
    if not rows:
        return para("Мер, касающихся этих ОО, нет.")
    return table(["ОО", "Темы семинаров (коды)", "Другие меры"], rows)


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
                f"выполненные не менее чем {fmt_num(thr, 0)} % ОО (несколько позиций одного критерия — одна тема; "
                f"в году не больше {ctx.params.decisions.max_seminars} тем, по убыванию доли ОО, остальные переносятся "
                f"на следующий год); каждая ОО с низким уровнем и каждая ШНОР без "
                f"методической поддержки получает методический выезд; у ОО без принятой формы форма запрашивается.")
    if dec.empty:
        return section("measures", "7", "Меры", lead, para("Мер муниципального уровня не потребовалось."))
    from .per_school import cluster_link, split

    kinds = dec["kind"].map(text)
    blocks: list[Any] = []
    large = split(ctx)  # no list of schools here: the pages of the clusters name each school's measures
    if large:
        blocks.append(cluster_link(ctx, "Меры, касающиеся каждой ОО, — на страницах кластеров"))
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
            failed = (f"{fmt_int(n)} из {fmt_int(of)} ({fmt_pct(n * 100 / of, 0)})" if n is not None and of
                      else str(len(codes)))
            topic = Markup(f"<strong>{escape(code)}</strong> {escape(ind.get(code, ''))}") if code in ind else escape(text(r["topic"]))
            schools = ("—" if not codes else f"{len(codes)} ОО" if large else
                       h("details", [h("summary", f"{len(codes)} {plural(len(codes), 'ОО', 'ОО', 'ОО')}"),
                                     h("div", _school_links(codes, names), class_="school-links")]))
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
        if large:
            n = len({c for v in g["schools"] for c in codes_of(v)})
            blocks.append(sub(f"{DECISION_KINDS[kind]} — {len(g)}", para(f"ОО — {fmt_int(n)}.")))
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
    later = dec[kinds == "deferred"]
    if len(later):
        rows = [[text(r.topic), text(r.basis)] for r in later.itertuples()]
        blocks.append(sub(f"Темы семинаров, перенесённые на следующий год — {len(later)}",
                          para(f"В году проводится не больше {ctx.params.decisions.max_seminars} тем семинаров: "
                               "выбраны темы, касающиеся наибольшей доли ОО."),
                          table(["Тема", "Основание"], rows)))
    other = dec[~kinds.isin(["seminar", "visit", "request", "deferred"])]
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
            h("li", (f"{text(r.get('indicator_code', ''))} «{ind[text(r.get('indicator_code', ''))]}»"
                     if text(r.get("indicator_code", "")) in ind else text(r["topic"])) + f" — {text(r['due'])}")
            for r in sem.to_dict("records"))
        items.append(Markup(escape(f"Провести муниципальные семинары (заседания РМО) по темам ({len(sem)}); ответственные: "
                                   f"{text(sem['responsible'].iloc[0])}; сроки — по темам:"))
                     + h("ul", topics, class_="cols topics"))
    from .per_school import split

    large = split(ctx)  # a count, not the list of schools: the pages of the clusters name them

    def schools_of(g: pd.DataFrame) -> str:
        codes = ';'.join(g['schools'].map(text))
        return (f"{len(set(codes_of(codes)))} ОО (по ОО — на страницах кластеров)" if large
                else school_list(codes, names))

    vis = dec[kinds == "visit"]
    if len(vis):
        items.append(f"Организовать методические выезды в ОО: {schools_of(vis)}. "
                     f"Ответственные: {text(vis['responsible'].iloc[0])}; сроки: "
                     f"{', '.join(dict.fromkeys(vis['due'].map(text)))} (по ОО — в дорожной карте).")
    req = dec[kinds == "request"]
    if len(req):
        items.append(f"Получить формы мониторинга от ОО, не представивших их: {schools_of(req)}.")
    later = dec[kinds == "deferred"]
    if len(later):
        items.append(f"Перенести на {p.year}-{p.year + 1} учебный год темы семинаров ({len(later)}): "
                     + "; ".join(text(r.get("indicator_code", "")) for r in later.to_dict("records")) + ".")
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
    from .. import charts

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
                       para(f"Анализ эффективности мер не выполнен: {why}."), *roadmap_measures_html(ctx))
    summ = followup_summary(ctx)
    total = summ.iloc[-1]
    statuses = charts.shown_statuses(summ)
    changed = FOLLOWUP_STATUSES[-1]
    lead = (f"Рекомендации {p.year - 1} года ({int(total['n'])}) сопоставлены с результатами {p.year} года: "
            f"устранено — {fmt_pct(total['устранён'])}, улучшение — {fmt_pct(total['улучшение'])}, без изменений — "
            f"{fmt_pct(total['без изменений'])}, ухудшение — {fmt_pct(total['ухудшение'])}, нет данных — "
            f"{fmt_pct(total['нет данных'])}" + (f", методика изменилась — {fmt_pct(total[changed])}" if changed in statuses else "")
            + ".")
    rows = []
    for r in summ.to_dict("records"):
        rows.append([r["indicator_code"], r["name"], r["n"]] + [fmt_pct(r[s], 0) for s in statuses])
    classes = [""] * (len(rows) - 1) + ["total"]
    changes = [para(c) for c in methodology_changes_since_last_year(ctx)]
    return section(
        "effectiveness", "9", "Анализ эффективности принятых мер", para(lead), *changes,
        figure(charts.followup_chart(summ), f"Что стало с рекомендациями {p.year - 1} года: " + lead.split(": ", 1)[-1],
               "Полоса — рекомендации одного показателя (n — их число), отрезки — доли исходов (цвет и штриховка — "
               "по легенде); верхняя полоса — всего.",
               chart_data("исходы рекомендаций прошлого года, %", ["Код", "Рекомендаций", *[s.capitalize() for s in statuses]],
                          [[r[0], r[2], *r[3:]] for r in rows], num_cols=tuple(range(1, 2 + len(statuses)))),
               width=charts.WIDTH_PX),
        table(["Код", "Показатель", "Рекомендаций", *[s.capitalize() for s in statuses]], rows,
              num_cols=tuple(range(2, 3 + len(statuses))), row_classes=classes,
              caption="Исходы рекомендаций прошлого года по показателям", hidden_caption=True),
        *roadmap_measures_html(ctx),
    )


def _group_cells(g: Any, n_small: int) -> list[Any]:
    """n, mean change and share improved of a compared group (hidden for a small group)."""
    if g.n == 0:
        return [0, "—", "—"]
    if g.small:
        return [g.n, small_label(n_small), small_label(n_small)]
    sign = "+" if round(g.mean_change, 1) > 0 else ""
    return [g.n, f"{sign}{fmt_num(g.mean_change)}", fmt_pct(g.share_improved, 0)]




def roadmap_measures_html(ctx: ReportContext) -> list[Markup]:
    """What became of last year's roadmap (measures.csv) and how the results of the schools the
    measures reached changed against the others; without the record, a plain statement."""
    from .. import measures_effect as me

    measures = ctx.data["measures.csv"]
    p = ctx.params
    title = f"Выполнение мер дорожной карты на {p.year - 1}-{p.year} учебный год"
    if measures.empty:
        return []
    counts = me.status_counts(measures)
    if not me.record_submitted(ctx):
        return [sub(title, para(
            f"Сведения о выполнении мер дорожной карты на {p.year - 1}-{p.year} учебный год не представлены: "
            f"файла measures.xlsx в папке данных {p.year} года нет. Мер в дорожной карте — {len(measures)}; "
            "проводились ли семинары и выезды, неизвестно, поэтому результаты с мерами не сопоставляются."))]
    done, not_done, no_record = (counts[s] for s in me.MEASURE_STATUSES)
    blocks: list[Any] = [para(
        f"Мер в дорожной карте — {len(measures)}: выполнено — {done}, не выполнено — {not_done}, "
        f"нет сведений — {no_record} (по сведениям управления образования, measures.xlsx).")]
    missed = measures[measures["status"].map(text) != me.DONE]
    if len(missed):
        rows = [[text(r.get("title")), text(r.get("due")), text(r.get("status"))] for r in missed.to_dict("records")]
        blocks.append(para("Не выполнены или не подтверждены сведениями:"))
        blocks.append(table(["Мероприятие", "Срок", "Отметка"], rows, nowrap=(1, 2)))
    what, groups = me.visit_groups(ctx)
    if groups:
        rows = [[g.label, *_group_cells(g, ctx.n_small)] for g in groups]
        blocks.append(para(f"Методические выезды: как изменился {what} ОО с {p.year - 1} по {p.year} год "
                           "(ОО с результатом в оба года)."))
        blocks.append(table(["ОО", "Число ОО", "Среднее изменение", "Доля ОО с ростом"], rows, num_cols=(1, 2, 3)))
    comps = me.seminar_comparisons(ctx)
    if comps:
        names = indicator_names(ctx.methodology)
        rows = []
        for c in comps:
            topic = f"{c.code} «{names.get(c.code, c.title)}» ({c.what})"
            rows.append([topic, "участники семинара", *_group_cells(c.participants, ctx.n_small)])
            rows.append(["", "остальные ОО", *_group_cells(c.others, ctx.n_small)])
        blocks.append(para("Семинары (заседания РМО): изменение результата по теме семинара у ОО, педагоги которых "
                           "участвовали, и у остальных ОО (ОО с результатом в оба года)."))
        blocks.append(table(["Тема семинара (что сравнивается)", "ОО", "Число ОО", "Среднее изменение", "Доля ОО с ростом"],
                            rows, num_cols=(2, 3, 4)))
    if groups or comps:
        blocks.append(para(f"Группы меньше {ctx.n_small} ОО не показываются («{small_label(ctx.n_small)}»). "
                           "Сравнение показывает связь, а не доказывает действие меры: на результат влияет и другое."))
    return [sub(title, *blocks)]


def methodology_changes_since_last_year(ctx: ReportContext) -> list[str]:
    """What changed in the methodology since the previous year (empty when it did not, or when
    last year's methodology cannot be read)."""
    from ...config.methodology import load_methodology, methodology_changes
    from ...core.errors import MethodologyError

    if ctx.previous is None:
        return []
    key = "methodology_changes"   # said by the effectiveness and the dynamics sections: read once
    if key not in ctx.cache:
        try:
            ctx.cache[key] = methodology_changes(load_methodology(ctx.previous.params.methodology), ctx.methodology)
        except MethodologyError:
            ctx.cache[key] = []
    return list(ctx.cache[key])
