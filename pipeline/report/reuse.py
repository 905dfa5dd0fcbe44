"""The report stage's documents remembered between runs (processed_dir/.cache/<name>.json): a
run after one form changed rebuilds only the documents whose inputs changed — the letters of
the schools whose figures moved, report.pdf when its page changed, a DOCX's PDF when the DOCX
changed — and takes the others from the year's reports folder.

An entry is an output's path inside the report's folder (documents/letters/0101.docx), the key
of what it was made from and the sha256 and size of the bytes made. The key is a hash of every
input of that output INCLUDING the code that made it (`code_key`: the pipeline package's
source, Python's and the libraries' versions, for PDFs the installed fonts and LibreOffice):
the letter's own figures, the DOCX's bytes, the page's HTML. An entry is used only for the same
key, and only when the file at that path in the year's reports folder (params.reports_dir) is a
regular file whose bytes, read now, have the remembered sha256: a file missing, changed or
replaced by a link is made again. Those bytes, as checked, are then written into the stage's
output folder, so the output is byte for byte what a run from scratch makes.

The cache file is checked before use (format, a sha256 of its body, every entry's shape) and on
any doubt not used at all; it is written atomically, deterministically (sorted), only when it
changed, and holds only the outputs of the last run. A failed write costs the next run its
speed only. `verify` runs in fresh folders: no cache, everything from scratch.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from ..form.cache import CACHE_DIR, package_sha, versions
from ..io.storage import write_bytes_atomic

FORMAT = 1
_HEX64 = re.compile(r"[0-9a-f]{64}\Z")
_MAX_BYTES = 1 << 28  # a cache larger than this is not one this code wrote for a year
_MEMO: dict[str, str] = {}


def digest(*parts: str | bytes) -> str:
    """sha256 of the parts, each framed by its length (no two lists of parts collide)."""
    h = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "little") + data)
    return h.hexdigest()


def fonts_key() -> str:
    """The installed fonts (fontconfig's list: files and versions), which a PDF's layout
    depends on; '' without fc-list (then only the libraries' versions tell)."""
    if "fonts" not in _MEMO:
        found = shutil.which("fc-list")
        listing = b""
        if found:
            try:
                listing = subprocess.run([found, "--format", "%{file}|%{fontversion}|%{index}\n"],
                                         capture_output=True, timeout=60, check=False).stdout
            except (OSError, subprocess.SubprocessError):
                listing = b"?"
        _MEMO["fonts"] = digest(b"\n".join(sorted(listing.splitlines())))
    return _MEMO["fonts"]


def soffice_key(program: str) -> str:
    """LibreOffice as found: its real path, its version file and the program's size and time."""
    key = f"soffice:{program}"
    if key not in _MEMO:
        real = Path(os.path.realpath(program))
        parts = [str(real)]
        for path in (real, real.parent / "versionrc", real.parent / "soffice.bin"):
            try:
                st = path.stat()
                parts.append(f"{path.name}:{st.st_size}:{st.st_mtime_ns}")
            except OSError:
                parts.append(f"{path.name}:-")
        try:
            parts.append((real.parent / "versionrc").read_text("utf-8", "replace"))
        except OSError:
            pass
        _MEMO[key] = digest(*parts)
    return _MEMO[key]


def code_key(*libraries: str, fonts: bool = False) -> str:
    """The code an output is made by: the pipeline package's source, Python's version, the
    given libraries' versions and (fonts=True) the installed fonts."""
    parts = [f"format={FORMAT}", f"python={sys.version_info[:3]}", f"code={package_sha()}", *versions(libraries)]
    if fonts:
        parts.append(f"fonts={fonts_key()}")
    return digest(*parts)


def entry(key: str, data: bytes) -> dict[str, Any]:
    """What is remembered of the bytes made for key."""
    return {"key": key, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}


def _entry_ok(rel: Any, entry: Any) -> bool:
    return (isinstance(rel, str) and rel and not rel.startswith("/") and ".." not in rel.split("/")
            and isinstance(entry, dict) and set(entry) == {"key", "sha256", "size"}
            and isinstance(entry["key"], str) and _HEX64.match(entry["key"]) is not None
            and isinstance(entry["sha256"], str) and _HEX64.match(entry["sha256"]) is not None
            and type(entry["size"]) is int and entry["size"] >= 0)


class Outputs:
    """The remembered outputs of one kind (letters, report.pdf, converted PDFs) of a year."""

    def __init__(self, processed_dir: str | Path, reports_dir: str | Path, name: str, enabled: bool = True) -> None:
        self.path = Path(processed_dir) / CACHE_DIR / f"{name}.json"
        self.home = Path(reports_dir)
        self.enabled = enabled   # False: nothing taken, nothing remembered (a benchmark of the work itself)
        self.loaded = self._load() if enabled else {}
        self.used: dict[str, dict[str, Any]] = {}

    def _load(self) -> dict[str, dict[str, Any]]:
        """The entries of the cache file; {} on any doubt."""
        try:
            if self.path.is_symlink() or not self.path.is_file() or self.path.stat().st_size > _MAX_BYTES:
                return {}
            doc = json.loads(self.path.read_bytes())
            entries = doc["entries"]
            if (doc.get("format") != FORMAT or set(doc) != {"format", "entries", "sha256"} or not isinstance(entries, dict)
                    or doc["sha256"] != digest(json.dumps(entries, sort_keys=True, ensure_ascii=False))):
                return {}
            if not all(_entry_ok(rel, e) for rel, e in entries.items()):
                return {}
            return entries
        except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
            return {}

    def previous(self, rel: str, key: str) -> bytes | None:
        """The bytes made last time for key at rel, read now from the year's reports folder and
        checked against the remembered sha256; None when there is no such file."""
        entry = self.loaded.get(rel)
        if entry is None or entry["key"] != key:
            return None
        source = self.home / rel
        try:
            if source.is_symlink() or not source.is_file() or source.stat().st_size != entry["size"]:
                return None
            data = source.read_bytes()
        except OSError:
            return None
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            return None
        return data

    def take(self, rel: str, key: str, target: str | Path) -> bool:
        """Put the bytes made last time for key into target (out_dir/rel); True when done,
        False when the output has to be made."""
        data = self.previous(rel, key)
        if data is None:
            return False
        source, target = self.home / rel, Path(target)
        try:
            if not (target.exists() and os.path.samefile(source, target)):
                write_bytes_atomic(target, data, durable=False)
        except OSError:
            return False
        self.used[rel] = self.loaded[rel]
        return True

    def remember(self, rel: str, key: str, data: bytes) -> None:
        """The bytes just made for key at rel."""
        self.used[rel] = entry(key, data)

    def record(self, rel: str, made: dict[str, Any] | None) -> None:
        """What a worker did for rel: made (an `entry`), or None when it took the remembered one."""
        self.used[rel] = self.loaded[rel] if made is None else made

    def save(self) -> None:
        """Write the entries of this run (only they: an output not made again is forgotten),
        when they differ from the file's; a failed write is not an error."""
        if not self.enabled or self.used == self.loaded:
            return
        entries = {rel: self.used[rel] for rel in sorted(self.used)}
        body = json.dumps(entries, sort_keys=True, ensure_ascii=False)
        doc = {"format": FORMAT, "entries": entries, "sha256": digest(body)}
        try:
            write_bytes_atomic(self.path, json.dumps(doc, sort_keys=True, ensure_ascii=False, indent=0).encode("utf-8"),
                               durable=False)
        except OSError:
            pass

