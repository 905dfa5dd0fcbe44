"""Stage «ingest»: list every raw file of the year, read the forms, decide which form counts.

`load_raw` is the I/O edge (reads the raw folder, read-only); `run` is pure: from the files'
bytes, the methodology and the parameters it builds

* files.csv — every file of raw_dir (but the signed scans in raw_dir/signed/) with sha256, size, kind and status
  (registry | accepted | rejected | superseded) and, for the latter two, the reason;
* forms.csv — one row per field of every readable form (long format: file, sheet, cell, row,
  field, label, raw value and its type, school code), including forms that were then
  rejected or superseded, so that an auditor sees what they held.

Which form counts: the school code must be in the registry (a number 107 read for a
registry code «0107» is matched when unambiguous), the academic year must be the year's; of
two forms of one school the later «Дата заполнения» wins (equal or missing dates: the file
whose name sorts last wins, and the reason says so).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from ..core.contract import COLLECTION_STATES, NOT_FORM_STATUSES, columns, is_signed
from ..core.rules import rule_name
from ..core.errors import FormError, ParamsError
from ..config.methodology import Methodology
from ..config.params import YearParams
from ..core.parallel import Forked, WorkerDied, can_fork, cores, fork_map, shared
from ..core.progress import FORMS_READ, Counter
from ..io.storage import read_hashed, sha256_file
from ..form import package
from ..form.cache import Entry, FormCache
from ..form.department import DEPARTMENT_FILE, read_department_values
from ..form.measures import MEASURES_FILE, read_measures_values
from ..form.reader import FormValue, ParsedForm, read_form_values
from ..form.registry import REGISTRY_NAMES, canonical_code, code_width, read_registry, registry_name
from ..form.text import normalize_academic_year, normalize_school_code, parse_date

REGISTRY_FILE = REGISTRY_NAMES[0]
# Forms as schools send them: Excel (.xlsx, .xlsm, old .xls) and LibreOffice Calc (.ods).
FORM_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")

# Extra columns of files.csv (after the contract's): the rule that decided the status, and
# where in the form the deciding value sits.
FILES_EXTRA = ("rule", "sheet", "cell", "value")


@dataclass(frozen=True)
class RawFile:
    name: str              # path relative to raw_dir, with forward slashes (as text, see display_name)
    sha256: str
    size: int
    data: bytes | None     # None when the file is too large to be a form, or cannot be read
    error: str = ""        # why it could not be read ('' when it was, or was too large)
    link: str | None = None  # a symbolic link: where it points (never followed); None for a file


@dataclass(frozen=True)
class RawInputs:
    raw_dir: Path
    files: tuple[RawFile, ...]
    code_width: int | None = None  # the municipality's school code width (form.registry.code_width)

    @property
    def paths(self) -> list[Path]:
        return [self.raw_dir / f.name for f in self.files]

    def get(self, name: str) -> RawFile | None:
        for f in self.files:
            if f.name == name:
                return f
        return None


_INVISIBLE_IN_NAME = re.compile("[\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


def display_name(rel: str) -> str:
    """A raw file's relative path as text that every output can hold: bytes of a name that are
    not UTF-8 (a Windows archive unpacked on Linux) shown as \\xNN, control and bidirectional-
    override characters as \\xNN / \\uNNNN (visible: the name must still identify the file)."""
    text = rel.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return _INVISIBLE_IN_NAME.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def _read_raw(path: Path, name: str) -> RawFile:
    """One raw file, read-only; a file that cannot be read is kept with the reason. A symbolic
    link is never followed (it could bring in a file from outside the year's folder, or a
    folder): it is listed with where it points, and rejected."""
    if path.is_symlink():
        try:
            target = os.readlink(path)
        except OSError:
            target = ""
        return RawFile(name, "", 0, None, link=display_name(target))
    try:
        if not path.is_file():  # a device or a pipe: never opened
            return RawFile(name, "", 0, None, "указывает не на файл")
        size = path.stat().st_size
        if size <= package.MAX_FILE_BYTES:
            with open(path, "rb") as fh:
                data, digest = read_hashed(fh)
            return RawFile(name, digest, size, data)
        return RawFile(name, sha256_file(path), size, None)
    except OSError as exc:
        return RawFile(name, "", 0, None, f"файл не читается ({exc.strerror or type(exc).__name__})")


def load_raw(params: YearParams) -> RawInputs:
    """Every file under the year's raw_dir (sorted by relative path), read-only."""
    raw_dir = Path(params.raw_dir)
    if not raw_dir.is_dir():
        raise ParamsError(str(params.source or ""), "raw_dir", f"папка «{raw_dir}» не найдена")
    entries = [(p.relative_to(raw_dir).as_posix(), p) for p in raw_dir.rglob("*") if p.is_file() or p.is_symlink()]
    # raw_dir/signed/ holds the scans of the signed documents, not forms: the report stage reads it
    entries = [e for e in entries if not is_signed(e[0])]
    entries.sort(key=lambda e: e[0])
    files = tuple(_read_raw(p, display_name(rel)) for rel, p in entries)
    return RawInputs(raw_dir, files, code_width(params))


