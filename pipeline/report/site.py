"""The static site of every year: the site index and publishing.

Layout of the site folder (the parent of every year's reports_dir):

    index.html                      the years, newest first           (published)
    <year>/index.html               the year's analytic report        (published)
    <year>/schools/<code>.html      one page per registry school      (published)
    <year>/clusters/index.html, <year>/clusters/<n>-<k>.html   the tables with a row per
                                    school, by cluster, when the year has report.cluster_pages_from
                                    schools or more (sections/per_school.py)       (published)
    <year>/documents/index.html     the year's documents              (published)
    <year>/documents/signed/<name>.pdf   the signed scan of prikaz, spravka, roadmap, taken
                                    from raw_dir/signed/ («подписанный экземпляр»)  (published)
    <year>/documents/<name>.pdf     prikaz, spravka, roadmap (drafts, converted by LibreOffice),
                                    report (print version) — published where no signed scan is
    <year>/documents/<name>.docx    the drafts as written — published only where no PDF could
                                    be made (no LibreOffice)
    <year>/documents/letters/, letters.zip, measures.xlsx   letters to schools, the measures
                                    to record (personal, internal: never published)
    <year>/results.xlsx             tables for officials, personal data inside   (internal)
    <year>/audit/, manifest.json    executed notebooks and checksums  (internal)

Publishing is an allow-list (publishable_files): what is not named above as published is
never copied.
"""

from __future__ import annotations

import html as html_lib
import os
import re
from pathlib import Path

from ..core.errors import RunError
from ..io.storage import write_bytes_atomic
from . import publication
from .render import _render

YEAR_DIR = re.compile(r"^\d{4}$")
CLUSTERS = "clusters"   # sections.per_school.FOLDER
CLUSTER_PAGE = re.compile(r"^(index|\d+-\d+)\.html$")   # what per_school writes there, nothing else


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
        docs = [{"href": f"{y}/{e.href}", "title": e.document.title, "format": e.format, "mark": e.mark}
                for e in publication.published(site_dir / str(y))]
        years.append({"year": y, "href": f"{y}/index.html", "title": title or f"Аналитическая справка {y}",
                      "summary": _meta(page, "report-summary"), "documents": docs,
                      "documents_page": f"{y}/{publication.DOCS_DIR}/{publication.PAGE}"
                      if (site_dir / str(y) / publication.DOCS_DIR / publication.PAGE).is_file() else ""})
    page = _render("index.html.j2", years=years, title=SITE_TITLE, organization=organization or "Управление образования")
    return write_bytes_atomic(site_dir / "index.html", page.encode("utf-8"), owned=True)


def _org(page: str) -> str:
    m = re.search(r'<span class="brand">(.*?)</span>', page, flags=re.S)
    return html_lib.unescape(m.group(1)).strip() if m else ""


def publishable_files(reports_dir: str | Path) -> list[Path]:
    """The files of the site that may be published, relative to reports_dir: the site index,
    each year's report, its school pages, the pages of its clusters, its documents page and the documents it offers
    (publication.published: per document the signed scan, else the PDF, else the DOCX).
    results.xlsx (personal data), the letters, measures.xlsx, audit/ and manifest.json stay
    internal."""
    root = Path(reports_dir)
    files = [Path("index.html")] if (root / "index.html").is_file() else []
    for y in sorted(built_years(root)):
        files.append(Path(str(y)) / "index.html")
        files.extend(sorted(p.relative_to(root) for p in (root / str(y) / "schools").glob("*.html")))
        files.extend(sorted(p.relative_to(root) for p in (root / str(y) / CLUSTERS).glob("*.html")
                            if CLUSTER_PAGE.match(p.name)))
        page = Path(str(y)) / publication.DOCS_DIR / publication.PAGE
        if (root / page).is_file():
            files.append(page)
        files.extend(Path(str(y)) / e.href for e in publication.published(root / str(y)))
    return files


MARKER = ".monitoring-site.json"  # written into OUT: what an earlier publication put there

