"""The canonical CSV form of a processed table, written fast: exactly the bytes of pandas'
`protect_frame(df).to_csv(index=False, lineterminator="\\n")` (the plain twin: `plain_csv`;
text cells that a spreadsheet would take for a formula get a leading apostrophe,
pipeline/core/csvtext.py), several times sooner for the text, integer and boolean tables that
make up most of a year (forms.csv: 150 MB at 10,000 schools), in forked parts from
PARALLEL_CSV_ROWS rows on."""

from __future__ import annotations

import csv
import functools
import io
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import IO, Any, Iterator

import numpy as np
import pandas as pd

from ..core.csvtext import protect, protect_frame, protect_texts
from ..core.parallel import can_fork, cores, fork_imap, shared


def plain_csv(df: pd.DataFrame) -> bytes:
    """The canonical CSV form of a table, written by pandas (write_csv's plain twin): text
    cells and column names protected (csvtext.protect_frame), UTF-8, '\\n' line ends, no index."""
    df = protect_frame(df)
    sentinel = _cr_sentinel(df) if isinstance(df, pd.DataFrame) else None
    if sentinel is None:
        return df.to_csv(index=False, lineterminator="\n").encode("utf-8")
    # a text holding a carriage return is quoted (the csv module does not quote it, and a
    # spreadsheet, like pandas' reader, would end the row there and read the rest of the
    # text as a new row: «'\r=1+1» would become a formula). pandas quotes it once the CR is a
    # line break followed by a character no text holds; that pair is then made a CR again.
    marked = df.copy()
    marked.columns = [c.replace("\r", sentinel) if isinstance(c, str) else c for c in df.columns]
    for i in range(df.shape[1]):
        col = df.iloc[:, i]
        if _protected(col):
            values = [v.replace("\r", sentinel) if isinstance(v, str) else v for v in col.to_numpy(dtype=object)]
            marked.isetitem(i, pd.Series(values, index=col.index, dtype=col.dtype))
    return marked.to_csv(index=False, lineterminator="\n").replace(sentinel, "\r").encode("utf-8")


def _cr_sentinel(df: pd.DataFrame) -> str | None:
    """None if no text cell or column name holds a carriage return; else a line break and a
    private-use character that none of them holds."""
    texts = [c for c in df.columns if isinstance(c, str)]
    for i in range(df.shape[1]):
        col = df.iloc[:, i]
        if _protected(col):
            texts += [v for v in col.to_numpy(dtype=object) if isinstance(v, str)]
    joined = "\x00".join(texts)
    if "\r" not in joined:
        return None
    return "\n" + next(chr(c) for c in range(0xE000, 0xF900) if chr(c) not in joined)

def write_csv(fh: IO[bytes], df: pd.DataFrame, scratch: str | Path | None = None) -> None:
    """Write the canonical CSV form of a table to a binary file: exactly the bytes of
    `plain_csv(df)` (pandas' CSV of the table with its text cells protected: a text starting
    with =, +, -, @, a tab, a carriage return or an apostrophe gets a leading apostrophe).

    A table of text, integer and boolean columns (forms.csv: about 150 MB at 10,000 schools)
    is written here several times faster than pandas writes it: each column's cells become
    CSV fields at once (a distinct text that needs quoting is quoted once, as the csv module —
    pandas' writer — quotes it), rows are joined in blocks, and from PARALLEL_CSV_ROWS rows on
    the blocks are made by one forked process per core. Any other table (floats, dates, …) is
    written by pandas itself.

    `scratch`: a folder on fh's file system (fh a real file) where those processes write their
    parts, which are then copied into fh by the kernel, not sent back through pipes."""
    if not _csv_writable(df):
        fh.write(plain_csv(df))
        return
    fh.write((",".join(_csv_quoted([protect(str(c)) for c in df.columns])) + "\n").encode("utf-8"))
    workers = _csv_workers(len(df))
    if workers > 1 and scratch is not None:
        fh.flush()
        for path in _csv_parallel(df, workers, Path(scratch)):
            try:
                _append_file(fh, path)
            finally:
                path.unlink(missing_ok=True)
    elif workers > 1:
        for part in _csv_parallel(df, workers):
            fh.write(part)
    else:
        for block in _csv_rows(df, 0, len(df)):
            fh.write(block)


