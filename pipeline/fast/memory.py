"""The cyclic garbage collector kept out of the way where a stage builds hundreds of thousands
of small objects that all stay (none in a reference cycle): it would walk them all again and
again while they are made (gc_paused); memory freed handed back to the system (give_back).
Objects shared with forked workers are frozen by core/parallel.py, which counts the forks."""

from __future__ import annotations

import contextlib
import gc
from typing import Iterator


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _libc_trim():
    try:
        import ctypes

        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to give back this way
        return None


def give_back() -> None:
    """Hand the memory freed by this process back to the system (glibc keeps freed blocks for
    itself: ingest's raw bytes, ~130 MB at 10,000 forms, would otherwise stay counted while
    forms.csv is written by forked workers)."""
    trim = _libc_trim()
    if trim is not None:
        trim(0)
