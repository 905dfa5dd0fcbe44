"""Work spread over forked processes: one place for the core count, the fork check, the pool of
workers (`fork_map`) and the one background process (`Forked`).

Forked workers start at once with everything the parent has loaded — the year's tables, the
forms' bytes, the report's context — shared, not pickled: the parent puts what they need in
`shared()` before forking. What exists at that moment is kept out of the cycle collector's
sight (gc.freeze), which would otherwise touch, and so copy into every worker, each object.
Where fork is missing the work runs in this process, with the same results.
"""

from __future__ import annotations

import gc
import io
import multiprocessing
import os
import signal
import sys
import traceback
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable, Iterable, Iterator

_SHARED: Any = None


class WorkerDied(RuntimeError):
    """A forked worker ended without a result (killed, out of memory, crashed); `exitcodes`:
    the exit statuses of the workers that ended so (negative: killed by that signal)."""

    def __init__(self, message: str, exitcodes: tuple[int, ...] = ()) -> None:
        super().__init__(message)
        self.exitcodes = exitcodes


def exit_status(code: int | None) -> str:
    """A process's exit status in Russian words: «код завершения 3», «сигнал 9 (SIGKILL)»."""
    if code is None:
        return "код завершения неизвестен"
    if code < 0:
        try:
            return f"остановлен сигналом {-code} ({signal.Signals(-code).name})"
        except ValueError:
            return f"остановлен сигналом {-code}"
    return f"код завершения {code}"


def cores() -> int:
    """Cores this process may run on (its CPU affinity where the system has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def can_fork() -> bool:
    """Whether workers can be forked (they then share the parent's loaded tables, unpickled)."""
    return "fork" in multiprocessing.get_all_start_methods()


_FROZEN = 0  # how many forks are sharing what gc.freeze keeps out of the collector's sight


def _freeze() -> None:
    """Before a fork: every object now alive is left alone by the cycle collector (its
    passes write to each object they visit, copying the page into whichever process runs
    them), in the parent and the children alike, until the last fork sharing them ends."""
    global _FROZEN
    gc.freeze()
    _FROZEN += 1


def _thaw() -> None:
    global _FROZEN
    _FROZEN -= 1
    if _FROZEN == 0:
        gc.unfreeze()


def shared() -> Any:
    """In a worker (or in this process, when the work runs here): what the caller of fork_map
    or Forked shared with it."""
    return _SHARED


def fork_imap(fn: Callable[[Any], Any], tasks: Iterable[Any], workers: int, share: Any = None) -> Iterator[Any]:
    """fn(task) of every task, in order, computed by `workers` forked processes (or here when
    there is one worker or no fork); fn reads what it needs from shared(). A worker that dies
    raises WorkerDied."""
    global _SHARED
    tasks = list(tasks)
    previous, _SHARED = _SHARED, share
    try:
        if workers <= 1 or len(tasks) <= 1 or not can_fork():
            for task in tasks:
                yield fn(task)
            return
        _freeze()
        try:
            procs: list[Any] | None = None
            with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
                try:
                    yield from pool.map(fn, tasks)
                except BrokenProcessPool:
                    procs = list((getattr(pool, "_processes", None) or {}).values())
            if procs is not None:  # the pool is shut down: every worker has ended and has its exit status
                raise WorkerDied(*_died(procs))
        finally:
            _thaw()
    finally:
        _SHARED = previous


def _died(procs: list[Any]) -> tuple[str, tuple[int, ...]]:
    """Why a pool broke: the exit statuses of its workers that failed, leaving out those the
    pool itself stopped (SIGTERM) when another one died first."""
    codes = sorted({p.exitcode for p in procs if p.exitcode not in (None, 0)})
    own = [c for c in codes if c != -signal.SIGTERM] or codes
    said = ", ".join(exit_status(c) for c in own) or exit_status(None)
    return f"рабочий процесс завершился аварийно ({said})", tuple(own)


def fork_map(fn: Callable[[Any], Any], tasks: Iterable[Any], workers: int, share: Any = None) -> list[Any]:
    """fork_imap as a list."""
    return list(fork_imap(fn, tasks, workers, share))


class Forked:
    """fn(share) run by one forked process while this one goes on; result() waits for it and
    returns its value, or raises RuntimeError with the child's exception (WorkerDied with its
    exit status when it ended without a word).
    Where fork is missing, fn runs in this process when result() is asked for."""

    def __init__(self, fn: Callable[[Any], Any], share: Any) -> None:
        self._fn, self._share, self._proc = fn, share, None
        if can_fork():
            mp = multiprocessing.get_context("fork")
            self._recv, send = mp.Pipe(duplex=False)
            self._proc = mp.Process(target=_run_forked, args=(fn, share, send), daemon=True)
            _freeze()  # until result(): the child shares this process's pages
            try:
                self._proc.start()
            except BaseException:
                _thaw()
                raise
            send.close()
            self._share = None

    def result(self) -> Any:
        if self._proc is None:
            return self._fn(self._share)
        try:
            status, value = self._recv.recv()
        except EOFError:
            status, value = "died", None
        self._proc.join()
        self._recv.close()
        _thaw()
        if status == "died":
            code = self._proc.exitcode
            raise WorkerDied(f"процесс завершился, ничего не сообщив ({exit_status(code)})", (code,) if code is not None else ())
        if status != "ok":
            raise RuntimeError(value)
        return value


def _run_forked(fn: Callable[[Any], Any], share: Any, conn: Any) -> None:
    # a kernel's stdout/stderr talk to its message threads, which a forked child lacks
    sys.stdout = sys.stderr = io.StringIO()
    try:
        conn.send(("ok", fn(share)))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises
        conn.send(("error", "".join(traceback.format_exception_only(exc)).strip()))
    finally:
        conn.close()


def pid_alive(pid: int) -> bool:
    """Whether a process of this pid exists: a lock's holder, a temporary file's writer.
    Unsure (no permission to signal it, another error) counts as alive: nothing of a process
    that may still run is taken or removed."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True
