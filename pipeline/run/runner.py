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
  data contract are the files moved into place;
- leaves its executed notebook, made deterministic, and its HTML in `reports/<year>/audit/`
  (a failed one as `<name>.failed.ipynb`: the executed notebook is the error report).
The report stage also writes the year's published `index.html`, and the site index
`reports/index.html` is rebuilt. The year's outputs (processed, state, reports, manifest)
switch from the previous generation to the new one at a single point, after the manifest
(run/generation.py): a run that fails, is interrupted or killed leaves the previous one.

Two runs never write the same folder at once: `processed_dir/.lock` and `reports_dir/.lock` hold the running pid and parameter file (run/lock.py).
`verify` re-runs a year in a temporary folder and compares with `reports/<year>/manifest.json`.
"""


from __future__ import annotations


import csv


import os


import shutil


import threading


import time


from contextlib import contextmanager


from dataclasses import dataclass, field


from pathlib import Path


from typing import Any, Iterator, Sequence


from . import kernels


from . import manifest as mf


from ..config.params import YearParams, load_params


from ..core.csvtext import unprotect_row
from ..core.errors import PipelineError, StageFailedError, StrictModeError, WriteError


from ..io.storage import sha256_file, write_bytes_atomic


from .generation import Generation
from .lock import year_lock


from .progress import Progress, _seconds, _shown


from .stages import AUDIT, KERNEL, KERNEL_ARGUMENTS, NOTEBOOKS_DIR, STAGES, STAGING, Stage, check_notebooks


from .state import _digest, _why_run, load_state, save_state, stage_inputs


def _csv_count(path: Path, column: str | None = None, value: str | None = None) -> int:
    """Rows of a CSV file (0 when absent); with column/value only rows where column == value."""
    if not path.is_file():
        return 0
    with open(path, encoding="utf-8", newline="") as fh:
        rows = csv.DictReader(fh)
        return sum(1 for row in map(unprotect_row, rows) if column is None or row.get(column) == value)


def _notebook_display(path: Path) -> str:
    try:
        return path.resolve().relative_to(mf.REPO_ROOT).as_posix()
    except ValueError:
        return path.name


@contextmanager
def writing() -> Iterator[None]:
    """An OSError of a write (disk full, permission denied) becomes a WriteError naming the
    path, told in Russian (exit 2), not an unexpected error."""
    try:
        yield
    except OSError as exc:
        raise WriteError(exc) from None


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


def _keep_failed(params: YearParams, stage: Stage, executed: Path, notebooks_dir: Path, source: Path) -> Path:
    """The failed notebook kept for the auditor, or the stage's source when what was written
    is not a notebook (cut short by a full disk): never a second error."""
    if not executed.is_file():
        return source
    try:
        return _keep_executed(params, stage, executed, notebooks_dir, failed=True)
    except OSError:
        raise
    except Exception:  # noqa: BLE001 - a half-written notebook is not kept
        executed.unlink(missing_ok=True)
        return source


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def execute_stage(params: YearParams, stage: Stage, notebooks_dir: Path, *, site_index: bool = True,
                  env: dict[str, str] | None = None) -> dict[str, str]:
    """Run one stage's notebook; on success move its outputs into place. `env`: variables
    the kernel gets besides this process's environment (the progress channel, Progress.kernel_env).

    Returns {location key: sha256} of what the stage wrote, its audit copies included.
    Raises StageFailedError naming the cell and the kept executed notebook when it fails.
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
            kernel_manager_class=kernels.kernel_manager_class(env),
        )
    except PapermillExecutionError as exc:
        kept = _keep_executed(params, stage, executed, notebooks_dir, failed=True)
        cell = exc.exec_count if exc.exec_count is not None else exc.cell_index
        raise StageFailedError(label, _shown(kept), cell=cell, ename=exc.ename, evalue=_short(exc.evalue)) from None
    except OSError as exc:  # papermill could not write the executed notebook (disk full, …)
        executed.unlink(missing_ok=True)
        raise WriteError(exc, str(executed)) from None
    except Exception as exc:  # the kernel died, the notebook is not valid JSON, …
        kept = _keep_failed(params, stage, executed, notebooks_dir, source)
        raise StageFailedError(label, _shown(kept), ename=type(exc).__name__, evalue=_short(exc)) from None

    missing = [name for name in stage.outputs if not (staging / name).is_file()]
    if missing:
        kept = _keep_executed(params, stage, executed, notebooks_dir, failed=True)
        raise StageFailedError(
            label, _shown(kept), ename="нет результатов",
            evalue=f"блокнот не записал в output_dir {', '.join(missing)}",
        )
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
        from ..report import site

        site.build_index(params.site_dir)  # reports/index.html lists every built year
    return written


@dataclass
class YearResult:
    year: int
    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    manifest: Path | None = None
    issues: int = 0
    rejected: int = 0
    seconds: float = 0.0


def check_methodology(params: YearParams) -> None:
    """Validate the year's methodology and its targets before any stage runs."""
    from ..config.methodology import check_targets, load_methodology

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
    with writing(), year_lock(params):
        generation = Generation(params)
        try:
            _run_stages(params, stages, notebooks_dir, force=force, strict=strict, progress=progress,
                        code=code, code_sha=code_sha, result=result, generation=generation)
        except BaseException:  # failed or interrupted: the previous generation stays the year's
            generation.rollback()
            raise
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
    generation: Generation,
) -> None:
    """Each stage in order: skip it if unchanged, else run it; then write the manifest and
    the site index, and commit the generation."""
    state = load_state(params)
    state.setdefault("stages", {})
    rerun = False
    for stage in stages:
        rerun = run_stage(params, stage, notebooks_dir, state, force=force, rerun=rerun, strict=strict,
                          progress=progress, code_sha=code_sha, result=result, site_index=False,
                          on_write=generation.begin) or rerun
    result.manifest = write_manifest(params, stages, notebooks_dir, state, code, changed=bool(result.ran))
    if any(s.publishes and s.name in result.ran for s in stages):
        from ..report import site

        site.build_index(params.site_dir)  # reports/index.html lists every built year (rebuilt on a rollback)
    generation.commit()


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
    on_write: Any = None,
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
            if on_write is not None:  # the first write of the run: the previous generation is kept aside
                on_write()
            t0 = time.perf_counter()
            written = execute_stage(params, stage, notebooks_dir, site_index=site_index, env=progress.kernel_env(label))
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
