"""Progress inside long stages (pipeline/core/progress.py, shown by pipeline/run/progress.py):
a no-op without a channel; counts told through it by a kernel and its forked workers; shown
as one updating line on a terminal and not at all elsewhere; never in the executed notebooks
or the data."""

from __future__ import annotations

import json
import os
import re
import select
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from conftest import ROOT, copy_params_dir
from pipeline.core import parallel
from pipeline.core import progress
from pipeline.run import progress as run_progress

pytestmark = pytest.mark.skipif(not progress.available(), reason="канал прогресса есть только в Linux")


@pytest.fixture
def no_channel(monkeypatch):
    monkeypatch.delenv(progress.ENV, raising=False)
    monkeypatch.delenv(progress.LABEL_ENV, raising=False)
    monkeypatch.setattr(progress, "_sock", None)
    monkeypatch.setattr(progress, "_last", 0.0)


@pytest.fixture
def listener(monkeypatch, no_channel):
    """A channel this process listens on, named in this process's environment."""
    got = progress.Listener()
    for key, value in got.env("2026 · Загрузка").items():
        monkeypatch.setenv(key, value)
    yield got
    got.close()


def test_without_a_channel_nothing_is_opened_or_kept(no_channel):
    progress.step(progress.FORMS_READ, 5, 10)
    progress.step(progress.FORMS_READ, 10, 10)
    counter = progress.Counter(progress.PAGES_WRITTEN, 1000)
    for _ in range(1000):
        counter.add()
    counter.finish()
    assert progress._sock is None  # no socket was even created
    assert counter._value is None  # no shared memory either
    assert not progress.active()


def test_a_run_that_is_gone_costs_the_sender_nothing(no_channel, monkeypatch):
    """The listener of a killed run no longer exists: sending neither raises nor prints."""
    gone = progress.Listener()
    address = gone.address
    gone.close()
    monkeypatch.setenv(progress.ENV, address)
    progress.step(progress.FORMS_READ, 1, 2)
    progress.step(progress.FORMS_READ, 2, 2)  # the final one, which may wait: refused at once


def test_the_channel_leaves_no_file(listener):
    """Abstract namespace: nothing in the file system, so a killed run leaves nothing stale."""
    assert listener.address.startswith("@")
    before = set(os.listdir(tempfile.gettempdir()))
    other = progress.Listener()
    assert set(os.listdir(tempfile.gettempdir())) == before
    assert other.address != listener.address
    other.close()


def test_counts_are_rate_limited_and_the_last_always_told(listener):
    counter = progress.Counter(progress.FORMS_READ, 10_000)
    for _ in range(10_000):
        counter.add()
    counter.finish()
    got = listener.receive()
    assert got[0] == progress.Message("2026 · Загрузка", progress.FORMS_READ, 0, 10_000)
    assert got[-1] == progress.Message("2026 · Загрузка", progress.FORMS_READ, 10_000, 10_000)
    assert len(got) < 100  # not one message per form
    assert [m.done for m in got] == sorted(m.done for m in got)
    # never a blocking socket: one with a timeout spins on a full queue, using the stage's CPU
    assert progress._sock.gettimeout() == 0.0


def test_a_display_that_is_behind_loses_messages_not_the_stage(listener):
    """Nobody reads: the queue fills, messages are dropped, the sender goes on."""
    for i in range(1000):
        progress._last = 0.0  # as if each came after the interval
        progress.step(progress.FORMS_READ, i, 1000)
    got = listener.receive()
    assert 0 < len(got) < 1000 and got[0].done == 0


def _add_many(n: int) -> int:
    counter = parallel.shared()
    for _ in range(n):
        counter.add()
    return n


@pytest.mark.skipif(not parallel.can_fork(), reason="нет fork")
def test_forked_workers_add_to_one_count(listener):
    """Workers forked after the counter was made add to the same number, under its lock."""
    counter = progress.Counter(progress.PAGES_WRITTEN, 4 * 2500)
    assert sum(parallel.fork_map(_add_many, [2500] * 4, 2, share=counter)) == 10_000
    assert counter._value.value == 10_000  # no update lost between the processes
    counter.finish()
    got = listener.receive()
    assert got and all(m.what == progress.PAGES_WRITTEN and m.total == 10_000 for m in got)
    assert max(m.done for m in got) == 10_000


