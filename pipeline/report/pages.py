"""The published pages of a year."""

from __future__ import annotations

import os
from functools import lru_cache

import math
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from markupsafe import Markup

from ..config.params import YearParams
from ..io.storage import write_bytes_atomic
from ..core.levels import ZONE_MARK
from ..core.values import text
from .context import ReportContext
from .sections import CLUSTER_PARTS, all_sections, per_school, summary_line
from ..core.parallel import can_fork, cores, fork_imap, shared
from ..core.progress import PAGES_WRITTEN, Counter
from .render import _render
from .school import school_page_data
from .tables import school_page


def report_page(ctx: ReportContext) -> str:
    """The year's published analytic report (index.html): every section of the report, in the
    site's page template, with inline CSS; nothing loaded from outside (personal names are
    removed from the schools' text by the sections, tables.school_text). The same sections the
    report notebook shows."""
    params = ctx.params
    body = "\n".join(all_sections(ctx))
    title = f"{params.header.title} — {params.year}"
    html = _render("report.html.j2", body=Markup(body), title=title, running_head=title,
                   running_foot=_running_foot(params),
                   year=params.year, organization=params.header.organization, summary=summary_line(ctx))
    return html


def write_report_page(ctx: ReportContext, out_dir: str | Path) -> Path:
    """Write out_dir/index.html (report_page), atomically, and the pages of the clusters
    (write_cluster_pages: none, and none left over, below report.cluster_pages_from)."""
    write_cluster_pages(ctx, out_dir)
    return write_bytes_atomic(Path(out_dir) / "index.html", report_page(ctx).encode("utf-8"))


def cluster_page(ctx: ReportContext, page: "per_school.ClusterPage | None") -> str:
    """A page of a cluster's schools (the tables of sections.CLUSTER_PARTS), or with None the
    index of the clusters' pages."""
    params = ctx.params
    if page is None:
        title, lead = "Кластеры", ("Таблицы с отдельной строкой для каждой ОО: рейтинг, баллы по позициям самооценки, "
                                   "целевые показатели, рекомендации, меры и страницы школ — по кластерам.")
        body, pager = per_school.cluster_table(ctx, ""), Markup("")
    else:
        title, lead = page.title, ""
        body, pager = per_school.cluster_page_body(ctx, page, CLUSTER_PARTS), per_school.cluster_pager(ctx, page)
    return _render("cluster.html.j2", body=body, pager=pager, title=title, lead=lead, index=page is None,
                   academic_year=params.academic_year, year=params.year,
                   running_head=f"{title} — {params.year}", running_foot=_running_foot(params),
                   organization=params.header.organization)


def write_cluster_pages(ctx: ReportContext, out_dir: str | Path) -> list[Path]:
    """clusters/index.html and clusters/<n>-<k>.html when the year's per-school tables leave
    the analytic page (per_school.split); pages of an earlier run no longer made are removed."""
    folder = Path(out_dir) / per_school.FOLDER
    written: list[Path] = []
    if per_school.split(ctx):
        folder.mkdir(parents=True, exist_ok=True)
        written.append(_write_page(folder / per_school.INDEX, cluster_page(ctx, None).encode("utf-8")))
        for page in per_school.cluster_pages(ctx):
            written.append(_write_page(folder / page.file, cluster_page(ctx, page).encode("utf-8")))
    if folder.is_dir():
        keep = {p.name for p in written}
        for old in folder.glob("*.html"):
            if old.name not in keep:
                old.unlink()
        if not keep and not any(folder.iterdir()):
            folder.rmdir()
    return written


def render_school_page(view: "dict[str, Any] | SimpleNamespace", params: "YearParams") -> str:
    """One school's page from its view: pipeline.report.school_view (a dict) or the same
    values read by attribute, rows as named tuples (school_page_data: what jinja2
    reads fastest)."""
    from . import charts

    s = SimpleNamespace(**view) if isinstance(view, dict) else view
    hd = params.header
    high, medium = params.levels.high, params.levels.medium
    criteria = [(c, _criterion_bar(c, high, medium)) for c in getattr(s, "criteria", ())]
    history = getattr(s, "history", [])
    return _render(
        "school.html.j2",
        s=s,
        running_head=f"{s.name} — итоги мониторинга {s.year}",
        running_foot=_running_foot(params),
        criteria=criteria,
        organization=hd.organization,
        order=f"{hd.order_number} от {hd.order_date:%d.%m.%Y}",
        min_group=params.report.min_group_size,
        cluster_page=getattr(s, "cluster_page", ""),
        zone_marks=ZONE_MARK,
        # drawn only where the page shows it (more than one year)
        history_svg=charts.history_svg(history, high=high, medium=medium) if len(history) > 1 else Markup(""),
    )