_CSV_BLOCK_ROWS = 50_000


# Tables of at least this many rows are made CSV by a forked process per core (forms.csv has
# 800,000 rows at 10,000 schools); the bytes are the same.
PARALLEL_CSV_ROWS = 200_000


def _csv_workers(rows: int) -> int:
    if rows < PARALLEL_CSV_ROWS or not can_fork():
        return 1
    return cores()


def _csv_parallel(df: pd.DataFrame, workers: int, scratch: Path | None = None) -> Iterator[Any]:
    """The rows' CSV, in order, in parts made by `workers` forked processes (fork: they have
    the table already; they only turn it into text): the parts' bytes, or with `scratch` the
    files there that hold them (all removed by the time the parts are done)."""
    step = -(-len(df) // (workers * 2))
    ranges = [(i, min(i + step, len(df))) for i in range(0, len(df), step)]
    task = _csv_part if scratch is None else functools.partial(_csv_part_file, scratch)
    paths: list[Path] = []
    try:
        for result in fork_imap(task, ranges, workers, share=df):
            if scratch is not None:
                paths.append(result)
            yield result
    finally:  # the workers have ended: no part file is left behind, even of a failed run
        if scratch is not None:
            for path in [*paths, *scratch.glob(".csv-part.*.tmp")]:
                path.unlink(missing_ok=True)


def _csv_part(bounds: tuple[int, int]) -> bytes:
    return b"".join(_csv_rows(shared(), *bounds))


def _csv_part_file(scratch: Path, bounds: tuple[int, int]) -> Path:
    fd, name = tempfile.mkstemp(prefix=".csv-part.", suffix=".tmp", dir=scratch)
    with os.fdopen(fd, "wb") as out:
        for block in _csv_rows(shared(), *bounds):
            out.write(block)
    return Path(name)


def _append_file(fh: IO[bytes], path: Path) -> None:
    """Append a file's bytes to fh (flushed), copied inside the kernel where it can."""
    with open(path, "rb") as src:
        size = os.fstat(src.fileno()).st_size
        done = 0
        if hasattr(os, "copy_file_range"):
            try:
                while done < size:
                    n = os.copy_file_range(src.fileno(), fh.fileno(), size - done)
                    if n == 0:
                        break
                    done += n
            except OSError:
                pass  # not supported between these files: copied below
        if done < size:
            src.seek(done)
            fh.seek(0, os.SEEK_END)
            shutil.copyfileobj(src, fh, 1 << 20)
            fh.flush()


def _csv_writer(out: IO[str]) -> "csv._writer":
    # the dialect pandas' to_csv uses (QUOTE_MINIMAL, '"' doubled, no escape character)
    return csv.writer(out, lineterminator="\n", delimiter=",", quotechar='"', doublequote=True,
                      escapechar=None, quoting=csv.QUOTE_MINIMAL)


def _csv_specials() -> str:
    """The characters that make the csv module quote a field (',', '"' and '\\n' for this
    dialect; found by asking it, so that a Python that quotes more is followed)."""
    out = []
    for i in range(128):
        c = chr(i)
        buf = io.StringIO()
        try:
            _csv_writer(buf).writerow([f"a{c}b", "x"])
        except csv.Error:
            out.append(c)
            continue
        if buf.getvalue() != f"a{c}b,x\n":
            out.append(c)
    return "".join(out)


def _csv_quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _csv_field(text: str) -> str:
    """One field as the csv module writes it."""
    buf = io.StringIO()
    _csv_writer(buf).writerow([text, ""])
    return buf.getvalue()[:-2]  # the field, without the empty second one and the line end


# a carriage return is quoted too (Python 3.11's csv module does not, with '\\n' line ends):
# see plain_csv
_CSV_SPECIALS = _csv_specials()
_CSV_SPECIALS_CR = _CSV_SPECIALS + ("" if "\r" in _CSV_SPECIALS else "\r")


_CSV_SPECIAL = re.compile("[" + re.escape(_CSV_SPECIALS_CR) + "]")


_CSV_SEPARATOR = next(chr(i) for i in range(1, 32) if chr(i) not in _CSV_SPECIALS_CR)


# the csv module quotes a field that holds a special character as _csv_quote does (checked
# here; otherwise each such field is written by the module itself)
_CSV_QUOTE = _csv_quote if all(_csv_field(f"a{c}{c}b") == _csv_quote(f"a{c}{c}b") for c in _CSV_SPECIALS) else _csv_field


def _csv_quoted(texts: list[str]) -> list[str]:
    """A column's texts as CSV fields: the few that hold a special character quoted (by the
    csv module, once per distinct text)."""
    joined = _CSV_SEPARATOR.join(texts)
    if not any(c in joined for c in _CSV_SPECIALS_CR):
        return texts
    fields = dict.fromkeys(texts)
    for t in fields:
        fields[t] = (_csv_quote(t) if "\r" in t else _CSV_QUOTE(t)) if _CSV_SPECIAL.search(t) else t
    return list(map(fields.__getitem__, texts))


_NULLABLE = (pd.BooleanDtype, pd.Int8Dtype, pd.Int16Dtype, pd.Int32Dtype, pd.Int64Dtype,
             pd.UInt8Dtype, pd.UInt16Dtype, pd.UInt32Dtype, pd.UInt64Dtype)


def _csv_texts(col: pd.Series) -> list[str] | None:
    """A column's cells as pandas' to_csv writes them (missing values as ''), or None for a
    dtype left to pandas."""
    dtype = col.dtype
    if isinstance(dtype, pd.StringDtype):
        values = col.to_numpy(dtype=object, na_value="")
        return values.tolist()
    if isinstance(dtype, _NULLABLE):
        # nullable Int64 / boolean: the number or True/False, missing as ''
        missing = col.isna().to_numpy()
        return ["" if m else str(v) for v, m in zip(col.to_numpy(dtype=object), missing)]
    if isinstance(dtype, np.dtype):
        if dtype.kind in "iub":  # numpy integers and booleans: never missing
            return list(map(str, col.to_numpy().tolist()))
        if dtype == object:
            values = col.to_numpy()
            if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
                return None  # numbers, dates, … inside an object column: pandas writes them
            missing = pd.isna(values)
            if missing.any():
                values = values.copy()
                values[missing] = ""
            return values.tolist()
    return None


def _csv_writable(df: pd.DataFrame) -> bool:
    """Whether write_csv writes the table itself (else pandas does)."""
    if not isinstance(df, pd.DataFrame):
        return False
    names = list(df.columns)
    if (df.columns.nlevels != 1 or len(names) < 2 or len(df) == 0
            or not all(isinstance(n, str) for n in names)):
        return False  # (a one-column table quotes an empty cell: left to pandas with the rest)
    for i in range(len(names)):
        col = df.iloc[:, i]
        dtype = col.dtype
        if isinstance(dtype, (pd.StringDtype, *_NULLABLE)) or (isinstance(dtype, np.dtype) and dtype.kind in "iub"):
            continue
        if dtype == object and pd.api.types.infer_dtype(col.to_numpy(), skipna=True) in ("string", "empty"):
            continue
        return False
    return True


def _protected(col: pd.Series) -> bool:
    """Whether a column's cells are texts that protect_frame protects (text columns: str, object)."""
    dtype = col.dtype
    return isinstance(dtype, pd.StringDtype) or (isinstance(dtype, np.dtype) and dtype == object)


def _csv_rows(df: pd.DataFrame, start: int, stop: int) -> Iterator[bytes]:
    """Rows start…stop-1 of a table _csv_writable says write_csv writes, as CSV bytes in blocks."""
    for i in range(start, stop, _CSV_BLOCK_ROWS):
        part = df.iloc[i:min(i + _CSV_BLOCK_ROWS, stop)]
        columns = []
        for j in range(part.shape[1]):
            texts = _csv_texts(part.iloc[:, j])
            assert texts is not None
            if _protected(part.iloc[:, j]):
                texts = protect_texts(texts)
            columns.append(_csv_quoted(texts))
        yield ("\n".join(map(",".join, zip(*columns))) + "\n").encode("utf-8")