@pytest.mark.parametrize("workers", [1, 2])
def test_ingest_counts_every_form_found_in_any_way_it_reads_them(listener, monkeypatch, workers):
    """In this process, in one forked reader, or in a pool of forked readers: the last count
    told is every form of the year, and the forms read are the same as without a channel."""
    from pipeline.config.methodology import load_methodology
    from pipeline.config.params import load_params
    from pipeline.stages import ingest

    params = load_params(ROOT / "params" / "2026.yaml")
    methodology = load_methodology(params.methodology)
    forms = [f for f in ingest.load_raw(params).files if f.name.endswith(".xlsx") and f.data]
    monkeypatch.setattr(ingest, "PARALLEL_FROM", 2)
    read = ingest.read_forms(forms, methodology, workers=workers, as_columns=True)
    got = listener.receive()
    assert got[0] == progress.Message("2026 · Загрузка", progress.FORMS_READ, 0, len(forms))
    assert got[-1] == progress.Message("2026 · Загрузка", progress.FORMS_READ, len(forms), len(forms))
    monkeypatch.delenv(progress.ENV)
    again = ingest.read_forms(forms, methodology, workers=workers, as_columns=True)
    assert (read.counts, read.errors, read.columns) == (again.counts, again.errors, again.columns)
    assert listener.receive() == []


def test_hostile_datagrams_are_refused_or_made_harmless():
    assert progress.decode(b"not json") is None
    assert progress.decode(json.dumps({"l": "x", "w": "y", "d": 5, "t": 3}).encode()) is None
    assert progress.decode(json.dumps({"l": "x", "w": "y", "d": -1, "t": 3}).encode()) is None
    assert progress.decode(json.dumps({"l": "x", "w": "y", "d": 1.5, "t": 3}).encode()) is None
    m = progress.decode(json.dumps({"l": "2026\x1b[2J", "w": "ы\r\n" * 100, "d": 1, "t": 3}).encode())
    assert m.label == "2026[2J" and "\x1b" not in m.label and len(m.what) <= progress.MAX_TEXT
    assert "\r" not in m.what and "\n" not in m.what


def test_the_line_says_how_far_in_russian():
    shown = run_progress.Progress(1, quiet=True)
    shown.running.append("2026 · Загрузка")
    shown.inside["2026 · Загрузка"] = progress.Message("2026 · Загрузка", progress.FORMS_READ, 1234, 10_000)
    assert shown._told("2026 · Загрузка") == "2026 · Загрузка: прочитано форм 1\u00a0234 из 10\u00a0000"
    assert shown.kernel_env("2026 · Загрузка") == {}  # no terminal here: no channel opened


