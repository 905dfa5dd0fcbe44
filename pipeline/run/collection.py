"""`python -m pipeline status`: the collection state of a year's forms, in seconds.

The ingest and clean stages' own functions are run in-process on the raw folder (no
notebooks; processed/ and the year's report pages are not touched: a form whose name and bytes
the last run's cache of forms read holds, processed/.cache/forms.json, is taken from it and
not read again), and their tables become,
in `<reports_dir>/collection/`:

    status.csv / status.xlsx  one row per registry school (and per other file a school sent,
                              or a file of no registry school): state, problems, file, date, late
    reminders.csv             school, e-mail, what is missing: for a mail merge

(Like every CSV file the pipeline writes, status.csv and reminders.csv carry a text that starts
with =, +, -, @, a tab, a CR or ' with one more leading apostrophe: pipeline/core/csvtext.py;
status.xlsx holds every text as text.)
    feedback/<code>.txt       for each school with problems, a letter listing every problem
                              with sheet, cell, what was found and what to enter

The folder names e-mails: it is never published (`report.site.publishable_files` lists only
the pages) and is not a stage output (the manifest and `verify` do not see it).
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font

from ..config.methodology import load_methodology
from ..config.params import YearParams
from ..core.contract import COLLECTION_STATES as WORDS
from ..core.contract import NOT_FORM_STATUSES
from ..core.russian import fmt_date, fmt_day
from ..core.rules import fix_of, rule_name
from ..io.storage import to_csv_bytes, write_bytes_atomic
from ..report.excel import set_cell
from ..stages import clean, ingest

STATUS_COLUMNS = ("school_code", "school_name", "state", "status", "problems", "file", "filled_date", "late", "reason")
REMINDER_COLUMNS = ("school_code", "school_name", "email", "status", "missing")
_SKIPPED_RULES = ("file.lock", "file.hidden")


@dataclass
class Collection:
    """What `status` writes: the status table, the reminder list and the letters by code."""

    status: pd.DataFrame
    reminders: pd.DataFrame
    letters: dict[str, str] = field(default_factory=dict)


def _late(filled: str, deadline: dt.date | None) -> str:
    if deadline is None or not filled:
        return ""
    return "да" if dt.date.fromisoformat(filled) > deadline else "нет"


def _file_row(code: str, name: str, f: pd.Series, problems: int, deadline: dt.date | None) -> dict[str, object]:
    state = {"accepted": "accepted_with_issues" if problems else "accepted"}.get(f["status"], f["status"])
    status = WORDS[state]
    if state == "accepted_with_issues":
        status += f" ({problems})"
    elif state == "rejected":
        status += f" ({f['reason']})"
    return {"school_code": code, "school_name": name, "state": state, "status": status,
            "problems": problems if state != "rejected" else 1, "file": f["file"], "filled_date": f["filled_date"],
            "late": _late(f["filled_date"], deadline), "reason": f["reason"] if state != "accepted" else ""}


def status_table(registry: pd.DataFrame, files: pd.DataFrame, issues: pd.DataFrame,
                 deadline: dt.date | None) -> pd.DataFrame:
    """status.csv: each registry school's form (or «не представлена»), then its other files,
    then files of no registry school (pure)."""
    forms = files[~files["status"].isin(NOT_FORM_STATUSES) & ~files["rule"].isin(_SKIPPED_RULES)]
    order = {"accepted": 0, "rejected": 1, "superseded": 2}
    rows: list[dict[str, object]] = []
    names = dict(zip(registry["code"], registry["name"]))
    problems = _problem_counts(issues)
    by_code: dict[str, list[dict]] = {}
    for f in forms.to_dict("records"):  # files.csv's order: each school's files grouped once
        by_code.setdefault(f["school_code"], []).append(f)
    for code, name in names.items():
        own = sorted(by_code.get(code, []), key=lambda f: (order.get(f["status"], len(order)), f["file"]))
        if not any(f["status"] == "accepted" for f in own):
            rows.append({"school_code": code, "school_name": name, "state": "missing", "status": WORDS["missing"],
                         "problems": 0, "file": "", "filled_date": "", "late": "", "reason": ""})
        for f in own:
            n = problems.get((code, f["file"]), 0) if f["status"] == "accepted" else 0
            rows.append(_file_row(code, name, f, n, deadline))
    for f in forms.to_dict("records"):
        if f["school_code"] not in names:
            rows.append(_file_row(f["school_code"], "", f, 0, deadline))
    return pd.DataFrame(rows, columns=list(STATUS_COLUMNS)).astype({"problems": "int64"})


def _problem_counts(issues: pd.DataFrame) -> dict[tuple[str, str], int]:
    """The number of issues of each (school code, file)."""
    counts: dict[tuple[str, str], int] = {}
    for key in zip(issues["school_code"].tolist(), issues["file"].tolist()):
        counts[key] = counts.get(key, 0) + 1
    return counts


def reminder_table(status: pd.DataFrame, registry: pd.DataFrame) -> pd.DataFrame:
    """reminders.csv: every registry school whose form is missing, rejected or has problems."""
    emails = dict(zip(registry["code"], registry["email"])) if "email" in registry.columns else {}
    registered = set(registry["code"])
    has_accepted = set(status.loc[status["state"].isin(("accepted", "accepted_with_issues")), "school_code"])
    rows = []
    for r in status.itertuples(index=False):
        if r.school_code not in registered or r.state in ("accepted", "superseded"):
            continue
        if r.state == "rejected" and r.school_code in has_accepted:
            continue
        missing = {"missing": "форма мониторинга не получена",
                   "rejected": f"форма «{r.file}» не принята: {r.reason}; пришлите исправленную форму",
                   "accepted_with_issues": f"в форме «{r.file}» замечаний: {r.problems}; см. письмо с замечаниями"}[r.state]
        rows.append({"school_code": r.school_code, "school_name": r.school_name, "email": emails.get(r.school_code, ""),
                     "status": r.status, "missing": missing})
    return pd.DataFrame(rows, columns=list(REMINDER_COLUMNS))


def _item(sheet: str, cell: str, value: str, rule: str, message: str) -> str:
    where = f"Лист «{sheet}», ячейка {cell}" if sheet and cell else (f"Лист «{sheet}»" if sheet else "Файл")
    found = f"; сейчас там: «{value}»" if value else ""
    fix = fix_of(rule)
    said = message.strip().removesuffix(fix).strip()  # the message without the fix it ends with
    return f"{where}: {rule_name(rule)}{found}.\n   {said}\n   Что сделать: {fix}"


def letter(params: YearParams, row: pd.Series, problems: list[tuple[str, str, str, str, str]]) -> str:
    """An e-mail-ready letter to one school: its form's state and every problem (plain Russian)."""
    lines = [f"Тема: мониторинг методических служб, {params.academic_year} учебный год — замечания к форме",
             "", "Уважаемые коллеги!", "",
             f"Форма мониторинга {row['school_name']} (код ОО {row['school_code']}), файл «{row['file']}»: "
             f"{row['status'].split(' (')[0]}."]
    deadline = params.collection.deadline
    if deadline is not None:
        lines.append(f"Срок представления форм — {fmt_date(deadline)}.")
    lines += ["", "Что нужно исправить:"]
    lines += [f"{i}. {_item(*p)}" for i, p in enumerate(problems, start=1)]
    lines += ["", "Пожалуйста, исправьте форму и пришлите её снова (в ответ на это письмо).", "",
              "С уважением,", params.header.organization, ""]
    return "\n".join(lines)


