"""prikaz.docx: the draft order «Об итогах мониторинга …» — organisation, «ПРИКАЗ», date and
number, place, title, preamble, «ПРИКАЗЫВАЮ:» with numbered items made from the decisions
and next year's roadmap (each seminar topic with its month and executors, each visit with its
school and month, the other measures, form requests), the heads of schools acting on the
targeted recommendations and reporting back by a date, publication, control, signature.

A region's order does not list thousands of schools: above the year's `documents.max_rows`
the visits are ordered by reference to the roadmap, its appendix 2 («согласно приложению 2,
пункты …»), and the schools asked for their forms by reference to results.xlsx."""

from __future__ import annotations

from pathlib import Path

from docx.enum.text import WD_ALIGN_PARAGRAPH

from ...core.values import text
from ..context import ReportContext
from ..tables import _names, codes_of
from . import base
from .plan import roadmap

FILE = "prikaz.docx"
KIND = "ПРИКАЗ"


def order_title(ctx: ReportContext) -> str:
    return (f"Об итогах мониторинга эффективности деятельности школьных методических служб "
            f"в {ctx.params.academic_year} учебном году")


def _next_year(ctx: ReportContext) -> str:
    return f"{ctx.params.year}-{ctx.params.year + 1}"


def items(ctx: ReportContext) -> list[tuple[str, list[str]]]:
    """The numbered items of the order: (text, sub-items), in order."""
    p, d = ctx.params, ctx.params.documents
    rm = roadmap(ctx)
    names = _names(ctx)
    spr = (f"аналитическая справка от {base.fmt_doc_date(d.spravka_date)} {base.number_text(d.spravka_number)}"
           if d.spravka_date or d.spravka_number else "аналитическая справка")
    out: list[tuple[str, list[str]]] = [
        (f"Утвердить итоги мониторинга эффективности деятельности школьных методических служб в "
         f"{p.academic_year} учебном году ({spr}, приложение 1).", []),
    ]
    if len(rm):
        out.append((f"Утвердить дорожную карту по совершенствованию методической работы на {_next_year(ctx)} "
                    "учебный год (приложение 2).", []))
    sem = rm[rm["kind"] == "seminar"]
    if len(sem):
        out.append(("Провести муниципальные семинары (заседания районных методических объединений) по темам:",
                    [f"{r.title} — срок: {r.due}; ответственные: {r.executors}." for r in sem.itertuples()]))
    mea = rm[rm["kind"] == "measure"]
    for r in mea.itertuples():
        out.append((f"{r.title}. Срок: {r.due}; ответственные: {r.executors}.", []))
    vis = rm[rm["kind"] == "visit"]
    bound = d.max_rows
    if len(vis) > bound:   # the roadmap lists each visit with its school, month and executors
        out.append((f"Организовать методические выезды в общеобразовательные организации (ОО) — {len(vis)} "
                    f"{_plural_oo(len(vis))} — согласно приложению 2 к настоящему приказу (дорожная карта"
                    f"{', пункты ' + _ranges(vis['number']) if _ranges(vis['number']) else ''}): сроки и "
                    "ответственные указаны в дорожной карте.", []))
    elif len(vis):
        out.append(("Организовать методические выезды в общеобразовательные организации (ОО):",
                    [f"{r.school_name} — срок: {r.due}; ответственные: {r.executors}." for r in vis.itertuples()]))
    dec = ctx.data["decisions.csv"]
    req = dec[dec["kind"].map(text) == "request"] if not dec.empty else dec
    requested = [c for r in req.itertuples() for c in codes_of(r.schools)]
    if len(req) > 1 and len(requested) > bound:   # one item, not one per request
        dues = sorted({text(r.due) for r in req.itertuples() if text(r.due)})
        out.append((f"Руководителям ОО, не представившим формы мониторинга ({len(requested)} {_plural_oo(len(requested))}; "
                    "перечень — в файле результатов results.xlsx, лист «Решения»), представить их в управление "
                    "образования" + (f" в срок: {', '.join(dues)}" if dues else "") + ".", []))
        req = req.iloc[:0]
    for r in req.itertuples():
        codes = codes_of(r.schools)
        schools = (", ".join(names.get(c, c) for c in codes) if len(codes) <= bound else
                   f"{len(codes)} {_plural_oo(len(codes))}; перечень — в файле результатов results.xlsx, лист «Решения»")
        out.append((f"Руководителям ОО, не представившим формы мониторинга ({schools}), представить их в управление "
                    f"образования" + (f" в срок: {text(r.due)}" if text(r.due) else "") + ".", []))
    back = f"в срок до {base.fmt_doc_date(d.report_back_by)}" if d.report_back_by else "в установленный срок"
    out.append(("Руководителям общеобразовательных организаций:", [
        "рассмотреть адресные рекомендации по итогам мониторинга (письма управления образования) на заседаниях "
        f"методических советов и внести изменения в планы методической работы на {_next_year(ctx)} учебный год;",
        "устранить выявленные дефициты в сроки, указанные в адресных рекомендациях;",
        f"представить в управление образования информацию о выполнении адресных рекомендаций {back}.",
    ]))
    out.append(("Разместить настоящий приказ и аналитическую справку на официальном сайте управления образования "
                "в разделе «Механизмы управления качеством общего образования».", []))
    out.append((f"Контроль за исполнением настоящего приказа возложить на {d.control_by.strip()}." if d.control_by
                else "Контроль за исполнением настоящего приказа оставляю за собой.", []))
    return out


def _plural_oo(n: int) -> str:
    if n % 10 == 1 and n % 100 != 11:
        return "организация"
    return "организации" if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14 else "организаций"


def _ranges(numbers) -> str:
    """Roadmap item numbers as ranges: «12–5775», «3, 5–9»; '' when they are not numbers."""
    try:
        nums = sorted(int(str(x).rstrip(".")) for x in numbers)
    except ValueError:
        return ""
    out, start = [], None
    for i, n in enumerate(nums):
        if start is None:
            start = n
        if i + 1 == len(nums) or nums[i + 1] != n + 1:
            out.append(f"{start}–{n}" if n > start else f"{n}")
            start = None
    return ", ".join(out) if len(out) <= 10 else ""


def build(ctx: ReportContext):
    p, d = ctx.params, ctx.params.documents
    doc = base.new_document()
    base.organisation(doc, p)
    base.kind_date_number_place(doc, "П Р И К А З", p.header.order_date, p.header.order_number, d.place)
    base.title(doc, order_title(ctx))
    basis = f"На основании {d.basis.strip()}, по" if d.basis else "По"
    base.para(doc, f"{basis} итогам мониторинга эффективности деятельности школьных методических служб "
                   f"общеобразовательных организаций в {p.academic_year} учебном году, в целях совершенствования "
                   "методической работы, устранения выявленных дефицитов и оказания адресной методической помощи "
                   "общеобразовательным организациям")
    base.para(doc, "ПРИКАЗЫВАЮ:", bold=True, indent=False, align=WD_ALIGN_PARAGRAPH.LEFT, before=6, after=6)
    numbered = items(ctx)
    for i, (item, subs) in enumerate(numbered, start=1):
        base.para(doc, f"{i}. {item}", keep=i == len(numbered))   # the control item stays with the signature
        for k, s in enumerate(subs, start=1):
            base.para(doc, f"{i}.{k}. {s}")
    base.signature(doc, p)
    base.executor_mark(doc, p)
    base.page_numbers(doc)
    return doc


def write(ctx: ReportContext, out_dir: Path) -> Path:
    return base.save(build(ctx), Path(out_dir) / FILE, ctx.params, order_title(ctx))


