"""Reading and writing processed tables and files: deterministic CSV, atomic replacement,
checksums.

Determinism: UTF-8, '\\n' line ends, no index, floats at full round-trip precision, rows in
the order the stage sorted them (the bytes are pandas' own; pipeline.fast.csv writes them
sooner). Text cells that a spreadsheet would run as a formula are written with a leading
apostrophe, which read_table takes off again (pipeline/core/csvtext.py). Atomicity: a
stage's files are written into a temporary folder beside the target and moved into place
only when all of them are written, so an interrupted run leaves the previous outputs of that
year intact.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import shutil
import stat
import tempfile
import time
from pathlib import Path
from typing import IO

import pandas as pd

from ..core.csvtext import escaped_columns, unprotect, unprotect_all
from ..core.parallel import pid_alive
from ..fast.csv import write_csv

_FILE_MODE = 0o644  # mkstemp creates 0600; outputs are meant to be read (and published)


# Digests of files read whole through read_hashed, by what identifies a file's content without
# reading it: device, inode, size and the modification and change times in ns. Any write
# changes the times (the change time cannot be set back), and a file is only remembered if it
# had not changed for SETTLED_NS before it was read — a write within the same tick of the file
# system's clock would keep the times, but not one made seconds later.
_KNOWN_DIGESTS: dict[tuple[int, ...], str] = {}


SETTLED_NS = 2_000_000_000


def _identity(st: os.stat_result) -> tuple[int, ...]:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def read_hashed(fh: IO[bytes]) -> tuple[bytes, str]:
    """The bytes of a file opened for reading, and their hex sha256. sha256_file of the same
    file then gives that digest without reading it again (ingest reads every raw file, and the
    notebook's header shows their checksums), as long as nothing has changed it."""
    before = os.fstat(fh.fileno())
    data = fh.read()
    digest = sha256_bytes(data)
    after = os.fstat(fh.fileno())
    if (stat.S_ISREG(before.st_mode) and _identity(before) == _identity(after) and len(data) == before.st_size
            and time.time_ns() - max(before.st_mtime_ns, before.st_ctime_ns) > SETTLED_NS
            and len(_KNOWN_DIGESTS) < 1 << 20):
        _KNOWN_DIGESTS[_identity(before)] = digest
    return data, digest


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file's bytes."""
    try:
        known = _KNOWN_DIGESTS.get(_identity(os.stat(path))) if _KNOWN_DIGESTS else None
    except OSError:
        known = None  # opening it below says why
    if known is not None:
        return known
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _naming(exc: BaseException, path: Path) -> BaseException:
    """An OSError of a write (disk full, permission denied …) that names the file it was
    writing: a write through a descriptor does not."""
    if isinstance(exc, OSError) and not exc.filename:
        named = OSError(exc.errno, exc.strerror or str(exc), str(path))
        named.__cause__ = exc
        return named
    return exc


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """The canonical CSV form of a table (what every processed file holds)."""
    buf = io.BytesIO()
    write_csv(buf, df)
    return buf.getvalue()


def write_tables(folder: str | Path, tables: dict[str, pd.DataFrame]) -> dict[str, Path]:
    """Write several CSV tables into folder, all or nothing.

    Each file is written to a temporary file in the same folder, fsynced, then renamed over
    the old one; the old files stay readable until the rename.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[Path, Path]] = []
    name = ""
    try:
        for name in sorted(tables):
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
            staged.append((Path(tmp), folder / name))
            with os.fdopen(fd, "wb") as fh:
                write_csv(fh, tables[name], scratch=folder)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, _FILE_MODE)
    except BaseException as exc:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise _naming(exc, folder / name) from None
    for i, (tmp, final) in enumerate(staged):
        try:
            os.replace(tmp, final)
        except OSError as exc:
            for left, _ in staged[i:]:
                left.unlink(missing_ok=True)
            raise _naming(exc, final) from None
    return {final.name: final for _, final in staged}


def preview(df: pd.DataFrame, rows: int, where: str) -> tuple[pd.DataFrame, str | None]:
    """What a notebook shows of a table that may be long: its first `rows` rows and, when it
    has more, a note in Russian of how many it has and where all of them are (`where`: the
    stage's file, e.g. "files.csv (строки со статусом rejected)"). Ten thousand rows shown in
    full would make the executed notebook and its HTML copy megabytes long."""
    if len(df) <= rows:
        return df, None
    shown, total = (f"{n:,}".replace(",", "\u00a0") for n in (rows, len(df)))
    return df.head(rows), (f"Показаны первые {shown} строк из {total}; все строки — в {where} "
                           "в папке результатов этапа (она указана в таблице в начале блокнота).")


_TEXT_COLUMNS = {"school_code": "string", "file": "string", "cell": "string", "sheet": "string", "score_raw": "string"}


def read_table(folder: str | Path, name: str) -> pd.DataFrame:
    """Read one processed CSV with codes kept as text (leading zeros matter), and the score as
    the school typed it (checklist's score_raw: "2" or "есть") as text — guessed, its type
    would depend on which of pandas' reading chunks a non-number falls in.

    Text cells are unprotected (pipeline/core/csvtext.py: one leading apostrophe removed), and
    a column that held one is typed again from its unprotected texts, as pandas types it, so
    the table is the one the file gave before texts were protected («-2» in a column of
    numbers written as text is still read as the number −2)."""
    path = Path(folder) / name
    df = pd.read_csv(path, dtype=_TEXT_COLUMNS, keep_default_na=True, na_values=[""])
    df.columns = [unprotect(c) for c in df.columns]
    for i in escaped_columns(df):
        col = df.iloc[:, i]
        values = unprotect_all(col.to_numpy(dtype=object))
        if col.name in _TEXT_COLUMNS:
            df.isetitem(i, pd.Series(values, index=col.index, dtype=col.dtype))
            continue
        # typed again: the unprotected column written alone (every field quoted: pandas' reader
        # types quoted fields as it types bare ones) and read as above
        alone = pd.DataFrame({"v": values}).to_csv(index=False, lineterminator="\n", quoting=csv.QUOTE_ALL)
        retyped = pd.read_csv(io.StringIO(alone), keep_default_na=True, na_values=[""])["v"]
        retyped.index = col.index
        df.isetitem(i, retyped)
    return df


def owned_tmp(path: Path) -> Path:
    """The temporary file a process writes before renaming it to path, named by its pid (so
    that one left by a killed process can be told and removed: `stale_tmps`)."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def stale_tmps(path: Path) -> list[Path]:
    """Temporary files of path (owned_tmp) left by processes that no longer exist."""
    out = []
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        pid = tmp.name[len(path.name) + 2: -len(".tmp")]
        if pid.isdigit() and not pid_alive(int(pid)):
            out.append(tmp)
    return sorted(out)


def write_bytes_atomic(path: str | Path, data: bytes, *, durable: bool = True, owned: bool = False) -> Path:
    """Write one file atomically (temporary file + rename). durable=False skips the fsync:
    for the thousands of pages a stage writes into its staging folder, which the runner
    moves into place only when the stage succeeded. A failed write (disk full, permission
    denied) leaves the old file as it was and no temporary file; its OSError names path.
    owned=True names the temporary file by this process (owned_tmp), for a file outside the
    folders a run locks (the site index): one left by a killed run is removed later."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if owned:
        tmp = str(owned_tmp(path))
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0), 0o600)
    else:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        raise _naming(exc, path) from None
    return path


def replace_dir(staging: str | Path, final: str | Path) -> None:
    """Move a fully written staging folder into place of final (old one removed after)."""
    staging, final = Path(staging), Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}.old")
        if old.exists():
            shutil.rmtree(old)
        os.replace(final, old)
    os.replace(staging, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
