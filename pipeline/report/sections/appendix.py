"""The list of school pages, the methodology appendix (every formula from the methodology's
declarations) and the footer."""

from __future__ import annotations
from typing import Any
from markupsafe import Markup, escape
from ...core.contract import NO_LEVEL
from ...core.levels import zone_of
from ...core.privacy import small_label
from ...core.russian import fmt_num
from ...fast.columns import _each_number, _texts, _values
from ...form.fields import layout
from ..context import ReportContext
from ..html import h, para, section, sub, table
from ..labels import ZONE_CLASS
from ..tables import _shared, published_school_table


def schools_html(ctx: ReportContext) -> str:
    """The list of school pages (on the pages of the clusters when the municipality is large)."""
    from .per_school import cluster_link, split

    m = ctx.methodology
    what = [*(["итоговый балл", "место в кластере"] if m.has_total else []), *(["профиль по критериям"] if m.has_checklist else []),
            *(["динамика"] if m.has_total else []), "адресные рекомендации",
            *(["подтверждающие документы"] if m.has_checklist else [])]
    listed = (cluster_link(ctx, "Страницы школ — по кластерам") if split(ctx)
              else school_list_html(ctx, _shared(ctx, published_school_table).sort_values("school_code")))
    return section("schools", "", "Страницы школ", para(f"Для каждой ОО — {', '.join(what[:-1])} и {what[-1]}."), listed)


def school_list_html(ctx: ReportContext, st: Any, prefix: str = "schools/") -> Markup:
    """These schools (rows of published_school_table) as links to their pages with the level."""
    chips: dict[tuple[str, str], Markup] = {}  # a chip is one of a few: made once each
    items = []
    for code, name, page, zone, level, submitted, small in zip(
            _texts(st["school_code"]), _texts(st["school_name"]), _texts(st["page"]),
            _each_number(st["total_score"], lambda v: zone_of(v, ctx.params)), _texts(st["level"]),
            _values(st["submitted"]), _values(st["small"])):
        key = (zone, level) if submitted and not small else ("", NO_LEVEL if not submitted else level)
        chip = chips.get(key)
        if chip is None:
            chip = chips[key] = (h("span", level, class_=f"chip {ZONE_CLASS[zone]}", title=f"{zone} зона") if key[0]
                                 else h("span", key[1], class_="chip none"))
        # h("li", [h("a", …, href=…), " ", chip]), written out
        chip = chip if ctx.methodology.has_total else ""
        items.append(f'<li><a href="{escape(prefix + page)}">{escape(f"{code} — {name}")}</a> {chip}</li>')
    return h("ul", Markup("".join(items)), class_="school-list")


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
    formulas: list[str] = []
    if m.has_checklist:
        formulas.append(f"Процент самооценки = сумма засчитанных баллов / {m.max_points} × 100. Балл выше 0 без "
                        "подтверждающего документа засчитывается как 0 («не подтверждено»).")
    if m.shares:
        formulas.append("Доли педагогов: " + "; ".join(_share_formulas(m)) + ".")
    if index:
        formulas.append(f"Индекс активности: доли {index} приводятся к шкале 0–1 внутри кластера ((x − min) / (max − min); "
                        "при max = min — 1, если max > 0, иначе 0); индекс = среднее × 100.")
    elif m.has_checklist:
        formulas.append("Индекс активности методикой не предусмотрен: итоговый балл равен проценту самооценки.")
    if m.has_checklist and index:
        formulas.append(f"Итоговый балл = {fmt_num(p.weights.checklist, 2)} × процент самооценки + "
                        f"{fmt_num(1 - p.weights.checklist, 2)} × индекс активности.")
    elif m.has_total:
        formulas.append("Итоговый балл = процент самооценки." if m.has_checklist else "Итоговый балл = индекс активности.")
    formulas.append(f"Кластеры: {m.cluster_rule.describe(p.cluster_threshold)}.")
    if m.has_total:
        formulas += [
            "Место в кластере — по итоговому баллу по убыванию; при равенстве баллов ОО делят место (1, 2, 2, 4).",
            f"Уровни и зоны: высокий (зелёная) ≥ {fmt_num(p.levels.high, 0)}, средний (жёлтая) ≥ "
            f"{fmt_num(p.levels.medium, 0)}, низкий (красная, зона риска) < {fmt_num(p.levels.medium, 0)}"
            + ("; зоны критериев — по тем же порогам от процента выполнения критерия." if m.has_checklist else "."),
            f"Тренд: ▲ / ▼ — изменение более чем на {fmt_num(p.report.trend_threshold, 0)} баллов к прошлому году, "
            "→ — без существенных изменений.",
        ]
    if m.targets:
        formulas.append("Муниципальные значения целевых показателей — отношение сумм по ОО (а не среднее процентов).")
    formulas.append(f"Показатели, рассчитанные по группе менее {ctx.n_small} человек, не публикуются "
                    f"(«{small_label(ctx.n_small)}»). Персональные данные (ответственные лица ОО) не публикуются.")
    warn = [h("div", [h("strong", "Замечание к методике: "), w], class_="callout warning") for w in m.warnings]
    return section(
        "appendix", "", "Приложение: методика расчёта",
        para(f"Методика: {m.name} (версия {m.version})."), *warn,
        sub("Формулы", h("ol", Markup("").join(h("li", f) for f in formulas))),
        *([sub("Позиции самооценки", table(["Код", "Позиция оценивания", "Критерий", "Шкала", "Документ обязателен"], prow))]
          if prow else []),
    )


def footer_html(ctx: ReportContext) -> str:
    hd = ctx.params.header
    return str(h("footer", [h("div", [h("span", "Исполнители: ", class_="label"), "; ".join(hd.executors)]),
                            h("div", f"{hd.organization} · {hd.order_number} от {hd.order_date:%d.%m.%Y}")],
                 class_="doc-footer"))


def documents_html(ctx: ReportContext) -> str:
    """Документы: the signed documents with their number and date («Приказ от 20.06.2026
    № 214», the scan linked), or that the drafts await signature; the year's documents page."""
    from .. import publication

    scans = publication.signed_scans(ctx.params)[0]
    kinds = {d.name: d for d in publication.DOCUMENTS}
    items = []
    for s in sorted(scans, key=lambda s: list(kinds).index(s.name)):
        d = kinds[s.name]
        label = f"{d.kind} от {s.date:%d.%m.%Y} {s.number}" if s.number and s.date else d.title
        href = f"{publication.DOCS_DIR}/{publication.SIGNED_OUT}/{s.name}.pdf"
        items.append(h("li", [h("a", label, href=href), " — подписанный экземпляр (PDF)"]))
    signed = {s.name for s in scans}
    drafts = [kinds[n].title.split(" (")[0].lower() for n in kinds if n not in signed and kinds[n].docx]
    parts: list[Any] = []
    if items:
        parts += [para("По итогам мониторинга подписаны:"), h("ul", items, class_="signed-list")]
    if drafts:
        parts.append(para(f"Проекты документов ({', '.join(drafts)}) подготовлены к подписанию; после подписания "
                          "на сайте публикуется подписанный экземпляр."))
    parts.append(para(h("a", "Все документы года: приказ, справка, дорожная карта, версия для печати",
                        href=f"{publication.DOCS_DIR}/{publication.PAGE}")))
    return section("documents", "", "Документы", *parts)
