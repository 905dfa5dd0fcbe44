"""The runner: executes a year's stage notebooks with papermill — safely, incrementally, with
an audit copy of every executed notebook and a manifest of what came out.

A year runs its stages in order. Each stage
- is skipped when nothing it depends on changed since its last success: the hash of its
  inputs (raw files or earlier stages' outputs, earlier years' data where it reads them), the
  parameter file, the methodology, the stage notebook and the pipeline package's source equals
  the one recorded in `processed_dir/.state.json`, and its outputs still have the recorded
  hashes. Once a stage runs, every stage after it runs too;
- otherwise runs its notebook (kernel python3, cwd notebooks/) with `params_file` and an
  `output_dir` staging folder; only when the notebook succeeded and wrote every file of the
  data contract are the files moved into place, so a failed or interrupted run leaves the
  previous outputs intact;
- leaves its executed notebook, made deterministic, and its HTML in `reports/<year>/audit/`
  (a failed one as `<name>.failed.ipynb`: the executed notebook is the error report).
The report stage's executed notebook also becomes the year's published `index.html`
(pipeline.report.export_html), and the site index `reports/index.html` is rebuilt.

Two runs of the same year never overlap: `processed_dir/.lock` holds the running pid.
`verify` re-runs a year in a temporary folder and compares with `reports/<year>/manifest.json`.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

import yaml

from . import kernels
from . import manifest as mf
from .contract import OUTPUTS
from .errors import PipelineError, RunLockedError, StageError, StrictModeError
from .params import YearParams, discover_params, load_params
from .storage import sha256_bytes, sha256_file, write_bytes_atomic

NOTEBOOKS_DIR = mf.REPO_ROOT / "notebooks"
STATE_NAME = ".state.json"
LOCK_NAME = ".lock"
STAGING = ".staging"
AUDIT = "audit"
KERNEL = "python3"
# The kernel keeps its start-up chatter to itself, and shows table values in full: pandas
# would cut paths and checksums at 50 characters, at a place that depends on how long the
# run's folder names are — an auditor could not read them, and a re-run elsewhere (verify)
# would show other text. At most 20 columns, wrapped at 80 characters: what pandas chooses when
# it is first imported inside a kernel, stated here because a kernel forked from the warm
# process (pipeline/kernels.py) has pandas imported outside one, where it would fit the
# columns to a terminal instead.
KERNEL_ARGUMENTS = [
    "--IPKernelApp.log_level=CRITICAL",
    "--IPKernelApp.exec_lines=import pandas; pandas.set_option('display.max_colwidth', 100000);"
    " pandas.set_option('display.max_columns', 20)",
]
ALL_YEARS = mf.ALL_YEARS


@dataclass(frozen=True)
class Stage:
    """One step of a year, declared as data."""

    name: str                       # the contract's name (pipeline/contract.py)
    notebook: str                   # file in notebooks/
    title: str                      # what people read in the progress and the errors
    reads: tuple[str, ...] = ()     # earlier stages of the year whose outputs it reads
    raw: bool = False               # reads the year's raw folder
    history: int = 0                # earlier years it reads: 1 = previous year, ALL_YEARS = all
    target: str = "processed_dir"   # where its outputs go
    publishes: bool = False         # its executed notebook becomes the year's published index.html

    @property
    def outputs(self) -> tuple[str, ...]:
        """Files the stage must write (the data contract); it may write more."""
        return tuple(OUTPUTS.get(self.name, {}))


STAGES: tuple[Stage, ...] = (
    Stage("ingest", "01_ingest.ipynb", "загрузка", raw=True),
    Stage("clean", "02_clean.ipynb", "очистка", reads=("ingest",)),
    Stage("score", "03_score.ipynb", "оценка", reads=("ingest", "clean")),
    Stage("recommendations", "04_recommendations.ipynb", "рекомендации",
          reads=("ingest", "clean", "score"), history=1),
    Stage("report", "05_report.ipynb", "отчёт",
          reads=("ingest", "clean", "score", "recommendations"), history=ALL_YEARS, target="reports_dir",
          publishes=True),
)
STAGE_NAMES = tuple(s.name for s in STAGES)


def stages_until(last: str | None, stages: Sequence[Stage] = STAGES) -> tuple[Stage, ...]:
    """The stages from the first up to `last` inclusive (all when None)."""
    if last is None:
        return tuple(stages)
    names = [s.name for s in stages]
    if last not in names:
        raise PipelineError(f"Неизвестный этап «{last}»", f"Этапы: {', '.join(names)}.")
    return tuple(stages[: names.index(last) + 1])


# --- small helpers -----------------------------------------------------------------------

def _shown(path: Path | str) -> str:
    """A path as a person would type it: relative to the current folder when inside it."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


