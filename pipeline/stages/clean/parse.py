"""Reading one value of a form: a count, a score, a да/нет, a school type — each parser returns
(value, problem), the problem a rule code of pipeline/core/rules.py or None."""

from __future__ import annotations

import functools
import re

from ...config.methodology import Methodology
from ...form.fields import NO_WORDS, YES_WORDS
from ...form.text import norm_text
from .issues import Cell

PLACEHOLDER_DOCS = {"-", "—", "–", "нет", "отсутствует", "н/д", "нет документа", "0"}


_INT_TEXT = re.compile(r"[+]?\d+(?:[.,]0+)?")


# The largest count of people a form may hold: far above any school, far below what the
# nullable 64-bit integer columns of the processed tables can hold.
MAX_COUNT = 1_000_000


def parse_count(v: Cell) -> tuple[int | None, str | None]:
    """An integer ≥ 0 and ≤ MAX_COUNT. Text holding a whole number is used, with «value.number_as_text»."""
    if v.empty:
        return None, "missing"
    text = v.value.strip().replace("\u00a0", "").replace(" ", "")
    if v.value_type == "number":
        try:
            x = float(text)
        except ValueError:
            return None, "value.not_a_number"
        if x != x or x in (float("inf"), float("-inf")):
            return None, "value.not_a_number"
        if not x.is_integer():
            return None, "value.not_integer"
        if x < 0:
            return None, "value.negative"
        if x > MAX_COUNT:
            return None, "value.too_large"
        return int(x), None
    if v.value_type == "text":
        if _INT_TEXT.fullmatch(text):
            x = float(text.replace(",", "."))
            if x > MAX_COUNT:
                return None, "value.too_large"
            return int(x), "value.number_as_text"
        if re.fullmatch(r"-\d+(?:[.,]\d+)?", text):
            return None, "value.negative"
        if re.fullmatch(r"\d+[.,]\d+", text):
            return None, "value.not_integer"
    return None, "value.not_a_number"


def score_words(methodology: Methodology) -> dict[str, str]:
    """The methodology's words for a score, compared as norm_text: word → full | partial | zero."""
    w = methodology.score_words
    return {norm_text(x): kind for kind, words in (("full", w.full), ("partial", w.partial), ("zero", w.zero)) for x in words}


def parse_score(v: Cell, scale: list[int], words: dict[str, str]) -> tuple[int | None, str | None]:
    """A score on the position's scale; the methodology's words (score_words) for the top of the
    scale, a part of it (1, where the scale goes higher) and 0."""
    top = max(scale)
    if v.empty:
        return None, "checklist.score_missing"
    text = norm_text(v.value)
    if v.value_type == "bool":
        return (top if v.value == "true" else 0), "checklist.score_as_word"
    word = words.get(text)
    if word is not None:
        if word == "full":
            return top, "checklist.score_as_word"
        if word == "zero":
            return 0, "checklist.score_as_word"
        if 1 in scale and top > 1:
            return 1, "checklist.score_as_word"
        return None, "checklist.score_invalid"
    note = None
    if v.value_type == "text":
        if not re.fullmatch(r"[+-]?\d+(?:[.,]\d+)?", text):
            return None, "checklist.score_invalid"
        note = "value.number_as_text"
    try:
        x = float(text.replace(",", "."))
    except ValueError:
        return None, "checklist.score_invalid"
    if not x.is_integer() or int(x) not in scale:
        return None, "checklist.score_out_of_range"
    return int(x), note


def parse_yesno(v: Cell) -> bool | None:
    if v.value_type == "bool":
        return v.value == "true"
    return _yesno_word(v.value)


@functools.lru_cache(maxsize=1 << 12)
def _yesno_word(text: str) -> bool | None:
    t = norm_text(text).rstrip(".")
    if t in YES_WORDS:
        return True
    if t in NO_WORDS:
        return False
    return None


def parse_type(text: str, types: tuple[str, ...], aliases: tuple[tuple[str, str], ...]) -> str | None:
    """A school type of the methodology's list (or one of its full names: «средняя
    общеобразовательная школа» → СОШ); None when it is neither."""
    return _parse_type(text, types, aliases)


@functools.lru_cache(maxsize=1 << 12)
def _parse_type(text: str, types: tuple[str, ...], aliases: tuple[tuple[str, str], ...]) -> str | None:
    t = norm_text(text)
    for s in types:
        if t == norm_text(s):
            return s
    return dict((norm_text(a), k) for a, k in aliases).get(t)


def _same_name(a: str, b: str) -> bool:
    return _name_key(a) == _name_key(b)


@functools.lru_cache(maxsize=1 << 14)
def _name_key(s: str) -> str:
    return re.sub(r"[\s«»\"'„“”]", "", norm_text(s))


def number_problem_text(problem: str, v: Cell) -> str:
    return {
        "value.not_a_number": f"вместо числа записано «{v.value}»",
        "value.not_integer": f"число {v.value} не целое",
        "value.negative": f"число {v.value} отрицательное",
        "value.too_large": f"число {v.value} слишком большое (допускается не больше {MAX_COUNT:,})".replace(",", "\u00a0"),
    }[problem]
