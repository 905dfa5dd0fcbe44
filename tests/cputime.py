"""CPU time per test module, the processes a test starts included: a pytest plugin, off by
default (`PYTHONPATH=tests .venv/bin/python -m pytest -p cputime -p no:xdist ...`).

`/usr/bin/time` and getrusage count only the children a process waits for; the stage kernels
are forked by the runner's warm process, which lets the system reap them (SIGCHLD ignored),
so their CPU — most of a notebook run — is counted nowhere. This plugin samples /proc instead
(every 0.25 s and at each test's start and end): every process seen as a descendant of this one
(kept once seen, even after it is re-parented) counts its own user+system time. A process that
lives less than one sample is missed. The terminal summary lists each module's CPU and wall
seconds, most CPU first; CPUTIME_OUT=<file> also writes one line per test (node id, CPU, wall).
"""

from __future__ import annotations

import os
import threading
import time

TICK = os.sysconf("SC_CLK_TCK")
INTERVAL = 0.25

_lock = threading.Lock()
_seen: dict[tuple[int, int], float] = {}  # (pid, start time) -> its own CPU seconds when last seen
_started: dict[str, tuple[float, float]] = {}
_modules: dict[str, list[float]] = {}
_out = None


def tree_cpu() -> float:
    """CPU seconds of this process and of every descendant seen so far (sampled now)."""
    procs = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # ppid, start time, utime + stime (stat fields 4, 22, 14 and 15)
        procs[int(entry)] = (int(fields[1]), int(fields[19]), (int(fields[11]) + int(fields[12])) / TICK)
    with _lock:
        tree, grew = {os.getpid()}, True
        while grew:
            grew = False
            for pid, (ppid, start, _) in procs.items():
                if pid not in tree and (ppid in tree or (pid, start) in _seen):
                    tree.add(pid)
                    grew = True
        for pid in tree:
            if pid in procs:
                _seen[(pid, procs[pid][1])] = procs[pid][2]
        return sum(_seen.values())


def _sample_forever() -> None:
    while True:
        time.sleep(INTERVAL)
        try:
            tree_cpu()
        except OSError:
            pass


def pytest_configure(config) -> None:
    threading.Thread(target=_sample_forever, name="cputime", daemon=True).start()


def pytest_runtest_logstart(nodeid, location) -> None:
    _started[nodeid] = (tree_cpu(), time.monotonic())


def pytest_runtest_logfinish(nodeid, location) -> None:
    global _out
    cpu0, wall0 = _started.pop(nodeid)
    cpu, wall = tree_cpu() - cpu0, time.monotonic() - wall0
    totals = _modules.setdefault(nodeid.split("::")[0], [0.0, 0.0, 0])
    totals[0] += cpu
    totals[1] += wall
    totals[2] += 1
    if os.environ.get("CPUTIME_OUT"):
        if _out is None:
            _out = open(os.environ["CPUTIME_OUT"], "a", encoding="utf-8")
        _out.write(f"{nodeid}\t{cpu:.2f}\t{wall:.2f}\n")
        _out.flush()


def pytest_terminal_summary(terminalreporter) -> None:
    if not _modules:
        return
    terminalreporter.write_sep("-", "CPU per module (this process and every process it started), s")
    for module, (cpu, wall, n) in sorted(_modules.items(), key=lambda kv: -kv[1][0]):
        terminalreporter.write_line(f"{cpu:8.1f} CPU {wall:8.1f} wall {n:4d} tests  {module}")
    terminalreporter.write_line(f"{sum(v[0] for v in _modules.values()):8.1f} CPU in all "
                                f"(load average {os.getloadavg()[0]:.1f} at the end)")
