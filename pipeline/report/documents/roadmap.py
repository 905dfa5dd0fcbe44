"""roadmap.docx: next year's roadmap in the form of seed 004 — № п/п, Наименование
мероприятия, Срок исполнения (месяц, год), Индикативные показатели, Исполнители — one row
per row of roadmap.csv, landscape, its header row repeated on every page, no row split
across pages; the approval block above (appendix 2 to the order)."""

from __future__ import annotations

from pathlib import Path

from docx.enum.text import WD_ALIGN_PARAGRAPH

from ..context import ReportContext
from . import base
from .plan import roadmap

FILE = "roadmap.docx"
HEADERS = ("№ п/п", "Наименование мероприятия", "Срок исполнения (месяц, год)", "Индикативные показатели", "Исполнители")


def roadmap_title(ctx: ReportContext) -> str:
    p = ctx.params
    return (f"Дорожная карта по совершенствованию методической работы в общеобразовательных организациях "
            f"на {p.year}-{p.year + 1} учебный год")


def rows(ctx: ReportContext) -> list[list[str]]:
    out = []
    for r in roadmap(ctx).itertuples():
        name = r.title + (f": {r.school_name}" if r.kind == "visit" and r.school_name and r.school_name not in r.title else "")
        out.append([f"{r.number}." if r.number else "", name, r.due, r.indicator, r.executors])
    return out


def build(ctx: ReportContext):
    p = ctx.params
    doc = base.new_document(landscape=True)
    base.approval_block(doc, p, p.header.order_date)
    base.para(doc, f"Приложение 2 к приказу {base.number_text(p.header.order_number)} от "
                   f"{base.fmt_doc_date(p.header.order_date)}", italic=True, align=WD_ALIGN_PARAGRAPH.RIGHT,
              indent=False, after=6)
    base.organisation(doc, p)
    base.title(doc, roadmap_title(ctx))
    body = rows(ctx)
    if body:
        base.add_table(doc, HEADERS, body, widths=[1.3, 8, 3, 8, 5], size=base.TABLE_PT)
    else:
        base.para(doc, "Мер муниципального уровня по итогам мониторинга не потребовалось: дорожная карта не "
                       "содержит мероприятий.")
    base.executor_mark(doc, p)
    base.page_numbers(doc)
    return doc


def write(ctx: ReportContext, out_dir: Path) -> Path:
    return base.save(build(ctx), Path(out_dir) / FILE, ctx.params, roadmap_title(ctx))
