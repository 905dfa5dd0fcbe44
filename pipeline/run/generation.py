"""A year's outputs switch from one generation to the next at a single point.

Before the first stage of a run writes anything, the year's folders (processed_dir with its
`.state.json`, reports_dir with its `manifest.json`) are copied beside themselves as
`.<name>.previous` — by hard links: every output is written to a new file and renamed into
place, never changed in place, so a link keeps the old content — and a journal
(`.<processed name>.run-journal.json` beside processed_dir) records the copies. The run then
works in place. Its commit is the removal of the journal, after the manifest is written: from
that moment the new generation is the year's, and the copies are deleted.

A run that fails or is interrupted (Ctrl-C) puts the previous generation back before it
returns; a run that is killed leaves the journal, and the next holder of the year's lock (a
run, `verify`) puts the previous generation back first (`recover`). Every step of the
restore is a rename that can be repeated, so a restore that is itself killed is completed by
the next one. The site index (reports/index.html) is rebuilt after a restore.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path

from ..config.params import YearParams
from ..io.storage import stale_tmps, write_bytes_atomic

LOCK = ".lock"
SKIPPED = {LOCK, ".staging"}  # never part of a generation


def _dirs(params: YearParams) -> list[Path]:
    return list(dict.fromkeys(Path(os.path.abspath(d)) for d in (params.processed_dir, params.reports_dir)))


def backup_of(folder: Path) -> Path:
    return folder.with_name(f".{folder.name}.previous")


def _discarded(folder: Path) -> Path:
    return folder.with_name(f".{folder.name}.discarded")


def journal_of(params: YearParams) -> Path:
    folder = Path(os.path.abspath(params.processed_dir))
    return folder.with_name(f".{folder.name}.run-journal.json")


def _rmtree(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


def _link_tree(src: Path, dst: Path) -> None:
    """dst as a copy of src (hard links where the file system allows), without the lock and
    the staging folders."""
    dst.mkdir(parents=True)
    for entry in sorted(src.iterdir()):
        if entry.name in SKIPPED:
            continue
        target = dst / entry.name
        if entry.is_symlink():
            os.symlink(os.readlink(entry), target)
        elif entry.is_dir():
            shutil.copytree(entry, target, symlinks=True, copy_function=_link_or_copy)
        else:
            _link_or_copy(entry, target)


def _link_or_copy(src: str | Path, dst: str | Path) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


class Generation:
    """The run of one year: begin() before its first write, commit() after its manifest,
    rollback() when it fails or is interrupted."""

    def __init__(self, params: YearParams) -> None:
        self.params = params
        self.begun = False
        self._guard = threading.Lock()

    def begin(self) -> None:
        """Keep the previous generation aside (once per run)."""
        with self._guard:
            if self.begun:
                return
            entries = []
            for folder in _dirs(self.params):
                backup = backup_of(folder)
                partial = backup.with_name(backup.name + ".partial")
                _rmtree(backup)
                _rmtree(partial)
                if folder.is_dir():
                    _link_tree(folder, partial)
                    os.rename(partial, backup)
                    entries.append({"dir": str(folder), "backup": str(backup)})
                else:
                    entries.append({"dir": str(folder), "backup": None})
            record = {"pid": os.getpid(), "params": str(self.params.source), "dirs": entries}
            write_bytes_atomic(journal_of(self.params), json.dumps(record, ensure_ascii=False, indent=1).encode("utf-8"),
                               owned=True)
            self.begun = True

    def commit(self) -> None:
        """The single point: the journal goes, the new generation is the year's."""
        with self._guard:
            if not self.begun:
                return
            journal_of(self.params).unlink()
            self.begun = False
            for folder in _dirs(self.params):
                _rmtree(backup_of(folder))

    def rollback(self) -> None:
        """Put the previous generation back, keeping the failed stage's notebook (the error
        report) in its audit folder."""
        with self._guard:
            if not self.begun:
                return
            failed = _failed_notebooks(self.params)
            recover(self.params)
            for path, data in failed.items():
                write_bytes_atomic(path, data)
            self.begun = False


def _failed_notebooks(params: YearParams) -> dict[Path, bytes]:
    audit = Path(params.reports_dir) / "audit"
    return {p: p.read_bytes() for p in sorted(audit.glob("*.failed.*")) if p.is_file()} if audit.is_dir() else {}


def recover(params: YearParams) -> bool:
    """Under the year's lock: when a run was killed (its journal is left), put the previous
    generation back; remove the copies a run left without a journal. True when restored."""
    journal = journal_of(params)
    restored = False
    if journal.is_file():
        try:
            entries = json.loads(journal.read_text(encoding="utf-8"))["dirs"]
        except (OSError, ValueError, KeyError, TypeError):
            entries = []
        for entry in entries:
            _restore(Path(entry["dir"]), entry.get("backup"))
        journal.unlink()
        restored = True
    for folder in _dirs(params):
        for leftover in (backup_of(folder), backup_of(folder).with_name(backup_of(folder).name + ".partial"),
                         _discarded(folder)):
            _rmtree(leftover)
    # temporary files of a killed run beside the folders: the journal's, the site index's
    for tmp in stale_tmps(journal) + stale_tmps(Path(params.site_dir) / "index.html"):
        tmp.unlink(missing_ok=True)
    if restored:
        _rebuild_site_index(params)
    return restored


def _restore(folder: Path, backup: str | None) -> None:
    """folder back to its copy (or gone, when it did not exist); the lock file held in it
    stays. Each step is a rename: repeated after a kill, it completes."""
    dead = _discarded(folder)
    if backup is not None and not Path(backup).is_dir():
        return  # restored already (the run was killed after the renames)
    if folder.exists():
        _rmtree(dead)
        os.rename(folder, dead)
    if backup is not None:
        os.rename(backup, folder)
    if (dead / LOCK).is_file():
        folder.mkdir(parents=True, exist_ok=True)
        os.replace(dead / LOCK, folder / LOCK)
    _rmtree(dead)


def _rebuild_site_index(params: YearParams) -> None:
    from ..report import site

    if (Path(params.site_dir) / "index.html").is_file():
        site.build_index(params.site_dir)