def form_cache(params: YearParams, methodology: Methodology) -> FormCache:
    """What earlier runs of the year read of each form (processed_dir/.cache/forms.json,
    pipeline/form/cache.py): checked, and empty on any doubt."""
    return FormCache.open(params.processed_dir, methodology)


def registry_file(raw: RawInputs) -> str:
    """The name of the year's registry among the raw files (registry.csv or registry.xlsx)."""
    return registry_name(f.name for f in raw.files) or REGISTRY_FILE


def registry_of(raw: RawInputs) -> pd.DataFrame:
    """The registry of schools of the year (code, name, type and any extra columns)."""
    name = registry_file(raw)
    f = raw.get(name)
    if f is not None and f.link is not None:
        raise FormError(name, f"реестр школ в папке {raw.raw_dir} — символическая ссылка, а не сам файл",
                        rule="registry.missing", hint=f"Положите в папку сырых данных года сам файл {name} вместо ссылки.")
    if f is None or f.data is None:
        raise FormError(name, f"реестр школ не найден в папке {raw.raw_dir}", rule="registry.missing",
                        hint="Положите registry.csv или registry.xlsx (столбцы code, name, type) в папку сырых данных года.")
    return read_registry(f.data, name=name, code_width=raw.code_width)


def digit_codes(codes: set[str]) -> dict[str, list[str]]:
    """The registry's codes of digits by their value without leading zeros ('0107' under
    '107'): what match_school_code looks a code that lost its zeros up in."""
    out: dict[str, list[str]] = {}
    for c in codes:
        if c.isdigit():
            out.setdefault(c.lstrip("0"), []).append(c)
    return out


def match_school_code(value: str, codes: set[str], width: int | None = None,
                      digits: dict[str, list[str]] | None = None) -> tuple[str, bool]:
    """(registry code, matched) for a form's «Код ОО», brought to the canonical width first. A
    code that lost its leading zeros (107 for «0107») is matched when exactly one registry code
    fits. `digits`: digit_codes(codes), made once for many forms."""
    code = canonical_code(value, width)
    if code in codes:
        return code, True
    zeros = re.sub(r"[OoОо]", "0", code)  # the letter O typed for a zero: «О1О7»
    if zeros != code and zeros.isdigit():
        matched, ok = match_school_code(zeros, codes, digits=digits)
        if ok:
            return matched, True
    if code.isdigit():
        fits = (digit_codes(codes) if digits is None else digits).get(code.lstrip("0"), [])
        if len(fits) == 1:
            return fits[0], True
    return code, False


def _kind(name: str, registry: str = REGISTRY_FILE) -> str:
    base = name.rpartition("/")[2]  # the file's own name (raw names use forward slashes)
    if name == registry:
        return "registry"
    if name == DEPARTMENT_FILE:
        return "department"
    if name == MEASURES_FILE:
        return "measures"
    if base.startswith("~$"):
        return "lock"
    if base.startswith("."):
        return "hidden"
    if base.lower().endswith(FORM_SUFFIXES):
        return "xlsx"
    return "other"


def _fmt(d: dt.date | None) -> str:
    return d.strftime("%d.%m.%Y") if d else "не указана"


# Forms are read in parallel, one process per core, from this many on: a pool costs about a
# second to start, one form about 2 ms to read.
PARALLEL_FROM = 300

# FormValue's fields: the order of the value tuples read_form_values returns.
VALUE_FIELDS = tuple(f.name for f in dataclasses.fields(FormValue))


