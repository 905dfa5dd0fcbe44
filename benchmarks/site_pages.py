"""Benchmark: the published pages of one year built from a processed folder, against the
goals of the site at scale (issue 22).

    python benchmarks/site_pages.py PARAMS_FILE [PARAMS_FILE …] [--out DIR] [--json FILE]

For each year file (its processed_dir must hold the stages up to recommendations, e.g.
benchmarks/run.py's `generate` and `python -m pipeline run --all --params-dir params --until
recommendations`) the report context, the analytic page's sections, index.html with the pages
of the clusters, and every school page are built into a temporary folder (or --out), each step
timed as CPU (this process; the school pages' forked writers as their children's CPU) and
wall. Printed: sizes (analytic page, largest cluster page, largest school page, largest page)
and times in all and per school, against the goals below. `measure(params_file)` returns the
same figures as a dict (for benchmarks/run.py).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent)]

from pipeline.config.params import load_params  # noqa: E402
from pipeline.report import context as report_context  # noqa: E402
from pipeline.report import pages, sections  # noqa: E402

# the goals of issue 22, per page
GOAL_ANALYTIC_PAGE = 2_000_000   # bytes: reports/<year>/index.html
GOAL_CLUSTER_PAGE = 2_000_000    # bytes: each page of the clusters
GOAL_SCHOOL_PAGE = 200_000       # bytes: each school page
GOAL_MS_PER_SCHOOL = 5.0         # CPU ms per school for the whole site (linear in the schools)


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the forked page writers)."""
    own = time.process_time()
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own + kids.ru_utime + kids.ru_stime


class _Lap:
    def __init__(self) -> None:
        self.times: dict[str, dict[str, float]] = {}
        self._wall, self._cpu = time.perf_counter(), _cpu()

    def __call__(self, name: str) -> None:
        wall, cpu = time.perf_counter(), _cpu()
        self.times[name] = {"wall_s": wall - self._wall, "cpu_s": cpu - self._cpu}
        self._wall, self._cpu = wall, cpu


def measure(params_file: str | Path, out_dir: str | Path | None = None) -> dict[str, Any]:
    """Build the year's pages from its processed folder; return sizes (bytes) and times (s)."""
    params = load_params(params_file, check_files=False)
    with tempfile.TemporaryDirectory(prefix="site-bench-") as tmp:
        out = Path(out_dir) if out_dir else Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        lap = _Lap()
        ctx = report_context.build_context(params)
        lap("context")
        for section in sections.SECTIONS:
            section.html(ctx)
        lap("sections")
        pages.write_report_page(ctx, out)       # index.html and the clusters' pages
        lap("index_and_clusters")
        pages.write_school_pages(ctx, out)
        lap("school_pages")
        n = len(ctx.data["scores.csv"])
        schools = [p.stat().st_size for p in (out / "schools").glob("*.html")]
        clusters = [p.stat().st_size for p in (out / "clusters").glob("*.html")] if (out / "clusters").is_dir() else []
        analytic = (out / "index.html").stat().st_size
    total_cpu = sum(t["cpu_s"] for t in lap.times.values())
    total_wall = sum(t["wall_s"] for t in lap.times.values())
    return {
        "schools": n,
        "split": sections.per_school.split(ctx),
        "analytic_page_bytes": analytic,
        "cluster_pages": len(clusters),
        "largest_cluster_page_bytes": max(clusters, default=0),
        "largest_school_page_bytes": max(schools, default=0),
        "largest_page_bytes": max([analytic, *clusters, *schools]),
        "times": lap.times,
        "cpu_s": total_cpu,
        "wall_s": total_wall,
        "cpu_ms_per_school": total_cpu * 1000 / n if n else 0.0,
        "wall_ms_per_school": total_wall * 1000 / n if n else 0.0,
    }


def _mark(ok: bool) -> str:
    return "да" if ok else "НЕТ"


def report(m: dict[str, Any]) -> str:
    """The figures of measure() as lines of text, each against its goal."""
    mb = 1e6
    lines = [f"ОО: {m['schools']}; таблицы по ОО на страницах кластеров: {'да' if m['split'] else 'нет'} "
             f"(страниц: {m['cluster_pages']})",
             f"  аналитическая страница   {m['analytic_page_bytes'] / mb:6.2f} МБ  (цель ≤ {GOAL_ANALYTIC_PAGE / mb:.0f} МБ: "
             f"{_mark(m['analytic_page_bytes'] <= GOAL_ANALYTIC_PAGE)})",
             f"  крупнейшая стр. кластера {m['largest_cluster_page_bytes'] / mb:6.2f} МБ  (цель ≤ {GOAL_CLUSTER_PAGE / mb:.0f} МБ: "
             f"{_mark(m['largest_cluster_page_bytes'] <= GOAL_CLUSTER_PAGE)})",
             f"  крупнейшая стр. школы    {m['largest_school_page_bytes'] / 1e3:6.1f} КБ  (цель ≤ {GOAL_SCHOOL_PAGE / 1e3:.0f} КБ: "
             f"{_mark(m['largest_school_page_bytes'] <= GOAL_SCHOOL_PAGE)})",
             f"  крупнейшая страница      {m['largest_page_bytes'] / mb:6.2f} МБ"]
    for name, t in m["times"].items():
        lines.append(f"  {name:<20} CPU {t['cpu_s']:6.1f} с   стена {t['wall_s']:6.1f} с")
    lines.append(f"  всего: CPU {m['cpu_s']:.1f} с ({m['cpu_ms_per_school']:.2f} мс на ОО, цель ≤ {GOAL_MS_PER_SCHOOL:g}: "
                 f"{_mark(m['cpu_ms_per_school'] <= GOAL_MS_PER_SCHOOL)}), стена {m['wall_s']:.1f} с "
                 f"({m['wall_ms_per_school']:.2f} мс на ОО); нагрузка {os.getloadavg()[0]:.1f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("params", nargs="+", type=Path, help="файлы параметров года с обработанными данными")
    ap.add_argument("--out", type=Path, help="папка для страниц (по умолчанию временная)")
    ap.add_argument("--json", type=Path, help="записать результаты в JSON")
    args = ap.parse_args(argv)
    results = []
    for path in args.params:
        m = measure(path, args.out / path.stem if args.out else None)
        print(report(m), flush=True)
        results.append({"params": str(path), **m})
    if len(results) > 1:
        a, b = results[0], results[-1]
        if a["schools"] and b["schools"] != a["schools"]:
            ratio = (b["cpu_s"] / a["cpu_s"]) / (b["schools"] / a["schools"])
            print(f"CPU на ОО: {b['schools']} ОО / {a['schools']} ОО = {ratio:.2f} (1 — линейно)")
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
