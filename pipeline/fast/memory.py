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
