"""Several years at once: the stages of every year as one graph, run by a few worker threads.

Each task is one stage of one year; each thread drives one papermill kernel at a time, so two
workers keep two kernels (two cores) busy. A task waits for what it reads:

* clean, score, recommendations and report of a year wait for the stage before them;
* recommendations of a year also wait for the previous year's recommendations (follow-up
  reads them), and so for every earlier year's processed tables;
* report of a year waits for its recommendations, and through them for the earlier years'
  processed tables it shows as dynamics;
* a year's manifest is written when its stages and those of every earlier year in the run
  are done (it records their processed tables);
* the site index (reports/index.html) is built once, after everything.

So ingest, clean and score of different years run side by side, and a year's chain of
recommendations follows the years in order. Ready tasks start oldest year first, earlier
stage first: with one worker the order is exactly the year-by-year order of `run_year`.

Everything `run_year` promises holds per year: the per-year lock (held for the whole run), a
stage skipped when nothing it depends on changed (and every later stage of the year run once
one ran), outputs moved into place only when a stage succeeded, staging folders removed.
Outputs do not depend on the number of workers. A failed task stops the tasks that depend
on it, nothing else: other years run to the end, then the first failure (oldest year,
earliest stage) is raised and the others are listed.
"""

from __future__ import annotations

import shutil
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from . import manifest as mf
from ..core.parallel import cores
from ..core.errors import RunError
from ..config.params import YearParams
from .generation import Generation
from .runner import (
    STAGES, Progress, Stage, YearResult, load_state, prepare_to_run, run_stage, write_manifest, writing, year_lock,
)

MANIFEST = "manifest"


def default_jobs() -> int:
    """Two workers where there are two cores or more: each drives one kernel."""
    return min(2, cores())


@dataclass(frozen=True)
class Task:
    year: int
    stage: str          # a stage's name, or MANIFEST
    order: tuple[int, int]

    @property
    def label(self) -> str:
        return f"{self.year} · {self.stage}"


@dataclass
class Plan:
    """The tasks and what each waits for."""

    tasks: list[Task]
    needs: dict[Task, set[Task]] = field(default_factory=dict)

    def task(self, year: int, stage: str) -> Task | None:
        return next((t for t in self.tasks if t.year == year and t.stage == stage), None)


def plan(years: Sequence[YearParams], stages: Sequence[Stage] = STAGES) -> Plan:
    """The graph of the run: a task per year and stage, plus one manifest task per year."""
    names = [s.name for s in stages]
    ordered = sorted(years, key=lambda p: p.year)
    tasks: list[Task] = []
    needs: dict[Task, set[Task]] = {}
    index: dict[tuple[int, str], Task] = {}
    for p in ordered:
        for i, name in enumerate(names + [MANIFEST]):
            t = Task(p.year, name, (p.year, i))
            tasks.append(t)
            index[(p.year, name)] = t
            needs[t] = set()
    for p in ordered:
        for i, stage in enumerate(stages):
            t = index[(p.year, stage.name)]
            if i:
                needs[t].add(index[(p.year, names[i - 1])])
            if stage.history:
                # follow-up and dynamics read earlier years' processed tables: wait for the
                # last stage up to this one that writes them (recommendations for the
                # report, not the earlier report), in every earlier year of the run (for a
                # chain of years the previous year is enough; the others are implied)
                writer = [s.name for s in stages[: i + 1] if s.target == "processed_dir"]
                for q in ordered:
                    if q.year < p.year and writer:
                        needs[t].add(index[(q.year, writer[-1])])
        done = index[(p.year, MANIFEST)]
        needs[done].add(index[(p.year, names[-1])])
        for q in ordered:
            if q.year < p.year:
                needs[done].add(index[(q.year, MANIFEST)])
    return Plan(tasks, needs)


@dataclass
class _Year:
    params: YearParams
    result: YearResult
    state: dict[str, Any]
    generation: Generation
    rerun: bool = False
    started: float | None = None


def _finish_year(y: _Year, stages: Sequence[Stage], notebooks_dir: Path, code: dict[str, Any] | None) -> None:
    """A year whose stages are done: its manifest, the site index when its report ran (before
    the commit: rebuilt on a rollback), then the commit of its new generation."""
    y.result.manifest = write_manifest(y.params, stages, notebooks_dir, y.state, code, changed=bool(y.result.ran))
    if any(s.publishes and s.name in y.result.ran for s in stages):
        from ..report import site

        site.build_index(y.params.site_dir)
    y.generation.commit()
    y.result.seconds = time.perf_counter() - (y.started or time.perf_counter())


