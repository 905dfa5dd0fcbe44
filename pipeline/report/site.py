"""The static site of every year: the site index and publishing.

Layout of the site folder (the parent of every year's reports_dir):

    index.html                      the years, newest first           (published)
    <year>/index.html               the year's analytic report        (published)
    <year>/schools/<code>.html      one page per registry school      (published)
    <year>/results.xlsx             tables for officials, personal data inside   (internal)
    <year>/audit/, manifest.json    executed notebooks and checksums  (internal)
"""

from __future__ import annotations

import html as html_lib
import re
import shutil
from pathlib import Path

from ..core.errors import RunError
from ..io.storage import write_bytes_atomic
from .render import _render

YEAR_DIR = re.compile(r"^\d{4}$")


SITE_TITLE = "Мониторинг эффективности деятельности школьных методических служб"


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
        raise RunError(
            f"В папке «{root}» нет построенных отчётов (<год>/index.html)",
            "Сначала выполните год: python -m pipeline run --params params/<год>.yaml.",
        )
    if out == root or root in out.parents:
        raise RunError(f"Папка публикации «{out}» находится внутри папки отчётов «{root}»",
                            "Укажите в --out папку вне reports/.")
    build_index(root)
    files = publishable_files(root)
    for rel in files:
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / rel, target)
    return len(files)
