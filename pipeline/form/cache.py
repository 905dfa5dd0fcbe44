"""What the reader made of each form, remembered between runs (processed_dir/.cache/forms.json):
a run after one form changed reads that form again, not the year's thousands.

An entry is a raw file's name, the sha256 of its bytes and what `reader.read_form_values`
returned for those bytes — the values, or the FormError's columns of files.csv. It is used only
for a file of the same name whose bytes, read in this run, have the same sha256; and the file
as a whole only when it was made by the same reader: its `key` is the hash of the pipeline
package's code, the reading libraries' versions and the methodology's bytes (`reader_key`).
So an entry never stands for other bytes than the ones it was read from, and a form cannot
bring in rows of another file: its entry is what the reader made of its own bytes.

The file is checked before use — a format number, the key, a sha256 of its body, every
entry's shape and types — and on any doubt (missing, damaged, cut off, a symbolic link, made
by other code or another methodology, an unexpected value) it is not used at all: every form
is read. It is written atomically (part by part: never whole in memory), deterministically (entries by name, the same bytes for
the same forms), and only when it changed; a failed write costs the next run its speed only.
A form whose reading killed its reader (file.reader_crash: perhaps out of memory, perhaps not
the form's fault) is never remembered.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ..config.methodology import Methodology
from ..io.storage import owned_tmp, stale_tmps

CACHE_DIR = ".cache"
CACHE_FILE = "forms.json"
FORMAT = 1
PACKAGE_DIR = Path(__file__).resolve().parent.parent  # pipeline/
_LIBRARIES = ("python-calamine",)  # what reads the cells (the rest is the package's code)
_VALUE_TYPES = ("text", "number", "date", "bool", "empty")
_TYPES = frozenset(_VALUE_TYPES)
_ERROR_KEYS = ("rule", "reason", "sheet", "cell", "value")
_MAX_BYTES = 1 << 31  # a cache larger than this is not one this code wrote for a year


def cache_path(processed_dir: str | Path) -> Path:
    return Path(processed_dir) / CACHE_DIR / CACHE_FILE


def _package_sha() -> str:
    """One hash over the pipeline package's .py files (any change of code: a new cache)."""
    h = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        rel = path.relative_to(PACKAGE_DIR).as_posix()
        h.update(rel.encode("utf-8") + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


_PACKAGE_SHA: list[str] = []


def package_sha() -> str:
    """_package_sha, computed once per process (the caches' keys: this one and report/reuse.py)."""
    if not _PACKAGE_SHA:
        _PACKAGE_SHA.append(_package_sha())
    return _PACKAGE_SHA[0]


def versions(libraries: tuple[str, ...]) -> list[str]:
    """«name=version» of each installed library («name=?» when it is not installed)."""
    out = []
    for lib in libraries:
        try:
            out.append(f"{lib}={importlib.metadata.version(lib)}")
        except importlib.metadata.PackageNotFoundError:
            out.append(f"{lib}=?")
    return out


def reader_key(methodology: Methodology) -> str | None:
    """What an entry's values depend on besides the file's bytes and name; None (no cache)
    for a methodology not loaded from a file."""
    if not methodology.sha256:
        return None
    text = "\n".join([f"format={FORMAT}", f"python={sys.version_info[:3]}", f"code={package_sha()}",
                      *versions(_LIBRARIES), f"methodology={methodology.sha256}"])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# one form's values as columns, in reader.FormValue's field order:
# field, sheet, cell, row, col, label, value, value_type, formula
Columns = tuple[list, list, list, list, list, list, list, list, list]


@dataclass(frozen=True)
class Entry:
    sha256: str
    error: dict[str, str] | None   # files.csv's columns that say why the form cannot be used
    columns: Columns | None        # else its values


class FormCache:
    """The entries of one cache file, by file name; `get` finds, `put` records this run's."""

    def __init__(self, path: Path | None, key: str | None, entries: dict[str, Entry] | None = None,
                 dropped: str = "") -> None:
        self.path = path
        self.key = key
        self.entries = entries or {}
        self.dropped = dropped   # why the file on disk was not used ('' when it was, or there was none)
        self.hits = 0
        self._now: dict[str, Entry] = {}

    @classmethod
    def open(cls, processed_dir: str | Path, methodology: Methodology) -> "FormCache":
        """The year's cache for this reader and methodology; empty on any doubt."""
        path = cache_path(processed_dir)
        key = reader_key(methodology)
        if key is None:
            return cls(None, None, dropped="методика не из файла")
        try:
            entries = _load(path, key)
        except _Doubt as doubt:
            return cls(path, key, dropped=str(doubt))
        return cls(path, key, entries)

    def get(self, name: str, sha256: str) -> Entry | None:
        e = self.entries.get(name)
        if e is None or e.sha256 != sha256 or not sha256:
            return None
        self.hits += 1
        self._now[name] = e
        return e

    def put(self, name: str, sha256: str, error: dict[str, str] | None, columns: Columns | None) -> None:
        if not sha256 or (error is not None and error.get("rule") == "file.reader_crash"):
            return
        if columns is not None and (not columns[0] or not set(columns[7]) <= _TYPES):
            return
        self._now[name] = Entry(sha256, dict(error) if error is not None else None, columns)

    def save(self) -> bool:
        """Write what this run used and read (entries of files no longer there dropped), if that
        differs from the file; True when written. A write that fails is not an error."""
        if self.path is None or self.key is None:
            return False
        if self._now.keys() == self.entries.keys() and all(self._now[k] is self.entries[k] for k in self._now):
            return False
        try:
            if self.path.parent.is_symlink():
                return False
            for tmp in stale_tmps(self.path):
                tmp.unlink(missing_ok=True)
            _write(self.path, dump_parts(self._now, self.key))
        except OSError:
            return False
        self.entries = dict(self._now)
        return True


def _write(path: Path, parts: Iterator[bytes]) -> None:
    """The cache file written part by part (never whole in memory) and renamed into place; the
    temporary file is named by this process (storage.owned_tmp) and removed on failure."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = owned_tmp(path)
    try:
        with open(tmp, "wb") as fh:
            for part in parts:
                fh.write(part)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class _Doubt(Exception):
    pass


def dump(entries: dict[str, Entry], key: str) -> bytes:
    """The cache file's bytes (dump_parts joined)."""
    return b"".join(dump_parts(entries, key))


def dump_parts(entries: dict[str, Entry], key: str) -> Iterator[bytes]:
    """The cache file's bytes in parts: the body (JSON: entries by name, each form's field
    positions and labels kept once per distinct layout), a line break and the body's sha256."""
    layouts: dict[tuple, int] = {}
    h = hashlib.sha256()

    def out(text: str) -> bytes:
        data = text.encode("utf-8", "surrogatepass")
        h.update(data)
        return data

    def js(obj: object) -> str:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))

    yield out(f'{{"format":{FORMAT},"key":{js(key)},"forms":[')
    for i, name in enumerate(sorted(entries)):
        e = entries[name]
        sep = "," if i else ""
        if e.columns is None:
            yield out(sep + js([name, e.sha256, {k: e.error.get(k, "") for k in _ERROR_KEYS}]))
            continue
        field, sheet, cell, row, col, label, value, vtype, formula = e.columns
        index = layouts.setdefault(tuple(zip(field, sheet, cell, row, col, label)), len(layouts))
        formulas = {str(j): f for j, f in enumerate(formula) if f}
        types = "".join(str(_VALUE_TYPES.index(t)) for t in vtype)
        yield out(sep + js([name, e.sha256, index, value, types, formulas]))
    yield out('],"layouts":[')
    for i, shape in enumerate(layouts):
        yield out(("," if i else "") + js([list(r) for r in shape]))
    yield out("]}")
    yield b"\n" + h.hexdigest().encode("ascii")


