"""Benchmark of the report stage's parts on a year whose processed data exists.

    python benchmarks/parts.py PARAMS_FILE [--json out.json] [--skip documents site]

benchmarks/run.py calls it in a fresh process after each full run (so that one part's memory
and warm caches do not flatter the next) and puts its figures beside the whole run's:

* ``results_xlsx`` — writing results.xlsx with every feature (excel.write_results, in this
  process): wall and CPU seconds, the file's size;
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
from pipeline.report import context, excel  # noqa: E402

PARTS = ("results_xlsx", "site", "documents")


def results_xlsx(params_file: Path) -> dict[str, Any]:
    """Seconds to write results.xlsx (the report context built before the clock starts)."""
    params = load_params(params_file, check_files=False)
    ctx = context.build_context(params, load_methodology(params.methodology))
    with tempfile.TemporaryDirectory(prefix="bench-xlsx-") as tmp:
        t0, c0 = time.perf_counter(), time.process_time()
        path = excel.write_results(ctx, Path(tmp) / "results.xlsx")
        out = {"seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - c0,
               "mb": path.stat().st_size / 2**20}
    return out


def measure(params_file: Path, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """Every part's figures (a part whose benchmark module is missing is left out)."""
    out: dict[str, Any] = {}
    if "results_xlsx" not in skip:
        out["results_xlsx"] = results_xlsx(params_file)
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
