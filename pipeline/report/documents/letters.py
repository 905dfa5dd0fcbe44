"""letters/<code>.docx and letters.zip: a letter to the head of each school with a result (an
accepted form) — its total, level and place in its cluster, the zone of each criterion, its
deficits, its targeted recommendations with priority and deadline, what became of last
year's, the municipal measures naming it — from what its page shows (school.school_page_data:
the same figures, the same small-group rule). The head is named as the department's registry
holds it (registry column «Руководитель»/head), never from a form. Letters carry personal
data: they are not published.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm

from ...core import parallel
from ...core.errors import FormError
from ...core.values import text
from ...form.registry import load_registry
from ...io.storage import write_bytes_atomic
from .. import reuse
from ..context import ReportContext
from ..school import school_page_data
from ..tables import school_page
from . import base

FOLDER = "letters"
FOLDER_REL = f"documents/{FOLDER}"   # the letters' folder inside the report's folder (reports/<year>/)
ARCHIVE = "letters.zip"
ZONE_SHADE = {"green": base.SHADES["green"], "yellow": base.SHADES["yellow"], "red": base.SHADES["red"]}


def heads(ctx: ReportContext) -> dict[str, str]:
    """School code → its head as the registry holds it (empty without a `head` column)."""
    try:
        reg = load_registry(ctx.params)
    except (FormError, OSError):
        return {}
    if "head" not in reg.columns:
        return {}
    return {text(c): " ".join(text(h).split()) for c, h in zip(reg["code"], reg["head"]) if text(h).strip()}


def scored(ctx: ReportContext) -> list[str]:
    """Codes of the schools with a result (an accepted form), in code order."""
    sc = ctx.data["scores.csv"]
    codes = [text(c) for c, s in zip(sc["school_code"], sc["submitted"]) if bool(s)]
    return sorted(dict.fromkeys(codes))


def letter_title(ctx: ReportContext) -> str:
    return (f"О результатах мониторинга эффективности деятельности школьной методической службы в "
            f"{ctx.params.academic_year} учебном году")


def deadline(ctx: ReportContext, priority: str) -> str:
    """The deadline of a recommendation of that priority (params documents.deadlines), else the
    date by which the school reports back."""
    d = ctx.params.documents
    day = d.deadlines.get(priority) or d.report_back_by
    return f"до {base.fmt_doc_date(day)}" if day else "—"


def _results(doc: Any, ctx: ReportContext, v: Any) -> None:
    m = ctx.methodology
    rows: list[list[str]] = []
    if m.has_total:
        rows.append(["Итоговый балл", f"{v.total}"])
        rows.append(["Уровень", v.level + (f" ({v.zone} зона)" if getattr(v, "zone", "") and v.total != v.small_label else "")])
        place = (f"{v.rank} из {v.cluster_size}" if v.cluster_size else str(v.rank))
        rows.append([f"Место в кластере «{v.cluster}»", place])
        if v.prev_total not in ("", "—"):   # a total of last year to compare with
            rows.append([f"Итоговый балл {ctx.params.year - 1} года", f"{v.prev_total} (изменение {v.delta or '0'})"])
    if m.has_checklist:
        rows.append(["Самооценка (засчитано баллов)", f"{v.checklist} ({v.checklist_pct})"])
    if m.index_shares:
        rows.append(["Индекс активности педагогов", f"{v.activity}"])
    if rows:
        base.heading(doc, "Результаты", 2)
        base.add_table(doc, ["Показатель", "Значение"], rows, widths=[6, 8])
        if m.has_total and v.total == v.small_label:
            base.para(doc, f"Итоговый балл, уровень и место не приводятся: они рассчитаны по группе менее "
                           f"{ctx.n_small} педагогов ({v.small_label}).", italic=True, size=base.TABLE_PT)
        elif m.has_total:
            base.para(doc, "Место указано среди ОО кластера с опубликованными результатами; при равенстве баллов ОО "
                           "делят место.", italic=True, size=base.TABLE_PT)


def _criteria(doc: Any, v: Any) -> None:
    if not v.criteria:
        return
    base.heading(doc, "Выполнение критериев", 2)
    rows = [[c.code, c.name, c.points, c.pct_text, c.mean_text, c.zone or "—"] for c in v.criteria]
    shades = {(i, 5): ZONE_SHADE[c.zone_class] for i, c in enumerate(v.criteria) if c.zone_class in ZONE_SHADE}
    base.add_table(doc, ["Код", "Критерий", "Баллы", "Выполнение", "Среднее по кластеру", "Зона"], rows,
                   shades=shades, num_cols=(2, 3, 4), size=base.TABLE_PT)


def _deficits(doc: Any, v: Any) -> None:
    rows = [[p.code, p.short, p.claimed, f"{p.points} из {p.max}",
             "не подтверждено документом" if p.unconfirmed else ("0 баллов" if p.state == "zero" else "частично")]
            for p in v.positions if p.state != "full"]
    targets = [[t.code, t.name, t.value, t.goal, t.status_label] for t in v.targets if t.status == "not_met"]
    if not rows and not targets:
        return
    base.heading(doc, "Выявленные дефициты", 2)
    if rows:
        base.add_table(doc, ["Позиция", "Содержание", "Заявлено", "Засчитано", "Причина"], rows,
                       num_cols=(2,), size=base.TABLE_PT)
    if targets:
        base.add_table(doc, ["Код", "Целевой показатель", "Значение", "Цель", "Итог"], targets,
                       size=base.TABLE_PT)


def _recommendations(doc: Any, ctx: ReportContext, v: Any) -> None:
    base.heading(doc, "Адресные рекомендации", 2)
    if not v.recommendations:
        base.para(doc, "Адресных рекомендаций нет: все позиции и целевые показатели выполнены." if v.has_sources else
                  "Адресные рекомендации формируются по позициям самооценки и целевым показателям; в методике года "
                  "их нет.")
        return
    rows = [[str(i), f"{r.code} {r.name}", r.text, r.priority, deadline(ctx, r.priority)]
            for i, r in enumerate(v.recommendations, start=1)]
    shades = {(i, 3): base.SHADES["red" if r.priority == "высокий" else "yellow"] for i, r in enumerate(v.recommendations)}
    base.add_table(doc, ["№", "Показатель", "Рекомендация", "Приоритет", "Срок"], rows,
                   shades=shades, size=base.TABLE_PT)


def _followup(doc: Any, ctx: ReportContext, v: Any) -> None:
    base.heading(doc, f"Выполнение рекомендаций {ctx.params.year - 1} года", 2)
    if not v.followup:
        base.para(doc, v.followup_note or f"Рекомендаций {ctx.params.year - 1} года у ОО не было.")
        return
    counts = pd.Series([f.status for f in v.followup]).value_counts()
    base.para(doc, "Итог: " + "; ".join(f"{s} — {n}" for s, n in counts.items()) + ".")
    shade = {"fixed": base.SHADES["green"], "better": base.SHADES["green"], "worse": base.SHADES["red"]}
    rows = [[f.code, f.name, f.status] for f in v.followup]
    shades = {(i, 2): shade[f.status_class] for i, f in enumerate(v.followup) if f.status_class in shade}
    base.add_table(doc, ["Код", "Показатель", "Что стало с рекомендацией"], rows,
                   shades=shades, size=base.TABLE_PT)


def _measures(doc: Any, v: Any) -> None:
    if not v.decisions:
        return
    base.heading(doc, "Меры муниципального уровня с участием ОО", 2)
    base.add_table(doc, ["Мера", "Тема или основание", "Ответственные", "Срок"],
                   [[d.kind, d.topic, d.responsible, d.due] for d in v.decisions],
                   size=base.TABLE_PT)


def build(ctx: ReportContext, code: str, head: str, doc: base.Body, v: Any = None) -> base.Body:
    """The letter to one school, written into doc (a Body of the letters' Skeleton); v: its
    school_page_data when already at hand."""
    p, d = ctx.params, ctx.params.documents
    v = school_page_data(ctx, code) if v is None else v
    base.organisation(doc, p)
    if d.place:
        base.para(doc, d.place, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    base.para(doc, f"от {base.BLANK_DATE} № {base.BLANK_NUMBER}", align=WD_ALIGN_PARAGRAPH.LEFT, indent=False,
              before=6)
    for line in (f"Руководителю {v.name}", head):
        if line:
            base.para(doc, line, align=WD_ALIGN_PARAGRAPH.LEFT, indent=False, left=Cm(9.5))
    base.para(doc, letter_title(ctx), italic=True, align=WD_ALIGN_PARAGRAPH.LEFT, indent=False, before=12, after=12)
    base.para(doc, "Уважаемый руководитель!", align=WD_ALIGN_PARAGRAPH.CENTER, indent=False, after=6)
    order = f"приказ {base.number_text(p.header.order_number)} от {base.fmt_doc_date(p.header.order_date)}"
    base.para(doc, f"Управление образования направляет результаты мониторинга эффективности деятельности школьной "
                   f"методической службы {v.name} (код {code}) в {p.academic_year} учебном году и адресные "
                   f"рекомендации по итогам мониторинга ({order}).")
    _results(doc, ctx, v)
    _criteria(doc, v)
    _deficits(doc, v)
    _recommendations(doc, ctx, v)
    _followup(doc, ctx, v)
    _measures(doc, v)
    back = f"в срок до {base.fmt_doc_date(d.report_back_by)}" if d.report_back_by else "в установленный срок"
    base.para(doc, "Просим рассмотреть рекомендации на заседании методического совета, внести изменения в план "
                   f"методической работы на {p.year}-{p.year + 1} учебный год и {back} представить в управление "
                   "образования информацию о выполнении рекомендаций.", before=12, keep=True)
    base.signature(doc, p)
    base.executor_mark(doc, p)
    return doc


def letter_name(code: str) -> str:
    """The letter's file name: the school's code made safe, as its page is named."""
    return Path(school_page(code)).stem + ".docx"


PARALLEL_FROM = 200   # letters: from this many, written by forked processes on every core


CACHE = "letters"     # processed_dir/.cache/letters.json (report/reuse.py)


def letters_key(ctx: ReportContext) -> str:
    """What every letter of the year depends on besides its school's own figures and head:
    the code (python-docx included), the year's parameters and methodology."""
    return reuse.digest(reuse.code_key("python-docx", "lxml"), repr(ctx.params), ctx.methodology.sha256 or "-",
                        repr(ctx.methodology), str(ctx.n_small), letter_title(ctx))


def _write_chunk(codes: list[str]) -> list[tuple[str, dict[str, Any] | None]]:
    """In a worker (or here): the letters of these schools written into the letters' folder,
    each taken from the last run when its inputs are the same; (name, the cache's entry of the
    letter made, or None when taken)."""
    ctx, folder, names, skeleton, cache, common = parallel.shared()
    out = []
    for code in codes:
        name, head = letter_name(code), names.get(code, "")
        v = school_page_data(ctx, code)
        key = reuse.digest(common, code, head, repr(v))
        if cache.take(f"{FOLDER_REL}/{name}", key, folder / name):
            out.append((name, None))
            continue
        data = skeleton.bytes(build(ctx, code, head, skeleton.body(), v))
        write_bytes_atomic(folder / name, data, durable=False)
        out.append((name, reuse.entry(key, data)))
    return out


def write(ctx: ReportContext, out_dir: Path, reuse_last: bool = True) -> list[Path]:
    """letters/<code>.docx for every scored school (letters of other schools removed) and
    letters.zip of them (sorted names, fixed dates: the same letters give the same bytes).
    Many letters are written by forked processes, a chunk of schools each. reuse_last: a
    letter whose inputs are those of the last run's is taken from the year's reports folder
    (processed_dir/.cache/letters.json); False makes every letter (and remembers nothing)."""
    folder = Path(out_dir) / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    codes = scored(ctx)
    wanted = {letter_name(c) for c in codes}
    for old in folder.glob("*.docx"):
        if old.name not in wanted:
            old.unlink()
    skeleton = base.Skeleton(ctx.params, letter_title(ctx))   # page, styles, page numbers: made once
    if codes:   # the tables every school's data is cut from (~5 s of CPU at 10,000 schools): made here, once,
        school_page_data(ctx, codes[0])   # not again in each forked worker
    cache = reuse.Outputs(ctx.params.processed_dir, ctx.params.reports_dir, CACHE, enabled=reuse_last)
    share = (ctx, folder, heads(ctx), skeleton, cache, letters_key(ctx))
    workers = parallel.cores() if len(codes) >= PARALLEL_FROM else 1
    size = max(1, -(-len(codes) // (workers * 4)))
    chunks = [codes[i:i + size] for i in range(0, len(codes), size)]
    done = sorted(n for made in parallel.fork_imap(_write_chunk, chunks, workers, share) for n in made)
    for name, made in done:
        cache.record(f"{FOLDER_REL}/{name}", made)
    paths = [folder / name for name, _ in done]
    # stored, not deflated again: a letter is compressed already; the same letters, the same bytes
    archive = base.FixedZip(base.stamp_of(ctx.params))
    data = archive.write([archive.entry(path.name, path.read_bytes(), deflate=False) for path in paths])
    paths.append(write_bytes_atomic(Path(out_dir) / ARCHIVE, data, durable=False))
    cache.save()
    return paths
