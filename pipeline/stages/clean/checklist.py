"""«Показатели»: each position's score, document and link, with the evidence rule (a score
above 0 without a supporting document counts 0, «не подтверждено») and the link rule."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ...config.methodology import Methodology
from ...core.contract import columns
from ...fast.links import link_ok
from ...form.fields import CHECKLIST_PARTS, SHEET_CHECKLIST, layout
from ...form.text import norm_text
from .issues import Cell, Issues, missing_row
from .parse import PLACEHOLDER_DOCS, parse_count, parse_score, score_words

CHECKLIST_COLUMNS = list(columns("clean", "checklist.csv")) + ["has_document", "document_cell", "link_cell"]

# why an http(s) address is still not a link (pipeline/core/links.py)
_PLAIN_LINK_NEEDED = ("нужен простой адрес: без пробелов, без имени и пароля перед «@», имя сайта латиницей "
                      "или целиком русскими буквами, как «школа.рф»")


_PLACEHOLDER_MAX = max(len(d) for d in PLACEHOLDER_DOCS)


class Context:
    """What every school needs, worked out once per run: the positions' field names and scale
    texts, and the answers to the questions ten thousand forms keep asking again (a count's or
    a score's value, whether a document is a placeholder, whether a link is an address)."""

    def __init__(self, methodology: Methodology) -> None:
        self.methodology = methodology
        self.known = {p.code for p in methodology.positions}
        self.positions = [(p, f"checklist.{p.code}.score", f"checklist.{p.code}.document", f"checklist.{p.code}.link",
                           "/".join(str(s) for s in sorted(p.scale, reverse=True)), tuple(p.scale))
                          for p in methodology.positions]
        # the fields of a form that holds only what the year's form asks: nothing else to look at
        form = layout(methodology)
        self.words = score_words(methodology)
        self.expected = ({f"info.{f.key}" for f in form.info} | {f"staff.{c}" for c in form.staff_codes}
                         | {f"checklist.{p.code}.{part}" for p in methodology.positions for part in CHECKLIST_PARTS})
        self.counts: dict[tuple[str, str], tuple[int | None, str | None]] = {}
        self.scores: dict[tuple[str, str, tuple[int, ...]], tuple[int | None, str | None]] = {}
        self.placeholders: dict[str, bool] = {}
        self.links: dict[str, bool] = {}

    def count(self, v: Cell) -> tuple[int | None, str | None]:
        key = (v.value, v.value_type)
        got = self.counts.get(key)
        if got is None:
            got = self.counts[key] = parse_count(v)
        return got

    def score(self, v: Cell, scale: tuple[int, ...]) -> tuple[int | None, str | None]:
        key = (v.value, v.value_type, scale)
        got = self.scores.get(key)
        if got is None:
            got = self.scores[key] = parse_score(v, list(scale), self.words)
        return got

    def placeholder(self, doc: str) -> bool:
        got = self.placeholders.get(doc)
        if got is None:
            # norm_text keeps every character that is not a space, «:» or «*» (lower case is
            # never shorter): a text with more of them than the longest placeholder is none
            if len("".join(doc.split())) - doc.count(":") - doc.count("*") > _PLACEHOLDER_MAX:
                got = False
            else:
                got = norm_text(doc) in PLACEHOLDER_DOCS
            self.placeholders[doc] = got
        return got

    def link_ok(self, link: str) -> bool:
        got = self.links.get(link)
        if got is None:
            got = self.links[link] = link_ok(link)
        return got


def checklist_rows(code: str, file: str, cells: dict[str, Cell], methodology: Methodology, issues: Issues,
               context: Context | None = None) -> list[tuple[Any, ...]]:
    """One school's rows of checklist.csv (tuples in CHECKLIST_COLUMNS order)."""
    context = context or Context(methodology)
    rows = []
    known = context.known
    scores, placeholders, links = context.scores, context.placeholders, context.links
    extra = cells.keys() - context.expected
    for name, v in cells.items() if extra else ():
        if name in extra and name.startswith("checklist.") and name.endswith(".score"):
            pos = name[len("checklist."):-len(".score")]
            if pos not in known and not v.empty:
                issues.at(v, code, "checklist.unknown_position", "warning",
                          f"Строка с кодом «{pos}» не относится к позициям методики {methodology.version}. "
                          "Проверьте код позиции.", "строка не учитывается")
    for p, score_field, document_field, link_field, scale_text, scale in context.positions:
        sv = cells.get(score_field)
        dv = cells.get(document_field)
        lv = cells.get(link_field)
        score = problem = None
        if sv is None:
            missing_row(code, file, SHEET_CHECKLIST, score_field, f"{p.code} {p.short}", issues,
                     "checklist.missing", "error", "позиция не засчитана (0 баллов)")
        else:
            got = scores.get((sv.value, sv.value_type, scale))
            score, problem = got if got is not None else context.score(sv, scale)
        if problem is None:
            pass
        elif problem == "checklist.score_missing":
                issues.at(sv, code, problem, "error", f"Позиция {p.code}: балл не указан. Выберите балл ({scale_text}).",
                          "позиция не засчитана (0 баллов)")
        elif problem == "checklist.score_as_word":
            issues.at(sv, code, problem, "warning",
                      f"Позиция {p.code}: балл записан словом («{sv.value}»), засчитано {score}. Выберите балл из списка ({scale_text}).",
                      f"слово переведено в балл {score}")
        elif problem == "value.number_as_text":
            issues.at(sv, code, problem, "warning", f"Позиция {p.code}: балл записан как текст ({sv.value}). Выберите балл из списка.",
                      "значение использовано")
        elif problem in ("checklist.score_out_of_range", "checklist.score_invalid"):
            issues.at(sv, code, problem, "error",
                      f"Позиция {p.code}: «{sv.value}» — не балл шкалы {scale_text}. Выберите балл из списка.",
                      "балл не засчитан (0 баллов)")
        # (an empty cell's value is blank or holds only spaces: stripped, it is "" as well)
        doc_raw = dv.value.strip() if dv is not None and dv.value_type != "empty" else ""
        placeholder = placeholders.get(doc_raw)
        if placeholder is None:
            placeholder = context.placeholder(doc_raw)
        document = "" if placeholder else doc_raw
        if score is not None and score > 0 and not document and p.evidence_required:
            target = dv or sv
            extra = f" (записано «{doc_raw}»)" if placeholder else ""
            issues.add(code, file, target.sheet, target.cell, document_field, doc_raw, "checklist.unconfirmed", "warning",
                       f"Позиция {p.code}: балл {score} не подтверждён — не указан подтверждающий документ{extra}. "
                       "Укажите название и реквизиты документа.",
                       "не подтверждено: балл не засчитан (0 баллов)")
        link = lv.value.strip() if lv is not None and lv.value_type != "empty" else ""
        ok = links.get(link)
        if ok is None:
            ok = context.link_ok(link)
        if link and not ok:
            need = (_PLAIN_LINK_NEEDED if link[:8].lower().startswith(("http://", "https://"))
                    else "нужен адрес, начинающийся с http:// или https://")
            issues.at(lv, code, "checklist.bad_link", "warning",
                      f"Позиция {p.code}: ссылка «{link}» — не адрес сайта ({need}). "
                      "Укажите адрес страницы на сайте ОО.",
                      "ссылка не выводится в отчёте как ссылка")
        rows.append((code, p.code, pd.NA if score is None else score, sv.value if sv is not None else "", document, link, ok,
                     file, sv.cell if sv is not None else "", bool(document), dv.cell if dv is not None else "",
                     lv.cell if lv is not None else ""))
    return rows
