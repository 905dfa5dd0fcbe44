"""Benchmark of the report stage's documents on a year whose processed data exists: the
letters, the order (prikaz), the roadmap, the справка, their PDFs and report.pdf, each timed
(wall and CPU, this process and its children: the forked letter writers, LibreOffice), against
issue 22's goal: all of them ≤ 60 s at 10,000 schools on 2 cores.

    python benchmarks/documents.py PARAMS_FILE [--json out.json] [--no-each]
    python benchmarks/documents.py --schools 1000 --work /tmp/docs-bench   # generate, run to the report, measure

Everything is written into a temporary folder, never into the year's reports. `measure(params_file)`
is what benchmarks/parts.py calls.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import pipeline  # noqa: E402,F401  (first: the package's import-time settings)
from pipeline.config.methodology import load_methodology  # noqa: E402
from pipeline.config.params import load_params  # noqa: E402
from pipeline.report import context, convert, pages, pdf  # noqa: E402
from pipeline.report.documents import letters, prikaz, roadmap, spravka  # noqa: E402
from pipeline.report.school import school_page_data  # noqa: E402

GOAL_SECONDS = 60.0   # issue 22: the documents of 10,000 schools, on 2 cores
GOAL_LETTER_MS = 5.0  # «a few ms» a letter


def _cpu() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _timed(fn: Callable[[], Any]) -> tuple[Any, dict[str, float]]:
    """fn's result and its wall and CPU seconds (children included: forked workers, soffice)."""
    w, c = time.perf_counter(), _cpu()
    out = fn()
    return out, {"seconds": round(time.perf_counter() - w, 2), "cpu_seconds": round(_cpu() - c, 2)}


def _mb(path: Path) -> float:
    if path.is_dir():
        return round(sum(p.stat().st_size for p in path.iterdir()) / 2**20, 2)
    return round(path.stat().st_size / 2**20, 2) if path.exists() else 0.0


def _pages(path: Path) -> int | None:
    try:
        from pypdf import PdfReader
        return len(PdfReader(str(path)).pages)
    except Exception:   # pypdf missing or the file unreadable: no page count, the timing stands
        return None