def run_years(
    years: Sequence[YearParams],
    *,
    notebooks_dir: Path,
    stages: Sequence[Stage] = STAGES,
    force: bool = False,
    strict: bool = False,
    progress: Progress | None = None,
    jobs: int | None = None,
    code: dict[str, Any] | None = None,
    on_year_done=None,
) -> list[YearResult]:
    """Run the stages of several years as a graph with `jobs` workers (default_jobs()).

    on_year_done(params, result) is called when a year's manifest is written. Raises the first
    failure after every task that does not depend on a failed one has finished.
    """
    notebooks_dir = Path(notebooks_dir).resolve()
    jobs = jobs or default_jobs()
    progress = progress or Progress(len(years) * len(stages), quiet=True)
    by_year = {p.year: p for p in years}
    graph = plan(years, stages)
    stage_of = {s.name: s for s in stages}
    code_sha = mf.source_sha256()
    errors: dict[Task, BaseException] = {}
    blocked: dict[Task, Task] = {}
    reports_ran = threading.Event()

    with ExitStack() as stack:
        stack.enter_context(writing())  # a lock, a staging folder or the site index not written
        for p in sorted(years, key=lambda p: p.year):
            stack.enter_context(year_lock(p))
        run = {p.year: _Year(p, YearResult(p.year), load_state(p), Generation(p)) for p in years}
        for y in run.values():
            y.state.setdefault("stages", {})
        if force or any(s.name not in y.state["stages"] for y in run.values() for s in stages):
            prepare_to_run()  # a stage will run for sure: its imports happen meanwhile
        try:
            def execute(task: Task) -> None:
                y = run[task.year]
                if y.started is None:
                    y.started = time.perf_counter()
                if task.stage == MANIFEST:
                    _finish_year(y, stages, notebooks_dir, code)
                    if on_year_done is not None:
                        on_year_done(y.params, y.result)
                    return
                stage = stage_of[task.stage]
                ran = run_stage(y.params, stage, notebooks_dir, y.state, force=force, rerun=y.rerun, strict=strict,
                                progress=progress, code_sha=code_sha, result=y.result, site_index=False,
                                on_write=y.generation.begin)
                y.rerun = y.rerun or ran
                if ran and stage.publishes:
                    reports_ran.set()

            _drive(graph, execute, jobs, errors, blocked)
        finally:
            for y in run.values():  # a year not committed (failed, blocked, interrupted) keeps its previous one
                y.generation.rollback()
            for p in years:  # partial files of a failed stage are not kept (its executed notebook is)
                for root in mf.ROOTS:
                    shutil.rmtree(Path(getattr(p, root)) / ".staging", ignore_errors=True)
            if reports_ran.is_set():
                from ..report import site

                for folder in dict.fromkeys(Path(p.site_dir) for p in years):
                    site.build_index(folder)  # reports/index.html lists every built year

    if errors:
        first, *others = sorted(errors, key=lambda t: t.order)
        for task in others:
            progress.line(f"{task.year} · {_title(task, stage_of)}: ошибка — {errors[task]}", always=True)
        for task, cause in sorted(blocked.items(), key=lambda kv: kv[0].order):
            if task.stage != MANIFEST:
                progress.line(f"{task.year} · {_title(task, stage_of)} … не выполнен: сначала должен выполниться "
                              f"этап {cause.year} · {_title(cause, stage_of)}", always=True)
        with writing():  # a stage's output not written: told as such
            raise errors[first]
    return [run[y].result for y in sorted(by_year)]


def _title(task: Task, stage_of: dict[str, Stage]) -> str:
    stage = stage_of.get(task.stage)
    return stage.title if stage else task.stage


def _drive(graph: Plan, execute, jobs: int, errors: dict[Task, BaseException], blocked: dict[Task, Task]) -> None:
    """Start every task whose needs are done, oldest year and earliest stage first, on up to
    `jobs` threads; a task whose need failed (or was itself blocked) is not started."""
    pending = {t: set(graph.needs[t]) for t in graph.tasks}
    finished: set[Task] = set()
    running: dict[Future, Task] = {}
    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="stage") as pool:
        try:
            while pending or running:
                # tasks that can never run: a need failed or was blocked
                for t in sorted(pending, key=lambda t: t.order):
                    bad = [n for n in pending[t] if n in errors or n in blocked]
                    if bad:
                        cause = min(bad, key=lambda n: n.order)
                        blocked[t] = blocked.get(cause, cause)
                        del pending[t]
                ready = sorted((t for t, needs in pending.items() if needs <= finished), key=lambda t: t.order)
                for t in ready[: max(0, jobs - len(running))]:
                    del pending[t]
                    running[pool.submit(execute, t)] = t
                if not running:
                    if pending:  # cannot happen with a valid plan: say so instead of waiting forever
                        raise RunError("План запуска содержит цикл: " + ", ".join(t.label for t in pending),
                                            "Проверьте previous_params в файлах параметров.")
                    break
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    t = running.pop(future)
                    exc = future.exception()
                    if exc is None:
                        finished.add(t)
                    else:
                        errors[t] = exc
        except BaseException:
            for future in running:
                future.cancel()
            raise


def describe(graph: Plan) -> list[str]:
    """The plan as lines «task ← needs» (for tests and debugging)."""
    return [f"{t.label} ← {', '.join(n.label for n in sorted(graph.needs[t], key=lambda n: n.order)) or '—'}"
            for t in graph.tasks]