def letters(params: YearParams, status: pd.DataFrame, issues: pd.DataFrame, files: pd.DataFrame) -> dict[str, str]:
    """code → letter, for each registry school whose deciding form has problems."""
    out: dict[str, str] = {}
    accepted = set(status.loc[status["state"].isin(("accepted", "accepted_with_issues")), "school_code"])
    own: dict[tuple[str, str], list[tuple[str, str, str, str, str]]] = {}
    for r in issues[["school_code", "file", "sheet", "cell", "value", "rule", "message"]].itertuples(index=False):
        own.setdefault((r.school_code, r.file), []).append((r.sheet, r.cell, r.value, r.rule, r.message))
    first_row = {}
    for i, name in enumerate(files["file"].tolist()):
        first_row.setdefault(name, i)
    for row in status.to_dict("records"):
        code = row["school_code"]
        if row["school_name"] == "" or code in out or row["state"] not in ("accepted_with_issues", "rejected"):
            continue
        if row["state"] == "rejected" and code in accepted:
            continue
        if row["state"] == "rejected":
            f = files.iloc[first_row[row["file"]]]
            problems = [(f["sheet"], f["cell"], f["value"], f["rule"], f"Файл не принят: {f['reason']}.")]
        else:
            problems = own.get((code, row["file"]), [])
        out[code] = letter(params, row, problems)
    return out