def _seconds(t: float) -> str:
    return f"{t:.1f}".replace(".", ",")


def _digest(obj: Any) -> str:
    return sha256_bytes(json.dumps(obj, sort_keys=True, ensure_ascii=False).encode("utf-8"))


def _csv_count(path: Path, column: str | None = None, value: str | None = None) -> int:
    """Rows of a CSV file (0 when absent); with column/value only rows where column == value."""
    if not path.is_file():
        return 0
    with open(path, encoding="utf-8", newline="") as fh:
        rows = csv.DictReader(fh)
        return sum(1 for row in rows if column is None or row.get(column) == value)


def _notebook_display(path: Path) -> str:
    try:
        return path.resolve().relative_to(mf.REPO_ROOT).as_posix()
    except ValueError:
        return path.name


# --- lock --------------------------------------------------------------------------------

def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def _lock_pid(lock: Path) -> int | None:
    try:
        return int(lock.read_text(encoding="utf-8").split()[0])
    except (OSError, ValueError, IndexError):
        return None


@contextmanager
def year_lock(params: YearParams) -> Iterator[Path]:
    """Hold processed_dir/.lock for the duration; refuse if a live process holds it.

    A lock left by a process that no longer exists (a killed run) is taken over.
    """
    folder = Path(params.processed_dir)
    folder.mkdir(parents=True, exist_ok=True)
    lock = folder / LOCK_NAME
    for _ in range(3):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            pid = _lock_pid(lock)
            if pid is None:
                try:  # being written just now by another run, or garbage left long ago
                    if time.time() - lock.stat().st_mtime < 5:
                        raise RunLockedError(params.year, str(lock))
                except FileNotFoundError:
                    continue
            elif pid != os.getpid() and _pid_alive(pid):
                raise RunLockedError(params.year, str(lock))
            lock.unlink(missing_ok=True)
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(f"{os.getpid()}\n")
        break
    else:
        raise RunLockedError(params.year, str(lock))
    try:
        yield lock
    finally:
        if _lock_pid(lock) == os.getpid():
            lock.unlink(missing_ok=True)


# --- state (what each stage was last run on) ---------------------------------------------

def _state_path(params: YearParams) -> Path:
    return Path(params.processed_dir) / STATE_NAME


def load_state(params: YearParams) -> dict[str, Any]:
    try:
        data = json.loads(_state_path(params).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"stages": {}}
    if not isinstance(data, dict) or not isinstance(data.get("stages"), dict):
        return {"stages": {}}
    return data


def save_state(params: YearParams, state: dict[str, Any]) -> None:
    text = json.dumps(state, sort_keys=True, ensure_ascii=False, indent=1) + "\n"
    write_bytes_atomic(_state_path(params), text.encode("utf-8"))


def stage_inputs(params: YearParams, stage: Stage, notebooks_dir: Path, code_sha: str) -> dict[str, Any]:
    """Everything the stage's result depends on, each as a hash."""
    inputs: dict[str, Any] = {
        "params": sha256_file(params.source),
        "methodology": sha256_file(params.methodology),
        "notebook": sha256_file(Path(notebooks_dir) / stage.notebook),
        "code": code_sha,
    }
    if stage.raw:
        inputs["raw"] = _digest({rel: sha256_file(p) for rel, p in mf.tree_files(params.raw_dir).items()})
    if stage.reads:
        folder = Path(params.processed_dir)
        inputs["earlier"] = _digest({
            name: (sha256_file(folder / name) if (folder / name).is_file() else None)
            for earlier in stage.reads
            for name in OUTPUTS.get(earlier, {})
        })
    if stage.history:
        inputs["history"] = _digest(mf.earlier_years(params, stage.history))
    return inputs