@dataclass(frozen=True)
class FormsRead:
    """Every form read, in the order given, as columns (what travels between processes and
    becomes forms.csv without an object per value): per form how many values it gave
    (`counts`) or why it cannot be used (`errors`: the columns of files.csv that say it, else
    None); the values of all forms one after another, one list per FormValue field."""

    counts: list[int]
    errors: list[dict[str, str] | None]
    columns: dict[str, list]

    def starts(self) -> list[int]:
        """Where each form's values begin in the columns."""
        return list(itertools.accumulate(self.counts, initial=0))[:-1]

    def value(self, i: int) -> FormValue:
        return FormValue(*(self.columns[k][i] for k in VALUE_FIELDS))

    def first(self, start: int, count: int, name: str) -> FormValue | None:
        """The first value of field `name` among one form's values (ParsedForm.get)."""
        try:
            return self.value(start + self.columns["field"][start:start + count].index(name))
        except ValueError:
            return None

    def parsed(self, names: list[str]) -> list[tuple[ParsedForm | None, dict | None]]:
        """The forms as ParsedForm objects (or the error), given their names."""
        out: list[tuple[ParsedForm | None, dict | None]] = []
        cols = [self.columns[k] for k in VALUE_FIELDS]
        for name, start, count, error in zip(names, self.starts(), self.counts, self.errors):
            if error is not None:
                out.append((None, error))
            else:
                rows = zip(*(c[start:start + count] for c in cols))
                out.append((ParsedForm(file=name, values=[FormValue(*v) for v in rows]), None))
        return out


def _read_batch(items: list[tuple[str, bytes]], methodology: Methodology, counter: Counter | None = None) -> FormsRead:
    """Read some forms one after another; their values as columns (each one counted by
    `counter`, the run's display of forms read)."""
    counts: list[int] = []
    errors: list[dict[str, str] | None] = []
    cols: list[list] = [[] for _ in VALUE_FIELDS]
    for name, data in items:
        try:
            values = read_form_values(data, methodology, name=name)
        except FormError as exc:
            counts.append(0)
            errors.append({"rule": exc.rule, "reason": exc.reason, "sheet": exc.sheet or "", "cell": exc.cell or "",
                           "value": "" if exc.value is None else str(exc.value)})
            continue
        finally:
            if counter is not None:
                counter.add()
        counts.append(len(values))
        errors.append(None)
        for col, part in zip(cols, zip(*values)):
            col.extend(part)
    return FormsRead(counts, errors, dict(zip(VALUE_FIELDS, cols)))


def _read_range(bounds: tuple[int, int]) -> FormsRead:
    """In a worker: the forms at positions start…stop-1 of the shared (methodology, items, counter)."""
    methodology, items, counter = shared()
    start, stop = bounds
    return _read_batch(items[start:stop], methodology, counter)


def _workers() -> int:
    return cores()


def _crashed(count: int, died: WorkerDied) -> FormsRead:
    """The record of a form whose reading killed the process reading it."""
    error = {"rule": "file.reader_crash", "sheet": "", "cell": "", "value": "",
             "reason": f"файл не удалось прочитать: программа чтения аварийно завершилась на нём ({died})"}
    return FormsRead([0] * count, [dict(error) for _ in range(count)], {k: [] for k in VALUE_FIELDS})


def _read_isolated(bounds: tuple[int, int], share: tuple) -> FormsRead:
    """The forms at positions start…stop-1 read again in a process of their own after a worker
    died: halved until the form that kills its reader is alone, and that form alone rejected."""
    start, stop = bounds
    try:
        return Forked(lambda shared_: _read_batch(shared_[1][start:stop], shared_[0], shared_[2]), share).result()
    except WorkerDied as died:
        if stop - start == 1:
            return _crashed(1, died)
    middle = (start + stop) // 2
    return _concat([_read_isolated((start, middle), share), _read_isolated((middle, stop), share)])


def _concat(parts: list[FormsRead]) -> FormsRead:
    if len(parts) == 1:
        return parts[0]
    return FormsRead([n for p in parts for n in p.counts], [e for p in parts for e in p.errors],
                     {k: list(itertools.chain.from_iterable(p.columns[k] for p in parts)) for k in VALUE_FIELDS})