def measure(params_file: str | Path, each: bool = True) -> dict[str, Any]:
    """Every document's figures: {part: {seconds, cpu_seconds, …}}, the run's total and the goal.
    `each`: also convert each DOCX alone (its own PDF time) besides the run's one conversion."""
    params = load_params(params_file, check_files=False)
    ctx = context.build_context(params, load_methodology(params.methodology))
    n = len(ctx.data["scores.csv"])
    out: dict[str, Any] = {"schools": n, "cores": len(os.sched_getaffinity(0)), "load": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory(prefix="bench-docs-") as tmp:
        root = Path(tmp)
        folder = root / "documents"
        pages.write_report_page(ctx, root)   # report.pdf's source; not a document, not timed
        codes = letters.scored(ctx)
        if codes:   # the tables every school's data is cut from, shared with the school pages
            _, out["school_data"] = _timed(lambda: school_page_data(ctx, codes[0]))
        for name, module in (("spravka", spravka), ("prikaz", prikaz), ("roadmap", roadmap)):
            path, out[name] = _timed(lambda m=module: m.write(ctx, folder))
            out[name]["mb"] = _mb(path)
        written, out["letters"] = _timed(lambda: letters.write(ctx, folder, reuse_last=False))
        out["letters"].update(count=len(codes), zip_mb=_mb(folder / letters.ARCHIVE), folder_mb=_mb(folder / letters.FOLDER),
                              ms_per_letter=round(1000 * out["letters"]["seconds"] / max(1, len(codes)), 2),
                              cpu_ms_per_letter=round(1000 * out["letters"]["cpu_seconds"] / max(1, len(codes)), 2),
                              kb_per_letter=round(_mb(folder / letters.FOLDER) * 1024 / max(1, len(codes)), 1))
        docx = [folder / m.FILE for m in (prikaz, spravka, roadmap)]
        if convert.soffice() is not None:
            if each:
                for d in docx:
                    alone = root / f"alone-{d.stem}"
                    pdfs, out[f"{d.stem}_pdf"] = _timed(lambda d=d, alone=alone: convert.convert_to_pdf([d], alone))
                    out[f"{d.stem}_pdf"].update(pages=_pages(pdfs[0]), mb=_mb(pdfs[0]))
            _, out["pdfs"] = _timed(lambda: convert.convert_to_pdf(docx, folder, date=params.header.order_date))
        path, out["report_pdf"] = _timed(lambda: pdf.write_year_pdf(ctx, root, reuse_last=False))
        out["report_pdf"].update(mb=_mb(path), pages=_pages(path))
    run = ["spravka", "prikaz", "roadmap", "letters", "pdfs", "report_pdf"] + (["school_data"] if codes else [])
    out["total"] = {k: round(sum(out[p][k] for p in run if p in out), 2) for k in ("seconds", "cpu_seconds")}
    out["goal_seconds"] = GOAL_SECONDS
    return out


def report(fig: dict[str, Any]) -> str:
    """The figures as lines, each against its goal where it has one."""
    lines = [f"Документы: {fig['schools']} ОО, ядер {fig['cores']}, нагрузка {fig['load']:.2f}"]
    names = {"school_data": "данные ОО (общие со страницами ОО)", "spravka": "spravka.docx", "prikaz": "prikaz.docx",
             "roadmap": "roadmap.docx", "letters": "письма (letters/ + letters.zip)", "prikaz_pdf": "  prikaz.pdf отдельно",
             "spravka_pdf": "  spravka.pdf отдельно", "roadmap_pdf": "  roadmap.pdf отдельно",
             "pdfs": "PDF трёх документов (как в прогоне)", "report_pdf": "report.pdf", "total": "ВСЕГО"}
    for key, label in names.items():
        f = fig.get(key)
        if not f:
            continue
        extra = "".join(f", {k} {v}" for k, v in f.items() if k not in ("seconds", "cpu_seconds") and v is not None)
        lines.append(f"{label:40s} {f['seconds']:7.2f} с (ЦП {f['cpu_seconds']:.2f} с){extra}")
    ok = fig["total"]["seconds"] <= GOAL_SECONDS
    lines.append(f"цель ≤ {GOAL_SECONDS:g} с: {'выполнена' if ok else 'НЕ выполнена'} "
                 f"({fig['total']['seconds'] / GOAL_SECONDS:.2f} от цели)")
    if "letters" in fig:
        per = fig["letters"]["cpu_ms_per_letter"]
        lines.append(f"письмо: {per} мс ЦП (цель ≤ {GOAL_LETTER_MS:g} мс), {fig['letters']['kb_per_letter']} КБ")
    return "\n".join(lines)


def prepare(n: int, work: Path) -> Path:
    """Generate n schools' one year under work and run the pipeline up to the report stage;
    the year's parameter file."""
    from run import generate   # benchmarks/run.py

    year = 2026
    generate(work, n, [year])
    params = work / "params" / f"{year}.yaml"
    subprocess.run([sys.executable, "-m", "pipeline", "run", "--params", str(params), "--until", "recommendations",
                    "--quiet"], check=True, cwd=HERE.parent)
    return params


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("params_file", type=Path, nargs="?")
    ap.add_argument("--schools", type=int, default=None, help="generate this many schools first (with --work)")
    ap.add_argument("--work", type=Path, default=None, help="folder for the generated year")
    ap.add_argument("--json", type=Path, default=None, help="write the figures here too")
    ap.add_argument("--no-each", action="store_true", help="do not convert each document alone")
    args = ap.parse_args(argv)
    params_file = args.params_file
    if params_file is None:
        if not args.schools or not args.work:
            ap.error("укажите файл параметров года или --schools N --work ПАПКА")
        params_file = prepare(args.schools, args.work)
    fig = measure(params_file, each=not args.no_each)
    print(report(fig))
    if args.json:
        args.json.write_text(json.dumps(fig, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