_INPUT_LABELS = {
    "params": "параметры",
    "methodology": "методика",
    "notebook": "блокнот",
    "code": "код pipeline",
    "raw": "сырые данные",
    "earlier": "результаты предыдущих этапов",
    "history": "данные прошлых лет",
}


def _why_run(prev: dict[str, Any] | None, inputs: dict[str, Any], params: YearParams) -> str:
    """Why a stage must run, in words; empty when it can be skipped."""
    if not prev:
        return "первый запуск"
    old = prev.get("inputs", {})
    changed = [label for key, label in _INPUT_LABELS.items() if old.get(key) != inputs.get(key)]
    if changed:
        return "изменились: " + ", ".join(changed)
    for key, sha in (prev.get("outputs") or {}).items():
        path = mf.path_for(params, key)
        if not path.is_file() or sha256_file(path) != sha:
            return f"результат {path.name} изменён или удалён"
    return ""


# --- progress ----------------------------------------------------------------------------

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


# --- one stage ---------------------------------------------------------------------------

def _fresh_dir(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def _keep_executed(params: YearParams, stage: Stage, executed: Path, notebooks_dir: Path, *, failed: bool) -> Path:
    """Make the executed notebook deterministic and keep it (and its HTML) in audit/."""
    import nbformat

    from .notebooks import make_deterministic, to_html

    audit = Path(params.reports_dir) / AUDIT
    stem = Path(stage.notebook).stem + (".failed" if failed else "")
    nb_path, html_path = audit / f"{stem}.ipynb", audit / f"{stem}.html"
    nb = nbformat.read(executed, as_version=4)
    make_deterministic(
        nb,
        input_path=_notebook_display(Path(notebooks_dir) / stage.notebook),
        output_path=f"{AUDIT}/{nb_path.name}",
    )
    write_bytes_atomic(nb_path, nbformat.writes(nb).encode("utf-8"))
    title = f"{params.year} · {stage.title} ({stage.notebook})"
    write_bytes_atomic(html_path, to_html(nb, title).encode("utf-8"))
    executed.unlink(missing_ok=True)
    return nb_path


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def execute_stage(params: YearParams, stage: Stage, notebooks_dir: Path, *, site_index: bool = True) -> dict[str, str]:
    """Run one stage's notebook; on success move its outputs into place.

    Returns {location key: sha256} of what the stage wrote, its audit copies included.
    Raises StageError naming the cell and the kept executed notebook when it fails.
    site_index=False leaves reports/index.html to the caller (the scheduler builds it once,
    when every year is done). Safe to call from several threads for different years.
    """
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    label = f"{params.year} · {stage.title}"
    source = Path(notebooks_dir) / stage.notebook
    target = Path(getattr(params, stage.target))
    staging = _fresh_dir(target / STAGING / stage.name)
    audit_staging = Path(params.reports_dir) / STAGING / AUDIT
    audit_staging.mkdir(parents=True, exist_ok=True)
    executed = audit_staging / stage.notebook
    executed.unlink(missing_ok=True)
    try:
        pm.execute_notebook(
            str(source),
            str(executed),
            parameters={"params_file": str(params.source), "output_dir": str(staging)},
            kernel_name=KERNEL,
            # the kernel starts in notebooks/; papermill's cwd= would chdir this whole
            # process, which two threads running two years must not do
            resources={"metadata": {"path": str(notebooks_dir)}},
            progress_bar=False,
            log_output=False,
            # papermill would rewrite (and re-validate) the whole notebook at every cell's start
            # and end; a report of 10,000 schools grows to ~20 MB. Written once at the end (and
            # on a failing cell, with the error marked).
            request_save_on_cell_execute=False,
            extra_arguments=KERNEL_ARGUMENTS,
            # forked from a process that has imported pandas, matplotlib and the pipeline
            kernel_manager_class=kernels.kernel_manager_class(),
        )
    except PapermillExecutionError as exc:
        kept = _keep_executed(params, stage, executed, notebooks_dir, failed=True)
        cell = exc.exec_count if exc.exec_count is not None else exc.cell_index
        raise StageError(label, _shown(kept), cell=cell, ename=exc.ename, evalue=_short(exc.evalue)) from None
    except Exception as exc:  # the kernel died, the notebook is not valid JSON, …
        kept = _keep_executed(params, stage, executed, notebooks_dir, failed=True) if executed.is_file() else source
        raise StageError(label, _shown(kept), ename=type(exc).__name__, evalue=_short(exc)) from None

    missing = [name for name in stage.outputs if not (staging / name).is_file()]
    if missing:
        kept = _keep_executed(params, stage, executed, notebooks_dir, failed=True)
        raise StageError(
            label, _shown(kept), ename="нет результатов",
            evalue=f"блокнот не записал в output_dir {', '.join(missing)}",
        )
    if stage.publishes:
        # the published page is the executed notebook without code (pipeline.report.export_html)
        try:
            from . import report

            report.export_html(executed, staging / "index.html", params)
        except Exception as exc:  # noqa: BLE001 - reported as the stage's failure, notebook kept
            kept = _keep_executed(params, stage, executed, notebooks_dir, failed=True)
            raise StageError(label, _shown(kept), ename=type(exc).__name__,
                             evalue=_short(f"страница отчёта не построена: {exc}")) from None

    written: dict[str, str] = {}
    for rel, path in mf.tree_files(staging).items():
        final = target / rel
        final.parent.mkdir(parents=True, exist_ok=True)
        sha = sha256_file(path)
        os.replace(path, final)
        written[mf.key_for(params, final)] = sha
    kept = _keep_executed(params, stage, executed, notebooks_dir, failed=False)
    for path in (kept, kept.with_suffix(".html")):
        written[mf.key_for(params, path)] = sha256_file(path)
    stem = Path(stage.notebook).stem
    for suffix in (".ipynb", ".html"):
        (kept.parent / f"{stem}.failed{suffix}").unlink(missing_ok=True)
    shutil.rmtree(staging, ignore_errors=True)
    if stage.publishes and site_index:
        from . import site

        site.build_index(params.site_dir)  # reports/index.html lists every built year
    return written


# --- one year ----------------------------------------------------------------------------

@dataclass
class YearResult:
    year: int
    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    manifest: Path | None = None
    issues: int = 0
    rejected: int = 0
    seconds: float = 0.0


def check_notebooks(stages: Sequence[Stage], notebooks_dir: Path) -> None:
    missing = [s.notebook for s in stages if not (Path(notebooks_dir) / s.notebook).is_file()]
    if missing:
        raise PipelineError(
            f"Не найдены блокноты этапов в папке {_shown(notebooks_dir)}: {', '.join(missing)}",
            "Восстановите их из репозитория (git checkout notebooks/) или укажите этапы "
            "до существующего блокнота: --until.",
        )


def check_methodology(params: YearParams) -> None:
    """Validate the year's methodology and its targets before any stage runs."""
    from .methodology import check_targets, load_methodology

    check_targets(load_methodology(params.methodology), params)


def run_year(
    params: YearParams | str | Path,
    *,
    notebooks_dir: str | Path = NOTEBOOKS_DIR,
    stages: Sequence[Stage] = STAGES,
    force: bool = False,
    strict: bool = False,
    progress: Progress | None = None,
    code: dict[str, Any] | None = None,
) -> YearResult:
    """Run (or skip) the stages of one year, then write its manifest."""
    if not isinstance(params, YearParams):
        params = load_params(params)
    notebooks_dir = Path(notebooks_dir).resolve()
    check_notebooks(stages, notebooks_dir)
    progress = progress or Progress(len(stages), quiet=True)
    result = YearResult(params.year)
    started = time.perf_counter()
    code_sha = mf.source_sha256()
    with year_lock(params):
        try:
            _run_stages(params, stages, notebooks_dir, force=force, strict=strict, progress=progress,
                        code=code, code_sha=code_sha, result=result)
        finally:  # partial files of a failed stage are not kept (its executed notebook is)
            for root in mf.ROOTS:
                shutil.rmtree(Path(getattr(params, root)) / STAGING, ignore_errors=True)
    result.seconds = time.perf_counter() - started
    return result


def _run_stages(
    params: YearParams,
    stages: Sequence[Stage],
    notebooks_dir: Path,
    *,
    force: bool,
    strict: bool,
    progress: Progress,
    code: dict[str, Any] | None,
    code_sha: str,
    result: YearResult,
) -> None:
    """Each stage in order: skip it if unchanged, else run it; then write the manifest."""
    state = load_state(params)
    state.setdefault("stages", {})
    rerun = False
    for stage in stages:
        rerun = run_stage(params, stage, notebooks_dir, state, force=force, rerun=rerun, strict=strict,
                          progress=progress, code_sha=code_sha, result=result) or rerun
    result.manifest = write_manifest(params, stages, notebooks_dir, state, code, changed=bool(result.ran))


_PREPARED = threading.Event()


def prepare_to_run() -> None:
    """A stage will run: start the kernels' warm process and, in a background thread, import
    what executing a stage needs here (papermill, nbconvert's HTML exporter: ~0.5 s), so that
    neither waits on the first stage's path. Never called on a run where nothing changed."""
    kernels.prestart()
    if _PREPARED.is_set():
        return
    _PREPARED.set()

    def imports() -> None:
        try:
            import papermill  # noqa: F401
            from nbconvert import HTMLExporter  # noqa: F401
        except Exception:  # noqa: BLE001 - imported again (and failing visibly) where used
            pass

    threading.Thread(target=imports, name="stage-imports", daemon=True).start()


def run_stage(
    params: YearParams,
    stage: Stage,
    notebooks_dir: Path,
    state: dict[str, Any],
    *,
    force: bool,
    rerun: bool,
    strict: bool,
    progress: Progress,
    code_sha: str,
    result: YearResult,
    site_index: bool = True,
) -> bool:
    """Skip the stage if nothing it depends on changed (and no earlier stage of the year ran:
    `rerun`), else run it and record it in the year's state. True when it ran."""
    label = f"{params.year} · {stage.title}"
    progress.start(label)
    ran = False
    try:
        prev = state["stages"].get(stage.name)
        if force or rerun or prev is None:  # it will run: the warm process imports meanwhile
            prepare_to_run()
        inputs = stage_inputs(params, stage, notebooks_dir, code_sha)
        if force:
            why = "--force"
        elif rerun:
            why = "перезапущен предыдущий этап"
        else:
            why = _why_run(prev, inputs, params)
        if why:
            prepare_to_run()
            t0 = time.perf_counter()
            written = execute_stage(params, stage, notebooks_dir, site_index=site_index)
            for key in (prev or {}).get("outputs", {}):
                if key not in written:  # a file the stage no longer writes
                    mf.path_for(params, key).unlink(missing_ok=True)
            state["stages"][stage.name] = {
                "input_key": _digest(inputs), "inputs": inputs, "outputs": written,
            }
            save_state(params, state)
            ran = True
            result.ran.append(stage.name)
            progress.done(f"{label} … готово за {_seconds(time.perf_counter() - t0)} с ({why})", label)
        else:
            result.skipped.append(stage.name)
            progress.done(f"{label} … без изменений — пропущен", label)
    finally:
        progress.forget(label)
    if stage.name == "clean":
        issues_csv = Path(params.processed_dir) / "issues.csv"
        result.issues = _csv_count(issues_csv)
        result.rejected = _csv_count(Path(params.processed_dir) / "files.csv", "status", "rejected")
        if strict and result.issues:
            raise StrictModeError(result.issues, _shown(issues_csv))
    return ran


def write_manifest(
    params: YearParams,
    stages: Sequence[Stage],
    notebooks_dir: Path,
    state: dict[str, Any],
    code: dict[str, Any] | None,
    *,
    changed: bool = True,
) -> Path:
    """reports/<year>/manifest.json from the year's state after its stages.

    changed=False (no stage of the year ran): the manifest of the run that made the outputs
    stays as it is — they are still its outputs (each stage checked them against the hashes
    it recorded), and rebuilding it would re-read every report file (tens of seconds at
    10,000 schools) only to write the same record."""
    if not changed:
        try:
            mf.read(params)
            return Path(params.reports_dir) / mf.MANIFEST_NAME
        except PipelineError:  # missing, unreadable or of an older format: written anew
            pass
    stage_records = []
    outputs: set[str] = set()
    for stage in stages:
        record = state["stages"][stage.name]
        outputs.update(record["outputs"])
        executed = f"{mf.ROOTS[1]}/{AUDIT}/{stage.notebook}"
        stage_records.append({
            "name": stage.name,
            "title": stage.title,
            "notebook": _notebook_display(notebooks_dir / stage.notebook),
            "notebook_sha256": record["inputs"]["notebook"],
            "input_key": record["input_key"],
            "executed_notebook": executed,
            "executed_html": executed[: -len(".ipynb")] + ".html",
            "outputs": sorted(k for k in record["outputs"] if not k.startswith(f"{mf.ROOTS[1]}/{AUDIT}/")),
        })
    manifest = mf.build(params, stages=stage_records, outputs=outputs, notebooks_dir=notebooks_dir, code=code)
    return mf.write(params, manifest)


def _year_summary(params: YearParams, result: YearResult, progress: Progress) -> None:
    parts = [f"выполнено этапов — {len(result.ran)}", f"пропущено — {len(result.skipped)}"]
    progress.line(f"{params.year}: {', '.join(parts)}, за {_seconds(result.seconds)} с. "
                  f"Манифест: {_shown(result.manifest)}", always=True)
    if result.issues or result.rejected:
        progress.line(
            f"{params.year}: замечаний к данным — {result.issues}, отклонено файлов — {result.rejected}; "
            f"подробности: {_shown(Path(params.processed_dir) / 'issues.csv')}",
            always=True,
        )


def _load_all(args) -> list[YearParams]:
    if getattr(args, "all", False):
        files = discover_params(args.params_dir)
        if not files:
            raise PipelineError(f"В папке {args.params_dir} нет файлов параметров (*.yaml)",
                                "Укажите папку с файлами годов: --params-dir.")
    else:
        files = [args.params]
    loaded = sorted((load_params(f) for f in files), key=lambda p: p.year)
    years = [p.year for p in loaded]
    for year in set(years):
        if years.count(year) > 1:
            dup = [str(p.source) for p in loaded if p.year == year]
            raise PipelineError(f"Год {year} задан в нескольких файлах параметров: {', '.join(dup)}",
                                "Оставьте один файл на год.")
    return loaded


def main_run(args) -> int:
    """`python -m pipeline run`: one year (--params) or all of params/ (--all); with --jobs N
    (default: two where there are two cores) stages of different years run side by side."""
    notebooks_dir = Path(getattr(args, "notebooks", None) or NOTEBOOKS_DIR)
    stages = stages_until(getattr(args, "until", None))
    years = _load_all(args)
    check_notebooks(stages, notebooks_dir)
    for params in years:
        check_methodology(params)
    quiet = bool(getattr(args, "quiet", False))
    progress = Progress(len(years) * len(stages), quiet=quiet)
    from .schedule import run_years

    try:
        # the years as one graph: independent stages of different years side by side
        run_years(years, notebooks_dir=notebooks_dir, stages=stages, force=args.force, strict=args.strict,
                  progress=progress, jobs=getattr(args, "jobs", None),
                  on_year_done=lambda params, result: _year_summary(params, result, progress))
    finally:
        progress.close()
    return 0


# --- verify ------------------------------------------------------------------------------

def _temporary_params(params: YearParams, folder: Path) -> Path:
    """A copy of the year's parameter file whose outputs go into folder; all else the same."""
    data = yaml.safe_load(Path(params.source).read_text(encoding="utf-8"))
    data.update(
        raw_dir=str(params.raw_dir),
        methodology=str(params.methodology),
        previous_params=str(params.previous_params) if params.previous_params else None,
        processed_dir=str(folder / "processed" / str(params.year)),
        reports_dir=str(folder / "reports" / str(params.year)),
    )
    path = folder / "params" / Path(params.source).name
    path.parent.mkdir(parents=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@dataclass
class VerifyReport:
    year: int
    manifest: Path
    checked: int
    rerun: dict[str, list[str]]       # differ / missing / extra between the manifest and a re-run
    on_disk: dict[str, list[str]]     # differ / missing between the manifest and the files now
    inputs: list[str]                 # inputs that differ from the manifest

    @property
    def ok(self) -> bool:
        return not any(self.rerun.values()) and not any(self.on_disk.values())


def verify_year(
    params: YearParams | str | Path,
    *,
    notebooks_dir: str | Path = NOTEBOOKS_DIR,
    progress: Progress | None = None,
) -> VerifyReport:
    """Re-run the year's stages into a temporary folder and compare with its manifest."""
    if not isinstance(params, YearParams):
        params = load_params(params)
    notebooks_dir = Path(notebooks_dir).resolve()
    manifest = mf.read(params)
    names = [s.get("name") for s in manifest.get("stages", [])]
    stages = tuple(s for s in STAGES if s.name in names)
    check_notebooks(stages, notebooks_dir)
    check_methodology(params)
    expected = manifest.get("outputs", {})
    with year_lock(params):
        disk = mf.on_disk(params, expected)
        inputs = mf.input_changes(manifest, params, {s.name: notebooks_dir / s.notebook for s in stages})
        with tempfile.TemporaryDirectory(prefix=f"verify-{params.year}-") as tmp:
            again = load_params(_temporary_params(params, Path(tmp)))
            run_year(again, notebooks_dir=notebooks_dir, stages=stages, force=True, progress=progress,
                     code=manifest.get("code"))
            actual = mf.read(again).get("outputs", {})
    return VerifyReport(params.year, Path(params.reports_dir) / mf.MANIFEST_NAME, len(expected),
                        mf.compare_outputs(expected, actual), disk, inputs)


def render_verify(report: VerifyReport, params: YearParams) -> list[str]:
    """The Russian lines `verify` prints."""
    if report.ok:
        lines = [
            f"Проверка {report.year}: всё совпадает с {_shown(report.manifest)} — файлов результатов: "
            f"{report.checked} (таблицы — побайтно; отчёт и блокноты — без учёта путей временной папки)."
        ]
        if report.inputs:
            lines.append("Примечание: входы отличаются от манифеста, но результаты те же:")
            lines += [f"  - {line}" for line in report.inputs]
        return lines
    lines = [f"Проверка {report.year}: найдены расхождения с {_shown(report.manifest)}."]
    sections = (
        (report.on_disk["differ"], "Файлы на диске изменены после расчёта (не совпадают с манифестом):"),
        (report.on_disk["missing"], "Файлы из манифеста отсутствуют на диске:"),
        (report.rerun["differ"], "Повторный расчёт дал другой результат:"),
        (report.rerun["missing"], "Повторный расчёт не создал файлы из манифеста:"),
        (report.rerun["extra"], "Повторный расчёт создал файлы, которых нет в манифесте:"),
    )
    for keys, title in sections:
        if keys:
            lines.append(title)
            lines += [f"  - {_shown(mf.path_for(params, k))}" for k in keys]
    if report.inputs:
        lines.append("Изменились входные данные:")
        lines += [f"  - {line}" for line in report.inputs]
    elif any(report.rerun.values()):
        lines.append("Входные данные (сырые файлы, параметры, данные прошлых лет, методика, блокноты, код) не менялись: "
                     "расчёт невоспроизводим — сообщите разработчикам.")
    lines.append(
        f"Чтобы результаты соответствовали входам, выполните: python -m pipeline run --params {_shown(params.source)}"
    )
    return lines


def main_verify(args) -> int:
    """`python -m pipeline verify --params …`: exit 0 when everything matches, 1 otherwise."""
    params = load_params(args.params)
    notebooks_dir = Path(getattr(args, "notebooks", None) or NOTEBOOKS_DIR)
    quiet = bool(getattr(args, "quiet", False))
    progress = Progress(len(STAGES), quiet=quiet, stream=sys.stderr)
    progress.line(f"Проверка {params.year}: повторный расчёт во временной папке…")
    try:
        report = verify_year(params, notebooks_dir=notebooks_dir, progress=progress)
    finally:
        progress.close()
    lines = render_verify(report, params)
    print("\n".join(lines))
    return 0 if report.ok else 1