def read_forms(files: list[RawFile], methodology: Methodology, *, workers: int | None = None, as_columns: bool = False,
               cache: FormCache | None = None) -> list[tuple[ParsedForm | None, dict | None]] | FormsRead:
    """Every form read, in the order given: (parsed form, None) or (None, why it cannot be used);
    with as_columns, one FormsRead of them all (what `run` uses: no object per value).

    From PARALLEL_FROM forms on they are read by a pool of processes (one per core, or
    `workers`), below that by one forked process (where fork exists); a form whose reading
    kills its process is rejected alone (file.reader_crash). With a `cache` (form.cache), a
    form whose name and bytes' sha256 it holds is taken from it and not read; the forms read
    are put into it. The result does not depend on how they were read.
    """
    counter = Counter(FORMS_READ, len(files))  # shared with the forked readers
    cached = [cache.get(f.name, f.sha256) for f in files] if cache is not None else [None] * len(files)
    todo = [f for f, e in zip(files, cached) if e is None]
    counter.add(len(files) - len(todo))
    fresh = _read_all([(f.name, f.data or b"") for f in todo], methodology, workers, counter)
    counter.finish()
    if cache is not None:
        for f, start, count, error in zip(todo, fresh.starts(), fresh.counts, fresh.errors):
            cols = tuple(fresh.columns[k][start:start + count] for k in VALUE_FIELDS) if error is None else None
            cache.put(f.name, f.sha256, error, cols)
    done = fresh if len(todo) == len(files) else _with_cached(cached, fresh)
    return done if as_columns else done.parsed([f.name for f in files])