def build(params: YearParams) -> Collection:
    """The year's collection state from its raw folder (ingest and clean in-process)."""
    methodology = load_methodology(params.methodology)
    raw = ingest.load_raw(params)
    registry = ingest.registry_of(raw)
    # the forms the last run read (processed/ is only read: a form sent since is read here)
    tables = ingest.run(raw, methodology, params, cache=ingest.form_cache(params, methodology))
    del raw
    issues = clean.run(tables["forms.csv"], tables["files.csv"], registry, methodology, params)["issues.csv"]
    files = tables["files.csv"].astype({c: "string" for c in ("status", "rule", "reason", "school_code", "filled_date")})
    files = files.fillna("")
    issues = issues.astype("string").fillna("")
    status = status_table(registry, files, issues, params.collection.deadline)
    return Collection(status, reminder_table(status, registry), letters(params, status, issues, files))


def status_xlsx(status: pd.DataFrame) -> bytes:
    """status.xlsx: the status table with Russian headings, every text written as text (a
    school name or file name «=1+1» is never a formula: report.excel.set_cell)."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Сбор форм"
    bold = Font(bold=True)
    for j, name in enumerate(status.columns, 1):
        set_cell(ws.cell(row=1, column=j), _RUSSIAN.get(name, name))
        ws.cell(row=1, column=j).font = bold
    kinds = ["int" if name == "problems" else "text" for name in status.columns]
    for i, row in enumerate(status.itertuples(index=False), 2):
        for j, (value, kind) in enumerate(zip(row, kinds), 1):
            set_cell(ws.cell(row=i, column=j), value, kind)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def collection_dir(params: YearParams) -> Path:
    return Path(params.reports_dir) / "collection"


def write(collection: Collection, folder: Path) -> list[Path]:
    """status.csv, status.xlsx, reminders.csv and feedback/<code>.txt (old letters removed)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = [write_bytes_atomic(folder / "status.csv", to_csv_bytes(collection.status)),
               write_bytes_atomic(folder / "reminders.csv", to_csv_bytes(collection.reminders))]
    written.append(write_bytes_atomic(folder / "status.xlsx", status_xlsx(collection.status)))
    feedback = folder / "feedback"
    feedback.mkdir(exist_ok=True)
    for old in feedback.glob("*.txt"):
        if old.stem not in collection.letters:
            old.unlink()
    for code, text in sorted(collection.letters.items()):
        path, data = feedback / f"{code}.txt", text.encode("utf-8")
        if not _holds(path, data):  # a letter unchanged since the last status is not written again
            write_bytes_atomic(path, data)
        written.append(path)
    return written


def _holds(path: Path, data: bytes) -> bool:
    """Whether path is a regular file (not a link) holding exactly data."""
    try:
        if not path.is_file() or path.is_symlink() or path.stat().st_size != len(data):
            return False
        return path.read_bytes() == data
    except OSError:
        return False


_RUSSIAN = {"school_code": "Код ОО", "school_name": "Наименование ОО", "state": "Код состояния", "status": "Состояние",
            "problems": "Замечаний", "file": "Файл", "filled_date": "Дата заполнения", "late": "После срока",
            "reason": "Причина"}


def table_text(status: pd.DataFrame, deadline: dt.date | None) -> str:
    """The status as a plain text table for the terminal."""
    head = ("Код ОО", "Состояние", "Файл", "Дата", "После срока")
    rows = [(r.school_code, r.status if len(r.status) <= 60 else r.status[:57] + "…", r.file,
             fmt_day(dt.date.fromisoformat(r.filled_date)) if r.filled_date else "", r.late)
            for r in status.itertuples(index=False)]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    lines = ["  ".join(str(x).ljust(w) for x, w in zip(line, widths)).rstrip() for line in (head, *rows)]
    counts = status[status["school_name"] != ""].drop_duplicates("school_code")["state"].value_counts()
    summary = ", ".join(f"{WORDS[s]} — {int(counts.get(s, 0))}" for s in WORDS if counts.get(s, 0))
    tail = f"Срок сбора: {fmt_date(deadline)}." if deadline else "Срок сбора не задан (collection.deadline)."
    return "\n".join([*lines, "", f"Школы реестра: {summary}. {tail}"])


def main(params: YearParams) -> tuple[str, list[Path]]:
    """Build and write the year's collection state; the terminal table and the files written."""
    collection = build(params)
    written = write(collection, collection_dir(params))
    return table_text(collection.status, params.collection.deadline), written
