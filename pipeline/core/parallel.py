"""How many processes large stages may fork: one place for the core count and the fork check."""

from __future__ import annotations

import multiprocessing
import os


def cores() -> int:
    """Cores this process may run on (its CPU affinity where the system has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def can_fork() -> bool:
    """Whether workers can be forked (they then share the parent's loaded tables, unpickled)."""
    return "fork" in multiprocessing.get_all_start_methods()
