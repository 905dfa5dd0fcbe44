"""One run of a year at a time: processed_dir/.lock holds the running pid."""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


from ..config.params import YearParams
from ..core.errors import RunLockedError


LOCK_NAME = ".lock"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def _lock_pid(lock: Path) -> int | None:
    try:
        return int(lock.read_text(encoding="utf-8").split()[0])
    except (OSError, ValueError, IndexError):
        return None


@contextmanager
def year_lock(params: YearParams) -> Iterator[Path]:
    """Hold processed_dir/.lock for the duration; refuse if a live process holds it.

    A lock left by a process that no longer exists (a killed run) is taken over.
    """
    folder = Path(params.processed_dir)
    folder.mkdir(parents=True, exist_ok=True)
    lock = folder / LOCK_NAME
    for _ in range(3):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            pid = _lock_pid(lock)
            if pid is None:
                try:  # being written just now by another run, or garbage left long ago
                    if time.time() - lock.stat().st_mtime < 5:
                        raise RunLockedError(params.year, str(lock))
                except FileNotFoundError:
                    continue
            elif pid != os.getpid() and _pid_alive(pid):
                raise RunLockedError(params.year, str(lock))
            lock.unlink(missing_ok=True)
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(f"{os.getpid()}\n")
        break
    else:
        raise RunLockedError(params.year, str(lock))
    try:
        yield lock
    finally:
        if _lock_pid(lock) == os.getpid():
            lock.unlink(missing_ok=True)
