"""What a run prints while it goes: a bar over the stages (only on a terminal) and a line per
stage. On a terminal the bar also tells how far the running stages are inside («2026 ·
загрузка: прочитано форм 1 234 из 10 000»), from what their kernels send through the channel of
pipeline/core/progress.py; without a terminal no channel is opened and nothing of it is shown."""

from __future__ import annotations

import select
import sys
import threading
import time
from pathlib import Path

from ..core import progress as channel
from ..core.russian import fmt_int

REFRESH = 0.1  # seconds between two redraws of the bar for progress inside stages


def _shown(path: Path | str) -> str:
    """A path as a person would type it: relative to the current folder when inside it."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


def _seconds(t: float) -> str:
    return f"{t:.1f}".replace(".", ",")


class Progress:
    """A bar over the stages of all years (only on a terminal) and one line per stage."""

    def __init__(self, total: int, quiet: bool = False, stream=None) -> None:
        self.quiet = quiet
        self.stream = stream
        self.bar = None
        self.running: list[str] = []  # stages under way (two years run side by side)
        self.inside: dict[str, channel.Message] = {}  # how far each of them is, as last told
        self._lock = threading.RLock()
        self._listener: channel.Listener | None = None
        self._reader: threading.Thread | None = None
        self._stop = threading.Event()
        self._drawn = 0.0
        if not quiet and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="этап", leave=False, dynamic_ncols=True,
                            bar_format="{desc} {bar} {n_fmt}/{total_fmt} [{elapsed}]")

    def start(self, label: str) -> None:
        with self._lock:
            self.running.append(label)
            self._describe()

    def kernel_env(self, label: str) -> dict[str, str]:
        """The environment a kernel working for stage `label` gets to tell its progress: the
        channel's variables while the bar is shown, else nothing (stage code then tells no one)."""
        with self._lock:
            if self.bar is None or not channel.available():
                return {}
            if self._listener is None:
                try:
                    self._listener = channel.Listener()
                except OSError:  # no socket here: the bar over the stages only
                    return {}
                self._reader = threading.Thread(target=self._read, name="progress", daemon=True)
                self._reader.start()
            return self._listener.env(label)

    def _read(self) -> None:
        listener = self._listener
        while listener is not None and not self._stop.is_set():
            try:
                ready = select.select([listener], [], [], 1.0)[0]  # close() wakes it
            except (OSError, ValueError):  # closed
                return
            if ready:
                self._take()

    def _take(self) -> None:
        """Show what the kernels have told so far (called by the reader, and when a stage ends,
        so that its last count, sent before it ended, is not lost)."""
        with self._lock:
            if self._listener is None:
                return
            changed = final = False
            for m in self._listener.receive():
                if m.label not in self.running:  # late news of a stage that has ended
                    continue
                seen = self.inside.get(m.label)
                if seen and (seen.what, seen.total) == (m.what, m.total) and seen.done >= m.done:
                    continue  # workers' messages may arrive out of order: the count only grows
                self.inside[m.label] = m
                changed = True
                final = final or m.done == m.total
            now = time.monotonic()
            if changed and (final or now - self._drawn >= REFRESH):
                self._drawn = now
                self._describe()

    def done(self, text: str, label: str | None = None) -> None:
        with self._lock:
            self._take()
            if label in self.running:
                self.running.remove(label)
                self.inside.pop(label, None)
                self._describe()
            if self.bar is not None:
                self.bar.update(1)
            self.line(text)

    def forget(self, label: str) -> None:
        """The stage is no longer under way (it failed)."""
        with self._lock:
            if label in self.running:
                self.running.remove(label)
                self.inside.pop(label, None)
                self._describe()

    def _describe(self) -> None:
        if self.bar is not None:
            self.bar.set_description_str(", ".join(self._told(label) for label in self.running))

    def _told(self, label: str) -> str:
        m = self.inside.get(label)
        return f"{label}: {m.what} {fmt_int(m.done)} из {fmt_int(m.total)}" if m else label

    def line(self, text: str, *, always: bool = False) -> None:
        if self.quiet and not always:
            return
        with self._lock:  # whole lines, also when years interleave
            if self.bar is not None:
                self.bar.write(text, file=self.stream or sys.stdout)
            else:
                print(text, file=self.stream or sys.stdout, flush=True)

    def close(self) -> None:
        self._stop.set()
        if self._reader is not None:
            if self._listener is not None:
                self._listener.wake()
            self._reader.join()
            self._reader = None
        with self._lock:
            if self._listener is not None:
                self._listener.close()
                self._listener = None
            if self.bar is not None:
                self.bar.close()
                self.bar = None