def _load(path: Path, key: str) -> dict[str, Entry]:
    try:
        st = os.lstat(path)
        if path.parent.is_symlink():
            raise _Doubt("папка кэша — символическая ссылка")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise _Doubt(f"не читается ({exc.strerror})") from None
    if not stat.S_ISREG(st.st_mode):
        raise _Doubt("не обычный файл")
    if st.st_size > _MAX_BYTES:
        raise _Doubt("слишком большой")
    try:
        with open(path, "rb") as fh:
            data = fh.read(_MAX_BYTES + 1)
    except OSError as exc:
        raise _Doubt(f"не читается ({exc.strerror})") from None
    return parse(data, key)


def parse(data: bytes, key: str) -> dict[str, Entry]:
    """The entries of a cache file's bytes, each checked; _Doubt on anything unexpected."""
    body, _, digest = data.rpartition(b"\n")
    if hashlib.sha256(body).hexdigest().encode("ascii") != digest:
        raise _Doubt("контрольная сумма не сходится")
    try:
        doc = json.loads(body.decode("utf-8", "surrogatepass"))
    except ValueError:
        raise _Doubt("не JSON") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise _Doubt("другой формат")
    if doc.get("key") != key:
        raise _Doubt("записан другой версией кода, библиотек или методики")
    try:
        return _entries(doc["layouts"], doc["forms"])
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise _Doubt(f"неожиданное содержимое ({type(exc).__name__})") from None


def _strs(values: object) -> bool:
    return type(values) is list and all(type(v) is str for v in values)


def _layout(rows: object) -> tuple[list, ...]:
    if type(rows) is not list:
        raise TypeError
    for r in rows:
        if (type(r) is not list or len(r) != 6 or not all(type(r[i]) is str for i in (0, 1, 2, 5))
                or type(r[3]) is not int or type(r[4]) is not int):
            raise TypeError
    columns = tuple(list(c) for c in zip(*rows)) if rows else tuple([] for _ in range(6))
    return columns


def _entries(layouts: object, forms: object) -> dict[str, Entry]:
    if type(layouts) is not list or type(forms) is not list:
        raise TypeError
    shapes = [_layout(rows) for rows in layouts]
    out: dict[str, Entry] = {}
    last = None
    for form in forms:
        if type(form) is not list or len(form) not in (3, 6):
            raise TypeError
        name, sha = form[0], form[1]
        if type(name) is not str or (last is not None and name <= last) or not _is_sha(sha):
            raise ValueError  # names sorted and unique, as dump writes them
        last = name
        if len(form) == 3:
            error = form[2]
            if type(error) is not dict or sorted(error) != sorted(_ERROR_KEYS) or not _strs(list(error.values())):
                raise TypeError
            out[name] = Entry(sha, error, None)
            continue
        index, values, types, formulas = form[2:]
        if type(index) is not int or not 0 <= index < len(shapes) or not _strs(values) or type(types) is not str:
            raise TypeError
        shape = shapes[index]
        n = len(shape[0])
        if n == 0 or len(values) != n or len(types) != n or type(formulas) is not dict:
            raise ValueError
        vtypes = [_VALUE_TYPES[int(t)] for t in types]
        formula = [""] * n
        for i, f in formulas.items():
            if type(f) is not str or not f or not i.isdigit():
                raise ValueError
            formula[int(i)] = f
        out[name] = Entry(sha, None, (*shape, values, vtypes, formula))
    return out


def _is_sha(sha: object) -> bool:
    return type(sha) is str and len(sha) == 64 and all(c in "0123456789abcdef" for c in sha)
