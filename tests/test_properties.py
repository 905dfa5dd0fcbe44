"""Property-based fuzzing of the school form (hypothesis): any workbook a school could make out
of the year's form — every kind of value in every answer cell, rows in any order, blank rows,
deleted rows and sheets, labels and codes in any case and spacing — goes through ingest →
clean → score (as functions, with the CSV round trip between stages) without an exception,
every file ends up accepted, superseded or listed as rejected, and every score stays in its
bounds."""

from __future__ import annotations

import datetime as dt
import math
import shutil

import pandas as pd
import pytest

import formbuilder
from conftest import ROOT, write_params
from formbuilder import REGISTRY, xlsx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import corpus

from pipeline.core.contract import FILE_STATUSES
from pipeline.core.rules import SEVERITIES
from pipeline.config.methodology import load_methodology
from pipeline.config.params import load_params
from pipeline.form import fields as form_fields

METHODOLOGY = load_methodology(ROOT / "methodology" / "default.yaml")
CODES = ("0107", "0108", "0201")

# --------------------------------------------------------------------------------------------
# values of every type
# --------------------------------------------------------------------------------------------

# Text a workbook can hold (openpyxl refuses control characters and lone surrogates; those are
# fed through the package XML in test_corpus and test_hostile).
TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("\n\t "), max_size=40)
WORDS = st.sampled_from(["да", "нет", "Да ", "НЕТ", "есть", "частично", "отсутствует", "+", "-", "—", "yes",
                         " 2 ", "1,0", "2.0", "-1", "1e5", "NaN", "inf", "=1+1", "=A1/0", "@SUM(1)", "0107", "107",
                         "10.04.2026", "2026-04-10", "https://school.example.ru/doc.pdf", "javascript:alert(1)",
                         "<b>жирный</b>", "", "   "])
ANY = st.one_of(
    st.none(),
    st.integers(-10 ** 20, 10 ** 20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(dt.date(1900, 3, 1), dt.date(2100, 12, 31)),
    st.datetimes(dt.datetime(1900, 3, 1), dt.datetime(2100, 12, 31)),
    st.times(),
    TEXT,
    WORDS,
)


def one_in(n: int):
    """True with probability about 1/n."""
    return st.sampled_from([False] * (n - 1) + [True])


def mostly(plausible, n: int = 5):
    """A plausible value, and anything at all one time in n: the fields that decide whether a
    form counts must often be right, or the scores would hardly ever be exercised."""
    return st.tuples(one_in(n), plausible, ANY).map(lambda t: t[2] if t[0] else t[1])


COUNT = st.one_of(st.integers(0, 60), st.integers(0, 60).map(str), ANY)
SCORE = st.one_of(st.sampled_from([0, 1, 2]), st.sampled_from(["0", "1", "2", "есть", "частично", "нет"]), ANY)
DOCUMENT = st.one_of(st.none(), st.just("Приказ № 12 от 01.09.2025"), st.sampled_from(["-", "нет", "0"]), ANY)
LINK = st.one_of(st.none(), st.just("https://school.example.ru/metod.pdf"), ANY)
INFO_VALUES = {
    "school_code": mostly(st.sampled_from([*CODES, *CODES, 107, 201.0, " 01 07 ", "О1О7", "0999"])),
    "school_name": st.one_of(st.just("МБОУ СОШ № 7"), ANY),
    "school_type": st.one_of(st.sampled_from([*formbuilder.SCHOOL_TYPES, "сош", "школа"]), ANY),
    "academic_year": mostly(st.sampled_from(["2025-2026"] * 4 + ["2025/2026", "2025 – 26", "2024-2025"])),
    "pupils": COUNT,
    "innovation_site": st.one_of(st.sampled_from(["да", "нет"]), ANY),
    "low_results": st.one_of(st.sampled_from(["да", "нет"]), ANY),
    "low_results_support": st.one_of(st.sampled_from(["да", "нет"]), ANY),
    "staffing_monitoring": st.one_of(st.sampled_from(["да", "нет"]), ANY),
    "responsible": st.one_of(st.just("Иванова М. П."), ANY),
    "filled_date": st.one_of(st.dates(dt.date(2025, 9, 1), dt.date(2026, 6, 30)), st.just("10.04.2026"), ANY),
}


def _spelling(draw, label: str) -> str:
    """The label as a school might retype it: case, spaces, a colon, «е» for «ё»."""
    how = draw(st.sampled_from(["as is", "upper", "lower", "spaces", "colon", "yo"]))
    return {"as is": label, "upper": label.upper(), "lower": label.lower(), "spaces": f"  {label.replace(' ', '  ')} ",
            "colon": label + ":", "yo": label.replace("ё", "е")}[how]


def _arrange(draw, rows: list[list]) -> list[list]:
    """Rows in any order, some deleted, blank rows anywhere."""
    rows = [r for r in rows if not draw(one_in(10))]  # each row deleted with probability 1/10
    rows = draw(st.permutations(rows)) if draw(st.booleans()) else rows
    out: list[list] = []
    for r in rows:
        out += [[]] * (draw(st.integers(1, 3)) if draw(one_in(5)) else 0)
        out.append(r)
    return out


@st.composite
def school_form(draw) -> dict[str, list[list]]:
    """One workbook: sheet name → rows (from A1), in the form's layout but messed up."""
    info = [[_spelling(draw, f.label), draw(INFO_VALUES[f.key])] for f in formbuilder.INFO_FIELDS]
    staff = [[draw(st.sampled_from([c, c.lower(), c.replace("P", "Р"), f" {c} "])), formbuilder.STAFF_LABELS[c], draw(COUNT)]
             for c in formbuilder.STAFF_CODES]
    checklist = [[p.code, p.short, draw(SCORE), draw(DOCUMENT), draw(LINK)] for p in METHODOLOGY.positions]
    head = [] if draw(one_in(5)) else [[_spelling(draw, h) for h in form_fields.CHECKLIST_COLUMNS.values()]]
    sheets = {
        form_fields.SHEET_INFO: [["Форма самооценки"], [], []] + _arrange(draw, info),
        form_fields.SHEET_STAFF: [["Кадры"], [], []] + _arrange(draw, staff),
        form_fields.SHEET_CHECKLIST: [["Самооценка"], []] + head + _arrange(draw, checklist),
    }
    out = {}
    for name, rows in sheets.items():
        if not draw(one_in(20)):  # each sheet deleted with probability 1/20
            out[_spelling(draw, name)[:31].strip(" :") or name] = rows
    if draw(one_in(10)):
        out["Лист1"] = [[draw(ANY)]]
    return out or {"Лист1": []}


def workbook(sheets: dict[str, list[list]]) -> bytes:
    """The workbook as a school's Excel would save it (text starting with «=» becomes a formula
    without a cached value, as openpyxl writes it)."""
    return xlsx(sheets)


# --------------------------------------------------------------------------------------------
# the property
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def year(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz")
    raw = root / "raw"
    raw.mkdir()
    return load_params(write_params(root, raw_dir=raw)), raw


def _number(v) -> float | None:
    x = pd.to_numeric(pd.Series([v]), errors="coerce").iloc[0]
    return None if pd.isna(x) else float(x)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large,
                                 HealthCheck.large_base_example])
