"""The front of the report: its header, the management cycle as a contents line, the main
findings, and sections 1–3 (goals, indicators, methods of collection)."""

from __future__ import annotations
import math
import pandas as pd
from markupsafe import Markup
from ...config.params import YearParams
from ...core.contract import LEVELS
from ...core.levels import trend, zone_of
from ...core.russian import fmt_date, fmt_num, fmt_pct, plural
from ...core.values import text
from ...form.fields import layout
from ..context import ReportContext
from ..html import h, para, section, sub, table
from ..labels import ZONE_CLASS
from ..tables import deficits, municipal_targets, participation, published_school_table, shown_scores


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
    st = published_school_table(ctx)
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
    st = published_school_table(ctx)
    sub_ = st[st["submitted"]]
    mean_total = sub_["total_score"].mean()
    levels = {lv: int((sub_["level"].map(text) == lv).sum()) for lv in LEVELS}
    tm = municipal_targets(ctx)
    met = int((tm["met"] == True).sum())  # noqa: E712
    known = int(tm["met"].notna().sum())
    recs = ctx.data["recommendations.csv"]
    m = ctx.methodology
    cards = [("Форм принято", f"{part['schools_submitted']} из {part['expected']}", f"{fmt_pct(part['rate'])} ОО реестра", "")]
    if m.has_total:
        cards += [
            ("Средний итоговый балл", fmt_num(mean_total),
             f"{zone_of(mean_total, p)} зона" if zone_of(mean_total, p) else "нет данных", ZONE_CLASS.get(zone_of(mean_total, p), "")),
            ("Высокий уровень", str(levels["высокий"]), plural(levels["высокий"], "школа", "школы", "школ"), "green"),
            ("Средний уровень", str(levels["средний"]), plural(levels["средний"], "школа", "школы", "школ"), "yellow"),
            ("Зона риска (низкий)", str(levels["низкий"]), plural(levels["низкий"], "школа", "школы", "школ"), "red"),
        ]
    if m.targets:
        cards.append(("Целевые показатели", f"{met} из {known}", "достигнуто на уровне муниципалитета", ""))
    cards.append(("Адресные рекомендации", str(len(recs)), f"из них высокого приоритета — {int((recs['priority'] == 'высокий').sum())}", ""))
    card_html = Markup("").join(
        h("div", [h("div", label, class_="card-label"), h("div", value, class_="card-value"), h("div", sub_text, class_="card-sub")],
          class_=f"card {cls}".strip())
        for label, value, sub_text, cls in cards
    )
    findings = [f"Формы мониторинга представили {part['schools_submitted']} из {part['expected']} ОО реестра "
                f"({fmt_pct(part['rate'])}); отклонено файлов — {part['rejected']}."]
    if not part["schools_submitted"]:
        # a year with no accepted form: say so first, not only through empty tables
        findings.insert(0, "Ни одна форма мониторинга не принята: итоговые баллы, уровни, места в кластерах и "
                           "целевые показатели не рассчитаны; все ОО реестра указаны как не представившие форму "
                           "(раздел «Мониторинг»). Получите формы от ОО и выполните этапы года заново.")
    if not math.isnan(mean_total):
        findings.append(f"Средний итоговый балл — {fmt_num(mean_total)} ({zone_of(mean_total, p)} зона); "
                        f"высокий уровень — {levels['высокий']}, средний — {levels['средний']}, "
                        f"низкий (зона риска) — {levels['низкий']} ОО.")
    prev = ctx.previous
    if prev is not None:
        pt = pd.to_numeric(shown_scores(ctx, prev)["total_score"], errors="coerce").mean()
        if not math.isnan(pt) and not math.isnan(mean_total):
            mark, _, words = trend(mean_total - pt, p.report.trend_threshold)
            findings.append(f"По сравнению с {prev.year} годом средний балл: {fmt_num(pt)} → {fmt_num(mean_total)} "
                            f"({words}{' ' + mark if mark else ''}).")
    d = deficits(ctx)
    if not d.empty and d["n"].max() > 0:
        worst = d.sort_values(["share_below", "zero"], ascending=False).head(3)
        findings.append("Наиболее частые дефициты (доля ОО, не набравших максимум): " + "; ".join(
            f"{r.position} «{r.short}» — {fmt_pct(r.share_below, 0)}" for r in worst.itertuples()) + ".")
    if m.targets:
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
        goal = (t.kind.goal_text(tv) if t.kind.municipal_only else f"≥ {fmt_num(tv, 0)} {t.unit}".strip()) if tv is not None else "—"
        trows.append([t.code, t.name, goal, scope]
                     + ([t.method or "—"] if any(x.method for x in m.targets) else []))
    with_method = ["Метод сбора информации"] if any(x.method for x in m.targets) else []
    targets = table(["Код", "Целевой показатель", f"Значение {p.year} г.", "Уровень", *with_method], trows)
    what = []
    if m.positions:
        what.append(f"самооценка ОО по {len(m.positions)} {plural(len(m.positions), 'позиции', 'позициям', 'позициям')}, "
                    f"{plural(len(m.positions), 'сгруппированной', 'сгруппированным', 'сгруппированным')} в {len(m.criteria)} "
                    f"{plural(len(m.criteria), 'критерий', 'критерия', 'критериев')} (максимум {m.max_points} "
                    f"{plural(m.max_points, 'балл', 'балла', 'баллов')})")
    if m.shares:
        what.append("доли педагогов по сведениям о кадрах")
    if m.targets:
        what.append("целевые показатели года")
    parts = [para(_sentence(what) if what else "Методика не содержит оцениваемых показателей.")]
    if m.positions:
        parts.append(sub("Критерии", crit))
    if m.shares:
        parts.append(sub("Доли педагогов", shares))
    if m.targets:
        parts.append(sub("Целевые показатели года", targets))
    return section("indicators", "2", "Показатели", *parts)


