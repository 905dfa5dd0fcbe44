"""Benchmark of the report stage's parts on a year whose processed data exists.

    python benchmarks/parts.py PARAMS_FILE [--json out.json] [--skip documents site]

benchmarks/run.py calls it in a fresh process after each full run (so that one part's memory
and warm caches do not flatter the next) and puts its figures beside the whole run's:

* ``results_xlsx`` — writing results.xlsx with every feature (excel.write_results, in this
  process): wall and CPU seconds, the file's size;
* ``measures_xlsx`` — the roadmap's record workbook (measures_form.write_measures_form): one
  validated row per measure (its writer was once quadratic in the measures, unseen here);
* ``site`` — the published pages (benchmarks/site_pages.py: the analytic page, the
  per-cluster pages, the school pages: sizes, wall and CPU time; per school: CPU, as the
  linearity of the build is a matter of work, not of the machine's load);
* ``documents`` — the Word documents, their PDFs and report.pdf (benchmarks/documents.py).

Each part writes into a temporary folder, never into the year's reports.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import pipeline  # noqa: E402,F401  (first: the package's import-time settings)
from pipeline.config.methodology import load_methodology  # noqa: E402
from pipeline.config.params import load_params  # noqa: E402
from pipeline.report import context, excel, measures_form  # noqa: E402

PARTS = ("results_xlsx", "measures_xlsx", "site", "documents")


def _timed_write(write, name: str) -> dict[str, Any]:
    """Seconds (wall, CPU) of write(path) into a temporary folder, and the file's size."""
    with tempfile.TemporaryDirectory(prefix="bench-part-") as tmp:
        t0, c0 = time.perf_counter(), time.process_time()
        path = write(Path(tmp) / name)
        out = {"seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - c0,
               "mb": path.stat().st_size / 2**20}
    return out


def _context(params_file: Path):
    params = load_params(params_file, check_files=False)
    return params, context.build_context(params, load_methodology(params.methodology))


def results_xlsx(ctx) -> dict[str, Any]:
    """Seconds to write results.xlsx (the report context built before the clock starts)."""
    return _timed_write(lambda path: excel.write_results(ctx, path), "results.xlsx")


def measures_xlsx(params, ctx) -> dict[str, Any]:
    """Seconds to write measures.xlsx from the year's roadmap, and how many measures it holds."""
    roadmap = ctx.data["roadmap.csv"]
    out = _timed_write(lambda path: measures_form.write_measures_form(roadmap, params, path.parent), "measures.xlsx")
    return {**out, "measures": len(roadmap)}


def measure(params_file: Path, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """Every part's figures (a part whose benchmark module is missing is left out)."""
    out: dict[str, Any] = {}
    if "results_xlsx" not in skip or "measures_xlsx" not in skip:
        params, ctx = _context(params_file)
        if "results_xlsx" not in skip:
            out["results_xlsx"] = results_xlsx(ctx)
        if "measures_xlsx" not in skip:
            out["measures_xlsx"] = measures_xlsx(params, ctx)
        del ctx
    if "site" not in skip:
        import site_pages

        s = site_pages.measure(params_file)
        out["site"] = {**s, "analytic_page_mb": s["analytic_page_bytes"] / 2**20,
                       "largest_page_mb": s["largest_page_bytes"] / 2**20,
                       "largest_school_page_kb": s["largest_school_page_bytes"] / 2**10,
                       "seconds": s["wall_s"], "cpu_seconds": s["cpu_s"], "per_school_ms": s["cpu_ms_per_school"]}
    if "documents" not in skip:
        import documents

        d = documents.measure(params_file, each=False)  # the run's one conversion, not each DOCX alone too
        out["documents"] = {**d, "seconds": d["total"]["seconds"], "cpu_seconds": d["total"]["cpu_seconds"]}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("params_file", type=Path)
    ap.add_argument("--json", type=Path, default=None, help="write the figures here (default: print them)")
    ap.add_argument("--skip", nargs="*", choices=PARTS, default=[])
    args = ap.parse_args(argv)
    figures = measure(args.params_file, tuple(args.skip))
    text = json.dumps(figures, ensure_ascii=False, indent=1)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
