"""The cyclic garbage collector kept out of the way where a stage builds hundreds of thousands
of small objects that all stay (none in a reference cycle): it would walk them all again and
again while they are made, or touch — and so copy into every forked worker — what the
workers only read."""

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


@contextlib.contextmanager
def gc_frozen() -> Iterator[None]:
    """What exists now is moved out of the collector's sight (and back afterwards): forked
    workers then share those pages instead of copying them when the collector visits."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


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
