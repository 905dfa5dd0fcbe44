"""The commands that run years: `run` (one year or all, as one graph of stages) and `verify`.

The command line (pipeline/cli.py) parses the arguments and calls these."""

from __future__ import annotations

import sys
from pathlib import Path

from ..config.params import YearParams, discover_params, load_params
from ..core.errors import RunError
from .graph import run_years
from .progress import Progress, _seconds, _shown
from .runner import YearResult, check_methodology
from .stages import NOTEBOOKS_DIR, STAGES, check_notebooks, stages_until
from .verify import render_verify, verify_year


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
    if "report" in result.ran or "report" in result.skipped:  # the year's documents: what the site cannot offer
        from ..report.publication import run_warnings

        for warning in run_warnings(params):
            progress.line(f"{params.year}: внимание — {warning}", always=True)


def _load_all(args) -> list[YearParams]:
    if getattr(args, "all", False):
        files = discover_params(args.params_dir)
        if not files:
            raise RunError(f"В папке {args.params_dir} нет файлов параметров (*.yaml)",
                                "Укажите папку с файлами годов: --params-dir.")
    else:
        files = [args.params]
    loaded = sorted((load_params(f) for f in files), key=lambda p: p.year)
    years = [p.year for p in loaded]
    for year in set(years):
        if years.count(year) > 1:
            dup = [str(p.source) for p in loaded if p.year == year]
            raise RunError(f"Год {year} задан в нескольких файлах параметров: {', '.join(dup)}",
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
    try:
        # the years as one graph: independent stages of different years side by side
        run_years(years, notebooks_dir=notebooks_dir, stages=stages, force=args.force, strict=args.strict,
                  progress=progress, jobs=getattr(args, "jobs", None),
                  on_year_done=lambda params, result: _year_summary(params, result, progress))
    finally:
        progress.close()
    return 0


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