@pytest.mark.parametrize("kind", ["forked", "plain"])
def test_a_stage_kernel_gets_its_channel_in_its_environment(tmp_path, monkeypatch, no_channel, kind):
    """Per stage, not through this process's environment: two years run side by side."""
    import nbformat
    import papermill as pm

    from pipeline.run import kernels
    from pipeline.run import stages as run_stages

    if kind == "plain":
        monkeypatch.setenv(kernels.SWITCH, "plain")
    elif not kernels.enabled():
        pytest.skip("ядра здесь не ответвляются (нет fork или pidfd)")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        f"import os\nprint(os.environ.get({progress.ENV!r}), os.environ.get({progress.LABEL_ENV!r}))")])
    nb.metadata["kernelspec"] = {"name": run_stages.KERNEL, "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "in.ipynb")
    printed = []
    for env in ({progress.ENV: "@канал", progress.LABEL_ENV: "2026 · загрузка"}, None):
        pm.execute_notebook(str(tmp_path / "in.ipynb"), str(tmp_path / "out.ipynb"), kernel_name=run_stages.KERNEL,
                            progress_bar=False, extra_arguments=run_stages.KERNEL_ARGUMENTS,
                            kernel_manager_class=kernels.kernel_manager_class(env))
        printed.append(nbformat.read(tmp_path / "out.ipynb", as_version=4).cells[0].outputs[0]["text"])
    assert printed == ["@канал 2026 · загрузка\n", "None None\n"]
    assert progress.ENV not in os.environ


# --- a real run of the sample ----------------------------------------------------------------

INSIDE = re.compile(r"(прочитано форм|оценено школ|записано страниц школ) (\d[\d\u00a0]*) из (\d[\d\u00a0]*)")


def _on_a_terminal(cmd: list[str], cwd: Path) -> tuple[int, str]:
    """Run cmd with stdout and stderr on a pseudo-terminal of 200 columns; its exit code and
    everything it wrote there."""
    import fcntl
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
    proc = subprocess.Popen(cmd, cwd=cwd, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave,
                            env={**os.environ, "COLUMNS": "200"})
    os.close(slave)
    out = bytearray()
    while True:
        ready = select.select([master], [], [], 1.0)[0]
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the terminal's other end is closed (the run ended)
                chunk = b""
            if not chunk:
                break
            out += chunk
        elif proc.poll() is not None:
            break
    os.close(master)
    return proc.wait(), out.decode("utf-8", "replace")


@pytest.mark.slow
def test_progress_shows_on_a_terminal_and_nowhere_else(tmp_path):
    params_dir = copy_params_dir(ROOT / "params", tmp_path)
    run = [sys.executable, "-m", "pipeline", "run"]
    code, shown = _on_a_terminal([*run, "--all", "--params-dir", str(params_dir), "--force"], ROOT)
    assert code == 0, shown
    told = {(what, int(total.replace("\u00a0", ""))) for what, _, total in INSIDE.findall(shown)}
    whats = {what for what, _ in told}
    assert whats >= {progress.FORMS_READ, progress.SCHOOLS_SCORED, progress.PAGES_WRITTEN}, shown
    # the final counts: every form found, every school scored, every page written
    for what, done, total in INSIDE.findall(shown):
        assert int(done.replace("\u00a0", "")) <= int(total.replace("\u00a0", ""))
    reports = tmp_path / "reports"
    for year in (2024, 2025, 2026):
        pages = len(list((reports / str(year) / "schools").glob("*.html")))
        assert (progress.PAGES_WRITTEN, pages) in told
        assert f"{progress.PAGES_WRITTEN} {pages} из {pages}" in shown
    assert "\r" in shown  # one line, redrawn

    for executed in sorted(reports.glob("*/audit/*")):  # nothing of the display in what the auditor reads
        text = executed.read_text(encoding="utf-8")
        assert not INSIDE.search(text) and progress.ENV not in text, executed
    audit = reports / "2026" / "audit"
    on_terminal = {p.name: p.read_bytes() for p in sorted(audit.glob("*.ipynb"))}
    processed = {p.name: p.read_bytes() for p in sorted((tmp_path / "data" / "processed" / "2026").glob("*.csv"))}
    assert len(on_terminal) == 5 and processed

    # the same year with stdout and stderr to pipes (a log, CI): no progress at all, and the
    # executed notebooks and the data are the same, byte for byte
    piped = subprocess.run([*run, "--params", str(params_dir / "2026.yaml"), "--force"], cwd=ROOT,
                           stdin=subprocess.DEVNULL, capture_output=True, text=True)
    assert piped.returncode == 0, piped.stderr
    assert not INSIDE.search(piped.stdout + piped.stderr)
    assert "\r" not in piped.stdout + piped.stderr
    assert "2026 · загрузка … готово" in piped.stdout  # the line per stage is still there
    assert {p.name: p.read_bytes() for p in sorted(audit.glob("*.ipynb"))} == on_terminal
    assert {p.name: p.read_bytes() for p in sorted((tmp_path / "data" / "processed" / "2026").glob("*.csv"))} == processed


def _progress_sockets(pid: int) -> list[str]:
    """The abstract sockets of run `pid`'s progress channel that exist now (/proc/net/unix)."""
    name = f"@pipeline-progress-{pid}-"
    return [line for line in Path("/proc/net/unix").read_text().splitlines() if name in line]


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/net/unix").is_file(), reason="нет /proc/net/unix")
def test_a_killed_run_leaves_no_channel(tmp_path):
    """kill -9 of a run showing progress: its socket goes with it, no file is left anywhere."""
    import pty
    import time

    from processes import kill_run

    params_dir = copy_params_dir(ROOT / "params", tmp_path)
    before = set(os.listdir(tempfile.gettempdir()))
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", "run", "--params", str(params_dir / "2024.yaml")],
                            cwd=ROOT, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave)
    os.close(slave)
    try:
        deadline = time.monotonic() + 120
        while not _progress_sockets(proc.pid) and proc.poll() is None and time.monotonic() < deadline:
            if select.select([master], [], [], 0.1)[0]:
                os.read(master, 65536)  # the terminal is read, as a person's would be
        assert _progress_sockets(proc.pid), "the run opened no progress channel"
    finally:
        kill_run(proc)
        os.close(master)
    assert _progress_sockets(proc.pid) == []
    assert not [n for n in set(os.listdir(tempfile.gettempdir())) - before if "progress" in n]