@given(st.lists(school_form(), min_size=1, max_size=3))
def test_any_form_is_accepted_or_rejected_and_scores_stay_in_bounds(year, sheets_list):
    params, raw = year
    shutil.rmtree(raw)
    shutil.rmtree(params.processed_dir, ignore_errors=True)
    raw.mkdir()
    (raw / "registry.csv").write_text(REGISTRY, encoding="utf-8")
    names = []
    for i, sheets in enumerate(sheets_list):
        names.append(f"форма_{i}.xlsx")
        (raw / names[-1]).write_bytes(workbook(sheets))

    tables = corpus.run_stages(params, METHODOLOGY)  # no exception escapes

    files = tables["files.csv"]
    assert sorted(files["file"]) == sorted(names + ["registry.csv"])
    assert set(files["status"]) <= set(FILE_STATUSES)
    for rec in files[files["file"] != "registry.csv"].itertuples():
        assert rec.status in ("accepted", "rejected", "superseded")
        if rec.status != "accepted":
            assert rec.rule and rec.reason, rec
    issues = tables["issues.csv"]
    assert set(issues["severity"]) <= set(SEVERITIES) and issues["rule"].notna().all() and issues["message"].notna().all()
    for rec in files[files["status"].isin(["rejected", "superseded"])].itertuples():
        assert (issues["file"] == rec.file).any(), rec.file  # every rejection is also an issue

    scores = tables["scores.csv"]
    assert sorted(scores["school_code"]) == list(CODES)
    submitted = scores["submitted"].astype(str).str.lower() == "true"
    assert submitted.sum() == (files["status"] == "accepted").sum()
    for rec in scores.itertuples():
        values = {c: _number(getattr(rec, c)) for c in ("checklist_pct", "activity_index", "total_score", "rank_in_cluster")}
        if not submitted[rec.Index]:
            assert all(v is None for v in values.values()) and rec.level == "нет данных"
            continue
        assert 0 <= values["checklist_pct"] <= 100
        assert 0 <= rec.checklist_points <= rec.checklist_max == METHODOLOGY.max_points
        for key in ("activity_index", "total_score"):
            assert values[key] is None or 0 <= values[key] <= 100 + 1e-9, (key, values[key])
        assert values["rank_in_cluster"] is None or values["rank_in_cluster"] >= 1
        for s in METHODOLOGY.shares:
            share = _number(getattr(rec, s.code))
            assert share is None or (0 <= share <= 100 and not math.isinf(share)), (s.code, share)
    criteria = tables["criteria.csv"]
    assert ((criteria["points"] >= 0) & (criteria["points"] <= criteria["max_points"])).all()
