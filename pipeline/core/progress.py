"""Progress inside a stage, told to the command line's display: `step` and `Counter`.

A stage's code runs in a Jupyter kernel (another process than the command line) and in the
workers that kernel forks. When the run shows progress (its stderr is a terminal), the runner
starts each stage's kernel with two environment variables: PIPELINE_PROGRESS, the name of a
datagram socket the command line listens on, and PIPELINE_PROGRESS_LABEL, the stage
(«2026 · загрузка»). A message is one datagram, sent without waiting; at most one every
INTERVAL seconds per process, and always the one that completes a count. The socket lives in
Linux's abstract namespace: no file is created, and nothing is left behind when a run is
killed (elsewhere there is no channel, and no progress inside stages).

Without the channel every call returns at once and nothing is printed anywhere: the executed
notebooks kept for the auditor and the processed data are the same with and without it.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import sys
import time
from typing import NamedTuple

ENV = "PIPELINE_PROGRESS"               # the listening socket's name («@…»: abstract namespace)
LABEL_ENV = "PIPELINE_PROGRESS_LABEL"   # the stage this process works for
INTERVAL = 0.2                          # seconds between two messages of one process
FINAL_TRIES, FINAL_PAUSE = 10, 0.02      # the message completing a count waits ≤ 0.2 s for room
MAX_TEXT = 120                          # characters kept of a label or a text
_ABSTRACT = "@"

# what the long loops count, as the display says it («прочитано форм 1 234 из 10 000»)
FORMS_READ = "прочитано форм"
SCHOOLS_SCORED = "оценено школ"
SCHOOLS_ADVISED = "обработано школ"
PAGES_WRITTEN = "записано страниц школ"

_last = 0.0                             # when this process last sent (copied into forked workers)
_sock: socket.socket | None = None
_sock_pid = 0


def available() -> bool:
    """Whether a channel can exist here (abstract UNIX sockets: Linux)."""
    return sys.platform.startswith("linux") and hasattr(socket, "AF_UNIX")


def active() -> bool:
    """Whether this process has a channel to tell its progress to."""
    return bool(os.environ.get(ENV))


def step(what: str, done: int, total: int) -> None:
    """`done` of `total` are done («прочитано форм», 1234, 10000). Cheap: rate-limited, and
    a no-op without a channel; never raises, never prints."""
    global _last
    now = time.monotonic()
    final = done >= total
    if not final and now - _last < INTERVAL:
        return
    address = os.environ.get(ENV)
    if not address:
        return
    _last = now
    label = os.environ.get(LABEL_ENV, "")
    _send(address, {"l": label, "w": what, "d": min(done, total), "t": total}, final)


def _send(address: str, payload: dict, final: bool) -> None:
    global _sock, _sock_pid
    try:
        if _sock is None or _sock_pid != os.getpid():  # a forked worker takes a socket of its own
            _sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            # never blocking: a socket with a timeout would spin on a full queue (the sender's
            # end always polls writable), burning the stage's CPU while the display is behind
            _sock.setblocking(False)
            _sock_pid = os.getpid()
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        name = _socket_name(address)
        # a full queue drops a message; the one completing a count waits a little for room
        for _ in range(FINAL_TRIES if final else 1):
            try:
                _sock.sendto(data, name)
                return
            except BlockingIOError:
                if final:
                    time.sleep(FINAL_PAUSE)
    except (OSError, ValueError):  # no listener (the run ended or was killed)
        pass


def _socket_name(address: str) -> str:
    return "\0" + address[len(_ABSTRACT):] if address.startswith(_ABSTRACT) else address


class Counter:
    """A count of `total` things, added to by this process and by the workers it forks after
    creating it (the number lives in shared memory, under a lock), each telling the channel
    the common number. Without a channel it holds nothing and `add` returns at once."""

    def __init__(self, what: str, total: int) -> None:
        self.what, self.total = what, int(total)
        self._value = None
        if self.total > 0 and active():
            import multiprocessing

            try:  # fork's context: the semaphore is unlinked at once, no tracker process
                ctx = multiprocessing.get_context("fork")
            except ValueError:
                ctx = multiprocessing.get_context()
            self._value = ctx.Value("q", 0)
            step(self.what, 0, self.total)

    def add(self, n: int = 1) -> None:
        value = self._value
        if value is None:
            return
        lock = value.get_lock()
        # a worker killed while holding it (a form that crashes its reader is read alone
        # again) must not stop the others: the count is then left as it is
        if not lock.acquire(timeout=0.1):
            return
        try:
            value.value += n
            done = value.value
        finally:
            lock.release()
        step(self.what, done, self.total)

    def finish(self) -> None:
        """Everything is done (also when it was not counted one by one)."""
        if self._value is not None:
            step(self.what, self.total, self.total)


# --- the command line's end --------------------------------------------------------------

class Message(NamedTuple):
    label: str
    what: str
    done: int
    total: int


def _clean(value: object) -> str:
    """A text safe for a terminal line: no control characters (no escape sequences)."""
    text = value if isinstance(value, str) else ""
    return "".join(ch for ch in text if ch.isprintable())[:MAX_TEXT]


def decode(data: bytes) -> Message | None:
    """One datagram as a message, or None when it is not one."""
    try:
        raw = json.loads(data.decode("utf-8"))
        done, total = raw["d"], raw["t"]
    except (ValueError, KeyError, TypeError):
        return None
    if not all(type(v) is int and v >= 0 for v in (done, total)) or done > total:
        return None
    return Message(_clean(raw.get("l")), _clean(raw.get("w")), done, total)


class Listener:
    """The socket the command line reads progress from, under a fresh random abstract name."""

    def __init__(self) -> None:
        name = f"pipeline-progress-{os.getpid()}-{secrets.token_hex(8)}"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("\0" + name)
        self.sock.setblocking(False)
        self.address = _ABSTRACT + name

    def env(self, label: str) -> dict[str, str]:
        """The environment of a kernel working for stage `label`."""
        return {ENV: self.address, LABEL_ENV: label}

    def fileno(self) -> int:
        return self.sock.fileno()

    def receive(self) -> list[Message]:
        """Every message waiting now (none: an empty list); never waits."""
        out = []
        while True:
            try:
                data = self.sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                return out
            except OSError:  # closed
                return out
            message = decode(data)
            if message is not None:
                out.append(message)

    def wake(self) -> None:
        """An empty datagram to itself: a reader waiting on the socket looks again (and stops)."""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
                s.sendto(b"", _socket_name(self.address))
        except OSError:
            pass

    def close(self) -> None:
        self.sock.close()