def _read_all(items: list[tuple[str, bytes]], methodology: Methodology, workers: int | None, counter: Counter) -> FormsRead:
    """The forms (name, bytes) read, in forked processes where it can (read_forms)."""
    workers = _workers() if workers is None else workers
    if workers > 1 and len(items) >= PARALLEL_FROM:
        # tasks of a few hundred forms at most: the workers finish together (a long last task
        # would keep one of them busy while the others wait); a task is a range of positions
        # in the shared items, so no form's bytes are sent to a worker
        chunk = max(1, min(200, len(items) // (workers * 8)))
        ranges = [(i, min(i + chunk, len(items))) for i in range(0, len(items), chunk)]
        try:
            return _concat(fork_map(_read_range, ranges, workers, share=(methodology, items, counter)))
        except WorkerDied:  # a form killed its reader (out of memory, a crash): find it, read the rest
            return _concat([_read_isolated(r, (methodology, items, counter)) for r in ranges])
    if items and can_fork():
        # one forked process reads them: a form that kills its reader (a crash the checks
        # missed) costs its own row, not the kernel and with it the whole year
        return _read_isolated((0, len(items)), (methodology, items, counter))
    return _read_batch(items, methodology, counter)


def _with_cached(cached: list[Entry | None], fresh: FormsRead) -> FormsRead:
    """The forms in their order: each from the cache (its entry) or from those just read."""
    counts: list[int] = []
    errors: list[dict[str, str] | None] = []
    cols: list[list] = [[] for _ in VALUE_FIELDS]
    fresh_cols = [fresh.columns[k] for k in VALUE_FIELDS]
    read = iter(zip(fresh.starts(), fresh.counts, fresh.errors))
    for entry in cached:
        if entry is None:
            start, count, error = next(read)
            parts = [c[start:start + count] for c in fresh_cols]
        elif entry.error is not None:
            count, error, parts = 0, dict(entry.error), []
        else:
            count, error, parts = len(entry.columns[0]), None, entry.columns
        counts.append(count)
        errors.append(error)
        for col, part in zip(cols, parts):
            col.extend(part)
    return FormsRead(counts, errors, dict(zip(VALUE_FIELDS, cols)))


# why a file that is not a form is not read, by its kind (_kind)
_NOT_A_FORM = {
    "lock": ("file.lock", "служебный файл блокировки Excel (создаётся, пока файл открыт), не форма"),
    "hidden": ("file.hidden", "скрытый служебный файл, не форма"),
}


def _file_record(f: RawFile, kind: str) -> dict[str, object]:
    """files.csv's row of a file before it is judged: rejected until a reason says otherwise."""
    rec: dict[str, object] = {"file": f.name, "sha256": f.sha256, "size_bytes": f.size, "kind": kind, "status": "rejected",
                              "reason": "", "school_code": "", "filled_date": "", "rule": "", "sheet": "", "cell": "", "value": ""}
    if kind == "registry" and f.link is None:
        rec.update(status="registry")
    elif f.link is not None:
        where = f" (на «{f.link}»)" if f.link else ""
        rec.update(rule="file.symlink", reason=f"символическая ссылка{where}, а не сам файл: ссылки не открываются")
    elif kind in _NOT_A_FORM:
        rule, reason = _NOT_A_FORM[kind]
        rec.update(rule=rule, reason=reason)
    elif f.error:
        rec.update(rule="file.unreadable", reason=f.error)
    elif f.data is None:
        rec.update(rule="file.too_large", reason=f"файл слишком большой ({f.size // 1024} КБ) — это не форма мониторинга")
    return rec


# the department's own workbooks: kind (= status when read) → its reader
_OWN_READERS = {"department": read_department_values, "measures": read_measures_values}


def _department(f: RawFile, rec: dict[str, object]) -> pd.DataFrame:
    """The department's workbook (department.xlsx, or measures.xlsx, the record of last year's
    measures) read: its cells as forms.csv rows (school code empty) and its status («department»,
    «measures»); a workbook that cannot be used is rejected with the reason."""
    try:
        values = _OWN_READERS[str(rec["kind"])](f.data or b"", f.name)
    except FormError as exc:
        rec.update(rule=exc.rule, reason=exc.reason, sheet=exc.sheet or "", cell=exc.cell or "",
                   value="" if exc.value is None else str(exc.value))
        return pd.DataFrame()
    rec.update(status=rec["kind"])
    cols = [c for c in columns("ingest", "forms.csv") if c not in ("file", "school_code")]
    df = pd.DataFrame([dict(zip(VALUE_FIELDS, v)) for v in values], columns=list(VALUE_FIELDS))
    df["file"], df["school_code"] = f.name, ""
    return df[list(columns("ingest", "forms.csv"))].astype({c: "str" for c in cols if c != "row"})


def _judge_form(rec: dict[str, object], read: FormsRead, start: int, count: int, codes: set[str],
                params: YearParams, width: int | None = None, digits: dict[str, list[str]] | None = None
                ) -> tuple[str, dt.date | None, FormValue | None]:
    """Whose form it is and whether it counts: accepted, or rejected naming the cell that says
    why (no school code, another school year, a code not in the registry). Returns the matched
    code, the filling date and the date's cell."""
    code_v = read.first(start, count, "info.school_code")
    year_v = read.first(start, count, "info.academic_year")
    date_v = read.first(start, count, "info.filled_date")
    raw_code = code_v.value if code_v else ""
    code, known = match_school_code(raw_code, codes, width, digits)
    filled = parse_date(date_v.value, date_v.value_type) if date_v else None
    rec.update(school_code=code, filled_date=filled.isoformat() if filled else "")
    year = normalize_academic_year(year_v.value) if year_v else ""
    if not code:
        where = code_v or read.value(start)
        rec.update(rule="form.no_school_code", sheet=where.sheet, cell=code_v.cell if code_v else "",
                   reason="в форме не указан «Код ОО» — неизвестно, чья это форма")
    elif year and year != params.academic_year:
        rec.update(rule="form.wrong_year", sheet=year_v.sheet, cell=year_v.cell, value=year_v.value,
                   reason=f"форма за {year} учебный год, а обрабатывается {params.academic_year}")
    elif not known:
        rec.update(rule="form.unknown_school", sheet=code_v.sheet, cell=code_v.cell, value=raw_code,
                   reason=f"кода ОО «{raw_code}» нет в реестре школ года")
    else:
        rec.update(status="accepted")
    return code, filled, date_v


def _supersede(code: str, group: list[dict[str, object]]) -> None:
    """Of one school's accepted forms the later «Дата заполнения» wins (equal or missing
    dates: the file whose name sorts last); the others are superseded, the reason says why."""
    group.sort(key=lambda g: (g["date"] or dt.date.min, g["rec"]["file"]))
    winner = group[-1]
    wdate = winner["date"]
    for g in group[:-1]:
        if g["date"] is not None and wdate is not None and g["date"] < wdate:
            why = (f"для школы {code} есть более поздняя форма «{winner['rec']['file']}» "
                   f"(дата заполнения {_fmt(wdate)} позже {_fmt(g['date'])})")
        elif wdate is not None and g["date"] is None:
            why = (f"в форме не указана дата заполнения, а у формы «{winner['rec']['file']}» школы {code} "
                   f"она есть ({_fmt(wdate)}); используется та форма")
        else:
            why = (f"у формы «{winner['rec']['file']}» школы {code} та же дата заполнения ({_fmt(wdate)}); "
                   "при равных датах используется форма, последняя по имени файла")
        dv = g["date_v"]
        g["rec"].update(status="superseded", rule="form.superseded", reason=why,
                        sheet=dv.sheet if dv else "", cell=dv.cell if dv else "", value=dv.value if dv else "")


def _forms_table(read: FormsRead, form_files: list[str], form_codes: list[str]) -> pd.DataFrame:
    """forms.csv from the values read (columns already) and each form's file and code repeated."""
    form_cols = list(columns("ingest", "forms.csv"))
    if not form_files:
        forms_df = pd.DataFrame(columns=form_cols)
        forms_df["row"] = forms_df["row"].astype("int64")
        return forms_df
    values = {"file": form_files, "school_code": form_codes, **read.columns}
    # typed at once: pandas would otherwise look at each of ~800,000 values to infer it
    return pd.DataFrame({c: np.array(values[c], dtype="int64") if c == "row" else pd.array(values[c], dtype="str")
                         for c in form_cols})


def run(raw: RawInputs, methodology: Methodology, params: YearParams, cache: FormCache | None = None
        ) -> dict[str, pd.DataFrame]:
    """files.csv and forms.csv of the year (nothing is read or written here; a `cache`, the
    forms read in an earlier run, spares reading again a form whose bytes it holds and takes
    the forms read now — the tables are the same with it or without)."""
    codes = set(registry_of(raw)["code"].astype(str))
    digits = digit_codes(codes)
    registry = registry_file(raw)
    readable = [f for f in raw.files
                if _kind(f.name, registry) in ("xlsx", "other") and f.link is None and not f.error and f.data is not None]
    read = read_forms(readable, methodology, as_columns=True, cache=cache)
    outcome = dict(zip(map(id, readable), zip(read.starts(), read.counts, read.errors)))
    records: list[dict[str, object]] = []
    candidates: dict[str, list[dict[str, object]]] = {}
    form_files: list[str] = []  # forms.csv's file and code columns, one entry per value read
    form_codes: list[str] = []
    own: list[pd.DataFrame] = []
    for f in raw.files:
        rec = _file_record(f, _kind(f.name, registry))
        records.append(rec)
        if rec["kind"] in _OWN_READERS and not rec["rule"]:
            own.append(_department(f, rec))
        if rec["rule"] or rec["status"] in NOT_FORM_STATUSES or rec["kind"] in _OWN_READERS:
            continue
        start, count, error = outcome[id(f)]
        if error is not None:
            rec.update(error)
            continue
        code, filled, date_v = _judge_form(rec, read, start, count, codes, params, raw.code_width, digits)
        form_files += [f.name] * count
        form_codes += [code] * count
        if rec["status"] == "accepted":
            candidates.setdefault(code, []).append({"rec": rec, "date": filled, "date_v": date_v})
    for code, group in candidates.items():
        if len(group) > 1:
            _supersede(code, group)
    files = pd.DataFrame(records, columns=list(columns("ingest", "files.csv")) + list(FILES_EXTRA))
    files["size_bytes"] = files["size_bytes"].astype("int64")
    forms = _forms_table(read, form_files, form_codes)
    for department in own:
        if len(department):
            forms = pd.concat([forms, department.astype({"row": "int64"})], ignore_index=True)
    return {"files.csv": files, "forms.csv": forms}


def summary(files: pd.DataFrame) -> pd.DataFrame:
    """Files by status, for the notebook (Russian headings)."""
    names = {"registry": "реестр школ", "department": "данные управления образования",
             "measures": "сведения о выполнении мер",
             **{k: COLLECTION_STATES[k] for k in ("accepted", "rejected", "superseded")}}
    counts = files["status"].value_counts().reindex(list(names), fill_value=0)
    return pd.DataFrame({"статус": [names[s] for s in counts.index], "файлов": counts.to_numpy()})


def findings(files: pd.DataFrame, registry: pd.DataFrame) -> str:
    """One Russian paragraph of what ingest found."""
    n = len(files)
    accepted = int((files["status"] == "accepted").sum())
    rejected = files[files["status"] == "rejected"]
    superseded = int((files["status"] == "superseded").sum())
    text = (f"В папке года файлов: {n}. Принято форм: {accepted} (школ в реестре: {len(registry)}). "
            f"Отклонено файлов: {len(rejected)}")
    if len(rejected):
        reasons = rejected["rule"].value_counts().sort_index()
        text += " (" + ", ".join(f"{rule_name(r)} — {c}" for r, c in reasons.items()) + ")"
    text += f". Заменено более поздними формами той же школы: {superseded}."
    return text