def _sentence(parts: list[str]) -> str:
    """«а, б и в.» with a capital first letter."""
    text_ = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " и " + parts[-1]
    return text_[:1].upper() + text_[1:] + "."


def methods_html(ctx: ReportContext) -> str:
    """3. Методы сбора информации — what the year's form asks, as the methodology declares it."""
    m = ctx.methodology
    form = layout(m)
    scale = "/".join(str(s) for s in sorted({s for p in m.positions for s in p.scale}, reverse=True))
    items = []
    if m.positions:
        items.append(f"Самооценка ОО по единой форме (лист «Показатели»): балл {scale} по каждой позиции с указанием "
                     "названия и реквизитов подтверждающего документа и ссылки на его размещение на сайте ОО.")
    if form.staff:
        items.append("Сведения о кадрах (лист «Кадры»), число педагогов: "
                     + "; ".join(f"{code} — {label}" for code, label in form.staff) + ".")
    shown_fields = [f.label[:1].lower() + f.label[1:] if f.label[1:2].islower() else f.label
                    for f in form.declared if not f.personal]
    items.append("Сведения об ОО (лист «Сведения»): " + ", ".join(["тип ОО", *shown_fields]) + ".")
    if any(t.kind.municipal_only for t in m.targets):
        items.append("Сведения управления образования (department.xlsx): заседания районных методических объединений "
                     "и участвовавшие организации, работа тьюторских сообществ и стажировочных площадок, "
                     "методические выезды в ОО.")
    if m.positions:
        items.append("Аудит документационного обеспечения: балл без подтверждающего документа не засчитывается "
                     "(«не подтверждено»), ссылка, не являющаяся адресом http(s), не используется.")
    items.append("Автоматическая проверка форм: каждое замечание к данным фиксируется с указанием файла, листа и ячейки.")
    return section("methods", "3", "Методы сбора информации", h("ul", Markup("").join(h("li", i) for i in items)))
