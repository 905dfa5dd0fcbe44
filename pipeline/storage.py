"""Reading and writing processed tables: deterministic CSV, atomic replacement.

Determinism: UTF-8, '\\n' line ends, no index, floats at full round-trip precision, rows in
the order the stage sorted them. Atomicity: a stage's files are written into a temporary
folder beside the target and moved into place only when all of them are written, so an
interrupted run leaves the previous outputs of that year intact.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd


_FILE_MODE = 0o644  # mkstemp creates 0600; outputs are meant to be read (and published)


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """The canonical CSV form of a table (what every processed file holds)."""
    text = df.to_csv(index=False, lineterminator="\n")
    return text.encode("utf-8")


def write_tables(folder: str | Path, tables: dict[str, pd.DataFrame]) -> dict[str, Path]:
    """Write several CSV tables into folder, all or nothing.

    Each file is written to a temporary file in the same folder, fsynced, then renamed over
    the old one; the old files stay readable until the rename.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[Path, Path]] = []
    try:
        for name in sorted(tables):
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
            staged.append((Path(tmp), folder / name))
            with os.fdopen(fd, "wb") as fh:
                fh.write(to_csv_bytes(tables[name]))
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, _FILE_MODE)
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise
    for tmp, final in staged:
        os.replace(tmp, final)
    return {final.name: final for _, final in staged}


def read_table(folder: str | Path, name: str) -> pd.DataFrame:
    """Read one processed CSV with codes kept as text (leading zeros matter)."""
    path = Path(folder) / name
    return pd.read_csv(
        path,
        dtype={"school_code": "string", "file": "string", "cell": "string", "sheet": "string"},
        keep_default_na=True,
        na_values=[""],
    )


def write_bytes_atomic(path: str | Path, data: bytes, *, durable: bool = True) -> Path:
    """Write one file atomically (temporary file + rename). durable=False skips the fsync:
    for the thousands of pages a stage writes into its staging folder, which the runner
    moves into place only when the stage succeeded."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        if durable:
            fh.flush()
            os.fsync(fh.fileno())
    os.chmod(tmp, _FILE_MODE)
    os.replace(tmp, path)
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
