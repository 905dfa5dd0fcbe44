"""One run at a time per folder: everything a year writes (its processed_dir and its
reports_dir) is locked by `<folder>/.lock`, which holds the running pid and the parameter file
of the run. Two parameter sets that share a folder are refused, in two processes or in one."""

from __future__ import annotations

import os
import threading
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Iterator


from ..config.params import YearParams
from ..core.errors import RunLockedError
from ..core.parallel import pid_alive


LOCK_NAME = ".lock"

# lock files this process holds → the parameter file of the run holding it (a second run in
# the same process, another year's thread, is refused too)
_HELD: dict[str, str] = {}
_HELD_GUARD = threading.Lock()


def _lock_pid(lock: Path) -> int | None:
    try:
        return int(lock.read_text(encoding="utf-8").split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _holder(lock: Path) -> str:
    """Who holds a lock file, in Russian: the process and its parameter file."""
    try:
        lines = lock.read_text(encoding="utf-8").splitlines()
    except OSError:
        return ""
    pid = lines[0].strip() if lines else ""
    source = lines[1].strip() if len(lines) > 1 else ""
    return ", ".join(x for x in (f"процесс {pid}" if pid else "", f"параметры {source}" if source else "") if x)


def _refuse(params: YearParams, lock: Path, holder: str) -> RunLockedError:
    return RunLockedError(params.year, str(lock), folder=str(lock.parent), holder=holder)


@contextmanager
def _folder_lock(params: YearParams, folder: Path) -> Iterator[Path]:
    """Hold folder/.lock for the duration; refuse if a live process (or this one) holds it. A
    lock left by a process that no longer exists (a killed run) is taken over."""
    folder.mkdir(parents=True, exist_ok=True)
    lock = folder / LOCK_NAME
    key = str(lock.resolve())
    with _HELD_GUARD:
        if key in _HELD:
            raise _refuse(params, lock, f"этот же запуск, параметры {_HELD[key]}")
        _HELD[key] = str(params.source)
    try:
        _take(params, lock)
        try:
            yield lock
        finally:
            if _lock_pid(lock) == os.getpid():
                lock.unlink(missing_ok=True)
    finally:
        with _HELD_GUARD:
            _HELD.pop(key, None)


def _take(params: YearParams, lock: Path) -> None:
    """Create the lock file with this pid and the run's parameter file."""
    for _ in range(3):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            pid = _lock_pid(lock)
            if pid is None:
                try:  # being written just now by another run, or garbage left long ago
                    if time.time() - lock.stat().st_mtime < 5:
                        raise _refuse(params, lock, _holder(lock)) from None
                except FileNotFoundError:
                    continue
            elif pid != os.getpid() and pid_alive(pid):
                raise _refuse(params, lock, _holder(lock)) from None
            lock.unlink(missing_ok=True)
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(f"{os.getpid()}\n{params.source}\n")
        return
    raise _refuse(params, lock, _holder(lock))


@contextmanager
def year_lock(params: YearParams) -> Iterator[Path]:
    """Hold the locks of every folder the year writes (processed_dir, reports_dir), taken in
    a fixed order; then put back the previous generation a killed run left half-replaced
    (generation.recover). Yields processed_dir/.lock."""
    from .generation import recover

    folders = sorted({Path(params.processed_dir).resolve(), Path(params.reports_dir).resolve()}, key=str)
    with ExitStack() as stack:
        for folder in folders:
            stack.enter_context(_folder_lock(params, folder))
        recover(params)
        yield Path(params.processed_dir) / LOCK_NAME