def _running_foot(params: "YearParams") -> str:
    """The foot of every printed page (print.css): the department and its order."""
    hd = params.header
    return f"{hd.organization} · приказ {hd.order_number} от {hd.order_date:%d.%m.%Y}"


def _criterion_bar(c: Any, high: float, medium: float) -> Markup:
    """charts.criterion_bar_svg of a criterion row (dict or named tuple), drawn once per
    distinct (pct, mean, zone): schools share a few dozen of them."""
    pct, mean, zone_class = ((c["pct"], c["mean"], c["zone_class"]) if isinstance(c, dict)
                             else (c.pct, c.mean, c.zone_class))
    if any(v == 0 and math.copysign(1.0, v) < 0 for v in (pct, mean) if isinstance(v, float)):
        return _bar.__wrapped__(pct, mean, zone_class, high, medium)  # −0.0 is drawn «−0 %», 0.0 «0 %»
    return _bar(pct, mean, zone_class, high, medium)


@lru_cache(maxsize=8192)
def _bar(pct: float | None, mean: float | None, zone_class: str, high: float, medium: float) -> Markup:
    from . import charts

    return charts.criterion_bar_svg(pct, mean, zone_class, high=high, medium=medium)


def write_school_pages(ctx: "ReportContext", out_dir: str | Path) -> list[Path]:
    """schools/<code>.html for every registry school into out_dir; pages of schools no longer
    in the registry are removed (personal names are removed from the schools' text by
    school_page_data)."""

    folder = Path(out_dir) / "schools"
    folder.mkdir(parents=True, exist_ok=True)
    codes = [text(c) for c in ctx.data["scores.csv"]["school_code"]]
    workers = _page_workers(len(codes))
    counter = Counter(PAGES_WRITTEN, len(codes))  # shared with the forked writers
    if workers > 1:
        # the first page builds the context's per-school rows and the name matcher, which
        # the forked workers then share; each writes a contiguous share of the pages
        written = _write_pages(ctx, folder, codes[:1], counter)
        rest = codes[1:]
        step = -(-len(rest) // workers)
        chunks = [rest[i: i + step] for i in range(0, len(rest), step)]
        for part in fork_imap(_write_pages_job, chunks, workers, share=(ctx, folder, counter)):
            written += [folder / name for name in part]
    else:
        written = _write_pages(ctx, folder, codes, counter)
    counter.finish()
    keep = {p.name for p in written}
    for old in folder.glob("*.html"):
        if old.name not in keep:
            old.unlink()
    return written


# From this many schools on, pages are rendered by one forked process per core (about 2 ms a
# page: 10,000 pages take 20 s on one core).
PARALLEL_PAGES_FROM = 2000


def _page_workers(n_pages: int) -> int:
    if n_pages < PARALLEL_PAGES_FROM or not can_fork():
        return 1
    return min(cores(), 8)


def _write_pages(ctx: "ReportContext", folder: Path, codes: list[str], counter: Counter | None = None) -> list[Path]:
    out = []
    for code in codes:
        page = render_school_page(school_page_data(ctx, code), ctx.params)
        out.append(_write_page(folder / school_page(code), page.encode("utf-8")))
        if counter is not None:
            counter.add()
    return out


def _write_pages_job(codes: list[str]) -> list[str]:
    """In a forked worker: write the pages of these schools; return the file names."""
    ctx, folder, counter = shared()
    return [p.name for p in _write_pages(ctx, folder, codes, counter)]


_PAGE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


_PAGE_MODE = 0o644  # as storage writes every output: readable (and published)


def _write_page(path: Path, data: bytes) -> Path:
    """write_bytes_atomic(path, data, durable=False) in fewer system calls, for the thousands
    of pages: the folder exists, the temporary file's name is fixed per process (a page is
    written by one process), the file is written through its descriptor."""
    tmp = f"{path.parent}{os.sep}.{path.name}.{os.getpid()}.tmp"
    fd = os.open(tmp, _PAGE_FLAGS, _PAGE_MODE)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, _PAGE_MODE)  # whatever the umask
        rest = memoryview(data)
        while rest:
            rest = rest[os.write(fd, rest):]
    except BaseException:
        os.close(fd)
        os.unlink(tmp)
        raise
    os.close(fd)
    if not hasattr(os, "fchmod"):
        os.chmod(tmp, _PAGE_MODE)
    os.replace(tmp, path)
    return path
