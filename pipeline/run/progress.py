"""What a run prints while it goes: a bar over the stages (only on a terminal) and a line per stage."""

from __future__ import annotations

import sys
import threading
from pathlib import Path




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
        self._lock = threading.RLock()
        if not quiet and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="этап", leave=False, dynamic_ncols=True,
                            bar_format="{desc} {bar} {n_fmt}/{total_fmt} [{elapsed}]")

    def start(self, label: str) -> None:
        with self._lock:
            self.running.append(label)
            self._describe()

    def done(self, text: str, label: str | None = None) -> None:
        with self._lock:
            if label in self.running:
                self.running.remove(label)
                self._describe()
            if self.bar is not None:
                self.bar.update(1)
            self.line(text)

    def forget(self, label: str) -> None:
        """The stage is no longer under way (it failed)."""
        with self._lock:
            if label in self.running:
                self.running.remove(label)
                self._describe()

    def _describe(self) -> None:
        if self.bar is not None:
            self.bar.set_description_str(", ".join(self.running))

    def line(self, text: str, *, always: bool = False) -> None:
        if self.quiet and not always:
            return
        with self._lock:  # whole lines, also when years interleave
            if self.bar is not None:
                self.bar.write(text, file=self.stream or sys.stdout)
            else:
                print(text, file=self.stream or sys.stdout, flush=True)

    def close(self) -> None:
        with self._lock:
            if self.bar is not None:
                self.bar.close()
                self.bar = None