# folders a site is never published into: the system's own (and anything inside them) …
_SYSTEM_TREES = ("/etc", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/boot", "/dev", "/proc", "/sys", "/run")
# … and folders that hold others' files (themselves only: /var/www/site is fine)
_SYSTEM_FOLDERS = ("/", "/var", "/opt", "/srv", "/home", "/root", "/tmp", "/mnt", "/media")
_PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _refuse(out: Path, why: str, hint: str) -> RunError:
    return RunError(f"Публикация в папку «{out}» отклонена: {why}", hint)


def _check_out(out: Path, root: Path) -> list[str]:
    """Refuse a publication folder that is not safe to write into; return the files of its
    earlier publication (empty for a new or empty folder)."""
    hint = "Укажите в --out отдельную папку для сайта: новую, пустую или прежнюю папку публикации."
    if out.is_symlink():
        raise _refuse(out, "это символическая ссылка", hint)
    real = out.resolve()
    home = Path.home().resolve()
    if (str(real) in _SYSTEM_FOLDERS or real == home
            or any(real == Path(t) or Path(t) in real.parents for t in _SYSTEM_TREES)):
        raise _refuse(out, "это системная или домашняя папка", hint)
    if real == _PROJECT_ROOT or real in _PROJECT_ROOT.parents:
        raise _refuse(out, "это папка проекта или папка, в которой он лежит", hint)
    if real == root or root in real.parents or real in root.parents:
        raise _refuse(out, f"она находится внутри папки отчётов «{root}», совпадает с ней или содержит её",
                      "Укажите в --out папку вне reports/.")
    if out.exists() and not out.is_dir():
        raise _refuse(out, "это не папка", hint)
    if not out.is_dir() or not any(out.iterdir()):
        return []
    earlier = _earlier_publication(out / MARKER)
    if earlier is None:
        raise _refuse(out, f"папка не пуста и не является прежней публикацией сайта (нет файла {MARKER})", hint)
    return earlier


def _earlier_publication(marker: Path) -> list[str] | None:
    """The files an earlier publication listed in its marker; None when there is none."""
    import json

    if marker.is_symlink() or not marker.is_file():
        return None
    try:
        data = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("site") != SITE_TITLE or not isinstance(data.get("files"), list):
        return None
    return [f for f in data["files"] if isinstance(f, str)]


def _inside(out: Path, rel: str) -> Path | None:
    """out/rel when rel is a plain relative path whose every existing folder under out is a
    real folder (no symbolic link, no «..»); else None."""
    parts = Path(rel).parts
    if not parts or Path(rel).is_absolute() or any(p in ("..", ".", "") for p in parts):
        return None
    here = out
    for part in parts[:-1]:
        here = here / part
        if here.is_symlink() or (here.exists() and not here.is_dir()):
            return None
    return out / rel


def publish(reports_dir: str | Path, out_dir: str | Path) -> int:
    """Copy exactly the publishable files of reports_dir into out_dir (same layout); return
    how many were copied. The site index is (re)built first so it lists every year. Refuses
    system, home and project folders and a non-empty folder that is not an earlier
    publication (MARKER); removes the files of the earlier publication that are no longer
    part of the site, and nothing else; follows no symbolic link, writes nothing outside
    out_dir."""
    import json

    root = Path(reports_dir).resolve()
    out = Path(os.path.abspath(out_dir))
    if not built_years(root):
        raise RunError(
            f"В папке «{root}» нет построенных отчётов (<год>/index.html)",
            "Сначала выполните год: python -m pipeline run --params params/<год>.yaml.",
        )
    earlier = _check_out(out, root)
    build_index(root)
    files = [rel.as_posix() for rel in publishable_files(root)]
    links = [rel for rel in files if (root / rel).is_symlink()]
    if links:
        raise RunError(f"В папке отчётов «{root}» файл сайта {links[0]} — символическая ссылка; публикация не выполнена",
                       "Выполните год заново (python -m pipeline run), чтобы страницы были записаны как файлы.")
    out.mkdir(parents=True, exist_ok=True)
    for rel in files:
        target = _inside(out, rel)
        if target is None:
            raise _refuse(out, f"путь {rel} в ней проходит через символическую ссылку или не папку",
                          "Удалите ссылку или укажите другую папку в --out.")
        target.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(target, (root / rel).read_bytes())  # replaces a link, never follows it
    _remove_stale(out, earlier, set(files))
    marker = {"site": SITE_TITLE, "files": files}
    write_bytes_atomic(out / MARKER, json.dumps(marker, ensure_ascii=False, indent=1).encode("utf-8"))
    return len(files)


def _remove_stale(out: Path, earlier: list[str], keep: set[str]) -> None:
    """Remove the regular files of the earlier publication that are not in keep (and the
    folders that leaves empty); nothing else."""
    for rel in sorted(set(earlier) - keep):
        path = _inside(out, rel)
        if path is None or path.is_symlink() or not path.is_file():
            continue
        path.unlink()
        folder = path.parent
        while folder != out and folder.is_dir() and not folder.is_symlink() and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent
