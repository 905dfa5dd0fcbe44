"""Benchmark: the pipeline on synthetic years of 36, 1,000, 10,000 and 40,000 schools, against
its floor and the goals of issue 22.

    python benchmarks/run.py [--sizes 36 1000 10000 40000] [--quick] [--jobs N] [--suite]
                             [--json benchmarks/results/latest.json] [--compare old.json]

For each size the embedded sample's generator (pipeline.sample; forms stamped from one
template, benchmarks/fastforms.py) writes the raw years into a temporary folder (three years,
2024–2026, for sizes up to 100 schools — the sample's shape; one year, 2026, above), and then:

1. full run: `python -m pipeline run --all` from scratch — each stage's time (summed over the
   years) and the whole run's, the peak memory of the runner, its kernels and their forked
   workers, polled every 0.1 s — summed as PSS (shared pages split between the processes that
   share them: the memory really used) and as RSS (shared pages counted in each: an upper
   bound) — and the number of kernels started (fresh, or forked from the runner's warm
   process, pipeline/kernels.py);
2. the floor of the same run: papermill executing the same stage notebooks reduced to their
   parameters and import lines, one after another in fresh kernels (the start-up cost a
   papermill pipeline pays unless, as this one, it forks its kernels from a warm process);
   and a bare python-calamine read of the same raw forms (what ingest cannot beat: the
   fastest of CALAMINE_REPEATS reads, as one read varies by a fifth from run to run here);
3. a second run with nothing changed (incremental skip: must start no kernel);
4. a run after one form of the first year changed (which stages re-run);
5. from 1,000 schools on: `python -m pipeline status` on the year's forms, and the report
   stage's parts measured alone in a fresh process (benchmarks/parts.py: results.xlsx, measures.xlsx, the
   published pages' sizes and build time, the Word documents with their PDFs).

Above 10,000 schools the floor, the calamine read and the one-form-changed run are left out
(no goal needs them; they would double the time of the 40,000-school run). `--suite` also
times the test suite as `make test` runs it (goal: ≤ 2 min).

One table of figures and ratios is printed; the figures are also written as JSON (default
benchmarks/results/latest.json, not in git), and `--compare old.json` adds the ratio of each
figure to an earlier run's.
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import io
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]

import yaml  # noqa: E402

from fastforms import FormStamper  # noqa: E402
from pipeline import sample  # noqa: E402
from pipeline.run import stages as run_stages  # noqa: E402
from pipeline.config.methodology import load_methodology  # noqa: E402

DEFAULT_SIZES = (36, 1000, 10000, 40000)
QUICK_SIZES = (36, 1000)
SMALL = 100  # sizes up to this get the sample's three years
LARGE = 10000  # sizes above this skip the floor, the calamine read and the one-form-changed run
PARTS_FROM = 1000  # sizes from this on get `status` and the report's parts measured alone
DEFAULT_JSON = HERE / "results" / "latest.json"
STAGE_OF_TITLE = {s.title: s.name for s in run_stages.STAGES}
_DONE = re.compile(r"^(\d{4}) · (.+?) … готово за ([\d,]+) с")
_SKIPPED = re.compile(r"^(\d{4}) · (.+?) … без изменений")


# --- generating the years ---------------------------------------------------------------------

def generate(root: Path, n_schools: int, years: list[int], seed: int = sample.DEFAULT_SEED) -> dict[str, Any]:
    """raw/<year>/ and params/<year>.yaml under root (the repository's year files with the
    folders pointed here); returns what was written."""
    methodology = load_methodology(sample.DEFAULT_METHODOLOGY)
    t0 = time.perf_counter()
    forms = 0
    defect_schools: dict[int, set[str]] = {}
    for year in years:
        stamper = FormStamper(methodology, sample.academic_year(year), sample._stamp(year))
        build = sample.build_year(year, n_schools, seed, methodology, clean_writer=stamper.bytes)
        folder = root / "raw" / str(year)
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in build.files.items():
            (folder / name).write_bytes(data)
        forms += sum(1 for name in build.files if name.endswith(".xlsx"))
        defect_schools[year] = {d["school_code"] for d in build.defects}
        params = yaml.safe_load((ROOT / "params" / f"{year}.yaml").read_text(encoding="utf-8"))
        params.update(
            raw_dir=str(folder), processed_dir=str(root / "processed" / str(year)),
            reports_dir=str(root / "reports" / str(year)), methodology=str(sample.DEFAULT_METHODOLOGY),
            previous_params=f"{year - 1}.yaml" if year - 1 in years else None,
        )
        (root / "params").mkdir(exist_ok=True)
        (root / "params" / f"{year}.yaml").write_text(yaml.safe_dump(params, allow_unicode=True, sort_keys=False),
                                                      encoding="utf-8")
    return {"forms": forms, "seconds": time.perf_counter() - t0, "defect_schools": defect_schools}


def change_one_form(root: Path, n_schools: int, year: int, defect_schools: set[str],
                    seed: int = sample.DEFAULT_SEED) -> str:
    """Rewrite one clean form of the year with one score changed; returns its file name."""
    methodology = load_methodology(sample.DEFAULT_METHODOLOGY)
    school = next(s for s in sample.make_schools(n_schools, seed) if s.code not in defect_schools)
    values = sample.form_values(school, year, seed, methodology)
    code = methodology.positions[0].code
    score = values[f"checklist.{code}.score"]
    values[f"checklist.{code}.score"] = 1 if score != 1 else 2
    values.setdefault(f"checklist.{code}.document", "Приказ № 1 от 01.09.2025 «Об утверждении плана»")
    name = sample._file_name(school, year)
    stamper = FormStamper(methodology, sample.academic_year(year), sample._stamp(year))
    (root / "raw" / str(year) / name).write_bytes(stamper.bytes(values))
    return name


# --- measuring ----------------------------------------------------------------------------------

class TreeWatch:
    """Polls a process and its descendants: peak total RSS, peak total PSS and the kernels seen.

    RSS counts a page shared by forked processes (the kernel and its page or workbook
    writers) once in each; PSS (proportional set size, from /proc/<pid>/smaps_rollup) splits
    it between them, so the PSS sum is the memory the run really takes. Every 0.25 s: polling
    every 0.1 s took a third of a core on this 2-core machine, which the run then lacked."""

    def __init__(self, pid: int, interval: float = 0.25) -> None:
        import psutil

        self.psutil = psutil
        self.root = psutil.Process(pid)
        self.interval = interval
        self.peak = 0
        self.peak_pss: int | None = 0 if Path("/proc/self/smaps_rollup").is_file() else None
        self.kernels: set[int] = set()
        self._warm: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        ps = self.psutil
        while not self._stop.is_set():
            try:
                procs = [self.root] + self.root.children(recursive=True)
            except ps.Error:
                break
            total = pss = 0
            for p in procs:
                try:
                    total += p.memory_info().rss
                    if self.peak_pss is not None:
                        pss += _pss(p.pid)
                    if p.pid not in self.kernels and self._is_kernel(p):
                        self.kernels.add(p.pid)
                except ps.Error:
                    continue
            self.peak = max(self.peak, total)
            if self.peak_pss is not None:
                self.peak_pss = max(self.peak_pss, pss)
            self._stop.wait(self.interval)

    def _is_kernel(self, p) -> bool:
        """A plain kernel is the runner's child running ipykernel; a forked one is a child of
        the runner's warm process (pipeline/kernels.py). The workers a kernel forks are not."""
        parent = p.ppid()
        if parent == self.root.pid:
            return "ipykernel_launcher" in p.cmdline()
        if parent not in self._warm:
            try:
                warm = self.psutil.Process(parent)
                if warm.ppid() == self.root.pid and "kernels.serve" in " ".join(warm.cmdline()):
                    self._warm.add(parent)
            except self.psutil.Error:
                return False
        return parent in self._warm

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _pss(pid: int) -> int:
    """Proportional set size of a process in bytes (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as fh:
            for line in fh:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def run_pipeline(root: Path, jobs: int | None, until: str | None = None) -> dict[str, Any]:
    """`python -m pipeline run --all` in root: wall time, stage times, peak RSS, kernels."""
    cmd = [sys.executable, "-m", "pipeline", "run", "--all", "--params-dir", "params"]  # its stage lines are parsed
    if jobs:
        cmd += ["--jobs", str(jobs)]
    if until:
        cmd += ["--until", until]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watch = TreeWatch(proc.pid) if _has_psutil() else None
    out, err = proc.communicate()
    seconds = time.perf_counter() - t0
    if watch is not None:
        watch.stop()
    if proc.returncode != 0:
        raise SystemExit(f"pipeline run failed in {root} (exit {proc.returncode}):\n{out}\n{err}")
    stages: dict[str, float] = {}
    ran, skipped = [], []
    for line in out.splitlines():
        m = _DONE.match(line)
        if m:
            name = STAGE_OF_TITLE.get(m.group(2), m.group(2))
            stages[name] = stages.get(name, 0.0) + float(m.group(3).replace(",", "."))
            ran.append(f"{m.group(1)} {name}")
        elif _SKIPPED.match(line):
            skipped.append(line.split(" …")[0])
    out_d: dict[str, Any] = {"seconds": seconds, "stages": stages, "ran": ran, "skipped": len(skipped)}
    if watch is not None:
        out_d["peak_rss_mb"] = watch.peak / 2**20
        if watch.peak_pss is not None:
            out_d["peak_pss_mb"] = watch.peak_pss / 2**20
        out_d["kernels"] = len(watch.kernels)
    else:  # the largest child only (its kernels): a lower bound
        import resource

        out_d["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        out_d["kernels"] = None
    return out_d


def _has_psutil() -> bool:
    try:
        import psutil  # noqa: F401
    except ImportError:
        return False
    return True


def floor_notebooks(folder: Path, until: str | None = None) -> list[Path]:
    """Each stage notebook reduced to its parameters cell and its import lines."""
    import nbformat

    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for stage in run_stages.stages_until(until):
        nb = nbformat.read(run_stages.NOTEBOOKS_DIR / stage.notebook, as_version=4)
        cells = []
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            if "parameters" in cell.metadata.get("tags", []):
                cells.append(cell)
                continue
            tree = ast.parse(cell.source)
            imports = [ast.get_source_segment(cell.source, n) for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
            if imports:
                cells.append(nbformat.v4.new_code_cell("\n".join(imports)))
        nb.cells = cells
        path = folder / stage.notebook
        nbformat.write(nb, path)
        out.append(path)
    return out


def floor(root: Path, years: list[int], until: str | None = None) -> dict[str, Any]:
    """papermill executing the imports-only notebooks of every year, one after another."""
    import papermill as pm

    notebooks = floor_notebooks(root / "floor", until)
    t0 = time.perf_counter()
    for year in years:
        for nb in notebooks:
            pm.execute_notebook(str(nb), str(root / "floor" / f"out_{year}_{nb.name}"),
                                parameters={"params_file": str(root / "params" / f"{year}.yaml"),
                                            "output_dir": str(root / "floor" / "out")},
                                kernel_name=run_stages.KERNEL, progress_bar=False, log_output=False,
                                resources={"metadata": {"path": str(run_stages.NOTEBOOKS_DIR)}},
                                extra_arguments=run_stages.KERNEL_ARGUMENTS)
    return {"seconds": time.perf_counter() - t0, "notebooks": len(notebooks) * len(years)}


CALAMINE_REPEATS = 3


def calamine_read(root: Path, years: list[int]) -> float:
    """Seconds to read every raw form's sheets with python-calamine, nothing else (one read)."""
    import python_calamine as pc

    t0 = time.perf_counter()
    for year in years:
        for path in sorted((root / "raw" / str(year)).iterdir()):
            if not path.name.endswith(".xlsx") or path.name.startswith("~$"):
                continue
            try:
                wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(path.read_bytes()))
                for name in wb.sheet_names:
                    wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
            except Exception:  # noqa: BLE001 - the sample's corrupt forms
                continue
    return time.perf_counter() - t0


def status_seconds(root: Path, year: int) -> float:
    """Wall seconds of `python -m pipeline status` on the year (its forms read and checked)."""
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pipeline", "status", "--params", f"params/{year}.yaml"], cwd=root,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if done.returncode not in (0, 1):  # 1: the year has forms missing or refused, which is a state, not a failure
        raise SystemExit(f"pipeline status failed in {root} (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")
    return seconds


def report_parts(root: Path, year: int) -> dict[str, Any]:
    """benchmarks/parts.py on the year, in a fresh process: results.xlsx, measures.xlsx, site, documents."""
    out = root / f"parts-{year}.json"
    done = subprocess.run([sys.executable, str(HERE / "parts.py"), str(root / "params" / f"{year}.yaml"),
                           "--json", str(out)], cwd=root, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"benchmarks/parts.py failed in {root} (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")
    return json.loads(out.read_text(encoding="utf-8"))


def bench_size(n: int, jobs: int | None, work: Path, years_small: int, log, until: str | None = None) -> dict[str, Any]:
    years = list(range(2027 - years_small, 2027)) if n <= SMALL else [2026]
    root = work / f"n{n}"
    root.mkdir(parents=True)
    log(f"{n} schools, years {years[0]}–{years[-1]}: generating …")
    gen = generate(root, n, years)
    log(f"  {gen['forms']} forms in {gen['seconds']:.1f} s; full run …")
    full = run_pipeline(root, jobs, until)
    log(f"  full run {full['seconds']:.1f} s")
    result: dict[str, Any] = {"schools": n, "years": years, "forms": gen["forms"], "generate_seconds": gen["seconds"],
                              "full": full}
    if n <= LARGE:
        log("  floor …")
        fl = floor(root, years, until)
        bare_runs = [calamine_read(root, years) for _ in range(CALAMINE_REPEATS)]
        bare = min(bare_runs)  # the floor: the least the machine's noise left of it
        log(f"  floor {fl['seconds']:.1f} s, calamine {bare:.1f} s")
        result.update(floor=fl, calamine_read_seconds=bare, calamine_read_runs=bare_runs)
    log("  unchanged run …")
    unchanged = run_pipeline(root, jobs, until)
    result["unchanged"] = unchanged
    if n <= LARGE:
        changed_file = change_one_form(root, n, years[0], gen["defect_schools"][years[0]])
        log("  one form changed …")
        changed = run_pipeline(root, jobs, until)
        result["one_form_changed"] = {**changed, "file": f"{years[0]}/{changed_file}"}
    if n >= PARTS_FROM:
        log("  status …")
        result["status_seconds"] = status_seconds(root, years[-1])
        if until in (None, "report"):
            log("  the report's parts alone (results.xlsx, measures.xlsx, site, documents) …")
            result["parts"] = report_parts(root, years[-1])
    ingest = full["stages"].get("ingest")
    bare = result.get("calamine_read_seconds")
    result["ratios"] = {
        "full_vs_floor": full["seconds"] / result["floor"]["seconds"] if "floor" in result else None,
        "ingest_vs_calamine": ingest / bare if ingest and bare else None,
        "unchanged_vs_full": unchanged["seconds"] / full["seconds"],
        "changed_vs_full": (result["one_form_changed"]["seconds"] / full["seconds"]
                            if "one_form_changed" in result else None),
    }
    return result


