"""The static site: per-school pages from one jinja2 template, the site index, and publishing.

Layout of the site folder (the parent of every year's reports_dir):

    index.html                      the years, newest first           (published)
    <year>/index.html               the year's analytic report        (published)
    <year>/schools/<code>.html      one page per registry school      (published)
    <year>/results.xlsx             tables for officials, personal data inside   (internal)
    <year>/audit/, manifest.json    executed notebooks and checksums  (internal)

Every page works from file:// and from any sub-path of a web server: relative links only,
CSS inline, images as data URIs, a Content-Security-Policy that forbids loading anything.
Templates autoescape; the only unescaped HTML is what pipeline.report/pipeline.charts built
(Markup).
"""

from __future__ import annotations

import gc
import html as html_lib
import math
import os
import re
import shutil
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Callable

import jinja2
from markupsafe import Markup

from .errors import PipelineError
from .parallel import can_fork, cores
from .storage import write_bytes_atomic

if TYPE_CHECKING:  # pragma: no cover
    from .params import YearParams
    from .report import ReportContext

TEMPLATES = Path(__file__).resolve().parent / "templates"
YEAR_DIR = re.compile(r"^\d{4}$")
SITE_TITLE = "Мониторинг эффективности деятельности школьных методических служб"


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The one jinja2 environment: templates from pipeline/templates, autoescape always on."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


@lru_cache(maxsize=1)
def css() -> Markup:
    """The stylesheet, inlined into every page."""
    return Markup((TEMPLATES / "style.css").read_text(encoding="utf-8"))


def _render(template: str, **context: Any) -> str:
    return _template(template).render(css=css(), **context)


@lru_cache(maxsize=None)
def _template(name: str) -> jinja2.Template:
    """A template, compiled once (not looked up and checked for changes on every page)."""
    return environment().get_template(name)


# ============================================================================ pages


def render_report_page(body_html: str, params: "YearParams", summary: str = "") -> str:
    """The year's report page around the body exported from the notebook (trusted HTML)."""
    return _render(
        "report.html.j2",
        body=Markup(body_html),
        title=f"{params.header.title} — {params.year}",
        year=params.year,
        organization=params.header.organization,
        summary=summary or _summary_from_body(body_html),
    )


def _summary_from_body(body_html: str) -> str:
    """A one-line summary for the site index, taken from the report's key figures."""
    m = re.search(r'<ul class="findings"><li>(.*?)</li>', body_html, flags=re.S)
    if not m:
        return ""
    return html_lib.unescape(re.sub(r"<[^>]+>", "", m.group(1))).strip()


def render_school_page(view: "dict[str, Any] | SimpleNamespace", params: "YearParams") -> str:
    """One school's page from its view: pipeline.report.school_view (a dict) or the same
    values read by attribute, rows as named tuples (report.school_page_data: what jinja2
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
        criteria=criteria,
        organization=hd.organization,
        order=f"{hd.order_number} от {hd.order_date:%d.%m.%Y}",
        min_group=params.report.min_group_size,
        # drawn only where the page shows it (more than one year)
        history_svg=charts.history_svg(history, high=high, medium=medium) if len(history) > 1 else Markup(""),
    )


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
    in the registry are removed. Personal names are redacted as a last line of defence."""
    from . import report

    folder = Path(out_dir) / "schools"
    folder.mkdir(parents=True, exist_ok=True)
    names = tuple(report.personal_names(ctx))
    codes = [report.text(c) for c in ctx.data["scores.csv"]["school_code"]]
    workers = _page_workers(len(codes))
    if workers > 1:
        # the first page builds the context's per-school rows and the name matcher, which
        # the forked workers then share; each writes a contiguous share of the pages
        written = _write_pages(ctx, folder, names, codes[:1])
        global _PAGES_JOB
        _PAGES_JOB = (ctx, folder, names)
        # what exists now is shared with the workers: kept out of the cycle collector, which
        # would otherwise touch (and so copy into each worker) every one of those objects
        gc.freeze()
        try:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            rest = codes[1:]
            step = -(-len(rest) // workers)
            chunks = [rest[i: i + step] for i in range(0, len(rest), step)]
            with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
                for part in pool.map(_write_pages_job, chunks):
                    written += [folder / name for name in part]
        finally:
            _PAGES_JOB = None
            gc.unfreeze()
    else:
        written = _write_pages(ctx, folder, names, codes)
    keep = {p.name for p in written}
    for old in folder.glob("*.html"):
        if old.name not in keep:
            old.unlink()
    return written


# From this many schools on, pages are rendered by one forked process per core (about 2 ms a
# page: 10,000 pages take 20 s on one core).
PARALLEL_PAGES_FROM = 2000
_PAGES_JOB: tuple[Any, Path, tuple[str, ...]] | None = None


def _page_workers(n_pages: int) -> int:
    if n_pages < PARALLEL_PAGES_FROM or not can_fork():
        return 1
    return min(cores(), 8)


def _write_pages(ctx: "ReportContext", folder: Path, names: tuple[str, ...], codes: list[str]) -> list[Path]:
    from . import report

    redacted = _redactor(names)
    out = []
    for code in codes:
        page = render_school_page(report.school_page_data(ctx, code), ctx.params)
        out.append(_write_page(folder / report.school_page(code), redacted(page)))
    return out


_STYLE_OPEN, _STYLE_CLOSE = "<style>\n", "\n</style>"


def _redactor(names: tuple[str, ...]) -> Callable[[str], bytes]:
    """page → report.redact(page, names) as UTF-8, with the stylesheet every page inlines (a
    quarter of a page) redacted and encoded once, not per page. Equal to redacting the whole
    page: the stylesheet sits between two line breaks (base.html.j2), so a name without a
    line break cannot be found across its edges; with one, whole pages are redacted."""
    from . import report

    style = str(css())
    if any("\n" in name for name in names):
        return lambda page: report.redact(page, names).encode("utf-8")
    style_bytes = report.redact(style, names).encode("utf-8")

    def redacted(page: str) -> bytes:
        start = page.find(_STYLE_OPEN) + len(_STYLE_OPEN)
        end = start + len(style)
        if start < len(_STYLE_OPEN) or not page.startswith(style, start) or not page.startswith(_STYLE_CLOSE, end):
            return report.redact(page, names).encode("utf-8")
        return b"".join((report.redact(page[:start], names).encode("utf-8"), style_bytes,
                         report.redact(page[end:], names).encode("utf-8")))

    return redacted


def _write_pages_job(codes: list[str]) -> list[str]:
    """In a forked worker: write the pages of these schools; return the file names."""
    ctx, folder, names = _PAGES_JOB
    return [p.name for p in _write_pages(ctx, folder, names, codes)]


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


# ============================================================================ site index


def _meta(page: str, name: str) -> str:
    m = re.search(rf'<meta name="{re.escape(name)}" content="([^"]*)"', page)
    return html_lib.unescape(m.group(1)) if m else ""


def _title(page: str) -> str:
    m = re.search(r"<title>(.*?)</title>", page, flags=re.S)
    return html_lib.unescape(m.group(1)).strip() if m else ""


def built_years(site_dir: str | Path) -> list[int]:
    """Years with a built report (<year>/index.html), newest first."""
    site_dir = Path(site_dir)
    if not site_dir.is_dir():
        return []
    years = [int(p.name) for p in site_dir.iterdir() if p.is_dir() and YEAR_DIR.match(p.name) and (p / "index.html").is_file()]
    return sorted(years, reverse=True)


def build_index(site_dir: str | Path) -> Path:
    """Write <site_dir>/index.html listing every built year, newest first, with relative
    links to each year's report. Returns the path written."""
    site_dir = Path(site_dir)
    years = []
    organization = ""
    for y in built_years(site_dir):
        page = (site_dir / str(y) / "index.html").read_text(encoding="utf-8")
        title = _title(page)
        title = re.sub(rf"\s+—\s+{y}$", "", title)
        organization = organization or _org(page)
        years.append({"year": y, "href": f"{y}/index.html", "title": title or f"Аналитическая справка {y}",
                      "summary": _meta(page, "report-summary")})
    page = _render("index.html.j2", years=years, title=SITE_TITLE, organization=organization or "Управление образования")
    return write_bytes_atomic(site_dir / "index.html", page.encode("utf-8"))


def _org(page: str) -> str:
    m = re.search(r'<span class="brand">(.*?)</span>', page, flags=re.S)
    return html_lib.unescape(m.group(1)).strip() if m else ""


# ============================================================================ publish


def publishable_files(reports_dir: str | Path) -> list[Path]:
    """The files of the site that may be published, relative to reports_dir: the site index,
    each year's report and its school pages. results.xlsx (personal data), audit/ and
    manifest.json stay internal."""
    root = Path(reports_dir)
    files = [Path("index.html")] if (root / "index.html").is_file() else []
    for y in sorted(built_years(root)):
        files.append(Path(str(y)) / "index.html")
        files.extend(sorted(p.relative_to(root) for p in (root / str(y) / "schools").glob("*.html")))
    return files


def publish(reports_dir: str | Path, out_dir: str | Path) -> int:
    """Copy exactly the publishable files of reports_dir into out_dir (same layout); return
    how many were copied. The site index is (re)built first so it lists every year."""
    root = Path(reports_dir).resolve()
    out = Path(out_dir).resolve()
    if not built_years(root):
        raise PipelineError(
            f"В папке «{root}» нет построенных отчётов (<год>/index.html)",
            "Сначала выполните год: python -m pipeline run --params params/<год>.yaml.",
        )
    if out == root or root in out.parents:
        raise PipelineError(f"Папка публикации «{out}» находится внутри папки отчётов «{root}»",
                            "Укажите в --out папку вне reports/.")
    build_index(root)
    files = publishable_files(root)
    for rel in files:
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / rel, target)
    return len(files)