def suite_seconds(log) -> dict[str, Any]:
    """The test suite as `make test` runs it (.venv's python -m pytest -q in the project): wall
    seconds and the summary line."""
    log("test suite (python -m pytest -q) …")
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q"], cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    summary = next((line for line in reversed(done.stdout.splitlines()) if " in " in line and "=" in line), "")
    return {"seconds": seconds, "returncode": done.returncode, "summary": summary.strip("= ")}


# --- reporting ------------------------------------------------------------------------------------

def part(s: dict[str, Any], *keys: str) -> Any:
    """A figure of benchmarks/parts.py's (None where it was not measured)."""
    v: Any = s.get("parts")
    for k in keys:
        if not isinstance(v, dict):
            return None
        v = v.get(k)
    return v


def goals(sizes: dict[str, dict[str, Any]], suite: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The goals of issue 22, each with its figure and whether it is met."""
    out = []

    def add(text: str, value: float | None, limit: float, unit: str = "×") -> None:
        if value is not None:
            out.append({"goal": text, "value": value, "limit": limit, "unit": unit, "met": value <= limit})

    def add_memory(s: dict[str, Any], text: str, limit_mb: float) -> None:
        """Peak memory of the full run: PSS summed where /proc has it, else RSS summed."""
        pss = s["full"].get("peak_pss_mb")
        add(f"{text} ({'PSS' if pss is not None else 'RSS'} summed)",
            pss if pss is not None else s["full"]["peak_rss_mb"], limit_mb, " MB")

    multi = [s for s in sizes.values() if len(s["years"]) > 1]
    for s in multi[:1]:
        add(f"{s['schools']} schools × {len(s['years'])} years (the sample's shape) from scratch ≤ 0.5× floor",
            s["ratios"]["full_vs_floor"], 0.5)
        add(f"{s['schools']} × {len(s['years'])}: nothing changed ≤ 0.05× from scratch", s["ratios"]["unchanged_vs_full"], 0.05)
    for s in sizes.values():
        if s["unchanged"].get("kernels") is not None:
            add(f"{s['schools']}: nothing changed starts no kernel", s["unchanged"]["kernels"], 0, " kernels")
    if "10000" in sizes:
        s = sizes["10000"]
        add("10,000 schools, one year, all stages from scratch ≤ 35 s", s["full"]["seconds"], 35, " s")
        add_memory(s, "10,000: peak memory ≤ 800 MB", 800)
        add("10,000: results.xlsx ≤ 5 s", part(s, "results_xlsx", "seconds"), 5, " s")
        add("10,000: analytic page ≤ 2 MB", part(s, "site", "analytic_page_mb"), 2, " MB")
        add("10,000: largest school page ≤ 200 KB", part(s, "site", "largest_school_page_kb"), 200, " KB")
        add("10,000: documents (letters, order, roadmap, spravka, PDFs) ≤ 60 s", part(s, "documents", "seconds"), 60, " s")
        add("10,000: status ≤ 10 s", s.get("status_seconds"), 10, " s")
        add("10,000: one form changed ≤ 0.3× from scratch", s["ratios"].get("changed_vs_full"), 0.3)
        small = sizes.get("1000")
        a, b = part(s, "site", "per_school_ms"), part(small, "site", "per_school_ms") if small else None
        if a is not None and b:
            add("site built in time linear in schools: per school at 10,000 ≤ 1.5× at 1,000", a / b, 1.5)
    if "40000" in sizes:
        s = sizes["40000"]
        add("40,000 schools, one year, all stages from scratch ≤ 150 s", s["full"]["seconds"], 150, " s")
        add_memory(s, "40,000: peak memory ≤ 2.5 GB", 2560)
    if suite is not None:
        add("make test (python -m pytest -q) ≤ 2 min", suite["seconds"], 120, " s")
    return out


def _f(v: Any, digits: int = 1) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def table(result: dict[str, Any], previous: dict[str, Any] | None = None) -> str:
    """One table: a row per figure, a column per size (and the ratio to an earlier run)."""
    sizes = result["sizes"]
    keys = list(sizes)
    rows: list[tuple[str, list[str]]] = []

    def row(label: str, get, digits: int = 1, compare: bool = True) -> None:
        cells = []
        for k in keys:
            v = get(sizes[k])
            cell = _f(v, digits)
            if previous and compare and k in previous.get("sizes", {}):
                try:
                    old = get(previous["sizes"][k])
                except (KeyError, TypeError):
                    old = None
                if isinstance(v, (int, float)) and isinstance(old, (int, float)) and old:
                    cell += f" ({v / old:.2f}× was)"
            cells.append(cell)
        rows.append((label, cells))

    row("years · forms", lambda s: f"{len(s['years'])} · {s['forms']}", compare=False)
    for stage in run_stages.STAGE_NAMES:
        row(f"{stage}, s", lambda s, st=stage: s["full"]["stages"].get(st))
    row("whole run (from scratch), s", lambda s: s["full"]["seconds"])
    row("  per school, ms", lambda s: 1000 * s["full"]["seconds"] / s["schools"], 2)
    row("floor: kernels with imports only, s", lambda s: s.get("floor", {}).get("seconds"))
    row("  whole run / floor", lambda s: s["ratios"]["full_vs_floor"], 2)
    row("bare calamine read, s", lambda s: s.get("calamine_read_seconds"), 2)
    row("  ingest / calamine read", lambda s: s["ratios"]["ingest_vs_calamine"], 2)
    row("nothing changed, s", lambda s: s["unchanged"]["seconds"], 2)
    row("  nothing changed / whole run", lambda s: s["ratios"]["unchanged_vs_full"], 3)
    row("  kernels started (nothing changed)", lambda s: s["unchanged"].get("kernels"), compare=False)
    row("one form changed, s", lambda s: s.get("one_form_changed", {}).get("seconds"))
    row("  one form changed / whole run", lambda s: s["ratios"].get("changed_vs_full"), 3)
    row("  stages re-run", lambda s: len(s["one_form_changed"]["ran"]) if "one_form_changed" in s else None,
        compare=False)
    row("status (forms read and checked), s", lambda s: s.get("status_seconds"), 2)
    row("results.xlsx alone, s", lambda s: part(s, "results_xlsx", "seconds"), 2)
    row("  its CPU, s", lambda s: part(s, "results_xlsx", "cpu_seconds"), 2)
    row("measures.xlsx alone, s", lambda s: part(s, "measures_xlsx", "seconds"), 2)
    row("site: analytic page, MB", lambda s: part(s, "site", "analytic_page_mb"), 2)
    row("site: largest page, MB", lambda s: part(s, "site", "largest_page_mb"), 2)
    row("site: largest school page, KB", lambda s: part(s, "site", "largest_school_page_kb"), 0)
    row("site: pages built alone, s", lambda s: part(s, "site", "seconds"))
    row("  per school, ms", lambda s: part(s, "site", "per_school_ms"), 2)
    row("documents alone (with PDFs), s", lambda s: part(s, "documents", "seconds"))
    row("peak memory (PSS summed), MB", lambda s: s["full"].get("peak_pss_mb"), 0)
    row("peak memory (RSS summed), MB", lambda s: s["full"]["peak_rss_mb"], 0)
    row("kernels started (from scratch)", lambda s: s["full"].get("kernels"), compare=False)
    if "1000" in sizes:
        base = sizes["1000"]["full"]["seconds"]
        row("whole run / 1,000 schools' whole run", lambda s: s["full"]["seconds"] / base if s["schools"] > 1000 else None, 2)
    if "10000" in sizes:
        base = sizes["10000"]["full"]["seconds"]
        row("whole run / 10,000 schools' whole run", lambda s: s["full"]["seconds"] / base if s["schools"] > 10000 else None, 2)
    width = max(len(label) for label, _ in rows)
    m = result.get("meta", {})
    if m.get("machine"):
        mm = m["machine"]
        rows_head = [f"machine: {mm['cpu']}, {mm['cores']} cores, {mm['memory_gib']} GiB, {mm['system']}, "
                     f"Python {mm['python']}; load average before {m.get('load_before')}, after {m.get('load_after')}"]
    else:
        rows_head = []
    cols = [max(len(k) + 8, *(len(r[1][i]) for r in rows)) for i, k in enumerate(keys)]
    head = "figure".ljust(width) + " | " + " | ".join(f"{k} schools".rjust(c) for k, c in zip(keys, cols))
    lines = rows_head + [head, "-" * len(head)]
    for label, cells in rows:
        lines.append(label.ljust(width) + " | " + " | ".join(c.rjust(w) for c, w in zip(cells, cols)))
    lines.append("")
    for g in result["goals"]:
        lines.append(f"{'met    ' if g['met'] else 'NOT met'}  {g['goal']}: {_f(g['value'], 2)}{g['unit']}")
    for s in sizes.values():
        if "one_form_changed" in s:
            lines.append(f"one form changed in {s['one_form_changed']['file']} ({s['schools']} schools) re-ran: "
                         f"{', '.join(s['one_form_changed']['ran']) or 'nothing'}")
    if result.get("suite"):
        lines.append(f"test suite: {result['suite']['seconds']:.0f} s, exit {result['suite']['returncode']}: "
                     f"{result['suite']['summary']}")
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    """What the figures were measured on: CPU model, cores, memory, Python, load average."""
    model = None
    try:
        model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("model name")), None)
    except OSError:
        pass
    mem = None
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        pass
    return {"cpu": model or platform.processor() or platform.machine(), "cores": os.cpu_count(),
            "memory_gib": round(mem, 1) if mem else None, "system": platform.platform(terse=True),
            "python": platform.python_version()}


def load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _git_revision() -> str | None:
    try:
        return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=None, help="numbers of schools (default 36 1000 10000)")
    ap.add_argument("--quick", action="store_true", help="36 and 1,000 schools only (a smoke run)")
    ap.add_argument("--years", type=int, default=3, help=f"years generated for sizes up to {SMALL} schools (default 3)")
    ap.add_argument("--jobs", type=int, default=None, help="passed to pipeline run --jobs (default: its own)")
    ap.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where to write the figures")
    ap.add_argument("--compare", type=Path, default=None, help="an earlier JSON: show each figure's ratio to it")
    ap.add_argument("--until", choices=run_stages.STAGE_NAMES, default=None,
                    help="run the stages only up to this one (and the floor likewise)")
    ap.add_argument("--suite", action="store_true", help="also time the test suite as make test runs it")
    ap.add_argument("--keep", type=Path, default=None, help="generate into this folder and keep it (default: a temporary one)")
    args = ap.parse_args(argv)
    sizes = args.sizes or (QUICK_SIZES if args.quick else DEFAULT_SIZES)
    previous = json.loads(args.compare.read_text(encoding="utf-8")) if args.compare else None

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    started = time.perf_counter()
    load_before = load_average()
    with tempfile.TemporaryDirectory(prefix="pipeline-bench-") as tmp:
        work = args.keep or Path(tmp)
        results = {str(n): bench_size(n, args.jobs, work, args.years, log, args.until) for n in sizes}
    suite = suite_seconds(log) if args.suite else None
    result = {
        "meta": {
            "date": dt.datetime.now().isoformat(timespec="seconds"), "revision": _git_revision(),
            "python": platform.python_version(), "cores": os.cpu_count(), "jobs": args.jobs, "until": args.until,
            "sizes": list(sizes), "bench_seconds": time.perf_counter() - started,
            "machine": machine(), "load_before": load_before, "load_after": load_average(),
        },
        "sizes": results,
    }
    if suite is not None:
        result["suite"] = suite
    result["goals"] = goals(results, suite)
    print(table(result, previous), flush=True)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    log(f"figures written to {args.json} (benchmark took {result['meta']['bench_seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
